"""Landed answers → evaluations, in one columnar pass (DuckDB), with mapping failures quarantined.

The connector's :class:`~vm_core.ingest.connector.AnswerPlan` says how landed rows become answers
(respondent × Value Code). Mapping then works on the few *distinct* values, in Python, with
the same rules as ever (:mod:`vm_core.ingest.mapping`): organisation → party, (party, role) →
perspective, (Value Code, answer text) → level. The results are joined back to the millions
of answers by DuckDB, which also applies the evaluation contract
(:class:`vm_core.ingest.contract.EvaluationContract`) as vectorised checks that give each failing
row the same reason as validating the whole frame with pandera: its first failure wins, in
this order —

1. the Value Code is not in the cycle's library version;
2. the organisation matches no party, or none is given;
3. the answer is not a level, a level text nor listed under ``levels:``;
4. a second answer of the same respondent to the same Value Code (the later row is kept);
5. the respondent key is not a 64-character pseudonym;
6. a level outside 1–5.

Good rows stream into the lake (:meth:`vm_core.lake.storage.Lake.write_query`); set-aside rows
come back as an Arrow table for the store's quarantine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from vm_core.ingest.connector import AnswerPlan
from vm_core.ingest.contract import QUARANTINE_COLUMNS, contract_reason
from vm_core.ingest.mapping import (
    BLANK,
    UNRECOGNISED,
    LevelParser,
    PartyRule,
    PerspectiveRule,
    match_party,
    match_perspective,
)
from vm_core.lake.storage import Lake
from vm_core.read.roles import NO_ROLE

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
UNKNOWN_VALUE_CODE = "Value Code is not in this cycle's library version"
NO_ORGANISATION = "no organisation given"
#: stands in for null in join keys (DuckDB joins on equality; null never equals null)
_NULL = "\u2400vm-null\u2400"


@dataclass(frozen=True)
class Mapping:
    """Everything modelling needs from the configuration and the library."""

    cycle: int
    value_codes: Sequence[str]
    levels: LevelParser
    parties: Sequence[PartyRule]
    perspectives: Sequence[PerspectiveRule]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def answers_view(con: duckdb.DuckDBPyConnection, plan: AnswerPlan, source_key: str) -> None:
    """Define the temp view ``answers`` over the temp view ``landed``: one row per respondent × Value Code."""
    organisation = _quote(plan.organisation) if plan.organisation else "NULL::VARCHAR"
    role = _quote(plan.role) if plan.role else "NULL::VARCHAR"
    base = (
        f"{_literal(source_key)} AS source_key, source_file, source_row, respondent_key, "
        f"{organisation} AS organisation, {role} AS role"
    )
    if plan.long:
        assert plan.value_code is not None
        assert plan.value is not None
        comment = _quote(plan.comment) if plan.comment else "NULL::VARCHAR"
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW answers AS SELECT {base}, {_quote(plan.value_code)} AS value_code, "
            f"{_literal(plan.source_column or plan.value)} AS source_column, "
            f"{_quote(plan.value)} AS value, {comment} AS comment FROM landed"
        )
        con.execute(f"CREATE OR REPLACE TEMP VIEW respondents AS SELECT {base} FROM landed")
        con.execute(
            "CREATE OR REPLACE TEMP VIEW answer_values AS SELECT DISTINCT value_code, value FROM answers"
        )
        return
    items = pa.table(
        {
            "item": [str(i) for i in range(len(plan.items))],
            "value_code": [item.value_code for item in plan.items],
            "source_column": [item.source_column for item in plan.items],
        }
    )
    con.register("plan_items", items)
    columns = ", ".join(
        f"{_quote(item.value) if item.value else 'NULL::VARCHAR'} AS v{i}, "
        f"{_quote(item.comment) if item.comment else 'NULL::VARCHAR'} AS k{i}"
        for i, item in enumerate(plan.items)
    )
    on = ", ".join(f"(v{i}, k{i}) AS '{i}'" for i in range(len(plan.items)))
    con.execute(f"CREATE OR REPLACE TEMP VIEW wide AS SELECT {base}, {columns} FROM landed")
    # the few distinct values and respondents are read from the landed rows, not from the answers
    con.execute(f"CREATE OR REPLACE TEMP VIEW respondents AS SELECT {base} FROM landed")
    per_item = " UNION ".join(
        f"SELECT DISTINCT {_literal(item.value_code)} AS value_code, v{i} AS value FROM wide"
        for i, item in enumerate(plan.items)
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW answer_values AS {per_item}")
    con.execute(
        "CREATE OR REPLACE TEMP VIEW answers AS SELECT u.source_key, u.source_file, u.source_row, "
        "u.respondent_key, u.organisation, u.role, p.value_code, p.source_column, u.value, u.comment "
        f"FROM wide UNPIVOT INCLUDE NULLS ((value, comment) FOR item IN ({on})) u "
        "JOIN plan_items p USING (item)"
    )


def _level_map(con: duckdb.DuckDBPyConnection, levels: LevelParser) -> pa.Table:
    pairs = con.execute("SELECT DISTINCT value_code, value FROM answer_values").fetchall()
    level: list[int | None] = []
    blank: list[bool] = []
    unrecognised: list[str | None] = []
    out_of_range: list[str | None] = []
    for code, value in pairs:
        parsed = levels.parse(code, value)
        blank.append(parsed is BLANK)
        bad = parsed is UNRECOGNISED
        unrecognised.append(
            f"answer is not a level 1–5, a level label or statement of {code}, nor listed under `levels:`"
            if bad
            else None
        )
        number = parsed if isinstance(parsed, int) and not bad else None
        out_of_range.append(
            contract_reason("level", "greater_than_or_equal_to(1)")
            if number is not None and number < 1
            else contract_reason("level", "less_than_or_equal_to(5)")
            if number is not None and number > 5
            else None
        )
        level.append(number if number is not None and 1 <= number <= 5 else None)
    return pa.table(
        {
            "value_code": pa.array([_NULL if c is None else c for c, _ in pairs], pa.string()),
            "value_key": pa.array([_NULL if v is None else v for _, v in pairs], pa.string()),
            "level": pa.array(level, pa.int8()),
            "blank": pa.array(blank, pa.bool_()),
            "unrecognised": pa.array(unrecognised, pa.string()),
            "out_of_range": pa.array(out_of_range, pa.string()),
        }
    )


def _group_map(con: duckdb.DuckDBPyConnection, mapping: Mapping) -> pa.Table:
    pairs = con.execute("SELECT DISTINCT organisation, role FROM respondents").fetchall()
    parties = {org: match_party(org, mapping.parties) for org in {o for o, _ in pairs}}
    names = ", ".join(rule.party for rule in mapping.parties)
    rows = []
    for organisation, role in pairs:
        party = parties[organisation]
        perspective = match_perspective(party, role, mapping.perspectives) if party else None
        reason = None
        if party is None:
            given = organisation is not None and organisation.strip()
            # the organisation text stays out of the reason: reasons are shown unmasked
            reason = f"organisation matches no party ({names})" if given else NO_ORGANISATION
        rows.append((organisation, role, party, perspective, reason))
    return pa.table(
        {
            "organisation_key": pa.array([_NULL if r[0] is None else r[0] for r in rows], pa.string()),
            "role_key": pa.array([_NULL if r[1] is None else r[1] for r in rows], pa.string()),
            "party": pa.array([r[2] for r in rows], pa.string()),
            "perspective": pa.array([r[3] for r in rows], pa.string()),
            "party_reason": pa.array([r[4] for r in rows], pa.string()),
        }
    )


def _has_duplicates(con: duckdb.DuckDBPyConnection, plan: AnswerPlan) -> bool:
    if plan.long:
        assert plan.value_code
        sql = f"SELECT count(*) > count(DISTINCT (respondent_key, {_quote(plan.value_code)})) FROM landed"
    else:
        sql = "SELECT count(*) > count(DISTINCT respondent_key) FROM landed"
    row = con.execute(sql).fetchone()
    return bool(row and row[0])


def checked_view(con: duckdb.DuckDBPyConnection, plan: AnswerPlan, mapping: Mapping) -> bool:
    """Define ``checked``: every answer with its party, perspective, level and first failure (``reason``).

    Returns whether any answer can fail at all. Most deliveries are clean, and that is known
    from the few distinct values alone: then no row is checked one by one.
    """
    levels = _level_map(con, mapping.levels)
    groups = _group_map(con, mapping)
    con.register("level_map", levels)
    con.register("group_map", groups)
    con.register("library_codes", pa.table({"code": pa.array(list(mapping.value_codes), pa.string())}))
    duplicates = _has_duplicates(con, plan)
    bad_keys = con.execute("SELECT count(*) FROM landed WHERE length(respondent_key) <> 64").fetchone()
    known = set(mapping.value_codes)
    unknown_codes = any(code not in known for code in levels.column("value_code").to_pylist())
    may_fail = (
        duplicates
        or bool(bad_keys and bad_keys[0])
        or unknown_codes
        or groups.column("party_reason").null_count < groups.num_rows
        or levels.column("unrecognised").null_count < levels.num_rows
        or levels.column("out_of_range").null_count < levels.num_rows
    )
    duplicate = "FALSE"
    if duplicates:
        # among the rows that pass checks 1-3, all but the last row of a respondent × Value Code
        duplicate = (
            "(lc.code IS NOT NULL AND g.party IS NOT NULL AND l.unrecognised IS NULL AND "
            "row_number() OVER (PARTITION BY a.respondent_key, a.value_code, "
            "lc.code IS NOT NULL AND g.party IS NOT NULL AND l.unrecognised IS NULL "
            "ORDER BY a.source_file DESC, a.source_row DESC) > 1)"
        )
    reason = f"""CASE
                WHEN lc.code IS NULL THEN {_literal(UNKNOWN_VALUE_CODE)}
                WHEN g.party IS NULL THEN g.party_reason
                WHEN l.unrecognised IS NOT NULL THEN l.unrecognised
                WHEN {duplicate} THEN {_literal(contract_reason("", "multiple_fields_uniqueness"))}
                WHEN length(a.respondent_key) <> 64
                    THEN {_literal(contract_reason("respondent_key", "str_length(64, 64)"))}
                WHEN l.out_of_range IS NOT NULL THEN l.out_of_range
            END"""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW checked AS
        SELECT a.*, g.party, g.perspective, l.level, l.blank, {reason if may_fail else "NULL::VARCHAR"} AS reason
        FROM answers a
        LEFT JOIN library_codes lc ON lc.code = a.value_code
        LEFT JOIN group_map g ON g.organisation_key = coalesce(a.organisation, {_literal(_NULL)})
            AND g.role_key = coalesce(a.role, {_literal(_NULL)})
        LEFT JOIN level_map l ON l.value_code = coalesce(a.value_code, {_literal(_NULL)})
            AND l.value_key = coalesce(a.value, {_literal(_NULL)})
        """
    )
    return may_fail


