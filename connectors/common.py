"""What every file connector shares: CSV records with spreadsheet row numbers, fast and careful.

A CSV file is read in two ways that give the same rows:

- **fast** (:func:`fast_batches`): pyarrow's multi-threaded CSV reader, streaming record batches
  of raw text columns from the first data record on. It is used first.
- **careful** (:func:`careful_batches`): Python's ``csv`` module, record by record, with the
  spreadsheet row of every record. It locates a fault the fast reader stops at (a quote never
  closed, a row longer than the header, bytes that are not UTF-8, a file cut off in its last
  row) and raises :class:`~vm_core.errors.SourceError` naming file, row and column; and it reads
  what the fast reader refuses but is legitimate (a short row in the middle of a file, an empty
  line), from the record where the fast reader stopped.

Both produce batches of the same shape: one ``pa.string()`` column per wanted position (named
``c<position>``, blank cells as empty strings) and ``source_row`` (int64).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from vm_core.errors import SourceError

#: The columns every landed answers table starts with (vm_core.ingest.connector.ANSWER_TABLE_COLUMNS).
LANDING_FIELDS = (
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("source_row", pa.int64(), nullable=False),
    pa.field("response_id", pa.string(), nullable=False),
    pa.field("respondent_key", pa.string(), nullable=False),
)

#: rows per batch of the careful reader; the fast reader's batches are ~BLOCK bytes
CAREFUL_BATCH = 50_000
BLOCK = 4 << 20

_CSV_PROBLEMS = {
    "unexpected end of data": "a quoted cell that starts in this row is never closed",
    "expected after": "a quote inside a quoted cell is not doubled",
    "field larger than field limit": "a cell is longer than the CSV reader allows",
}


@dataclass(frozen=True)
class Header:
    """The header records of a CSV file and where its data starts."""

    records: list[list[str]]
    data_offset: int  # byte offset of the first data record
    rows: int  # spreadsheet rows the header records take (records, not lines)


def _decoded_lines(fh: BinaryIO, file: str, consumed: list[int]) -> Iterator[str]:
    first = True
    for lines_done, line in enumerate(iter(fh.readline, b"")):
        consumed[0] += len(line)
        try:
            text = line.decode("utf-8-sig" if first else "utf-8")
        except UnicodeDecodeError as exc:
            raise _not_utf8(file, exc, lines_done + 1) from None
        first = False
        yield text


def read_header(path: Path, delimiter: str, count: int | None, is_complete: object = None) -> Header:
    """The first records of the file (``count`` of them, or as many as ``is_complete`` wants).

    ``is_complete(records) -> bool`` decides after each record whether the header is whole
    (a format whose header length depends on its first row).
    """
    file = path.name
    consumed = [0]
    records: list[list[str]] = []
    with path.open("rb") as fh:
        lines = _decoded_lines(fh, file, consumed)
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise SourceError(file, _csv_problem(exc), len(records) + 1) from None
            records.append(cells)
            if count is not None and len(records) >= count:
                break
            if callable(is_complete) and is_complete(records):
                break
    return Header(records, consumed[0], len(records))


class NotUtf8Error(SourceError):
    """A record holds bytes that are not UTF-8 (a connector with an ``encoding`` option adds a hint)."""


def _not_utf8(file: str, exc: UnicodeDecodeError, row: int) -> SourceError:
    return NotUtf8Error(
        file,
        f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); export or save the file as UTF-8 CSV",
        row,
    )


def _csv_problem(exc: csv.Error) -> str:
    detail = str(exc)
    return next((m for k, m in _CSV_PROBLEMS.items() if k in detail), f"not valid CSV: {detail}")


def _names(width: int) -> list[str]:
    return [f"c{i + 1}" for i in range(width)]


class FastReadFailed(Exception):
    """The fast reader stopped; ``rows`` records were yielded before it did."""

    def __init__(self, rows: int, detail: str):
        super().__init__(detail)
        self.rows = rows


def fast_batches(
    path: Path, header: Header, width: int, wanted: Sequence[int], delimiter: str
) -> Iterator[pa.RecordBatch]:
    """Raw text batches of the wanted positions (1-based) from the first data record on.

    Raises :class:`FastReadFailed` when pyarrow refuses the rest of the file.
    """
    names = _names(width)
    include = [names[p - 1] for p in wanted]
    done = 0
    with path.open("rb") as fh:
        fh.seek(header.data_offset)
        try:
            reader = pacsv.open_csv(
                fh,
                read_options=pacsv.ReadOptions(column_names=names, block_size=BLOCK),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in include},
                    include_columns=include,
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            for batch in reader:
                rows = pa.array(
                    range(header.rows + done + 1, header.rows + done + 1 + batch.num_rows), pa.int64()
                )
                done += batch.num_rows
                yield pa.RecordBatch.from_arrays([*batch.columns, rows], names=[*include, "source_row"])
        except pa.ArrowInvalid as exc:
            raise FastReadFailed(done, str(exc)) from None


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        if not fh.seek(0, io.SEEK_END):
            return True  # empty
        fh.seek(-1, io.SEEK_END)
        return fh.read(1) in (b"\n", b"\r")


def careful_batches(
    path: Path,
    header: Header,
    width: int,
    wanted: Sequence[int],
    delimiter: str,
    *,
    batch_rows: int = CAREFUL_BATCH,
) -> Iterator[pa.RecordBatch]:
    """The same batches as :func:`fast_batches`, record by record.

    Short rows are padded with blanks, except the file's last record when the file ends
    without a line break (a file cut off in transfer). A row with more cells than the header is
    an error unless the extra cells are blank. Fully blank records are kept (the caller drops them).
    """
    file = path.name
    names = _names(width)
    columns: list[list[str]] = [[] for _ in wanted]
    rows: list[int] = []
    index = [p - 1 for p in wanted]
    row = header.rows
    with path.open("rb") as fh:
        fh.seek(header.data_offset)
        # decoded line by line, so a byte that is not UTF-8 is reported in the record holding it
        text = (line.decode("utf-8") for line in iter(fh.readline, b""))
        reader = csv.reader(text, delimiter=delimiter, strict=True)
        pending: tuple[int, list[str]] | None = None
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise SourceError(file, _csv_problem(exc), row + 1) from None
            except UnicodeDecodeError as exc:
                raise _not_utf8(file, exc, row + 1) from None
            row += 1
            if pending is not None:
                _take(pending, columns, rows, index, width, file)
            pending = (row, cells)
            if len(rows) >= batch_rows:
                yield _batch(columns, rows, names, wanted)
                columns, rows = [[] for _ in wanted], []
        if pending is not None:
            last_row, cells = pending
            if len(cells) < width and any(c.strip() for c in cells) and not _ends_with_newline(path):
                raise SourceError(
                    file,
                    f"the file ends in the middle of this row ({len(cells)} of {width} cells): "
                    "it was cut short; export or copy it again",
                    last_row,
                )
            _take(pending, columns, rows, index, width, file)
    if rows:
        yield _batch(columns, rows, names, wanted)


def _take(
    record: tuple[int, list[str]],
    columns: list[list[str]],
    rows: list[int],
    index: list[int],
    width: int,
    file: str,
) -> None:
    row, cells = record
    if len(cells) == 1 and not cells[0]:
        cells = []  # an empty line
    cells = fit_row(cells, width, file, row)
    for column, i in zip(columns, index, strict=True):
        column.append(cells[i])
    rows.append(row)


def _batch(
    columns: list[list[str]], rows: list[int], names: list[str], wanted: Sequence[int]
) -> pa.RecordBatch:
    arrays = [pa.array(c, pa.string()) for c in columns]
    return pa.RecordBatch.from_arrays(
        [*arrays, pa.array(rows, pa.int64())], names=[*(names[p - 1] for p in wanted), "source_row"]
    )


def read_csv_batches(
    path: Path, header: Header, width: int, wanted: Sequence[int], delimiter: str = ","
) -> Iterator[pa.RecordBatch]:
    """Fast batches; where the fast reader stops, careful batches from the same record on.

    A file that does not end with a line break may have been cut off inside its last record,
    which only the careful reader can tell: it reads such a file from the start, and so a file
    whose quotes do not pair up (a quoted cell never closed).
    """
    done = 0
    if _ends_with_newline(path) and _quotes_paired(path, header.data_offset):
        try:
            yield from fast_batches(path, header, width, wanted, delimiter)
            return
        except FastReadFailed as stopped:
            done = stopped.rows
    for batch in careful_batches(path, header, width, wanted, delimiter):
        rows = batch.column(batch.num_columns - 1)
        keep = pc.greater(rows, header.rows + done)
        if pc.any(keep).as_py():
            yield batch.filter(keep)


def _quotes_paired(path: Path, offset: int) -> bool:
    """An even number of quote characters after the header.

    The fast reader takes a quote left open to the end of the file as one cell holding every
    record after it; the careful reader reports it (or reads a quote inside an unquoted cell).
    """
    count = 0
    with path.open("rb") as fh:
        fh.seek(offset)
        for chunk in iter(lambda: fh.read(BLOCK), b""):
            count += chunk.count(b'"')
    return count % 2 == 0


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


def is_blank_array(array: pa.Array) -> pa.Array:
    """Per cell: empty or whitespace only (null counts as blank)."""
    blank = pc.or_(pc.equal(array, ""), pc.utf8_is_space(array))
    return pc.fill_null(blank, True)


def blank_to_null(array: pa.Array) -> pa.Array:
    """Text with every blank (empty or whitespace-only) cell as null."""
    return pc.if_else(is_blank_array(array), pa.scalar(None, pa.string()), array)


def all_blank(arrays: Sequence[pa.Array]) -> pa.Array:
    """Per row: every one of the arrays is blank there."""
    result = pa.array([True] * (len(arrays[0]) if arrays else 0))
    for array in arrays:
        result = pc.and_(result, is_blank_array(array))
    return result


def check_unique_ids(
    ids: list[str], rows: list[int], file: str, seen: dict[str, tuple[str, int]], column: str
) -> None:
    """Each response id once in a delivery; ``seen`` holds the (file, row) of every id so far."""
    batch = dict(zip(ids, zip(itertools.repeat(file), rows, strict=False), strict=True))
    if len(batch) == len(ids) and batch.keys().isdisjoint(seen):  # the usual case, checked in C
        seen.update(batch)
        return
    for response_id, row in zip(ids, rows, strict=True):
        first = seen.setdefault(response_id, (file, row))
        if first != (file, row):
            where = f"row {first[1]}" + (f" of {first[0]}" if first[0] != file else "")
            raise SourceError(file, f"the same response id appears twice (first in {where})", row, column)


# --------------------------------------------------------------------------------------------------
# Text that is not UTF-8 with LF or CRLF records
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Readable:
    """The file the readers above read: the file itself, or a UTF-8 copy of it with the same name.

    A copy lives in a temporary folder that is removed when the last reference to this goes.
    """

    path: Path
    encoding: str  # the encoding the file was read as ("utf-8": as the readers above read it)
    copy: tempfile.TemporaryDirectory[str] | None = field(default=None, compare=False, repr=False)


def cr_only(path: Path) -> bool:
    """Records end in a bare CR (classic Mac OS): line breaks but no LF in the first block."""
    with path.open("rb") as fh:
        head = fh.read(BLOCK)
    return b"\r" in head and b"\n" not in head


def readable(path: Path, encoding: str | None = None) -> Readable:
    """The file as UTF-8 text with LF or CRLF records, copied only when it is not that already.

    ``encoding`` is the file's declared encoding (e.g. ``cp1252``, ``mac_roman``); None means UTF-8.
    Records ending in a bare CR become LF records. Bytes that are not text in the encoding are
    carried over as they are, so the careful reader reports the row holding the first of them.
    """
    codec = codecs.lookup(encoding or "utf-8").name
    bare_cr = cr_only(path)
    if codec == "utf-8" and not bare_cr:
        return Readable(path, "utf-8")
    folder = tempfile.TemporaryDirectory(prefix="vm-text-")
    copy = Path(folder.name) / path.name
    decoder = codecs.getincrementaldecoder("utf-8-sig" if codec == "utf-8" else codec)(
        errors="surrogateescape"
    )
    with path.open("rb") as source, copy.open("wb") as target:
        for chunk, final in itertools.chain(
            ((c, False) for c in iter(lambda: source.read(BLOCK), b"")), [(b"", True)]
        ):
            text = decoder.decode(chunk, final)
            if bare_cr:
                text = text.replace("\r", "\n")
            target.write(text.encode("utf-8", "surrogateescape"))
    return Readable(copy, codec, folder)


# --------------------------------------------------------------------------------------------------
# What a starter configuration offers (connectors.starter)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A column of an export that may answer a Value Code, or say who answered."""

    name: str  # how the connector's options name it
    text: str  # what respondents were asked (the question text, where the export has it)
    positions: tuple[int, ...]  # 1-based columns; several: a block of choices read as one answer
    #: a block's columns one by one (a matrix is a block whose columns are questions of their own)
    parts: tuple[Candidate, ...] = ()
    label: str = ""  # the column's own label under its question (a choice, a matrix row)


