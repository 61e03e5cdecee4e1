"""Reading a Google Forms responses CSV: one header row of question titles, then the wide landing.

Row 1 is ``Timestamp``, ``Email Address`` when the form collects addresses (``Score`` for a quiz),
then one column per question titled as in the form (a grid question: one column per row,
``Title [Row]``). A checkbox question's choices are joined with ``", "`` in one cell; a paragraph
answer may hold line breaks. Google Forms writes no response id: a response is its Timestamp and
spreadsheet row.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from connectors.common import Candidates, fit_row, read_header, readable, recognised_as
from connectors.google_forms_csv import settings
from connectors.options import parse_column_options
from connectors.wide import BLANK_KEY_PREFIX, Export, Field, Format, candidates, layout, unique_keys
from connectors.wide import deliver as deliver_wide
from vm_core.errors import SourceError
from vm_core.ingest.connector import ConnectorContext, Delivery, SourceSpec


def response_ids(timestamps: pa.Array, rows: pa.Array) -> pa.Array:
    """``<Timestamp> #<row>``: unique in a file, and stable while the sheet only grows."""
    return pc.binary_join_element_wise(timestamps, pc.cast(rows, pa.string()), settings.ROW_SEPARATOR)


FORMAT = Format(
    name=settings.NAME,
    responses_table=settings.RESPONSES_TABLE,
    columns_table=settings.COLUMNS_TABLE,
    response_id=settings.TIMESTAMP,
    dedicated=settings.DEDICATED_FIELDS,
    respondent_fields=settings.RESPONDENT_FIELDS,
    personal_fields=settings.PERSONAL_FIELDS,
    make_response_ids=response_ids,
)


def _metadata(name: str) -> str | None:
    return settings.METADATA_NAMES.get("".join(name.split()).lower())


def read_export(path: Path) -> Export:
    file = path.name
    text = readable(path)  # a sheet downloads as UTF-8; a copy only for CR-only records
    header = read_header(text.path, ",", settings.HEADER_ROWS)
    names = [c.strip() for c in header.records[0]] if header.records else []
    if names:
        names[0] = names[0].lstrip("\ufeff").strip()
    if not names or _metadata(names[0]) != settings.TIMESTAMP:
        raise SourceError(
            file,
            "not a Google Forms responses export: row 1 must start with Timestamp "
            "(download the responses sheet as CSV: File > Download > Comma-separated values)",
            1,
        )
    width = max(i + 1 for i, c in enumerate(names) if c) if any(names) else 0
    names = fit_row(names, width, file, 1)
    keys = unique_keys([n or f"{BLANK_KEY_PREFIX}{i + 1}" for i, n in enumerate(names)])
    fields = [
        Field(key, (i + 1,), name, "", _metadata(name) if name else None)
        for i, (key, name) in enumerate(zip(keys, names, strict=True))
    ]
    return Export(path, text, header, len(header.records[0]), fields)


def starter_candidates(path: Path) -> Candidates:
    """The columns a starter configuration offers."""
    return candidates(read_export(path))


def deliver(source: SourceSpec, ctx: ConnectorContext) -> Delivery:
    options = parse_column_options(source, ctx, settings.NAME, settings.OPTION_NAMES)
    layouts = []
    for path in source.files():
        with recognised_as(path, settings.NAME):
            export = read_export(path)
        layouts.append(layout(export, FORMAT, options, ctx.value_codes))
    return deliver_wide(FORMAT, layouts, ctx)
