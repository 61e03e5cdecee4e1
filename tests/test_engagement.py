"""Engagement: invited against responded per group, rates, change, and suppression by the engine.

Invited: the client per perspective only (senior 12, middle 20), so its total, 32, covers people
with a perspective; the supplier per perspective (senior 8, middle 15) and in all (30), which
covers its people without a perspective too. Respondents, cycle 1:

    client   senior 10   middle 15   no perspective 2  (not invited per the client's counts: left out)
    supplier senior 4    middle 12   no perspective 6

Supplier/senior (4) is below the minimum of 5. *senior* − client/senior would give it away, so
the *senior* row is hidden too (the cheapest group: a cross-party perspective row), and
supplier − supplier/middle = 4 + 6 = 10 people is not a leak.
"""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.conftest import Store
from tests.factories import World, add_respondents, current_lake, seed_cycle, seed_world
from vm_core.read.engagement import EngagementRow, read_engagement
from vm_core.scoring import relationship_table
from vm_core.scoring.anonymity import CATEGORIES, Atom, find_leak
from vm_core.store.models import Cycle, InvitedCount

pytestmark = pytest.mark.store

INVITED = {("client", "senior"): 12, ("client", "middle"): 20, ("supplier", "senior"): 8,
           ("supplier", "middle"): 15, ("supplier", None): 30}  # fmt: skip


def _respond(s: Session, world: World, cycle: Cycle, people: dict[tuple[str, str | None], int]) -> None:
    for (party, perspective), count in people.items():
        add_respondents(
            s, world, party=party, perspective=perspective, levels={"VC1": [3] * count}, cycle=cycle
        )


def _invite(s: Session, world: World, cycle: Cycle, invited: dict[tuple[str, str | None], int]) -> None:
    s.add_all(
        InvitedCount(
            cycle_id=cycle.id,
            party_id=world.parties[party].id,
            perspective_id=world.perspectives[perspective].id if perspective else None,
            invited=count,
        )
        for (party, perspective), count in invited.items()
    )
    s.flush()


CYCLE_1 = {("client", "senior"): 10, ("client", "middle"): 15, ("client", None): 2,
           ("supplier", "senior"): 4, ("supplier", "middle"): 12, ("supplier", None): 6}  # fmt: skip


def _seed(s: Session) -> World:
    world = seed_world(s, perspectives=("senior", "middle"), sections={"S": ("VC1",)})
    _invite(s, world, world.cycle, INVITED)
    _respond(s, world, world.cycle, CYCLE_1)
    return world


def _by_group(rows: list[EngagementRow]) -> dict[str, EngagementRow]:
    return {r.group: r for r in rows}


def test_invited_responded_and_rates_by_hand(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed(s)
        rows = read_engagement(s, current_lake(), "acme-bolt", 1)
    assert [r.group for r in rows] == [
        "all", "client", "supplier", "senior", "middle",
        "client/senior", "client/middle", "supplier/senior", "supplier/middle",
    ]  # fmt: skip
    got = {r.group: (r.invited, r.responded, r.suppression) for r in rows}
    assert got == {
        "all": (32 + 30, 25 + 22, None),
        "client": (12 + 20, 10 + 15, None),  # its 2 people without a perspective were not invited as counted
        "supplier": (30, 4 + 12 + 6, None),  # its `all` count covers everybody
        "senior": (12 + 8, None, "complementary"),
        "middle": (20 + 15, 15 + 12, None),
        "client/senior": (12, 10, None),
        "client/middle": (20, 15, None),
        "supplier/senior": (8, None, "below_minimum"),
        "supplier/middle": (15, 12, None),
    }
    by_group = _by_group(rows)
    assert by_group["client"].rate == pytest.approx(25 / 32)
    assert by_group["all"].rate == pytest.approx(47 / 62)
    assert by_group["supplier/middle"].rate == pytest.approx(0.8)
    hidden = by_group["supplier/senior"]
    assert (hidden.responded, hidden.rate, hidden.responded_change, hidden.rate_change) == (None,) * 4
    assert hidden.suppressed
    assert hidden.invited == 8
    assert all(r.previous_cycle is None for r in rows)


def test_no_hidden_count_can_be_worked_out(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = _seed(s)
        rows = read_engagement(s, current_lake(), "acme-bolt", 1)
        table = relationship_table(s, world.relationship.id, world.cycle.id).table
    shown = {r.group: r.responded for r in rows if not r.suppressed}
    # the attack: the supplier's total minus its other cell is 10 (senior 4 + 6 without a perspective)
    assert shown["supplier"] - shown["supplier/middle"] == 10
    # … and no combination of shown rows gives any union of fewer than 5 people (the engine's exact search)
    people = {
        Atom(p, q): (n,) + (0,) * (len(CATEGORIES) - 1) for (p, q), n in CYCLE_1.items() if p != "client" or q
    }
    groups = [g for g in table.groups if g.key in shown]
    assert find_leak(table, groups, people, 5) is None
    # the shown numbers are those people: nothing else was counted
    for group in groups:
        assert shown[group.key] == sum(people.get(a, (0,))[0] for a in table.members(group))


def test_change_from_the_previous_cycle(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = _seed(s)
        cycle2 = seed_cycle(s, world.relationship, world.library_version, number=2)
        _invite(s, world, cycle2, INVITED)
        _respond(s, world, cycle2, {**CYCLE_1, ("client", "senior"): 11, ("supplier", "senior"): 6})
        rows = _by_group(read_engagement(s, current_lake(), "acme-bolt", 2))
    assert {r.previous_cycle for r in rows.values()} == {1}
    assert rows["client/senior"].responded_change == 1
    assert rows["client/senior"].rate_change == pytest.approx(11 / 12 - 10 / 12)
    assert rows["all"].responded_change == 3  # 50 against 47
    assert rows["supplier/middle"].responded_change == 0
    # shown now (6 and 17 people), hidden before: no change
    assert rows["supplier/senior"].responded == 6
    assert rows["supplier/senior"].responded_change is None
    assert rows["senior"].responded == 17
    assert rows["senior"].rate_change is None


def test_without_invited_counts_responded_is_everybody_and_there_is_no_rate(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_world(s, perspectives=("senior",), sections={"S": ("VC1",)})
        _respond(
            s, world, world.cycle, {("client", "senior"): 6, ("client", None): 5, ("supplier", "senior"): 7}
        )
        rows = _by_group(read_engagement(s, current_lake(), "acme-bolt", 1))
    assert rows["client"].responded == 11  # people without a perspective count in their party, as in scores
    assert rows["all"].responded == 18
    assert all(r.invited is None and r.rate is None for r in rows.values())


def test_a_cycle_holding_newer_data_back_shows_no_responded_count(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = _seed(s)
        s.execute(update(Cycle).where(Cycle.id == world.cycle.id).values(held_note="one late respondent"))
        rows = read_engagement(s, current_lake(), "acme-bolt", 1)
    assert {r.suppression for r in rows} == {"held"}
    assert all(r.responded is None and r.rate is None for r in rows)
    assert _by_group(rows)["client/senior"].invited == 12


def test_unknown_relationship_or_cycle_in_one_line(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed(s)
        with pytest.raises(LookupError, match="has no cycle 3"):
            read_engagement(s, current_lake(), "acme-bolt", 3)
