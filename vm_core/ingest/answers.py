"""Landed rows → answers (respondent × Value Code) over the few distinct values, batch by batch.

A landed batch is read with its answer, organisation and role columns dictionary-encoded.
Mapping works on the few *distinct* values, in Python, with the rules of
:mod:`vm_core.ingest.mapping` — organisation → party, (party, role) → perspective, (Value Code,
answer text) → level — each interned once per load (:class:`Distinct`). A cell's level, party
and reason are then integer gathers through those small tables, never a string operation per
cell. Cells come respondent-major: all of a landed row's answers, then the next row's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vm_core.ingest.connector import AnswerPlan
from vm_core.ingest.contract import contract_reason
from vm_core.ingest.mapping import (
    BLANK,
    UNRECOGNISED,
    LevelParser,
    PartyRule,
    PerspectiveRule,
    match_party,
    match_perspective,
)

UNKNOWN_VALUE_CODE = "Value Code is not in this cycle's library version"
NO_ORGANISATION = "no organisation given"
#: why an answer is set aside when its source's participant list does not have the respondent
NOT_LISTED = "respondent is not on the participant list"
NONE = -1  # "no reason" / "no value" in the integer tables


@dataclass(frozen=True)
class Mapping:
    """Everything modelling needs from the configuration and the library."""

    cycle: int
    value_codes: Sequence[str]
    levels: LevelParser
    parties: Sequence[PartyRule]
    perspectives: Sequence[PerspectiveRule]
    #: one survey per party: every respondent is this party's (their organisation is not read)
    party: str | None = None
    #: the organisation comes from a participant list: a null one means "not on the list"
    listed: bool = False


# ------------------------------------------------------------------ the few distinct values


class Interned:
    """Interned values → small integers, so that every per-cell question is an array gather."""

    def __init__(self) -> None:
        self.values: list[str | None] = []
        self._ids: dict[str | None, int] = {}

    def id(self, value: str | None) -> int:
        found = self._ids.get(value)
        if found is None:
            found = self._ids[value] = len(self.values)
            self.values.append(value)
        return found

    def dictionary(self, indices: np.ndarray) -> pa.DictionaryArray:
        """``indices`` (ids, or :data:`NONE`) as a dictionary array; a None value is a null."""
        none = np.array([v is None for v in self.values] + [True])
        mask = none[indices]  # NONE picks the appended True
        dictionary = pa.array(["" if v is None else v for v in self.values], pa.string())
        return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32(), mask=mask), dictionary)


class Distinct:
    """The distinct Value Codes, answers and (organisation, role) pairs of a load, each mapped once."""

    def __init__(self, mapping: Mapping):
        self.mapping = mapping
        self.known = set(mapping.value_codes)
        self.reasons = Interned()
        self.codes = Interned()
        self.parties = Interned()
        self.perspectives = Interned()
        self._outcomes: dict[tuple[str | None, str | None], int] = {}
        # per answer outcome: level (0: none), blank, reason ids of checks 3 and 6
        self.level: list[int] = []
        self.blank: list[bool] = []
        self.unrecognised: list[int] = []
        self.out_of_range: list[int] = []
        self._groups: dict[tuple[str | None, str | None], int] = {}
        # per group: party id, perspective id, reason id of check 2
        self.party: list[int] = []
        self.perspective: list[int] = []
        self.party_reason: list[int] = []
        names = ", ".join(rule.party for rule in mapping.parties)
        self._no_party = f"organisation matches no party ({names})"

    def code(self, value_code: str | None) -> int:
        return self.codes.id(value_code)

    def code_unknown(self) -> np.ndarray:
        return np.array([c not in self.known for c in self.codes.values], bool)

    def outcome(self, value_code: str | None, value: str | None) -> int:
        """The id of the parsed answer ``value`` to ``value_code``."""
        key = (value_code, value)
        found = self._outcomes.get(key)
        if found is not None:
            return found
        parsed = self.mapping.levels.parse(value_code, value)
        number = parsed if isinstance(parsed, int) else None
        unrecognised = (
            f"answer is not a level 1–5, a level label or statement of {value_code}, "
            "nor listed under `levels:`"
            if parsed is UNRECOGNISED
            else None
        )
        out_of_range = None
        if number is not None and number < 1:
            out_of_range = contract_reason("level", "greater_than_or_equal_to(1)")
        elif number is not None and number > 5:
            out_of_range = contract_reason("level", "less_than_or_equal_to(5)")
        found = self._outcomes[key] = len(self.level)
        self.level.append(number if number is not None and 1 <= number <= 5 else 0)
        self.blank.append(parsed is BLANK)
        self.unrecognised.append(NONE if unrecognised is None else self.reasons.id(unrecognised))
        self.out_of_range.append(NONE if out_of_range is None else self.reasons.id(out_of_range))
        return found

    def group(self, organisation: str | None, role: str | None) -> int:
        """The id of a respondent's (organisation, role): its party, perspective or why it has none."""
        key = (organisation, role)
        found = self._groups.get(key)
        if found is not None:
            return found
        party = self.mapping.party or match_party(organisation, self.mapping.parties)
        perspective = match_perspective(party, role, self.mapping.perspectives) if party else None
        reason = None
        if party is None:
            given = organisation is not None and organisation.strip()
            # the organisation text stays out of the reason: reasons are shown unmasked
            reason = self._no_party if given else NO_ORGANISATION
            if organisation is None and self.mapping.listed:
                reason = NOT_LISTED
        found = self._groups[key] = len(self.party)
        self.party.append(NONE if party is None else self.parties.id(party))
        self.perspective.append(NONE if perspective is None else self.perspectives.id(perspective))
        self.party_reason.append(NONE if reason is None else self.reasons.id(reason))
        return found


