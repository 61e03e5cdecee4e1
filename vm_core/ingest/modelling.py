"""Answers → evaluations, in one columnar pass over Arrow batches, with what fails quarantined.

The connector's :class:`~vm_core.ingest.connector.AnswerPlan` says how landed rows become answers
(respondent × Value Code); :mod:`vm_core.ingest.answers` turns each landed batch into answers
over the few distinct values, mapped once. The evaluation contract
(:class:`vm_core.ingest.contract.EvaluationContract`) is applied as vectorised checks that give
each failing answer the reason validating the whole frame with pandera gives
(``tests/test_contract.py`` checks both ways agree); its first failure wins, in this order —

1. the Value Code is not in the cycle's library version;
2. the organisation matches no party, or none is given;
3. the answer is not a level, a level text nor listed under ``levels:``;
4. a second answer of the same respondent to the same Value Code (the later row is kept);
5. the respondent key is not a 64-character pseudonym;
6. a level outside 1–5.

Good answers stream into one new lake file in the landed rows' order (respondent-major), one
row group per batch, its repeated text columns dictionary-encoded batch by batch; set-aside
answers come back as an Arrow table for the store's quarantine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vm_core.ingest.answers import (
    NO_ORGANISATION,
    NOT_LISTED,
    UNKNOWN_VALUE_CODE,
    Answers,
    Distinct,
    Mapping,
    Respondents,
    cells,
    strings,
)
from vm_core.ingest.connector import AnswerPlan
from vm_core.ingest.contract import QUARANTINE_COLUMNS, contract_reason
from vm_core.lake.storage import ROW_GROUP, Lake
from vm_core.read.roles import NO_ROLE

__all__ = ["EVALUATION_SCHEMA", "AllSetAside", "Mapping", "Modelled", "model"]

#: The columns of the ``evaluations`` lake table, in order.
EVALUATION_SCHEMA = pa.schema(
    [
        pa.field("respondent_key", pa.string(), nullable=False),
        pa.field("party", pa.string(), nullable=False),
        pa.field("perspective", pa.string()),
        pa.field("role", pa.string()),
        pa.field("value_code", pa.string(), nullable=False),
        pa.field("level", pa.int8()),
        pa.field("blank", pa.bool_(), nullable=False),
        pa.field("comment", pa.string()),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("source_row", pa.int64(), nullable=False),
        pa.field("source_column", pa.string()),
    ]
)
_TEXT = pa.dictionary(pa.int32(), pa.string())
#: As written: the repeated text columns dictionary-encoded (Parquet stores them as plain strings).
_WRITTEN_SCHEMA = pa.schema(
    [f.with_type(_TEXT) if f.type == pa.string() and f.name != "comment" else f for f in EVALUATION_SCHEMA]
)
#: the columns readers filter on, beside the partitions: the only ones given min/max statistics
_STATISTICS = ("value_code", "level", "source_row")
DUPLICATE = contract_reason("", "multiple_fields_uniqueness")
#: the reasons saying that nothing told which organisation a respondent is from
UNSAID = frozenset({NO_ORGANISATION, NOT_LISTED})
BAD_KEY = contract_reason("respondent_key", "str_length(64, 64)")


@dataclass
class _Checks:
    """Per answer, the reason id of each check that needs no other answer (:data:`NONE`: passed)."""

    unknown: np.ndarray  # 1 (bool)
    party: np.ndarray  # 2
    unrecognised: np.ndarray  # 3
    key_bad: np.ndarray  # 5 (bool)
    out_of_range: np.ndarray  # 6

    @classmethod
    def of(cls, answers: Answers, who: Respondents, distinct: Distinct) -> _Checks:
        return cls(
            distinct.code_unknown()[answers.code],
            np.array(distinct.party_reason, np.int32)[who.group][answers.row],
            np.array(distinct.unrecognised, np.int32)[answers.outcome],
            who.key_bad[answers.row],
            np.array(distinct.out_of_range, np.int32)[answers.outcome],
        )

    def compete(self) -> np.ndarray:
        """Checks 1–3 passed: the answers that can be duplicates of each other (check 4)."""
        return ~self.unknown & (self.party < 0) & (self.unrecognised < 0)

    def reasons(self, duplicate: np.ndarray | None, distinct: Distinct) -> np.ndarray | None:
        """Each answer's reason id, the first failure winning; None when every answer passed."""
        if not (
            self.unknown.any()
            or (self.party >= 0).any()
            or (self.unrecognised >= 0).any()
            or self.key_bad.any()
            or (self.out_of_range >= 0).any()
            or (duplicate is not None and duplicate.any())
        ):
            return None
        reason = self.out_of_range.copy()
        reason[self.key_bad] = distinct.reasons.id(BAD_KEY)
        if duplicate is not None:
            reason[duplicate] = distinct.reasons.id(DUPLICATE)
        reason = np.where(self.unrecognised >= 0, self.unrecognised, reason)
        reason = np.where(self.party >= 0, self.party, reason)
        reason[self.unknown] = distinct.reasons.id(UNKNOWN_VALUE_CODE)
        return reason


