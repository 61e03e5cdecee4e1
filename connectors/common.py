"""What every file connector shares: CSV text with spreadsheet row numbers, and the answer frame."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from vm_core.connector import ANSWER_COLUMNS
from vm_core.errors import SourceError

#: The columns every landed table starts with: its key (vm_core.connector.LANDING_KEY) and provenance.
LANDING_FIELDS = (
    pa.field("cycle", pa.int64(), nullable=False),
    pa.field("source_key", pa.string(), nullable=False),
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("source_row", pa.int64(), nullable=False),
    pa.field("response_id", pa.string(), nullable=False),
    pa.field("respondent_key", pa.string(), nullable=False),
)

_CSV_PROBLEMS = {
    "unexpected end of data": "a quoted cell that starts in this row is never closed",
    "expected after": "a quote inside a quoted cell is not doubled",
    "field larger than field limit": "a cell is longer than the CSV reader allows",
}


def read_text(path: Path) -> str:
    """The file as text: UTF-8 with or without BOM, else a SourceError naming the row of the bad byte."""
    file = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(file, f"cannot read the file: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8-sig", errors="replace")
        try:  # spreadsheet row = CSV record, which may span several lines
            row = sum(1 for _ in csv.reader(io.StringIO(before + "x", newline="")))
        except csv.Error:
            row = before.count("\n") + 1
        raise SourceError(
            file, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); export or save the file as UTF-8 CSV", row
        ) from None


def iter_records(text: str, file: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row number, cells) per CSV record; a record with line breaks is still one row."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    row = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            detail = str(exc)
            message = next((m for k, m in _CSV_PROBLEMS.items() if k in detail), f"not valid CSV: {detail}")
            raise SourceError(file, message, row + 1) from None
        row += 1
        yield row, cells


def fit_row(cells: list[str], width: int, file: str, row: int) -> list[str]:
    """Pad a short row with blanks; a long row is tolerated only when its extra cells are blank."""
    if len(cells) == width:
        return cells
    if len(cells) < width:
        return cells + [""] * (width - len(cells))
    if any(cell.strip() for cell in cells[width:]):
        raise SourceError(file, f"row has {len(cells)} cells but the header has {width} columns", row)
    return cells[:width]


def is_blank(cell: str) -> bool:
    return not cell.strip()


def texts(series: pd.Series) -> np.ndarray:
    """A column as an object array of str / None (whatever missing marker pandas used)."""
    values: np.ndarray = series.to_numpy(dtype=object, copy=True)
    values[pd.isna(values)] = None
    return values


def empty_answers() -> pd.DataFrame:
    return answer_frame({name: np.empty(0, dtype=object) for name in ANSWER_COLUMNS})


def answer_frame(columns: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """The answer frame: text columns as object arrays holding None for blanks, ``source_row`` int64."""
    return pd.DataFrame(
        {
            name: pd.Series(columns[name], dtype="int64" if name == "source_row" else object, copy=False)
            for name in ANSWER_COLUMNS
        },
        copy=False,
    )
