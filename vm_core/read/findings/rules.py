"""Which findings a cycle's published cells and comparisons allow: pure functions, no store.

Every rule reads only :class:`~vm_core.read.cells.CycleCells` (the published cells; a hidden cell
has no counts there) and :class:`~vm_core.read.gaps.Gap` (comparisons of two published cells), so a
finding never rests on, cites or gives away a hidden cell. ``docs/statistics.md`` ("Findings") has
the rules, thresholds, ranking and wording, with the demo's sentences.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vm_core.read.cells import CycleCells, Side
from vm_core.read.findings import wording
from vm_core.read.findings.model import CitedCell, Finding, finding_key, ranked
from vm_core.read.gaps import Gap, Thresholds
from vm_core.scoring.anonymity import ALL, Group
from vm_core.scoring.statistics import AgreementRule, consensus

DETECTED = ("higher", "lower")
#: The defaults: the method's agreement thresholds, and the comparisons' (which set the fewest answers too).
DEFAULT_RULE = AgreementRule()
DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Vocabulary:
    """The relationship's words: party and perspective names, Value Code names and level labels, cycle modes."""

    parties: Mapping[str, str]  # party key → Party.name
    perspectives: Mapping[str, str]  # perspective key → Perspective.name
    names: Mapping[str, str]  # Value Code identifier → readable name (wording.readable_name)
    level_labels: Mapping[tuple[str, int], str]  # (identifier, level) → label in the cycle's library version
    earlier_modes: Mapping[int, str]  # each earlier cycle's number → its mode

    def label(self, identifier: str, level: int) -> str:
        return self.level_labels.get((identifier, level)) or f"level {level}"

    def name(self, identifier: str) -> str:
        return self.names.get(identifier, identifier)

    def party(self, key: str | None) -> str:
        return self.parties.get(str(key), str(key))

    def perspective(self, key: str | None) -> str:
        return self.perspectives.get(str(key), str(key))


