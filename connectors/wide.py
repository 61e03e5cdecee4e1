"""Reading a wide survey export (one row per response) whose columns are named by their question.

SurveyMonkey and Google Forms exports differ in their header only: each connector turns its header
into :class:`Field` s — one column, or a *block* of choice columns read as one answer — and
describes its metadata in a :class:`Format`; finding the configured columns, the allow-list, the
answer plan and the streamed landing are here.

A field is named in the configuration by its key (the question text; ``question | label`` for
one column of a block), compared with :func:`vm_core.ingest.mapping.normalise_text` (case and
runs of spaces do not matter).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from connectors.common import (
    LANDING_FIELDS,
    Candidate,
    Candidates,
    Header,
    NotUtf8Error,
    Readable,
    all_blank,
    blank_to_null,
    check_unique_ids,
    is_blank_array,
    read_csv_batches,
    recognised_as,
)
from connectors.options import ColumnOptions
from vm_core.errors import SourceError
from vm_core.ingest.connector import (
    AnswerPlan,
    ConnectorContext,
    Delivery,
    FreeTextColumn,
    LandedTable,
    PlanItem,
)
from vm_core.ingest.mapping import normalise_text
from vm_core.ingest.scrub import scrub_array

#: joins the labels of a single-answer block when a respondent chose several (never a level: set aside)
SEVERAL = "; "
#: separates a block's question from one column's label in a column key
LABEL_SEPARATOR = " | "
#: suffix making a repeated column key unique (``Q5~2`` for the second ``Q5``)
DUPLICATE_SEPARATOR = "~"
#: key of a column without any header text (``_col7``)
BLANK_KEY_PREFIX = "_col"


@dataclass(frozen=True)
class Field:
    """A column, or a block of choice columns of one question whose one chosen label is the answer."""

    key: str  # unique within the file; what the configuration names it by
    positions: tuple[int, ...]  # 1-based spreadsheet columns
    question: str  # the question text (carried over its block)
    label: str  # the column's own label (choice, matrix row, "Response"); "" for a block
    metadata: str | None = None  # the metadata field it holds (Format.dedicated / personal keys)
    aliases: tuple[str, ...] = ()  # other names that find it

    @property
    def position(self) -> int:
        return self.positions[0]

    @property
    def landed(self) -> str:
        """The landed column holding its cells: ``c<position>``, or ``c<first>_<last>`` for a block."""
        first, last = self.positions[0], self.positions[-1]
        return f"c{first}" if len(self.positions) == 1 else f"c{first}_{last}"

    def names(self) -> tuple[str, ...]:
        return (self.key, *self.aliases)


def unique_keys(keys: Sequence[str]) -> list[str]:
    """``keys`` with ``~2``, ``~3``, … appended to repeats, so every column stays addressable."""
    seen: Counter[str] = Counter()
    out = []
    for key in keys:
        seen[normalise_text(key)] += 1
        count = seen[normalise_text(key)]
        out.append(key if count == 1 else f"{key}{DUPLICATE_SEPARATOR}{count}")
    return out


@dataclass(frozen=True)
class Format:
    """What a connector's export holds besides answers, and where it lands."""

    name: str  # the connector
    responses_table: str
    columns_table: str
    response_id: str  # metadata field of the response id (required)
    dedicated: Mapping[str, str]  # metadata field -> its own landed column (never in the plan's cells)
    respondent_fields: tuple[str, ...]  # default respondent identity: first non-blank of these
    personal_fields: frozenset[str]  # metadata fields that never land unless kept
    #: the response id of a record when it is not a column of its own: (id cells, spreadsheet rows) -> ids
    make_response_ids: Callable[[pa.Array, pa.Array], pa.Array] | None = None


@dataclass(frozen=True)
class Export:
    """One file's header, read by its connector."""

    path: Path  # the file as configured (names and fingerprints)
    text: Readable  # what is read: the file, or its UTF-8 copy
    header: Header
    width: int  # cells per record
    fields: list[Field]  # every single column, then the blocks

    def columns(self) -> list[Field]:
        return sorted((f for f in self.fields if len(f.positions) == 1), key=lambda f: f.position)


