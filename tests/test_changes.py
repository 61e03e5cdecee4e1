"""Changes between cycles: the baselines, the same-Value-Code-version rule, and the numbers by hand.

One party ("client"), no perspectives, so the groups are *all* and *client* (the same ten people).
Cycles 1 and 2 use library version 1.0; cycle 3 uses version 2.0, in which VC1's level-3
statement was rewritten and VC2 only got a new description and a reflowed statement.

    cycle 1  VC1 [0, 2, 4, 4, 0]   VC2 [0, 2, 4, 4, 0]
    cycle 2  VC1 [0, 0, 2, 6, 2]   VC2 [0, 0, 2, 6, 2]
    cycle 3  VC1 [0, 0, 0, 10, 0]  VC2 [0, 0, 2, 6, 2]
"""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.conftest import Store
from tests.factories import (
    World,
    add_respondents,
    counts,
    levels_of,
    seed_cycle,
    seed_library,
    seed_world,
)
from vm_core.read.changes import baselines, comparable_value_codes
from vm_core.read.gaps import Gap, read_gaps
from vm_core.scoring import score_cycle
from vm_core.store.models import Cycle, ValueCode, ValueCodeLevel

pytestmark = pytest.mark.store

LOW, HIGH = [0, 2, 4, 4, 0], [0, 0, 2, 6, 2]


def _seed(s: Session) -> tuple[World, dict[int, Cycle]]:
    world = seed_world(s, parties=("client",), perspectives=(), sections={"S": ("VC1", "VC2")})
    revised = seed_library(s, key="acme-bolt-library", version="2.0", sections={"S": ("VC1", "VC2")})
    vc1, vc2 = revised.value_codes["VC1"], revised.value_codes["VC2"]
    s.execute(
        update(ValueCodeLevel)
        .where(ValueCodeLevel.value_code_id == vc1.id, ValueCodeLevel.level == 3)
        .values(statement="VC1 at level 3, now measured against the new KPIs")
    )
    s.execute(
        update(ValueCodeLevel)
        .where(ValueCodeLevel.value_code_id == vc2.id, ValueCodeLevel.level == 2)
        .values(statement="  VC2 at\n level   2 ")  # the same words, reflowed
    )
    s.execute(update(ValueCode).where(ValueCode.id == vc2.id).values(description="A clearer description"))
    cycles = {
        1: world.cycle,
        2: seed_cycle(s, world.relationship, world.library_version, number=2),
        3: seed_cycle(s, world.relationship, revised.version, number=3),
    }
    for number, (first, second) in {1: (LOW, LOW), 2: (HIGH, HIGH), 3: ([0, 0, 0, 10, 0], HIGH)}.items():
        add_respondents(
            s,
            world,
            party="client",
            perspective=None,
            levels={"VC1": levels_of(first), "VC2": levels_of(second)},
            cycle=cycles[number],
        )
        score_cycle(s, cycles[number].id, counts(s, cycles[number]))
    return world, cycles


def _keys(gaps: list[Gap]) -> list[tuple[str, str, int, int]]:
    return [(g.value_code, g.x.group.key, g.x.cycle, g.y.cycle) for g in gaps]


def test_baselines_are_the_previous_and_the_first_cycle(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world, _ = _seed(s)
        assert baselines(s, world.relationship, 1) == {}
        assert {k: c.number for k, c in baselines(s, world.relationship, 2).items()} == {"previous": 1}
        assert {k: c.number for k, c in baselines(s, world.relationship, 3).items()} == {
            "previous": 2,
            "first": 1,
        }


def test_same_version_means_the_same_five_statements(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _, cycles = _seed(s)
        v1, v2 = cycles[1].library_version_id, cycles[3].library_version_id
        assert comparable_value_codes(s, v1, v1) == {"VC1", "VC2"}
        # VC1's level 3 statement changed; VC2's description and whitespace did not break it
        assert comparable_value_codes(s, v2, v1) == {"VC2"}
        assert comparable_value_codes(s, v1, v2) == {"VC2"}


def test_an_improvement_by_hand(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed(s)
        changes = read_gaps(s, "acme-bolt", 2, ["change"])
    # cycle 2 against cycle 1 (previous = first, reported once): two codes × two groups
    assert _keys(changes) == [
        ("VC1", "all", 2, 1),
        ("VC1", "client", 2, 1),
        ("VC2", "all", 2, 1),
        ("VC2", "client", 2, 1),
    ]
    for change in changes:
        # x = the later cycle: θ = 0.76, T = 2.68, p = 0.0154, mean 4.0 against 3.2 (docs/statistics.md)
        assert change.x.counts == tuple(HIGH)
        assert change.y.counts == tuple(LOW)
        assert change.comparison.test.theta == pytest.approx(0.76)
        assert change.comparison.mean_difference == pytest.approx(0.8)
        # four equal p-values: q(i) = min over j ≥ i of 4·p/j = p
        assert change.comparison.q_value == pytest.approx(0.015415, abs=1e-6)
        assert change.comparison.verdict == "higher"  # an improvement
        assert change.kind == "change"


def test_a_changed_statement_is_not_compared_and_each_baseline_is_its_own_family(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed(s)
        changes = read_gaps(s, "acme-bolt", 3, ["change"])
    assert _keys(changes) == [
        ("VC2", "all", 3, 2),
        ("VC2", "client", 3, 2),
        ("VC2", "all", 3, 1),
        ("VC2", "client", 3, 1),
    ]
    since_previous, since_first = changes[:2], changes[2:]
    for change in since_previous:  # the same counts: θ = ½, p = 1
        assert change.comparison.test.theta == pytest.approx(0.5)
        assert change.comparison.q_value == pytest.approx(1.0)
        assert change.comparison.verdict == "no detectable difference"
    for change in since_first:
        # its own family of two equal p-values (q = p), not inflated by the two p = 1 since cycle 2
        assert change.comparison.q_value == pytest.approx(0.015415, abs=1e-6)
        assert change.comparison.verdict == "higher"


def test_a_cell_hidden_in_either_cycle_is_not_compared(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world, _ = _seed(s)
        # cycle 4: four people, below the minimum of 5, so every cell is hidden; cycle 5: ten again
        for number, answers in ((4, [4] * 4), (5, levels_of(HIGH))):
            cycle = seed_cycle(s, world.relationship, world.library_version, number=number)
            add_respondents(
                s,
                world,
                party="client",
                perspective=None,
                levels={"VC1": answers, "VC2": answers},
                cycle=cycle,
            )
            score_cycle(s, cycle.id, counts(s, cycle))
        assert read_gaps(s, "acme-bolt", 4, ["change"]) == []  # nothing published to compare
        # cycle 5 against cycle 4 (hidden): nothing; against cycle 1: both codes, both groups
        assert _keys(read_gaps(s, "acme-bolt", 5, ["change"])) == [
            ("VC1", "all", 5, 1),
            ("VC1", "client", 5, 1),
            ("VC2", "all", 5, 1),
            ("VC2", "client", 5, 1),
        ]
