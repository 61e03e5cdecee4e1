"""The audit of the outputs computed from published cells: gaps, changes, roll-ups, findings, action effects.

Each check takes an output as its reader returns it — what the CLI and the app print — and the
cells the scores publish (:class:`~vm_core.read.audit_published.Published`), and asks, whatever
the output's own code did:

* **exposed** — every cell it compares, pools, cites or measures is a shown cell of the scores;
  a hidden cell it uses, or a sentence that speaks for a side whose cell is hidden ("on both
  sides"), is a finding;
* **mismatch** — every number it shows equals the one recomputed here from the published cells
  alone (a compared cell's counts, θ, interval, p, a family's q recomputed without any comparison
  that rests on a hidden cell, a roll-up's pooled counts over the library's Value Codes of the
  Thing, a finding's evidence, an effect's difference in differences); a hidden roll-up row that
  shows a number is *exposed*.

The statistics are recomputed with the same functions (:mod:`vm_core.scoring`), tested on their
own against hand-computed cases and scipy; what the audit adds is that their inputs are the
published cells and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vm_core.read.action_effects import ActionEffect
from vm_core.read.audit_published import Problem, Published, differences
from vm_core.read.cells import CellPair, Side
from vm_core.read.findings.model import CitedCell, Finding
from vm_core.read.gaps import Gap, Thresholds, compare_pairs
from vm_core.read.rollup import RollupRow
from vm_core.scoring.anonymity import Group
from vm_core.scoring.comparisons import brunner_munzel
from vm_core.scoring.difference_in_differences import CodeChange, difference_in_differences
from vm_core.scoring.statistics import consensus, mean_level

#: (gap kind, Value Code, x group, y group, y cycle) → the q-value recomputed from published cells.
QValues = dict[tuple[str, str, Group, Group, int], float | None]
#: The gap kinds as outputs: party and perspective gaps are ``gaps``, changes over time ``changes``.
GAP_OUTPUT = {"party": "gaps", "perspective": "gaps", "change": "changes"}


def _named(side: Side, other: Side) -> str:
    return side.group.key if side.cycle == other.cycle else f"{side.group.key} (cycle {side.cycle})"


def _pair(gap: Gap) -> str:
    return f"{_named(gap.x, gap.y)} against {_named(gap.y, gap.x)}"


def _thresholds(gap: Gap) -> Thresholds:
    c = gap.comparison
    return Thresholds(alpha=c.alpha, practical=c.practical, min_n=c.min_n)


def _side_problems(published: Published, gap: Gap, what: str) -> list[Problem]:
    found = [
        published.cell_problem(side.cycle, gap.value_code, side.group, side.counts, what)
        for side in (gap.x, gap.y)
    ]
    return [p for p in found if p is not None]


def _republished(gap: Gap, published: Published) -> CellPair:
    """The gap's two cells with their counts as the scores publish them (both are shown: checked)."""
    x = published.counts(gap.x.cycle, gap.value_code, gap.x.group)
    y = published.counts(gap.y.cycle, gap.value_code, gap.y.group)
    assert x is not None
    assert y is not None
    return CellPair(gap.value_code, Side(gap.x.cycle, gap.x.group, x), Side(gap.y.cycle, gap.y.group, y))


def check_gaps(gaps: Sequence[Gap], published: Published) -> tuple[list[tuple[str, Problem]], QValues]:
    """Gaps and changes (one family per kind and baseline cycle): (output, problem)s and the recomputed q's."""
    found: list[tuple[str, Problem]] = []
    q_values: QValues = {}
    families: dict[tuple[str, int], list[Gap]] = {}
    for gap in gaps:
        families.setdefault((gap.kind, gap.y.cycle), []).append(gap)
    for (kind, _), family in families.items():
        output = GAP_OUTPUT[kind]
        clean = []
        for gap in family:
            problems = _side_problems(published, gap, f"{_pair(gap)} compares")
            found += [(output, p) for p in problems]
            if not problems:
                clean.append(gap)
        if not clean:
            continue
        # the family without what rests on a hidden cell: its q-values must not depend on one
        expected = compare_pairs(
            clean[0].relationship,
            clean[0].kind,
            {g.value_code: g.section for g in clean},
            [_republished(g, published) for g in clean],
            _thresholds(clean[0]),
        )
        for gap, truth in zip(clean, expected, strict=True):
            q_values[(gap.kind, gap.value_code, gap.x.group, gap.y.group, gap.y.cycle)] = (
                truth.comparison.q_value
            )
            wrong = differences(gap.record(), truth.record())
            if wrong:
                found.append(
                    (output, Problem("mismatch", gap.value_code, f"{_pair(gap)}: {', '.join(wrong)}"))
                )
    return found, q_values