def find_all(
    cells: CycleCells,
    gaps: Sequence[Gap],
    words: Vocabulary,
    rule: AgreementRule = DEFAULT_RULE,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[Finding]:
    """Every finding of the cycle, ranked (:func:`~vm_core.read.findings.model.ranked`)."""
    found = [
        *party_gaps(cells, gaps, words),
        *changes(cells, gaps, words),
        *agreements(cells, words, rule, thresholds.min_n),
        *divisions(cells, words, rule, thresholds.min_n),
    ]
    return ranked(found, cells.value_codes)


# ---------------------------------------------------------------- breadth


def _units(cells: CycleCells) -> int:
    """The relationship's party × perspective cells (parties alone when it has no perspectives)."""
    return len(cells.parties) * max(len(cells.perspectives), 1)


def _cover(cells: CycleCells, group: Group) -> int:
    """How many of those cells a group spans."""
    if group.kind == "all":
        return _units(cells)
    if group.kind == "party":
        return max(len(cells.perspectives), 1)
    if group.kind == "perspective":
        return len(cells.parties)
    return 1


def _breadth(cells: CycleCells, groups: Iterable[Group]) -> float:
    return min(1.0, sum(_cover(cells, g) for g in groups) / _units(cells))


# ---------------------------------------------------------------- agreement and division


def _cell(cells: CycleCells, identifier: str, group: Group, min_n: int) -> CitedCell | None:
    """The published cell, when it has at least ``min_n`` answers (else None: no sentence rests on it)."""
    counts = cells.counts(identifier, group)
    if counts is None or sum(counts) < min_n:
        return None
    return CitedCell(cells.cycle, identifier, group, counts)


def _consensus(cell: CitedCell) -> float:
    value = consensus(cell.counts)
    assert value is not None  # a cited cell has answers
    return value


def _ends(cell: CitedCell) -> tuple[float, float]:
    """Shares of the answers at levels 1–2 and at levels 4–5."""
    c = cell.counts
    return (c[0] + c[1]) / cell.n, (c[3] + c[4]) / cell.n


def _described(cited: Sequence[CitedCell]) -> str:
    return "; ".join(
        f"{c.group.key}: n = {c.n}, mean {float(wording.exact_mean(c.counts)):.2f}, consensus {_consensus(c):.3f}"
        for c in cited
    )


def agreements(cells: CycleCells, words: Vocabulary, rule: AgreementRule, min_n: int) -> list[Finding]:
    """A perspective whose cells in every party are published, agreed, and nearest the same level.

    Needs at least two parties, and each party's cell of the perspective published with at least
    ``min_n`` answers, labelled *agreed* by ``rule``, and with its mean nearest the same level (a
    mean exactly halfway between two levels is nearest neither). A party whose cell is hidden, too
    small or not agreed means no sentence: "on both sides" is never said for one side.
    """
    if len(cells.parties) < 2:
        return []
    found = []
    for identifier in cells.value_codes:
        for perspective in cells.perspectives:
            cited = [
                _cell(cells, identifier, Group("party_perspective", p, perspective), min_n)
                for p in cells.parties
            ]
            shown = [c for c in cited if c is not None]
            if len(shown) < len(cited) or any(rule.label(c.counts) != "agreed" for c in shown):
                continue
            levels = {wording.nearest_level(c.counts) for c in shown}
            level = levels.pop() if len(levels) == 1 else None
            if level is None:
                continue
            label = words.label(identifier, level)
            found.append(
                Finding(
                    key=finding_key("agreement", cells.cycle, identifier, [f"*/{perspective}"]),
                    kind="agreement",
                    relationship=cells.relationship,
                    cycle=cells.cycle,
                    value_code=identifier,
                    name=words.name(identifier),
                    sentence=wording.agreement_sentence(
                        words.perspective(perspective), len(cells.parties), words.name(identifier), label
                    ),
                    strength=min(_consensus(c) for c in shown),
                    breadth=_breadth(cells, (c.group for c in shown)),
                    cells=tuple(shown),
                    statistic={"level": level, "label": label},
                    thresholds={"agreed_min_consensus": rule.agreed_min_consensus, "min_n": min_n},
                    reason=f"{_described(shown)}; every consensus ≥ {rule.agreed_min_consensus:g}, "
                    f"every mean nearest level {level}, n ≥ {min_n}",
                )
            )
    return found


def divisions(cells: CycleCells, words: Vocabulary, rule: AgreementRule, min_n: int) -> list[Finding]:
    """Divided perspectives, said of the broadest published group, once per perspective and Value Code.

    A cell counts when published with at least ``min_n`` answers and labelled *divided* by ``rule``.
    In this order, the first that holds is the finding:

    1. every party's cell of the perspective (two parties or more): "… on both sides are divided";
    2. the perspective across the parties: "Senior leadership are divided";
    3. each party's cell on its own: "Senior leadership at Northwind Council are divided".
    """
    found = []
    for identifier in cells.value_codes:
        for perspective in cells.perspectives:
            name = words.perspective(perspective)
            per_party = [
                _cell(cells, identifier, Group("party_perspective", p, perspective), min_n)
                for p in cells.parties
            ]
            divided = [c for c in per_party if c is not None and rule.label(c.counts) == "divided"]
            across = _cell(cells, identifier, Group("perspective", perspective=perspective), min_n)
            if len(cells.parties) >= 2 and len(divided) == len(per_party):
                chosen = [(f"{name} on {wording.sides(len(cells.parties))}", divided, f"*/{perspective}")]
            elif across is not None and rule.label(across.counts) == "divided":
                chosen = [(name, [across], perspective)]
            else:
                chosen = [
                    (wording.group_phrase(c.group, words.parties, words.perspectives), [c], c.group.key)
                    for c in divided
                ]
            found += [_division(cells, words, rule, min_n, identifier, *choice) for choice in chosen]
    return found


def _division(
    cells: CycleCells,
    words: Vocabulary,
    rule: AgreementRule,
    min_n: int,
    identifier: str,
    who: str,
    cited: Sequence[CitedCell],
    subject: str,
) -> Finding:
    ends = [_ends(c) for c in cited]
    described = "; ".join(
        f"{c.group.key}: n = {c.n}, consensus {_consensus(c):.3f}, "
        f"{low:.0%} at levels 1–2 and {high:.0%} at levels 4–5"
        for c, (low, high) in zip(cited, ends, strict=True)
    )
    return Finding(
        key=finding_key("division", cells.cycle, identifier, [subject]),
        kind="division",
        relationship=cells.relationship,
        cycle=cells.cycle,
        value_code=identifier,
        name=words.name(identifier),
        sentence=wording.division_sentence(who, words.name(identifier)),
        strength=1 - max(_consensus(c) for c in cited),
        breadth=_breadth(cells, (c.group for c in cited)),
        cells=tuple(cited),
        statistic={"lowest_end_share": min(min(pair) for pair in ends)},
        thresholds={
            "divided_max_consensus": rule.divided_max_consensus,
            "divided_min_end_share": rule.divided_min_end_share,
            "min_n": min_n,
        },
        reason=f"{described}; every consensus ≤ {rule.divided_max_consensus:g} with at least "
        f"{rule.divided_min_end_share:.0%} at each end, n ≥ {min_n}",
    )


# ---------------------------------------------------------------- comparisons


def _detected(gaps: Iterable[Gap], kind: str) -> dict[tuple[str, Group, Group, int], Gap]:
    """(Value Code, x group, y group, y cycle) → the gap, for the gaps of ``kind`` with a verdict."""
    return {
        (g.value_code, g.x.group, g.y.group, g.y.cycle): g
        for g in gaps
        if g.kind == kind and g.comparison.verdict in DETECTED
    }


def _comparison_evidence(gap: Gap) -> tuple[dict[str, Any], dict[str, Any], str]:
    test, comparison = gap.comparison.test, gap.comparison
    record = gap.record()
    statistic = {
        "theta": test.theta,
        "ci_low": test.ci_low,
        "ci_high": test.ci_high,
        "confidence": test.confidence,
        "statistic": test.statistic,
        "df": test.df,
        "p": test.p_value,
        "q": comparison.q_value,
        "mean_difference": comparison.mean_difference,
        "verdict": comparison.verdict,
        "magnitude": gap.magnitude,
    }
    thresholds = {"alpha": comparison.alpha, "practical": comparison.practical, "min_n": comparison.min_n}
    reason = (
        f"{_side(gap.x, gap.y)} against {_side(gap.y, gap.x)}: mean {record['mean_x']:.2f} against "
        f"{record['mean_y']:.2f}; {comparison.reason}"
    )
    return statistic, thresholds, reason


def _side(side: Side, other: Side) -> str:
    return side.group.key if side.cycle == other.cycle else f"{side.group.key} (cycle {side.cycle})"


def _strength(gap: Gap) -> float:
    """Cliff's |δ| = |2θ − 1|: 0 when neither group tends higher, 1 when every answer of one is above the other's."""
    theta = gap.comparison.test.theta
    assert theta is not None  # a detected gap has θ
    return abs(2 * theta - 1)


def _cited(gap: Gap) -> tuple[CitedCell, CitedCell]:
    return (
        CitedCell(gap.x.cycle, gap.value_code, gap.x.group, gap.x.counts),
        CitedCell(gap.y.cycle, gap.value_code, gap.y.group, gap.y.counts),
    )


def party_gaps(cells: CycleCells, gaps: Sequence[Gap], words: Vocabulary) -> list[Finding]:
    """Party gaps with a verdict (*higher*/*lower*), the higher party first in the sentence.

    A gap within a perspective is left out when the parties' totals differ the same way: the totals'
    sentence already says it, for everybody.
    """
    detected = _detected(gaps, "party")
    found = []
    for (identifier, x, y, _), gap in detected.items():
        if x.kind == "party_perspective":
            totals = detected.get((identifier, Group("party", x.party), Group("party", y.party), cells.cycle))
            if totals is not None and totals.comparison.verdict == gap.comparison.verdict:
                continue
        higher, lower = (gap.x, gap.y) if gap.comparison.verdict == "higher" else (gap.y, gap.x)
        difference = wording.exact_mean(higher.counts) - wording.exact_mean(lower.counts)
        statistic, thresholds, reason = _comparison_evidence(gap)
        perspective = words.perspective(x.perspective) if x.kind == "party_perspective" else None
        found.append(
            Finding(
                key=finding_key("party_gap", cells.cycle, identifier, [x.key, y.key]),
                kind="party_gap",
                relationship=cells.relationship,
                cycle=cells.cycle,
                value_code=identifier,
                name=words.name(identifier),
                sentence=wording.party_gap_sentence(
                    words.party(higher.group.party),
                    words.party(lower.group.party),
                    perspective,
                    words.name(identifier),
                    wording.gap_amount(difference) if difference > 0 else None,
                ),
                strength=_strength(gap),
                breadth=_breadth(cells, (x, y)),
                cells=_cited(gap),
                statistic=statistic,
                thresholds=thresholds,
                reason=reason,
            )
        )
    return found


def _broader(group: Group) -> list[Group]:
    """The groups a group is part of: a party × perspective cell is in its party, its perspective and all."""
    if group.kind == "party_perspective":
        return [Group("party", party=group.party), Group("perspective", perspective=group.perspective), ALL]
    return [] if group.kind == "all" else [ALL]


def changes(cells: CycleCells, gaps: Sequence[Gap], words: Vocabulary) -> list[Finding]:
    """Changes with a verdict since the previous and since the first cycle: *higher* improved, *lower* declined.

    A group's change is left out when a group it is part of changed the same way since the same
    cycle: "*Openness* improved since Resolve" already says it, for everybody.
    """
    detected = _detected(gaps, "change")
    found = []
    for (identifier, group, _, before), gap in detected.items():
        verdict = gap.comparison.verdict
        if any(
            (other := detected.get((identifier, broader, broader, before))) is not None
            and other.comparison.verdict == verdict
            for broader in _broader(group)
        ):
            continue
        improved = verdict == "higher"
        difference = wording.exact_mean(gap.x.counts) - wording.exact_mean(gap.y.counts)
        agrees = difference > 0 if improved else difference < 0
        statistic, thresholds, reason = _comparison_evidence(gap)
        found.append(
            Finding(
                key=finding_key("change", cells.cycle, identifier, [group.key], since=before),
                kind="change",
                relationship=cells.relationship,
                cycle=cells.cycle,
                value_code=identifier,
                name=words.name(identifier),
                sentence=wording.change_sentence(
                    words.name(identifier),
                    improved,
                    wording.change_amount(difference) if agrees else None,
                    wording.since(before, words.earlier_modes),
                    None if group == ALL else wording.group_phrase(group, words.parties, words.perspectives),
                ),
                strength=_strength(gap),
                breadth=_breadth(cells, [group]),
                cells=_cited(gap),
                statistic=statistic,
                thresholds=thresholds,
                reason=reason,
            )
        )
    return found
