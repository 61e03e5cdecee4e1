"""Parsing the generic long CSV format and mapping its landed rows to answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from connectors.common import (
    LANDING_FIELDS,
    answer_frame,
    empty_answers,
    fit_row,
    iter_records,
    read_text,
    texts,
)
from connectors.csv_long import settings
from vm_core.connector import ConnectorContext, SourceSpec
from vm_core.errors import ConfigError, SourceError
from vm_core.scrub import scrub_counted

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


def detect_delimiter(text: str) -> str:
    """The candidate delimiter that occurs most often in the header line (',' when none does)."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in settings.DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else settings.DELIMITERS[0]


def read_long(source: SourceSpec, ctx: ConnectorContext) -> tuple[Any, int]:
    """(Arrow table with SCHEMA, data rows read); the respondent id is pseudonymised, never kept.

    Only the format's own columns land (an allow-list); the names of any others are recorded in
    ``ctx.report.columns_not_landed``. Comments are scrubbed of e-mail addresses, phones and links.
    """
    file = source.path.name
    configured = delimiter_option(source)
    text = read_text(source.path)
    records = iter_records(text, file, configured or detect_delimiter(text))
    header = next(records, None)
    if header is None or not any(c.strip() for c in header[1]):
        raise SourceError(
            file,
            f"the file is empty; row 1 must name the columns ({', '.join(settings.REQUIRED_COLUMNS)})",
            1,
        )
    written = header[1]
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
    width = len(written)
    codes = {code.lower(): code for code in ctx.value_codes}
    known = {*settings.REQUIRED_COLUMNS, *settings.OPTIONAL_COLUMNS}
    ctx.report.columns_not_landed.extend(
        name.strip() or f"column {i + 1}"
        for i, name in enumerate(written)
        if name.strip().lower() not in known
    )

    def at(cells: list[str], name: str) -> str:
        return cells[index[name]] if name in index else ""

    out: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    seen: dict[tuple[str, str], int] = {}
    rows_read = 0
    for row, raw in records:
        if not any(c.strip() for c in raw):
            continue
        cells = fit_row(raw, width, file, row)
        rows_read += 1
        respondent = at(cells, "respondent_id").strip()
        if not respondent:
            raise SourceError(file, "respondent_id is blank", row, written[index["respondent_id"]])
        code = at(cells, "value_code").strip()
        if not code:
            raise SourceError(file, "value_code is blank", row, written[index["value_code"]])
        code = codes.get(code.lower(), code)
        respondent_key = ctx.pseudonymise(respondent)
        if (respondent_key, code.lower()) in seen:
            first = seen[respondent_key, code.lower()]
            raise SourceError(
                file,
                # a library identifier may be named; an unknown cell's text is not repeated
                f"respondent already answered {code if code.lower() in codes else 'this Value Code'} "
                f"in row {first}",
                row,
                written[index["value_code"]],
            )
        seen[respondent_key, code.lower()] = row
        out["source_row"].append(row)
        out["respondent_key"].append(respondent_key)
        out["response_id"].append(at(cells, "response_id").strip() or respondent_key)
        out["organisation"].append(at(cells, "organisation").strip() or None)
        out["role"].append(at(cells, "role").strip() or None)
        out["value_code"].append(code)
        out["level"].append(at(cells, "level").strip() or None)  # checked 1–5 by the contract, per answer
        comment = at(cells, "comment")
        if comment.strip():
            comment, found = scrub_counted(comment)
            ctx.report.scrubbed.update(found)
        out["comment"].append(comment if comment.strip() else None)
        out["submitted_at"].append(at(cells, "submitted_at").strip() or None)
    count = len(out["source_row"])
    out["cycle"] = [ctx.cycle] * count
    out["source_key"] = [source.key] * count
    out["source_file"] = [file] * count
    return pa.Table.from_pydict(out, schema=SCHEMA), rows_read


def long_answers(
    landed: Mapping[str, pd.DataFrame], source: SourceSpec, ctx: ConnectorContext
) -> pd.DataFrame:
    rows = landed[settings.TABLE]
    if rows.empty:
        return empty_answers()
    rows = rows.sort_values("source_row", kind="stable")
    codes = {code.lower(): code for code in ctx.value_codes}
    value_codes = texts(rows["value_code"])
    canonical = pd.Series(value_codes, dtype=object).str.lower().map(codes)
    frame = {
        "source_key": np.full(len(rows), source.key, dtype=object),
        "source_file": texts(rows["source_file"]),
        "source_row": rows["source_row"].to_numpy(dtype="int64"),
        "source_column": np.full(len(rows), settings.SOURCE_COLUMN, dtype=object),
        "response_id": texts(rows["response_id"]),
        "respondent_key": texts(rows["respondent_key"]),
        "organisation": texts(rows["organisation"]),
        "role": texts(rows["role"]),
        "value_code": np.where(canonical.notna().to_numpy(), canonical.to_numpy(dtype=object), value_codes),
        "value": texts(rows["level"]),
        "comment": texts(rows["comment"]),
    }
    return answer_frame(frame)
