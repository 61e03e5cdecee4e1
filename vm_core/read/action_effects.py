"""Whether an improvement action worked: its Value Codes' change at the next cycle, against the other codes'.

An action raised in cycle c is measured at the **next cycle with published scores**, c' > c. Its
Value Codes are the ones it links, and every Value Code of a Thing That Matters it links, in the
library of cycle c (where the links were checked).

For the group *all* (the verdict) and, as detail, every published group of cycle c':

Cells
    A Value Code takes part only where its cells of cycle c and cycle c' are both **published**
    (:func:`vm_core.read.cells.cycle_cells`), each with at least ``min_n`` answers, and its five
    statements are the same in both cycles (:mod:`vm_core.read.changes`). A hidden cell never
    feeds an effect; a linked Value Code left out is listed with the reason.
Control codes
    The Value Codes of cycle c' that **no action raised before c'** links (directly or through a
    Thing That Matters), under the same rules: a code another action was working on is not a
    control for this one.
The contrast
    The difference in differences of :mod:`vm_core.scoring.difference_in_differences`: the linked
    codes' mean θ (cycle c' against cycle c) minus the control codes' mean θ, tested against the
    control codes' spread.
Families
    Benjamini–Hochberg runs across the actions raised in one cycle (all measured at the same c'),
    for each group separately; the verdict of an action is that of the group *all*.

Every number shown is a function of published cells only, as for :mod:`vm_core.read.gaps`. The
evidence of each linked cell is its change comparison (θ, interval, p, q and verdict) in the
family of every change c' against c of the heatmap, which is what ``vm gaps --kind change`` shows
when c is the cycle before c'.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.actions.query import ActionFilter, ActionView, list_actions
from vm_core.read.cells import CycleCells, cycle_cells, find_relationship
from vm_core.read.changes import change_pairs, comparable_value_codes
from vm_core.read.gaps import Gap, Thresholds, compare_pairs
from vm_core.read.output_formats import csv_text, json_text, unknown_format
from vm_core.read.reader import EVERYTHING, Scope
from vm_core.read.rollup import things_that_matter
from vm_core.read.text_table import align_by_name, aligned
from vm_core.scoring.anonymity import ALL, Group
from vm_core.scoring.difference_in_differences import (
    CodeChange,
    Effect,
    EffectVerdict,
    difference_in_differences,
    judge_effects,
)
from vm_core.store.models import Cycle, Relationship

#: q ≤ 0.05, θ ≥ 0.56 (so a difference in θ of at least 0.06) and at least 10 answers per cell
DEFAULT_THRESHOLDS = Thresholds()

#: Why a hidden cell is hidden, as a workshop reads it.
_HIDDEN = {
    "below_minimum": "fewer respondents than the minimum group size",
    "complementary": "withheld so that a smaller group cannot be worked out",
}


@dataclass(frozen=True)
class GroupEffect:
    """The action's difference in differences in one group, judged within its family.

    ``not_compared``: each linked Value Code left out in this group, and why (hidden, too few
    answers, statements changed, not scored).
    """

    group: Group
    effect: Effect
    not_compared: Mapping[str, str]

    @property
    def left_out(self) -> str:
        """``"CODE: why; …"`` for the linked Value Codes left out ("" when none is)."""
        return "; ".join(f"{code}: {why}" for code, why in self.not_compared.items())

    @property
    def reason(self) -> str:
        """The evidence in one line, with the linked Value Codes left out and why."""
        if not self.left_out:
            return self.effect.reason
        if not self.effect.contrast.linked:  # every linked Value Code left out: their reasons say it all
            return self.left_out
        return f"{self.effect.reason}; not compared: {self.left_out}"


@dataclass(frozen=True)
class ActionEffect:
    """Whether one action worked: the verdict, one sentence for a workshop, and the evidence.

    ``measured_at`` is None when no later cycle has published scores (then ``groups`` and
    ``cells`` are empty). ``value_codes`` are every Value Code the action links, directly or
    through a Thing That Matters. ``groups`` has the group *all* first; ``cells`` are the linked
    Value Codes' published changes from cycle ``raised_in`` to ``measured_at``, per group.
    """

    action: ActionView
    measured_at: int | None
    value_codes: tuple[str, ...]
    groups: tuple[GroupEffect, ...]
    cells: tuple[Gap, ...]
    verdict: EffectVerdict
    explanation: str

    @property
    def raised_in(self) -> int:
        return self.action.cycle

    @property
    def overall(self) -> GroupEffect | None:
        """The group *all*: the one the verdict is about (None when it could not be measured)."""
        return next((g for g in self.groups if g.group == ALL), None)

    @property
    def not_compared(self) -> Mapping[str, str]:
        """The linked Value Codes left out of the group *all*, and why."""
        return {} if self.overall is None else self.overall.not_compared


# ---------------------------------------------------------------- reading


@dataclass
class _Relationship:
    """What the effects of one relationship's actions are computed from, each read once."""

    session: Session
    relationship: Relationship
    thresholds: Thresholds
    cycles: list[Cycle]
    cells: dict[int, CycleCells]
    things: dict[int, dict[str, tuple[str, ...]]]

    def cycle_cells(self, number: int) -> CycleCells:
        if number not in self.cells:
            self.cells[number] = cycle_cells(self.session, self.relationship.key, number)
        return self.cells[number]

    def cycle(self, number: int) -> Cycle:
        return next(c for c in self.cycles if c.number == number)

    def next_published(self, number: int) -> int | None:
        """The first cycle after ``number`` with scores, or None."""
        return next(
            (c.number for c in self.cycles if c.number > number and self.cycle_cells(c.number).value_codes),
            None,
        )

    def linked(self, action: ActionView) -> tuple[str, ...]:
        """The action's Value Codes: those it links, then those of its Things, in its cycle's library."""
        version = self.cycle(action.cycle).library_version_id
        if version not in self.things:
            self.things[version] = things_that_matter(self.session, version)
        codes = list(action.fields.value_codes)
        for thing in action.fields.things:
            codes += self.things[version].get(thing, ())
        return tuple(dict.fromkeys(codes))


