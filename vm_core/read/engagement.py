"""Engagement: invited against responded per party × perspective per cycle, under the scores' suppression.

Counts
    *Invited* is configuration (``cycles[].invited``, table ``invited_count``): per party and
    perspective, and optionally per party (``all``). *Responded* counts people, not answers: the
    distinct respondents of the cycle's committed evaluations (the lake, read-only) per atom — a
    party × perspective cell, or a party's respondents whose role maps to no perspective — added up
    into the heatmap's groups (all, parties, perspectives, party × perspective) as the scores are.
    The response rate is responded / invited.

Which people a total covers
    A party's invited total is its configured ``all`` count, which covers everybody of the party;
    without one, it is the sum of its perspectives' counts (when each is configured), which covers
    only people with a perspective, and then the party's respondents whose role maps to no
    perspective are left out of its responded count too, so that a rate never divides people by a
    population they are not part of. A perspective's invited count across the parties, and *all*'s,
    are the sums of their parts, when each part is known; otherwise invited and rate are blank.

Suppression: the engine and rules of the scores
    The respondent counts form the heatmap's table over the same atoms, and
    :func:`vm_core.scoring.anonymity.suppress` hides every group with fewer respondents than the
    relationship's minimum group size and then, by its exact search, enough further groups (same
    cost order: a cross-party perspective row first) that no hidden count, and no union of atoms
    below the minimum, can be worked out from the shown ones — a party's total minus its other
    cells, say. A hidden row shows its invited count (configuration, not a response) and no other
    number. Engagement holds no answer, so whatever it is combined with it cannot give away a level
    count; what it tells is how many people of a shown group took part (docs/anonymity.md). A
    cycle whose newer data is held back from its scores (``Cycle.held_note``) shows no responded
    count at all: its scores are the earlier ones, and counts from the newer data would single out
    who arrived late.

Change from the previous cycle
    Responded and rate against the same group of the previous cycle (the highest-numbered below),
    where both are shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.lake.evidence import respondent_counts
from vm_core.lake.storage import Lake
from vm_core.read.cells import earlier_cycles, find_cycle, find_relationship
from vm_core.read.reader import EVERYTHING, Scope
from vm_core.scoring import RelationshipTable, effective_min_group_size, relationship_table
from vm_core.scoring.anonymity import CATEGORIES, Atom, Group, HeatmapTable, suppress
from vm_core.store.models import Cycle, InvitedCount, Party, Perspective, Relationship

EngagementSuppression = Literal["below_minimum", "complementary", "held"]


@dataclass(frozen=True)
class EngagementRow:
    """One group of one cycle: invited, responded, rate and change; a hidden row has only ``invited``."""

    relationship: str
    cycle: int
    group_kind: str  # all | party | perspective | party_perspective
    group: str  # the group key, as in score rows
    invited: int | None  # None: not configured
    responded: int | None  # people; None when hidden
    rate: float | None  # responded / invited
    previous_cycle: int | None  # the cycle the changes are from (None: no earlier cycle)
    responded_change: int | None
    rate_change: float | None  # in proportion points: 0.05 is five percentage points
    suppressed: bool
    suppression: EngagementSuppression | None


def read_engagement(
    session: Session, lake: Lake, relationship_key: str, cycle_number: int, *, scope: Scope = EVERYTHING
) -> list[EngagementRow]:
    """The cycle's engagement per group (heatmap order: all, parties, perspectives, party × perspective)."""
    relationship = find_relationship(session, relationship_key, scope)
    now = _cycle_rows(session, lake, relationship, find_cycle(session, relationship, cycle_number))
    earlier = earlier_cycles(session, relationship, cycle_number)
    if not earlier:
        return now
    previous = {r.group: r for r in _cycle_rows(session, lake, relationship, earlier[-1])}
    out = []
    for row in now:
        before = previous.get(row.group)
        out.append(
            replace(
                row,
                previous_cycle=earlier[-1].number,
                responded_change=None
                if row.responded is None or before is None or before.responded is None
                else row.responded - before.responded,
                rate_change=None
                if row.rate is None or before is None or before.rate is None
                else row.rate - before.rate,
            )
        )
    return out


