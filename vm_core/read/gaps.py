"""Gaps and changes: two published cells of a Value Code compared, Benjamini–Hochberg adjusted per family.

Kinds (each read "x against y")
    ``party``        each pair of parties (display order, x the earlier) within every perspective
                     (client/senior against supplier/senior), and the parties' totals (all of the
                     client against all of the supplier);
    ``perspective``  each pair of perspectives (display order) across the parties (the perspective
                     rows), and within every party (client/senior against client/middle);
    ``change``       the same Value Code and group in the cycle against an earlier one (the previous
                     cycle, and the first), only for a Value Code asked the same way in both
                     (:mod:`vm_core.read.changes`); x is the later cycle, so *higher* is an improvement.

Which cells
    A comparison is made only when both cells are published: the counts come from
    :func:`vm_core.read.cells.cycle_cells`, the read path that hides what the anonymity engine hides,
    and a pair with a hidden cell is not listed at all. Every number shown (n, means, θ, the
    interval, p, q) is a function of the two published cells' level counts ``l1..l5``, and a q-value
    of the published cells of its family, so no gap rests on, or gives away, a hidden cell.

Families
    Benjamini–Hochberg runs across every comparison of one kind in one cycle's heatmap (all Value
    Codes, all groups): the party gaps of cycle 3 are one family, its perspective gaps another, its
    changes since the previous cycle a third and its changes since the first a fourth. Comparisons
    with insufficient evidence take no part (:func:`vm_core.scoring.comparisons.compare_family`).

Order
    :func:`by_practical_size`: detected gaps (*higher*/*lower*) first, then *no detectable
    difference*, then *insufficient evidence*; within each, the largest |θ − ½| first (the practical
    size, on the scale of the verdict's threshold), then the largest difference of mean levels.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from vm_core.read.cells import CellPair, CycleCells, Side, cycle_cells, find_cycle, find_relationship
from vm_core.read.changes import baselines, change_pairs, comparable_value_codes
from vm_core.read.output_formats import csv_text, json_text, unknown_format
from vm_core.read.reader import EVERYTHING, Scope
from vm_core.read.text_table import align_by_name, aligned
from vm_core.scoring.anonymity import Group
from vm_core.scoring.comparisons import (
    ALPHA,
    MIN_N,
    PRACTICAL_THETA,
    Comparison,
    Magnitude,
    compare_family,
    vargha_delaney_magnitude,
)
from vm_core.scoring.statistics import mean_level

GapKind = Literal["party", "perspective", "change"]
KINDS: tuple[GapKind, ...] = ("party", "perspective", "change")

#: Columns of :func:`format_gaps` (csv header, json keys).
GAP_COLUMNS = (
    "relationship",
    "kind",
    "value_code",
    "cycle_x",
    "group_x",
    "cycle_y",
    "group_y",
    "n_x",
    "n_y",
    "mean_x",
    "mean_y",
    "mean_difference",
    "theta",
    "ci_low",
    "ci_high",
    "p",
    "q",
    "verdict",
    "magnitude",
    "reason",
)


@dataclass(frozen=True)
class Thresholds:
    """The comparison's parameters (docs/statistics.md): q ≤ ``alpha``, θ ≥ ``practical``, n ≥ ``min_n``."""

    alpha: float = ALPHA
    practical: float = PRACTICAL_THETA
    min_n: int = MIN_N


