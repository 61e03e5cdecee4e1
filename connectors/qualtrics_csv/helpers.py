"""Parsing a Qualtrics response CSV export as received, and turning landed rows into answers.

Reading is strict about the shape of the file (one :class:`~vm_core.errors.SourceError` naming
file, spreadsheet row and column before anything is yielded) and lenient about what Qualtrics
legitimately varies: localised labels, blank or repeated header names, trailing commas, cells
with line breaks.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from connectors.common import (
    LANDING_FIELDS,
    answer_frame,
    empty_answers,
    fit_row,
    is_blank,
    iter_records,
    read_text,
    texts,
)
from connectors.qualtrics_csv import settings
from vm_core.connector import ConnectorContext, SourceSpec
from vm_core.errors import ConfigError, SourceError
from vm_core.scrub import scrub_counted

# --------------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    questions: dict[str, str] | None  # column name -> Value Code identifier (canonical spelling)
    comments: dict[str, str]
    organisation_column: str | None
    role_column: str | None
    respondent_id: str | None
    keep_columns: frozenset[str]  # lower-cased names

    def keeps(self, column: Column) -> bool:
        """The configuration lists this column in ``keep_columns`` (by any of its names)."""
        return any(n.lower() in self.keep_columns for n in column.names())


def parse_options(source: SourceSpec, ctx: ConnectorContext) -> Options:
    where = f"source {source.key!r}: options"
    options = source.options
    unknown = sorted(set(options) - settings.OPTION_NAMES)
    if unknown:
        raise ConfigError(
            f"{where}: unknown option {unknown[0]!r} for connector {settings.NAME!r} "
            f"(known: {', '.join(sorted(settings.OPTION_NAMES))})"
        )
    codes = {code.lower(): code for code in ctx.value_codes}

    def mapping(name: str) -> dict[str, str] | None:
        value = options.get(name)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}.{name}: must be a mapping of column -> Value Code")
        result: dict[str, str] = {}
        for column, code in value.items():
            if not isinstance(column, str | int) or not isinstance(code, str):
                raise ConfigError(
                    f"{where}.{name}.{column}: must map a column name to a Value Code identifier"
                )
            if code.strip().lower() not in codes:
                raise ConfigError(
                    f"{where}.{name}.{column}: {code!r} is not a Value Code of this cycle's library"
                )
            result[str(column)] = codes[code.strip().lower()]
        return result

    def column(name: str) -> str | None:
        value = options.get(name)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}.{name}: must be a column name (export tag or ImportId)")
        return value or None

    keep = options.get("keep_columns") or []
    if not isinstance(keep, list | tuple) or not all(isinstance(k, str) for k in keep):
        raise ConfigError(f"{where}.keep_columns: must be a list of column names")
    return Options(
        questions=mapping("questions"),
        comments=mapping("comments") or {},
        organisation_column=column("organisation_column"),
        role_column=column("role_column"),
        respondent_id=column("respondent_id"),
        keep_columns=frozenset(k.lower() for k in [*keep, *ctx.keep_columns]),
    )


# --------------------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    position: int  # 1-based, as a spreadsheet counts columns
    key: str  # ImportId (+ "#choiceId"), legacy row-1 name; unique within the file
    export_tag: str  # row 1 as written
    label: str  # row 2 as written (localised: shown, never matched)
    import_id: str | None
    field: str | None  # metadata field (settings.IMPORT_ID_FIELDS values) or None
    legacy_name: str | None  # legacy export: the name row 2 gives a V-column

    @property
    def display(self) -> str:
        """The name a user knows the column by (error messages, removed personal data)."""
        return self.legacy_name or self.export_tag or self.key

    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.key, self.import_id, self.export_tag, self.legacy_name) if n)


def _classify(tag: str, import_id: str | None, legacy: bool) -> tuple[str | None, str | None]:
    """(metadata field, legacy row-2 name) of a column; ImportId first, since tags can be renamed."""
    if legacy:
        return settings.LEGACY_FIELDS.get(tag.strip(), (None, None))
    if import_id:
        return settings.IMPORT_ID_FIELDS.get(import_id), None
    return settings.TAG_FIELDS.get(tag.strip()), None


def make_columns(
    tags: Sequence[str], labels: Sequence[str], import_ids: Sequence[tuple[str, str] | None], legacy: bool
) -> list[Column]:
    """Columns with unique keys; ``import_ids`` holds (ImportId, choiceId) or None per column."""
    columns: list[Column] = []
    seen: Counter[str] = Counter()
    for index, (tag, label, ids) in enumerate(zip(tags, labels, import_ids, strict=True)):
        position = index + 1
        import_id = ids[0] if ids else None
        if ids:
            key = ids[0] + (settings.CHOICE_SEPARATOR + ids[1] if ids[1] else "")
        else:
            key = tag.strip() or f"{settings.BLANK_KEY_PREFIX}{position}"
        seen[key] += 1
        if seen[key] > 1:
            key = f"{key}{settings.DUPLICATE_SEPARATOR}{seen[key]}"
        columns.append(Column(position, key, tag, label, import_id, *_classify(tag, import_id, legacy)))
    return columns


def columns_from_landed(frame: pd.DataFrame) -> list[Column]:
    """The columns of a file, rebuilt from its landed ``qualtrics_columns`` rows."""

    def text(value: Any) -> str:
        return "" if value is None or pd.isna(value) else str(value)

    if frame.empty:  # nothing landed (the landing gives a frame without columns then)
        return []
    landed = zip(
        frame["position"],
        frame["column_key"],
        frame["export_tag"],
        frame["label"],
        frame["import_id"],
        strict=True,
    )
    rows = [
        (int(position), text(key), text(tag), text(label), text(import_id) or None)
        for position, key, tag, label, import_id in landed
    ]
    legacy = not any(row[4] for row in rows)
    return [
        Column(position, key, tag, label, import_id, *_classify(tag, import_id, legacy))
        for position, key, tag, label, import_id in sorted(rows)
    ]


def _unlanded_positions(frame: pd.DataFrame) -> set[int]:
    """Positions of columns whose cells were left behind (landings made before the allow-list have none)."""
    if frame.empty or "landed" not in frame.columns:
        return set()
    landed = zip(frame["position"], frame["landed"].astype(object), strict=True)
    return {int(position) for position, flag in landed if not pd.isna(flag) and not bool(flag)}


def find_column(columns: Sequence[Column], name: str, file: str, option: str) -> Column:
    """The one column called ``name``: by column key, then ImportId, then export tag; exact, then any case."""
    for fold in (False, True):
        wanted = name.strip().lower() if fold else name.strip()
        for attribute in ("key", "import_id", "export_tag", "legacy_name"):
            hits = [
                c
                for c in columns
                if (value := getattr(c, attribute)) and (value.lower() if fold else value) == wanted
            ]
            if len(hits) > 1:
                keys = ", ".join(c.key for c in hits)
                raise SourceError(
                    file,
                    f"options.{option}: {name!r} matches {len(hits)} columns ({keys}); "
                    "name one by its column key",
                    1,
                    name,
                )
            if hits:
                return hits[0]
    raise SourceError(
        file,
        f"options.{option}: no column {name!r} in this export "
        "(looked for an ImportId, export tag or column key)",
        1,
        name,
    )


@dataclass(frozen=True)
class ColumnRoles:
    """What happens to each column of a file when it lands."""

    dedicated: dict[str, Column]  # field -> column landed as its own column
    respondent: list[Column]  # candidates for the respondent identity, first non-blank wins
    removed: list[Column]  # personal data, not landed
    cells: list[Column]  # the rest: candidates for the answer plan; only planned or kept ones land


def column_roles(columns: Sequence[Column], options: Options, file: str) -> ColumnRoles:
    legacy = not any(c.import_id for c in columns)
    by_field: dict[str, Column] = {}
    for column in columns:
        if column.field and column.field not in by_field:
            by_field[column.field] = column
    if settings.RESPONSE_ID not in by_field:
        raise SourceError(
            file,
            "no ResponseId column (ImportId _recordId); export the responses with the response id included",
            1,
        )
    dedicated = {f: c for f, c in by_field.items() if f in settings.DEDICATED_FIELDS}
    configured = (
        find_column(columns, options.respondent_id, file, "respondent_id") if options.respondent_id else None
    )
    if configured:
        respondent = [configured, by_field[settings.RESPONSE_ID]]
    else:
        chain = settings.LEGACY_RESPONDENT_FIELDS if legacy else settings.RESPONDENT_FIELDS
        respondent = [by_field[f] for f in chain if f in by_field]

    def personal(column: Column) -> bool:
        if column is configured:  # the raw identity never lands, unless it is the response id itself
            return column.field != settings.RESPONSE_ID
        return column.field in settings.PERSONAL_FIELDS

    removed = [c for c in columns if personal(c) and not options.keeps(c)]
    removed_positions = {c.position for c in removed}
    dedicated_positions = {c.position for c in dedicated.values()}
    cells = [c for c in columns if c.position not in removed_positions | dedicated_positions]
    return ColumnRoles(dedicated, respondent, removed, cells)


@dataclass(frozen=True)
class PlanItem:
    value_code: str
    question: Column | None  # None: the Value Code has only a comment column
    comment: Column | None

    @property
    def source_column(self) -> str:
        column = self.question or self.comment
        return column.export_tag if column else ""


@dataclass(frozen=True)
class AnswerPlan:
    items: list[PlanItem]
    organisation: Column | None
    role: Column | None

    def columns(self) -> list[Column]:
        """Every column the plan reads: organisation, role, then each item's question and comment."""
        per_item = (column for item in self.items for column in (item.question, item.comment))
        return [c for c in (self.organisation, self.role, *per_item) if c]

    def comment_positions(self) -> set[int]:
        return {item.comment.position for item in self.items if item.comment}


