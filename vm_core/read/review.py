"""Read-only queries behind the review app: relationships, cycles, the heatmap, one Value Code.

Plain functions taking a session and returning plain data (dataclasses, frames), so
the app can cache them. Scores come only from :func:`vm_core.read.scores.read_scores`,
which enforces anonymity; nothing here computes a number for a group of respondents.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.read.cells import find_cycle as _cycle
from vm_core.read.cells import find_relationship as _relationship
from vm_core.read.findings.wording import readable_name
from vm_core.read.reader import EVERYTHING, Scope
from vm_core.read.scores import read_scores
from vm_core.scoring import AgreementRule, effective_min_group_size, relationship_table
from vm_core.store.models import (
    LEVELS,
    Cycle,
    Party,
    Perspective,
    Relationship,
    Section,
    ThingThatMatters,
    ValueCode,
    ValueCodeLevel,
    value_code_thing,
)


@dataclass(frozen=True)
class RelationshipInfo:
    key: str
    name: str
    min_group_size: int  # effective: never below the floor, whatever is configured


@dataclass(frozen=True)
class CycleInfo:
    number: int
    mode: str
    opens_on: dt.date | None
    closes_on: dt.date | None

    @property
    def label(self) -> str:
        """E.g. "Cycle 2 · Solve (Mar 2025)": the month the cycle opened (or closed)."""
        text = f"Cycle {self.number} · {self.mode.title()}"
        when = self.opens_on or self.closes_on
        return f"{text} ({when:%b %Y})" if when else text


@dataclass(frozen=True)
class Column:
    """One group of respondents shown as a heatmap column (a group of :func:`read_scores`)."""

    label: str  # full label, e.g. "Northwind Council · Senior leadership"
    group_kind: str  # "party_perspective" | "perspective" | "party" | "all"
    group: str  # the group key of read_scores
    band: str  # heading over a run of columns, e.g. the party name
    short_label: str  # heading under the band, e.g. "Senior leadership"
    party: str | None = None  # the party key when the group lies within one party
    perspective: str | None = None  # the perspective key when the group lies within one perspective


@dataclass(frozen=True)
class Row:
    identifier: str
    description: str
    section: str
    short_name: str | None = None  # the library's short name, None when it gives none

    @property
    def name(self) -> str:
        """What findings call it: the short name, else one derived from the identifier ("Openness")."""
        return readable_name(self.identifier, self.description, self.short_name)


@dataclass(frozen=True)
class Cell:
    """One row of :func:`read_scores`, typed. A suppressed cell carries no number, only its reason."""

    n: int | None  # respondents who gave a level; None when suppressed
    n_no_level: int | None  # answered "no level" explicitly
    n_blank: int | None  # left it unanswered
    suppressed: bool
    suppression: str | None  # "below_minimum" | "complementary" | None (shown)
    levels: tuple[int, ...] | None  # counts l1..l5; None when suppressed
    mean: float | None
    consensus: float | None
    agreement: str | None  # "agreed" | "divided" | None


@dataclass(frozen=True)
class HeatmapData:
    relationship: RelationshipInfo
    cycle: CycleInfo
    rows: list[Row]  # Value Codes in section and position order
    columns: list[Column]
    scores: pd.DataFrame  # read_scores for the relationship and cycle
    agreement: AgreementRule  # the thresholds behind the agreed/divided labels
    level_labels: list[str]  # labels of levels 1..5 when all Value Codes share them, else "Level i"

    _cells: dict[tuple[str, str, str], Cell] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # one pass over the scores instead of a scan of the whole frame for every drawn cell
        cells = {
            (code, kind, group): _cell(row)
            for (code, kind, group), row in zip(
                zip(self.scores["value_code"], self.scores["group_kind"], self.scores["group"], strict=True),
                self.scores.to_dict("records"),
                strict=True,
            )
        }
        object.__setattr__(self, "_cells", cells)

    def cell(self, identifier: str, column: Column) -> Cell | None:
        return self._cells.get((identifier, column.group_kind, column.group))


@dataclass(frozen=True)
class LevelStatement:
    level: int
    label: str
    statement: str
    colour: str  # the method's colour name: red, amber, yellow, lime, green


@dataclass(frozen=True)
class ValueCodeDetail:
    relationship: RelationshipInfo
    cycle: CycleInfo
    identifier: str
    short_name: str | None  # the library's short name, None when it gives none
    description: str
    help_text: str | None
    section: str
    levels: list[LevelStatement]
    things_that_matter: list[str]
    columns: list[Column]
    scores: pd.DataFrame  # read_scores rows of this Value Code in this cycle
    agreement: AgreementRule

    @property
    def name(self) -> str:
        """What findings call it: the short name, else one derived from the identifier ("Openness")."""
        return readable_name(self.identifier, self.description, self.short_name)

    def cell(self, column: Column) -> Cell | None:
        return cell(self.scores, self.identifier, column)


# ---------------------------------------------------------------- lists


def list_relationships(session: Session, scope: Scope = EVERYTHING) -> list[RelationshipInfo]:
    rows = session.execute(
        select(Relationship.key, Relationship.name, Relationship.min_group_size).order_by(Relationship.name)
    ).all()
    return [
        RelationshipInfo(key, name, effective_min_group_size(size))
        for key, name, size in rows
        if scope.allows(key)
    ]


def list_cycles(session: Session, relationship_key: str, scope: Scope = EVERYTHING) -> list[CycleInfo]:
    if not scope.allows(relationship_key):
        return []
    rows = session.execute(
        select(Cycle.number, Cycle.mode, Cycle.opens_on, Cycle.closes_on)
        .join(Relationship, Relationship.id == Cycle.relationship_id)
        .where(Relationship.key == relationship_key)
        .order_by(Cycle.number)
    ).all()
    return [CycleInfo(number, mode, opens, closes) for number, mode, opens, closes in rows]


# ---------------------------------------------------------------- heatmap


def _info(relationship: Relationship) -> RelationshipInfo:
    return RelationshipInfo(
        relationship.key, relationship.name, effective_min_group_size(relationship.min_group_size)
    )


def columns(parties: Sequence[Party], perspectives: Sequence[Perspective]) -> list[Column]:
    """Party × perspective, then perspectives across parties, then party totals, then everybody."""
    across = "both parties" if len(parties) == 2 else "all parties"
    out = [
        Column(f"{p.name} · {q.name}", "party_perspective", f"{p.key}/{q.key}", p.name, q.name, p.key, q.key)
        for p in parties
        for q in perspectives
    ]
    out += [
        Column(f"{q.name} ({across})", "perspective", q.key, across.capitalize(), q.name, perspective=q.key)
        for q in perspectives
    ]
    out += [
        Column(f"{p.name} (all perspectives)", "party", p.key, "Totals", p.name, party=p.key) for p in parties
    ]
    out.append(Column("All respondents", "all", "all", "Totals", "All respondents"))
    return out


def _columns(session: Session, relationship: Relationship, cycle: Cycle) -> list[Column]:
    """The cycle's groups: the configured ones, and retired ones the cycle has scores for."""
    layout = relationship_table(session, relationship.id, cycle.id)
    parties = session.scalars(
        select(Party).where(Party.id.in_(list(layout.party_ids.values()))).order_by(Party.position, Party.id)
    ).all()
    perspectives = session.scalars(
        select(Perspective)
        .where(Perspective.id.in_(list(layout.perspective_ids.values())))
        .order_by(Perspective.position, Perspective.id)
    ).all()
    return columns(parties, perspectives)


