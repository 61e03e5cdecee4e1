"""What the audit checks derived outputs against: the cells the scores publish, per cycle.

The published cells are read here straight from :func:`vm_core.read.scores.read_scores` — what
``vm scores`` prints — and never from the helpers the derived outputs are built with
(:mod:`vm_core.read.cells`), so an output that picked up a hidden cell, or changed a count on
the way, differs from them. A :class:`Problem` is one thing found, in the audit's words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import pandas as pd
from sqlalchemy.orm import Session

from vm_core.read.scores import LEVEL_COLUMNS, read_scores
from vm_core.scoring.anonymity import Group

Kind = Literal["leak", "mismatch", "exposed"]
#: How close two published numbers must be to count as the same (they are computed, not rounded).
TOLERANCE = 1e-9


class Problem(NamedTuple):
    """One thing an output does wrong: its kind, the Value Code it is about ("" for none) and what."""

    kind: Kind
    value_code: str
    detail: str


@dataclass(frozen=True)
class CycleCellsShown:
    """One cycle's cells as the scores publish them: shown cells' ``l1..l5``, and the hidden cells."""

    shown: Mapping[tuple[str, Group], tuple[int, ...]] = field(default_factory=dict)
    hidden: frozenset[tuple[str, Group]] = frozenset()
    groups: Mapping[tuple[str, str], Group] = field(default_factory=dict)  # (kind, key) → group


@dataclass
class Published:
    """The published cells of one relationship's cycles, each cycle read once (lazily)."""

    session: Session
    relationship: str
    cycles: dict[int, CycleCellsShown] = field(default_factory=dict)

    def add(self, cycle: int, rows: pd.DataFrame) -> None:
        """Record a cycle's cells from its rows of :func:`read_scores` (the audit has read them already)."""
        shown: dict[tuple[str, Group], tuple[int, ...]] = {}
        hidden: set[tuple[str, Group]] = set()
        groups: dict[tuple[str, str], Group] = {}
        for row in rows.to_dict("records"):
            group = Group(row["group_kind"], _key(row["party"]), _key(row["perspective"]))
            groups[(group.kind, group.key)] = group
            cell = (str(row["value_code"]), group)
            if row["suppressed"]:
                hidden.add(cell)
            else:
                shown[cell] = tuple(int(row[c]) for c in LEVEL_COLUMNS)
        self.cycles[cycle] = CycleCellsShown(shown, frozenset(hidden), groups)

    def of(self, cycle: int) -> CycleCellsShown:
        if cycle not in self.cycles:
            self.add(cycle, read_scores(self.session, self.relationship, cycle))
        return self.cycles[cycle]

    def counts(self, cycle: int, value_code: str, group: Group) -> tuple[int, ...] | None:
        """The cell's published ``l1..l5``; None when it is hidden or not published."""
        return self.of(cycle).shown.get((value_code, group))

    def group(self, cycle: int, kind: str, key: str) -> Group | None:
        """The cycle's group of that kind and key (as outputs name them), None when it has none."""
        return self.of(cycle).groups.get((kind, key))

    def cell_problem(
        self, cycle: int, value_code: str, group: Group, counts: tuple[int, ...] | None, what: str
    ) -> Problem | None:
        """Whether an output that ``what`` (e.g. "cites") this cell with ``counts`` rests on a shown cell with them."""
        name = f"{group.key} (cycle {cycle})"
        if (value_code, group) in self.of(cycle).hidden:
            return Problem("exposed", value_code, f"{what} hidden cell {name}")
        published = self.counts(cycle, value_code, group)
        if published is None:
            return Problem("mismatch", value_code, f"{what} {name}, which the scores do not publish")
        if counts is not None and tuple(counts) != published:
            return Problem(
                "mismatch", value_code, f"{what} {name} as {list(counts)}, published {list(published)}"
            )
        return None


def _key(value: Any) -> str | None:
    return (
        None
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
        else str(value)
    )


def differences(got: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """``name=got (expected x)`` for every key whose values differ (numbers within :data:`TOLERANCE`)."""
    return [
        f"{name}={got.get(name)!r} (expected {value!r})"
        for name, value in expected.items()
        if not same(got.get(name), value)
    ]


def same(a: Any, b: Any) -> bool:
    """Equal, numbers within :data:`TOLERANCE` (bools and strings exactly); sequences element-wise."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    numbers = (int, float)
    if (
        isinstance(a, numbers)
        and isinstance(b, numbers)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return abs(float(a) - float(b)) <= TOLERANCE * max(1.0, abs(float(b)))
    return bool(a == b)