def plan_answers(
    columns: Sequence[Column], roles: ColumnRoles, options: Options, value_codes: Sequence[str], file: str
) -> AnswerPlan:
    """Which column answers / comments on which Value Code; every configured column must have landed."""
    removed = {c.position for c in roles.removed}

    def landed(column: Column, option: str) -> Column:
        if column.position in removed:
            raise SourceError(
                file,
                f"options.{option}: column {column.display!r} holds personal data and is "
                "not landed; list it in keep_columns to use it",
                1,
                column.export_tag,
            )
        return column

    def resolve(name: str | None, option: str) -> Column | None:
        return landed(find_column(columns, name, file, option), option) if name else None

    organisation = resolve(options.organisation_column, "organisation_column")
    role = resolve(options.role_column, "role_column")

    def by_code(mapping: Mapping[str, str], option: str, role: str) -> dict[str, Column]:
        """Value Code → its configured column; one column per Value Code."""
        found: dict[str, Column] = {}
        for name, code in mapping.items():
            column = landed(find_column(columns, name, file, option), option)
            if code in found:
                raise SourceError(
                    file,
                    f"options.{option}: two columns ({found[code].display}, {column.display}) {role} {code}",
                    1,
                    column.export_tag,
                )
            found[code] = column
        return found

    comments = by_code(options.comments, "comments", "are the comment of")
    questions: dict[str, Column] = {}
    if options.questions is not None:
        questions = by_code(options.questions, "questions", "answer")
    else:
        codes = {code.lower(): code for code in value_codes}
        taken = {c.position for c in (organisation, role, *comments.values()) if c}
        for column in roles.cells:
            if column.position in taken:
                continue
            names = [n.lower() for n in (column.export_tag.strip(), column.import_id) if n]
            match = next((codes[n] for n in names if n in codes), None)
            if match is None:
                continue
            if match in questions:
                raise SourceError(
                    file,
                    f"two columns ({questions[match].display}, {column.display}) are "
                    f"named after Value Code {match}; map one in options.questions",
                    1,
                    column.export_tag,
                )
            questions[match] = column
    items = [
        PlanItem(code, questions.get(code), comments.get(code))
        for code in value_codes
        if code in questions or code in comments
    ]
    return AnswerPlan(items, organisation, role)