#: The good rows of ``checked``, typed as :data:`EVALUATION_SCHEMA` (in the landed rows' order).
EVALUATIONS_QUERY = (
    "SELECT respondent_key, party, perspective, role, value_code, CAST(level AS TINYINT) AS level, "
    "coalesce(blank, FALSE) AS blank, comment, source_file, CAST(source_row AS BIGINT) AS source_row, "
    "source_column FROM checked WHERE reason IS NULL"
)


def quarantined(con: duckdb.DuckDBPyConnection, may_fail: bool) -> pa.Table:
    """The set-aside rows of ``checked`` with :data:`QUARANTINE_COLUMNS`, in file and row order."""
    if not may_fail:
        return pa.table({name: pa.array([], pa.int64() if name == "source_row" else pa.string())
                         for name in QUARANTINE_COLUMNS})  # fmt: skip
    columns = ", ".join(QUARANTINE_COLUMNS)
    return con.execute(
        f"SELECT {columns} FROM checked WHERE reason IS NOT NULL ORDER BY source_file, source_row, value_code"
    ).to_arrow_table()


class AllSetAside(Exception):
    """No answer of a delivery passed: ``reasons`` says why (reason → answers)."""

    def __init__(self, reasons: Counter[str]):
        super().__init__("every answer was set aside")
        self.reasons = reasons

    @property
    def line(self) -> str:
        reason, count = self.reasons.most_common(1)[0]
        total = sum(self.reasons.values())
        more = f"; {len(self.reasons) - 1} other reason(s)" if len(self.reasons) > 1 else ""
        return (
            f"every answer was set aside ({total}): {count} for '{reason}'{more}; "
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


def model(
    con: duckdb.DuckDBPyConnection, lake: Lake, plan: AnswerPlan, mapping: Mapping, source_key: str, out: str
) -> Modelled:
    """The landed rows (the relation ``landed``) modelled into the new evaluations file ``out``.

    Raises :class:`AllSetAside` (nothing written) when no answer passes.
    """
    answers_view(con, plan, source_key)
    may_fail = checked_view(con, plan, mapping)
    reasons: Counter[str] = Counter()
    if may_fail:
        reasons.update(
            dict(
                con.execute(
                    "SELECT reason, count(*) FROM checked WHERE reason IS NOT NULL GROUP BY reason"
                ).fetchall()
            )
        )
        total = con.execute("SELECT count(*) FROM answers").fetchone()
        if reasons and total and sum(reasons.values()) >= total[0]:
            raise AllSetAside(reasons)
    lake.write_query(con, EVALUATIONS_QUERY, out, EVALUATION_SCHEMA)
    evaluations = lake.dataset([out]).count_rows()  # from the file's footer
    if may_fail:
        lake.relation(con, "written", [out])
        people, unmapped = summary(con, "written")
    else:  # every answer passed: the respondents are the landed ones (far fewer rows to read)
        people, unmapped = summary(con, RESPONDENT_GROUPS)
    return Modelled(evaluations, people, unmapped, quarantined(con, may_fail), reasons)


#: Each landed respondent with its party and perspective: counted instead of the evaluations when
#: every answer passed (far fewer rows to read).
RESPONDENT_GROUPS = (
    "(SELECT a.respondent_key, a.role, g.party, g.perspective FROM "
    "(SELECT DISTINCT respondent_key, organisation, role FROM respondents) a "
    f"JOIN group_map g ON g.organisation_key = coalesce(a.organisation, {_literal(_NULL)}) "
    f"AND g.role_key = coalesce(a.role, {_literal(_NULL)}))"
)


def summary(con: duckdb.DuckDBPyConnection, source: str) -> tuple[int, Counter[tuple[str, str]]]:
    """(participants, unmapped roles) of the relation ``source``: each row a respondent's evaluation or group."""
    row = con.execute(f"SELECT count(DISTINCT respondent_key) FROM {source}").fetchone()
    people = int(row[0]) if row else 0
    unmapped = con.execute(
        f"SELECT party, role, count(DISTINCT respondent_key) FROM {source} "
        "WHERE perspective IS NULL GROUP BY party, role"
    ).fetchall()
    roles: Counter[tuple[str, str]] = Counter()
    for party, role, n in unmapped:
        roles[(str(party), NO_ROLE if role is None or not str(role).strip() else str(role))] += int(n)
    return people, roles