def check_rollup(
    rows: Sequence[RollupRow], things: Mapping[str, tuple[str, ...]], published: Published, cycle: int
) -> list[Problem]:
    """Things That Matter roll-ups: a shown row pools the shown cells of every Value Code the library maps."""
    found: list[Problem] = []
    for row in rows:
        where = f"{row.thing} × {row.group}"
        numbers = {"n": row.n, "levels": row.levels, "mean": row.mean, "consensus": row.consensus}
        if row.suppressed:
            shown = [name for name, value in numbers.items() if value is not None]
            if shown:
                found.append(Problem("exposed", "", f"hidden roll-up {where} publishes {', '.join(shown)}"))
            continue
        group = published.group(cycle, row.group_kind, row.group)
        codes = things.get(row.thing)
        if group is None or codes is None:
            found.append(Problem("mismatch", "", f"{where} is not a Thing × group of the cycle"))
            continue
        if tuple(row.value_codes) != tuple(codes):
            found.append(
                Problem(
                    "mismatch",
                    "",
                    f"{where} pools {', '.join(row.value_codes)}; the library maps {', '.join(codes)}",
                )
            )
        cells = [published.cell_problem(cycle, code, group, None, f"roll-up {where} pools") for code in codes]
        problems = [p for p in cells if p is not None]
        if problems:
            found += problems
            continue
        parts = [published.counts(cycle, code, group) or () for code in codes]
        pooled = tuple(sum(part[i] for part in parts) for i in range(len(parts[0])))
        expected = {
            "n": sum(pooled),
            "levels": pooled,
            "mean": mean_level(pooled),
            "consensus": consensus(pooled),
        }
        wrong = differences(numbers, expected)
        if wrong:
            found.append(Problem("mismatch", "", f"roll-up {where}: {', '.join(wrong)}"))
    return found


def check_findings(
    findings: Sequence[Finding], published: Published, q_values: QValues, parties: Sequence[str]
) -> list[Problem]:
    """Findings: every cited cell shown and as published, every side a sentence speaks for shown, the evidence recomputed."""
    found: list[Problem] = []
    for finding in findings:
        cited = _cited_problems(finding, published)
        cited += _sides_problems(finding, published, parties)
        if cited:
            found += cited
            continue
        expected = _evidence(finding, q_values)
        got = {"strength": finding.strength, **finding.statistic}
        wrong = differences(got, {k: v for k, v in expected.items() if k in got or k == "strength"})
        if wrong:
            found.append(
                Problem("mismatch", finding.value_code, f"finding {finding.key}: {', '.join(wrong)}")
            )
    return found


def _cited_problems(finding: Finding, published: Published) -> list[Problem]:
    found = []
    for cell, record in zip(finding.cells, finding.record()["cells"], strict=True):
        problem = published.cell_problem(
            cell.cycle, cell.value_code, cell.group, cell.counts, f"finding {finding.key} cites"
        )
        if problem is not None:
            found.append(problem)
            continue
        counts = published.counts(cell.cycle, cell.value_code, cell.group)
        assert counts is not None
        # what the export prints of the cell (json, csv): its published numbers
        wrong = differences(record, CitedCell(cell.cycle, cell.value_code, cell.group, counts).record())
        if wrong:
            found.append(
                Problem(
                    "mismatch",
                    finding.value_code,
                    f"finding {finding.key} prints {cell.group.key}: {', '.join(wrong)}",
                )
            )
    return found


def _sides_problems(finding: Finding, published: Published, parties: Sequence[str]) -> list[Problem]:
    """A sentence about a perspective "on both sides" (``*/q``) speaks for every party's cell: each must be cited."""
    subject = finding.key.split(":")[3]
    if not subject.startswith("*/"):
        return []
    perspective = subject[2:]
    cited = {c.group for c in finding.cells}
    found = []
    for party in parties:
        group = Group("party_perspective", party, perspective)
        if group in cited:
            continue
        problem = published.cell_problem(
            finding.cycle, finding.value_code, group, None, f"finding {finding.key} speaks for"
        )
        found.append(
            problem
            or Problem(
                "mismatch",
                finding.value_code,
                f"finding {finding.key} speaks for {group.key} without citing it",
            )
        )
    return found