def read_action_effects(
    session: Session,
    relationship_key: str | None = None,
    *,
    cycle: int | None = None,
    scope: Scope = EVERYTHING,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[ActionEffect]:
    """Every action's effect (module docstring): by relationship, raising cycle, then action id.

    ``relationship_key`` None: every relationship in ``scope`` that has actions; ``cycle``: only the
    actions that cycle raised (the family is always all of them). LookupError (one line) for an
    unknown relationship.
    """
    if relationship_key is not None:
        find_relationship(session, relationship_key, scope)
    views = list_actions(session, ActionFilter(relationship=relationship_key))
    effects: list[ActionEffect] = []
    for key in sorted({v.relationship for v in views if scope.allows(v.relationship)}):
        mine = sorted((v for v in views if v.relationship == key), key=lambda v: (v.cycle, v.id))
        effects += _effects(session, find_relationship(session, key, scope), mine, thresholds)
    return [e for e in effects if cycle is None or e.raised_in == cycle]


def _effects(
    session: Session, relationship: Relationship, views: Sequence[ActionView], thresholds: Thresholds
) -> list[ActionEffect]:
    cycles = list(
        session.scalars(select(Cycle).where(Cycle.relationship_id == relationship.id).order_by(Cycle.number))
    )
    context = _Relationship(session, relationship, thresholds, cycles, {}, {})
    linked = {v.id: context.linked(v) for v in views}
    effects: list[ActionEffect] = []
    for raised_in in dict.fromkeys(v.cycle for v in views):
        cohort = [v for v in views if v.cycle == raised_in]
        measured_at = context.next_published(raised_in)
        if measured_at is None:
            effects += [
                ActionEffect(
                    action=v,
                    measured_at=None,
                    value_codes=linked[v.id],
                    groups=(),
                    cells=(),
                    verdict="not yet measurable",
                    explanation=f"Not yet measurable: no cycle after cycle {raised_in} has published scores yet.",
                )
                for v in cohort
            ]
            continue
        # a code any action raised before the measuring cycle links is no control for another
        treated = {code for v in views if v.cycle < measured_at for code in linked[v.id]}
        effects += _cohort(context, cohort, linked, raised_in, measured_at, treated)
    return effects


def _cohort(
    context: _Relationship,
    cohort: Sequence[ActionView],
    linked: Mapping[int, tuple[str, ...]],
    raised_in: int,
    measured_at: int,
    treated: set[str],
) -> list[ActionEffect]:
    """The effects of the actions one cycle raised, each group one Benjamini–Hochberg family."""
    before, now = context.cycle_cells(raised_in), context.cycle_cells(measured_at)
    comparable = comparable_value_codes(
        context.session,
        context.cycle(measured_at).library_version_id,
        context.cycle(raised_in).library_version_id,
    )
    min_n = context.thresholds.min_n
    heatmap_changes = compare_pairs(
        context.relationship.key,
        "change",
        now.sections,
        change_pairs(now, before, comparable),
        context.thresholds,
    )

    def change(code: str, group: Group) -> CodeChange | str:
        """The Value Code's two published cells in the group, or why they cannot feed an effect."""
        why = _left_out(code, group, before, now, comparable, min_n)
        if why is not None:
            return why
        x, y = now.counts(code, group), before.counts(code, group)
        assert x is not None
        assert y is not None
        return CodeChange(code, y, x)

    # per group: each action's linked Value Codes → their change, or why not
    linked_changes = {
        group: [{code: change(code, group) for code in linked[view.id]} for view in cohort]
        for group in now.groups
    }
    effects_by_group: dict[Group, list[Effect]] = {}
    for group, per_action in linked_changes.items():
        controls = [
            c
            for code in now.value_codes
            if code not in treated and isinstance(c := change(code, group), CodeChange)
        ]
        contrasts = [
            difference_in_differences(
                [c for c in changes.values() if isinstance(c, CodeChange)],
                controls,
                confidence=1 - context.thresholds.alpha,
            )
            for changes in per_action
        ]
        effects_by_group[group] = judge_effects(
            contrasts, alpha=context.thresholds.alpha, practical=context.thresholds.practical
        )
    effects = []
    for i, view in enumerate(cohort):
        groups = tuple(
            GroupEffect(
                group,
                effects_by_group[group][i],
                {code: why for code, why in linked_changes[group][i].items() if isinstance(why, str)},
            )
            for group in now.groups
        )
        overall = next((g for g in groups if g.group == ALL), None)
        effects.append(
            ActionEffect(
                action=view,
                measured_at=measured_at,
                value_codes=linked[view.id],
                groups=groups,
                cells=tuple(gap for gap in heatmap_changes if gap.value_code in linked[view.id]),
                verdict="not yet measurable" if overall is None else overall.effect.verdict,
                explanation=_explain(overall, raised_in, measured_at),
            )
        )
    return effects


def _left_out(
    code: str, group: Group, before: CycleCells, now: CycleCells, comparable: set[str], min_n: int
) -> str | None:
    """Why ``code``'s cells in ``group`` cannot feed an effect, or None when they can."""
    for cells in (before, now):
        if code not in cells.value_codes:
            return f"not scored in cycle {cells.cycle}"
    if code not in comparable:
        return f"its evaluation statements changed between cycle {before.cycle} and cycle {now.cycle}"
    for cells in (before, now):
        if (code, group) in cells.hidden:
            return f"hidden in cycle {cells.cycle} ({_HIDDEN.get(cells.hidden[(code, group)], 'suppressed')})"
        counts = cells.counts(code, group)
        if counts is None:
            return f"no {group.key} cell in cycle {cells.cycle}"
        if sum(counts) < min_n:
            return f"{sum(counts)} answers in cycle {cells.cycle}; at least {min_n} are needed"
    return None


# ---------------------------------------------------------------- the sentence


def _names(codes: Sequence[str]) -> str:
    return codes[0] if len(codes) == 1 else f"{', '.join(codes[:-1])} and {codes[-1]}"


def _explain(overall: GroupEffect | None, raised_in: int, measured_at: int) -> str:
    """One sentence a workshop can read: the verdict, what moved, against what, and the evidence."""
    if overall is None:
        return f"Not yet measurable: cycle {measured_at} has no cell for everybody (group all)."
    effect = overall.effect
    if effect.verdict == "not yet measurable":
        return f"Not yet measurable: {overall.reason}."
    c = effect.contrast
    assert c.linked_mean_before is not None
    assert c.linked_mean_after is not None
    assert c.control_mean_before is not None
    assert c.control_mean_after is not None
    assert c.estimate is not None
    assert c.ci_low is not None
    assert c.ci_high is not None
    assert effect.q_value is not None
    codes = [x.value_code for x in c.linked]
    moved = (
        f"{_names(codes)} went from {c.linked_mean_before:.2f} to {c.linked_mean_after:.2f}"
        f"{'' if len(codes) == 1 else ' on average'}"
    )
    others = (
        f"the {len(c.control)} Value Codes no action worked on went from {c.control_mean_before:.2f} "
        f"to {c.control_mean_after:.2f}"
    )
    evidence = (
        f"difference in θ {c.estimate:+.2f}, {c.confidence:.0%} CI {c.ci_low:+.2f} to {c.ci_high:+.2f}, "
        f"q = {effect.q_value:.2g}"
    )
    if effect.verdict == "improved":
        finding = "the action's Value Codes rose by more than Value Codes change without an action"
    elif effect.verdict == "declined":
        finding = "the action's Value Codes fell by more than Value Codes change without an action"
    elif effect.q_value <= effect.alpha:
        finding = "the difference is detectable but smaller than a practical change"
    else:
        finding = "a difference this size is within how much Value Codes change without an action"
    sentence = (
        f"{effect.verdict.capitalize()}: between cycle {raised_in} and cycle {measured_at}, {moved}, "
        f"while {others}; {finding} ({evidence})."
    )
    return f"{sentence} Not compared: {overall.left_out}." if overall.left_out else sentence


# ---------------------------------------------------------------- formatting

_ACTION_COLUMNS = ("relationship", "action_id", "title", "status", "raised_in", "measured_at")
#: One group's contrast: the Value Codes compared, the means (for reading), θ, the difference in
#: differences with its interval, p, q, the verdict and its evidence in one line.
GROUP_COLUMNS = (
    "group",
    "linked_codes",
    "control_codes",
    "linked_mean_before",
    "linked_mean_after",
    "control_mean_before",
    "control_mean_after",
    "mean_difference",
    "linked_theta",
    "control_theta",
    "did_theta",
    "ci_low",
    "ci_high",
    "p",
    "q",
    "verdict",
    "reason",
)
#: Columns of :func:`format_effects` as csv: one row per action × group (the group *all* first).
EFFECT_COLUMNS = (*_ACTION_COLUMNS, *GROUP_COLUMNS, "explanation")


def _action_record(effect: ActionEffect) -> dict[str, Any]:
    view = effect.action
    return {
        "relationship": view.relationship,
        "action_id": view.id,
        "title": view.fields.title,
        "status": view.fields.status,
        "raised_in": effect.raised_in,
        "measured_at": effect.measured_at,
    }


def group_record(group: GroupEffect) -> dict[str, Any]:
    """One group's contrast as :data:`GROUP_COLUMNS` (numbers at full precision, codes as lists)."""
    c = group.effect.contrast
    return {
        "group": group.group.key,
        "linked_codes": [x.value_code for x in c.linked],
        "control_codes": [x.value_code for x in c.control],
        "linked_mean_before": c.linked_mean_before,
        "linked_mean_after": c.linked_mean_after,
        "control_mean_before": c.control_mean_before,
        "control_mean_after": c.control_mean_after,
        "mean_difference": c.mean_difference,
        "linked_theta": c.linked_theta,
        "control_theta": c.control_theta,
        "did_theta": c.estimate,
        "ci_low": c.ci_low,
        "ci_high": c.ci_high,
        "p": c.p_value,
        "q": group.effect.q_value,
        "verdict": group.effect.verdict,
        "reason": group.reason,
    }


def effect_records(effects: Iterable[ActionEffect]) -> list[dict[str, Any]]:
    """One record per action × group (:data:`EFFECT_COLUMNS`); an action not measured has one, group *all*."""
    records = []
    for effect in effects:
        unmeasured = dict.fromkeys(GROUP_COLUMNS) | {
            "group": "all",
            "linked_codes": [],
            "control_codes": [],
            "verdict": effect.verdict,
            "reason": effect.explanation,
        }
        groups = [group_record(g) for g in effect.groups] or [unmeasured]
        records += [_action_record(effect) | g | {"explanation": effect.explanation} for g in groups]
    return records


def _json(effects: Sequence[ActionEffect]) -> str:
    """Per action: what it is, the verdict and sentence, its Value Codes, every group and every cell."""
    out = [
        _action_record(effect)
        | {
            "verdict": effect.verdict,
            "explanation": effect.explanation,
            "value_codes": list(effect.value_codes),
            "not_compared": dict(effect.not_compared),
            "groups": [group_record(g) for g in effect.groups],
            "cells": [gap.record() for gap in effect.cells],
        }
        for effect in effects
    ]
    return json_text(out)


def format_effects(effects: Sequence[ActionEffect], fmt: str = "table") -> str:
    """``table`` (one line per action, then each action's sentence), ``csv`` or ``json``; in the order given."""
    if fmt == "json":
        return _json(effects)
    if fmt == "csv":
        return csv_text(
            EFFECT_COLUMNS,
            (
                ["; ".join(v) if isinstance(v, list) else v for v in record.values()]
                for record in effect_records(effects)
            ),
        )
    if fmt == "table":
        return _table(effects)
    raise ValueError(unknown_format(fmt))


_TABLE_HEADER = ("id", "raised", "measured", "status", "value_codes", "linked", "others", "did_theta", "CI",
                 "q", "effect")  # fmt: skip
_TABLE_ALIGN = align_by_name(_TABLE_HEADER, {"status", "value_codes", "linked", "others", "CI", "effect"})


def _table(effects: Sequence[ActionEffect]) -> str:
    def change(before: float | None, after: float | None) -> str:
        return "" if before is None or after is None else f"{before:.2f} → {after:.2f}"

    lines = [list(_TABLE_HEADER)]
    for effect in effects:
        overall = effect.overall
        c = None if overall is None else overall.effect.contrast
        q = None if overall is None else overall.effect.q_value
        lines.append(
            [
                str(effect.action.id),
                str(effect.raised_in),
                "" if effect.measured_at is None else str(effect.measured_at),
                effect.action.fields.status,
                ", ".join(x.value_code for x in c.linked) if c else "",
                change(c.linked_mean_before, c.linked_mean_after) if c else "",
                change(c.control_mean_before, c.control_mean_after) if c else "",
                "" if c is None or c.estimate is None else f"{c.estimate:+.3f}",
                "" if c is None or c.ci_low is None else f"{c.ci_low:+.2f} to {c.ci_high:+.2f}",
                "" if q is None else f"{q:.2g}",
                effect.verdict,
            ]
        )
    rendered = aligned(lines, _TABLE_ALIGN)
    sentences = [f"{effect.action.id}: {effect.explanation}" for effect in effects]
    return "\n".join([*rendered, "", *sentences]) + "\n"
