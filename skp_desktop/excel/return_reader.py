"""Reads a checked return file or filled template into entries, naming every bad cell at once.

The safe reader has already refused anything unsafe; this module decides whether what is left
is a usable return: `_meta` of this format, an indicator table found by its header text,
visible figures that agree with the signed payload (a file saved again by Excel or LibreOffice
still agrees: values are compared, never formatting), and entries that pass the domain rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from skp_desktop.domain.definitions import Definition
from skp_desktop.domain.errors import ValidationError
from skp_desktop.domain.validation import EntryValues, Severity, resolved_value, validate_entry
from skp_desktop.domain.values import (
    MAX_DIGITS,
    Symbol,
    canonical_text,
    format_decimal,
    parse_entry,
    round_half_up,
)
from skp_desktop.excel.cell_text import comparable_text, entered_text
from skp_desktop.excel.file_signature import UNSIGNED_FILE, FileSignature, check_signature
from skp_desktop.excel.payload import parse_payload, payload_digest
from skp_desktop.excel.query_payload import parse_answers, parse_queries
from skp_desktop.excel.rejection import RejectedFile, problem, reject
from skp_desktop.excel.return_data import (
    ANSWER_COLUMN,
    COLUMNS,
    FORMAT,
    INPUT_COLUMNS,
    KIND_FEEDBACK,
    KIND_RETURN,
    KIND_TEMPLATE,
    META_SHEET,
    QUERY_COLUMN,
    QUERY_COLUMNS,
    READABLE_FORMAT_VERSIONS,
    RETURN_SHEET,
    SIGNED_KINDS,
    EntryData,
    QuerySet,
)
from skp_desktop.excel.safe_reader import RawCell, RawSheet, RawWorkbook, column_letter

# The header row is near the top; rows below it are indicators.
HEADER_SEARCH_ROWS = 100
META_ROWS = 500
# Figures typed in Excel are doubles: more digits than this are binary noise, not data.
DOUBLE_DIGITS = 15
_PIECE = r"(?:_([0-9]{1,4}))?"  # payload, payload_2, …: one text cut into cell-sized pieces
_FIELD_COLUMN = {
    "numerator": "Numerator",
    "denominator": "Denominator",
    "value": "Value",
    "symbol": "Value",
    "explanation": "Explanation",
    "commentary": "Commentary",
}


@dataclass(frozen=True)
class FileMeta:
    """What `_meta` says the file is, with the cell each value came from."""

    kind: str
    service: str
    period: str
    revision: int | None
    return_id: str | None
    definitions_version: int | None
    exported_at: str | None
    exported_by: str | None
    app_version: str | None
    payload: str | None
    payload_sha256: str | None
    cells: Mapping[str, RawCell]
    queries: str | None = None  # a feedback file's signed queries (canonical JSON)
    queries_sha256: str | None = None
    answers: str | None = None  # a return's signed answers to the queries before it
    answers_sha256: str | None = None
    signature: FileSignature = UNSIGNED_FILE  # format 1 files are unsigned

    def located(self, key: str, message: str) -> ValidationError:
        """A problem at the cell that holds `key`, or on the _meta sheet when it is missing."""
        cell = self.cells.get(key)
        return problem(message, sheet=META_SHEET, cell=cell.ref if cell else None)


@dataclass(frozen=True)
class TableRow:
    """One indicator row of the Return sheet."""

    row: int
    code: str
    code_cell: RawCell
    cells: Mapping[str, RawCell | None]  # by column name (Query and Answer when the file has them)
    refs: Mapping[str, str]  # column name -> cell reference, e.g. "F12"


@dataclass(frozen=True)
class ImportedReturn:
    """A usable return read from a file: its entries in the file's order, and what it noticed."""

    meta: FileMeta
    entries: tuple[EntryData, ...]
    modified_cells: tuple[str, ...] = ()  # e.g. "Return!F12": visible values taken over the payload
    warnings: tuple[str, ...] = ()  # e.g. "Return!F12: 160 is 60% higher than …"
    queries: QuerySet | None = None  # a feedback file's queries, checked against the Query cells
    answers: QuerySet | None = None  # a return's answers to the queries on the revision before

    @property
    def modified(self) -> bool:
        return bool(self.modified_cells)


# --- _meta ---------------------------------------------------------------------------------


def _plain(cell: RawCell) -> str:
    """A cell's content as text, whatever its kind."""
    return cell.text.strip()