# ------------------------------------------------------------------ the load


#: (columns to read, of which dictionary-encoded, rows per batch) → the landed rows in batches
LandedBatches = Callable[[list[str], list[str], int], Iterator[pa.RecordBatch]]


def duckdb_batches(con: duckdb.DuckDBPyConnection, relation: str = "landed") -> LandedBatches:
    """The landed rows of a DuckDB relation (an appended source's newest rows, or a test's table)."""

    def batches(columns: list[str], dictionary: list[str], rows: int) -> Iterator[pa.RecordBatch]:
        names = ", ".join(_quote(c) for c in columns)
        yield from con.execute(f"SELECT {names} FROM {relation}").to_arrow_reader(rows)

    return batches


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(plan: AnswerPlan) -> tuple[list[str], list[str]]:
    """(every landed column modelling reads, those read dictionary-encoded)."""
    grouping = [c for c in (plan.organisation, plan.role) if c]
    if plan.long:
        assert plan.value_code is not None
        assert plan.value is not None
        answers = [plan.value_code, plan.value]
        comments = [plan.comment] if plan.comment else []
    else:
        answers = [item.value for item in plan.items if item.value]
        comments = [item.comment for item in plan.items if item.comment]
    dictionary = list(dict.fromkeys([*answers, *grouping, "source_file"]))
    columns = list(dict.fromkeys(["source_file", "source_row", "respondent_key", *dictionary, *comments]))
    return columns, dictionary


