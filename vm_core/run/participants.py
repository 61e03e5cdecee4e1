"""Erase one person: ``vm participants forget``.

A respondent is known to the lake and the store only by their pseudonym (the keyed hash a
connector makes of their id or e-mail with the installation secret). Forgetting them rewrites,
for one relationship, every lake file holding their rows (landed and evaluations; no other file),
deletes the quarantined rows of their responses, and re-scores every cycle they were in so their
answers leave every published number.

The new files are written first; the store then switches to them, deletes the quarantined rows
and re-scores in one transaction; the old files are deleted after that commit. Killed before
the commit, nothing changed (the new files are swept later); killed after it, the old files are
no longer named by anything and are swept by the next run. Forgetting again finds nobody.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import and_, delete, func, select, text, tuple_, update
from sqlalchemy.orm import Session

from vm_core.errors import VmError
from vm_core.ingest.connector import ConnectorContext
from vm_core.lake.evidence import cycle_counts
from vm_core.lake.external import write_manifests
from vm_core.lake.storage import EVALUATIONS, Lake
from vm_core.lake.upkeep import Erased, files_without, find_respondent, switch_files
from vm_core.run.pipeline import open_store
from vm_core.scoring import score_cycle
from vm_core.settings import Settings
from vm_core.store.db import transaction
from vm_core.store.locks import relationship_lock
from vm_core.store.models import Cycle, Evaluation, Participant, QuarantinedRow, Relationship, SourceLoad

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


def forget(settings: Settings, relationship_key: str, pseudonym: str, *, wait: float = 60) -> Forgotten:
    """Erase one respondent (by pseudonym) from the lake and the store, and re-score their cycles.

    Holds the relationship's run lock (a run writing the same files waits, or this waits up to
    ``wait`` seconds for it). Raises :class:`NobodyToForget` when nothing matches (also on a
    second run: it is idempotent).
    """
    with relationship_lock(settings.database_url, relationship_key, wait=wait):
        return _forget(settings, relationship_key, pseudonym)


def _forget(settings: Settings, relationship_key: str, pseudonym: str) -> Forgotten:
    lake = settings.lake()
    forgotten = Forgotten()
    with transaction(open_store(settings)) as session:
        relationship = session.scalar(select(Relationship).where(Relationship.key == relationship_key))
        if relationship is None:
            raise VmError(f"no relationship {relationship_key!r} in the store")
        if session.get_bind().dialect.name == "sqlite":
            # deleted rows are overwritten in the file, not left readable in free pages
            session.execute(text("PRAGMA secure_delete = ON"))
        found = find_respondent(session, lake, relationship_key, pseudonym)
        with files_without(lake, found, pseudonym) as old_files:
            switch_files(session, found)
            _erase_from_store(session, relationship, lake, pseudonym, found, forgotten)
    lake.delete(old_files)  # after the commit: nothing committed names them any more
    with open_store(settings)() as session:
        write_manifests(session, lake, relationship_key)
    if forgotten.nothing:
        raise NobodyToForget(
            f"nobody to forget in {relationship_key!r}: no stored or landed data has that respondent key "
            "(already forgotten, another relationship, or another installation secret)"
        )
    return forgotten


def _erase_from_store(
    session: Session,
    relationship: Relationship,
    lake: Lake,
    pseudonym: str,
    found: Erased,
    forgotten: Forgotten,
) -> None:
    cycles = dict(
        session.execute(select(Cycle.id, Cycle.number).where(Cycle.relationship_id == relationship.id)).all()
    )
    # quarantined rows of their responses, by file and row (from what their sources landed)
    quarantined: Counter[tuple[int, str]] = Counter()
    if found.source_rows:
        key = tuple_(
            QuarantinedRow.cycle_id,
            QuarantinedRow.source_key,
            QuarantinedRow.source_file,
            QuarantinedRow.source_row,
        )
        match = key.in_(sorted(found.source_rows))
        for cycle_id, source_key, n in session.execute(
            select(QuarantinedRow.cycle_id, QuarantinedRow.source_key, func.count())
            .where(match)
            .group_by(QuarantinedRow.cycle_id, QuarantinedRow.source_key)
        ):
            quarantined[cycle_id, source_key] = n
        session.execute(delete(QuarantinedRow).where(match))
    # rows an earlier version kept in the store
    participant = session.scalar(
        select(Participant).where(
            Participant.relationship_id == relationship.id, Participant.respondent_key == pseudonym
        )
    )
    if participant is not None:
        session.execute(delete(Evaluation).where(Evaluation.participant_id == participant.id))
        session.execute(delete(Participant).where(Participant.id == participant.id))
    evaluations = found.evaluations
    forgotten.participants = 1 if evaluations or participant is not None else 0
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
    forgotten.landed_rows = sum(n for table, n in found.rows.items() if table != EVALUATIONS)
    for cycle_id in sorted({cycle_id for cycle_id, _ in evaluations}, key=cycles.__getitem__):
        cycle = session.get(Cycle, cycle_id)
        assert cycle is not None
        score_cycle(session, cycle_id, cycle_counts(session, lake, cycle), erasure=True)
        cycle.scored_state = None  # the next run re-checks these scores against the files
        forgotten.rescored_cycles.append(cycles[cycle_id])