def meta_cells(sheet: RawSheet) -> dict[str, RawCell]:
    """A `_meta` sheet's value cells by key (the first of each); a formula refuses the file."""
    values: dict[str, RawCell] = {}
    for row in sheet.row_numbers()[:META_ROWS]:
        key_cell, value_cell = sheet.get(row, 1), sheet.get(row, 2)
        if key_cell is None or value_cell is None:
            continue
        key = _plain(key_cell)
        if key and key not in values:
            values[key] = value_cell
    for cell in values.values():
        if cell.formula is not None:
            raise reject(
                "a formula in the _meta sheet: it was changed", sheet=cell.sheet, cell=cell.ref
            )
    return values


def read_meta(workbook: RawWorkbook) -> FileMeta:
    """The `_meta` sheet's keys and values; RejectedFile when it is not this format."""
    sheet = workbook.sheets[META_SHEET]
    values = meta_cells(sheet)

    def text(key: str) -> str | None:
        cell = values.get(key)
        return _plain(cell) or None if cell else None

    meta_problems: list[ValidationError] = []

    def at(key: str, message: str) -> None:
        cell = values.get(key)
        meta_problems.append(problem(message, sheet=sheet.name, cell=cell.ref if cell else None))

    fmt = text("format")
    if fmt != FORMAT:
        at(
            "format",
            f"_meta says format '{(fmt or '')[:40]}', not '{FORMAT}': not an SKP return file",
        )
        raise RejectedFile(meta_problems)
    version = text("format_version")
    if whole_number(version) not in READABLE_FORMAT_VERSIONS:
        at(
            "format_version",
            f"the file is format version {(version or '?')[:20]}, and this version of SKP Returns "
            f"reads format versions {' and '.join(map(str, READABLE_FORMAT_VERSIONS))}: update "
            "SKP Returns, or ask for the file again from the same version",
        )
    kind = text("kind")
    if kind not in (KIND_RETURN, KIND_FEEDBACK, KIND_TEMPLATE):
        at(
            "kind",
            f"_meta says the file is a '{(kind or '')[:40]}': expected return, feedback or "
            "template",
        )
    for key in ("service", "period"):
        if not text(key):
            at(key, f"_meta has no {key}: the file was changed or damaged")
    revision = whole_number(text("revision"))
    if kind in SIGNED_KINDS and (revision is None or revision < 1):
        at(
            "revision",
            f"the revision '{(text('revision') or '')[:20]}' is not a whole number of 1 or more",
        )
    definitions_version = whole_number(text("definitions_version"))
    joined: dict[str, str | None] = {}
    for key in ("payload", "queries", "answers"):
        joined[key], piece_problem = _joined(values, key)
        if piece_problem:
            meta_problems.append(piece_problem)
    if meta_problems:
        raise RejectedFile(meta_problems)
    assert kind is not None
    return FileMeta(
        kind=kind,
        service=text("service") or "",
        period=text("period") or "",
        revision=revision if kind in SIGNED_KINDS else None,
        return_id=text("return_id"),
        definitions_version=definitions_version,
        exported_at=text("exported_at"),
        exported_by=text("exported_by"),
        app_version=text("app_version"),
        payload=joined["payload"],
        payload_sha256=(text("payload_sha256") or "").lower() or None,
        cells=values,
        queries=joined["queries"],
        queries_sha256=(text("queries_sha256") or "").lower() or None,
        answers=joined["answers"],
        answers_sha256=(text("answers_sha256") or "").lower() or None,
        signature=check_signature(values),
    )


def whole_number(text: str | None) -> int | None:
    """A whole number written as text ("1", or "1.0" after a spreadsheet's help), else None."""
    if text is None or len(text) > 20:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number)


def joined_payload(values: Mapping[str, RawCell]) -> tuple[str | None, ValidationError | None]:
    """`payload`, `payload_2`, … joined; a gap in the numbering is a damaged file."""
    return _joined(values, "payload")


def _joined(values: Mapping[str, RawCell], name: str) -> tuple[str | None, ValidationError | None]:
    """`name`, `name_2`, … joined (the payload, queries or answers); a gap is a damaged file."""
    pattern = re.compile(re.escape(name) + _PIECE)
    pieces: dict[int, str] = {}
    for key, cell in values.items():
        match = pattern.fullmatch(key)
        if match:
            pieces[int(match[1] or 1)] = cell.text
    if not pieces:
        return None, None
    missing = [n for n in range(1, max(pieces) + 1) if n not in pieces]
    if missing:
        name = name if missing[0] == 1 else f"{name}_{missing[0]}"
        return None, problem(
            f"_meta has no {name}: the file was changed or damaged", sheet=META_SHEET
        )
    return "".join(pieces[n] for n in sorted(pieces)), None