@dataclass(frozen=True)
class Gap:
    """Cell x against cell y of one Value Code: the two published cells and their comparison."""

    relationship: str
    kind: GapKind
    value_code: str
    section: str
    x: Side
    y: Side
    comparison: Comparison

    @property
    def practical_size(self) -> float | None:
        """|θ − ½|: how far from "neither tends higher" (None when θ is undefined)."""
        theta = self.comparison.test.theta
        return None if theta is None else abs(theta - 0.5)

    @property
    def magnitude(self) -> Magnitude | None:
        theta = self.comparison.test.theta
        return None if theta is None else vargha_delaney_magnitude(theta)

    def record(self) -> dict[str, Any]:
        """The gap as :data:`GAP_COLUMNS` (numbers at full precision)."""
        test = self.comparison.test
        return {
            "relationship": self.relationship,
            "kind": self.kind,
            "value_code": self.value_code,
            "cycle_x": self.x.cycle,
            "group_x": self.x.group.key,
            "cycle_y": self.y.cycle,
            "group_y": self.y.group.key,
            "n_x": test.n_x,
            "n_y": test.n_y,
            "mean_x": mean_level(self.x.counts),
            "mean_y": mean_level(self.y.counts),
            "mean_difference": self.comparison.mean_difference,
            "theta": test.theta,
            "ci_low": test.ci_low,
            "ci_high": test.ci_high,
            "p": test.p_value,
            "q": self.comparison.q_value,
            "verdict": self.comparison.verdict,
            "magnitude": self.magnitude,
            "reason": self.comparison.reason,
        }


def compare_pairs(
    relationship: str,
    kind: GapKind,
    sections: Mapping[str, str],
    pairs: Sequence[CellPair],
    thresholds: Thresholds = Thresholds(),
) -> list[Gap]:
    """One family: every pair compared, Benjamini–Hochberg adjusted across them, in the order given."""
    comparisons = compare_family(
        [(pair.x.counts, pair.y.counts) for pair in pairs],
        alpha=thresholds.alpha,
        practical=thresholds.practical,
        min_n=thresholds.min_n,
    )
    return [
        Gap(
            relationship, kind, pair.value_code, sections.get(pair.value_code, ""), pair.x, pair.y, comparison
        )
        for pair, comparison in zip(pairs, comparisons, strict=True)
    ]


# ---------------------------------------------------------------- within one cycle


def party_pairs(cells: CycleCells) -> list[CellPair]:
    """Party against party within each perspective, then the parties' totals; both cells published."""
    groups: list[tuple[Group, Group]] = []
    for a, b in itertools.combinations(cells.parties, 2):
        groups += [
            (Group("party_perspective", a, q), Group("party_perspective", b, q)) for q in cells.perspectives
        ]
        groups.append((Group("party", party=a), Group("party", party=b)))
    return _published(cells, groups)


def perspective_pairs(cells: CycleCells) -> list[CellPair]:
    """Perspective against perspective across the parties, then within each party; both cells published."""
    groups: list[tuple[Group, Group]] = []
    for q, r in itertools.combinations(cells.perspectives, 2):
        groups.append((Group("perspective", perspective=q), Group("perspective", perspective=r)))
        groups += [
            (Group("party_perspective", p, q), Group("party_perspective", p, r)) for p in cells.parties
        ]
    return _published(cells, groups)


def _published(cells: CycleCells, groups: Sequence[tuple[Group, Group]]) -> list[CellPair]:
    """The pairs whose two cells are both published, Value Code by Value Code."""
    pairs = []
    for identifier in cells.value_codes:
        for gx, gy in groups:
            x, y = cells.counts(identifier, gx), cells.counts(identifier, gy)
            if x is not None and y is not None:
                pairs.append(CellPair(identifier, Side(cells.cycle, gx, x), Side(cells.cycle, gy, y)))
    return pairs


# ---------------------------------------------------------------- reading