def candidates(export: Export) -> Candidates:
    """The fields a starter configuration offers: every one but metadata; a block once, with its columns."""
    singles = {f.position: f for f in export.columns()}
    in_block = {p for f in export.fields if len(f.positions) > 1 for p in f.positions}

    def one(f: Field) -> Candidate:
        return Candidate(f.key, f.question or f.key, f.positions, label=f.label)

    found = [
        Candidate(f.key, f.question, f.positions, tuple(one(singles[p]) for p in f.positions))
        if len(f.positions) > 1
        else one(f)
        for f in export.fields
        if not f.metadata and (len(f.positions) > 1 or f.position not in in_block)
    ]
    found.sort(key=lambda c: c.positions[0])
    return Candidates(export.text, export.header, export.width, found)


def find_field(fields: Sequence[Field], name: str, file: str, option: str) -> Field:
    """The one field called ``name`` (case and spacing ignored)."""
    wanted = normalise_text(str(name))
    hits = [f for f in fields if any(normalise_text(n) == wanted for n in f.names())]
    if len(hits) > 1:
        raise SourceError(
            file,
            f"options.{option}: {name!r} matches {len(hits)} columns; name one as "
            f"'question{LABEL_SEPARATOR}label', or add {DUPLICATE_SEPARATOR}2 for a repeated question",
            1,
            str(name),
        )
    if not hits:
        raise SourceError(file, f"options.{option}: no column {name!r} in this export", 1, str(name))
    return hits[0]


@dataclass(frozen=True)
class Item:
    value_code: str
    question: Field | None
    comment: Field | None


@dataclass(frozen=True)
class Plan:
    items: list[Item]
    organisation: Field | None
    role: Field | None
    free_text: list[Field]

    def fields(self) -> list[Field]:
        per_item = (f for item in self.items for f in (item.question, item.comment))
        return [f for f in (self.organisation, self.role, *per_item, *self.free_text) if f]

    def written(self) -> set[str]:
        """Landed columns of text respondents wrote (scrubbed before they land)."""
        return {i.comment.landed for i in self.items if i.comment} | {f.landed for f in self.free_text}


@dataclass(frozen=True)
class Layout:
    """What one file contributes: its fields, their roles, the plan, and the landed schema."""

    export: Export
    dedicated: dict[str, Field]
    respondent: list[Field]
    removed: list[Field]
    plan: Plan
    landed: list[Field]  # planned or kept fields, in file order
    schema: pa.Schema


def _roles(
    export: Export, fmt: Format, options: ColumnOptions
) -> tuple[dict[str, Field], list[Field], list[Field]]:
    """(dedicated, respondent candidates, removed personal fields) of a file."""
    file = export.path.name
    by_field: dict[str, Field] = {}
    for f in export.columns():
        if f.metadata and f.metadata not in by_field:
            by_field[f.metadata] = f
    dedicated = {m: f for m, f in by_field.items() if m in fmt.dedicated}
    configured = (
        find_field(export.fields, options.respondent_id, file, "respondent_id")
        if options.respondent_id
        else None
    )
    respondent = [by_field[m] for m in fmt.respondent_fields if m in by_field]
    if configured:
        respondent = [configured, *(f for f in respondent if f.metadata == fmt.response_id)]

    def personal(f: Field) -> bool:
        if f is configured:  # the raw identity never lands, unless it is the response id itself
            return f.metadata != fmt.response_id
        return f.metadata in fmt.personal_fields

    removed = [f for f in export.columns() if personal(f) and not options.keeps(*f.names())]
    return dedicated, respondent, removed


