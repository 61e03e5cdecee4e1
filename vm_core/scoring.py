"""Value Code scores: the statistics, the anonymity rules, and writing ``score`` rows.

Statistics
    For one group of respondents and one Value Code the counts ``l1..l5`` of the
    levels picked are summarised by the mean level, by the Tastle & Wierman
    consensus (1 = everybody at one level, 0 = split between the two ends of the
    scale) and by an agreement label ("agreed" / "divided" / none, see
    :class:`AgreementRule`). ``n`` is the number of respondents who gave a level;
    ``n_no_level`` those who answered "no level".

Groups
    Per cycle × Value Code a row is written for ``all`` respondents, for every
    configured ``party``, for every canonical ``perspective`` (across parties) and
    for every ``party_perspective`` pair, even when nobody answered (n = 0).
    Each evaluation carries the respondent's party and perspective *in that cycle*.
    Evaluations without a party are not scored at all; those without a perspective
    (an unmapped role) count in ``all`` and their ``party`` only.

Anonymity (enforced here, where scores are produced, and again in
:func:`vm_core.scores.read_scores`, the only read path)
    *Primary suppression*: a group with ``n`` below the relationship's effective
    minimum group size (``max(Relationship.min_group_size, 3)``) is stored with
    ``n`` and ``n_no_level`` only; ``l1..l5``, mean, consensus and agreement are
    NULL (a check constraint on ``score`` rejects anything else).

    *Complementary (secondary) suppression*: hiding a small group is not enough
    when its numbers can be recovered by subtraction. "all" is the sum of the
    parties, so if exactly one party were hidden, ``all − the visible parties``
    would be exactly the hidden party's distribution. The same holds for the
    perspectives (plus the never-published "unmapped" remainder: ``all − the
    perspectives`` is the distribution of the respondents without a perspective),
    for a party and its party × perspective cells (plus that party's unmapped
    remainder), and for a perspective and its party × perspective cells. So the
    groups are checked in these partitions::

        all          → parties
        all          → perspectives + unmapped remainder
        each party   → its party × perspective cells + its unmapped remainder
        each perspective → its party × perspective cells

    A child is *hidden* when it is suppressed, or when it is a remainder (never
    published) with ``0 < n < minimum``; a remainder of at least the minimum may
    be derivable, which is acceptable. Within a partition whose parent is
    published, if exactly one child with ``n > 0`` is hidden, the published child
    with the smallest ``n > 0`` (first in configured order on ties) is suppressed
    too; this is repeated over all partitions until none changes. Suppressed rows
    still carry ``n``: respondent counts are published, distributions are not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal, NamedTuple

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session

from vm_core.models import (
    LEVELS,
    MIN_GROUP_SIZE_FLOOR,
    Cycle,
    Evaluation,
    Party,
    Perspective,
    Relationship,
    Score,
    Section,
    ValueCode,
)

#: The columns of a score as exported (CSV header, JSON keys); see vm_core.scores.
SCORE_COLUMNS = (
    "relationship",
    "cycle",
    "value_code",
    "group_kind",
    "group",
    "n",
    "n_no_level",
    "l1",
    "l2",
    "l3",
    "l4",
    "l5",
    "mean",
    "consensus",
    "suppressed",
)

#: Distance between the ends of the 5-point scale: d = 5 − 1 in Tastle & Wierman's formula.
SCALE_WIDTH = LEVELS[-1] - LEVELS[0]

Agreement = Literal["agreed", "divided"]


# ---------------------------------------------------------------- statistics


def _checked(counts: Sequence[int]) -> tuple[int, ...]:
    if len(counts) != len(LEVELS):
        raise ValueError(f"expected {len(LEVELS)} level counts (l1..l5), got {len(counts)}")
    values = tuple(int(c) for c in counts)
    if any(c < 0 for c in values):
        raise ValueError(f"level counts must not be negative, got {list(values)}")
    return values


def mean_level(counts: Sequence[int]) -> float | None:
    """Mean level Σ i·l_i / n of the counts ``l1..l5``; None when nobody gave a level."""
    values = _checked(counts)
    n = sum(values)
    if n == 0:
        return None
    return sum(level * c for level, c in zip(LEVELS, values, strict=True)) / n


def consensus(counts: Sequence[int]) -> float | None:
    """Tastle & Wierman consensus of the counts ``l1..l5`` of a 5-point ordinal scale.

    ``Cns = 1 + Σ_i p_i · log2(1 − |i − μ| / d)`` for i = 1..5, with p_i = l_i / n,
    μ = Σ i·p_i and d = 5 − 1 = 4; a level nobody picked (p_i = 0) contributes 0.
    1 means everybody picked the same level, 0 an even split between levels 1 and 5.
    None when n = 0.

    Tastle, W.J. & Wierman, M.J. (2007) "Consensus and dissention: A measure of
    ordinal dispersion", International Journal of Approximate Reasoning 45(3), 531–545.
    """
    values = _checked(counts)
    n = sum(values)
    if n == 0:
        return None
    mu = sum(level * c for level, c in zip(LEVELS, values, strict=True)) / n
    total = 0.0
    for level, c in zip(LEVELS, values, strict=True):
        if c:
            # 1 − |i − μ|/d > 0 whenever p_i > 0: μ reaches an end only if all mass is there.
            total += (c / n) * math.log2(1 - abs(level - mu) / SCALE_WIDTH)
    return 1 + total


@dataclass(frozen=True)
class AgreementRule:
    """Thresholds for the "agreed" / "divided" labels of a score (``Relationship.agreement``).

    * **agreed** when consensus ≥ ``agreed_min_consensus`` (default 0.8: e.g. counts
      [0, 0, 2, 6, 2] have consensus 0.834, most respondents on one level and the
      rest next to it);
    * **divided** when consensus ≤ ``divided_max_consensus`` (default 0.5: e.g. an
      even 1/3/5 split [1, 0, 2, 0, 1] has consensus exactly 0.5) **and** both ends
      of the scale are populated: the share of levels 1–2 and the share of levels
      4–5 are each ≥ ``divided_min_end_share`` (default 0.25), so low consensus
      caused by a thin tail is not called a division;
    * otherwise no label. No label either when nobody gave a level.
    """

    agreed_min_consensus: float = 0.8
    divided_max_consensus: float = 0.5
    divided_min_end_share: float = 0.25

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                raise ValueError(f"agreement rule: {f.name} must be a number, got {value!r}")
            if not 0 <= value <= 1:
                raise ValueError(f"agreement rule: {f.name} must be between 0 and 1, got {value!r}")
        if self.divided_max_consensus >= self.agreed_min_consensus:
            raise ValueError(
                f"agreement rule: divided_max_consensus ({self.divided_max_consensus}) "
                f"must be below agreed_min_consensus ({self.agreed_min_consensus})"
            )
        if self.divided_min_end_share > 0.5:
            raise ValueError(
                "agreement rule: divided_min_end_share must be at most 0.5 (both ends must be able to "
                f"reach it), got {self.divided_min_end_share!r}"
            )

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> AgreementRule:
        """The rule from a relationship's ``agreement`` setting; missing keys keep their defaults."""
        if mapping is None:
            return cls()
        if not isinstance(mapping, Mapping):
            raise ValueError(
                f"agreement rule: expected a mapping of thresholds, got {type(mapping).__name__}"
            )
        known = [f.name for f in fields(cls)]
        unknown = sorted(str(k) for k in mapping if k not in known)
        if unknown:
            raise ValueError(
                f"agreement rule: unknown key(s) {', '.join(unknown)}; known: {', '.join(known)}"
            )
        return cls(**{str(k): v for k, v in mapping.items()})

    def label(self, counts: Sequence[int]) -> Agreement | None:
        values = _checked(counts)
        cns = consensus(values)
        if cns is None:
            return None
        if cns >= self.agreed_min_consensus:
            return "agreed"
        n = sum(values)
        low, high = (values[0] + values[1]) / n, (values[3] + values[4]) / n
        if (
            cns <= self.divided_max_consensus
            and low >= self.divided_min_end_share
            and high >= self.divided_min_end_share
        ):
            return "divided"
        return None


