"""Erase one person: ``vm participants forget``.

A respondent is known to the store and the landing only by their pseudonym (the keyed hash a
connector makes of their id or e-mail with the installation secret). Forgetting them deletes, for
one relationship, their evaluations, their participant row and the quarantined rows of their
responses from the store, and every landed row of theirs (both landing kinds, staging included),
then re-scores every cycle they were in so their answers leave every published number.

The store part is one transaction (deletes and re-scoring commit together). The landing is a
separate database, so it is erased after that commit; should it fail, running ``forget`` again
finishes the job (it still finds the landed rows), which is also why forgetting is idempotent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import and_, delete, func, or_, select, text, tuple_, update
from sqlalchemy.orm import Session

from vm_core.connector import ConnectorContext
from vm_core.db import transaction
from vm_core.errors import VmError
from vm_core.landing import erase_respondent, respondent_rows
from vm_core.models import Cycle, Evaluation, Participant, QuarantinedRow, Relationship, SourceLoad
from vm_core.pipeline import open_store
from vm_core.scoring import score_cycle
from vm_core.settings import Settings

_PSEUDONYM_DIGITS = 64


class NobodyToForget(VmError):
    """No stored or landed data matches the respondent."""


@dataclass
class Forgotten:
    """Counts of what was erased for one respondent (never who)."""

    participants: int = 0
    evaluations: int = 0
    quarantined_rows: int = 0
    landed_rows: int = 0
    rescored_cycles: list[int] = field(default_factory=list)

    @property
    def nothing(self) -> bool:
        return not (self.participants or self.evaluations or self.quarantined_rows or self.landed_rows)

    def lines(self, relationship_key: str) -> list[str]:
        cycles = ", ".join(str(n) for n in self.rescored_cycles) or "none"
        return [
            f"forgot 1 respondent of {relationship_key}: {self.participants} participant row, "
            f"{self.evaluations} evaluations, {self.quarantined_rows} quarantined rows, "
            f"{self.landed_rows} landed rows",
            f"re-scored cycles: {cycles}",
        ]


def pseudonym_for(settings: Settings, relationship_key: str, respondent_id: str) -> str:
    """The pseudonym a connector gives ``respondent_id`` (id or e-mail as the source had it)."""
    context = ConnectorContext(relationship_key, cycle=0, secret=settings.secret(), value_codes=())
    return context.pseudonymise(respondent_id)


def checked_pseudonym(value: str) -> str:
    """A pseudonym given by hand: 64 hex digits (as stored), any case."""
    pseudonym = value.strip().lower()
    if len(pseudonym) != _PSEUDONYM_DIGITS or any(c not in "0123456789abcdef" for c in pseudonym):
        raise VmError("--pseudonym must be the 64 hex digits of a respondent key as stored")
    return pseudonym


def forget(settings: Settings, relationship_key: str, pseudonym: str) -> Forgotten:
    """Erase one respondent (by pseudonym) from the store and the landing, and re-score their cycles.

    Raises :class:`NobodyToForget` when nothing matches (also on a second run: it is idempotent).
    """
    landed = respondent_rows(settings, relationship_key, pseudonym)
    forgotten = Forgotten()
    with transaction(open_store(settings)) as session:
        relationship = session.scalar(select(Relationship).where(Relationship.key == relationship_key))
        if relationship is None:
            raise VmError(f"no relationship {relationship_key!r} in the store")
        if session.get_bind().dialect.name == "sqlite":
            # deleted rows are overwritten in the file, not left readable in free pages
            session.execute(text("PRAGMA secure_delete = ON"))
        _erase_from_store(session, relationship, pseudonym, landed.source_rows, forgotten)
    forgotten.landed_rows = erase_respondent(settings, relationship_key, pseudonym).total
    if forgotten.nothing:
        raise NobodyToForget(
            f"nobody to forget in {relationship_key!r}: no stored or landed data has that respondent key "
            "(already forgotten, another relationship, or another installation secret)"
        )
    return forgotten


def _erase_from_store(
    session: Session,
    relationship: Relationship,
    pseudonym: str,
    landed_rows: set[tuple[int, str, str, int]],
    forgotten: Forgotten,
) -> None:
    cycles = dict(
        session.execute(select(Cycle.number, Cycle.id).where(Cycle.relationship_id == relationship.id)).all()
    )
    participant = session.scalar(
        select(Participant).where(
            Participant.relationship_id == relationship.id, Participant.respondent_key == pseudonym
        )
    )
    evaluated: list[tuple[int, str, int]] = []
    if participant is not None:
        evaluated = [
            (cycle_id, source_key, row)
            for cycle_id, source_key, row in session.execute(
                select(Evaluation.cycle_id, Evaluation.source_key, Evaluation.source_row)
                .where(Evaluation.participant_id == participant.id)
                .distinct()
            )
        ]
    # Quarantined rows of their responses: by file and row where the landing still has them, else
    # (landing purged) by the rows their evaluations came from.
    by_file = {(cycles[c], k, f, r) for c, k, f, r in landed_rows if c in cycles}
    landed_sources = {(cycle_id, source_key) for cycle_id, source_key, _, _ in by_file}
    by_row = {(c, k, r) for c, k, r in evaluated if (c, k) not in landed_sources}
    matches = []
    if by_file:
        key = tuple_(
            QuarantinedRow.cycle_id,
            QuarantinedRow.source_key,
            QuarantinedRow.source_file,
            QuarantinedRow.source_row,
        )
        matches.append(key.in_(sorted(by_file)))
    if by_row:
        key = tuple_(QuarantinedRow.cycle_id, QuarantinedRow.source_key, QuarantinedRow.source_row)
        matches.append(key.in_(sorted(by_row)))
    quarantined: Counter[tuple[int, str]] = Counter()
    if matches:
        for cycle_id, source_key, n in session.execute(
            select(QuarantinedRow.cycle_id, QuarantinedRow.source_key, func.count())
            .where(or_(*matches))
            .group_by(QuarantinedRow.cycle_id, QuarantinedRow.source_key)
        ):
            quarantined[cycle_id, source_key] = n
        session.execute(delete(QuarantinedRow).where(or_(*matches)))
    evaluations: Counter[tuple[int, str]] = Counter()
    if participant is not None:
        for cycle_id, source_key, n in session.execute(
            select(Evaluation.cycle_id, Evaluation.source_key, func.count())
            .where(Evaluation.participant_id == participant.id)
            .group_by(Evaluation.cycle_id, Evaluation.source_key)
        ):
            evaluations[cycle_id, source_key] = n
        session.execute(delete(Evaluation).where(Evaluation.participant_id == participant.id))
        session.execute(delete(Participant).where(Participant.id == participant.id))
        forgotten.participants = 1
    # the per-source counts `vm run` reports for an unchanged file
    for cycle_id, source_key in evaluations.keys() | quarantined.keys():
        session.execute(
            update(SourceLoad)
            .where(and_(SourceLoad.cycle_id == cycle_id, SourceLoad.source_key == source_key))
            .values(
                evaluations=SourceLoad.evaluations - evaluations[cycle_id, source_key],
                quarantined=SourceLoad.quarantined - quarantined[cycle_id, source_key],
            )
        )
    forgotten.evaluations = sum(evaluations.values())
    forgotten.quarantined_rows = sum(quarantined.values())
    numbers = {cycle_id: number for number, cycle_id in cycles.items()}
    for cycle_id in sorted({cycle_id for cycle_id, _ in evaluations}, key=numbers.__getitem__):
        score_cycle(session, cycle_id, erasure=True)
        forgotten.rescored_cycles.append(numbers[cycle_id])