def _cycle_rows(
    session: Session, lake: Lake, relationship: Relationship, cycle: Cycle
) -> list[EngagementRow]:
    layout = relationship_table(session, relationship.id, cycle.id)
    table = layout.table
    invited = _Invited(table, _configured(session, cycle, layout.party_keys, layout.perspective_keys))
    people = _responding(session, lake, cycle, layout, invited)
    hidden: dict[Group, EngagementSuppression] = (
        dict.fromkeys(table.groups, "held")
        if cycle.held_note
        else dict(suppress(table, people_tallies(people), effective_min_group_size(relationship)))
    )
    rows = []
    for group in table.groups:
        reason = hidden.get(group)
        responded = None if reason else sum(people.get(atom, 0) for atom in table.members(group))
        size = invited.of(group)
        rows.append(
            EngagementRow(
                relationship=relationship.key,
                cycle=cycle.number,
                group_kind=group.kind,
                group=group.key,
                invited=size,
                responded=responded,
                rate=responded / size if responded is not None and size else None,
                previous_cycle=None,
                responded_change=None,
                rate_change=None,
                suppressed=reason is not None,
                suppression=reason,
            )
        )
    return rows


def responding_people(
    session: Session, lake: Lake, relationship: Relationship, cycle: Cycle
) -> dict[Atom, int]:
    """The people engagement counts as responded, per atom: the cycle's respondents in the invited population.

    A party whose invited total is the sum of its perspectives' counts leaves out its respondents
    whose role maps to no perspective (module docstring). The anonymity audit reads the truth here.
    """
    layout = relationship_table(session, relationship.id, cycle.id)
    invited = _Invited(layout.table, _configured(session, cycle, layout.party_keys, layout.perspective_keys))
    return _responding(session, lake, cycle, layout, invited)


def people_tallies(people: Mapping[Atom, int]) -> dict[Atom, tuple[int, ...]]:
    """Respondent counts as the engine's tallies: one respondent stands for one answer in the level slots."""
    return {atom: (count,) + (0,) * (len(CATEGORIES) - 1) for atom, count in people.items()}


def _responding(
    session: Session, lake: Lake, cycle: Cycle, layout: RelationshipTable, invited: _Invited
) -> dict[Atom, int]:
    people: dict[Atom, int] = {}
    for (party, perspective), count in respondent_counts(session, lake, cycle).items():
        atom = layout.atom_of(party, perspective)
        if atom is not None and (atom.perspective is not None or not invited.per_perspective(atom.party)):
            people[atom] = people.get(atom, 0) + count  # outside the invited population: left out
    return people


def _configured(
    session: Session,
    cycle: Cycle,
    party_keys: Mapping[int | None, str],
    perspective_keys: Mapping[int | None, str],
) -> dict[tuple[str, str | None], int]:
    """(party key, perspective key or None for the party's ``all``) → invited, for the cycle's groups."""
    rows = session.execute(
        select(Party.id, Perspective.id, InvitedCount.invited)
        .join(Party, Party.id == InvitedCount.party_id)
        .outerjoin(Perspective, Perspective.id == InvitedCount.perspective_id)
        .where(InvitedCount.cycle_id == cycle.id)
    )
    out: dict[tuple[str, str | None], int] = {}
    for party_id, perspective_id, count in rows:
        if party_id in party_keys and (perspective_id is None or perspective_id in perspective_keys):
            out[(party_keys[party_id], perspective_keys.get(perspective_id))] = int(count)
    return out


@dataclass(frozen=True)
class _Invited:
    """Invited per group: configured per cell and per party (``all``), totals summed from their parts."""

    table: HeatmapTable
    configured: Mapping[tuple[str, str | None], int]

    def per_perspective(self, party: str) -> bool:
        """Whether the party's invited total is the sum of its perspectives' counts (it has no ``all``)."""
        return (
            bool(self.table.perspectives)
            and (party, None) not in self.configured
            and all((party, q) in self.configured for q in self.table.perspectives)
        )

    def of(self, group: Group) -> int | None:
        """The group's invited count; None when a part of it is not configured."""
        if group.kind == "party_perspective":
            return self.configured.get((str(group.party), group.perspective))
        if group.kind == "party" and not self.per_perspective(str(group.party)):
            return self.configured.get((str(group.party), None))
        if group.kind == "party":
            parts = [self.configured.get((str(group.party), q)) for q in self.table.perspectives]
        elif group.kind == "perspective":
            parts = [self.configured.get((p, group.perspective)) for p in self.table.parties]
        else:
            parts = [self.of(Group("party", party=p)) for p in self.table.parties]
        known = [v for v in parts if v is not None]
        return sum(known) if parts and len(known) == len(parts) else None