def effective_min_group_size(relationship: Relationship | int | None) -> int:
    """The relationship's minimum group size (or that number), never below :data:`MIN_GROUP_SIZE_FLOOR`."""
    configured = relationship.min_group_size if isinstance(relationship, Relationship) else relationship
    return max(configured if configured is not None else MIN_GROUP_SIZE_FLOOR, MIN_GROUP_SIZE_FLOOR)


# ---------------------------------------------------------------- groups and suppression


class Group(NamedTuple):
    """One scored group: ``kind`` with the party and/or perspective key it is about."""

    kind: str
    party: str | None = None
    perspective: str | None = None

    @property
    def key(self) -> str:
        """The ``score.group_key``: "all", the party key, the perspective key, or "party/perspective"."""
        if self.kind == "all":
            return "all"
        if self.kind == "party":
            return str(self.party)
        if self.kind == "perspective":
            return str(self.perspective)
        return f"{self.party}/{self.perspective}"


ALL = Group("all")


def partitions(groups: Iterable[Group]) -> list[tuple[Group, list[Group]]]:
    """The (parent, children) partitions that complementary suppression checks.

    The remainder of each partition (parent n − Σ children n: respondents without a
    perspective, or nobody) is implicit and computed from ``n``.
    """
    groups = list(groups)
    parties = [g for g in groups if g.kind == "party"]
    perspectives = [g for g in groups if g.kind == "perspective"]
    cells = [g for g in groups if g.kind == "party_perspective"]
    out: list[tuple[Group, list[Group]]] = [(ALL, parties), (ALL, perspectives)]
    out += [(p, [c for c in cells if c.party == p.party]) for p in parties]
    out += [(q, [c for c in cells if c.perspective == q.perspective]) for q in perspectives]
    return out


