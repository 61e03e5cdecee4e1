"""Small reference tables people keep in a spreadsheet — a Value Code library, a participant list —
read as rows of text from CSV (UTF-8 or Windows-1252; ``,`` ``;`` or tab) or the first sheet of an XLSX.

Each problem is one :class:`~vm_core.errors.SourceError` naming the file (and the row where one is
known), never a cell's value. These tables are small: they are read whole, unlike survey exports
(``connectors/common.py`` streams those).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from vm_core.errors import SourceError

XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
#: the delimiters :func:`read_rows` tells apart from the header line when none is given
DELIMITERS = (",", ";", "\t")


def cell_text(value: Any) -> str:
    """A cell as trimmed text: a whole float as an integer (Excel's 42.0 is 42), line ends as ``\\n``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def _decoded(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            message = f"not UTF-8 or Windows-1252 text (byte {exc.start}); save it as UTF-8 CSV"
            raise SourceError(path.name, message) from None


def _delimiter(text: str) -> str:
    """The delimiter occurring most often in the header line (a comma when none occurs)."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else DELIMITERS[0]


def _csv_rows(path: Path, delimiter: str | None) -> list[list[str]]:
    text = _decoded(path)
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or _delimiter(text))
    try:
        rows.extend([cell_text(cell) for cell in record] for record in reader)
    except csv.Error as exc:
        raise SourceError(path.name, f"not a readable CSV file: {exc}", row=len(rows) + 1) from None
    return rows


def _xlsx_rows(path: Path) -> list[list[str]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise SourceError(path.name, f"not a readable Excel workbook: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers store wrong dimensions; read every row
        return [[cell_text(cell) for cell in record] for record in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def is_xlsx(path: Path) -> bool:
    if path.suffix.lower() in XLSX_SUFFIXES:
        return True
    with path.open("rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def read_rows(path: Path, delimiter: str | None = None) -> list[list[str]]:
    """Every row of the table as trimmed text (row 1 first); ``delimiter`` None: detected (CSV)."""
    if path.suffix.lower() == ".xls":
        raise SourceError(path.name, "old .xls workbooks are not supported; save it as .xlsx or .csv")
    try:
        return _xlsx_rows(path) if is_xlsx(path) else _csv_rows(path, delimiter)
    except OSError as exc:
        raise SourceError(path.name, f"cannot read the file: {exc.strerror or exc}") from None
