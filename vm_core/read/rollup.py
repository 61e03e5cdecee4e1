"""Things That Matter roll-up: a group's published Value Code cells pooled up to the Thing they map to.

In a cycle's library version each Value Code maps to one or more Things That Matter. For a Thing
and a group of respondents, the level counts ``l1..l5`` of the group's cells of every Value Code
mapped to the Thing are added up, and the pooled counts are described like one cell: the mean
level and the Tastle–Wierman consensus (:mod:`vm_core.scoring.statistics`). ``n`` counts
answers, not people: a respondent who evaluated three of the Thing's Value Codes counts three
times, so the mean is the mean of every answer given about the Thing (each Value Code weighted
by its answers).

Anonymity: a group is rolled up only when **every** one of the Thing's Value Code cells is
published (:func:`vm_core.read.cells.cycle_cells`). Otherwise its row is hidden (no number, reason
``value_code_hidden``), because the pooled counts minus the shown cells would give the hidden cell
away. A shown roll-up is a sum of shown cells, so it tells nothing the heatmap does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.read.cells import cycle_cells, find_cycle, find_relationship
from vm_core.read.reader import EVERYTHING, Scope
from vm_core.scoring.statistics import consensus, mean_level
from vm_core.store.models import LEVELS, Section, ThingThatMatters, ValueCode, value_code_thing

RollupSuppression = Literal["value_code_hidden"]


@dataclass(frozen=True)
class RollupRow:
    """One Thing That Matters × group of a cycle; a hidden row carries no number."""

    relationship: str
    cycle: int
    thing: str
    value_codes: tuple[str, ...]  # the Thing's Value Codes in the cycle's library version
    group_kind: str
    group: str
    n: int | None  # answers pooled
    levels: tuple[int, ...] | None  # pooled l1..l5
    mean: float | None
    consensus: float | None
    suppressed: bool
    suppression: RollupSuppression | None


def things_that_matter(session: Session, library_version_id: int) -> dict[str, tuple[str, ...]]:
    """Thing name → its Value Code identifiers (library order), for one library version; Things by name."""
    rows = session.execute(
        select(ThingThatMatters.name, ValueCode.identifier)
        .join(value_code_thing, value_code_thing.c.thing_id == ThingThatMatters.id)
        .join(ValueCode, ValueCode.id == value_code_thing.c.value_code_id)
        .join(Section, Section.id == ValueCode.section_id)
        .where(ThingThatMatters.library_version_id == library_version_id)
        .order_by(ThingThatMatters.name, Section.position, ValueCode.position, ValueCode.identifier)
    )
    out: dict[str, list[str]] = {}
    for name, identifier in rows:
        out.setdefault(name, []).append(identifier)
    return {name: tuple(codes) for name, codes in out.items()}


def read_rollup(
    session: Session, relationship_key: str, cycle_number: int, *, scope: Scope = EVERYTHING
) -> list[RollupRow]:
    """Every Thing That Matters × group of the cycle (Things by name, groups in heatmap order)."""
    relationship = find_relationship(session, relationship_key, scope)
    cycle = find_cycle(session, relationship, cycle_number)
    cells = cycle_cells(session, relationship_key, cycle_number)
    rows = []
    for thing, codes in things_that_matter(session, cycle.library_version_id).items():
        for group in cells.groups:
            parts = [cells.counts(code, group) for code in codes]
            pooled = (
                None
                if any(p is None for p in parts)
                else tuple(sum(p[i] for p in parts if p is not None) for i in range(len(LEVELS)))
            )
            rows.append(
                RollupRow(
                    relationship=relationship_key,
                    cycle=cycle_number,
                    thing=thing,
                    value_codes=codes,
                    group_kind=group.kind,
                    group=group.key,
                    n=None if pooled is None else sum(pooled),
                    levels=pooled,
                    mean=None if pooled is None else mean_level(pooled),
                    consensus=None if pooled is None else consensus(pooled),
                    suppressed=pooled is None,
                    suppression="value_code_hidden" if pooled is None else None,
                )
            )
    return rows
