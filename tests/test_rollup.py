"""Things That Matter roll-up: pooled published cells, and no roll-up over a hidden cell.

One party ("client"), perspectives senior and middle; Things: Trust → VC1, VC2; People → VC3.

    senior (10)  VC1 [0, 0, 2, 6, 2]   VC2 [0, 2, 4, 4, 0]             VC3 ten at level 3
    middle (6)   VC1 six at level 3    VC2 two at level 2, four "no level"  VC3 six at level 4

For VC2 the middle managers give 2 levels, below the minimum of 5: middle and client/middle are
hidden, and *all* − *senior* would give them away, so senior and client/senior are hidden too.
A Trust roll-up of the seniors would be VC1 + VC2 of the seniors; minus their shown VC1 cell it
would publish their hidden VC2 cell. So Trust is rolled up only for *all* and *client*.
"""

from __future__ import annotations

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from tests.conftest import Store
from tests.factories import World, add_respondents, counts, levels_of, seed_world
from vm_core.read.cells import cycle_cells
from vm_core.read.rollup import RollupRow, read_rollup, things_that_matter
from vm_core.scoring import consensus, score_cycle
from vm_core.scoring.anonymity import Group
from vm_core.store.models import ThingThatMatters, value_code_thing

pytestmark = pytest.mark.store


def _seed(s: Session) -> World:
    world = seed_world(s, parties=("client",), perspectives=("senior", "middle"),
                       sections={"S": ("VC1", "VC2", "VC3")})  # fmt: skip
    things = {name: ThingThatMatters(library_version_id=world.library_version.id, name=name)
              for name in ("Trust", "People")}  # fmt: skip
    s.add_all(things.values())
    s.flush()
    links = [("VC1", "Trust"), ("VC2", "Trust"), ("VC3", "People")]
    s.execute(
        insert(value_code_thing),
        [{"value_code_id": world.value_codes[vc].id, "thing_id": things[t].id} for vc, t in links],
    )
    add_respondents(s, world, party="client", perspective="senior", levels={
        "VC1": levels_of([0, 0, 2, 6, 2]), "VC2": levels_of([0, 2, 4, 4, 0]), "VC3": [3] * 10})  # fmt: skip
    add_respondents(s, world, party="client", perspective="middle", levels={
        "VC1": [3] * 6, "VC2": [2, 2, None, None, None, None], "VC3": [4] * 6})  # fmt: skip
    score_cycle(s, world.cycle.id, counts(s, world.cycle))
    return world


def _rows(rows: list[RollupRow]) -> dict[tuple[str, str], RollupRow]:
    return {(r.thing, r.group): r for r in rows}


def test_things_and_their_value_codes(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = _seed(s)
        assert things_that_matter(s, world.library_version.id) == {
            "People": ("VC3",),
            "Trust": ("VC1", "VC2"),
        }


def test_pooled_counts_mean_and_consensus_by_hand(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed(s)
        rows = _rows(read_rollup(s, "acme-bolt", 1))
    trust = rows[("Trust", "all")]
    # VC1 all [0,0,8,6,2] + VC2 all [0,4,4,4,0] = [0,4,12,10,2]: 28 answers of 16 people
    assert trust.levels == (0, 4, 12, 10, 2)
    assert trust.n == 28
    assert trust.mean == pytest.approx((2 * 4 + 3 * 12 + 4 * 10 + 5 * 2) / 28)  # 94/28 = 3.357
    assert trust.consensus == pytest.approx(consensus([0, 4, 12, 10, 2]))
    assert trust.value_codes == ("VC1", "VC2")
    people = rows[("People", "senior")]
    assert (people.levels, people.mean, people.consensus) == ((0, 0, 10, 0, 0), 3.0, 1.0)
    assert rows[("People", "all")].mean == pytest.approx((3 * 10 + 4 * 6) / 16)


def test_no_roll_up_rests_on_a_hidden_cell(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed(s)
        cells = cycle_cells(s, "acme-bolt", 1)
        rows = read_rollup(s, "acme-bolt", 1)
    hidden_vc2 = {g.key for (code, g) in cells.hidden if code == "VC2"}
    assert hidden_vc2 == {"senior", "middle", "client/senior", "client/middle"}
    by_key = _rows(rows)
    for group in hidden_vc2:
        row = by_key[("Trust", group)]
        assert row.suppressed
        assert row.suppression == "value_code_hidden"
        assert (row.n, row.levels, row.mean, row.consensus) == (None, None, None, None)
    # the attack the rule stops: the seniors' shown VC1 cell subtracted from a senior Trust roll-up
    assert cells.counts("VC1", Group("perspective", perspective="senior")) == (0, 0, 2, 6, 2)
    # every shown roll-up is exactly the sum of published cells: it tells nothing the heatmap does not
    for row in rows:
        if row.suppressed:
            continue
        group = next(g for g in cells.groups if g.key == row.group)
        parts = [cells.counts(code, group) for code in row.value_codes]
        assert row.levels == tuple(sum(p[i] for p in parts if p is not None) for i in range(5))
    assert sum(not r.suppressed for r in rows) == 2 + 6  # Trust: all and client; People: every group
