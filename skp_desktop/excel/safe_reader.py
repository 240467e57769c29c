"""The one guarded reader for workbooks from elsewhere: checks before unzipping, streams after.

Every file a coordinator imports came from another laptop, an e-mail or a shared drive, so it
is treated as hostile. Before any XML is parsed the reader checks the file's size and first
bytes (empty, legacy .xls, encrypted, a web page, not a zip) and the zip's central directory
without extracting anything (member count, unpacked size, compression ratio, unsafe names,
encryption, macros). XML is then parsed by expat with defusedxml's protections (a DTD, an
entity declaration or an external reference refuses the part): no entity is ever expanded, no
external resource fetched, and no row or cell beyond fixed caps is ever looked at, so a zip
bomb or a sheet of a million rows costs milliseconds. Only the sheets asked for are read, with
formulas seen (never evaluated) and the exact digits of numbers kept as text. Every refusal
is a RejectedFile naming the sheet and cell it can.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, NoReturn
from xml.parsers import expat

from skp_desktop.excel.cell_text import read_cell_text
from skp_desktop.excel.rejection import RejectedFile, reject
from skp_desktop.excel.return_data import META_SHEET, RETURN_SHEET

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What a file may hold before it is refused; a real return is far below every one."""

    file_bytes: int = 20 * MIB
    members: int = 1_000
    total_uncompressed: int = 50 * MIB
    compression_ratio: int = 100  # uncompressed / compressed, for members over ratio_floor
    ratio_floor: int = 1 * MIB
    rows: int = 2_000  # a non-empty cell below this row refuses the file
    columns: int = 64  # cells further right are ignored
    row_elements: int = 20_000  # <row> elements read from one sheet, empty or not
    cell_elements: int = 60_000  # <c> elements read from one sheet, empty or not
    claimed_rows: int = 100_000  # a <dimension> claiming more is absurd
    shared_strings: int = 200_000
    text_characters: int = 16_000_000  # text kept from all cells and strings together
    prolog_bytes: int = 64 * 1024  # how much of each XML part is searched for a DTD


LIMITS = Limits()

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")
_XML_PART = re.compile(r"\.(xml|rels|vml)$", re.IGNORECASE)
MAX_EXCEL_ROW = 1_048_576
MAX_EXCEL_COLUMN = 16_384
_REFORMAT = "Open it in Excel or LibreOffice and save it as an Excel Workbook (.xlsx)."
REFORMAT = _REFORMAT  # for callers that refuse a file by its name (a .csv in a folder)


def column_letter(column: int) -> str:
    """The letters of a column number: 1 -> A, 28 -> AB."""
    letters = ""
    while column > 0:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


@lru_cache(maxsize=4096)  # every return has the same few hundred cell references
def _position(ref: str) -> tuple[int, int]:
    """(column, row) of a reference such as "F12"; (0, 0) when it is not one."""
    match = _REF.fullmatch(ref)
    return (_column_number(match[1]), int(match[2])) if match else (0, 0)


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


@dataclass(frozen=True)
class RawCell:
    """One non-empty cell as stored: its kind, its text, and the formula if it has one."""

    sheet: str
    row: int
    column: int
    kind: str  # "text", "number" (exact digits in text), "bool", "error", "date"
    text: str
    formula: str | None = None  # the formula's text (without "="), when the cell has one

    @property
    def ref(self) -> str:
        """The cell reference, e.g. "F12"."""
        return f"{column_letter(self.column)}{self.row}"

    @property
    def where(self) -> str:
        """Sheet and cell, e.g. "Return!F12"."""
        return f"{self.sheet}!{self.ref}"


@dataclass(frozen=True)
class RawSheet:
    """The non-empty cells of one sheet, by (row, column)."""

    name: str
    cells: Mapping[tuple[int, int], RawCell]

    def get(self, row: int, column: int) -> RawCell | None:
        return self.cells.get((row, column))

    def row_numbers(self) -> list[int]:
        """The rows that hold a cell, top to bottom."""
        return sorted(self._rows)

    def row(self, row: int) -> list[RawCell]:
        """The cells of one row, left to right."""
        return list(self._rows.get(row, ()))

    @cached_property
    def _rows(self) -> dict[int, list[RawCell]]:
        # Built once: looking for the header row asks for rows one by one.
        rows: dict[int, list[RawCell]] = {}
        for (row, _), cell in sorted(self.cells.items()):
            rows.setdefault(row, []).append(cell)
        return rows