# --------------------------------------------------------------------------------------------------
# Reading an export
# --------------------------------------------------------------------------------------------------

RESPONSES_SCHEMA = pa.schema(
    [
        *LANDING_FIELDS,
        pa.field("status", pa.string()),
        pa.field("finished", pa.string()),
        pa.field("recorded_date", pa.string()),
        pa.field("cells", pa.string(), nullable=False),
    ]
)

COLUMNS_SCHEMA = pa.schema(
    [
        pa.field("cycle", pa.int64(), nullable=False),
        pa.field("source_key", pa.string(), nullable=False),
        pa.field("position", pa.int64(), nullable=False),
        pa.field("column_key", pa.string(), nullable=False),
        pa.field("export_tag", pa.string()),
        pa.field("label", pa.string()),
        pa.field("import_id", pa.string()),
        pa.field("landed", pa.bool_(), nullable=False),  # its cells are in ``cells`` (or a dedicated column)
    ]
)


@dataclass
class Export:
    """A parsed export, ready to land: nothing personal left in the tables."""

    responses: Any = None  # pa.Table with RESPONSES_SCHEMA
    column_table: Any = None  # pa.Table with COLUMNS_SCHEMA
    rows_read: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    pii_removed: list[str] = field(default_factory=list)
    not_landed: list[str] = field(default_factory=list)  # names of the other columns left behind
    scrubbed: Counter[str] = field(default_factory=Counter)


