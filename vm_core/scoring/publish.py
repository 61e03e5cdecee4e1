"""Value Code scores: the statistics, and writing ``score`` rows through the anonymity engine.

Statistics
    For one group of respondents and one Value Code the counts ``l1..l5`` of the
    levels picked are summarised by the mean level, by the Tastle & Wierman
    consensus (1 = everybody at one level, 0 = split between the two ends of the
    scale) and by an agreement label ("agreed" / "divided" / none, see
    :class:`AgreementRule`). ``n`` is the number of respondents who gave a level;
    ``n_no_level`` those who answered "no level" explicitly (e.g. "Not applicable");
    ``n_blank`` those who left the cell unanswered.

Groups
    Per cycle × Value Code a row is written for ``all`` respondents, for every
    configured ``party``, for every canonical ``perspective`` (across parties) and
    for every ``party_perspective`` pair, even when nobody answered (n = 0).
    Each evaluation carries the respondent's party and perspective *in that cycle*.
    Evaluations without a party are not scored at all; those without a perspective
    (an unmapped role) count in ``all`` and their ``party`` only. Every group is a
    sum of *atoms* (party × perspective, and each party's never-published rest
    without a perspective), counted by one GROUP BY over the cycle's lake files
    (:func:`vm_core.lake.evidence.cycle_counts`, :func:`atom_tallies`).

Anonymity (:mod:`vm_core.scoring.anonymity`; enforced here and again in
:func:`vm_core.read.scores.read_scores`, the only read path)
    :func:`vm_core.scoring.anonymity.suppress` hides every group below the minimum and, by
    an exact search, enough further groups that no union of hidden atoms smaller
    than the minimum can be worked out from the shown groups. A hidden row is stored
    with its counts (internal) but without l1..l5, mean, consensus or agreement (a
    check constraint on ``score`` rejects anything else); the read path masks its
    counts too.

Re-scoring (late delivery, re-mapping)
    The atom counts behind a cycle's published scores are kept in
    ``published_tally``. When the cycle is scored again with different atoms,
    :func:`vm_core.scoring.anonymity.differencing_risk` checks that old and new outputs
    differenced cannot single out the few people who changed. If they could, the
    new scores are *held*: the published scores and tallies stay, ``Cycle.held_note``
    says why, and the run reports it. ``publish_held`` (an administrator's
    decision) and an erasure publish anyway.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, delete, func, insert, or_, select
from sqlalchemy.orm import Session

# Group and ALL lived here before the anonymity engine: re-exported for existing importers
from vm_core.scoring.anonymity import ALL as ALL
from vm_core.scoring.anonymity import CATEGORIES, Atom, HeatmapTable, Suppression, differencing_risk, suppress
from vm_core.scoring.anonymity import Group as Group
from vm_core.scoring.statistics import STATISTICS, AgreementRule
from vm_core.store.models import (
    LEVELS,
    MIN_GROUP_SIZE_FLOOR,
    Cycle,
    Party,
    Perspective,
    PublishedTally,
    Relationship,
    Score,
    Section,
    ValueCode,
)

if TYPE_CHECKING:  # the lake (pyarrow) is not imported to read scores
    from vm_core.lake.evidence import CycleCounts

#: The columns of a score as exported (CSV header, JSON keys); see vm_core.read.scores.
SCORE_COLUMNS = (
    "relationship",
    "cycle",
    "value_code",
    "group_kind",
    "group",
    "n",
    "n_no_level",
    "n_blank",
    "l1",
    "l2",
    "l3",
    "l4",
    "l5",
    "mean",
    "consensus",
    "suppressed",
    "suppression",
)


def effective_min_group_size(relationship: Relationship | int | None) -> int:
    """The relationship's minimum group size (or that number), never below :data:`MIN_GROUP_SIZE_FLOOR`."""
    configured = relationship.min_group_size if isinstance(relationship, Relationship) else relationship
    return max(configured if configured is not None else MIN_GROUP_SIZE_FLOOR, MIN_GROUP_SIZE_FLOOR)


# ---------------------------------------------------------------- atoms and tables

#: Atom tallies of a cycle: value_code_id → atom → 7 counts in ``CATEGORIES`` order.
CycleTallies = dict[int, dict[Atom, list[int]]]

_NO_LEVEL, _BLANK = CATEGORIES.index("no_level"), CATEGORIES.index("blank")


