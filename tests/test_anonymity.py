"""The anonymity engine: no group or union of groups below the minimum can be worked out.

Leaks are checked here by an independent brute force — every union of atoms, with numpy's SVD rank
instead of the engine's exact null space — so a bug in the engine's algebra cannot hide itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vm_core.scoring.anonymity import (
    ALL,
    Atom,
    Group,
    HeatmapTable,
    differencing_risk,
    find_leak,
    level_count,
    suppress,
)

MIN = 5


def tally(l1: int = 0, l2: int = 0, l3: int = 0, l4: int = 0, l5: int = 0, na: int = 0, blank: int = 0):
    return (l1, l2, l3, l4, l5, na, blank)


def brute_force_leaks(
    table: HeatmapTable, shown: Collection[Group], tallies: Mapping[Atom, Sequence[int]], min_size: int
) -> list[frozenset[Atom]]:
    """Every union of atoms (≥ 1 respondent, n < min) whose indicator is in the shown groups' row space."""
    atoms = table.atoms
    rows = np.array(
        [[1.0 if a in table.members(g) else 0.0 for a in atoms] for g in table.groups if g in shown]
    ).reshape(-1, len(atoms))
    rank = np.linalg.matrix_rank(rows) if len(rows) else 0
    leaks = []
    for size in range(1, len(atoms) + 1):
        for union in itertools.combinations(atoms, size):
            people = sum(sum(tallies.get(a, (0,) * 7)) for a in union)
            n = sum(level_count(tallies.get(a, (0,) * 7)) for a in union)
            if people == 0 or n >= min_size:
                continue
            vector = np.array([[1.0 if a in union else 0.0 for a in atoms]])
            if np.linalg.matrix_rank(np.vstack([rows, vector]) if len(rows) else vector) == rank:
                leaks.append(frozenset(union))
    return leaks


def shown_after(table: HeatmapTable, hidden: Collection[Group]) -> list[Group]:
    return [g for g in table.groups if g not in hidden]


# ---------------------------------------------------------------- the attacks of issue 5, fixed


def test_two_one_person_partners_under_a_shown_total_are_not_given_away() -> None:
    """all − client − supplier was the two partners' answers: [0, 0, 0, 0, 2]."""
    table = HeatmapTable(("client", "supplier", "partner_a", "partner_b"), ())
    tallies = {
        Atom("client", None): tally(2, 3, 5, 4, 1),
        Atom("supplier", None): tally(1, 2, 3, 2, 2),
        Atom("partner_a", None): tally(l5=1),
        Atom("partner_b", None): tally(l5=1),
    }
    naive = [ALL, Group("party", "client"), Group("party", "supplier")]
    leak = find_leak(table, naive, tallies, MIN)
    assert leak is not None
    assert leak.atoms == {Atom("partner_a", None), Atom("partner_b", None)}
    assert leak.derivation == "all − client − supplier"

    hidden = suppress(table, tallies, MIN)
    assert hidden[Group("party", "partner_a")] == "below_minimum"
    assert hidden[Group("party", "partner_b")] == "below_minimum"
    assert len(hidden) == 3  # and one complementary group: the smaller big party
    assert hidden[Group("party", "supplier")] == "complementary"
    assert brute_force_leaks(table, shown_after(table, hidden), tallies, MIN) == []


def test_a_perspective_minus_one_shown_cell_gives_away_nothing() -> None:
    """senior − supplier/senior was three hidden party/senior cells holding 4 people."""
    table = HeatmapTable(("client", "supplier", "partner_a", "partner_b"), ("senior", "middle"))
    tallies = {
        Atom("client", "senior"): tally(l2=1, l3=1),
        Atom("supplier", "senior"): tally(1, 2, 2, 1),
        Atom("partner_a", "senior"): tally(l3=1),
        Atom("partner_b", "senior"): tally(l4=1),
        Atom("client", "middle"): tally(3, 3, 3),
        Atom("supplier", "middle"): tally(2, 2, 2),
        Atom("partner_a", "middle"): tally(0, 3, 3),
        Atom("partner_b", "middle"): tally(1, 1, 1, 2, 1),
    }
    naive = [g for g in table.groups if level_count(table.group_tally(g, tallies)) >= MIN]
    leak = find_leak(table, naive, tallies, MIN)
    assert leak is not None
    assert leak.n < MIN

    hidden = suppress(table, tallies, MIN)
    assert find_leak(table, shown_after(table, hidden), tallies, MIN) is None
    assert brute_force_leaks(table, shown_after(table, hidden), tallies, MIN) == []


