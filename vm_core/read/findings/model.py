"""A finding: its sentence, the published cells it rests on and cites, its evidence and its rank."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from vm_core.read.scores import LEVEL_COLUMNS
from vm_core.scoring.anonymity import Group
from vm_core.scoring.statistics import consensus, mean_level

FindingKind = Literal["party_gap", "change", "agreement", "division"]
#: Every kind, in the order that breaks a tie of rank scores.
KINDS: tuple[FindingKind, ...] = ("party_gap", "change", "agreement", "division")
#: Decimals a rank score is compared to, so that two scores equal on paper never differ by rounding residue.
RANK_DECIMALS = 9


@dataclass(frozen=True)
class CitedCell:
    """A published cell a finding rests on: a Value Code × group of a cycle, with its level counts."""

    cycle: int
    value_code: str
    group: Group
    counts: tuple[int, ...]  # l1..l5, exactly as published

    @property
    def n(self) -> int:
        return sum(self.counts)

    def record(self) -> dict[str, Any]:
        """The cell as the heatmap shows it: n, l1..l5, mean and consensus (full precision)."""
        return {
            "cycle": self.cycle,
            "value_code": self.value_code,
            "group_kind": self.group.kind,
            "group": self.group.key,
            "n": self.n,
            **dict(zip(LEVEL_COLUMNS, self.counts, strict=True)),
            "mean": mean_level(self.counts),
            "consensus": consensus(self.counts),
        }


def finding_key(
    kind: FindingKind, cycle: int, value_code: str, subject: Sequence[str], since: int | None = None
) -> str:
    """``kind:cycle:value_code:groups[:since-N]``, e.g. ``party_gap:3:DEL-KPI:northwind+contoso``.

    ``subject`` is the group keys the finding is about, in the heatmap's order; ``*/middle`` stands
    for every party's *middle* cell. Keys, identifiers and these separators never clash (keys are
    lower-case letters, digits, ``-`` and ``_``), so the key is unique and the same on every run.
    """
    key = f"{kind}:{cycle}:{value_code}:{'+'.join(subject)}"
    return key if since is None else f"{key}:since-{since}"


@dataclass(frozen=True)
class Finding:
    """One sentence the method promises, with what it rests on (docs/statistics.md, "Findings").

    ``cells`` are the published cells the sentence rests on — the only cells it cites, and the only
    numbers in its evidence; ``statistic`` the test or label behind it, ``thresholds`` the rules it
    passed, ``reason`` the evidence in one line. ``rank_score`` = ``strength`` × ``breadth``.
    """

    key: str
    kind: FindingKind
    relationship: str
    cycle: int
    value_code: str
    name: str  # the Value Code's readable name, as the sentence writes it
    sentence: str
    strength: float  # 0–1: how clear the pattern is
    breadth: float  # 0–1: the share of the relationship's party × perspective cells it speaks for
    cells: tuple[CitedCell, ...]
    statistic: Mapping[str, Any] = field(default_factory=dict)
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""

    @property
    def rank_score(self) -> float:
        return round(self.strength * self.breadth, RANK_DECIMALS)

    def record(self) -> dict[str, Any]:
        """The finding as plain data (JSON-ready), the cells with their published numbers."""
        return {
            "key": self.key,
            "kind": self.kind,
            "relationship": self.relationship,
            "cycle": self.cycle,
            "value_code": self.value_code,
            "name": self.name,
            "sentence": self.sentence,
            "rank_score": self.rank_score,
            "strength": self.strength,
            "breadth": self.breadth,
            "cells": [c.record() for c in self.cells],
            "statistic": dict(self.statistic),
            "thresholds": dict(self.thresholds),
            "reason": self.reason,
        }


def ranked(findings: Sequence[Finding], value_codes: Sequence[str]) -> list[Finding]:
    """Highest rank score first; ties: kind (:data:`KINDS`), the Value Code's heatmap row, then the key."""
    row = {identifier: i for i, identifier in enumerate(value_codes)}
    return sorted(
        findings,
        key=lambda f: (-f.rank_score, KINDS.index(f.kind), row.get(f.value_code, len(row)), f.key),
    )