@dataclass(frozen=True)
class RelationshipTable:
    """A relationship's heatmap table with the store ids behind its keys."""

    table: HeatmapTable
    party_ids: dict[str, int]  # key → id, display order
    perspective_ids: dict[str, int]

    @cached_property
    def party_keys(self) -> dict[int | None, str]:
        return {pid: key for key, pid in self.party_ids.items()}

    @cached_property
    def perspective_keys(self) -> dict[int | None, str]:
        return {pid: key for key, pid in self.perspective_ids.items()}

    def atom(self, party_id: int | None, perspective_id: int | None) -> Atom | None:
        """The atom of a (party, perspective) pair of ids; None for a party outside the relationship."""
        party = self.party_keys.get(party_id)
        if party is None:
            return None
        # a perspective outside the relationship counts as none, like an unmapped role
        return Atom(party, self.perspective_keys.get(perspective_id))

    def atom_of(self, party: str, perspective: str | None) -> Atom | None:
        """The atom of a (party, perspective) pair of keys as the lake stores them; None for an unknown party.

        Evaluations of a party the relationship does not know (retired and gone) belong to no atom; a
        perspective that left the configuration counts as none, like an unmapped role.
        """
        if party not in self.party_ids:
            return None
        return Atom(party, perspective if perspective in self.perspective_ids else None)


def relationship_table(
    session: Session, relationship_id: int, cycle_id: int | None = None, present: Collection[str] = ()
) -> RelationshipTable:
    """The relationship's parties and perspectives (display order) as a :class:`HeatmapTable`.

    Parties and perspectives retired from the configuration stay in a cycle that has scores for
    them (or data: ``present`` keys), so the past keeps its groups; new cycles have only the
    configured ones.
    """

    def keep(model: type[Party] | type[Perspective]) -> Any:
        column = Score.party_id if model is Party else Score.perspective_id
        tally = PublishedTally.party_id if model is Party else PublishedTally.perspective_id
        in_cycle = [
            model.id.in_(select(column).where(Score.cycle_id == cycle_id)),
            model.id.in_(select(tally).where(PublishedTally.cycle_id == cycle_id)),
        ]
        return or_(model.retired_at.is_(None), model.key.in_(list(present)), *(in_cycle if cycle_id else []))

    parties = session.execute(
        select(Party.key, Party.id)
        .where(Party.relationship_id == relationship_id, keep(Party))
        .order_by(Party.position, Party.id)
    ).all()
    perspectives = session.execute(
        select(Perspective.key, Perspective.id)
        .where(Perspective.relationship_id == relationship_id, keep(Perspective))
        .order_by(Perspective.position, Perspective.id)
    ).all()
    return RelationshipTable(
        HeatmapTable(parties=tuple(k for k, _ in parties), perspectives=tuple(k for k, _ in perspectives)),
        {k: i for k, i in parties},
        {k: i for k, i in perspectives},
    )


def atom_tallies(counts: CycleCounts, layout: RelationshipTable, code_ids: Mapping[str, int]) -> CycleTallies:
    """What the cycle's evaluations say, per Value Code id and atom (counted in the lake, vm_core.lake.evidence).

    The work in Python is proportional to the number of atoms, not of evaluations.
    Evaluations of a party or perspective the relationship does not know (retired and
    gone) are not scored. Atoms nobody answered are absent.
    """
    out: CycleTallies = {}
    for code, party, perspective, level, blank, count in counts.rows:
        value_code_id = code_ids.get(code)
        atom = layout.atom_of(party, perspective)
        if value_code_id is None or atom is None:
            continue
        slot = int(level) - 1 if level is not None else _BLANK if blank else _NO_LEVEL
        tally = out.setdefault(value_code_id, {}).setdefault(atom, [0] * len(CATEGORIES))
        tally[slot] += int(count)
    return out


def published_tallies(session: Session, cycle_id: int, layout: RelationshipTable) -> CycleTallies:
    """The atom counts behind the cycle's published scores (empty: nothing published yet)."""
    rows = session.execute(
        select(
            PublishedTally.value_code_id,
            PublishedTally.party_id,
            PublishedTally.perspective_id,
            PublishedTally.l1,
            PublishedTally.l2,
            PublishedTally.l3,
            PublishedTally.l4,
            PublishedTally.l5,
            PublishedTally.n_no_level,
            PublishedTally.n_blank,
        ).where(PublishedTally.cycle_id == cycle_id)
    )
    out: CycleTallies = {}
    for value_code_id, party_id, perspective_id, *counts in rows:
        atom = layout.atom(party_id, perspective_id)
        if atom is not None:
            out.setdefault(value_code_id, {})[atom] = [int(c) for c in counts]
    return out


