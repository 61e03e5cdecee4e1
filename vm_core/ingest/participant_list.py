"""A participant list: who answered, when the export does not say.

Many surveys are sent to a list — a spreadsheet of the people invited, or a CRM contact export
(name, e-mail, organisation, job title) — and the export carries only the respondent's e-mail
or id. A source's ``participants:`` names such a list; every connector gets it without code of
its own, because the join is on the respondent key every landed answers table has:

- the list's identity column (e-mail or id) is pseudonymised with the same keyed hash the
  connector gave the respondent (:meth:`ConnectorContext.pseudonymise_many`), so both sides are
  pseudonyms before they meet, and the list's personal data is never stored;
- what lands (:data:`TABLE`, with the source's load) is one row per list row: the file, its row,
  the pseudonym, and the organisation and role read from it — no name, no e-mail, no other column;
- modelling joins it to the responses in DuckDB (:func:`join`): a listed respondent's party and
  perspective come from the list, an unlisted one's answers are set aside
  (:data:`vm_core.ingest.answers.NOT_LISTED`), and :func:`matches` counts both kinds of misses (counts only, never who).

Keeping the organisation and role texts (not only the party and perspective they map to) is what
lets a changed ``match`` or ``equivalences`` re-model the source from the lake, and lets
``vm roles unmapped`` report titles, as for any other source.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from vm_core.errors import SourceError
from vm_core.ingest.connector import (
    ORGANISATION,
    ROLE,
    AnswerPlan,
    ConnectorContext,
    LandedTable,
    ParticipantListSpec,
)
from vm_core.ingest.mapping import normalise_text
from vm_core.tables import read_rows

#: the landed table (``landed_participant_list`` in the lake) holding a source's list
TABLE = "participant_list"
SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("source_row", pa.int64(), nullable=False),
        pa.field("respondent_key", pa.string()),  # null: the row gives no identity
        pa.field(ORGANISATION, pa.string()),
        pa.field(ROLE, pa.string()),
    ]
)
#: the columns the joined relation adds to the landed answers (names no connector lands)
JOINED = {ORGANISATION: "vm_listed_organisation", ROLE: "vm_listed_role"}


def _column(header: list[str], name: str, spec: ParticipantListSpec, key: str) -> int:
    wanted = normalise_text(name)
    for position, cell in enumerate(header):
        if normalise_text(cell) == wanted:
            return position
    has = ", ".join(cell for cell in header if cell) or "nothing"
    raise SourceError(spec.file.name, f"participants.{key}: no column {name!r} (row 1 has: {has})", 1, name)


def read_participant_list(spec: ParticipantListSpec, ctx: ConnectorContext) -> pa.Table:
    """The list as it lands: per row its pseudonym, organisation and role (:data:`SCHEMA`).

    Raises :class:`SourceError` naming the list's file, row and column: a missing column, a list
    with no rows, or one identity listed twice with a different organisation or role (the same
    person listed twice alike is kept once). A row without an identity matches no response; it
    lands with a null key and is counted as such.
    """
    file = spec.file.name
    if not spec.file.is_file():
        raise SourceError(file, f"participant list not found ({spec.where}.file)")
    rows = read_rows(spec.file)
    if not rows or not any(rows[0]):
        raise SourceError(file, "the participant list is empty: row 1 should name its columns", 1)
    header = rows[0]
    identity = _column(header, spec.identity, spec, "identity")
    wanted = {key: name for key, name in ((ORGANISATION, spec.organisation), (ROLE, spec.role)) if name}
    columns = {key: _column(header, name, spec, key) for key, name in wanted.items()}
    numbers: list[int] = []
    ids: list[str | None] = []
    texts: dict[str, list[str | None]] = {ORGANISATION: [], ROLE: []}
    for number, cells in enumerate(rows[1:], start=2):
        if not any(cells):
            continue  # a blank line
        numbers.append(number)
        ids.append(_cell(cells, identity))
        for key in texts:
            texts[key].append(_cell(cells, columns[key]) if key in columns else None)
    if not numbers:
        raise SourceError(file, "the participant list has a header but no rows", 2)
    keys = ctx.pseudonymise_many(i or "" for i in ids)
    pseudonyms = [key if i else None for key, i in zip(keys, ids, strict=True)]
    _check_duplicates(spec, header, identity, numbers, pseudonyms, texts)
    return pa.table(
        {
            "source_file": pa.array([file] * len(numbers), pa.string()),
            "source_row": pa.array(numbers, pa.int64()),
            "respondent_key": pa.array(pseudonyms, pa.string()),
            ORGANISATION: pa.array(texts[ORGANISATION], pa.string()),
            ROLE: pa.array(texts[ROLE], pa.string()),
        },
        schema=SCHEMA,
    )


def _cell(cells: list[str], position: int) -> str | None:
    text = cells[position] if position < len(cells) else ""
    return text or None


def _check_duplicates(
    spec: ParticipantListSpec,
    header: list[str],
    identity: int,
    numbers: list[int],
    pseudonyms: list[str | None],
    texts: dict[str, list[str | None]],
) -> None:
    """One identity, one organisation and role: a person listed twice differently is refused."""
    first: dict[str, int] = {}
    for index, key in enumerate(pseudonyms):
        if key is None:
            continue
        seen = first.setdefault(key, index)
        if seen == index:
            continue
        differs = [k for k in (ORGANISATION, ROLE) if texts[k][seen] != texts[k][index]]
        if differs:
            raise SourceError(
                spec.file.name,
                f"the same {header[identity] or 'identity'} is listed in row {numbers[seen]} with "
                f"another {differs[0]}; list each person once",
                numbers[index],
                header[identity],
            )


def landed_table(spec: ParticipantListSpec, ctx: ConnectorContext) -> LandedTable:
    """The list as a landed table of the source's delivery (read now: errors come before any landing)."""
    table = read_participant_list(spec, ctx)
    return LandedTable(TABLE, SCHEMA, table.to_batches())


