"""Reading a Qualtrics response CSV export as received, into the landed responses table.

Reading is strict about the shape of the file (one :class:`~vm_core.errors.SourceError` naming
file, spreadsheet row and column) and lenient about what Qualtrics legitimately varies:
localised labels, blank or repeated header names, trailing commas, cells with line breaks.
The header is read record by record; the data rows stream in Arrow batches (connectors.common).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from connectors.common import (
    LANDING_FIELDS,
    Candidate,
    Candidates,
    Header,
    Readable,
    all_blank,
    blank_to_null,
    check_unique_ids,
    fit_row,
    is_blank,
    is_blank_array,
    read_csv_batches,
    read_header,
    recognised_as,
)
from connectors.options import ColumnOptions, parse_column_options
from connectors.qualtrics_csv import settings
from vm_core.errors import SourceError
from vm_core.ingest.connector import (
    AnswerPlan,
    ConnectorContext,
    Delivery,
    FreeTextColumn,
    LandedTable,
    PlanItem,
    SourceSpec,
)
from vm_core.ingest.scrub import scrub_array

# --------------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------------


Options = ColumnOptions


def parse_options(source: SourceSpec, ctx: ConnectorContext) -> Options:
    return parse_column_options(source, ctx, settings.NAME, settings.OPTION_NAMES)


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

    removed = [c for c in columns if personal(c) and not options.keeps(*c.names())]
    removed_positions = {c.position for c in removed}
    dedicated_positions = {c.position for c in dedicated.values()}
    cells = [c for c in columns if c.position not in removed_positions | dedicated_positions]
    return ColumnRoles(dedicated, respondent, removed, cells)


@dataclass(frozen=True)
class ColumnItem:
    value_code: str
    question: Column | None  # None: the Value Code has only a comment column
    comment: Column | None

    @property
    def source_column(self) -> str:
        column = self.question or self.comment
        return column.export_tag if column else ""


@dataclass(frozen=True)
class ColumnPlan:
    items: list[ColumnItem]
    organisation: Column | None
    role: Column | None
    free_text: list[Column]  # free-text columns no Value Code covers

    def columns(self) -> list[Column]:
        """Every column the plan reads: organisation, role, each item's question and comment, free text."""
        per_item = (column for item in self.items for column in (item.question, item.comment))
        return [c for c in (self.organisation, self.role, *per_item, *self.free_text) if c]

    def comment_positions(self) -> set[int]:
        """Columns of free text written by respondents (scrubbed before they land)."""
        return {item.comment.position for item in self.items if item.comment} | {
            column.position for column in self.free_text
        }


def plan_answers(
    columns: Sequence[Column], roles: ColumnRoles, options: Options, value_codes: Sequence[str], file: str
) -> ColumnPlan:
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
    free_text = [
        landed(find_column(columns, name, file, "free_text"), "free_text") for name in options.free_text
    ]
    questions: dict[str, Column] = {}
    if options.questions is not None:
        questions = by_code(options.questions, "questions", "answer")
    else:
        codes = {code.lower(): code for code in value_codes}
        taken = {c.position for c in (organisation, role, *comments.values(), *free_text) if c}
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
    read = [c.position for c in (organisation, role, *comments.values(), *questions.values()) if c]
    for index, column in enumerate(free_text):
        if column.position in read or column in free_text[:index]:
            raise SourceError(
                file,
                f"options.free_text: column {column.display!r} is listed twice, or read as a question, "
                "comment, organisation or role column too",
                1,
                column.export_tag,
            )
    items = [
        ColumnItem(code, questions.get(code), comments.get(code))
        for code in value_codes
        if code in questions or code in comments
    ]
    return ColumnPlan(items, organisation, role, free_text)


# --------------------------------------------------------------------------------------------------
# Reading an export
# --------------------------------------------------------------------------------------------------

COLUMNS_SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("position", pa.int64(), nullable=False),
        pa.field("column_key", pa.string(), nullable=False),
        pa.field("export_tag", pa.string()),
        pa.field("label", pa.string()),
        pa.field("import_id", pa.string()),
        pa.field("landed", pa.string()),  # the landed column holding its cells (None: left behind)
    ]
)


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


def _header_complete(rows: list[list[str]]) -> bool:
    legacy = bool(rows[0]) and rows[0][0].lstrip("\ufeff").strip() == settings.LEGACY_FIRST_TAG
    return len(rows) >= (settings.LEGACY_HEADER_ROWS if legacy else settings.HEADER_ROWS)


def read_columns(path: Path) -> tuple[Header, list[Column], int]:
    """The file's header, its columns, and how many cells a record has (trailing commas included)."""
    file = path.name
    header = read_header(path, ",", None, _header_complete)
    rows = [list(r) for r in header.records]
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
    raw_width = max(len(r) for r in rows)
    return header, make_columns(tags, labels, import_ids, legacy), raw_width