def _plan(
    export: Export,
    removed: list[Field],
    dedicated: dict[str, Field],
    options: ColumnOptions,
    codes: Sequence[str],
) -> Plan:
    file = export.path.name
    gone = {f.position for f in removed}

    def resolve(name: str, option: str) -> Field:
        f = find_field(export.fields, name, file, option)
        if gone.intersection(f.positions):
            raise SourceError(
                file,
                f"options.{option}: column {f.key!r} holds personal data and is not landed; "
                "list it in keep_columns to use it",
                1,
                f.key,
            )
        return f

    def by_code(mapping: Mapping[str, str], option: str) -> dict[str, Field]:
        found: dict[str, Field] = {}
        for name, code in mapping.items():
            f = resolve(name, option)
            if code in found:
                raise SourceError(
                    file, f"options.{option}: two columns ({found[code].key}, {f.key}) for {code}", 1, f.key
                )
            found[code] = f
        return found

    organisation = (
        resolve(options.organisation_column, "organisation_column") if options.organisation_column else None
    )
    role = resolve(options.role_column, "role_column") if options.role_column else None
    comments = by_code(options.comments, "comments")
    free_text = [resolve(name, "free_text") for name in options.free_text]
    if options.questions is not None:
        questions = by_code(options.questions, "questions")
    else:  # fields whose question is a Value Code identifier
        lower = {c.lower(): c for c in codes}
        questions = {}
        for f in export.fields:
            code = lower.get(f.key.strip().lower())
            if code and not f.metadata and code not in questions:
                questions[code] = f
    items = [
        Item(code, questions.get(code), comments.get(code))
        for code in codes
        if code in questions or code in comments
    ]
    plan = Plan(items, organisation, role, free_text)
    read: dict[int, Field] = {f.position: f for f in dedicated.values()}
    for f in plan.fields():
        for position in f.positions:
            if position in read and read[position] is not f:
                raise SourceError(
                    file,
                    f"column {position} is read twice (as part of {read[position].key!r} and of {f.key!r}); "
                    "map each column once",
                    1,
                    f.key,
                )
            read[position] = f
    if not plan.items:
        raise SourceError(
            file,
            "no column maps to a Value Code: set options.questions (question text -> Value Code)",
            1,
        )
    return plan


def layout(export: Export, fmt: Format, options: ColumnOptions, codes: Sequence[str]) -> Layout:
    with recognised_as(export.path, fmt.name):
        dedicated, respondent, removed = _roles(export, fmt, options)
        plan = _plan(export, removed, dedicated, options, codes)
    taken = {f.position for f in (*dedicated.values(), *removed)}
    planned = {f.key for f in plan.fields()}
    landed = sorted(
        (
            f
            for f in export.fields
            if (f.key in planned or options.keeps(*f.names())) and not taken.intersection(f.positions)
        ),
        key=lambda f: (f.position, len(f.positions)),
    )
    schema = pa.schema(
        [
            *LANDING_FIELDS,
            *(pa.field(name, pa.string()) for name in fmt.dedicated.values()),
            *(pa.field(f.landed, pa.string()) for f in landed),
        ]
    )
    return Layout(export, dedicated, respondent, removed, plan, landed, schema)


def answer_plan(fmt: Format, first: Layout) -> AnswerPlan:
    def name(f: Field | None) -> str | None:
        return f.landed if f else None

    plan = first.plan
    return AnswerPlan(
        table=fmt.responses_table,
        organisation=name(plan.organisation),
        role=name(plan.role),
        items=tuple(
            PlanItem(
                i.value_code,
                name(i.question),
                name(i.comment),
                (i.question or i.comment or Field("", (0,), "", "")).key,
            )
            for i in plan.items
        ),
        free_text=tuple(FreeTextColumn(f.landed, f.question or f.key) for f in plan.free_text),
    )


COLUMNS_SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("position", pa.int64(), nullable=False),
        pa.field("column_key", pa.string(), nullable=False),
        pa.field("question", pa.string()),
        pa.field("label", pa.string()),
        pa.field("landed", pa.string()),  # the landed column holding its cells (None: left behind)
    ]
)


def deliver(fmt: Format, layouts: list[Layout], ctx: ConnectorContext, hint: str = "") -> Delivery:
    """The delivery of a source's files (every file's layout is checked before anything streams).

    ``hint`` is added to a "not UTF-8" error (a connector with an ``encoding`` option says so).
    """
    first = layouts[0]
    for other in layouts[1:]:
        if other.schema != first.schema:
            raise SourceError(
                other.export.path.name,
                f"its columns differ from {first.export.path.name}'s (the files of one source must be "
                "exports of the same survey with the same columns)",
                1,
            )
    for one in layouts:
        ctx.report.pii_columns_removed.extend(f.key for f in one.removed)
        landed = {p for f in (*one.dedicated.values(), *one.landed) for p in f.positions}
        gone = {f.position for f in one.removed}
        ctx.report.columns_not_landed.extend(
            f.key for f in one.export.columns() if f.position not in landed | gone
        )
    seen: dict[str, tuple[str, int]] = {}
    responses = LandedTable(
        fmt.responses_table,
        first.schema,
        (batch for one in layouts for batch in _responses(fmt, one, ctx, seen, hint)),
    )
    columns = LandedTable(fmt.columns_table, COLUMNS_SCHEMA, [_column_batch(one) for one in layouts])
    return Delivery((responses, columns), answer_plan(fmt, first))