def join(
    con: duckdb.DuckDBPyConnection, answers: str, listed: str, spec: ParticipantListSpec, plan: AnswerPlan
) -> AnswerPlan:
    """Define the view ``landed``: the relation ``answers`` with each respondent's listed organisation
    and role (relation ``listed``), and return the plan reading them.

    An unlisted respondent's organisation is null (their answers are set aside as not on the
    list); a listed one without an organisation gets ``''`` ("no organisation given").
    """
    added = []
    if spec.organisation:
        added.append(
            f"CASE WHEN p.respondent_key IS NULL THEN NULL ELSE coalesce(p.{ORGANISATION}, '') END "
            f"AS {JOINED[ORGANISATION]}"
        )
    if spec.role:
        added.append(f"p.{ROLE} AS {JOINED[ROLE]}")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW landed AS SELECT a.*, {', '.join(added)} FROM {answers} a "
        f"LEFT JOIN (SELECT DISTINCT respondent_key, {ORGANISATION}, {ROLE} FROM {listed} "
        "WHERE respondent_key IS NOT NULL) p USING (respondent_key) ORDER BY a.source_file, a.source_row"
    )
    return dataclasses.replace(
        plan,
        organisation=JOINED[ORGANISATION] if spec.organisation else plan.organisation,
        role=JOINED[ROLE] if spec.role else plan.role,
    )


@dataclass(frozen=True)
class ListMatch:
    """How a participant list met the responses: counts only, never who."""

    rows: int  # list rows
    without_response: int  # list rows matching no response (a blank identity included)
    responses_unlisted: int  # respondents (distinct keys) not on the list


def matches(con: duckdb.DuckDBPyConnection, answers: str, listed: str) -> ListMatch:
    rows, without = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE respondent_key IS NULL OR respondent_key NOT IN "
        f"(SELECT respondent_key FROM {answers})) FROM {listed}"
    ).fetchone() or (0, 0)
    unlisted = con.execute(
        f"SELECT count(DISTINCT respondent_key) FROM {answers} WHERE respondent_key NOT IN "
        f"(SELECT respondent_key FROM {listed} WHERE respondent_key IS NOT NULL)"
    ).fetchone()
    return ListMatch(int(rows), int(without), int(unlisted[0]) if unlisted else 0)
