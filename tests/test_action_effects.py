"""Whether an action worked: the difference in differences by hand, on small stores, and on the demo's story.

The hand cases (docs/statistics.md, "Whether an action worked"): ten answers per cell, cycle 1 at
LOW = [0, 2, 4, 4, 0] for every Value Code. In cycle 2 the linked Value Code is at HIGH =
[0, 0, 2, 6, 2] (θ = 0.76 against LOW) and the others at LOW (θ = 0.5), UP = [0, 2, 3, 4, 1]
(θ = 0.56) or DOWN = [0, 4, 2, 4, 0] (θ = 0.44).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence

import pytest
from click.testing import CliRunner
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.conftest import REPO, Store
from tests.factories import (
    BLANK,
    World,
    add_respondents,
    build_demo,
    counts,
    levels_of,
    seed_cycle,
    seed_library,
    seed_world,
)
from vm_cli.main import main
from vm_core.actions import ActionEdit, create_action
from vm_core.actions.importing import import_actions
from vm_core.read.action_effects import ActionEffect, format_effects, read_action_effects
from vm_core.read.cells import CycleCells, cycle_cells
from vm_core.read.reader import Scope
from vm_core.run import pipeline
from vm_core.scoring import score_cycle
from vm_core.scoring.anonymity import ALL
from vm_core.scoring.difference_in_differences import CodeChange, difference_in_differences, judge_effects
from vm_core.settings import Settings
from vm_core.store.db import transaction
from vm_core.store.models import ThingThatMatters, ValueCodeLevel, value_code_thing

LOW, HIGH = (0, 2, 4, 4, 0), (0, 0, 2, 6, 2)
UP, DOWN = (0, 2, 3, 4, 1), (0, 4, 2, 4, 0)


def _changes(after: Mapping[str, Sequence[int]]) -> list[CodeChange]:
    return [CodeChange(code, LOW, tuple(counts)) for code, counts in after.items()]


# ---------------------------------------------------------------- the statistic, by hand


def test_one_linked_code_against_three_is_too_little_to_tell() -> None:
    linked = _changes({"VC1": HIGH})
    control = _changes({"VC2": LOW, "VC3": UP, "VC4": DOWN})
    assert [c.theta for c in (*linked, *control)] == pytest.approx([0.76, 0.5, 0.56, 0.44])
    did = difference_in_differences(linked, control)
    # δ = 0.76 − (0.5 + 0.56 + 0.44)/3 = 0.26; s² = (0 + 0.06² + 0.06²)/2 = 0.0036, s = 0.06
    assert did.estimate == pytest.approx(0.26)
    assert did.control_sd == pytest.approx(0.06)
    # SE = 0.06·√(1/1 + 1/3) = 0.069282; T = 0.26/0.069282 = 3.7528 on 3 − 1 = 2 degrees of freedom
    assert did.se == pytest.approx(0.06 * math.sqrt(4 / 3))
    assert did.statistic == pytest.approx(3.752777, abs=1e-6)
    assert did.df == 2
    # with 2 df, P(|T| > t) = 1 − t/√(t² + 2) exactly
    t = did.statistic
    assert did.p_value == pytest.approx(1 - t / math.sqrt(t * t + 2))
    assert did.p_value == pytest.approx(0.064240, abs=1e-6)
    # interval: 0.26 ± t(2, 0.975) = 4.302653 × 0.069282
    assert did.ci_low == pytest.approx(0.26 - 0.298097, abs=1e-6)
    assert did.ci_high == pytest.approx(0.26 + 0.298097, abs=1e-6)
    # the mean levels, for reading: VC1 3.2 → 4.0 (+0.8); the others 3.2 → 3.2, 3.4, 3.0 (0 on average)
    assert (did.linked_mean_before, did.linked_mean_after) == pytest.approx((3.2, 4.0))
    assert (did.control_mean_before, did.control_mean_after) == pytest.approx((3.2, 3.2))
    assert did.mean_difference == pytest.approx(0.8)
    (effect,) = judge_effects([did])
    assert effect.verdict == "no detectable change"  # three other codes vary too much to tell
    assert effect.q_value == pytest.approx(did.p_value)


def test_with_five_other_codes_it_is_an_improvement_and_equals_the_pooled_t_test() -> None:
    from scipy import stats

    linked = _changes({"VC1": HIGH})
    control = _changes({"VC2": LOW, "VC3": UP, "VC4": DOWN, "VC5": LOW, "VC6": LOW})
    did = difference_in_differences(linked, control)
    # s² = 2·0.06²/4 = 0.0018; SE = √0.0018·√(1 + 1/5) = 0.046476; T = 0.26/0.046476 = 5.5943, df = 4
    assert did.se == pytest.approx(math.sqrt(0.0018 * 1.2))
    assert did.statistic == pytest.approx(5.594309, abs=1e-6)
    assert did.df == 4
    # one linked code: the two-sample t-test with pooled variance of 0.76 against the five θ
    reference = stats.ttest_ind([0.76], [c.theta for c in control])
    assert did.statistic == pytest.approx(reference.statistic)
    assert did.p_value == pytest.approx(reference.pvalue)
    assert did.p_value == pytest.approx(0.005011, abs=1e-6)
    (effect,) = judge_effects([did])
    assert effect.verdict == "improved"
    assert "δθ = +0.260" in effect.reason


def test_several_linked_codes_use_their_mean_and_the_controls_spread_only() -> None:
    # VC1 improved, VC2 did not: δ = (0.76 + 0.5)/2 − 0.5 = 0.13, SE = s·√(1/2 + 1/5). The linked
    # codes' own spread (one worked, one did not) is how the action worked, not noise: left out.
    linked = _changes({"VC1": HIGH, "VC2": LOW})
    control = _changes({"VC3": LOW, "VC4": UP, "VC5": DOWN, "VC6": LOW, "VC7": LOW})
    did = difference_in_differences(linked, control)
    assert did.linked_theta == pytest.approx(0.63)
    assert did.estimate == pytest.approx(0.13)
    assert did.se == pytest.approx(math.sqrt(0.0018) * math.sqrt(0.5 + 0.2))
    assert did.df == 4


def test_a_decline_a_small_change_and_the_family() -> None:
    control = _changes({"VC3": LOW, "VC4": UP, "VC5": DOWN, "VC6": LOW, "VC7": LOW})
    fell = difference_in_differences([CodeChange("VC1", HIGH, LOW)], control)  # θ = 1 − 0.76 = 0.24
    assert fell.estimate == pytest.approx(-0.26)
    # 1,000 answers a cell: 75 move from level 3 to 4, θ = 0.5 + 75·800/2,000,000 = 0.53, against
    # controls that hardly move (θ = ½ four times and 0.5004): detectable, but below a practical change
    many = (0, 200, 400, 400, 0)
    steady = [CodeChange(f"S{i}", many, many) for i in range(4)]
    steady.append(CodeChange("S4", many, (0, 200, 399, 401, 0)))
    small = difference_in_differences([CodeChange("VC1", many, (0, 200, 325, 475, 0))], steady)
    assert small.linked_theta == pytest.approx(0.53)
    assert small.estimate == pytest.approx(0.53 - 0.50008)
    effects = judge_effects([fell, small])
    assert [e.verdict for e in effects] == ["declined", "no detectable change"]
    assert "smaller than a practical change" in effects[1].reason
    # Benjamini–Hochberg over the two: the larger p keeps its value, the smaller is doubled
    assert fell.p_value is not None
    assert small.p_value is not None
    assert small.p_value < fell.p_value
    assert effects[0].q_value == pytest.approx(fell.p_value)
    assert effects[1].q_value == pytest.approx(2 * small.p_value)


@pytest.mark.parametrize(
    ("linked", "control", "why"),
    [
        ({}, {"VC2": LOW, "VC3": UP}, "no linked Value Code"),
        ({"VC1": HIGH}, {"VC2": UP}, "1 Value Code without an action to compare with; at least 2"),
        ({"VC1": HIGH}, {"VC2": UP, "VC3": UP}, "all changed alike"),
    ],
)
def test_what_cannot_be_measured_says_why(
    linked: dict[str, tuple[int, ...]], control: dict[str, tuple[int, ...]], why: str
) -> None:
    did = difference_in_differences(_changes(linked), _changes(control))
    assert did.p_value is None
    assert did.insufficient is not None
    assert why in did.insufficient
    (effect,) = judge_effects([did])
    assert effect.verdict == "not yet measurable"
    assert effect.q_value is None


def test_a_code_is_never_both_linked_and_a_control() -> None:
    with pytest.raises(ValueError, match="both linked and a control: VC1"):
        difference_in_differences(_changes({"VC1": HIGH}), _changes({"VC1": HIGH, "VC2": LOW}))


# ---------------------------------------------------------------- small stores

CODES = ("VC1", "VC2", "VC3", "VC4", "VC5", "VC6")


def _seed(s: Session, cycle_2: Mapping[str, Sequence[int | str | None]]) -> World:
    """One party, no perspectives (groups *all* and *client*); every code at LOW in cycle 1, as given in 2."""
    world = seed_world(s, parties=("client",), perspectives=(), sections={"S": CODES})
    second = seed_cycle(s, world.relationship, world.library_version, number=2)
    third = seed_cycle(s, world.relationship, world.library_version, number=3)  # no scores yet
    assert third.number == 3
    for cycle, levels in ((world.cycle, {c: levels_of(LOW) for c in CODES}), (second, cycle_2)):
        add_respondents(s, world, party="client", perspective=None, levels=dict(levels), cycle=cycle)
        score_cycle(s, cycle.id, counts(s, cycle))
    thing = ThingThatMatters(library_version_id=world.library_version.id, name="Openness")
    s.add(thing)
    s.flush()
    s.execute(value_code_thing.insert().values(value_code_id=world.value_codes["VC2"].id, thing_id=thing.id))
    return world


def _act(s: Session, cycle: int, title: str, **links: tuple[str, ...]) -> int:
    return create_action(s, "acme-bolt", cycle, ActionEdit(title=title, **links), by="test").id  # type: ignore[arg-type]


def _by_title(effects: list[ActionEffect]) -> dict[str, ActionEffect]:
    return {e.action.fields.title: e for e in effects}


@pytest.mark.store
def test_an_action_and_a_thing_by_hand(store: Store) -> None:
    """A on VC1 (LOW → HIGH), B on the Thing "Openness" (VC2, LOW → LOW); controls VC3–VC6 (θ 0.56, 0.44, ½, ½)."""
    after = {"VC1": HIGH, "VC2": LOW, "VC3": UP, "VC4": DOWN, "VC5": LOW, "VC6": LOW}
    with store.sessions() as s, s.begin():
        _seed(s, {code: levels_of(c) for code, c in after.items()})
        _act(s, 1, "A", value_codes=("VC1",))
        _act(s, 1, "B", things=("Openness",))
        _act(s, 2, "C", value_codes=("VC3",))
        effects = _by_title(read_action_effects(s, "acme-bolt"))
    a, b, c = effects["A"], effects["B"], effects["C"]
    assert (a.raised_in, a.measured_at) == (1, 2)
    assert b.value_codes == ("VC2",)  # through its Thing
    overall = a.overall
    assert overall is not None
    did = overall.effect.contrast
    # VC2 is B's: no control for A (nor VC1 for B); C was raised after cycle 2, so VC3 still is one
    assert [x.value_code for x in did.control] == ["VC3", "VC4", "VC5", "VC6"]
    # s² = (0.06² + 0.06² + 0 + 0)/3 = 0.0024; SE = √0.0024·√(1 + 1/4) = 0.054772; T = 4.7469, df = 3
    assert did.estimate == pytest.approx(0.26)
    assert did.se == pytest.approx(math.sqrt(0.0024 * 1.25))
    assert did.df == 3
    # with 3 df, P(|T| > t) = 1 − (2/π)·(atan(x) + x/(1 + x²)), x = t/√3
    x = (did.statistic or 0) / math.sqrt(3)
    assert did.p_value == pytest.approx(1 - 2 / math.pi * (math.atan(x) + x / (1 + x * x)))
    assert did.p_value == pytest.approx(0.017736, abs=1e-6)
    assert (did.ci_low, did.ci_high) == pytest.approx((0.26 - 0.174310, 0.26 + 0.174310), abs=1e-6)
    # the family is the actions cycle 1 raised: A (p = 0.0177) and B (δ = 0, p = 1); q_A = 2·0.0177
    assert overall.effect.q_value == pytest.approx(2 * did.p_value)
    assert a.verdict == "improved"
    assert b.verdict == "no detectable change"
    assert b.overall is not None
    assert b.overall.effect.contrast.estimate == pytest.approx(0.0)
    assert b.overall.effect.q_value == pytest.approx(1.0)
    # the same in the detail group (the client is everybody here)
    assert [g.group.key for g in a.groups] == ["all", "client"]
    assert a.groups[1].effect.verdict == "improved"
    # the sentence a workshop reads
    assert a.explanation.startswith("Improved: between cycle 1 and cycle 2, VC1 went from 3.20 to 4.00, ")
    assert "the 4 Value Codes no action worked on went from 3.20 to 3.20" in a.explanation
    assert "difference in θ +0.26, 95% CI +0.09 to +0.43, q = 0.035" in a.explanation
    # the evidence: VC1's change in each group, as vm gaps --kind change shows it
    assert [(g.value_code, g.x.group.key, g.x.cycle, g.y.cycle) for g in a.cells] == [
        ("VC1", "all", 2, 1),
        ("VC1", "client", 2, 1),
    ]
    assert a.cells[0].comparison.test.theta == pytest.approx(0.76)
    # an action of the last cycle with scores cannot be measured yet
    assert c.measured_at is None
    assert c.verdict == "not yet measurable"
    assert c.explanation == "Not yet measurable: no cycle after cycle 2 has published scores yet."


@pytest.mark.store
def test_a_hidden_cell_never_feeds_an_effect(store: Store) -> None:
    """In cycle 2 only 3 of the 10 give VC1 a level (the rest "no level"): its cells are hidden."""
    after: dict[str, Sequence[int | str | None]] = {code: levels_of(LOW) for code in CODES}
    after["VC1"] = [5, 5, 5] + [None] * 7
    after["VC3"] = levels_of(UP)
    after["VC4"] = levels_of(DOWN)
    with store.sessions() as s, s.begin():
        _seed(s, after)
        _act(s, 1, "A", value_codes=("VC1",))
        _act(s, 1, "B", value_codes=("VC1", "VC2"))
        cells = {n: cycle_cells(s, "acme-bolt", n) for n in (1, 2)}
        effects = _by_title(read_action_effects(s, "acme-bolt"))
    assert ("VC1", ALL) in cells[2].hidden
    a, b = effects["A"], effects["B"]
    assert a.verdict == "not yet measurable"
    reason = "hidden in cycle 2 (fewer respondents than the minimum group size)"
    assert a.not_compared == {"VC1": reason}
    assert a.explanation == f"Not yet measurable: VC1: {reason}."
    assert a.cells == ()  # no change of VC1 is shown either
    # B is measured on VC2 alone, and says VC1 was left out
    assert b.overall is not None
    assert [x.value_code for x in b.overall.effect.contrast.linked] == ["VC2"]
    assert b.explanation.endswith(f"Not compared: VC1: {reason}.")
    _assert_only_published_cells(list(effects.values()), cells)


@pytest.mark.store
def test_a_changed_statement_or_too_few_answers_are_not_compared(store: Store) -> None:
    after: dict[str, Sequence[int | str | None]] = {code: levels_of(LOW) for code in CODES}
    after["VC2"] = [*levels_of((0, 2, 4, 2, 0)), BLANK, BLANK]  # 8 answers: shown, too few to compare
    with store.sessions() as s, s.begin():
        world = _seed(s, after)
        revised = seed_library(s, key="acme-bolt-library", version="2.0", sections={"S": CODES})
        s.execute(
            update(ValueCodeLevel)
            .where(ValueCodeLevel.value_code_id == revised.value_codes["VC1"].id, ValueCodeLevel.level == 3)
            .values(statement="VC1 at level 3, measured against the new KPIs")
        )
        fourth = seed_cycle(s, world.relationship, revised.version, number=4)
        add_respondents(
            s,
            world,
            party="client",
            perspective=None,
            levels={c: levels_of(HIGH) for c in CODES},
            cycle=fourth,
        )
        score_cycle(s, fourth.id, counts(s, fourth))
        _act(s, 1, "A", value_codes=("VC2",))
        _act(s, 2, "B", value_codes=("VC1",))
        effects = _by_title(read_action_effects(s, "acme-bolt"))
    assert effects["A"].not_compared == {"VC2": "8 answers in cycle 2; at least 10 are needed"}
    # B, raised in 2, is measured at 4 (3 has no scores), where VC1's statements changed
    assert effects["B"].measured_at == 4
    assert effects["B"].verdict == "not yet measurable"
    assert effects["B"].not_compared == {
        "VC1": "its evaluation statements changed between cycle 2 and cycle 4"
    }


def _assert_only_published_cells(effects: list[ActionEffect], cells: Mapping[int, CycleCells]) -> None:
    """Every count an effect uses is a published cell, exactly as published; no hidden cell is used."""
    for effect in effects:
        if effect.measured_at is None:
            continue
        before, now = cells[effect.raised_in], cells[effect.measured_at]
        for group_effect in effect.groups:
            contrast = group_effect.effect.contrast
            for change in (*contrast.linked, *contrast.control):
                key = (change.value_code, group_effect.group)
                assert key not in before.hidden
                assert key not in now.hidden
                assert change.before == before.counts(*key)
                assert change.after == now.counts(*key)
        for gap in effect.cells:
            for side in (gap.x, gap.y):
                assert (gap.value_code, side.group) not in cells[side.cycle].hidden


# ---------------------------------------------------------------- the demo's story

KEY = "northwind-contoso"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings: Settings = build_demo(tmp_path_factory)
    with transaction(pipeline.open_store(settings)) as s:
        import_actions(s, KEY, REPO / "examples" / "demo" / "actions.yaml", by="demo")
    return settings


@pytest.fixture
def demo_effects(demo: Settings) -> dict[str, ActionEffect]:
    with pipeline.open_store(demo)() as s:
        return {e.action.fields.title: e for e in read_action_effects(s, KEY)}


def _find(effects: dict[str, ActionEffect], starts: str) -> ActionEffect:
    (found,) = [e for title, e in effects.items() if title.startswith(starts)]
    return found


def test_openness_improved_after_the_joint_review(demo_effects: dict[str, ActionEffect]) -> None:
    effect = _find(demo_effects, "Review the complaints and escalation log")
    assert (effect.raised_in, effect.measured_at) == (1, 2)
    assert effect.value_codes == ("REL-OPENNESS", "REL-ISSUES")  # Communication adds only REL-OPENNESS
    assert effect.verdict == "improved"
    overall = effect.overall
    assert overall is not None
    did = overall.effect.contrast
    # openness 2.0 → 3.0, issue resolution flat: on average 2.39 → 2.88, the others 3.30 → 3.25
    assert (did.linked_mean_before, did.linked_mean_after) == pytest.approx((2.39, 2.88), abs=0.01)
    assert did.estimate == pytest.approx(0.18, abs=0.01)
    assert (did.ci_low or 0) > 0.06  # even the interval's lower end is beyond a practical change
    # every code another cycle-1 action worked on is left out of the controls
    assert {"DEL-KPI", "DEL-IMPROVE", "VAL-COMMERCIAL"}.isdisjoint(x.value_code for x in did.control)
    assert len(did.control) == 11
    openness = next(g for g in effect.cells if (g.value_code, g.x.group) == ("REL-OPENNESS", ALL))
    assert openness.comparison.verdict == "higher"


def test_the_kpi_actions_show_no_detectable_change(demo_effects: dict[str, ActionEffect]) -> None:
    # the KPI set was rebuilt (cycle 1) and its results published (cycle 2); the council still rates
    # the KPIs a level below Contoso, and the KPIs moved no more than the codes nobody worked on
    for title, raised_in in (("Rebuild the KPI set", 1), ("Publish the KPI results", 2)):
        effect = _find(demo_effects, title)
        assert effect.raised_in == raised_in
        assert effect.measured_at == raised_in + 1
        assert effect.verdict == "no detectable change", effect.explanation
        assert effect.overall is not None
        assert abs(effect.overall.effect.contrast.estimate or 1) < 0.06


def test_no_demo_effect_rests_on_a_hidden_cell(demo: Settings, demo_effects: dict[str, ActionEffect]) -> None:
    with pipeline.open_store(demo)() as s:
        cells = {n: cycle_cells(s, KEY, n) for n in (1, 2, 3)}
    assert cells[1].hidden  # the demo's small group and its complementary cells
    _assert_only_published_cells(list(demo_effects.values()), cells)
    # the seniors' cells of cycle 1 are hidden: no senior effect of a cycle-1 action is measured
    review = _find(demo_effects, "Review the complaints and escalation log")
    senior = next(g for g in review.groups if g.group.key == "senior")
    assert senior.effect.verdict == "not yet measurable"
    assert "hidden in cycle 1" in senior.reason


def test_vm_actions_effect_on_the_demo(demo: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VM_HOME", str(demo.home))
    monkeypatch.setenv("VM_SECRET", "golden")
    out = CliRunner().invoke(main, ["actions", "effect", "--relationship", KEY, "--cycle", "1"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].split()[:3] == ["id", "raised", "measured"]
    assert lines[1].endswith("improved")
    assert [line.split()[-3:] for line in lines[2:4]] == [["no", "detectable", "change"]] * 2
    assert any(line.startswith("1: Improved: between cycle 1 and cycle 2") for line in lines)
    csv_out = CliRunner().invoke(main, ["actions", "effect", "--relationship", KEY, "--format", "csv"])
    header, first = csv_out.output.splitlines()[:2]
    assert header.startswith("relationship,action_id,title,status,raised_in,measured_at,group,")
    assert ",all," in first
    missing = CliRunner().invoke(main, ["actions", "effect", "--relationship", "nobody"])
    assert missing.exit_code == 1
    assert "no relationship 'nobody'" in missing.output


def test_a_relationship_outside_the_scope_reads_as_absent(demo: Settings) -> None:
    elsewhere = Scope(frozenset({"another-relationship"}))
    with pipeline.open_store(demo)() as s:
        assert read_action_effects(s, scope=elsewhere) == []
        with pytest.raises(LookupError, match="no relationship 'northwind-contoso'"):
            read_action_effects(s, KEY, scope=elsewhere)
        assert [e.action.id for e in read_action_effects(s, KEY, cycle=2)] == [4, 5]


def test_formats_agree(demo_effects: dict[str, ActionEffect]) -> None:
    import json

    effects = list(demo_effects.values())
    parsed = json.loads(format_effects(effects, "json"))
    assert [p["verdict"] for p in parsed] == [e.verdict for e in effects]
    assert parsed[0]["groups"][0]["group"] == "all"
    assert parsed[0]["cells"][0]["kind"] == "change"
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        format_effects(effects, "xml")