def _batch_rows(plan: AnswerPlan) -> int:
    """Landed rows per batch: one Parquet row group of evaluations each."""
    return ROW_GROUP if plan.long else max(1, ROW_GROUP // max(1, len(plan.items)))


class AllSetAside(Exception):
    """No answer of a delivery passed: ``reasons`` says why (reason → answers).

    ``party_reasons``: those of the reasons saying a respondent has no party (check 2).
    """

    def __init__(self, reasons: Counter[str], party_reasons: frozenset[str] = frozenset()):
        super().__init__("every answer was set aside")
        self.reasons = reasons
        self.party_reasons = party_reasons

    @property
    def no_party(self) -> bool:
        """Every answer was set aside because nobody who answered has a party, most of them because
        nothing said which organisation they are from (rather than an organisation no party matches)."""
        commonest = self.reasons.most_common(1)[0][0]
        return set(self.reasons) <= self.party_reasons and commonest in UNSAID

    @property
    def unmatched(self) -> bool:
        """Some respondents gave an organisation that no party's ``match`` takes."""
        return bool(set(self.reasons) & self.party_reasons - UNSAID)

    @property
    def counts(self) -> str:
        """``"({total}): {count} for '{reason}'; n other reason(s)"``: the commonest reason, counted."""
        reason, count = self.reasons.most_common(1)[0]
        total = sum(self.reasons.values())
        more = f"; {len(self.reasons) - 1} other reason(s)" if len(self.reasons) > 1 else ""
        return f"({total}): {count} for '{reason}'{more}"

    @property
    def line(self) -> str:
        return (
            f"every answer was set aside {self.counts}; "
            "check the parties' `match`, `equivalences` and `levels` in the configuration"
        )


@dataclass
class Modelled:
    evaluations: int
    participants: int  # respondents with at least one evaluation
    #: (party, role) -> respondents whose role maps to no perspective; raw titles, see vm_core.read.roles
    unmapped_roles: Counter[tuple[str, str]]
    quarantined: pa.Table  # QUARANTINE_COLUMNS
    reasons: Counter[str]  # reason -> answers set aside
    without_party: int = 0  # respondents whose organisation gives no party (every answer set aside)


@dataclass
class _Tally:
    """What a load's good answers add up to, gathered batch by batch."""

    evaluations: int = 0
    reasons: Counter[int] = field(default_factory=Counter)
    quarantined: list[pa.Table] = field(default_factory=list)
    keys: list[pa.Array] = field(default_factory=list)  # respondents with an evaluation
    unmapped: list[pa.Table] = field(default_factory=list)  # their (party, role, key) without perspective
    no_party: list[pa.Array] = field(default_factory=list)  # respondents without a party


def _duplicate_losers(
    con: duckdb.DuckDBPyConnection, plan: AnswerPlan, distinct: Distinct, relation: str
) -> Callable[[Answers], np.ndarray] | None:
    """Check 4: which answers a later answer of the same respondent to the same Value Code replaces.

    Most loads have no duplicate, which one query over the keys tells; otherwise only the
    duplicated respondents' rows are read to rank their answers (latest file and row win).
    """
    by = f"respondent_key, {_quote(plan.value_code)}" if plan.value_code else "respondent_key"
    duplicated = con.execute(
        f"SELECT DISTINCT respondent_key FROM {relation} GROUP BY {by} HAVING count(*) > 1"
    ).to_arrow_table()
    if not duplicated.num_rows:
        return None
    con.register("vm_duplicated", duplicated)
    columns, _ = _columns(plan)
    names = ", ".join(_quote(c) for c in columns)
    newest: dict[tuple[str, int], tuple[str, int]] = {}
    for batch in con.execute(
        f"SELECT {names} FROM {relation} WHERE respondent_key IN (SELECT respondent_key FROM vm_duplicated)"
    ).to_arrow_reader(_batch_rows(plan)):
        answers, who = cells(batch, plan, distinct)
        competing = np.flatnonzero(_Checks.of(answers, who, distinct).compete())
        keys = who.key.to_pylist()
        files, rows = strings(batch.column("source_file")).to_pylist(), batch.column("source_row").to_pylist()
        for cell in competing.tolist():
            row = int(answers.row[cell])
            place = (files[row], rows[row])
            slot = (keys[row], int(answers.code[cell]))
            if slot not in newest or place > newest[slot]:
                newest[slot] = place
    con.unregister("vm_duplicated")
    suspects = set(duplicated.column(0).to_pylist())

    def losers(answers: Answers) -> np.ndarray:
        out = np.zeros(len(answers.row), bool)
        keys = strings(answers.batch.column("respondent_key")).fill_null("")
        involved = pc.is_in(keys, value_set=pa.array(list(suspects), pa.string())).to_numpy(
            zero_copy_only=False
        )
        if not involved.any():
            return out
        key_list = keys.to_pylist()
        files = strings(answers.batch.column("source_file")).to_pylist()
        rows = answers.batch.column("source_row").to_pylist()
        for cell in np.flatnonzero(involved[answers.row]).tolist():
            row = int(answers.row[cell])
            best = newest.get((key_list[row], int(answers.code[cell])))
            out[cell] = best is not None and best != (files[row], rows[row])
        return out

    return losers


def _evaluations(
    answers: Answers, who: Respondents, distinct: Distinct, good: np.ndarray | None
) -> pa.RecordBatch:
    """The good cells as evaluation rows (``good`` None: every cell)."""
    level = np.array(distinct.level, np.int8)[answers.outcome]
    group = who.group[answers.row]
    row_indices = pa.array(answers.row.astype(np.int32))
    batch = pa.record_batch(
        [
            pa.DictionaryArray.from_arrays(row_indices, who.key),
            distinct.parties.dictionary(np.array(distinct.party, np.int32)[group]),
            distinct.perspectives.dictionary(np.array(distinct.perspective, np.int32)[group]),
            pa.DictionaryArray.from_arrays(who.role.indices.take(row_indices), who.role.dictionary),
            distinct.codes.dictionary(answers.code),
            pa.array(level, pa.int8(), mask=level == 0),
            pa.array(np.array(distinct.blank, bool)[answers.outcome]),
            answers.comment,
            pa.DictionaryArray.from_arrays(who.source_file.indices.take(row_indices), who.source_file.dictionary),
            pa.array(answers.batch.column("source_row").to_numpy(zero_copy_only=False).astype(np.int64)[answers.row]),
            answers.source_column,
        ],
        schema=_WRITTEN_SCHEMA,
    )  # fmt: skip
    return batch if good is None else batch.filter(pa.array(good))


def _set_aside(
    answers: Answers, who: Respondents, reason: np.ndarray, distinct: Distinct, source_key: str
) -> pa.Table:
    cells = np.flatnonzero(reason >= 0)
    rows = pa.array(answers.row[cells])
    reasons = pa.array(distinct.reasons.values, pa.string())
    return pa.table(
        {
            "source_key": pa.array([source_key] * len(cells), pa.string()),
            "source_file": strings(answers.batch.column("source_file")).take(rows),
            "source_row": answers.batch.column("source_row").take(rows).cast(pa.int64()),
            "source_column": strings(answers.source_column).take(pa.array(cells)),
            "value": answers.values(cells),
            "reason": reasons.take(pa.array(reason[cells])),
            "value_code": distinct.codes.dictionary(answers.code[cells]).cast(pa.string()),
        }
    )


def _count(
    tally: _Tally, answers: Answers, who: Respondents, distinct: Distinct, good: np.ndarray | None
) -> None:
    """Add the batch's respondents with an evaluation (and those whose role maps to no perspective)."""
    has = np.ones(len(who.group), bool)
    if good is not None:
        has = np.zeros(len(who.group), bool)
        has[answers.row[good]] = True
    rows = pa.array(np.flatnonzero(has))
    tally.keys.append(who.key.take(rows))
    no_party = np.flatnonzero(np.array(distinct.party, np.int32)[who.group] < 0)
    if len(no_party):
        tally.no_party.append(who.key.take(pa.array(no_party)))
    perspective = np.array(distinct.perspective, np.int32)[who.group]
    unmapped = np.flatnonzero(has & (perspective < 0))
    if len(unmapped):
        party = np.array(distinct.party, np.int32)[who.group[unmapped]]
        tally.unmapped.append(
            pa.table(
                {
                    "party": distinct.parties.dictionary(party).cast(pa.string()),
                    "role": strings(who.role).take(pa.array(unmapped)),
                    "respondent_key": who.key.take(pa.array(unmapped)),
                }
            )
        )  # fmt: skip


def model(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    plan: AnswerPlan,
    mapping: Mapping,
    source_key: str,
    out: str,
    batches: LandedBatches | None = None,
) -> Modelled:
    """The landed rows (the DuckDB relation ``landed``) modelled into the new evaluations file ``out``.

    ``batches`` reads the same rows faster where they are files (see
    :meth:`vm_core.lake.storage.Lake.batches`); by default they are read through DuckDB.
    Raises :class:`AllSetAside` (nothing written) when no answer passes.
    """
    distinct = Distinct(mapping)
    losers = _duplicate_losers(con, plan, distinct, "landed")
    columns, dictionary = _columns(plan)
    read = batches or duckdb_batches(con)
    tally = _Tally()
    with lake.writer(out, _WRITTEN_SCHEMA, arrow_schema=False, statistics=_STATISTICS) as writer:
        for batch in read(columns, dictionary, _batch_rows(plan)):
            if not batch.num_rows:
                continue
            answers, who = cells(batch, plan, distinct)
            duplicate = losers(answers) if losers else None
            reason = _Checks.of(answers, who, distinct).reasons(duplicate, distinct)
            good = None if reason is None else reason < 0
            if reason is not None:
                tally.reasons.update(
                    dict(zip(*np.unique(reason[reason >= 0], return_counts=True), strict=True))
                )
                tally.quarantined.append(_set_aside(answers, who, reason, distinct, source_key))
            rows = _evaluations(answers, who, distinct, good)
            if rows.num_rows:
                writer.write(rows)
            tally.evaluations += rows.num_rows
            _count(tally, answers, who, distinct, good)
        reasons = Counter({distinct.reasons.values[int(r)] or "": int(n) for r, n in tally.reasons.items()})
        if reasons and not tally.evaluations:
            party_reasons = {distinct.reasons.values[r] or "" for r in distinct.party_reason if r >= 0}
            raise AllSetAside(reasons, frozenset(party_reasons))
    people, unmapped = _summary(tally)
    quarantined = _quarantine_table(tally.quarantined)
    return Modelled(tally.evaluations, people, unmapped, quarantined, reasons, _distinct(tally.no_party))


def _distinct(keys: list[pa.Array]) -> int:
    column = pa.chunked_array(keys, pa.string())
    return int(pc.count_distinct(column).as_py()) if len(column) else 0


def _summary(tally: _Tally) -> tuple[int, Counter[tuple[str, str]]]:
    people = _distinct(tally.keys)
    roles: Counter[tuple[str, str]] = Counter()
    if tally.unmapped:
        table = pa.concat_tables(tally.unmapped)
        counted = table.group_by(["party", "role"], use_threads=False).aggregate(
            [("respondent_key", "count_distinct")]
        )
        names = ("party", "role", "respondent_key_count_distinct")
        for party, role, n in zip(*(counted.column(c).to_pylist() for c in names), strict=True):
            roles[(str(party), NO_ROLE if role is None or not str(role).strip() else str(role))] += int(n)
    return people, roles


def _quarantine_table(parts: Iterable[pa.Table]) -> pa.Table:
    """The set-aside answers with :data:`QUARANTINE_COLUMNS`, in file, row and Value Code order."""
    tables = list(parts)
    if not tables:
        return pa.table({name: pa.array([], pa.int64() if name == "source_row" else pa.string())
                         for name in QUARANTINE_COLUMNS})  # fmt: skip
    table = pa.concat_tables(tables).sort_by(
        [("source_file", "ascending"), ("source_row", "ascending"), ("value_code", "ascending")]
    )
    return table.select(list(QUARANTINE_COLUMNS))