def _column_batch(one: Layout) -> pa.RecordBatch:
    landed: dict[int, str] = {}
    for name, f in one.dedicated.items():
        landed[f.position] = name
    for f in one.landed:
        for position in f.positions:
            landed.setdefault(position, f.landed)
    columns = one.export.columns()
    return pa.RecordBatch.from_pydict(
        {
            "source_file": [one.export.path.name] * len(columns),
            "position": [f.position for f in columns],
            "column_key": [f.key for f in columns],
            "question": [f.question for f in columns],
            "label": [f.label for f in columns],
            "landed": [landed.get(f.position) for f in columns],
        },
        schema=COLUMNS_SCHEMA,
    )


def field_values(batch: pa.RecordBatch, f: Field) -> pa.Array:
    """A field's cells, blanks null; a block's chosen label (several chosen: joined, so never a level)."""
    arrays = [blank_to_null(batch.column(f"c{p}")) for p in f.positions]
    if len(arrays) == 1:
        return arrays[0]
    chosen = pc.coalesce(*arrays)
    count = arrays[0].is_valid().cast(pa.int8())
    for array in arrays[1:]:
        count = pc.add(count, array.is_valid().cast(pa.int8()))
    several = pc.greater(count, 1)
    if not pc.any(several).as_py():
        return chosen
    cells = [a.to_pylist() for a in arrays]
    joined = [
        SEVERAL.join(c for c in (column[i] for column in cells) if c is not None) if many else value
        for i, (many, value) in enumerate(zip(several.to_pylist(), chosen.to_pylist(), strict=True))
    ]
    return pa.array(joined, pa.string())


def _responses(
    fmt: Format, one: Layout, ctx: ConnectorContext, seen: dict[str, tuple[str, int]], hint: str
) -> Iterator[pa.RecordBatch]:
    try:
        yield from _response_batches(fmt, one, ctx, seen)
    except NotUtf8Error as exc:
        raise SourceError(exc.file, exc.message + hint, exc.row, exc.column) from None


def _response_batches(
    fmt: Format, one: Layout, ctx: ConnectorContext, seen: dict[str, tuple[str, int]]
) -> Iterator[pa.RecordBatch]:
    export = one.export
    file = export.path.name
    id_field = one.dedicated.get(fmt.response_id) or next(
        f for f in export.columns() if f.metadata == fmt.response_id
    )
    wanted = sorted(
        {p for f in (id_field, *one.dedicated.values(), *one.landed, *one.respondent) for p in f.positions}
    )
    for batch in read_csv_batches(export.text.path, export.header, export.width, wanted):
        empty = all_blank([batch.column(f"c{p}") for p in wanted])
        if pc.any(empty).as_py():
            batch = batch.filter(pc.invert(empty))  # an empty line, or ",,,,"
        ctx.report.rows_read += batch.num_rows
        if not batch.num_rows:
            continue
        rows = batch.column("source_row")
        ids = pc.utf8_trim_whitespace(batch.column(f"c{id_field.position}"))
        blank = is_blank_array(ids)
        if pc.any(blank).as_py():
            at = rows[pc.index(blank, True).as_py()].as_py()
            raise SourceError(file, f"{id_field.key} is blank", at, id_field.key)
        if fmt.make_response_ids is not None:
            ids = fmt.make_response_ids(ids, rows)
        check_unique_ids(ids.to_pylist(), rows.to_pylist(), file, seen, id_field.key)
        identity = pc.coalesce(*(blank_to_null(batch.column(f"c{f.position}")) for f in one.respondent), ids)
        keys = pa.array(ctx.pseudonymise_many(identity.to_pylist()), pa.string())
        columns: dict[str, pa.Array] = {
            "source_file": pa.array([file] * batch.num_rows, pa.string()),
            "source_row": rows,
            "response_id": ids,
            "respondent_key": keys,
        }
        for metadata, name in fmt.dedicated.items():
            f = one.dedicated.get(metadata)
            columns[name] = field_values(batch, f) if f else pa.nulls(batch.num_rows, pa.string())
        written = one.plan.written()
        for f in one.landed:
            values = field_values(batch, f)
            if f.landed in written:
                values = scrub_array(values, ctx.report.scrubbed)
            columns[f.landed] = values
        yield pa.RecordBatch.from_pydict(columns, schema=one.schema)
