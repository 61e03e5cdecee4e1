"""Gaps within one cycle: which published cells are compared, the family's q-values, order and output.

The world (one Value Code, min_group_size 5; counts are l1..l5):

    client/senior    [0, 0, 2, 6, 2]  n 10        supplier/senior  [0, 2, 4, 4, 0]  n 10
    client/middle    [0, 0, 10, 0, 0] n 10        supplier/middle  [0, 0, 3, 0, 0]  n 3  → hidden
                                                  supplier, no perspective [0, 0, 5, 0, 0]

The supplier's middle managers (3) are below the minimum; *middle* − client/middle would give
them away, so the engine also hides the cross-party *middle* row (the cheapest group to hide).
supplier − supplier/senior = middle + unmapped = 8 people is not a leak. So the published party
comparisons are client/senior against supplier/senior and client against supplier, and the one
published perspective comparison is client/senior against client/middle.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from tests.conftest import Store
from tests.factories import World, add_respondents, counts, levels_of, seed_world
from vm_cli.main import main
from vm_core.read.gaps import GAP_COLUMNS, Gap, Thresholds, by_practical_size, format_gaps, read_gaps
from vm_core.read.scores import score_records
from vm_core.scoring import score_cycle

pytestmark = pytest.mark.store

SENIOR_CLIENT = [0, 0, 2, 6, 2]
SENIOR_SUPPLIER = [0, 2, 4, 4, 0]


def _seed(s: Session) -> World:
    world = seed_world(s, perspectives=("senior", "middle"), sections={"Delivery": ("VC1",)})
    for party, perspective, levels in [
        ("client", "senior", SENIOR_CLIENT),
        ("client", "middle", [0, 0, 10, 0, 0]),
        ("supplier", "senior", SENIOR_SUPPLIER),
        ("supplier", "middle", [0, 0, 3, 0, 0]),
        ("supplier", None, [0, 0, 5, 0, 0]),
    ]:
        add_respondents(s, world, party=party, perspective=perspective, levels={"VC1": levels_of(levels)})
    score_cycle(s, world.cycle.id, counts(s, world.cycle))
    return world


def _pairs(gaps: list[Gap]) -> list[tuple[str, str, str]]:
    return [(g.kind, g.x.group.key, g.y.group.key) for g in gaps]


def test_only_published_cells_are_compared(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed(s)
        hidden = {r["group"] for r in score_records(s, "acme-bolt", 1) if r["suppressed"]}
        gaps = read_gaps(s, "acme-bolt", 1, ["party", "perspective"])
    assert hidden == {"supplier/middle", "middle"}
    assert _pairs(gaps) == [
        ("party", "client/senior", "supplier/senior"),
        ("party", "client", "supplier"),  # all of the client against all of the supplier
        ("perspective", "client/senior", "client/middle"),
    ]
    used = {g.x.group.key for g in gaps} | {g.y.group.key for g in gaps}
    assert not used & hidden


def test_a_party_gap_by_hand_and_its_family(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed(s)
        senior, total = read_gaps(s, "acme-bolt", 1, ["party"])
    # docs/statistics.md's worked example: θ = (2·4 + 6·8 + 2·10)/100 = 0.76, T = 2.68, df = 17.84,
    # p = 0.0154, 95 % interval 0.556–0.964; means 4.0 and 3.2
    assert senior.x.counts == tuple(SENIOR_CLIENT)
    assert senior.y.counts == tuple(SENIOR_SUPPLIER)
    test = senior.comparison.test
    assert test.theta == pytest.approx(0.76)
    assert (test.n_x, test.n_y) == (10, 10)
    assert test.statistic == pytest.approx(2.6785, abs=1e-4)
    assert test.p_value == pytest.approx(0.015415, abs=1e-6)
    assert (test.ci_low, test.ci_high) == (pytest.approx(0.5559, abs=1e-4), pytest.approx(0.9641, abs=1e-4))
    assert senior.comparison.mean_difference == pytest.approx(0.8)
    # totals: client [0,0,12,6,2] (n 20) against supplier [0,2,12,4,0] (senior + middle + unmapped, n 18)
    # doubled placements of the client among the supplier: level 3 → 2·2 + 12 = 16, level 4 → 2·14 + 4 = 32,
    # level 5 → 36; θ = (12·16 + 6·32 + 2·36) / (2·20·18) = 456/720 = 19/30
    assert total.x.counts == (0, 0, 12, 6, 2)
    assert total.y.counts == (0, 2, 12, 4, 0)
    assert total.comparison.test.theta == pytest.approx(19 / 30)
    assert total.record()["mean_x"] == pytest.approx(70 / 20)
    assert total.record()["mean_y"] == pytest.approx(56 / 18)
    p_senior, p_total = senior.comparison.test.p_value, total.comparison.test.p_value
    assert p_total is not None
    assert p_total > 2 * p_senior
    # Benjamini–Hochberg over the family of two: q(2) = p(2), q(1) = min(2·p(1)/1, q(2)) = 2·p(1)
    assert total.comparison.q_value == pytest.approx(p_total)
    assert senior.comparison.q_value == pytest.approx(2 * p_senior)  # 0.0308 ≤ 0.05
    assert senior.comparison.verdict == "higher"  # and θ = 0.76 ≥ 0.56
    assert total.comparison.verdict == "no detectable difference"  # q = 0.0896 > 0.05
    assert senior.magnitude == "large"
    assert total.magnitude == "small"


def test_a_perspective_gap_by_hand(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed(s)
        (gap,) = read_gaps(s, "acme-bolt", 1, ["perspective"])
    # client/senior [0,0,2,6,2] against client/middle (all ten at level 3): placements of the seniors
    # 0.5 (2), 1 (8): θ = 0.9, v_x = (2·0.4² + 8·0.1²)/9 = 0.4/9; the middle managers all place at
    # 0.1: v_y = 0. SE² = 0.4/90, T = 0.4/√(0.4/90) = 6, df = n_x − 1 = 9, p = 2·P(t_9 > 6) = 0.000202
    test = gap.comparison.test
    assert test.theta == pytest.approx(0.9)
    assert test.statistic == pytest.approx(6.0)
    assert test.df == pytest.approx(9.0)
    assert test.p_value == pytest.approx(0.000202, abs=1e-6)
    assert gap.comparison.q_value == pytest.approx(test.p_value)  # a family of one
    assert gap.comparison.verdict == "higher"


def test_largest_practical_gap_first(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed(s)
        ordered = by_practical_size(read_gaps(s, "acme-bolt", 1))
    # detected first (θ 0.9, then 0.76), then the undetected totals (θ 19/30)
    assert [(g.x.group.key, g.comparison.verdict) for g in ordered] == [
        ("client/senior", "higher"),
        ("client/senior", "higher"),
        ("client", "no detectable difference"),
    ]
    assert [g.kind for g in ordered[:2]] == ["perspective", "party"]


def test_thresholds_change_the_verdicts(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed(s)
        strict = read_gaps(s, "acme-bolt", 1, ["party"], thresholds=Thresholds(practical=0.8))
        small = read_gaps(s, "acme-bolt", 1, ["party"], thresholds=Thresholds(min_n=11))
    assert strict[0].comparison.verdict == "no detectable difference"  # θ 0.76 < 0.8
    assert small[0].comparison.verdict == "insufficient evidence"  # n 10 < 11
    # the senior comparison leaves the family: the totals' q is then their own p
    assert small[1].comparison.q_value == pytest.approx(small[1].comparison.test.p_value)


def test_unknown_relationship_cycle_or_kind_in_one_line(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed(s)
        with pytest.raises(LookupError, match="no relationship 'nope'"):
            read_gaps(s, "nope", 1)
        with pytest.raises(LookupError, match="has no cycle 7"):
            read_gaps(s, "acme-bolt", 7)
        with pytest.raises(ValueError, match="unknown kind 'size'"):
            read_gaps(s, "acme-bolt", 1, ["size"])


def test_formats(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed(s)
        gaps = by_practical_size(read_gaps(s, "acme-bolt", 1))
    rows = list(csv.DictReader(io.StringIO(format_gaps(gaps, "csv"))))
    assert tuple(rows[0]) == GAP_COLUMNS
    assert [r["group_x"] for r in rows] == ["client/senior", "client/senior", "client"]
    assert rows[1]["theta"] == "0.76"
    assert rows[1]["verdict"] == "higher"
    data = json.loads(format_gaps(gaps, "json"))
    assert [d["q"] for d in data] == [g.comparison.q_value for g in gaps]
    table = format_gaps(gaps, "table").splitlines()
    assert table[0].split()[:4] == ["kind", "value_code", "x", "y"]
    assert table[2].split()[:4] == ["party", "VC1", "client/senior", "supplier/senior"]
    assert "0.760" in table[2]
    assert "+0.80" in table[2]
    assert table[2].endswith("higher")
    with pytest.raises(ValueError, match="unknown format"):
        format_gaps(gaps, "xml")


def test_vm_gaps(vm_env: Store) -> None:
    with vm_env.sessions() as s, s.begin():
        _seed(s)
    runner = CliRunner()
    out = runner.invoke(main, ["gaps", "--relationship", "acme-bolt", "--cycle", "1", "--format", "csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert [(r["kind"], r["group_x"], r["group_y"]) for r in rows] == [
        ("perspective", "client/senior", "client/middle"),
        ("party", "client/senior", "supplier/senior"),
        ("party", "client", "supplier"),
    ]
    party = runner.invoke(main, ["gaps", "--relationship", "acme-bolt", "--cycle", "1", "--kind", "party"])
    assert party.exit_code == 0, party.output
    assert len(party.output.splitlines()) == 3
    assert "perspective" not in party.output
    none = runner.invoke(main, ["gaps", "--relationship", "acme-bolt", "--cycle", "1", "--kind", "change"])
    assert none.exit_code == 0
    assert none.output.startswith("no comparisons in cycle 1 of acme-bolt")
    missing = runner.invoke(main, ["gaps", "--relationship", "acme-bolt", "--cycle", "4"])
    assert missing.exit_code == 1
    assert missing.output.strip() == "Error: relationship 'acme-bolt' has no cycle 4"