@dataclass(frozen=True)
class Candidates:
    """An export's candidate columns and where its data records start (to sample them)."""

    text: Readable
    header: Header
    width: int
    columns: list[Candidate]


# --------------------------------------------------------------------------------------------------
# Which connector reads a file
# --------------------------------------------------------------------------------------------------

#: connector -> what its files are called in a message ("this looks like <...>; use `<connector>`")
EXPORT_KINDS = {
    "qualtrics_csv": "a Qualtrics response export",
    "surveymonkey_csv": "a SurveyMonkey export",
    "google_forms_csv": "a Google Forms responses export",
    "csv_long": "a long CSV (one row per respondent and Value Code)",
}
_SNIFF_BYTES = 1 << 16


def _squash(cell: str) -> str:
    return "".join(cell.lstrip("\ufeff").split()).lower()


def sniff_records(records: Sequence[Sequence[str]]) -> str | None:
    """The built-in file connector whose export starts with these records, or None."""
    rows = [[_squash(c) for c in r] for r in records[:3]]
    first = rows[0] if rows else []
    if not any(first):
        return None
    if len(rows) > 2 and any(c.startswith("{") and "importid" in c for c in rows[2]):
        return "qualtrics_csv"
    if first[0] == "v1" or {"responseid", "startdate"} <= set(first):
        return "qualtrics_csv"
    if "respondentid" in first[:2]:
        return "surveymonkey_csv"
    if first[0] == "timestamp":
        return "google_forms_csv"
    if {"respondent_id", "value_code", "level"} <= set(first):
        return "csv_long"
    return None


def sniff_file(path: Path) -> str | None:
    """:func:`sniff_records` of the file's first records, whatever its encoding and line endings."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return None
    text = head.decode("utf-8", errors="replace")
    records: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=None)):
            records.append(record)
            if len(records) == 3:
                break
    except csv.Error:
        pass
    return sniff_records(records)


@contextmanager
def recognised_as(path: Path, connector: str) -> Iterator[None]:
    """Around a connector's header check: a file that fails it and is another connector's export says so.

    ``this looks like a SurveyMonkey export; use `surveymonkey_csv``` replaces the connector's own
    message (which would describe a problem the file does not have).
    """
    try:
        yield
    except SourceError:
        other = sniff_file(path)
        if other is None or other == connector:
            raise
        raise SourceError(path.name, f"this looks like {EXPORT_KINDS[other]}; use `{other}`", 1) from None