def _evidence(finding: Finding, q_values: QValues) -> dict[str, Any]:
    """The finding's strength and statistic recomputed from its cited (published) cells."""
    counts = [c.counts for c in finding.cells]
    shares = [_consensus(c) for c in counts]
    if finding.kind == "agreement":
        return {"strength": min(shares)}
    if finding.kind == "division":
        ends = [((c[0] + c[1]) / sum(c), (c[3] + c[4]) / sum(c)) for c in counts]
        return {"strength": 1 - max(shares), "lowest_end_share": min(min(pair) for pair in ends)}
    x, y = finding.cells
    test = brunner_munzel(x.counts, y.counts, confidence=1 - float(finding.thresholds["alpha"]))
    mean_x, mean_y = mean_level(x.counts), mean_level(y.counts)
    kind = "party" if finding.kind == "party_gap" else "change"
    return {
        "strength": None if test.theta is None else abs(2 * test.theta - 1),
        "theta": test.theta,
        "ci_low": test.ci_low,
        "ci_high": test.ci_high,
        "statistic": test.statistic,
        "df": test.df,
        "p": test.p_value,
        "q": q_values.get(
            (kind, finding.value_code, x.group, y.group, y.cycle), "no such comparison in vm gaps"
        ),
        "mean_difference": None if mean_x is None or mean_y is None else mean_x - mean_y,
    }


def _consensus(counts: Sequence[int]) -> float:
    value = consensus(counts)
    return float("nan") if value is None else value


def check_effects(effects: Sequence[ActionEffect], published: Published) -> list[Problem]:
    """Action effects: every Value Code change an effect uses is two shown cells, the contrast recomputed."""
    found: list[Problem] = []
    for effect in effects:
        label = f"action {effect.action.id}"
        if effect.measured_at is None:
            if effect.groups or effect.cells:
                found.append(Problem("mismatch", "", f"{label} is not measurable yet but shows numbers"))
            continue
        for group_effect in effect.groups:
            found += _contrast_problems(effect, group_effect.group, group_effect.effect.contrast, published)
        for gap in effect.cells:
            problems = _side_problems(published, gap, f"{label}'s evidence {_pair(gap)} compares")
            if problems:
                found += problems
                continue
            truth = compare_pairs(
                gap.relationship, gap.kind, {}, [_republished(gap, published)], _thresholds(gap)
            )[0]
            expected = {k: v for k, v in truth.record().items() if k not in ("q", "verdict", "reason")}
            wrong = differences(gap.record(), expected)
            if wrong:
                found.append(
                    Problem(
                        "mismatch", gap.value_code, f"{label}'s evidence {_pair(gap)}: {', '.join(wrong)}"
                    )
                )
    return found


def _contrast_problems(
    effect: ActionEffect, group: Group, contrast: Any, published: Published
) -> list[Problem]:
    assert effect.measured_at is not None
    label = f"action {effect.action.id} ({group.key})"
    found: list[Problem] = []
    rebuilt: dict[str, list[CodeChange]] = {"linked": [], "control": []}
    for role in rebuilt:
        for change in getattr(contrast, role):
            cells = [
                published.cell_problem(cycle, change.value_code, group, counts, f"{label} uses")
                for cycle, counts in ((effect.raised_in, change.before), (effect.measured_at, change.after))
            ]
            problems = [p for p in cells if p is not None]
            found += problems
            if not problems:
                before = published.counts(effect.raised_in, change.value_code, group)
                after = published.counts(effect.measured_at, change.value_code, group)
                assert before is not None
                assert after is not None
                rebuilt[role].append(CodeChange(change.value_code, before, after))
    if found:
        return found
    truth = difference_in_differences(rebuilt["linked"], rebuilt["control"], confidence=contrast.confidence)
    names = ("linked_theta", "control_theta", "estimate", "se", "p_value", "ci_low", "ci_high", "mean_difference",
             "linked_mean_before", "linked_mean_after", "control_mean_before", "control_mean_after")  # fmt: skip
    wrong = differences({n: getattr(contrast, n) for n in names}, {n: getattr(truth, n) for n in names})
    return [Problem("mismatch", "", f"{label}: {', '.join(wrong)}")] if wrong else []
