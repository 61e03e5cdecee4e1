"""The statistics of a score: pure functions of one group's level counts, from their published definitions.

For one group of respondents and one Value Code the counts ``l1..l5`` of the levels picked are
summarised by the mean level, by the Tastle & Wierman consensus (1 = everybody at one level, 0 =
split between the two ends of the scale) and by an agreement label ("agreed" / "divided" / none,
see :class:`AgreementRule`).

:data:`STATISTICS` is the one registry: each entry is a column of ``score`` and its function of
the counts, so a new statistic is one entry here (and its column in a migration); writing, hiding
and reading scores handle every entry alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

from vm_core.store.models import LEVELS

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


#: score column -> its statistic of a group's level counts (None: nobody gave a level)
STATISTICS: dict[str, Callable[[Sequence[int]], float | None]] = {
    "mean": mean_level,
    "consensus": consensus,
}
