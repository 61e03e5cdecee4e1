"""Write one source's modelled evaluations into the store, idempotently.

Re-modelling a source replaces exactly what that source contributed to the cycle
(its evaluations and quarantined rows), so ingesting the same export twice, or an
export that overlaps an earlier one, never duplicates anything.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd
from sqlalchemy import Table, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from vm_core.bulk import bulk_insert
from vm_core.models import (
    Cycle,
    Evaluation,
    Participant,
    Party,
    Perspective,
    QuarantinedRow,
    Relationship,
    SourceLoad,
    ValueCode,
)

BATCH = 50_000


def _batches(rows: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _none(value: Any) -> Any:
    return None if value is pd.NA or (isinstance(value, float) and value != value) else value


@dataclass(frozen=True)
class GroupIds:
    """Store ids of a relationship's parties and perspectives, by key."""

    parties: dict[str, int]
    perspectives: dict[str, int]

    @classmethod
    def of(cls, session: Session, relationship: Relationship) -> GroupIds:
        return cls(
            dict(
                session.execute(
                    select(Party.key, Party.id).where(Party.relationship_id == relationship.id)
                ).all()
            ),
            dict(
                session.execute(
                    select(Perspective.key, Perspective.id).where(
                        Perspective.relationship_id == relationship.id
                    )
                ).all()
            ),
        )


def upsert_participants(
    session: Session, relationship: Relationship, evaluations: pd.DataFrame, ids: GroupIds
) -> dict[str, int]:
    """Participants by respondent key (pseudonym) → id; party, role and perspective follow the newest data."""
    party_ids, perspective_ids = ids.parties, ids.perspectives
    people = evaluations.drop_duplicates("respondent_key", keep="last")
    wanted = {
        key: (party_ids[party], _none(role), perspective_ids.get(perspective) if _none(perspective) else None)
        for key, party, role, perspective in people[
            ["respondent_key", "party", "role", "perspective"]
        ].itertuples(index=False)
    }
    existing = {
        row.respondent_key: row
        for row in session.execute(
            select(
                Participant.id,
                Participant.respondent_key,
                Participant.party_id,
                Participant.source_role,
                Participant.perspective_id,
            ).where(Participant.relationship_id == relationship.id)
        )
    }
    new = [
        {
            "relationship_id": relationship.id,
            "respondent_key": k,
            "party_id": p,
            "source_role": r,
            "perspective_id": v,
        }
        for k, (p, r, v) in wanted.items()
        if k not in existing
    ]
    changed = [
        {"pid": existing[k].id, "party_id": p, "source_role": r, "perspective_id": v}
        for k, (p, r, v) in wanted.items()
        if k in existing
        and (existing[k].party_id, existing[k].source_role, existing[k].perspective_id) != (p, r, v)
    ]
    for batch in _batches(new):
        session.execute(insert(Participant), list(batch))
    if changed:
        table = cast(Table, Participant.__table__)
        stmt = (
            update(table)
            .where(table.c.id == bindparam("pid"))
            .values(
                party_id=bindparam("party_id"),
                source_role=bindparam("source_role"),
                perspective_id=bindparam("perspective_id"),
            )
        )
        for batch in _batches(changed):
            session.connection().execute(stmt, list(batch))
    keys = list(wanted)
    participant_ids: dict[str, int] = {}
    for batch in _batches(keys, 5_000):
        participant_ids.update(
            session.execute(
                select(Participant.respondent_key, Participant.id).where(
                    Participant.relationship_id == relationship.id, Participant.respondent_key.in_(batch)
                )
            ).all()
        )
    return participant_ids


def replace_source(
    session: Session,
    relationship: Relationship,
    cycle: Cycle,
    source_key: str,
    evaluations: pd.DataFrame,
    quarantined: pd.DataFrame,
) -> None:
    """Replace this source's evaluations and quarantined rows in this cycle."""
    session.execute(
        delete(Evaluation).where(Evaluation.cycle_id == cycle.id, Evaluation.source_key == source_key)
    )
    session.execute(
        delete(QuarantinedRow).where(
            QuarantinedRow.cycle_id == cycle.id, QuarantinedRow.source_key == source_key
        )
    )
    if not evaluations.empty:
        ids = GroupIds.of(session, relationship)
        participant_ids = upsert_participants(session, relationship, evaluations, ids)
        code_ids = dict(
            session.execute(
                select(ValueCode.identifier, ValueCode.id).where(
                    ValueCode.library_version_id == cycle.library_version_id
                )
            ).all()
        )
        participant = evaluations["respondent_key"].map(participant_ids).tolist()
        value_code = evaluations["value_code"].map(code_ids).tolist()
        if _other_sources(session, cycle.id, source_key):
            # another source of the same cycle evaluated the same participant × Value Code: newest wins
            pairs = list(zip(participant, value_code, strict=True))
            for batch in _batches(pairs, 5_000):
                session.execute(
                    delete(Evaluation).where(
                        Evaluation.cycle_id == cycle.id,
                        tuple_(Evaluation.participant_id, Evaluation.value_code_id).in_(list(batch)),
                    )
                )
        n = len(evaluations)
        rows = zip(
            [cycle.id] * n,
            participant,
            value_code,
            evaluations["party"].map(ids.parties).tolist(),
            _nullable(evaluations["perspective"].map(ids.perspectives).astype("Int64")),
            _nullable(evaluations["level"]),
            evaluations["blank"].astype(bool).tolist(),
            _nullable(evaluations["comment"]),
            [source_key] * n,
            evaluations["source_row"].astype("int64").tolist(),
            strict=True,
        )
        bulk_insert(session, cast(Table, Evaluation.__table__), EVALUATION_INSERT_COLUMNS, rows)
    if not quarantined.empty:
        q = quarantined.astype("object").where(quarantined.notna(), None)
        session.execute(
            insert(QuarantinedRow), [{"cycle_id": cycle.id, **row} for row in q.to_dict("records")]
        )


EVALUATION_INSERT_COLUMNS = (
    "cycle_id",
    "participant_id",
    "value_code_id",
    "party_id",
    "perspective_id",
    "level",
    "blank",
    "comment",
    "source_key",
    "source_row",
)


def _nullable(column: pd.Series) -> list[Any]:
    """Python values with None for every missing marker (pd.NA, NaN, None)."""
    values: list[Any] = column.astype(object).where(column.notna(), None).tolist()
    return values


def _other_sources(session: Session, cycle_id: int, source_key: str) -> bool:
    return (
        session.scalar(
            select(Evaluation.id)
            .where(Evaluation.cycle_id == cycle_id, Evaluation.source_key != source_key)
            .limit(1)
        )
        is not None
    )


def record_load(session: Session, cycle: Cycle, source_key: str, **values: Any) -> SourceLoad:
    load = session.scalar(
        select(SourceLoad).where(SourceLoad.cycle_id == cycle.id, SourceLoad.source_key == source_key)
    )
    if load is None:
        load = SourceLoad(cycle_id=cycle.id, source_key=source_key)
        session.add(load)
    for attr, value in values.items():
        setattr(load, attr, value)
    session.flush()
    return load


def previous_load(session: Session, cycle: Cycle, source_key: str) -> SourceLoad | None:
    return session.scalar(
        select(SourceLoad).where(SourceLoad.cycle_id == cycle.id, SourceLoad.source_key == source_key)
    )