def _nonzero(tallies: Mapping[Atom, Sequence[int]]) -> dict[Atom, tuple[int, ...]]:
    return {atom: tuple(t) for atom, t in tallies.items() if any(t)}


# ---------------------------------------------------------------- writing scores


@dataclass(frozen=True)
class ScoreSummary:
    """What :func:`score_cycle` published (or kept, when the new scores are held)."""

    cells: int  # score rows of the cycle (Value Codes × groups)
    suppressed_cells: int  # of which suppressed (below the minimum, or complementary)
    value_codes: int  # Value Codes of the cycle's library version
    participants: int  # scored participants: with a party and at least one evaluation in the cycle
    held: str | None = None  # why newer data was NOT published (the previous scores stay)
    risk_accepted: str | None = None  # a differencing risk published anyway (publish_held)


def _score_row(
    cycle_id: int,
    value_code_id: int,
    group: Group,
    tally: Sequence[int],
    suppression: Suppression | None,
    layout: RelationshipTable,
    rule: AgreementRule,
) -> dict[str, Any]:
    levels = list(tally[: len(LEVELS)])
    published = suppression is None
    row: dict[str, Any] = {
        "cycle_id": cycle_id,
        "value_code_id": value_code_id,
        "group_kind": group.kind,
        "group_key": group.key,
        "party_id": layout.party_ids[group.party] if group.party is not None else None,
        "perspective_id": layout.perspective_ids[group.perspective]
        if group.perspective is not None
        else None,
        # counts are kept for every row (internal); the read path masks them for hidden rows
        "n": sum(levels),
        **_count_columns(tally),
        "suppressed": not published,
    }
    if not published:
        row |= {f"l{level}": None for level in LEVELS}
    row |= {name: statistic(levels) if published else None for name, statistic in STATISTICS.items()}
    row["agreement"] = rule.label(levels) if published else None
    return row


def _count_columns(tally: Sequence[int]) -> dict[str, int]:
    """A tally as the ``l1..l5``, ``n_no_level`` and ``n_blank`` columns of ``score`` and ``published_tally``."""
    return {f"l{level}": tally[level - 1] for level in LEVELS} | {
        "n_no_level": tally[_NO_LEVEL],
        "n_blank": tally[_BLANK],
    }


def _shown_groups(session: Session, cycle_id: int) -> dict[int, set[Group]]:
    """value_code_id → the groups the cycle's stored scores publish."""
    rows = session.execute(
        select(Score.value_code_id, Score.group_kind, Party.key, Perspective.key)
        .outerjoin(Party, Party.id == Score.party_id)
        .outerjoin(Perspective, Perspective.id == Score.perspective_id)
        .where(Score.cycle_id == cycle_id, Score.suppressed.is_(False))
    )
    out: dict[int, set[Group]] = {}
    for value_code_id, kind, party, perspective in rows:
        out.setdefault(value_code_id, set()).add(Group(kind, party, perspective))
    return out


def _value_codes(session: Session, cycle: Cycle) -> list[tuple[int, str]]:
    return [
        (vc_id, identifier)
        for vc_id, identifier in session.execute(
            select(ValueCode.id, ValueCode.identifier)
            .join(Section, Section.id == ValueCode.section_id)
            .where(ValueCode.library_version_id == cycle.library_version_id)
            .order_by(Section.position, ValueCode.position, ValueCode.id)
        )
    ]