def _cycle_info(cycle: Cycle) -> CycleInfo:
    return CycleInfo(cycle.number, cycle.mode, cycle.opens_on, cycle.closes_on)


def _level_labels(session: Session, library_version_id: int) -> list[str]:
    pairs = session.execute(
        select(ValueCodeLevel.level, ValueCodeLevel.label)
        .join(ValueCode, ValueCode.id == ValueCodeLevel.value_code_id)
        .where(ValueCode.library_version_id == library_version_id)
        .distinct()
    ).all()
    labels: dict[int, set[str]] = {}
    for level, label in pairs:
        labels.setdefault(level, set()).add(label)
    return [
        next(iter(labels[level])) if len(labels.get(level, ())) == 1 else f"Level {level}" for level in LEVELS
    ]


def heatmap(
    session: Session, relationship_key: str, cycle_number: int, scope: Scope = EVERYTHING
) -> HeatmapData:
    """Value Codes × groups of one cycle, with the anonymity-safe scores of :func:`read_scores`."""
    relationship = _relationship(session, relationship_key, scope)
    cycle = _cycle(session, relationship, cycle_number)
    rows = session.execute(
        select(ValueCode.identifier, ValueCode.description, Section.name, ValueCode.short_name)
        .join(Section, Section.id == ValueCode.section_id)
        .where(ValueCode.library_version_id == cycle.library_version_id)
        .order_by(Section.position, ValueCode.position, ValueCode.identifier)
    ).all()
    return HeatmapData(
        relationship=_info(relationship),
        cycle=_cycle_info(cycle),
        rows=[
            Row(identifier, description, section, short) for identifier, description, section, short in rows
        ],
        columns=_columns(session, relationship, cycle),
        scores=read_scores(session, relationship_key, cycle_number),
        agreement=AgreementRule.from_mapping(relationship.agreement or {}),
        level_labels=_level_labels(session, cycle.library_version_id),
    )