def starter_candidates(path: Path) -> Candidates:
    """The columns a starter configuration offers: all but Qualtrics' own (metadata, Text iQ).

    Each is named by its export tag (``Q16``), or by its column key where the tag is repeated.
    """
    header, columns, width = read_columns(path)
    tags = Counter(c.export_tag.strip() for c in columns)
    found = [
        Candidate(
            c.export_tag.strip() if tags[c.export_tag.strip()] == 1 and c.export_tag.strip() else c.key,
            c.label.strip() or c.display,
            (c.position,),
        )
        for c in columns
        if c.field is None and not _system(c)
    ]
    return Candidates(Readable(path, "utf-8"), header, width, found)


def _system(column: Column) -> bool:
    if column.import_id:
        return column.import_id in settings.SYSTEM_IMPORT_IDS or settings.TEXT_IQ_MARK in column.import_id
    return column.export_tag.strip() in settings.SYSTEM_TAGS


#: provenance and status columns of the landed responses table, before the landed cells
BASE_FIELDS = (
    *LANDING_FIELDS,
    pa.field("status", pa.string()),
    pa.field("finished", pa.string()),
    pa.field("recorded_date", pa.string()),
)
_BASE_NAMES = frozenset(f.name for f in BASE_FIELDS)


@dataclass(frozen=True)
class Layout:
    """What one file contributes: its columns, their roles, the plan, and the landed schema."""

    path: Path
    header: Header
    width: int  # cells per record (pyarrow needs them all named)
    columns: list[Column]
    roles: ColumnRoles
    plan: ColumnPlan
    landed_cells: list[Column]  # planned or kept cells, in file order
    comments: set[int]  # positions of comment columns (scrubbed)

    def landed_name(self, column: Column) -> str:
        """The landed column holding this column's cells."""
        for name, dedicated in self.roles.dedicated.items():
            if dedicated.position == column.position:
                return settings.DEDICATED_FIELDS[name]
        return column.key + ("~" if column.key in _BASE_NAMES else "")

    @property
    def schema(self) -> pa.Schema:
        return pa.schema(
            [*BASE_FIELDS, *(pa.field(self.landed_name(c), pa.string()) for c in self.landed_cells)]
        )


def layout(path: Path, options: Options, value_codes: Sequence[str]) -> Layout:
    file = path.name
    with recognised_as(path, settings.NAME):
        header, columns, width = read_columns(path)
        roles = column_roles(columns, options, file)
    plan = plan_answers(columns, roles, options, value_codes, file)
    if not plan.items:
        raise SourceError(
            file,
            "no column maps to a Value Code: set options.questions, or give questions "
            "export tags equal to Value Code identifiers",
            1,
        )
    # The allow-list: only what the plan reads, and what the configuration explicitly keeps, lands.
    planned = {c.position for c in plan.columns()}
    landed_cells = [c for c in roles.cells if c.position in planned or options.keeps(*c.names())]
    return Layout(path, header, width, columns, roles, plan, landed_cells, plan.comment_positions())


def answer_plan(first: Layout) -> AnswerPlan:
    """The connector-neutral plan: which landed column answers or comments on which Value Code."""

    def name(column: Column | None) -> str | None:
        return first.landed_name(column) if column else None

    return AnswerPlan(
        table=settings.RESPONSES_TABLE,
        organisation=name(first.plan.organisation),
        role=name(first.plan.role),
        items=tuple(
            PlanItem(item.value_code, name(item.question), name(item.comment), item.source_column)
            for item in first.plan.items
        ),
        free_text=tuple(
            FreeTextColumn(first.landed_name(column), column.label.strip() or column.display)
            for column in first.plan.free_text
        ),
    )


def deliver(source: SourceSpec, ctx: ConnectorContext) -> Delivery:
    """The delivery of a source's file(s): the layout of every file is checked before anything streams."""
    options = parse_options(source, ctx)
    layouts = [layout(path, options, ctx.value_codes) for path in source.files()]
    first = layouts[0]
    for other in layouts[1:]:
        if other.schema != first.schema:
            raise SourceError(
                other.path.name,
                f"its columns differ from {first.path.name}'s (the files of one source must be exports "
                "of the same survey with the same columns)",
                1,
            )
    report = ctx.report
    for one in layouts:
        report.pii_columns_removed.extend(c.display for c in one.roles.removed)
        landed = {c.position for c in (*one.roles.dedicated.values(), *one.landed_cells)}
        removed = {c.position for c in one.roles.removed}
        report.columns_not_landed.extend(c.display for c in one.columns if c.position not in landed | removed)
    seen: dict[str, tuple[str, int]] = {}
    responses = LandedTable(
        settings.RESPONSES_TABLE,
        first.schema,
        (batch for one in layouts for batch in _responses(one, ctx, seen)),
    )
    columns = LandedTable(settings.COLUMNS_TABLE, COLUMNS_SCHEMA, [_column_batch(one) for one in layouts])
    return Delivery((responses, columns), answer_plan(first))