@dataclass(frozen=True)
class RawWorkbook:
    """A checked workbook: the sheets asked for, the names of all, and the file's digest."""

    file_name: str
    sha256: str
    size: int
    sheet_names: tuple[str, ...]
    sheets: Mapping[str, RawSheet]  # by the name asked for


# --- the file as bytes ---------------------------------------------------------------------


def load_file(path: Path, limits: Limits = LIMITS) -> bytes:
    """The file's bytes, refusing one over the size cap before reading it."""
    size = path.stat().st_size
    if size > limits.file_bytes:
        raise _too_big(size, limits)
    with path.open("rb") as handle:
        data = handle.read(limits.file_bytes + 1)
    if len(data) > limits.file_bytes:
        raise _too_big(len(data), limits)
    return data


def _too_big(size: int, limits: Limits) -> RejectedFile:
    return reject(
        f"the file is {size / MIB:.1f} MB: a return file is at most "
        f"{limits.file_bytes // MIB} MB, so this is not one (or it holds pictures or other "
        "sheets that do not belong in a return)"
    )


def _check_signature(data: bytes) -> None:
    """Refuse files that are not zip archives, saying what they most likely are."""
    if not data:
        raise reject("the file is empty (0 bytes): it was not saved completely, or not copied")
    if data.startswith(_OLE):
        if _ENCRYPTED_PACKAGE in data:
            raise reject(
                "the workbook is password-protected (encrypted), so it cannot be checked: "
                "remove the password (File > Info > Protect Workbook) and send it again"
            )
        raise reject(
            "this is a legacy Excel 97–2003 (.xls) workbook, or another old Office binary file, "
            f"not an .xlsx return file. {_REFORMAT}"
        )
    if data.startswith(_ZIP_SIGNATURES):
        return
    head = data[:2048]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8", errors="ignore")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text[:512]:
        raise reject(
            "this is a web page (HTML) saved with an .xlsx name, not an Excel workbook: "
            "download the file itself rather than the page that links to it"
        )
    if text.startswith(b"<?xml"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in data[:8192]:
            raise reject(f"this is an Excel 2003 XML spreadsheet, not an .xlsx file. {_REFORMAT}")
        raise reject("this is an XML file, not an Excel workbook (.xlsx)")
    if data.startswith(b"%PDF"):
        raise reject("this is a PDF document, not an Excel workbook (.xlsx)")
    raise reject(
        "this is not an Excel workbook: an .xlsx file is a zip archive, and this file is not "
        f"one (it may be a CSV or text file renamed to .xlsx). {_REFORMAT}"
    )


# --- the zip, from its central directory -----------------------------------------------------


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise reject(
            "the file is damaged or incomplete: it starts like a zip archive but its end is "
            "missing or broken (cut short while copying, downloading or saving). Ask for it again"
        ) from None


def _unsafe_name(name: str) -> str | None:
    if "\\" in name:
        return "a backslash in its name"
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "an absolute path"
    if ".." in name.split("/"):
        return "'..' in its path (it would be written outside the folder)"
    if "\x00" in name:
        return "a NUL character in its name"
    return None


def _check_members(archive: zipfile.ZipFile, limits: Limits) -> dict[str, str]:
    """Check every member's header; returns the part names by their case-folded form."""
    infos = archive.infolist()
    if len(infos) > limits.members:
        raise reject(
            f"the zip archive holds {len(infos):,} parts; an Excel workbook that is a return "
            f"has a few dozen (at most {limits.members:,} are accepted)"
        )
    names: dict[str, str] = {}
    total = 0
    for info in infos:
        name = info.filename
        shown = name[:80]
        why = _unsafe_name(name)
        if why:
            raise reject(f"the zip archive has a part '{shown}' with {why}: refused as unsafe")
        if info.flag_bits & 0x1:
            raise reject(
                f"the zip part '{shown}' is encrypted: a workbook with encrypted parts cannot be "
                "checked. Remove the password and send it again"
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise reject(
                f"the zip part '{shown}' uses compression method {info.compress_type}, which "
                f"Excel does not write. {_REFORMAT}"
            )
        folded = name.casefold()
        if folded in names:
            raise reject(f"the zip archive has the part '{shown}' twice: refused as ambiguous")
        names[folded] = name
        if posixpath.basename(folded) == "vbaproject.bin":
            raise _macro_refusal()
        total += info.file_size
        if total > limits.total_uncompressed:
            raise reject(
                f"the workbook would unpack to more than {limits.total_uncompressed // MIB} MB "
                "(a zip bomb, or far more than a return holds): refused without unpacking it"
            )
        if info.file_size > limits.ratio_floor and info.file_size > limits.compression_ratio * max(
            info.compress_size, 1
        ):
            ratio = info.file_size // max(info.compress_size, 1)
            raise reject(
                f"the zip part '{shown}' unpacks to {ratio:,} times its packed size "
                f"({info.file_size / MIB:.0f} MB): a zip bomb. Refused without unpacking it"
            )
    return names


def _macro_refusal() -> RejectedFile:
    return reject(
        "this is a macro-enabled workbook (it contains VBA macros): macros are refused. "
        "Save it as an Excel Workbook (.xlsx), without macros, and send it again"
    )


def _damaged(part: str) -> RejectedFile:
    return reject(
        f"the file is damaged: the zip part '{part[:80]}' cannot be unpacked (a broken or "
        "cut-short file). Ask for it again"
    )


def _scan_for_dtds(parts: _Parts, limits: Limits) -> None:
    """Refuse any XML part whose prolog declares a DTD: entities are never expanded here."""
    for info in parts.archive.infolist():
        if info.is_dir() or not _XML_PART.search(info.filename):
            continue
        if info.file_size <= limits.prolog_bytes:
            head = parts.unpack(info)  # the whole part: kept for the parser
        else:
            try:
                with parts.archive.open(info) as stream:
                    head = stream.read(limits.prolog_bytes)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError):
                raise _damaged(info.filename) from None
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            head = head.decode("utf-16", errors="ignore").encode("utf-8", errors="ignore")
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise _dtd_refusal(info.filename)


def _dtd_refusal(part: str) -> RejectedFile:
    return reject(
        f"the XML part '{part[:80]}' declares a document type (DTD), which Excel never "
        "writes: XML entity expansion ('billion laughs') and external entities are refused"
    )


# --- streaming XML ---------------------------------------------------------------------------

_CHUNK = 64 * 1024  # bytes of a large part fed to the parser at a time


class _Stop(Exception):
    """Raised by a handler that has read all it needs."""


class _Forbidden(Exception):
    """A DTD, an entity declaration or an external reference: never followed."""


def _forbid(*_: object) -> NoReturn:
    raise _Forbidden


def _attr(attrs: dict[str, str], local: str, *, namespaced: bool = False) -> str | None:
    """An attribute by local name; `namespaced` for r:id and the like.

    expat names an attribute in a namespace "uri local", and one in none just "local".
    """
    if not namespaced:
        return attrs.get(local)
    suffix = " " + local
    for name, value in attrs.items():
        if name.endswith(suffix):
            return value
    return None


class _Handler:
    """Calls start/end with local names, so any namespace prefix (or none) reads the same."""

    def expat_start(self, name: str, attrs: dict[str, str]) -> None:
        self.start(name[name.rfind(" ") + 1 :], attrs)  # "uri local", or "local" in no namespace

    def expat_end(self, name: str) -> None:
        self.end(name[name.rfind(" ") + 1 :])

    def start(self, local: str, attrs: dict[str, str]) -> None:
        pass

    def end(self, local: str) -> None:
        pass

    def characters(self, content: str) -> None:
        pass


def _parser(handler: _Handler) -> Any:
    """An expat parser with defusedxml's protections: DTDs, entity declarations and external
    references refuse the part (expat would otherwise expand internal entities)."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _forbid
    parser.EntityDeclHandler = _forbid
    parser.UnparsedEntityDeclHandler = _forbid
    parser.ExternalEntityRefHandler = _forbid
    parser.buffer_text = True  # one call per run of text, not one per line or character reference
    parser.StartElementHandler = handler.expat_start
    parser.EndElementHandler = handler.expat_end
    parser.CharacterDataHandler = handler.characters
    return parser


def _parse(parts: _Parts, part: str, handler: _Handler) -> None:
    """Stream one part through a parser that refuses DTDs, entities and external references."""
    parser = _parser(handler)
    try:
        data = parts.unpacked.get(part)
        if data is not None:
            parser.Parse(data, True)
        else:
            with parts.archive.open(part) as stream:
                while chunk := stream.read(_CHUNK):
                    parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _Stop:
        return
    except _Forbidden:
        raise _dtd_refusal(part) from None
    except expat.ExpatError:
        raise reject(
            f"the XML part '{part[:80]}' is not well-formed: the file is damaged. Ask for it again"
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError):
        raise _damaged(part) from None


@dataclass
class _Relationship:
    id: str
    type: str
    target: str
    external: bool


class _Relationships(_Handler):
    def __init__(self) -> None:
        super().__init__()
        self.items: list[_Relationship] = []

    def start(self, local: str, attrs: dict[str, str]) -> None:
        if local == "Relationship" and len(self.items) < 10_000:
            self.items.append(
                _Relationship(
                    id=_attr(attrs, "Id") or "",
                    type=_attr(attrs, "Type") or "",
                    target=_attr(attrs, "Target") or "",
                    external=(_attr(attrs, "TargetMode") or "").lower() == "external",
                )
            )


class _ContentTypes(_Handler):
    def __init__(self) -> None:
        super().__init__()
        self.types: list[str] = []

    def start(self, local: str, attrs: dict[str, str]) -> None:
        if local in ("Default", "Override") and len(self.types) < 10_000:
            self.types.append(_attr(attrs, "ContentType") or "")


@dataclass
class _SheetEntry:
    name: str
    relationship: str
    state: str


class _WorkbookSheets(_Handler):
    def __init__(self) -> None:
        super().__init__()
        self.sheets: list[_SheetEntry] = []

    def start(self, local: str, attrs: dict[str, str]) -> None:
        if local == "sheet" and len(self.sheets) < 10_000:
            self.sheets.append(
                _SheetEntry(
                    name=_attr(attrs, "name") or "",
                    relationship=_attr(attrs, "id", namespaced=True) or "",
                    state=_attr(attrs, "state") or "visible",
                )
            )


@dataclass
class _Budget:
    """Text characters kept across the whole workbook."""

    limit: int
    used: int = 0

    def spend(self, count: int) -> None:
        self.used += count
        if self.used > self.limit:
            raise reject(
                f"the workbook holds more than {self.limit:,} characters of text in the sheets "
                "read: far more than a return holds, so it is refused"
            )


@dataclass
class _PendingCell:
    row: int
    column: int
    kind: str
    text: str
    formula: str | None
    shared_index: int | None = None


_CELL_KINDS = {"s": "shared", "inlineStr": "text", "str": "text", "b": "bool", "e": "error"}


class _SheetCells(_Handler):
    """Collects a sheet's non-empty cells, refusing absurd sizes as soon as they show."""

    def __init__(self, sheet: str, limits: Limits, budget: _Budget) -> None:
        super().__init__()
        self.sheet = sheet
        self.limits = limits
        self.budget = budget
        self.cells: list[_PendingCell] = []
        self.in_data = False
        self.row = 0
        self.column = 0
        self.rows_seen = 0
        self.cells_seen = 0
        self.in_cell = False
        self.in_inline = False
        self.in_phonetic = False
        self.cell_type = "n"
        self.cell_row = 0
        self.capture: list[str] | None = None
        self.value: list[str] = []
        self.inline: list[str] = []
        self.formula: list[str] | None = None

    def _refuse(self, message: str, cell: str | None = None) -> RejectedFile:
        return reject(message, sheet=self.sheet, cell=cell)

    # The busiest handler takes expat's "uri local" names itself: one call per element, not two.
    def expat_start(self, name: str, attrs: dict[str, str]) -> None:
        local = name[name.rfind(" ") + 1 :]
        if self.in_cell:
            if local == "v":
                self.capture = self.value
            elif local == "f":
                self.formula = []
                self.capture = self.formula
            elif local == "is":
                self.in_inline = True
            elif local == "rPh":
                self.in_phonetic = True
            elif local == "t" and self.in_inline and not self.in_phonetic:
                self.capture = self.inline
            return
        if local == "sheetData":
            self.in_data = True
        elif local == "row" and self.in_data:
            self._start_row(attrs)
        elif local == "c" and self.in_data:
            self._start_cell(attrs)
        elif local == "dimension":
            self._check_dimension(_attr(attrs, "ref") or "")

    def _check_dimension(self, ref: str) -> None:
        last = ref.split(":")[-1]
        match = _REF.fullmatch(last)
        if not match:
            return
        rows, columns = int(match[2]), _column_number(match[1])
        if rows > self.limits.claimed_rows or columns > MAX_EXCEL_COLUMN:
            raise self._refuse(
                f"the sheet claims to be {rows:,} rows by {columns:,} columns: absurd "
                "dimensions for a return, refused without reading it"
            )

    def _start_row(self, attrs: dict[str, str]) -> None:
        self.rows_seen += 1
        if self.rows_seen > self.limits.row_elements:
            raise self._refuse(
                f"the sheet has more than {self.limits.row_elements:,} rows: "
                "a return has one row per indicator"
            )
        given = attrs.get("r")
        if given is None:
            self.row += 1
        elif given.isdigit() and 0 < int(given) <= MAX_EXCEL_ROW:
            self.row = int(given)
        else:
            raise self._refuse(f"a row is numbered '{given[:20]}': the file is damaged")
        self.column = 0

    def _start_cell(self, attrs: dict[str, str]) -> None:
        self.cells_seen += 1
        if self.cells_seen > self.limits.cell_elements:
            raise self._refuse(
                f"the sheet has more than {self.limits.cell_elements:,} cells: "
                "far more than a return holds"
            )
        ref = attrs.get("r")
        if ref is None:
            self.column += 1
            self.cell_row = self.row
        else:
            column, row = _position(ref)
            if not (0 < column <= MAX_EXCEL_COLUMN and 0 < row <= MAX_EXCEL_ROW):
                raise self._refuse(f"a cell is named '{ref[:20]}': the file is damaged")
            self.column, self.cell_row = column, row
        self.cell_type = attrs.get("t") or "n"
        self.in_cell = True
        self.value, self.inline, self.formula = [], [], None

    def characters(self, content: str) -> None:
        if self.capture is not None:
            self.budget.spend(len(content))
            self.capture.append(content)

    def expat_end(self, name: str) -> None:
        if not self.in_cell:
            if name.endswith("sheetData") and name[name.rfind(" ") + 1 :] == "sheetData":
                self.in_data = False
            return  # mostly the end of a row
        local = name[name.rfind(" ") + 1 :]
        if local in ("v", "f", "t"):
            self.capture = None
        elif local == "rPh":
            self.in_phonetic = False
        elif local == "is":
            self.in_inline = False
        elif local == "c":
            self.in_cell = False
            self.capture = None
            self._finish_cell()

    def _finish_cell(self) -> None:
        value = "".join(self.value)
        inline = "".join(self.inline)
        formula = None if self.formula is None else "".join(self.formula)
        if formula is None and not value and not inline:
            return  # styled but empty
        row, column = self.cell_row, self.column
        if row > self.limits.rows:
            raise self._refuse(
                f"the sheet goes on beyond row {self.limits.rows:,}: a return has one row per "
                "indicator, so this is not one",
                cell=f"{column_letter(column)}{row}",
            )
        if column > self.limits.columns:
            return  # far to the right of any column a return uses
        cell_kind = _CELL_KINDS.get(self.cell_type, "date" if self.cell_type == "d" else "number")
        text = inline if cell_kind == "text" and self.cell_type == "inlineStr" else value
        shared_index = None
        if cell_kind == "shared":
            if formula is None and not value.strip().isdigit():
                raise self._refuse(
                    "a text cell points at no text: the file is damaged",
                    cell=f"{column_letter(column)}{row}",
                )
            shared_index = int(value.strip()) if value.strip().isdigit() else None
            if shared_index is None:  # a formula with a string result but no index
                cell_kind = "text"
        if cell_kind == "text":
            text = read_cell_text(text)
        self.cells.append(_PendingCell(row, column, cell_kind, text, formula, shared_index))


class _SharedStrings(_Handler):
    """Reads only the shared strings the sheets use, and stops after the last of them."""

    def __init__(self, needed: set[int], limits: Limits, budget: _Budget) -> None:
        super().__init__()
        self.needed = needed
        self.last = max(needed)
        self.limits = limits
        self.budget = budget
        self.index = -1
        self.strings: dict[int, str] = {}
        self.collect = False
        self.in_phonetic = False
        self.parts: list[str] = []
        self.capture = False

    def start(self, local: str, attrs: dict[str, str]) -> None:
        if local == "si":
            self.index += 1
            if self.index > self.last:
                raise _Stop
            if self.index >= self.limits.shared_strings:
                raise reject(f"the workbook has more than {self.limits.shared_strings:,} texts")
            self.collect = self.index in self.needed
            self.parts = []
        elif local == "rPh":
            self.in_phonetic = True
        elif local == "t" and self.collect and not self.in_phonetic:
            self.capture = True

    def characters(self, content: str) -> None:
        if self.capture:
            self.budget.spend(len(content))
            self.parts.append(content)

    def end(self, local: str) -> None:
        if local == "t":
            self.capture = False
        elif local == "rPh":
            self.in_phonetic = False
        elif local == "si" and self.collect:
            self.strings[self.index] = read_cell_text("".join(self.parts))
            self.collect = False


# --- the workbook ----------------------------------------------------------------------------


# Small parts are unpacked whole once, by the DTD scan, and parsed from memory: opening a zip
# member costs more than parsing the few KB most parts hold. This caps what is kept.
_KEPT_BYTES = 4 * MIB


@dataclass
class _Parts:
    archive: zipfile.ZipFile
    names: dict[str, str]  # case-folded part name -> name in the archive
    relationships: dict[str, list[_Relationship]] = field(default_factory=dict)
    unpacked: dict[str, bytes] = field(default_factory=dict)  # small parts, by name
    kept: int = 0

    def find(self, name: str) -> str | None:
        return self.names.get(name.casefold())

    def unpack(self, info: zipfile.ZipInfo) -> bytes:
        """A small part's bytes (its CRC checked), kept for parsing while the cap allows."""
        try:
            with self.archive.open(info) as stream:
                # bounded: a part that claims fewer bytes than it holds stops here (and its
                # CRC then fails), where archive.read would unpack all of it first
                data = stream.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError):
            raise _damaged(info.filename) from None
        if self.kept + len(data) <= _KEPT_BYTES:
            self.unpacked[info.filename] = data
            self.kept += len(data)
        return data

    def rels(self, part: str) -> list[_Relationship]:
        """The relationships of a part ("" for the package), [] when it has none."""
        if part not in self.relationships:
            folder, base = posixpath.split(part)
            rels_name = posixpath.join(folder, "_rels", f"{base}.rels")
            found = self.find(rels_name)
            handler = _Relationships()
            if found:
                _parse(self, found, handler)
            self.relationships[part] = handler.items
        return self.relationships[part]

    def target(self, source: str, relationship: _Relationship) -> str | None:
        """The part a relationship points at, or None when it is outside the package."""
        if relationship.external or not relationship.target:
            return None
        target = relationship.target.replace("\\", "/")
        if target.startswith("/"):
            path = target.lstrip("/")
        else:
            path = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
        if path.startswith("../") or path == "..":
            return None
        return self.find(path)