def _import_id(cell: str, file: str, tag: str) -> tuple[str, str] | None:
    """(ImportId, choiceId) from a row-3 cell such as ``{"ImportId":"QID36","choiceId":"1"}``."""
    if is_blank(cell):
        return None
    try:
        value = json.loads(cell)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not isinstance(value.get("ImportId"), str):
        raise SourceError(file, "ImportId cell is not ImportId JSON", settings.HEADER_ROWS, tag)
    if not value["ImportId"].strip():
        return None
    choice = value.get("choiceId")
    return value["ImportId"], "" if choice is None else str(choice)


def _looks_like_import_ids(cells: Sequence[str]) -> bool:
    return any(cell.lstrip().startswith("{") and "ImportId" in cell for cell in cells)


def _header(records: Iterator[tuple[int, list[str]]], file: str) -> list[Column]:
    """Detect the layout (3 header rows, or legacy 2) from the header rows and build the columns."""
    rows: list[list[str]] = []
    for _, cells in records:
        rows.append(cells)
        legacy = bool(rows[0]) and rows[0][0].lstrip("\ufeff").strip() == settings.LEGACY_FIRST_TAG
        if len(rows) == (settings.LEGACY_HEADER_ROWS if legacy else settings.HEADER_ROWS):
            break
    if not rows or not any(c.strip() for c in rows[0]):
        raise SourceError(file, "not a Qualtrics response export: row 1 (export tags) is empty", 1)
    legacy = rows[0][0].lstrip("\ufeff").strip() == settings.LEGACY_FIRST_TAG
    if legacy:
        if len(rows) < settings.LEGACY_HEADER_ROWS:
            raise SourceError(file, "ends after row 1; a legacy Qualtrics export has 2 header rows", 1)
    elif len(rows) < settings.HEADER_ROWS or not _looks_like_import_ids(rows[2]):
        known = {"ResponseID", "StartDate", "EndDate", *settings.TAG_FIELDS}
        if not known.intersection(c.strip() for c in rows[0]):
            raise SourceError(
                file,
                "not a Qualtrics response export: row 1 has neither Qualtrics export "
                "tags (StartDate, ResponseId, ...) nor the legacy V1, V2, ... names",
                1,
            )
        if len(rows) < settings.HEADER_ROWS:
            raise SourceError(
                file, f"ends after row {len(rows)}; a Qualtrics export has 3 header rows", len(rows)
            )
        raise SourceError(
            file,
            'row 3 is not the ImportId row ({"ImportId":...} per column); export '
            "the responses again as CSV from Qualtrics (3 header rows)",
            3,
        )
    rows[0][0] = rows[0][0].lstrip("\ufeff")
    width = max((max((i + 1 for i, c in enumerate(r) if c.strip()), default=0) for r in rows), default=0)
    tags, labels, *rest = (fit_row(r, width, file, n + 1) for n, r in enumerate(rows))
    import_ids: list[tuple[str, str] | None] = [None] * width
    if not legacy:
        import_ids = [_import_id(c, file, t) for c, t in zip(rest[0], tags, strict=True)]
    return make_columns(tags, labels, import_ids, legacy)


def _row_kind(status: str, channel: str) -> str | None:
    """'preview' / 'test' for rows Qualtrics marks as such, None for real responses."""
    status, channel = status.strip().lower(), channel.strip().lower()
    if status in settings.PREVIEW_STATUSES or channel == settings.PREVIEW_CHANNEL:
        return "preview"
    if status in settings.TEST_STATUSES or channel == settings.TEST_CHANNEL:
        return "test"
    return None