def test_the_first_slices_rule_leaks_and_the_engine_finds_it() -> None:
    """A table built to leak: only one-sibling partitions were protected; a union of two was not."""
    table = HeatmapTable(("north", "south"), ("senior", "middle", "front"))
    tallies = {
        Atom("north", "senior"): tally(l1=2),
        Atom("south", "senior"): tally(l5=2),
        Atom("north", "middle"): tally(3, 3, 3),
        Atom("south", "middle"): tally(2, 2, 2),
        Atom("north", "front"): tally(4, 4, 4),
        Atom("south", "front"): tally(5, 5, 5),
    }
    # the first slice hid both senior cells (each below 5) and, since two siblings were hidden, nothing more
    old_rule_hidden = {
        Group("party_perspective", "north", "senior"),
        Group("party_perspective", "south", "senior"),
    }
    leak = find_leak(table, shown_after(table, old_rule_hidden), tallies, MIN)
    assert leak is not None
    assert leak.atoms == {Atom("north", "senior")}  # north − north/middle − north/front
    assert brute_force_leaks(table, shown_after(table, old_rule_hidden), tallies, MIN)


def test_demo_shaped_cycle_protects_four_senior_leaders_and_keeps_the_other_partys_cells() -> None:
    """Demo cycle 1: 4 Contoso senior leaders and 5 Contoso people with an unmapped role."""
    table = HeatmapTable(("northwind", "contoso"), ("senior", "middle", "front_line"))
    tallies = {
        Atom("northwind", "senior"): tally(2, 3, 3, 2),
        Atom("northwind", "middle"): tally(10, 10, 10, 4),
        Atom("northwind", "front_line"): tally(20, 20, 20, 1),
        Atom("contoso", "senior"): tally(l4=2, l5=2),
        Atom("contoso", "middle"): tally(10, 10, 10, 4),
        Atom("contoso", "front_line"): tally(30, 20, 20, 4),
        Atom("contoso", None): tally(l3=5),
    }
    hidden = suppress(table, tallies, MIN)
    assert hidden == {
        Group("party_perspective", "contoso", "senior"): "below_minimum",
        Group("perspective", perspective="senior"): "complementary",
    }
    assert brute_force_leaks(table, shown_after(table, hidden), tallies, MIN) == []


def test_an_unmapped_remainder_below_the_minimum_is_protected() -> None:
    """party − its perspectives = its unmapped respondents, never published: 2 people must stay hidden."""
    table = HeatmapTable(("client",), ("senior", "middle"))
    tallies = {
        Atom("client", "senior"): tally(3, 3),
        Atom("client", "middle"): tally(4, 4),
        Atom("client", None): tally(l1=2),
    }
    hidden = suppress(table, tallies, MIN)
    assert hidden, "one of the perspectives (or the party) must be withheld"
    assert brute_force_leaks(table, shown_after(table, hidden), tallies, MIN) == []


def test_no_level_and_blank_answers_of_a_small_group_are_protected_too() -> None:
    """A union whose people gave no level (all N/A or blank) still holds people: it must not be derivable."""
    table = HeatmapTable(("client", "supplier"), ())
    tallies = {Atom("client", None): tally(5, 5), Atom("supplier", None): tally(na=2, blank=1)}
    hidden = suppress(table, tallies, MIN)
    assert Group("party", "supplier") in hidden
    assert ALL in hidden or Group("party", "client") in hidden


def test_empty_groups_are_not_a_leak() -> None:
    """Knowing that nobody is in a group tells nothing about anybody's answers."""
    table = HeatmapTable(("client", "supplier"), ("senior",))
    tallies = {Atom("client", "senior"): tally(3, 3), Atom("supplier", "senior"): tally(4, 4)}
    hidden = suppress(table, tallies, MIN)
    assert hidden == {}


def test_derivation_reads_like_arithmetic() -> None:
    table = HeatmapTable(("a", "b"), ("x", "y"))
    tallies = {
        Atom("a", "x"): tally(l1=1),
        Atom("a", "y"): tally(6),
        Atom("b", "x"): tally(7),
        Atom("b", "y"): tally(8),
    }
    leak = find_leak(table, [Group("party", "a"), Group("party_perspective", "a", "y")], tallies, MIN)
    assert leak is not None
    assert leak.derivation == "a − a/y"
    assert leak.describe() == "a/x (1 respondent(s), 1 with a level) = a − a/y"