def _content_types(parts: _Parts) -> list[str]:
    name = parts.find("[Content_Types].xml")
    if name is None:
        mimetype = parts.find("mimetype")
        if mimetype is not None:
            kind = parts.archive.read(mimetype)[:100]
            if b"opendocument.spreadsheet" in kind:
                raise reject(f"this is an OpenDocument spreadsheet (.ods). {_REFORMAT}")
            raise reject("this is an OpenDocument file, not an Excel workbook (.xlsx)")
        raise reject(
            "this is a zip archive but not an Excel workbook (it has no [Content_Types].xml)"
        )
    handler = _ContentTypes()
    _parse(parts, name, handler)
    return handler.types


def _workbook_part(parts: _Parts, types: Sequence[str]) -> str:
    if any("sheet.binary" in t.lower() for t in types):  # its content type says macroEnabled too
        raise reject(f"this is an Excel Binary Workbook (.xlsb), not an .xlsx file. {_REFORMAT}")
    if any("macroenabled" in t.lower() or "vbaproject" in t.lower() for t in types):
        raise _macro_refusal()
    if not any(
        "spreadsheetml.sheet.main" in t or "spreadsheetml.template.main" in t for t in types
    ):
        if any("wordprocessingml" in t for t in types):
            raise reject("this is a Word document, not an Excel workbook (.xlsx)")
        if any("presentationml" in t for t in types):
            raise reject("this is a PowerPoint presentation, not an Excel workbook (.xlsx)")
    for relationship in parts.rels(""):
        if relationship.type.endswith("/officeDocument"):
            found = parts.target("", relationship)
            if found:
                return found
    found = parts.find("xl/workbook.xml")
    if found is None:
        raise reject("this is a zip archive but not an Excel workbook (it has no workbook part)")
    return found


