"""What an action refers to: its relationship and cycle, the links it may have and who may own it.

These are the lists an editor picks from. Links are those of the library version of the cycle that raised the action (Value Codes in
section and position order, Things That Matter by name); owners are the relationship's parties
still configured (a retired party keeps the actions it had, but takes no new one). The checks of
:mod:`vm_core.actions.validate` read the same lists, so what an editor is offered is what a save
accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.actions.errors import ActionError
from vm_core.config import did_you_mean
from vm_core.store.models import CYCLE_MODES, Cycle, Party, Relationship, Section, ThingThatMatters, ValueCode


def find_relationship(session: Session, key: str) -> Relationship:
    relationship = session.scalar(select(Relationship).where(Relationship.key == key))
    if relationship is None:
        known = session.scalars(select(Relationship.key).order_by(Relationship.key)).all()
        raise ActionError(f"no relationship {key!r} in the store{did_you_mean(key, known)}")
    return relationship


def find_cycle(session: Session, relationship: Relationship, number: int) -> Cycle:
    cycles = {
        c.number: c for c in session.scalars(select(Cycle).where(Cycle.relationship_id == relationship.id))
    }
    if number not in cycles:
        known = ", ".join(str(n) for n in sorted(cycles)) or "none yet"
        raise ActionError(f"relationship {relationship.key!r} has no cycle {number} (cycles: {known})")
    return cycles[number]


def library_codes(session: Session, cycle: Cycle) -> list[str]:
    """The Value Code identifiers of the cycle's library, in section and position order."""
    return list(
        session.scalars(
            select(ValueCode.identifier)
            .join(Section, Section.id == ValueCode.section_id)
            .where(ValueCode.library_version_id == cycle.library_version_id)
            .order_by(Section.position, ValueCode.position, ValueCode.identifier)
        )
    )


def library_things(session: Session, cycle: Cycle) -> list[str]:
    """The names of the Things That Matter of the cycle's library, alphabetically."""
    return list(
        session.scalars(
            select(ThingThatMatters.name)
            .where(ThingThatMatters.library_version_id == cycle.library_version_id)
            .order_by(ThingThatMatters.name)
        )
    )


def current_parties(session: Session, relationship: Relationship) -> dict[str, str]:
    """``{key: name}`` of the relationship's configured (not retired) parties, in their order."""
    rows = session.execute(
        select(Party.key, Party.name)
        .where(Party.relationship_id == relationship.id, Party.retired_at.is_(None))
        .order_by(Party.position, Party.key)
    )
    return {key: name for key, name in rows}


@dataclass(frozen=True)
class ActionChoices:
    """What an editor of an action raised by ``cycle`` picks from."""

    cycle: int
    #: the cycle's own mode, the default of a new action
    cycle_mode: str
    value_codes: Sequence[str]
    things: Sequence[str]
    #: ``{party key: party name}``
    parties: dict[str, str]
    modes: Sequence[str] = CYCLE_MODES


def action_choices(session: Session, relationship_key: str, cycle_number: int) -> ActionChoices:
    """The Value Codes, Things That Matter, parties and modes an action raised by the cycle may have."""
    relationship = find_relationship(session, relationship_key)
    cycle = find_cycle(session, relationship, cycle_number)
    return ActionChoices(
        cycle=cycle.number,
        cycle_mode=cycle.mode,
        value_codes=tuple(library_codes(session, cycle)),
        things=tuple(library_things(session, cycle)),
        parties=current_parties(session, relationship),
    )