def suppressed_groups(
    n_by_group: Mapping[Group, int], min_group_size: int, already_hidden: Iterable[Group] = ()
) -> set[Group]:
    """The groups to suppress: primary (n < minimum) plus complementary (module docstring).

    ``n_by_group`` is in display order, which breaks ties between equally small
    candidates. ``already_hidden`` are groups suppressed for another reason (the
    read path passes the stored flags).
    """
    order = {g: i for i, g in enumerate(n_by_group)}
    hidden = {g for g, n in n_by_group.items() if n < min_group_size} | set(already_hidden)
    checks = partitions(n_by_group)
    changed = True
    while changed:
        changed = False
        for parent, children in checks:
            if parent not in n_by_group or parent in hidden:
                continue
            remainder = n_by_group[parent] - sum(n_by_group[c] for c in children)
            hidden_children = sum(1 for c in children if c in hidden and n_by_group[c] > 0)
            hidden_children += 1 if 0 < remainder < min_group_size else 0
            if hidden_children != 1:
                continue
            candidates = [c for c in children if c not in hidden and n_by_group[c] > 0]
            if candidates:
                hidden.add(min(candidates, key=lambda c: (n_by_group[c], order[c])))
                changed = True
    return hidden


# ---------------------------------------------------------------- writing scores


@dataclass(frozen=True)
class ScoreSummary:
    """What :func:`score_cycle` wrote."""

    cells: int  # score rows written (Value Codes × groups)
    suppressed_cells: int  # of which suppressed (primary or complementary)
    value_codes: int  # Value Codes of the cycle's library version
    participants: int  # scored participants: with a party and at least one evaluation in the cycle


def _score_row(
    cycle_id: int,
    value_code_id: int,
    group: Group,
    tally: Sequence[int],
    suppressed: bool,
    party_ids: Mapping[str, int],
    perspective_ids: Mapping[str, int],
    rule: AgreementRule,
) -> dict[str, Any]:
    no_level, levels = tally[0], list(tally[1:])
    row: dict[str, Any] = {
        "cycle_id": cycle_id,
        "value_code_id": value_code_id,
        "group_kind": group.kind,
        "group_key": group.key,
        "party_id": party_ids[group.party] if group.party is not None else None,
        "perspective_id": perspective_ids[group.perspective] if group.perspective is not None else None,
        "n": sum(levels),
        "n_no_level": no_level,
        "suppressed": suppressed,
    }
    published = not suppressed
    for level, count in zip(LEVELS, levels, strict=True):
        row[f"l{level}"] = count if published else None
    row["mean"] = mean_level(levels) if published else None
    row["consensus"] = consensus(levels) if published else None
    row["agreement"] = rule.label(levels) if published else None
    return row