def _sheet_cells(
    parts: _Parts, part: str, sheet: str, limits: Limits, budget: _Budget
) -> list[_PendingCell]:
    handler = _SheetCells(sheet, limits, budget)
    _parse(parts, part, handler)
    return handler.cells


def read_workbook(
    data: bytes, *, file_name: str, wanted: Iterable[str], limits: Limits = LIMITS
) -> RawWorkbook:
    """Check a workbook's bytes and read the wanted sheets (those that exist) cell by cell."""
    if len(data) > limits.file_bytes:
        raise _too_big(len(data), limits)
    _check_signature(data)
    archive = _open_zip(data)
    with archive:
        parts = _Parts(archive, _check_members(archive, limits))
        _scan_for_dtds(parts, limits)
        workbook = _workbook_part(parts, _content_types(parts))
        listing = _WorkbookSheets()
        _parse(parts, workbook, listing)
        relationships = {r.id: r for r in parts.rels(workbook)}
        budget = _Budget(limits.text_characters)
        pending: dict[str, tuple[str, list[_PendingCell]]] = {}
        by_name = {entry.name.casefold(): entry for entry in listing.sheets}
        for name in wanted:
            entry = by_name.get(name.casefold())
            if entry is None:
                continue
            relationship = relationships.get(entry.relationship)
            part = parts.target(workbook, relationship) if relationship else None
            if relationship is None or part is None:
                raise reject(f"the sheet '{entry.name}' has no content in the file: it is damaged")
            if not relationship.type.endswith("/worksheet"):
                raise reject(f"'{entry.name}' is not a worksheet (a chart sheet?)")
            pending[name] = (entry.name, _sheet_cells(parts, part, entry.name, limits, budget))
        strings = _shared_strings(parts, workbook, relationships, pending, limits, budget)
    sheets = {
        wanted_name: RawSheet(name=actual, cells=_resolve(actual, cells, strings))
        for wanted_name, (actual, cells) in pending.items()
    }
    return RawWorkbook(
        file_name=file_name,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        sheet_names=tuple(entry.name for entry in listing.sheets),
        sheets=sheets,
    )