def _as_dictionary(column: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        return column
    return pc.dictionary_encode(column.cast(pa.string()))


def _ids(column: pa.DictionaryArray, intern: Callable[[str | None], int]) -> np.ndarray:
    """Each row's id, interning the column's few distinct values (a null row is ``intern(None)``)."""
    table = np.array([intern(v) for v in column.dictionary.to_pylist()] + [intern(None)], np.int32)
    indices = column.indices
    if indices.null_count:
        indices = indices.fill_null(len(column.dictionary))
    ids: np.ndarray = table[indices.to_numpy(zero_copy_only=False)]
    return ids


def _pair_ids(
    first: pa.DictionaryArray | None, second: pa.DictionaryArray | None, rows: int,
    intern: Callable[[str | None, str | None], int],
) -> np.ndarray:  # fmt: skip
    """Each row's id of the pair (first, second), interning only the distinct pairs present."""
    codes, values = [], []
    for column in (first, second):
        if column is None:
            codes.append(np.zeros(rows, np.int64))
            values.append([None])
            continue
        indices = column.indices
        if indices.null_count:
            indices = indices.fill_null(len(column.dictionary))
        codes.append(indices.to_numpy(zero_copy_only=False).astype(np.int64))
        values.append([*column.dictionary.to_pylist(), None])
    width = len(values[1])
    distinct, inverse = np.unique(codes[0] * width + codes[1], return_inverse=True)
    table = np.array([intern(values[0][d // width], values[1][d % width]) for d in distinct], np.int32)
    ids: np.ndarray = table[inverse.reshape(-1)]
    return ids


def strings(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary.take(column.indices)
    return column.cast(pa.string())


# ------------------------------------------------------------------ one batch of answers


@dataclass
class Answers:
    """One landed batch's answers (cells), respondent-major: cell → its landed row and its parts."""

    batch: pa.RecordBatch
    row: np.ndarray  # cell → landed row
    code: np.ndarray  # cell → Value Code id
    outcome: np.ndarray  # cell → parsed answer id
    source_column: pa.Array  # per cell (dictionary)
    comment: pa.Array  # per cell
    values: Callable[[np.ndarray], pa.Array]  # the raw answer text of the cells given


def _wide(batch: pa.RecordBatch, plan: AnswerPlan, distinct: Distinct) -> Answers:
    rows, width = batch.num_rows, len(plan.items)
    outcome = np.empty((rows, width), np.int32)
    for i, item in enumerate(plan.items):
        code = item.value_code
        if item.value is None:
            outcome[:, i] = distinct.outcome(code, None)
        else:
            column = _as_dictionary(batch.column(item.value))
            outcome[:, i] = _ids(column, partial(distinct.outcome, code))
    item_codes = np.array([distinct.code(item.value_code) for item in plan.items], np.int32)
    item_index = np.tile(np.arange(width, dtype=np.int32), rows)
    columns = pa.array([item.source_column for item in plan.items], pa.string())
    with_comment = [(i, item.comment) for i, item in enumerate(plan.items) if item.comment]
    if with_comment:
        texts = pa.concat_arrays(
            [strings(batch.column(name)) for _, name in with_comment] + [pa.nulls(1, pa.string())]
        )
        where = np.full((rows, width), len(texts) - 1, np.int64)
        for n, (i, _) in enumerate(with_comment):
            where[:, i] = n * rows + np.arange(rows)
        comment = texts.take(pa.array(where.reshape(-1)))
    else:
        comment = pa.nulls(rows * width, pa.string())

    def values(cells: np.ndarray) -> pa.Array:
        texts = pa.concat_arrays(
            [
                strings(batch.column(item.value)) if item.value else pa.nulls(rows, pa.string())
                for item in plan.items
            ]
        )
        return texts.take(pa.array((cells % width) * rows + cells // width))

    return Answers(
        batch,
        np.repeat(np.arange(rows, dtype=np.int64), width),
        np.tile(item_codes, rows),
        outcome.reshape(-1),
        pa.DictionaryArray.from_arrays(pa.array(item_index, pa.int32()), columns),
        comment,
        values,
    )


def _long(batch: pa.RecordBatch, plan: AnswerPlan, distinct: Distinct) -> Answers:
    assert plan.value_code is not None
    assert plan.value is not None
    rows = batch.num_rows
    code_column = _as_dictionary(batch.column(plan.value_code))
    value_column = _as_dictionary(batch.column(plan.value))
    name = pa.array([plan.source_column or plan.value], pa.string())
    return Answers(
        batch,
        np.arange(rows, dtype=np.int64),
        _ids(code_column, distinct.code),
        _pair_ids(code_column, value_column, rows, distinct.outcome),
        pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int32)), name),
        strings(batch.column(plan.comment)) if plan.comment else pa.nulls(rows, pa.string()),
        lambda cells: strings(batch.column(plan.value)).take(pa.array(cells)),
    )


@dataclass
class Respondents:
    """One batch's landed rows: who answered, and in which group."""

    key: pa.Array  # respondent_key (a null key is "")
    key_bad: np.ndarray  # check 5
    group: np.ndarray  # row → group id
    role: pa.DictionaryArray
    source_file: pa.DictionaryArray


def _who(batch: pa.RecordBatch, plan: AnswerPlan, distinct: Distinct) -> Respondents:
    rows = batch.num_rows
    key = strings(batch.column("respondent_key")).fill_null("")
    organisation = _as_dictionary(batch.column(plan.organisation)) if plan.organisation else None
    role = (
        _as_dictionary(batch.column(plan.role))
        if plan.role
        else pa.DictionaryArray.from_arrays(pa.nulls(rows, pa.int32()), pa.array([], pa.string()))
    )
    return Respondents(
        key,
        pc.not_equal(pc.utf8_length(key), 64).to_numpy(zero_copy_only=False),
        _pair_ids(organisation, role if plan.role else None, rows, distinct.group),
        role,
        _as_dictionary(batch.column("source_file")),
    )


def cells(batch: pa.RecordBatch, plan: AnswerPlan, distinct: Distinct) -> tuple[Answers, Respondents]:
    answers = (_long if plan.long else _wide)(batch, plan, distinct)
    return answers, _who(batch, plan, distinct)


def answers_table(table: pa.Table, plan: AnswerPlan, source_key: str) -> pa.Table:
    """What modelling reads from landed rows: one row per respondent × Value Code, unmapped."""
    parts = []
    for batch in table.to_batches():
        answers = (_long if plan.long else _wide)(batch, plan, Distinct(_UNMAPPED))
        rows = pa.array(answers.row)
        every = np.arange(len(answers.row))
        parts.append(
            pa.table(
                {
                    "source_key": pa.array([source_key] * len(every), pa.string()),
                    "source_file": strings(batch.column("source_file")).take(rows),
                    "source_row": batch.column("source_row").take(rows),
                    "respondent_key": strings(batch.column("respondent_key")).take(rows),
                    "organisation": (strings(batch.column(plan.organisation)).take(rows)
                                     if plan.organisation else pa.nulls(len(every), pa.string())),
                    "role": (strings(batch.column(plan.role)).take(rows)
                             if plan.role else pa.nulls(len(every), pa.string())),
                    "value_code": (strings(batch.column(plan.value_code)) if plan.long
                                   else pa.array([item.value_code for item in plan.items] * batch.num_rows)),
                    "source_column": strings(answers.source_column),
                    "value": answers.values(every),
                    "comment": answers.comment,
                }
            )
        )  # fmt: skip
    return pa.concat_tables(parts) if parts else pa.table({})


#: no rules: every answer is parsed for its text only
_UNMAPPED = Mapping(cycle=0, value_codes=(), levels=LevelParser({}, {}), parties=(), perspectives=())