def score_cycle(session: Session, cycle_id: int) -> ScoreSummary:
    """Compute and store the scores of one cycle, replacing any earlier ones.

    Level counts are aggregated in the database (one GROUP BY over evaluation ⋈
    participant by Value Code, party, perspective and level), so the work in Python
    is proportional to the number of groups, not of evaluations. Runs in the
    caller's transaction; nothing is committed here.
    """
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise LookupError(f"no cycle with id {cycle_id}")
    relationship = session.get(Relationship, cycle.relationship_id)
    if relationship is None:  # pragma: no cover - foreign key
        raise LookupError(f"cycle {cycle_id} has no relationship")
    rule = AgreementRule.from_mapping(relationship.agreement or {})
    min_size = effective_min_group_size(relationship)

    parties = session.execute(
        select(Party.id, Party.key)
        .where(Party.relationship_id == relationship.id)
        .order_by(Party.position, Party.id)
    ).all()
    perspectives = session.execute(
        select(Perspective.id, Perspective.key)
        .where(Perspective.relationship_id == relationship.id)
        .order_by(Perspective.position, Perspective.id)
    ).all()
    value_code_ids = list(
        session.scalars(
            select(ValueCode.id)
            .join(Section, Section.id == ValueCode.section_id)
            .where(ValueCode.library_version_id == cycle.library_version_id)
            .order_by(Section.position, ValueCode.position, ValueCode.id)
        )
    )
    party_key: dict[int | None, str] = {pid: key for pid, key in parties}
    perspective_key: dict[int | None, str] = {pid: key for pid, key in perspectives}
    party_ids = {key: pid for pid, key in parties}
    perspective_ids = {key: pid for pid, key in perspectives}

    groups = [ALL]
    groups += [Group("party", party=key) for _, key in parties]
    groups += [Group("perspective", perspective=key) for _, key in perspectives]
    groups += [Group("party_perspective", p, q) for _, p in parties for _, q in perspectives]

    # tally[value_code_id][group] = [n_no_level, l1, l2, l3, l4, l5]
    tally = {vc: {g: [0] * (1 + len(LEVELS)) for g in groups} for vc in value_code_ids}
    # each evaluation carries the respondent's party and perspective in this cycle: no join needed
    counts = session.execute(
        select(
            Evaluation.value_code_id,
            Evaluation.party_id,
            Evaluation.perspective_id,
            Evaluation.level,
            func.count(),
        )
        .where(Evaluation.cycle_id == cycle_id, Evaluation.party_id.is_not(None))
        .group_by(Evaluation.value_code_id, Evaluation.party_id, Evaluation.perspective_id, Evaluation.level)
    )
    for value_code_id, party_id, perspective_id, level, count in counts:
        by_group = tally.get(value_code_id)
        party = party_key.get(party_id)
        if by_group is None or party is None:
            continue  # a Value Code outside the cycle's library version, or another relationship's party
        slot = 0 if level is None else int(level)
        perspective = perspective_key.get(perspective_id)
        targets = [ALL, Group("party", party=party)]
        if perspective is not None:
            targets += [
                Group("perspective", perspective=perspective),
                Group("party_perspective", party, perspective),
            ]
        for group in targets:
            by_group[group][slot] += int(count)

    rows: list[dict[str, Any]] = []
    for value_code_id in value_code_ids:
        by_group = tally[value_code_id]
        hidden = suppressed_groups({g: sum(t[1:]) for g, t in by_group.items()}, min_size)
        rows += [
            _score_row(cycle_id, value_code_id, g, t, g in hidden, party_ids, perspective_ids, rule)
            for g, t in by_group.items()
        ]

    participants = session.scalar(
        select(func.count(func.distinct(Evaluation.participant_id))).where(
            Evaluation.cycle_id == cycle_id, Evaluation.party_id.in_(list(party_ids.values()))
        )
    )

    session.execute(delete(Score).where(Score.cycle_id == cycle_id))
    if rows:
        session.execute(insert(Score), rows)
    return ScoreSummary(
        cells=len(rows),
        suppressed_cells=sum(1 for r in rows if r["suppressed"]),
        value_codes=len(value_code_ids),
        participants=int(participants or 0),
    )


def stored_score_counts(session: Session, cycle_id: int) -> tuple[int, int]:
    """(cells, suppressed cells) of the scores already stored for a cycle."""
    cells, suppressed = session.execute(
        select(func.count(), func.coalesce(func.sum(case((Score.suppressed, 1), else_=0)), 0)).where(
            Score.cycle_id == cycle_id
        )
    ).one()
    return int(cells), int(suppressed)