def _shared_strings(
    parts: _Parts,
    workbook: str,
    relationships: Mapping[str, _Relationship],
    pending: Mapping[str, tuple[str, list[_PendingCell]]],
    limits: Limits,
    budget: _Budget,
) -> dict[int, str]:
    needed = {
        cell.shared_index
        for _, cells in pending.values()
        for cell in cells
        if cell.shared_index is not None
    }
    if not needed:
        return {}
    part = None
    for relationship in relationships.values():
        if relationship.type.endswith("/sharedStrings"):
            part = parts.target(workbook, relationship)
    if part is None:
        raise reject("the workbook's text cells point at a table of texts that is missing")
    handler = _SharedStrings(needed, limits, budget)
    _parse(parts, part, handler)
    return handler.strings


def _resolve(
    sheet: str, cells: list[_PendingCell], strings: Mapping[int, str]
) -> dict[tuple[int, int], RawCell]:
    resolved: dict[tuple[int, int], RawCell] = {}
    for cell in cells:
        kind, text = cell.kind, cell.text
        if cell.shared_index is not None:
            if cell.shared_index not in strings:
                raise reject(
                    "the cell points at a text that is not in the file: it is damaged",
                    sheet=sheet,
                    cell=f"{column_letter(cell.column)}{cell.row}",
                )
            kind, text = "text", strings[cell.shared_index]
        resolved[(cell.row, cell.column)] = RawCell(
            sheet=sheet,
            row=cell.row,
            column=cell.column,
            kind=kind,
            text=text,
            formula=cell.formula,
        )
    return resolved


def read_return_workbook(data: bytes, *, file_name: str, limits: Limits = LIMITS) -> RawWorkbook:
    """A checked workbook with its Return and _meta sheets, or RejectedFile saying why not."""
    workbook = read_workbook(
        data, file_name=file_name, wanted=(RETURN_SHEET, META_SHEET), limits=limits
    )
    if META_SHEET not in workbook.sheets:
        raise reject(
            "the workbook has no _meta sheet, so it was not made by SKP Returns (it comes from "
            "another program, or the hidden _meta sheet was deleted): ask for a return file "
            "exported by SKP Returns, or send the service a blank template to fill in"
        )
    if RETURN_SHEET not in workbook.sheets:
        raise reject(
            "the workbook has no Return sheet (it was renamed or deleted): ask for the return "
            "file as SKP Returns exported it"
        )
    return workbook