def test_large_tables_use_the_integer_program_and_agree_with_enumeration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import vm_core.scoring.anonymity as engine

    table = HeatmapTable(("a", "b", "c"), ("x", "y", "z"))
    rng = np.random.default_rng(7)
    tallies = {a: tuple(int(v) for v in rng.integers(0, 3, 7)) for a in table.atoms}
    enumerated = engine.suppress(table, tallies, MIN)
    monkeypatch.setattr(engine, "ENUMERATION_LIMIT", 2)
    engine._null_space.cache_clear()
    via_milp = engine.suppress(table, tallies, MIN)
    for hidden in (enumerated, via_milp):
        assert brute_force_leaks(table, shown_after(table, hidden), tallies, MIN) == []


# ---------------------------------------------------------------- property: generated relationships


@st.composite
def relationships(draw: st.DrawFn) -> tuple[HeatmapTable, list[dict[Atom, tuple[int, ...]]], int]:
    """Relationships with parties of one, tiny and empty groups, unmapped roles, several Value Codes."""
    parties = tuple(f"p{i}" for i in range(draw(st.integers(1, 3))))
    perspectives = tuple(f"q{i}" for i in range(draw(st.integers(0, 2))))
    table = HeatmapTable(parties, perspectives)
    minimum = draw(st.sampled_from([3, 5]))
    people = {a: draw(st.sampled_from([0, 0, 1, 1, 2, 3, 4, 5, 6, 9])) for a in table.atoms}
    codes = []
    for _ in range(draw(st.integers(1, 3))):
        tallies: dict[Atom, tuple[int, ...]] = {}
        for atom, size in people.items():
            answers = draw(st.lists(st.integers(0, 6), min_size=size, max_size=size))
            tallies[atom] = tuple(answers.count(c) for c in range(7))
        codes.append(tallies)
    return table, codes, minimum


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(relationships())
def test_no_generated_relationship_leaks_after_suppression(
    relationship: tuple[HeatmapTable, list[dict[Atom, tuple[int, ...]]], int],
) -> None:
    table, codes, minimum = relationship
    for tallies in codes:
        hidden = suppress(table, tallies, minimum)
        shown = shown_after(table, hidden)
        for g in shown:
            assert level_count(table.group_tally(g, tallies)) >= minimum
        assert brute_force_leaks(table, shown, tallies, minimum) == []
        assert find_leak(table, shown, tallies, minimum) is None


# ---------------------------------------------------------------- re-scoring


def _demo_like() -> tuple[HeatmapTable, dict[Atom, tuple[int, ...]]]:
    table = HeatmapTable(("north", "south"), ("senior", "middle"))
    tallies = {
        Atom("north", "senior"): tally(3, 3),
        Atom("north", "middle"): tally(5, 5),
        Atom("south", "senior"): tally(2, 4),
        Atom("south", "middle"): tally(6, 6),
    }
    return table, tallies


def test_one_late_respondent_is_singled_out_by_differencing_and_held() -> None:
    table, before = _demo_like()
    now = dict(before) | {Atom("north", "middle"): tally(5, 5, 0, 0, 1)}
    shown = list(table.groups)
    message = differencing_risk(table, shown, shown, before, now, MIN)
    assert message is not None
    assert "north/middle" in message
    assert "1 respondent" in message


def test_enough_late_respondents_may_be_published() -> None:
    table, before = _demo_like()
    now = dict(before) | {Atom("north", "middle"): tally(6, 6, 1, 1, 1)}
    shown = list(table.groups)
    assert differencing_risk(table, shown, shown, before, now, MIN) is None


def test_a_change_hidden_in_both_versions_is_not_singled_out() -> None:
    """A late respondent whose atom is inside groups hidden in both versions: the difference is a big union."""
    table = HeatmapTable(("north", "south"), ())
    before = {Atom("north", None): tally(10), Atom("south", None): tally(10)}
    now = {Atom("north", None): tally(11), Atom("south", None): tally(10)}
    shown = [Group("party", "south")]
    assert differencing_risk(table, shown, shown, before, now, MIN) is None
    assert differencing_risk(table, [ALL, *shown], [ALL, *shown], before, now, MIN) is not None


def test_answers_that_moved_count_as_people() -> None:
    """Two people changing their answer (l1 → l5) is a change by 2, not by 0 or 4."""
    table, before = _demo_like()
    now = dict(before) | {Atom("south", "middle"): tally(4, 6, 0, 0, 2)}
    message = differencing_risk(table, list(table.groups), list(table.groups), before, now, MIN)
    assert message is not None
    assert "changed by 2 respondent(s)" in message
