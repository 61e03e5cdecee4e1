"""Reading the generic long CSV format into its landed answers table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from connectors.common import (
    LANDING_FIELDS,
    all_blank,
    blank_to_null,
    is_blank_array,
    read_csv_batches,
    read_header,
    recognised_as,
)
from connectors.csv_long import settings
from vm_core.errors import ConfigError, SourceError
from vm_core.ingest.connector import AnswerPlan, ConnectorContext, Delivery, LandedTable, SourceSpec
from vm_core.ingest.scrub import scrub_array

SCHEMA = pa.schema(
    [
        *LANDING_FIELDS,
        pa.field("organisation", pa.string()),
        pa.field("role", pa.string()),
        pa.field("value_code", pa.string(), nullable=False),
        pa.field("level", pa.string()),
        pa.field("comment", pa.string()),
        pa.field("submitted_at", pa.string()),
    ]
)


def delimiter_option(source: SourceSpec) -> str | None:
    """The configured delimiter, or None to detect it."""
    where = f"source {source.key!r}: options"
    unknown = sorted(set(source.options) - settings.OPTION_NAMES)
    if unknown:
        raise ConfigError(
            f"{where}: unknown option {unknown[0]!r} for connector {settings.NAME!r} "
            f"(known: {', '.join(sorted(settings.OPTION_NAMES))})"
        )
    value = source.options.get("delimiter")
    if value is None:
        return None
    if isinstance(value, str):
        value = settings.DELIMITER_NAMES.get(value.lower(), value)
    if not isinstance(value, str) or len(value) != 1 or value in '"\r\n':
        raise ConfigError(f"{where}.delimiter: must be one character such as ',' ';' or 'tab', not {value!r}")
    return value


def detect_delimiter(path: Path) -> str:
    """The candidate delimiter that occurs most often in the header line (',' when none does)."""
    with path.open("rb") as fh:
        header = fh.readline().decode("utf-8-sig", errors="replace")
    counts = {d: header.count(d) for d in settings.DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else settings.DELIMITERS[0]


PLAN = AnswerPlan(
    table=settings.TABLE,
    organisation="organisation",
    role="role",
    value_code="value_code",
    value="level",
    comment="comment",
    source_column=settings.SOURCE_COLUMN,
)


def deliver(source: SourceSpec, ctx: ConnectorContext) -> Delivery:
    """The source's file(s) as one landed table; every file's header is checked before anything streams."""
    configured = delimiter_option(source)
    files = []
    for path in source.files():
        delimiter = configured or detect_delimiter(path)
        with recognised_as(path, settings.NAME):
            files.append((path, delimiter, _columns(path, delimiter, ctx)))
    ctx.report.pii_columns_removed.append("respondent_id")
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    batches = (
        batch for path, delimiter, index in files for batch in _rows(path, delimiter, index, ctx, seen)
    )
    return Delivery((LandedTable(settings.TABLE, SCHEMA, batches),), PLAN)


def _columns(path: Path, delimiter: str, ctx: ConnectorContext) -> tuple[list[str], dict[str, int]]:
    """The header as written, and the position (0-based) of each known column."""
    file = path.name
    header = read_header(path, delimiter, 1)
    written = header.records[0] if header.records else []
    if not any(c.strip() for c in written):
        raise SourceError(
            file,
            f"the file is empty; row 1 must name the columns ({', '.join(settings.REQUIRED_COLUMNS)})",
            1,
        )
    index: dict[str, int] = {}
    for i, name in enumerate(written):
        key = name.strip().lower()
        if key in index and key in settings.REQUIRED_COLUMNS + settings.OPTIONAL_COLUMNS:
            raise SourceError(file, "column appears twice", 1, name)
        index.setdefault(key, i)
    for name in settings.REQUIRED_COLUMNS:
        if name not in index:
            raise SourceError(
                file,
                f"required column {name!r} is missing (row 1 has: "
                f"{', '.join(c for c in written if c.strip()) or 'nothing'})",
                1,
                name,
            )
    known = {*settings.REQUIRED_COLUMNS, *settings.OPTIONAL_COLUMNS}
    ctx.report.columns_not_landed.extend(
        name.strip() or f"column {i + 1}"
        for i, name in enumerate(written)
        if name.strip().lower() not in known
    )
    return written, {k: v for k, v in index.items() if k in known}


def _rows(
    path: Path,
    delimiter: str,
    columns: tuple[list[str], dict[str, int]],
    ctx: ConnectorContext,
    seen: dict[tuple[str, str], tuple[str, int]],
) -> Iterator[pa.RecordBatch]:
    file = path.name
    written, index = columns
    header = read_header(path, delimiter, 1)
    width = len(written)
    wanted = sorted(i + 1 for i in index.values())
    codes = {code.lower(): code for code in ctx.value_codes}

    def column(batch: pa.RecordBatch, name: str) -> pa.Array:
        if name in index:
            return batch.column(f"c{index[name] + 1}")
        return pa.array([""] * batch.num_rows, pa.string())

    for batch in read_csv_batches(path, header, width, wanted, delimiter):
        batch_rows = batch.column("source_row")
        empty = all_blank([batch.column(f"c{p}") for p in wanted])
        if pc.any(empty).as_py():
            keep = pc.invert(empty)
            batch = batch.filter(keep)
            batch_rows = batch.column("source_row")
        ctx.report.rows_read += batch.num_rows
        if not batch.num_rows:
            continue
        respondent = pc.utf8_trim_whitespace(column(batch, "respondent_id"))
        code = pc.utf8_trim_whitespace(column(batch, "value_code"))
        for name, values in (("respondent_id", respondent), ("value_code", code)):
            blank = is_blank_array(values)
            if pc.any(blank).as_py():
                row = batch_rows[pc.index(blank, True).as_py()].as_py()
                raise SourceError(file, f"{name} is blank", row, written[index[name]])
        keys = ctx.pseudonymise_many(respondent.to_pylist())
        canonical = [codes.get(c.lower(), c) for c in code.to_pylist()]
        for key, value_code, row in zip(keys, canonical, batch_rows.to_pylist(), strict=True):
            first = seen.setdefault((key, value_code.lower()), (file, row))
            if first != (file, row):
                where = f"row {first[1]}" + (f" of {first[0]}" if first[0] != file else "")
                raise SourceError(
                    file,
                    # a library identifier may be named; an unknown cell's text is not repeated
                    f"respondent already answered "
                    f"{value_code if value_code.lower() in codes else 'this Value Code'} in {where}",
                    row,
                    written[index["value_code"]],
                )
        key_array = pa.array(keys, pa.string())
        response = blank_to_null(pc.utf8_trim_whitespace(column(batch, "response_id")))
        yield pa.RecordBatch.from_pydict(
            {
                "source_file": pa.array([file] * batch.num_rows, pa.string()),
                "source_row": batch_rows,
                "response_id": pc.coalesce(response, key_array),
                "respondent_key": key_array,
                "organisation": blank_to_null(pc.utf8_trim_whitespace(column(batch, "organisation"))),
                "role": blank_to_null(pc.utf8_trim_whitespace(column(batch, "role"))),
                "value_code": pa.array(canonical, pa.string()),
                "level": blank_to_null(pc.utf8_trim_whitespace(column(batch, "level"))),
                "comment": scrub_array(blank_to_null(column(batch, "comment")), ctx.report.scrubbed),
                "submitted_at": blank_to_null(pc.utf8_trim_whitespace(column(batch, "submitted_at"))),
            },
            schema=SCHEMA,
        )