def score_cycle(
    session: Session,
    cycle_id: int,
    counts: CycleCounts,
    *,
    erasure: bool = False,
    publish_held: bool = False,
) -> ScoreSummary:
    """Compute the scores of one cycle and publish them, unless the re-scoring rule holds them back.

    The first scoring of a cycle always publishes. A later one whose atom counts differ
    from the published ones publishes only when
    :func:`~vm_core.scoring.anonymity.differencing_risk` finds old and new outputs safe to
    compare; otherwise the published scores stay, ``Cycle.held_note`` records why and
    :attr:`ScoreSummary.held` reports it. ``erasure`` (a person erased: their answers
    must leave the outputs) and ``publish_held`` (an administrator's decision; reported
    in :attr:`ScoreSummary.risk_accepted`) publish anyway. Runs in the caller's
    transaction; nothing is committed here.
    """
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise LookupError(f"no cycle with id {cycle_id}")
    relationship = session.get(Relationship, cycle.relationship_id)
    if relationship is None:  # pragma: no cover - foreign key
        raise LookupError(f"cycle {cycle_id} has no relationship")
    rule = AgreementRule.from_mapping(relationship.agreement or {})
    min_size = effective_min_group_size(relationship)
    present = {party for _, party, _, _, _, _ in counts.rows} | {
        perspective for _, _, perspective, _, _, _ in counts.rows if perspective is not None
    }
    layout = relationship_table(session, relationship.id, cycle_id, present)
    table = layout.table
    value_codes = _value_codes(session, cycle)
    now = atom_tallies(counts, layout, {identifier: vc for vc, identifier in value_codes})
    cycle.participants = counts.participants

    hidden = {vc: suppress(table, now.get(vc, {}), min_size) for vc, _ in value_codes}
    now_shown = {vc: set(table.groups) - set(hidden[vc]) for vc, _ in value_codes}

    risks: list[tuple[str, str]] = []  # (Value Code identifier, reason)
    before = published_tallies(session, cycle_id, layout)
    if before and not erasure:
        before_shown = _shown_groups(session, cycle_id)
        for vc, identifier in value_codes:
            old, new = _nonzero(before.get(vc, {})), _nonzero(now.get(vc, {}))
            if old == new and before_shown.get(vc, set()) == now_shown[vc]:
                continue  # same people, same cells: nothing to difference
            reason = differencing_risk(table, before_shown.get(vc, set()), now_shown[vc], old, new, min_size)
            if reason is not None:
                risks.append((identifier, reason))
    risk = _risk_note(risks)
    if risk is not None and not publish_held:
        cycle.held_note = risk
        return stored_summary(session, cycle_id)

    rows: list[dict[str, Any]] = []
    tally_rows: list[dict[str, Any]] = []
    for vc, _ in value_codes:
        atoms = now.get(vc, {})
        rows += [
            _score_row(cycle_id, vc, g, table.group_tally(g, atoms), hidden[vc].get(g), layout, rule)
            for g in table.groups
        ]
        tally_rows += [
            {
                "cycle_id": cycle_id,
                "value_code_id": vc,
                "party_id": layout.party_ids[atom.party],
                "perspective_id": layout.perspective_ids[atom.perspective]
                if atom.perspective is not None
                else None,
                **_count_columns(tally),
            }
            for atom, tally in atoms.items()
            if any(tally)
        ]
    session.execute(delete(Score).where(Score.cycle_id == cycle_id))
    session.execute(delete(PublishedTally).where(PublishedTally.cycle_id == cycle_id))
    if rows:
        session.execute(insert(Score), rows)
    if tally_rows:
        session.execute(insert(PublishedTally), tally_rows)
    cycle.held_note = None
    return ScoreSummary(
        cells=len(rows),
        suppressed_cells=sum(1 for r in rows if r["suppressed"]),
        value_codes=len(value_codes),
        participants=counts.participants,
        risk_accepted=risk,
    )


def _risk_note(risks: Sequence[tuple[str, str]]) -> str | None:
    """One line for the cycle: the first Value Code's reason, and how many more share the risk."""
    if not risks:
        return None
    identifier, reason = risks[0]
    more = f" and {len(risks) - 1} more Value Code(s)" if len(risks) > 1 else ""
    return f"{reason} ({identifier}{more})"


def stored_summary(session: Session, cycle_id: int) -> ScoreSummary:
    """The summary of the scores already stored for a cycle, with its held note."""
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise LookupError(f"no cycle with id {cycle_id}")
    cells, suppressed, value_codes = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Score.suppressed, 1), else_=0)), 0),
            func.count(func.distinct(Score.value_code_id)),
        ).where(Score.cycle_id == cycle_id)
    ).one()
    return ScoreSummary(
        cells=int(cells),
        suppressed_cells=int(suppressed),
        value_codes=int(value_codes),
        participants=cycle.participants or 0,
        held=cycle.held_note,
    )


def has_published_tally(session: Session, cycle_id: int) -> bool:
    """Whether the cycle's scores were published with their atom counts (scores before that are re-scored)."""
    return (
        session.scalar(select(PublishedTally.id).where(PublishedTally.cycle_id == cycle_id).limit(1))
        is not None
    )