# --- the Return sheet's table --------------------------------------------------------------


def _header_row(sheet: RawSheet) -> tuple[int, dict[str, int]]:
    for row in sheet.row_numbers():
        if row > HEADER_SEARCH_ROWS:
            break
        cells = sheet.row(row)
        if cells and cells[0].kind == "text" and _plain(cells[0]).casefold() == "code":
            names = {name.casefold(): name for name in (*COLUMNS, *QUERY_COLUMNS)}
            columns: dict[str, int] = {}
            for cell in cells:
                name = names.get(_plain(cell).casefold()) if cell.kind == "text" else None
                if name and name not in columns:
                    columns[name] = cell.column
            missing = [n for n in ("Code", *INPUT_COLUMNS) if n not in columns]
            if missing:
                raise reject(
                    f"the header row (row {row}) has no {', '.join(missing)} column: the table "
                    "was changed, so the figures cannot be found",
                    sheet=sheet.name,
                    cell=f"A{row}",
                )
            return row, columns
    raise reject(
        f"no header row starting with 'Code' in the first {HEADER_SEARCH_ROWS} rows: "
        "the indicator table is missing",
        sheet=sheet.name,
    )


def read_table(workbook: RawWorkbook) -> tuple[list[TableRow], list[ValidationError]]:
    """The indicator rows under the header row, and problems with rows that have no code."""
    sheet = workbook.sheets[RETURN_SHEET]
    header, columns = _header_row(sheet)
    rows: list[TableRow] = []
    problems: list[ValidationError] = []
    code_column = columns["Code"]
    read = [*INPUT_COLUMNS, *(name for name in QUERY_COLUMNS if name in columns)]
    for row in sheet.row_numbers():
        if row <= header:
            continue
        cells = {name: sheet.get(row, columns[name]) for name in read}
        refs = {name: f"{column_letter(columns[name])}{row}" for name in read}
        code_cell = sheet.get(row, code_column)
        code = _plain(code_cell).upper() if code_cell else ""
        if code_cell is not None and code_cell.formula is not None:
            problems.append(_formula_problem(code_cell))
            continue
        if not code:
            filled = [c for c in cells.values() if c is not None and _plain(c)]
            if filled:
                problems.append(
                    problem(
                        f"row {row} has figures or text but no indicator code in its Code cell",
                        sheet=sheet.name,
                        cell=f"{column_letter(code_column)}{row}",
                    )
                )
            continue
        assert code_cell is not None
        rows.append(TableRow(row=row, code=code, code_cell=code_cell, cells=cells, refs=refs))
    return rows, problems


# --- cells ---------------------------------------------------------------------------------


def _formula_problem(cell: RawCell) -> ValidationError:
    shown = (cell.formula or "")[:40]
    return problem(
        f"a formula (={shown}) where a value belongs: type the figure itself, not a formula",
        sheet=cell.sheet,
        cell=cell.ref,
    )


def _exact_number(cell: RawCell) -> Decimal:
    text = cell.text.strip()
    try:
        number = Decimal(text) if len(text) <= 40 else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise problem(f"'{text[:40]}' is not a number", sheet=cell.sheet, cell=cell.ref)
    if not number.is_zero() and not -MAX_DIGITS < number.adjusted() < MAX_DIGITS:
        raise problem(
            f"{text[:40]} has too many digits to be a figure in a return",
            sheet=cell.sheet,
            cell=cell.ref,
        )
    if len(number.as_tuple().digits) > DOUBLE_DIGITS:
        number = Decimal(repr(float(number)))  # 0.30000000000000004 was typed as 0.3
    return number.copy_abs() if number.is_zero() else number


