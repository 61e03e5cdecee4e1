"""Reading a SurveyMonkey response CSV export: its two header rows into fields, then the wide landing.

Row 1 holds each question's text over the first column of its block only (the export's merged
cells); row 2 holds each column's label: ``Response`` / ``Open-Ended Response`` (condensed layout),
one choice per column (expanded layout: the cell holds the label when it was chosen), one
sub-question per column (a matrix: the cell holds the chosen column label), or
``Other (please specify)``. Metadata columns (``Respondent ID``, ``Collector ID``, dates, IP and
e-mail address, names, custom data) have a name in row 1 and nothing in row 2.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from connectors.common import Candidates, NotUtf8Error, cr_only, fit_row, read_header, readable, recognised_as
from connectors.options import ColumnOptions, parse_column_options
from connectors.surveymonkey_csv import settings
from connectors.wide import (
    BLANK_KEY_PREFIX,
    LABEL_SEPARATOR,
    Export,
    Field,
    Format,
    candidates,
    layout,
    unique_keys,
)
from connectors.wide import deliver as deliver_wide
from vm_core.errors import ConfigError, SourceError
from vm_core.ingest.connector import ConnectorContext, Delivery, SourceSpec

FORMAT = Format(
    name=settings.NAME,
    responses_table=settings.RESPONSES_TABLE,
    columns_table=settings.COLUMNS_TABLE,
    response_id=settings.RESPONDENT_ID,
    dedicated=settings.DEDICATED_FIELDS,
    respondent_fields=settings.RESPONDENT_FIELDS,
    personal_fields=settings.PERSONAL_FIELDS,
)
ENCODING_HINT = (
    ", or set options.encoding to the file's encoding (exports saved by Excel are usually cp1252; "
    "on a classic Mac, with CR-only line endings, mac_roman)"
)


def encoding_option(source: SourceSpec) -> str | None:
    value = source.options.get("encoding")
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise LookupError(value)
        info = codecs.lookup(value)
    except LookupError:
        raise ConfigError(
            f"source {source.key!r}: options.encoding: {value!r} is not an encoding (e.g. cp1252, mac_roman)"
        ) from None
    if not info._is_text_encoding:
        raise ConfigError(f"source {source.key!r}: options.encoding: {value!r} is not a text encoding")
    return info.name


def _metadata(name: str, label: str) -> str | None:
    if label.strip():
        return None
    squashed = "".join(name.split()).lower().rstrip("0123456789")
    return settings.METADATA_NAMES.get(squashed)


def read_fields(questions: list[str], labels: list[str]) -> list[Field]:
    """Every column as a field, then every block of several choice columns as one field."""
    singles: list[tuple[tuple[int, ...], str, str, str | None]] = []
    blocks: list[list[int]] = []
    question: str | None = None  # the question whose block is open
    for index, (name, label) in enumerate(zip(questions, labels, strict=True)):
        position = index + 1
        name, label = name.strip(), label.strip()
        metadata = _metadata(name, label) if name else None
        if metadata or (not name and not label):
            question = None
            singles.append(((position,), name, label, metadata))
            continue
        if name:
            question = name
            blocks.append([])
        elif question is None:  # a label without a question before it
            blocks.append([])
        singles.append(((position,), question or "", label, None))
        if label.lower() != settings.OTHER_LABEL:
            blocks[-1].append(position)
    counts: dict[str, int] = {}
    for _, q, _, metadata in singles:
        if not metadata:
            counts[q] = counts.get(q, 0) + 1
    keys, aliases = [], []
    for (position,), q, label, metadata in singles:
        if metadata or (q and counts[q] == 1):
            keys.append(q)
            aliases.append((f"{q}{LABEL_SEPARATOR}{label}",) if label and not metadata else ())
        elif q:
            keys.append(f"{q}{LABEL_SEPARATOR}{label}" if label else q)
            aliases.append(())
        else:
            keys.append(label or f"{BLANK_KEY_PREFIX}{position}")
            aliases.append(())
    fields = [
        Field(key, positions, q, label, metadata, alias)
        for key, (positions, q, label, metadata), alias in zip(
            unique_keys(keys), singles, aliases, strict=True
        )
    ]
    by_position = {f.position: f for f in fields}
    multi = [b for b in blocks if len(b) > 1]
    block_keys = unique_keys([by_position[b[0]].question for b in multi])
    fields.extend(
        Field(key, tuple(b), by_position[b[0]].question, "") for key, b in zip(block_keys, multi, strict=True)
    )
    return fields


def read_export(path: Path, encoding: str | None) -> Export:
    """The file's two header rows as fields (a non-UTF-8 or CR-only file is read from a UTF-8 copy)."""
    file = path.name
    text = readable(path, encoding)
    header = read_header(text.path, ",", settings.HEADER_ROWS)
    rows = [list(r) for r in header.records]
    if not rows or not any(c.strip() for c in rows[0]):
        raise SourceError(file, "not a SurveyMonkey export: row 1 (question texts) is empty", 1)
    rows[0][0] = rows[0][0].lstrip("\ufeff")
    if not any(_metadata(c, "") == settings.RESPONDENT_ID for c in rows[0]):
        raise SourceError(
            file,
            "not a SurveyMonkey export: row 1 has no Respondent ID column; export the responses "
            "again as CSV from SurveyMonkey (all responses, with the respondent id)",
            1,
        )
    if len(rows) < settings.HEADER_ROWS:
        raise SourceError(file, "ends after row 1; a SurveyMonkey export has 2 header rows", 1)
    width = max(len(r) for r in rows)
    questions, labels = (fit_row(r, width, file, n + 1) for n, r in enumerate(rows))
    respondent = next(i for i, c in enumerate(questions) if _metadata(c, "") == settings.RESPONDENT_ID)
    if labels[respondent].strip():
        raise SourceError(file, "row 2 must be blank under Respondent ID (the second header row)", 2)
    return Export(path, text, header, width, read_fields(questions, labels))


def starter_candidates(path: Path) -> Candidates:
    """The columns a starter configuration offers; a file that is not UTF-8 is read as an old
    export most likely is (mac_roman with CR-only records, else cp1252; latin-1 reads any byte)."""
    for encoding in (None, "mac_roman" if cr_only(path) else "cp1252", "latin-1"):
        try:
            return candidates(read_export(path, encoding))
        except NotUtf8Error:
            continue
    raise AssertionError("latin-1 decodes every byte")


def parse_options(source: SourceSpec, ctx: ConnectorContext) -> ColumnOptions:
    return parse_column_options(source, ctx, settings.NAME, settings.OPTION_NAMES)


def deliver(source: SourceSpec, ctx: ConnectorContext) -> Delivery:
    options = parse_options(source, ctx)
    encoding = encoding_option(source)
    layouts = []
    for path in source.files():
        try:
            with recognised_as(path, settings.NAME):
                export = read_export(path, encoding)
        except NotUtf8Error as exc:
            hint = ENCODING_HINT if encoding is None else ""
            raise SourceError(exc.file, exc.message + hint, exc.row, exc.column) from None
        layouts.append(layout(export, FORMAT, options, ctx.value_codes))
    return deliver_wide(FORMAT, layouts, ctx, ENCODING_HINT if encoding is None else "")