def read_export(source: SourceSpec, ctx: ConnectorContext) -> Export:
    """Parse the whole file (every problem raises before anything is yielded) into landing tables."""
    file = source.path.name
    options = parse_options(source, ctx)
    records = iter_records(read_text(source.path), file)
    columns = _header(records, file)
    roles = column_roles(columns, options, file)
    plan = plan_answers(columns, roles, options, ctx.value_codes, file)  # configured columns exist
    # The allow-list: only what the plan reads, and what the configuration explicitly keeps, lands.
    planned = {c.position for c in plan.columns()}
    landed_cells = [c for c in roles.cells if c.position in planned or options.keeps(c)]
    comments = plan.comment_positions()
    width = len(columns)
    response_col = roles.dedicated[settings.RESPONSE_ID]
    status_col = roles.dedicated.get(settings.STATUS)
    finished_col = roles.dedicated.get(settings.FINISHED)
    recorded_col = roles.dedicated.get(settings.RECORDED_DATE)
    channel_col = next((c for c in columns if c.field == settings.DISTRIBUTION_CHANNEL), None)
    cell_index = [(c.position - 1, c.key, c.position in comments) for c in landed_cells]
    respondent_index = [c.position - 1 for c in roles.respondent]

    out: dict[str, list[Any]] = {name: [] for name in RESPONSES_SCHEMA.names}
    seen: dict[str, int] = {}
    export = Export()
    for row, raw in records:
        if not any(c.strip() for c in raw):
            continue  # an empty line is no response
        cells = fit_row(raw, width, file, row)
        export.rows_read += 1
        kind = _row_kind(
            cells[status_col.position - 1] if status_col else "",
            cells[channel_col.position - 1] if channel_col else "",
        )
        if kind:
            export.dropped[kind] += 1
            continue
        response_id = cells[response_col.position - 1].strip()
        if not response_id:
            raise SourceError(file, "response id is blank", row, response_col.export_tag)
        if response_id in seen:
            raise SourceError(
                file,
                f"the same response id appears twice (first in row {seen[response_id]})",
                row,
                response_col.export_tag,
            )
        seen[response_id] = row
        identity = next(v for i in respondent_index if (v := cells[i].strip()) or i == respondent_index[-1])
        out["source_row"].append(row)
        out["response_id"].append(response_id)
        out["respondent_key"].append(ctx.pseudonymise(identity))
        out["status"].append(cells[status_col.position - 1] if status_col else None)
        out["finished"].append(cells[finished_col.position - 1] if finished_col else None)
        out["recorded_date"].append(cells[recorded_col.position - 1] if recorded_col else None)
        landed: dict[str, str] = {}
        for i, key, is_comment in cell_index:
            if cells[i].strip():
                landed[key] = _scrubbed(cells[i], export.scrubbed) if is_comment else cells[i]
        out["cells"].append(json.dumps(landed, ensure_ascii=False, separators=(",", ":")))
    landed_positions = {c.position for c in (*roles.dedicated.values(), *landed_cells)}
    count = len(out["source_row"])
    out["cycle"] = [ctx.cycle] * count
    out["source_key"] = [source.key] * count
    out["source_file"] = [file] * count
    export.responses = pa.Table.from_pydict(out, schema=RESPONSES_SCHEMA)
    export.column_table = pa.Table.from_pydict(
        {
            "cycle": [ctx.cycle] * width,
            "source_key": [source.key] * width,
            "position": [c.position for c in columns],
            "column_key": [c.key for c in columns],
            "export_tag": [c.export_tag for c in columns],
            "label": [c.label for c in columns],
            "import_id": [c.import_id for c in columns],
            "landed": [c.position in landed_positions for c in columns],
        },
        schema=COLUMNS_SCHEMA,
    )
    export.pii_removed = [c.display for c in roles.removed]
    removed = {c.position for c in roles.removed}
    export.not_landed = [c.display for c in columns if c.position not in landed_positions | removed]
    return export


def _scrubbed(text: str, counts: Counter[str]) -> str:
    clean, found = scrub_counted(text)
    counts.update(found)
    return clean


# --------------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------------


def _objects(items: Sequence[Any]) -> np.ndarray:
    values = np.empty(len(items), dtype=object)
    values[:] = items
    return values