def _column_batch(one: Layout) -> pa.RecordBatch:
    landed = {c.position: one.landed_name(c) for c in (*one.roles.dedicated.values(), *one.landed_cells)}
    return pa.RecordBatch.from_pydict(
        {
            "source_file": [one.path.name] * len(one.columns),
            "position": [c.position for c in one.columns],
            "column_key": [c.key for c in one.columns],
            "export_tag": [c.export_tag for c in one.columns],
            "label": [c.label for c in one.columns],
            "import_id": [c.import_id for c in one.columns],
            "landed": [landed.get(c.position) for c in one.columns],
        },
        schema=COLUMNS_SCHEMA,
    )


def _responses(
    one: Layout, ctx: ConnectorContext, seen: dict[str, tuple[str, int]]
) -> Iterator[pa.RecordBatch]:
    """The file's landed response rows, batch by batch (preview and test responses dropped)."""
    file = one.path.name
    dedicated = one.roles.dedicated
    response_col = dedicated[settings.RESPONSE_ID]
    channel_col = next((c for c in one.columns if c.field == settings.DISTRIBUTION_CHANNEL), None)
    respondent = one.roles.respondent
    wanted = sorted(
        {
            c.position
            for c in (*dedicated.values(), *one.landed_cells, *respondent, channel_col)
            if c is not None
        }
    )

    def raw(batch: pa.RecordBatch, column: Column | None) -> pa.Array | None:
        return batch.column(f"c{column.position}") if column else None

    for batch in read_csv_batches(one.path, one.header, one.width, wanted):
        no_id = is_blank_array(raw(batch, response_col))
        if pc.any(no_id).as_py():
            # a record blank in every column vm reads is no response (e.g. a trailing ",,,," line)
            empty = pc.and_(no_id, all_blank([batch.column(f"c{p}") for p in wanted]))
            batch = batch.filter(pc.invert(empty))
        ctx.report.rows_read += batch.num_rows
        status, channel = raw(batch, dedicated.get(settings.STATUS)), raw(batch, channel_col)
        kinds = _row_kinds(status, channel, batch.num_rows)
        for kind in ("preview", "test"):
            dropped = pc.sum(pc.equal(kinds, kind)).as_py() or 0
            if dropped:
                ctx.report.dropped[kind] += dropped
        batch = batch.filter(pc.is_null(kinds))
        if not batch.num_rows:
            continue
        rows = batch.column("source_row")
        response_ids = pc.utf8_trim_whitespace(raw(batch, response_col))
        blank = is_blank_array(response_ids)
        if pc.any(blank).as_py():
            at = rows[pc.index(blank, True).as_py()].as_py()
            raise SourceError(file, "response id is blank", at, response_col.export_tag)
        check_unique_ids(response_ids.to_pylist(), rows.to_pylist(), file, seen, response_col.export_tag)
        identity = pc.coalesce(*(blank_to_null(raw(batch, c)) for c in respondent), response_ids)
        keys = pa.array(ctx.pseudonymise_many(identity.to_pylist()), pa.string())
        columns: dict[str, pa.Array] = {
            "source_file": pa.array([file] * batch.num_rows, pa.string()),
            "source_row": rows,
            "response_id": response_ids,
            "respondent_key": keys,
        }
        for name in ("status", "finished", "recorded_date"):
            field = next(f for f, n in settings.DEDICATED_FIELDS.items() if n == name)
            column = dedicated.get(field)
            columns[name] = raw(batch, column) if column else pa.nulls(batch.num_rows, pa.string())
        for column in one.landed_cells:
            values = blank_to_null(raw(batch, column))
            if column.position in one.comments:
                values = scrub_array(values, ctx.report.scrubbed)
            columns[one.landed_name(column)] = values
        yield pa.RecordBatch.from_pydict(columns, schema=one.schema)


def _row_kinds(status: pa.Array | None, channel: pa.Array | None, n: int) -> pa.Array:
    """'preview' / 'test' for rows Qualtrics marks as such, null for real responses."""
    kinds = pa.nulls(n, pa.string())
    for kind, statuses, channel_value in (
        ("test", settings.TEST_STATUSES, settings.TEST_CHANNEL),
        ("preview", settings.PREVIEW_STATUSES, settings.PREVIEW_CHANNEL),
    ):  # preview last: it wins where both match, as before
        hit = pa.array([False] * n)
        if status is not None:
            hit = pc.or_(
                hit, pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(status)), pa.array(sorted(statuses)))
            )
        if channel is not None:
            hit = pc.or_(hit, pc.equal(pc.utf8_lower(pc.utf8_trim_whitespace(channel)), channel_value))
        kinds = pc.if_else(hit, pa.scalar(kind), kinds)
    return kinds