def read_number_cell(cell: RawCell | None, field: str) -> Decimal | Symbol | None:
    """A figure cell: a number, a symbol such as [x], or None when blank."""
    if cell is None:
        return None
    if cell.formula is not None:
        raise _formula_problem(cell)
    if cell.kind == "number":
        return _exact_number(cell)
    if cell.kind == "text":
        try:
            return parse_entry(cell.text, field=field)
        except ValidationError as exc:
            raise problem(exc.message, sheet=cell.sheet, cell=cell.ref) from None
    if cell.kind == "bool":
        shown = "TRUE" if cell.text.strip() == "1" else "FALSE"
        raise problem(f"{shown} is not a number", sheet=cell.sheet, cell=cell.ref)
    if cell.kind == "error":
        raise problem(
            f"the cell shows the error {cell.text[:20]}: type the figure itself",
            sheet=cell.sheet,
            cell=cell.ref,
        )
    raise problem("a date is not a figure: type the number", sheet=cell.sheet, cell=cell.ref)


def read_text_cell(cell: RawCell | None) -> str | None:
    """A commentary or explanation cell as the app stores it; numbers are kept as typed."""
    if cell is None:
        return None
    if cell.formula is not None:
        raise _formula_problem(cell)
    if cell.kind == "number":
        return canonical_text(_exact_number(cell))
    if cell.kind == "bool":
        return "TRUE" if cell.text.strip() == "1" else "FALSE"
    return entered_text(cell.text)


@dataclass(frozen=True)
class _Visible:
    """What the cells of one row show."""

    entry: EntryData
    typed_value: Decimal | None  # a number in the Value cell of a numerator/denominator row


def _visible(row: TableRow, rules: Definition) -> tuple[_Visible | None, list[ValidationError]]:
    problems: list[ValidationError] = []
    numbers: dict[str, Decimal | None] = {}
    symbols: list[tuple[str, Symbol]] = []
    for column, field in (
        ("Numerator", "numerator"),
        ("Denominator", "denominator"),
        ("Value", "value"),
    ):
        try:
            read = read_number_cell(row.cells[column], field)
        except ValidationError as exc:
            problems.append(exc)
            continue
        if isinstance(read, Symbol):
            symbols.append((column, read))
            numbers[field] = None
        else:
            numbers[field] = read
    texts: dict[str, str | None] = {}
    for column in ("Commentary", "Explanation"):
        try:
            texts[column] = read_text_cell(row.cells[column])
        except ValidationError as exc:
            problems.append(exc)
    if problems:
        return None, problems
    if not rules.has_fraction:
        for column, field in (("Numerator", "numerator"), ("Denominator", "denominator")):
            if numbers.get(field) is not None:
                problems.append(
                    _at(
                        row,
                        column,
                        f"{rules.code} has no {field}: leave this cell blank and put the figure "
                        "in the Value cell",
                    )
                )
    symbol = symbols[0][1] if symbols else None
    if symbol is not None and any(v is not None for v in numbers.values()):
        problems.append(
            _at(
                row,
                symbols[0][0],
                f"{symbol.value} says there is no figure, but figures are entered too: "
                "enter either the figures or a symbol",
            )
        )
    if len({s for _, s in symbols}) > 1:
        problems.append(_at(row, symbols[1][0], "two different symbols: use one"))
    if problems:
        return None, problems
    typed_value = numbers.get("value") if rules.has_fraction else None
    entry = EntryData(
        code=rules.code,
        numerator=numbers.get("numerator") if rules.has_fraction else None,
        denominator=numbers.get("denominator") if rules.has_fraction else None,
        value=None if rules.has_fraction else numbers.get("value"),
        symbol=symbol.value if symbol else None,
        commentary=texts.get("Commentary"),
        explanation=texts.get("Explanation"),
    )
    return _Visible(entry, typed_value), []


def _at(row: TableRow, column: str, message: str) -> ValidationError:
    return problem(message, sheet=RETURN_SHEET, cell=row.refs[column])


# --- comparing with the signed payload -----------------------------------------------------


def _same_number(shown: Decimal | None, stored: Decimal | None) -> bool:
    """Equal figures; a spreadsheet that rewrote a number's last binary digit still agrees."""
    if shown is None or stored is None:
        return shown is None and stored is None
    return shown == stored or float(shown) == float(stored)


def _describe(number: Decimal | None, symbol: str | None = None) -> str:
    if symbol:
        return symbol
    return "blank" if number is None else format_decimal(number)


def _quoted(text: str | None) -> str:
    text = comparable_text(text)
    if not text:
        return "blank"
    return f"'{text[:40]}…'" if len(text) > 40 else f"'{text}'"


