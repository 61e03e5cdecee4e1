"""Findings: the wording, the rules on hand-built cells and stores, the attacks, `vm findings`, and the demo's story.

Counts are l1..l5. Consensus by hand (Tastle & Wierman, d = 4; docs/statistics.md):

    [0, 0, 2, 6, 2]  μ 4    1 + 0.4·log2(0.75)            = 0.833985   agreed
    [0, 0, 1, 8, 1]  μ 4    1 + 0.2·log2(0.75)            = 0.916993   agreed
    [2, 3, 0, 3, 2]  μ 3    1 − 0.4 + 0.6·log2(0.75)      = 0.350978   divided (50 % at each end)
    [3, 2, 0, 2, 3]  μ 3    1 − 0.6 + 0.4·log2(0.75)      = 0.233985   divided (50 % at each end)

Client/senior [0, 0, 2, 6, 2] against supplier/senior [0, 2, 4, 4, 0] is the worked example of
docs/statistics.md: θ = 0.76, p = 0.0154, means 4.0 and 3.2.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.conftest import Store
from tests.factories import World, add_respondents, build_demo, counts, levels_of, seed_cycle, seed_world
from vm_cli.main import main
from vm_core.read.cells import CycleCells, cycle_cells
from vm_core.read.findings import Finding, format_findings, read_findings
from vm_core.read.findings.rules import Vocabulary, agreements, divisions
from vm_core.read.findings.wording import (
    change_amount,
    derived_name,
    gap_amount,
    nearest_level,
    readable_name,
    since,
)
from vm_core.read.gaps import read_gaps
from vm_core.run import pipeline
from vm_core.scoring import published_tallies, relationship_table, score_cycle
from vm_core.scoring.anonymity import Group, find_leak
from vm_core.scoring.statistics import AgreementRule
from vm_core.settings import Settings
from vm_core.store.models import Cycle, Relationship, ValueCode, ValueCodeLevel

LOG2_075 = math.log2(0.75)
AGREED_4 = [0, 0, 2, 6, 2]  # consensus 1 + 0.4·log2(0.75)
AGREED_4_TIGHT = [0, 0, 1, 8, 1]  # consensus 1 + 0.2·log2(0.75)
SPLIT = [2, 3, 0, 3, 2]  # consensus 1 − 0.4 + 0.6·log2(0.75)
SPLIT_WIDE = [3, 2, 0, 2, 3]  # consensus 1 − 0.6 + 0.4·log2(0.75)
SENIOR_SUPPLIER = [0, 2, 4, 4, 0]


# ---------------------------------------------------------------- wording (pure)


@pytest.mark.parametrize(
    ("identifier", "description", "name"),
    [
        ("REL-OPENNESS", "The extent to which communication is open", "Openness"),
        ("DEL-KPI", "…", "KPI"),  # an acronym keeps its capitals
        ("DEL-SERVICE-QUALITY", "…", "Service quality"),
        ("VC1", "Value Code VC1", "VC1"),  # one word: no prefix to drop; a digit keeps the spelling
        ("TRUST", "…", "Trust"),
        ("PARTNER-RISK", "…", "Partner risk"),  # a first word of more than four letters is no prefix
        (
            "1.2",
            "The extent to which issues are resolved quickly, at the right level.",
            "Issues are resolved quickly",
        ),
        (
            "7",
            "The extent to which both organisations plan and manage every change together; always",
            "Both organisations plan and manage every…",
        ),
    ],
)
def test_a_name_derived_when_the_library_gives_no_short_name(
    identifier: str, description: str, name: str
) -> None:
    assert derived_name(identifier, description) == name
    assert readable_name(identifier, description, None) == name


def test_the_librarys_short_name_is_the_readable_name() -> None:
    assert readable_name("REL-ISSUES", "The extent to which issues are resolved", "Issue resolution") == (
        "Issue resolution"
    )
    assert readable_name("DEL-KPI", "…", "KPIs") == "KPIs"


@pytest.mark.parametrize(
    ("difference", "words"),
    [
        (Fraction(1, 5), "slightly"),  # under a quarter of a level
        (Fraction(1, 4), "half a level"),  # a quarter rounds up to a half
        (Fraction(7, 10), "half a level"),
        (Fraction(3, 4), "a level"),
        (Fraction(-115, 100), "a level"),  # the size: the sign is the sentence's
        (Fraction(5, 4), "one and a half levels"),
        (Fraction(19, 10), "two levels"),
        (Fraction(4), "four levels"),
    ],
)
def test_a_gap_in_words_to_the_nearest_half_level(difference: Fraction, words: str) -> None:
    assert gap_amount(difference) == words


def test_a_change_to_one_decimal_exactly() -> None:
    assert change_amount(Fraction(9, 10)) == "0.9 levels"
    assert change_amount(Fraction(-1907, 1000)) == "1.9 levels"
    assert change_amount(Fraction(1, 20)) == "0.1 levels"  # 0.05 is a half: up, never to 0.0 by float residue
    assert change_amount(Fraction(1, 21)) is None  # rounds to 0.0: no size is put on it


def test_the_nearest_level_and_a_mean_halfway() -> None:
    assert nearest_level([3, 24, 3, 0, 0]) == 2
    assert nearest_level([0, 0, 7, 18, 5]) == 4  # mean 3.93
    assert nearest_level([0, 5, 5, 0, 0]) is None  # mean 2.5: nearest neither
    assert nearest_level([0, 0, 0, 0, 1]) == 5


def test_a_baseline_is_named_by_its_mode_when_no_other_cycle_has_it() -> None:
    assert since(1, {1: "resolve", 2: "solve"}) == "Resolve"
    assert since(2, {1: "resolve", 2: "solve"}) == "Solve"
    assert since(1, {1: "resolve", 2: "resolve"}) == "cycle 1"


# ---------------------------------------------------------------- agreement and division rules (pure)

WORDS = Vocabulary(
    parties={"client": "Council", "supplier": "Contractor"},
    perspectives={"senior": "Senior leadership", "middle": "Middle management"},
    names={"VC1": "Openness"},
    level_labels={("VC1", 4): "Good"},
    earlier_modes={},
)


def _cells(shown: Mapping[str, Sequence[int]], hidden: Sequence[str] = ()) -> CycleCells:
    """Cycle 1 of VC1 with the given published cells (group key → counts) and hidden ones."""
    groups = [
        Group("all"),
        Group("party", "client"),
        Group("party", "supplier"),
        Group("perspective", perspective="senior"),
        Group("perspective", perspective="middle"),
        *(Group("party_perspective", p, q) for p in ("client", "supplier") for q in ("senior", "middle")),
    ]
    by_key = {g.key: g for g in groups}
    return CycleCells(
        "r",
        1,
        ("VC1",),
        {"VC1": "S"},
        tuple(groups),
        {("VC1", by_key[k]): tuple(v) for k, v in shown.items()},
        {("VC1", by_key[k]): "complementary" for k in hidden},
    )


def test_both_sides_agree_only_when_both_cells_are_published_agreed_and_large_enough() -> None:
    rule = AgreementRule()
    both = _cells({"client/middle": AGREED_4, "supplier/middle": AGREED_4_TIGHT})
    (finding,) = agreements(both, WORDS, rule, 10)
    assert finding.sentence == "Middle management on both sides agree that *Openness* is at 'Good'."
    assert finding.key == "agreement:1:VC1:*/middle"
    assert finding.strength == pytest.approx(1 + 0.4 * LOG2_075)  # the lower consensus
    assert finding.breadth == 0.5  # 2 of the 2 × 2 party × perspective cells
    # one side hidden, one side below 10 answers, one side at another level, a mean halfway: no sentence
    assert agreements(_cells({"client/middle": AGREED_4}, hidden=["supplier/middle"]), WORDS, rule, 10) == []
    assert (
        agreements(_cells({"client/middle": AGREED_4, "supplier/middle": [0, 0, 1, 6, 1]}), WORDS, rule, 10)
        == []
    )
    assert (
        agreements(_cells({"client/middle": AGREED_4, "supplier/middle": [0, 8, 1, 1, 0]}), WORDS, rule, 10)
        == []
    )
    assert (
        agreements(
            _cells({"client/middle": [0, 5, 5, 0, 0], "supplier/middle": [0, 5, 5, 0, 0]}), WORDS, rule, 10
        )
        == []
    )
    # the cross-party row alone is never "both sides"
    assert agreements(_cells({"middle": [0, 0, 4, 12, 4]}, hidden=["supplier/middle"]), WORDS, rule, 10) == []


def test_a_division_is_said_of_the_broadest_published_group() -> None:
    rule = AgreementRule()

    def said(shown: Mapping[str, Sequence[int]], hidden: Sequence[str] = ()) -> list[tuple[str, str]]:
        return [(f.key, f.sentence) for f in divisions(_cells(shown, hidden), WORDS, rule, 10)]

    # 1. every party's cell divided
    assert said({"client/senior": SPLIT, "supplier/senior": SPLIT_WIDE, "senior": [5, 5, 0, 5, 5]}) == [
        ("division:1:VC1:*/senior", "Senior leadership on both sides are divided about *Openness*.")
    ]
    # 2. a party's cell hidden: the cross-party row
    assert said({"senior": [5, 5, 0, 5, 5], "client/senior": SPLIT}, hidden=["supplier/senior"]) == [
        ("division:1:VC1:senior", "Senior leadership are divided about *Openness*.")
    ]
    # 3. the row hidden too: each party's divided cell, about that party only
    assert said({"client/senior": SPLIT}, hidden=["supplier/senior", "senior"]) == [
        ("division:1:VC1:client/senior", "Senior leadership at Council are divided about *Openness*.")
    ]
    # a divided cell of fewer than 10 answers is no finding; a thin tail is no division
    assert said({"client/senior": [1, 2, 0, 2, 1]}, hidden=["supplier/senior", "senior"]) == []
    assert said({"client/senior": [8, 0, 0, 0, 2]}, hidden=["supplier/senior", "senior"]) == []


# ---------------------------------------------------------------- hand-built stores


def _seed_gap_world(s: Session, supplier_middle: Sequence[int] = (0, 0, 3, 0, 0)) -> World:
    """tests/test_gaps.py's world: the supplier's middle managers are 3, hidden with the *middle* row."""
    world = seed_world(s, perspectives=("senior", "middle"), sections={"Delivery": ("VC1",)})
    for party, perspective, levels in [
        ("client", "senior", AGREED_4),
        ("client", "middle", [0, 0, 10, 0, 0]),
        ("supplier", "senior", SENIOR_SUPPLIER),
        ("supplier", "middle", list(supplier_middle)),
        ("supplier", None, [0, 0, 5, 0, 0]),
    ]:
        add_respondents(s, world, party=party, perspective=perspective, levels={"VC1": levels_of(levels)})
    score_cycle(s, world.cycle.id, counts(s, world.cycle))
    return world


@pytest.mark.store
def test_a_party_gap_in_words_with_its_evidence(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed_gap_world(s)
        found = read_findings(s, "acme-bolt", 1)
    (gap,) = [f for f in found if f.kind == "party_gap"]
    # θ = 0.76 (q = 0.0308 in the family of two, docs/statistics.md); 4.0 − 3.2 = 0.8 → "a level"
    assert gap.sentence == "Senior at Client rate *VC1* a level higher than at Supplier."
    assert gap.key == "party_gap:1:VC1:client/senior+supplier/senior"
    assert gap.statistic["theta"] == pytest.approx(0.76)
    assert gap.statistic["p"] == pytest.approx(0.015415, abs=1e-6)
    assert gap.statistic["q"] == pytest.approx(0.030830, abs=1e-6)
    assert gap.statistic["verdict"] == "higher"
    assert gap.thresholds == {"alpha": 0.05, "practical": 0.56, "min_n": 10}
    assert [(c.group.key, c.counts, c.n) for c in gap.cells] == [
        ("client/senior", tuple(AGREED_4), 10),
        ("supplier/senior", tuple(SENIOR_SUPPLIER), 10),
    ]
    assert gap.strength == pytest.approx(0.52)  # |2θ − 1|
    assert gap.breadth == 0.5  # two of the four party × perspective cells
    assert gap.rank_score == pytest.approx(0.26)
    assert "θ = 0.760" in gap.reason
    assert "q = 0.0308" in gap.reason


@pytest.mark.store
def test_no_finding_rests_on_or_gives_away_a_hidden_cell(store: Store) -> None:
    """The attack: client/middle all at level 3 (agreed) and the supplier's 3 middle managers hidden.

    "Middle managers on both sides agree …" would tell that the hidden three agree at level 3 too.
    """
    with store.sessions() as s, s.begin():
        world = _seed_gap_world(s)
        cells = cycle_cells(s, "acme-bolt", 1)
        found = read_findings(s, "acme-bolt", 1)
        layout = relationship_table(s, world.relationship.id, world.cycle.id)
        truth = published_tallies(s, world.cycle.id, layout)
    hidden = {group.key for (_, group) in cells.hidden}
    assert hidden == {"supplier/middle", "middle"}
    assert cells.counts("VC1", Group("party_perspective", "client", "middle")) == (0, 0, 10, 0, 0)
    assert not [f for f in found if f.kind == "agreement"]
    assert not [f for f in found if "Middle" in f.sentence]
    for finding in found:
        for cell in finding.cells:  # every cited cell is published, its numbers exactly as published
            assert cell.counts == cells.counts(cell.value_code, cell.group)
    # the cells cited, together, single out nobody below the minimum
    cited = {c.group for f in found for c in f.cells}
    vc1 = world.value_codes["VC1"].id
    assert find_leak(layout.table, cited, truth.get(vc1, {}), world.relationship.min_group_size) is None
    # and no hidden group's key appears in any output
    for fmt in ("json", "csv", "table"):
        text = format_findings(found, fmt)
        assert "supplier/middle" not in text
        assert '"group": "middle"' not in text


@pytest.mark.store
def test_the_same_world_with_the_middle_cell_published_says_both_sides_agree(store: Store) -> None:
    """The control of the attack: with 10 supplier middle managers at level 3, the sentence is allowed."""
    with store.sessions() as s, s.begin():
        _seed_gap_world(s, supplier_middle=(0, 0, 10, 0, 0))
        s.execute(update(ValueCodeLevel).where(ValueCodeLevel.level == 3).values(label="Acceptable"))
        found = read_findings(s, "acme-bolt", 1)
    (agreement,) = [f for f in found if f.kind == "agreement"]
    assert agreement.sentence == "Middle on both sides agree that *VC1* is at 'Acceptable'."
    assert agreement.statistic == {"level": 3, "label": "Acceptable"}
    assert [c.group.key for c in agreement.cells] == ["client/middle", "supplier/middle"]
    assert agreement.strength == 1.0  # everybody at one level


@pytest.mark.store
def test_agreement_and_division_ranked_by_strength_times_breadth(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_world(s, perspectives=("senior", "middle"), sections={"Relationship": ("REL-OPENNESS",)})
        s.execute(update(ValueCodeLevel).where(ValueCodeLevel.level == 4).values(label="Good"))
        for party, perspective, levels in [
            ("client", "senior", SPLIT),
            ("client", "middle", AGREED_4),
            ("supplier", "senior", SPLIT_WIDE),
            ("supplier", "middle", AGREED_4_TIGHT),
        ]:
            add_respondents(
                s, world, party=party, perspective=perspective, levels={"REL-OPENNESS": levels_of(levels)}
            )
        score_cycle(s, world.cycle.id, counts(s, world.cycle))
        found = read_findings(s, "acme-bolt", 1)
    assert [(f.kind, f.sentence) for f in found] == [
        ("agreement", "Middle on both sides agree that *Openness* is at 'Good'."),
        ("division", "Senior on both sides are divided about *Openness*."),
    ]
    agreement, division = found
    # agreement: the lower consensus × 2 of 4 cells; division: 1 − the higher consensus × 2 of 4 cells
    assert agreement.rank_score == pytest.approx((1 + 0.4 * LOG2_075) * 0.5)  # 0.416993
    assert division.rank_score == pytest.approx((0.4 - 0.6 * LOG2_075) * 0.5)  # 0.324511
    assert division.statistic == {"lowest_end_share": 0.5}
    assert division.thresholds == {"divided_max_consensus": 0.5, "divided_min_end_share": 0.25, "min_n": 10}
    assert [c.record()["consensus"] for c in division.cells] == [
        pytest.approx(1 - 0.4 + 0.6 * LOG2_075),
        pytest.approx(1 - 0.6 + 0.4 * LOG2_075),
    ]


LOW, HIGH = [0, 2, 4, 4, 0], [0, 0, 2, 6, 2]


def _seed_cycles(s: Session, modes: Sequence[str], levels: Sequence[Sequence[int]]) -> World:
    """One party, no perspectives (groups *all* and *client*, the same ten people), one cycle per mode."""
    world = seed_world(s, parties=("client",), perspectives=(), sections={"S": ("VC1",)})
    world.cycle.mode = modes[0]
    cycles = [world.cycle] + [
        seed_cycle(s, world.relationship, world.library_version, number=i, mode=mode)
        for i, mode in enumerate(modes[1:], start=2)
    ]
    for cycle, answers in zip(cycles, levels, strict=True):
        add_respondents(
            s, world, party="client", perspective=None, levels={"VC1": levels_of(answers)}, cycle=cycle
        )
        score_cycle(s, cycle.id, counts(s, cycle))
    return world


@pytest.mark.store
def test_a_change_since_the_baselines_named_by_mode(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed_cycles(s, ["resolve", "solve", "dissolve"], [LOW, HIGH, LOW])
        second = read_findings(s, "acme-bolt", 2)
        third = read_findings(s, "acme-bolt", 3)
    # cycle 2 against 1: θ = 0.76, p = q = 0.0154, 3.2 → 4.0. The client's change is everybody's
    # (the same people): said once, for everybody.
    (improved,) = second
    assert improved.sentence == "*VC1* improved by 0.8 levels since Resolve."
    assert improved.key == "change:2:VC1:all:since-1"
    assert [(c.cycle, c.group.key) for c in improved.cells] == [(2, "all"), (1, "all")]
    assert improved.strength == pytest.approx(0.52)
    assert improved.breadth == 1.0
    # cycle 3: back to LOW — declined since Solve, and no change since Resolve (the same counts)
    assert [(f.key, f.sentence) for f in third] == [
        ("change:3:VC1:all:since-2", "*VC1* declined by 0.8 levels since Solve.")
    ]


@pytest.mark.store
def test_a_baseline_mode_two_cycles_share_is_named_by_number(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed_cycles(s, ["resolve", "resolve", "solve"], [LOW, LOW, HIGH])
        third = read_findings(s, "acme-bolt", 3)
    assert [f.sentence for f in third] == [
        "*VC1* improved by 0.8 levels since cycle 1.",
        "*VC1* improved by 0.8 levels since cycle 2.",
    ]


@pytest.mark.store
def test_vm_findings(vm_env: Store) -> None:
    with vm_env.sessions() as s, s.begin():
        _seed_cycles(s, ["resolve", "solve", "dissolve"], [LOW, HIGH, HIGH])
    runner = CliRunner()
    out = runner.invoke(main, ["findings", "--relationship", "acme-bolt", "--cycle", "3", "--format", "csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert [(r["rank"], r["key"], r["sentence"], r["cells"]) for r in rows] == [
        (
            "1",
            "change:3:VC1:all:since-1",
            "*VC1* improved by 0.8 levels since Resolve.",
            "3:VC1:all; 1:VC1:all",
        )
    ]
    table = runner.invoke(main, ["findings", "--relationship", "acme-bolt", "--cycle", "3"])
    assert table.exit_code == 0, table.output
    header, first, evidence = table.output.splitlines()
    assert header.split() == ["rank", "score", "kind", "value_code", "finding"]
    assert first.split()[:4] == ["1", "0.520", "change", "VC1"]
    assert evidence.strip().startswith(
        "all (cycle 3) against all (cycle 1): mean 4.00 against 3.20; θ = 0.760"
    )
    (record,) = json.loads(
        runner.invoke(
            main, ["findings", "--relationship", "acme-bolt", "--cycle", "3", "--format", "json"]
        ).output
    )
    assert record["cells"][0] == {
        "cycle": 3, "value_code": "VC1", "group_kind": "all", "group": "all", "n": 10,
        "l1": 0, "l2": 0, "l3": 2, "l4": 6, "l5": 2, "mean": 4.0, "consensus": pytest.approx(1 + 0.4 * LOG2_075),
    }  # fmt: skip
    assert record["statistic"]["verdict"] == "higher"
    none = runner.invoke(main, ["findings", "--relationship", "acme-bolt", "--cycle", "1"])
    assert none.exit_code == 0
    assert none.output.startswith("no findings in cycle 1 of acme-bolt")
    missing = runner.invoke(main, ["findings", "--relationship", "acme-bolt", "--cycle", "4"])
    assert missing.exit_code == 1
    assert missing.output.strip() == "Error: relationship 'acme-bolt' has no cycle 4"
    limited = runner.invoke(main, ["findings", "--relationship", "acme-bolt", "--cycle", "3", "--limit", "0"])
    assert limited.exit_code == 2  # K ≥ 1


# ---------------------------------------------------------------- the demo's story

KEY = "northwind-contoso"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings: Settings = build_demo(tmp_path_factory)
    return settings


@pytest.fixture
def session(demo: Settings) -> Iterator[Session]:
    with pipeline.open_store(demo)() as s:
        yield s


def _by_key(found: Sequence[Finding]) -> dict[str, Finding]:
    return {f.key: f for f in found}


@pytest.mark.parametrize("cycle", [1, 2, 3])
def test_the_demos_story_in_sentences(session: Session, cycle: int) -> None:
    found = read_findings(session, KEY, cycle)
    by_key = _by_key(found)
    # DEL-KPI: the council ≈ 2.3, Contoso ≈ 3.4 — said once, for the parties' totals
    kpi = by_key[f"party_gap:{cycle}:DEL-KPI:northwind+contoso"]
    assert kpi.sentence == "Contoso Services rates *KPIs* a level higher than Northwind Council."
    assert [f.key for f in found if f.kind == "party_gap" and f.value_code == "DEL-KPI"] == [kpi.key]
    assert {g.comparison.verdict for g in read_gaps(session, KEY, cycle, ["party"]) if g.value_code == "DEL-KPI" and g.x.group.kind == "party_perspective" and g.comparison.test.n_y >= 10} == {"lower"}  # fmt: skip
    # REL-ISSUES: middle managers on both sides agree at level 2
    issues = by_key[f"agreement:{cycle}:REL-ISSUES:*/middle"]
    assert issues.sentence == (
        "Middle management on both sides agree that *Issue resolution* is at 'Some way to go'."
    )
    assert [c.group.key for c in issues.cells] == ["northwind/middle", "contoso/middle"]
    # VAL-COMMERCIAL divides the senior leaders: in cycles 1 and 3 Contoso's senior cell and the
    # cross-party row are hidden, so it is said of the council's senior leaders only
    divided = [f for f in found if f.kind == "division" and f.value_code == "VAL-COMMERCIAL"]
    if cycle == 2:
        assert [f.sentence for f in divided] == [
            "Senior leadership are divided about *Commercial arrangements*."
        ]
        assert [c.group.key for c in divided[0].cells] == ["senior"]  # Contoso's 6 are too few alone
    else:
        assert [f.sentence for f in divided] == [
            "Senior leadership at Northwind Council are divided about *Commercial arrangements*."
        ]
    # the largest, broadest findings first: the KPI gap leads in cycles 1–2, openness's change in 3
    assert found[0].key == {1: kpi.key, 2: kpi.key, 3: "change:3:REL-OPENNESS:all:since-1"}[cycle]
    assert [f.rank_score for f in found] == sorted((f.rank_score for f in found), reverse=True)


def test_openness_improves_since_resolve_and_since_solve(session: Session) -> None:
    second, third = _by_key(read_findings(session, KEY, 2)), _by_key(read_findings(session, KEY, 3))
    assert (
        second["change:2:REL-OPENNESS:all:since-1"].sentence
        == "*Openness* improved by 1.0 levels since Resolve."
    )
    assert (
        third["change:3:REL-OPENNESS:all:since-2"].sentence
        == "*Openness* improved by 0.9 levels since Solve."
    )
    assert (
        third["change:3:REL-OPENNESS:all:since-1"].sentence
        == "*Openness* improved by 1.9 levels since Resolve."
    )
    # every group improved too, and everybody's sentence says it once
    assert not [k for k in third if k.startswith("change:3:REL-OPENNESS:") and ":all:" not in k]
    # ranked: the change since the first cycle (θ = 0.98) above the KPI gap (θ = 0.13) above the
    # change since the previous one (θ = 0.82), all three about everybody
    order = list(third)
    assert order.index("change:3:REL-OPENNESS:all:since-1") < order.index(
        "party_gap:3:DEL-KPI:northwind+contoso"
    )
    assert order.index("party_gap:3:DEL-KPI:northwind+contoso") < order.index(
        "change:3:REL-OPENNESS:all:since-2"
    )


def test_findings_are_the_same_on_every_run(demo: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VM_HOME", str(demo.home))
    monkeypatch.setenv("VM_SECRET", "golden")
    runs = [
        CliRunner().invoke(main, ["findings", "--relationship", KEY, "--cycle", "3", "--format", "json"])
        for _ in range(2)
    ]
    assert runs[0].exit_code == 0, runs[0].output
    assert runs[0].output == runs[1].output
    keys = [r["key"] for r in json.loads(runs[0].output)]
    assert len(keys) == len(set(keys))
    top = CliRunner().invoke(main, ["findings", "--relationship", KEY, "--cycle", "3", "--limit", "2"])
    assert top.exit_code == 0, top.output
    assert len(top.output.splitlines()) == 1 + 2 * 2  # header, then a sentence and its evidence each


@pytest.mark.parametrize("cycle", [1, 2, 3])
def test_no_demo_finding_cites_or_gives_away_a_hidden_cell(session: Session, cycle: int) -> None:
    cells = {n: cycle_cells(session, KEY, n) for n in (1, 2, 3)}
    if cycle != 2:
        assert cells[cycle].hidden  # the demo's small group and its complementary cells
    found = read_findings(session, KEY, cycle)
    used: dict[str, set[Group]] = {}
    for finding in found:
        for cell in finding.cells:
            assert (cell.value_code, cell.group) not in cells[cell.cycle].hidden
            assert cell.counts == cells[cell.cycle].counts(cell.value_code, cell.group)
            if cell.cycle == cycle:
                used.setdefault(cell.value_code, set()).add(cell.group)
    relationship = session.scalars(select(Relationship).where(Relationship.key == KEY)).one()
    row = session.scalars(
        select(Cycle).where(Cycle.relationship_id == relationship.id, Cycle.number == cycle)
    ).one()
    codes = dict(
        session.execute(
            select(ValueCode.identifier, ValueCode.id).where(
                ValueCode.library_version_id == row.library_version_id
            )
        ).all()
    )
    layout = relationship_table(session, relationship.id, row.id)
    truth = published_tallies(session, row.id, layout)
    for code, groups in used.items():
        leak = find_leak(layout.table, groups, truth.get(codes[code], {}), relationship.min_group_size)
        assert leak is None, leak.describe()
