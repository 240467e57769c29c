"""The side panel: the selected indicator's definition, source, baseline and checks."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QTextBrowser, QVBoxLayout, QWidget

from skp_desktop.domain.values import format_number
from skp_desktop.services.dto import ReturnRow
from skp_desktop.ui.chart_view import ChartView


def describe_row(row: ReturnRow) -> str:
    """HTML for one indicator: what it measures, where it comes from, and its open problems."""
    info = row.indicator
    rules = info.rules
    parts = [f"<h3>{escape(info.title)}</h3>", f"<p><b>{escape(info.code)}</b> · "]
    parts.append(
        escape(
            f"{rules.unit.value} · {rules.polarity.value} · {rules.frequency.value} · "
            f"{rules.level.value} level"
        )
        + "</p>"
    )
    if info.definition_text:
        parts.append(f"<p>{escape(info.definition_text)}</p>")
    if rules.has_fraction:
        parts.append(
            "<p>Numerator: "
            + escape(rules.numerator_label or "")
            + "<br>Denominator: "
            + escape(rules.denominator_label or "")
            + "</p>"
        )
    target = "none set" if rules.target is None else format_number(rules.target, rules.decimals)
    parts.append(f"<p><b>Target:</b> {escape(target)}")
    if info.baseline:
        baseline = format_number(info.baseline.value, rules.decimals)
        parts.append(f"<br><b>Baseline:</b> {escape(baseline)} ({escape(info.baseline.unit)})")
        if info.baseline.note:
            parts.append(f" — {escape(info.baseline.note)}")
    parts.append("</p>")
    if row.problems:
        parts.append("<p><b>Checks</b></p><ul>")
        for problem in row.problems:
            kind = "To enter" if problem.rule == "required" else problem.severity.value.title()
            parts.append(f"<li>{escape(kind)}: {escape(problem.message)}</li>")
        parts.append("</ul>")
    if info.source:
        document = f" ({escape(info.source_document)})" if info.source_document else ""
        parts.append(f"<p><b>Source</b>{document}:<br><i>“{escape(info.source)}”</i></p>")
    return "".join(parts)


class DefinitionPanel(QWidget):
    """Shows context for the selected indicator."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.browser = QTextBrowser()
        self.browser.setAccessibleName("Indicator definition")
        self.browser.setOpenLinks(False)
        self.chart = ChartView("Select an indicator to see its trend.")
        self.chart.setMinimumHeight(180)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.browser)
        splitter.addWidget(self.chart)
        splitter.setSizes([300, 230])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.show_row(None)

    def show_row(self, row: ReturnRow | None) -> None:
        if row is None:
            self.browser.setHtml("<p>Select an indicator to see its definition.</p>")
        else:
            self.browser.setHtml(describe_row(row))