def _differences(row: TableRow, shown: _Visible, stored: EntryData) -> list[ValidationError]:
    changed = "it was changed after the return was exported"
    found: list[ValidationError] = []
    visible = shown.entry
    for column, now, then in (
        ("Numerator", visible.numerator, stored.numerator),
        ("Denominator", visible.denominator, stored.denominator),
    ):
        if not _same_number(now, then):
            found.append(
                _at(
                    row,
                    column,
                    f"shows {_describe(now)}, but the signed return has "
                    f"{_describe(then)}: {changed}",
                )
            )
    now_value = shown.typed_value if shown.typed_value is not None else visible.value
    if stored.symbol:
        same = visible.symbol == stored.symbol and now_value is None
    else:
        same = visible.symbol is None and _same_number(now_value, stored.value)
    if not same:
        found.append(
            _at(
                row,
                "Value",
                f"shows {_describe(now_value, visible.symbol)}, but the signed return has "
                f"{_describe(stored.value, stored.symbol)}: {changed}",
            )
        )
    for column, now_text, then_text in (
        ("Commentary", visible.commentary, stored.commentary),
        ("Explanation", visible.explanation, stored.explanation),
    ):
        if comparable_text(now_text) != comparable_text(then_text):
            found.append(
                _at(
                    row,
                    column,
                    f"shows {_quoted(now_text)}, but the signed return has "
                    f"{_quoted(then_text)}: {changed}",
                )
            )
    return found


def _payload_entries(meta: FileMeta) -> tuple[dict[str, EntryData], list[ValidationError]]:
    if meta.payload is None:
        return {}, [
            meta.located(
                "payload", "the return file has no payload in _meta: it was changed or damaged"
            )
        ]
    if meta.payload_sha256 != payload_digest(meta.payload):
        return {}, [
            meta.located(
                "payload_sha256",
                "the signed values in _meta do not match their SHA-256: the hidden part of the "
                "file was changed after export",
            )
        ]
    try:
        entries = parse_payload(meta.payload)
    except ValidationError as exc:
        return {}, [meta.located("payload", f"the payload cannot be read: {exc.message}")]
    by_code: dict[str, EntryData] = {}
    for entry in entries:
        if entry.code in by_code:
            return {}, [meta.located("payload", f"the payload has {entry.code} twice")]
        by_code[entry.code] = entry
    return by_code, []


# --- the whole return ----------------------------------------------------------------------


def _sort_key(error: ValidationError) -> tuple[int, int, int]:
    sheet = 0 if error.sheet == META_SHEET else 1 if error.sheet else 2
    match = re.fullmatch(r"([A-Z]+)([0-9]+)", error.cell or "")
    if not match:
        return (sheet, 0, 0)
    column = 0
    for letter in match[1]:
        column = column * 26 + ord(letter) - 64
    return (sheet, int(match[2]), column)


