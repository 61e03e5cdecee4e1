"""Published cells: the level counts of a cycle's shown score rows, read through the one read path.

Gaps, changes and Things That Matter roll-ups are computed from these cells and from nothing
else. A cell is a Value Code × group of :func:`vm_core.read.scores.score_records`, which
re-applies suppression: a hidden row carries no number, so here it is only *hidden*, with its
reason. Every number computed from :class:`CycleCells` is therefore a function of numbers the
heatmap already shows, and adding or subtracting those outputs can tell no more than adding and
subtracting the heatmap, which the anonymity engine has made safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.read.reader import EVERYTHING, Scope
from vm_core.read.scores import LEVEL_COLUMNS, score_records
from vm_core.scoring.anonymity import Group
from vm_core.store.models import Cycle, Relationship

#: (Value Code identifier, group) — one cell of a cycle's heatmap.
CellKey = tuple[str, Group]


class Side(NamedTuple):
    """One side of a comparison: a published cell of a cycle."""

    cycle: int
    group: Group
    counts: tuple[int, ...]  # l1..l5


class CellPair(NamedTuple):
    """Two published cells of one Value Code to compare, read "x against y"."""

    value_code: str
    x: Side
    y: Side


@dataclass(frozen=True)
class CycleCells:
    """A cycle's heatmap as level counts: the shown cells' ``l1..l5``, and which cells are hidden."""

    relationship: str
    cycle: int
    value_codes: tuple[str, ...] = ()  # section and position order
    sections: Mapping[str, str] = field(default_factory=dict)  # identifier → section name
    groups: tuple[Group, ...] = ()  # display order: all, parties, perspectives, party × perspective
    shown: Mapping[CellKey, tuple[int, ...]] = field(default_factory=dict)  # → l1..l5
    hidden: Mapping[CellKey, str] = field(default_factory=dict)  # → "below_minimum" | "complementary"

    def counts(self, identifier: str, group: Group) -> tuple[int, ...] | None:
        """The cell's level counts ``l1..l5``; None when it is hidden or absent."""
        return self.shown.get((identifier, group))

    @property
    def parties(self) -> tuple[str, ...]:
        return tuple(str(g.party) for g in self.groups if g.kind == "party")

    @property
    def perspectives(self) -> tuple[str, ...]:
        return tuple(str(g.perspective) for g in self.groups if g.kind == "perspective")


def cycle_cells(session: Session, relationship_key: str, cycle_number: int) -> CycleCells:
    """The published cells of one cycle (empty when the cycle has no scores)."""
    value_codes: dict[str, None] = {}
    sections: dict[str, str] = {}
    groups: dict[Group, None] = {}
    shown: dict[CellKey, tuple[int, ...]] = {}
    hidden: dict[CellKey, str] = {}
    for r in score_records(session, relationship_key, cycle_number):
        identifier = str(r["value_code"])
        group = Group(r["group_kind"], r["party"], r["perspective"])
        value_codes.setdefault(identifier)
        sections[identifier] = str(r["section"])
        groups.setdefault(group)
        if r["suppressed"]:
            hidden[(identifier, group)] = str(r["suppression"])
        else:
            shown[(identifier, group)] = tuple(int(r[c]) for c in LEVEL_COLUMNS)
    return CycleCells(
        relationship_key, cycle_number, tuple(value_codes), sections, _display_order(groups), shown, hidden
    )


def _display_order(groups: Mapping[Group, None]) -> tuple[Group, ...]:
    """All, parties, perspectives, party × perspective; within a kind, as the read path ordered them."""
    kinds = ("all", "party", "perspective", "party_perspective")
    return tuple(sorted(groups, key=lambda g: kinds.index(g.kind)))  # stable: keeps the read order


# ---------------------------------------------------------------- relationships and cycles


def find_relationship(session: Session, relationship_key: str, scope: Scope = EVERYTHING) -> Relationship:
    """The relationship, or LookupError in one line (one outside ``scope`` reads as absent)."""
    found = session.scalar(select(Relationship).where(Relationship.key == relationship_key))
    if found is None or not scope.allows(relationship_key):
        raise LookupError(f"no relationship {relationship_key!r} in the store")
    return found


def find_cycle(session: Session, relationship: Relationship, cycle_number: int) -> Cycle:
    """The relationship's cycle ``cycle_number``, or LookupError in one line."""
    found = session.scalar(
        select(Cycle).where(Cycle.relationship_id == relationship.id, Cycle.number == cycle_number)
    )
    if found is None:
        raise LookupError(f"relationship {relationship.key!r} has no cycle {cycle_number}")
    return found


def earlier_cycles(session: Session, relationship: Relationship, cycle_number: int) -> list[Cycle]:
    """The relationship's cycles numbered below ``cycle_number``, first cycle first."""
    return list(
        session.scalars(
            select(Cycle)
            .where(Cycle.relationship_id == relationship.id, Cycle.number < cycle_number)
            .order_by(Cycle.number)
        )
    )
