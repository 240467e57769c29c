"""The annual strategic assessment as an .xlsx: the measures and the data-quality notes as
Excel Tables, in the partnership workbook's style (numbers as numbers, symbols as text)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from skp_desktop.domain.assessment import AssessedFigure, Assessment
from skp_desktop.excel.partnership_workbook import (
    Figure,
    _heading,
    _table,
    workbook_bytes,
)
from skp_desktop.excel.return_layout import write_atomically

MEASURES_SHEET = "Assessment"
QUALITY_SHEET = "Data quality"


def _cell(figure: AssessedFigure) -> Figure:
    return Figure(value=figure.value, decimals=figure.decimals, symbol=figure.symbol)


def build_assessment_workbook(assessment: Assessment) -> Workbook:
    """The workbook: one row per indicator or context measure, then the data-quality notes."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = MEASURES_SHEET
    years = assessment.measures[0].years if assessment.measures else ()
    columns = [
        ("Section", 14.0),
        ("Duty or priority", 30.0),
        ("Code", 14.0),
        ("Measure", 44.0),
        ("Kind", 10.0),
        ("Reported by", 24.0),
        ("Unit", 10.0),
        *((label, 11.0) for label in assessment.quarter_labels),
        ("Latest", 10.0),
        ("Latest period", 12.0),
        ("A year earlier", 11.0),
        ("Change on the year", 11.0),
        ("Direction", 13.0),
        ("Target", 10.0),
        ("RAG", 9.0),
        ("Baseline", 10.0),
        *((name, 11.0) for name in assessment.comparator_names),
        *((f"Year end {label}", 11.0) for label, _ in years),
        ("Note", 40.0),
    ]
    rows = []
    for section in assessment.sections:
        for m in section.measures:
            compared = dict(m.comparators)
            rows.append(
                [
                    section.kind,
                    section.name,
                    m.code,
                    m.title,
                    m.kind,
                    m.service,
                    m.unit,
                    *(_cell(q) for q in m.quarters),
                    _cell(m.latest),
                    m.latest_period,
                    _cell(m.year_earlier),
                    Figure(m.change, m.latest.decimals) if m.change is not None else None,
                    m.direction,
                    _cell(m.target),
                    m.rag,
                    _cell(m.baseline),
                    *(
                        _cell(compared[name]) if name in compared else None
                        for name in assessment.comparator_names
                    ),
                    *(_cell(figure) for _, figure in m.years),
                    m.note,
                ]
            )
    notes = [
        f"Every indicator and context measure once, by statutory duty and Council Plan priority. "
        f"Made {assessment.made.isoformat()}.",
        "Figures are the latest accepted revision of each return; counts below the "
        "small-number threshold are published as [c]; [x] not available; [z] not asked for "
        "that quarter.",
    ]
    header = _heading(
        sheet,
        f"Safer Kingston Partnership: annual strategic assessment {assessment.year_label}",
        notes,
        len(columns),
    )
    _table(sheet, "Assessment", columns, rows, header_row=header, frozen_columns=3)
    quality = workbook.create_sheet(QUALITY_SHEET)
    header = _heading(
        quality,
        f"Data quality, {assessment.year_label}",
        [f"{len(assessment.quality)} notes; {assessment.suppressed} figures published as [c]."],
        4,
    )
    _table(
        quality,
        "Quality",
        [("What", 26.0), ("Service", 34.0), ("Period", 12.0), ("Detail", 70.0)],
        [[n.topic, n.service, n.period, n.detail] for n in assessment.quality],
        header_row=header,
    )
    workbook.properties.title = f"SKP strategic assessment {assessment.year_label}"
    workbook.properties.creator = "SKP Returns"
    return workbook


def write_assessment_workbook(assessment: Assessment, out: Path) -> None:
    """Write the workbook to `out` atomically."""
    data = workbook_bytes(build_assessment_workbook(assessment))
    write_atomically(out, lambda stream: stream.write(data))