def interpret(
    workbook: RawWorkbook,
    meta: FileMeta,
    definitions: Mapping[str, Definition],
    *,
    return_label: str,
    accept_modified: bool = False,
) -> ImportedReturn:
    """The entries of a return file or filled template, or RejectedFile naming every bad cell.

    `definitions` are the indicators the return asks for, in order; `return_label` names the
    return in messages, e.g. "the Highways return for 2026/27 Q1".
    """
    rows, problems = read_table(workbook)
    by_code: dict[str, TableRow] = {}
    for row in rows:
        if row.code not in definitions:
            problems.append(
                problem(
                    f"{row.code[:40]} is not an indicator of {return_label}; its indicators "
                    f"are {', '.join(definitions)}",
                    sheet=RETURN_SHEET,
                    cell=row.code_cell.ref,
                )
            )
        elif row.code in by_code:
            problems.append(
                problem(
                    f"{row.code} is here twice (also in row {by_code[row.code].row}): each "
                    "indicator has one row",
                    sheet=RETURN_SHEET,
                    cell=row.code_cell.ref,
                )
            )
        else:
            by_code[row.code] = row
    for code, rules in definitions.items():
        if code not in by_code:
            problems.append(
                problem(
                    f"{code} ({rules.title}) is missing: the table has no row for it",
                    sheet=RETURN_SHEET,
                )
            )

    visible: dict[str, _Visible] = {}
    for code, row in by_code.items():
        shown, row_problems = _visible(row, definitions[code])
        problems.extend(row_problems)
        if shown is not None:
            visible[code] = shown

    chosen: dict[str, EntryData] = {code: shown.entry for code, shown in visible.items()}
    from_payload = False
    modified: list[str] = []
    queries: QuerySet | None = None
    answers: QuerySet | None = None
    if meta.kind in SIGNED_KINDS:
        queries, answers, query_problems = _queries_and_answers(
            meta, by_code, definitions, return_label
        )
        problems.extend(query_problems)
        stored, payload_problems = _payload_entries(meta)
        problems.extend(payload_problems)
        if not payload_problems:
            for code in stored:
                if code not in by_code and code in definitions:
                    problems.append(
                        meta.located("payload", f"the payload has {code}, which the table lacks")
                    )
            differences: list[ValidationError] = []
            for code, row in by_code.items():
                if code not in stored:
                    problems.append(
                        _at(
                            row,
                            "Value",
                            f"{code} is not in the signed payload: the row was added after export",
                        )
                    )
                elif code in visible:
                    differences.extend(_differences(row, visible[code], stored[code]))
            # A feedback file goes back as the coordinator wrote it: never taken as modified.
            if differences and accept_modified and meta.kind == KIND_RETURN:
                modified = [f"{RETURN_SHEET}!{d.cell}" for d in differences]
            else:
                problems.extend(differences)
                chosen = {code: stored[code] for code in by_code if code in stored}
                from_payload = True

    entries: list[EntryData] = []
    warnings: list[str] = []
    for code, row in by_code.items():
        if code not in chosen:
            continue
        entry, entry_problems, entry_warnings = _checked(
            row,
            definitions[code],
            chosen[code],
            None if from_payload else visible[code].typed_value,
        )
        problems.extend(entry_problems)
        warnings.extend(entry_warnings)
        entries.append(entry)
    if problems:
        unique = {(p.sheet, p.cell, p.message): p for p in problems}
        raise RejectedFile(sorted(unique.values(), key=_sort_key))
    return ImportedReturn(
        meta=meta,
        entries=tuple(entries),
        modified_cells=tuple(modified),
        warnings=tuple(warnings),
        queries=queries,
        answers=answers,
    )


# --- queries and answers ------------------------------------------------------------------


def _signed_set(
    meta: FileMeta, key: str, parse: Callable[[str], QuerySet]
) -> tuple[QuerySet | None, list[ValidationError]]:
    """`queries` or `answers` from _meta when present and untouched."""
    text: str | None = getattr(meta, key)
    digest: str | None = getattr(meta, f"{key}_sha256")
    if text is None:
        if digest:
            return None, [meta.located(f"{key}_sha256", f"_meta has no {key}: it was changed")]
        return None, []
    if digest != payload_digest(text):
        return None, [
            meta.located(
                f"{key}_sha256",
                f"the signed {key} in _meta do not match their SHA-256: the hidden part of the "
                "file was changed after export",
            )
        ]
    try:
        return parse(text), []
    except ValidationError as exc:
        return None, [meta.located(key, f"the {key} cannot be read: {exc.message}")]


def _cell_text(row: TableRow, column: str) -> tuple[str | None, ValidationError | None]:
    try:
        return read_text_cell(row.cells.get(column)), None
    except ValidationError as exc:
        return None, exc