def read_gaps(
    session: Session,
    relationship_key: str,
    cycle_number: int,
    kinds: Iterable[str] = KINDS,
    *,
    scope: Scope = EVERYTHING,
    thresholds: Thresholds = Thresholds(),
) -> list[Gap]:
    """The cycle's gaps of the given kinds, each kind (and each change baseline) its own family.

    In family order: party, perspective, change since the previous cycle, change since the first.
    Sort with :func:`by_practical_size` for "largest gap first". LookupError (one line) for an
    unknown relationship or cycle; ValueError for an unknown kind.
    """
    wanted = list(dict.fromkeys(kinds))
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown kind {unknown[0]!r}; use one of {', '.join(KINDS)}")
    relationship = find_relationship(session, relationship_key, scope)
    cycle = find_cycle(session, relationship, cycle_number)
    cells = cycle_cells(session, relationship_key, cycle_number)
    found: list[Gap] = []
    if "party" in wanted:
        found += compare_pairs(relationship_key, "party", cells.sections, party_pairs(cells), thresholds)
    if "perspective" in wanted:
        found += compare_pairs(
            relationship_key, "perspective", cells.sections, perspective_pairs(cells), thresholds
        )
    if "change" in wanted:
        for baseline in baselines(session, relationship, cycle_number).values():
            comparable = comparable_value_codes(
                session, cycle.library_version_id, baseline.library_version_id
            )
            before = cycle_cells(session, relationship_key, baseline.number)
            pairs = change_pairs(cells, before, comparable)
            found += compare_pairs(relationship_key, "change", cells.sections, pairs, thresholds)
    return found


_VERDICT_RANK = {"higher": 0, "lower": 0, "no detectable difference": 1, "insufficient evidence": 2}


def by_practical_size(gaps: Iterable[Gap]) -> list[Gap]:
    """Largest practical gap first: detected ones, then undetected, then insufficient evidence (module doc)."""

    def key(gap: Gap) -> tuple[int, float, float]:
        size = gap.practical_size
        difference = gap.comparison.mean_difference
        return (
            _VERDICT_RANK[gap.comparison.verdict],
            -(size if size is not None else -1.0),
            -(abs(difference) if difference is not None else -1.0),
        )

    return sorted(gaps, key=key)


# ---------------------------------------------------------------- formatting


def format_gaps(gaps: Sequence[Gap], fmt: str = "table") -> str:
    """The gaps as ``table`` (aligned, 2–3 decimals), ``csv`` (:data:`GAP_COLUMNS`) or ``json``; in the order given."""
    records = [gap.record() for gap in gaps]
    if fmt == "json":
        return json_text(records)
    if fmt == "csv":
        return csv_text(GAP_COLUMNS, ([r[c] for c in GAP_COLUMNS] for r in records))
    if fmt == "table":
        return _table(gaps)
    raise ValueError(unknown_format(fmt))


_TABLE_HEADER = ("kind", "value_code", "x", "y", "n_x", "n_y", "mean_x", "mean_y", "diff", "theta", "CI",
                 "p", "q", "verdict")  # fmt: skip
_TABLE_ALIGN = align_by_name(_TABLE_HEADER, {"kind", "value_code", "x", "y", "CI", "verdict"})


def _table(gaps: Sequence[Gap]) -> str:
    def number(value: float | None, digits: int = 2, signed: bool = False) -> str:
        return "" if value is None else f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"

    def side(s: Side, other: Side) -> str:
        return s.group.key if s.cycle == other.cycle else f"{s.group.key} (cycle {s.cycle})"

    header = list(_TABLE_HEADER)
    if gaps:  # the interval's confidence, 1 − α
        header[_TABLE_HEADER.index("CI")] = f"{gaps[0].comparison.test.confidence:.0%} CI"
    lines = [header]
    for gap in gaps:
        test, record = gap.comparison.test, gap.record()
        ci = (
            f"{test.ci_low:.2f}–{test.ci_high:.2f}"
            if test.ci_low is not None and test.ci_high is not None
            else ""
        )
        lines.append(
            [
                gap.kind,
                gap.value_code,
                side(gap.x, gap.y),
                side(gap.y, gap.x),
                str(test.n_x),
                str(test.n_y),
                number(record["mean_x"]),
                number(record["mean_y"]),
                number(record["mean_difference"], signed=True),
                number(test.theta, 3),
                ci,
                "" if test.p_value is None else f"{test.p_value:.3g}",
                "" if gap.comparison.q_value is None else f"{gap.comparison.q_value:.3g}",
                gap.comparison.verdict,
            ]
        )
    return "".join(line + "\n" for line in aligned(lines, _TABLE_ALIGN))