# ---------------------------------------------------------------- one Value Code


def value_code_detail(
    session: Session, relationship_key: str, cycle_number: int, identifier: str, scope: Scope = EVERYTHING
) -> ValueCodeDetail:
    """A Value Code of the cycle's library version: its texts and levels, and its scores per group."""
    relationship = _relationship(session, relationship_key, scope)
    cycle = _cycle(session, relationship, cycle_number)
    found = session.execute(
        select(ValueCode, Section.name)
        .join(Section, Section.id == ValueCode.section_id)
        .where(ValueCode.library_version_id == cycle.library_version_id, ValueCode.identifier == identifier)
    ).one_or_none()
    if found is None:
        raise LookupError(f"cycle {cycle_number} of {relationship_key!r} has no Value Code {identifier!r}")
    code, section = found
    levels = session.scalars(
        select(ValueCodeLevel).where(ValueCodeLevel.value_code_id == code.id).order_by(ValueCodeLevel.level)
    ).all()
    things = session.scalars(
        select(ThingThatMatters.name)
        .join(value_code_thing, value_code_thing.c.thing_id == ThingThatMatters.id)
        .where(value_code_thing.c.value_code_id == code.id)
        .order_by(ThingThatMatters.id)
    ).all()
    scores = read_scores(session, relationship_key, cycle_number)
    return ValueCodeDetail(
        relationship=_info(relationship),
        cycle=_cycle_info(cycle),
        identifier=code.identifier,
        short_name=code.short_name,
        description=code.description,
        help_text=code.help_text,
        section=section,
        levels=[LevelStatement(v.level, v.label, v.statement, v.colour) for v in levels],
        things_that_matter=list(things),
        columns=_columns(session, relationship, cycle),
        scores=scores[scores["value_code"] == code.identifier].reset_index(drop=True),
        agreement=AgreementRule.from_mapping(relationship.agreement or {}),
    )


# ---------------------------------------------------------------- cells


def _number(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def cell(scores: pd.DataFrame, identifier: str, column: Column) -> Cell | None:
    """The read_scores row of one Value Code and group, or None when there is none."""
    match = scores[
        (scores["value_code"] == identifier)
        & (scores["group_kind"] == column.group_kind)
        & (scores["group"] == column.group)
    ]
    return None if match.empty else _cell(match.iloc[0].to_dict())


def _cell(row: Mapping[str, Any]) -> Cell:
    suppressed = bool(row["suppressed"])
    counts = [_number(row[f"l{level}"]) for level in LEVELS]
    agreement = row["agreement"]
    return Cell(
        n=None if suppressed else int(row["n"]),
        n_no_level=None if suppressed else int(row["n_no_level"]),
        n_blank=None if suppressed else int(row["n_blank"]),
        suppressed=suppressed,
        suppression=str(row["suppression"]) if suppressed else None,
        levels=None if suppressed or None in counts else tuple(int(c or 0) for c in counts),
        mean=None if suppressed else _number(row["mean"]),
        consensus=None if suppressed else _number(row["consensus"]),
        agreement=None if suppressed or not isinstance(agreement, str) else agreement,
    )