def _queries_and_answers(
    meta: FileMeta,
    by_code: Mapping[str, TableRow],
    definitions: Mapping[str, Definition],
    return_label: str,
) -> tuple[QuerySet | None, QuerySet | None, list[ValidationError]]:
    """A feedback file's queries or a return's answers, checked against _meta and the cells.

    Each Query and Answer cell must show what is signed: an edited one is named, as a figure is.
    """
    problems: list[ValidationError] = []
    queries = answers = None
    if meta.kind == KIND_FEEDBACK:
        queries, found = _signed_set(meta, "queries", parse_queries)
        problems += found
        if queries is None and not found:
            problems.append(
                meta.located(
                    "queries",
                    "the feedback file has no queries in _meta: it was changed or damaged",
                )
            )
        elif queries is not None and queries.revision != meta.revision:
            problems.append(
                meta.located(
                    "queries",
                    f"the queries are about revision {queries.revision}, but the file is "
                    f"revision {meta.revision}: it was changed",
                )
            )
    else:
        answers, found = _signed_set(meta, "answers", parse_answers)
        problems += found
        if answers is not None and meta.revision is not None and answers.revision >= meta.revision:
            problems.append(
                meta.located(
                    "answers",
                    f"the answers are about revision {answers.revision}, which is not before "
                    f"this revision {meta.revision}: the file was changed",
                )
            )
    shown = answers if answers is not None else queries
    if problems or shown is None:
        signed_columns: tuple[str, ...] = ()
    else:
        signed_columns = (QUERY_COLUMN, ANSWER_COLUMN) if answers else (QUERY_COLUMN,)
        key = "answers" if answers else "queries"
        for line in shown.lines:
            if line.code not in definitions:
                problems.append(
                    meta.located(
                        key,
                        f"the {key} are about {line.code[:40]}, which is not an indicator of "
                        f"{return_label}",
                    )
                )
        any_row = next(iter(by_code.values()), None)
        for column in signed_columns:
            if any_row is not None and column not in any_row.refs:
                problems.append(
                    problem(
                        f"the table has no {column} column: the file was changed after export, "
                        f"so its {key} cannot be checked",
                        sheet=RETURN_SHEET,
                    )
                )
    what = "queries" if queries is not None else "answers"
    for code, row in by_code.items():
        held = shown.line(code) if shown is not None else None
        for column in QUERY_COLUMNS:
            if column not in row.refs:
                continue
            text, bad = _cell_text(row, column)
            if bad is not None:
                problems.append(bad)
                continue
            if column in signed_columns:
                signed = (
                    None
                    if held is None
                    else (held.question if column == QUERY_COLUMN else held.answer)
                )
                if comparable_text(text) != comparable_text(signed):
                    problems.append(
                        _at(
                            row,
                            column,
                            f"shows {_quoted(text)}, but the signed {what} have "
                            f"{_quoted(signed)}: it was changed after the file was exported",
                        )
                    )
            elif column == ANSWER_COLUMN and comparable_text(text):
                problems.append(
                    _at(
                        row,
                        column,
                        "an answer typed into the file is not part of the signed return: answer "
                        "the queries in SKP Returns, then submit and export the return again",
                    )
                )
    return queries, answers, problems


def _checked(
    row: TableRow, rules: Definition, entry: EntryData, typed_value: Decimal | None
) -> tuple[EntryData, list[ValidationError], list[str]]:
    """The entry with its value worked out, the hard errors, and the warnings (as text)."""
    problems: list[ValidationError] = []
    if entry.symbol and any(
        v is not None for v in (entry.numerator, entry.denominator, entry.value)
    ):
        problems.append(
            _at(row, "Value", f"{entry.symbol} and figures together: use one or the other")
        )
    value = entry.value
    if rules.has_fraction and not entry.symbol:
        computed = resolved_value(
            rules, EntryValues(numerator=entry.numerator, denominator=entry.denominator)
        )
        if typed_value is not None:
            if computed is None:
                message = (
                    f"{format_decimal(typed_value)} was typed in Value, but the value of "
                    f"{rules.code} is worked out from its Numerator and Denominator: enter those"
                )
                as_typed = validate_entry(
                    replace(rules, has_fraction=False), EntryValues(value=typed_value)
                )
                extra = [p.message for p in as_typed if p.severity is Severity.ERROR]
                problems.append(_at(row, "Value", "; ".join([message, *extra])))
            elif round_half_up(typed_value, rules.decimals) != computed:
                problems.append(
                    _at(
                        row,
                        "Value",
                        f"shows {format_decimal(typed_value)}, but the Numerator and Denominator "
                        f"give {format_decimal(computed)}: correct one or the other",
                    )
                )
        elif entry.value is not None and computed is not None and entry.value != computed:
            problems.append(
                _at(
                    row,
                    "Value",
                    f"the signed value {format_decimal(entry.value)} does not match its "
                    f"numerator and denominator ({format_decimal(computed)})",
                )
            )
        value = computed
    checked = replace(entry, value=value)
    found = validate_entry(
        rules,
        EntryValues(
            numerator=checked.numerator,
            denominator=checked.denominator,
            value=None if rules.has_fraction else checked.value,
            symbol=Symbol(checked.symbol) if checked.symbol else None,
        ),
    )
    warnings = []
    for item in found:
        column = _FIELD_COLUMN.get(item.field, "Value")
        if item.severity is Severity.ERROR:
            problems.append(_at(row, column, item.message))
        else:
            warnings.append(f"{RETURN_SHEET}!{row.refs[column]}: {item.message}")
    return checked, problems, warnings
