"""The demo's story through gaps, changes, engagement and roll-up — and the attacks on what they show.

examples/demo/README.md: the parties see the KPIs a level apart (DEL-KPI: council ≈ 2.3, Contoso
≈ 3.4, in every cycle); openness improves year on year (REL-OPENNESS ≈ 2.0 → 3.0 → 3.9); four of
Contoso's seven senior leaders answer in cycle 1, so that cell is hidden, with complementary cells.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import build_demo
from vm_cli.main import main
from vm_core.lake.evidence import respondent_counts
from vm_core.read.cells import CycleCells, cycle_cells
from vm_core.read.engagement import read_engagement
from vm_core.read.gaps import Gap, by_practical_size, read_gaps
from vm_core.read.rollup import read_rollup
from vm_core.run import pipeline
from vm_core.scoring import published_tallies, relationship_table
from vm_core.scoring.anonymity import CATEGORIES, Atom, Group, find_leak
from vm_core.settings import Settings
from vm_core.store.models import Cycle, Relationship, ValueCode

KEY = "northwind-contoso"
CYCLES = (1, 2, 3)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings: Settings = build_demo(tmp_path_factory)
    return settings


@pytest.fixture
def session(demo: Settings) -> Iterator[Session]:
    with pipeline.open_store(demo)() as s:
        yield s


def _find(gaps: list[Gap], code: str, x: str, y: str, cycle_y: int | None = None) -> Gap:
    (gap,) = [
        g
        for g in gaps
        if (g.value_code, g.x.group.key, g.y.group.key) == (code, x, y) and cycle_y in (None, g.y.cycle)
    ]
    return gap


# ---------------------------------------------------------------- the story


@pytest.mark.parametrize("cycle", CYCLES)
def test_the_parties_see_the_kpis_a_level_apart(session: Session, cycle: int) -> None:
    gaps = read_gaps(session, KEY, cycle, ["party"])
    total = _find(gaps, "DEL-KPI", "northwind", "contoso")
    record = total.record()
    assert record["mean_x"] == pytest.approx(2.3, abs=0.05)
    assert record["mean_y"] == pytest.approx(3.45, abs=0.05)
    assert total.comparison.verdict == "lower"  # the council rates the KPIs lower than Contoso
    assert total.magnitude == "large"
    for perspective in ("middle", "front_line"):  # "at every level"
        cell = _find(gaps, "DEL-KPI", f"northwind/{perspective}", f"contoso/{perspective}")
        assert cell.comparison.verdict == "lower"
    # the largest practical party gap of the cycle is a DEL-KPI one
    assert by_practical_size(gaps)[0].value_code == "DEL-KPI"


def test_openness_improves_year_on_year(session: Session) -> None:
    second = read_gaps(session, KEY, 2, ["change"])
    third = read_gaps(session, KEY, 3, ["change"])
    for gap, before, after in [
        (_find(second, "REL-OPENNESS", "all", "all", 1), 2.0, 3.0),
        (_find(third, "REL-OPENNESS", "all", "all", 2), 3.0, 3.9),
        (_find(third, "REL-OPENNESS", "all", "all", 1), 2.0, 3.9),
    ]:
        assert gap.kind == "change"
        assert gap.x.cycle > gap.y.cycle
        assert gap.record()["mean_y"] == pytest.approx(before, abs=0.05)
        assert gap.record()["mean_x"] == pytest.approx(after, abs=0.05)
        assert gap.comparison.verdict == "higher"  # an improvement
    # for everybody: every published group improved since the previous cycle
    openness = [g for g in third if g.value_code == "REL-OPENNESS" and g.y.cycle == 2]
    assert len(openness) == 12
    assert {g.comparison.verdict for g in openness if g.comparison.test.n_x >= 10} == {"higher"}


def test_vm_gaps_on_the_demo(demo: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VM_HOME", str(demo.home))
    monkeypatch.setenv("VM_SECRET", "golden")
    out = CliRunner().invoke(main, ["gaps", "--relationship", KEY, "--cycle", "3", "--kind", "party"])
    assert out.exit_code == 0, out.output
    header, first = out.output.splitlines()[:2]
    assert header.split()[:4] == ["kind", "value_code", "x", "y"]
    assert first.split()[:2] == ["party", "DEL-KPI"]
    assert first.endswith("lower")


def test_engagement_on_the_demo(demo: Settings, session: Session) -> None:
    first = {r.group: r for r in read_engagement(session, demo.lake(), KEY, 1)}
    # invited per perspective only: the totals cover people with a perspective (Contoso's apprentices
    # are in no perspective, and were not counted as invited)
    assert (first["northwind"].invited, first["contoso"].invited, first["all"].invited) == (140, 152, 292)
    assert first["contoso/senior"].suppression == "below_minimum"  # 4 of 7
    assert first["contoso/senior"].invited == 7
    assert first["northwind/senior"].responded == 10
    assert first["northwind"].rate == pytest.approx(first["northwind"].responded / 140)
    third = {r.group: r for r in read_engagement(session, demo.lake(), KEY, 3)}
    assert third["contoso/senior"].responded == 5  # 5 of 7 in cycle 3
    assert third["all"].previous_cycle == 2


def test_communication_rolls_up_openness(session: Session) -> None:
    rows = {(r.thing, r.group): r for r in read_rollup(session, KEY, 3)}
    cells = cycle_cells(session, KEY, 3)
    assert rows[("Communication", "all")].levels == cells.counts("REL-OPENNESS", Group("all"))
    assert rows[("Communication", "all")].mean == pytest.approx(3.9, abs=0.05)
    assert rows[("Trust", "all")].value_codes == (
        "GOV-SPONSOR",
        "REL-TRUST",
        "REL-OPENNESS",
        "DEL-KPI",
        "VAL-COMMERCIAL",
    )


# ---------------------------------------------------------------- the attacks


def _ids(session: Session, number: int) -> tuple[Relationship, Cycle, dict[str, int]]:
    relationship = session.scalars(select(Relationship).where(Relationship.key == KEY)).one()
    cycle = session.scalars(
        select(Cycle).where(Cycle.relationship_id == relationship.id, Cycle.number == number)
    ).one()
    codes = dict(
        session.execute(
            select(ValueCode.identifier, ValueCode.id).where(
                ValueCode.library_version_id == cycle.library_version_id
            )
        ).all()
    )
    return relationship, cycle, codes


@pytest.mark.parametrize("cycle", CYCLES)
def test_no_output_shows_or_gives_away_a_hidden_cell(session: Session, cycle: int) -> None:
    cells = {n: cycle_cells(session, KEY, n) for n in CYCLES}
    now: CycleCells = cells[cycle]
    if cycle == 1:
        assert now.hidden  # the demo's small group, and its complementary cells
    gaps = read_gaps(session, KEY, cycle)
    # a gap is built from two published cells, exactly as published …
    used: dict[tuple[int, str], set[Group]] = {}
    for gap in gaps:
        for side in (gap.x, gap.y):
            assert (gap.value_code, side.group) not in cells[side.cycle].hidden
            assert side.counts == cells[side.cycle].counts(gap.value_code, side.group)
            used.setdefault((side.cycle, gap.value_code), set()).add(side.group)
    # … a roll-up only over published cells, and equal to their sum …
    for row in read_rollup(session, KEY, cycle):
        group = next(g for g in now.groups if g.key == row.group)
        parts = [now.counts(code, group) for code in row.value_codes]
        assert row.suppressed == (None in parts)
        if not row.suppressed:
            assert row.levels == tuple(sum(p[i] for p in parts if p is not None) for i in range(5))
    # … so adding and subtracting every cell the comparisons use gives away no union of atoms below
    # the minimum: checked against the truth, the atom counts behind the published scores
    relationship, row, codes = _ids(session, cycle)
    layout = relationship_table(session, relationship.id, row.id)
    truth = published_tallies(session, row.id, layout)
    for (number, code), groups in used.items():
        if number == cycle:
            leak = find_leak(layout.table, groups, truth.get(codes[code], {}), relationship.min_group_size)
            assert leak is None, leak.describe()


@pytest.mark.parametrize("cycle", CYCLES)
def test_engagement_gives_away_no_small_count(demo: Settings, session: Session, cycle: int) -> None:
    relationship, row, _ = _ids(session, cycle)
    layout = relationship_table(session, relationship.id, row.id)
    rows = read_engagement(session, demo.lake(), KEY, cycle)
    shown = {r.group: r.responded for r in rows if not r.suppressed}
    people: dict[Atom, tuple[int, ...]] = {}
    for (party, perspective), count in respondent_counts(session, demo.lake(), row).items():
        if perspective is not None:  # both parties invited per perspective: the rest is outside
            people[Atom(party, perspective)] = (count,) + (0,) * (len(CATEGORIES) - 1)
    groups = [g for g in layout.table.groups if g.key in shown]
    for group in groups:  # what is shown is the truth …
        assert shown[group.key] == sum(people.get(a, (0,))[0] for a in layout.table.members(group))
    # … and no combination of it singles out fewer than the minimum
    assert find_leak(layout.table, groups, people, relationship.min_group_size) is None
    if cycle == 1:
        hidden = {r.group for r in rows if r.suppressed}
        assert "contoso/senior" in hidden
        assert len(hidden) > 1