def _arrow_objects(array: Any) -> np.ndarray:
    """Arrow strings as an object array with None for null, one Python str per *distinct* value."""
    encoded = pc.dictionary_encode(array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array)
    lookup = _objects([*encoded.dictionary.to_pylist(), None])
    indices: np.ndarray = encoded.indices.fill_null(len(lookup) - 1).to_numpy()
    return lookup[indices]  # type: ignore[no-any-return]


def _cell_values(cells: pd.Series, keys: Sequence[str]) -> dict[str, Any]:
    """Pull ``keys`` out of the ``cells`` JSON strings as Arrow string arrays, in one vectorised pass."""
    if not keys:
        return {}
    lines = cells.astype(object).where(cells.notna(), "{}")
    payload = "\n".join(lines.tolist()).encode()
    longest = int(lines.str.len().max())
    table = pa_json.read_json(
        io.BytesIO(payload),
        read_options=pa_json.ReadOptions(block_size=max(1 << 22, 4 * longest + 16)),
        parse_options=pa_json.ParseOptions(
            explicit_schema=pa.schema([(key, pa.string()) for key in keys]),
            unexpected_field_behavior="ignore",
        ),
    )
    return {key: table.column(key).combine_chunks() for key in keys}


def long_answers(
    landed: Mapping[str, pd.DataFrame], source: SourceSpec, ctx: ConnectorContext
) -> pd.DataFrame:
    """One row per response × mapped Value Code, built column-wise (no per-cell Python)."""
    file = source.path.name
    options = parse_options(source, ctx)
    columns = columns_from_landed(landed[settings.COLUMNS_TABLE])
    if not columns:
        raise SourceError(file, "no landed columns for this source and cycle; land the file first")
    roles = column_roles(columns, options, file)
    plan = plan_answers(columns, roles, options, ctx.value_codes, file)
    if not plan.items:
        raise SourceError(
            file,
            "no column maps to a Value Code: set options.questions, or give questions "
            "export tags equal to Value Code identifiers",
            1,
        )
    unlanded = _unlanded_positions(landed[settings.COLUMNS_TABLE])
    missing = next((c for c in plan.columns() if c.position in unlanded), None)
    if missing is not None:
        raise SourceError(
            file,
            f"column {missing.display!r} was not landed when this file was read (nothing mapped it "
            "then); run again with --force to read the file with the new mapping",
            1,
            missing.export_tag,
        )
    responses = landed[settings.RESPONSES_TABLE]
    if responses.empty:
        return empty_answers()
    responses = responses.sort_values("source_row", kind="stable")
    n, m = len(responses), len(plan.items)
    dedicated = {c.position: settings.DEDICATED_FIELDS[f] for f, c in roles.dedicated.items()}
    from_cells = _cell_values(
        responses["cells"],
        list(dict.fromkeys(c.key for c in plan.columns() if c.position not in dedicated)),
    )
    nothing = pa.nulls(n, pa.string())

    def arrow(column: Column | None) -> Any:
        if column is None:
            return nothing
        if column.position in dedicated:
            values = pa.array(texts(responses[dedicated[column.position]]), pa.string())
            return pc.if_else(pc.equal(pc.utf8_trim_whitespace(values), ""), None, values)
        return from_cells[column.key]

    # response-major order: output row i*m + j is response i, item j; item j's values sit at j*n + i
    order = (np.arange(m)[np.newaxis, :] * n + np.arange(n)[:, np.newaxis]).ravel()

    def matrix(kind: str) -> np.ndarray:
        stacked = pa.concat_arrays([arrow(getattr(item, kind)) for item in plan.items])
        return _arrow_objects(stacked.take(pa.array(order)))

    def per_response(values: np.ndarray) -> np.ndarray:
        return np.repeat(values, m)

    return answer_frame(
        {
            "source_key": np.full(n * m, source.key, dtype=object),
            "source_file": per_response(texts(responses["source_file"])),
            "source_row": per_response(responses["source_row"].to_numpy(dtype="int64")),
            "source_column": np.tile(_objects([item.source_column for item in plan.items]), n),
            "response_id": per_response(texts(responses["response_id"])),
            "respondent_key": per_response(texts(responses["respondent_key"])),
            "organisation": per_response(_arrow_objects(arrow(plan.organisation))),
            "role": per_response(_arrow_objects(arrow(plan.role))),
            "value_code": np.tile(_objects([item.value_code for item in plan.items]), n),
            "value": matrix("question"),
            "comment": matrix("comment"),
        }
    )
