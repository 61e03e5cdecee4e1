"""The heatmap page's data: modes, sorts, filters and the address, on hand-made heatmaps with hand-computed numbers.

Two parties (client, supplier) × two perspectives (senior, middle). A cell is given by its level
counts, or as HIDDEN; its mean is the published one, Σ i·l_i / n.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from tests.conftest import Store
from tests.factories import add_respondents, counts, seed_cycle, seed_world
from vm_core.read import review
from vm_core.read.heatmap_view import (
    CellDelta,
    ModeUnavailable,
    ViewChoices,
    ViewState,
    build_view,
    changes,
    gaps,
    read_comparison,
    sort_column,
    sorts_for,
)
from vm_core.read.review import CycleInfo, HeatmapData, RelationshipInfo, Row, columns
from vm_core.scoring import AgreementRule, score_cycle
from vm_core.scoring.statistics import mean_level

HIDDEN = "hidden"
ROWS = [
    Row("A1", "first in A", "Section A"),
    Row("A2", "second in A", "Section A"),
    Row("B1", "only in B", "Section B"),
]
PARTIES = [SimpleNamespace(key="client", name="Client"), SimpleNamespace(key="supplier", name="Supplier")]
PERSPECTIVES = [SimpleNamespace(key="senior", name="Senior"), SimpleNamespace(key="middle", name="Middle")]
COLUMNS = columns(PARTIES, PERSPECTIVES)  # type: ignore[arg-type]
GROUPS = [c.group for c in COLUMNS]
SCORE_FIELDS = [
    "value_code",
    "group_kind",
    "group",
    "suppressed",
    "suppression",
    "n",
    "n_no_level",
    "n_blank",
]
SCORE_FIELDS += ["mean", "consensus", "agreement", "l1", "l2", "l3", "l4", "l5"]


def _heatmap(
    number: int, cells: dict[tuple[str, str], Any], agreement: dict[tuple[str, str], str] | None = None
) -> HeatmapData:
    """A cycle's heatmap from {(Value Code, group): counts l1..l5 | HIDDEN}; absent cells have no score row."""
    kinds = {c.group: c.group_kind for c in COLUMNS}
    records = []
    for (code, group), level_counts in cells.items():
        hidden = level_counts == HIDDEN
        record: dict[str, Any] = {
            "value_code": code,
            "group_kind": kinds[group],
            "group": group,
            "suppressed": hidden,
            "suppression": "below_minimum" if hidden else None,
            "n": None if hidden else sum(level_counts),
            "n_no_level": None if hidden else 0,
            "n_blank": None if hidden else 0,
            "mean": None if hidden else mean_level(level_counts),
            "consensus": None,
            "agreement": None if hidden else (agreement or {}).get((code, group)),
        }
        record.update({f"l{i + 1}": None if hidden else level_counts[i] for i in range(5)})
        records.append(record)
    return HeatmapData(
        relationship=RelationshipInfo("acme", "Acme", 5),
        cycle=CycleInfo(number, "solve", dt.date(2025, number, 1), None),
        rows=list(ROWS),
        columns=list(COLUMNS),
        scores=pd.DataFrame.from_records(records, columns=SCORE_FIELDS),
        agreement=AgreementRule(),
        level_labels=[f"Level {i}" for i in range(1, 6)],
    )


def _filled(level_counts: dict[str, Any], code: str) -> dict[tuple[str, str], Any]:
    return {(code, group): counts for group, counts in level_counts.items()}


# cycle 1 and cycle 2 of Value Code A1, per group; means in the comments
BEFORE_A1 = {
    "client/senior": [0, 5, 5, 0, 0],  # 2.5
    "client/middle": [0, 0, 10, 0, 0],  # 3.0
    "supplier/senior": HIDDEN,
    "supplier/middle": [0, 0, 5, 5, 0],  # 3.5
    "all": [0, 5, 20, 5, 0],  # 3.0
}
AFTER_A1 = {
    "client/senior": [0, 0, 5, 5, 0],  # 3.5
    "client/middle": [0, 4, 6, 0, 0],  # 2.6
    "supplier/senior": [0, 0, 0, 5, 0],  # 4.0
    "supplier/middle": HIDDEN,
    "all": [0, 4, 11, 15, 0],  # 3.3666…
}


def test_a_change_is_the_difference_of_two_published_means() -> None:
    before, after = _heatmap(1, _filled(BEFORE_A1, "A1")), _heatmap(2, _filled(AFTER_A1, "A1"))
    comparison = changes(after, before, comparable={"A1", "A2", "B1"})
    by_group = {c.group: c for c in COLUMNS}
    senior = comparison.cell("A1", by_group["client/senior"])
    assert (senior.status, senior.reference, senior.current) == ("compared", 2.5, 3.5)
    assert senior.delta == pytest.approx(1.0)
    assert senior.verdict is None  # a difference of means is not a test
    assert comparison.cell("A1", by_group["client/middle"]).delta == pytest.approx(-0.4)
    assert comparison.cell("A1", by_group["all"]).delta == pytest.approx(101 / 30 - 3.0)
    assert comparison.polar
    assert comparison.title == "Change in mean level since Cycle 1 · Solve (Jan 2025)"


@pytest.mark.parametrize("group", ["supplier/senior", "supplier/middle"])
def test_a_change_never_rests_on_a_hidden_cell_on_either_side(group: str) -> None:
    before, after = _heatmap(1, _filled(BEFORE_A1, "A1")), _heatmap(2, _filled(AFTER_A1, "A1"))
    cell = changes(after, before, comparable={"A1"}).cell("A1", next(c for c in COLUMNS if c.group == group))
    assert cell.status == "hidden"
    assert (cell.delta, cell.current, cell.reference) == (None, None, None)
    assert not any(ch.isdigit() for ch in cell.detail)


def test_a_change_of_a_reworded_or_unscored_value_code_has_no_number() -> None:
    before = _heatmap(1, {**_filled(BEFORE_A1, "A1"), ("A2", "all"): [0, 0, 10, 0, 0]})
    after = _heatmap(2, {**_filled(AFTER_A1, "A1"), ("A2", "all"): [0, 0, 0, 10, 0]})
    comparison = changes(after, before, comparable={"A1", "B1"})  # A2 was reworded between the cycles
    everybody = COLUMNS[-1]
    assert comparison.cell("A2", everybody).status == "not_comparable"
    assert comparison.cell("B1", everybody).status == "absent"
    assert comparison.cell("A2", everybody).delta is None


def test_the_gap_is_the_second_party_minus_the_first_within_each_perspective() -> None:
    data = _heatmap(
        2,
        {
            **_filled(AFTER_A1, "A1"),
            ("A1", "client"): [0, 4, 11, 5, 0],  # 3.05
            ("A1", "supplier"): [0, 0, 0, 10, 0],  # 4.0
        },
    )
    comparison = gaps(data)
    assert [(c.group_kind, c.group, c.short_label) for c in comparison.columns] == [
        ("perspective", "senior", "Senior"),
        ("perspective", "middle", "Middle"),
        ("all", "all", "All perspectives"),
    ]
    assert {c.band for c in comparison.columns} == {"Supplier − Client"}
    senior, middle, overall = (comparison.cell("A1", c) for c in comparison.columns)
    assert (senior.reference, senior.current, senior.delta) == (3.5, 4.0, 0.5)
    assert middle.status == "hidden"  # supplier/middle is hidden: no gap, and no client/middle number either
    assert (middle.delta, middle.reference) == (None, None)
    assert overall.delta == pytest.approx(0.95)
    assert not comparison.polar
    assert senior.detail == "Client 3.50, Supplier 4.00"


def test_the_gap_needs_exactly_two_parties() -> None:
    three = columns([*PARTIES, SimpleNamespace(key="auditor", name="Auditor")], PERSPECTIVES)  # type: ignore[list-item]
    data = _heatmap(1, {})
    data = HeatmapData(
        data.relationship, data.cycle, data.rows, three, data.scores, data.agreement, data.level_labels
    )
    with pytest.raises(ModeUnavailable, match="the gap compares two parties; this cycle has 3"):
        gaps(data)


def test_a_cell_delta_carries_numbers_only_when_compared() -> None:
    with pytest.raises(ValueError, match="only a compared cell"):
        CellDelta("compared", delta=0.5)
    with pytest.raises(ValueError, match="only a compared cell"):
        CellDelta("hidden", delta=0.5, current=3.0, reference=2.5)
    with pytest.raises(ValueError, match="must carry no number"):
        CellDelta("hidden", reference=2.5)


def test_verdicts_are_carried_to_the_compared_cells_only() -> None:
    before, after = _heatmap(1, _filled(BEFORE_A1, "A1")), _heatmap(2, _filled(AFTER_A1, "A1"))
    verdicts = {("A1", "client/senior"): "higher", ("A1", "supplier/middle"): "lower"}
    comparison = changes(after, before, comparable={"A1"}, verdicts=verdicts)
    by_group = {c.group: c for c in COLUMNS}
    assert comparison.cell("A1", by_group["client/senior"]).verdict == "higher"
    assert comparison.cell("A1", by_group["client/middle"]).verdict is None  # not tested
    assert comparison.cell("A1", by_group["supplier/middle"]).verdict is None  # hidden: no verdict either


# ---------------------------------------------------------------- filters and sorts

MEANS = {  # "all" column per Value Code: A1 3.0, A2 2.0, B1 hidden
    ("A1", "all"): [0, 0, 10, 0, 0],
    ("A2", "all"): [0, 10, 0, 0, 0],
    ("B1", "all"): HIDDEN,
    ("A1", "client"): [0, 0, 0, 10, 0],  # 4.0
    ("A2", "client"): [0, 0, 0, 0, 10],  # 5.0
    ("B1", "client"): [10, 0, 0, 0, 0],  # 1.0
}


def _groups(view: Any) -> list[str]:
    return [c.group for c in view.columns]


def test_party_and_perspective_filters_keep_the_columns_inside_them() -> None:
    data = _heatmap(1, MEANS)
    assert _groups(build_view(data, ViewState())) == GROUPS
    assert _groups(build_view(data, ViewState(parties=("client",)))) == [
        "client/senior",
        "client/middle",
        "client",
    ]
    assert _groups(build_view(data, ViewState(perspectives=("middle",)))) == [
        "client/middle",
        "supplier/middle",
        "middle",
    ]
    assert _groups(build_view(data, ViewState(parties=("supplier",), perspectives=("senior",)))) == [
        "supplier/senior"
    ]


def test_the_gap_ignores_the_party_filter_and_keeps_the_perspective_filter() -> None:
    data = _heatmap(1, MEANS)
    view = build_view(data, ViewState(mode="gap", parties=("client",), perspectives=("senior",)), gaps(data))
    assert _groups(view) == ["senior"]


def test_the_section_filter_keeps_rows() -> None:
    view = build_view(_heatmap(1, MEANS), ViewState(sections=("Section B",)))
    assert [r.row.identifier for r in view.rows] == ["B1"]


def test_lowest_and_highest_sort_by_the_broadest_column_with_unnumbered_rows_last() -> None:
    data = _heatmap(1, MEANS)
    order = {
        s: [r.row.identifier for r in build_view(data, ViewState(sort=s)).rows]
        for s in ("section", "lowest", "highest")
    }
    assert order == {
        "section": ["A1", "A2", "B1"],
        "lowest": ["A2", "A1", "B1"],
        "highest": ["A1", "A2", "B1"],
    }
    # with a party filter the broadest column left is that party's total
    client = build_view(data, ViewState(sort="lowest", parties=("client",)))
    assert client.sort_column is not None
    assert client.sort_column.group == "client"
    assert [r.row.identifier for r in client.rows] == ["B1", "A1", "A2"]
    assert not client.by_section


def test_largest_sorts_by_the_size_of_the_difference_either_way() -> None:
    before = _heatmap(
        1, {("A1", "all"): [0, 0, 10, 0, 0], ("A2", "all"): [0, 0, 10, 0, 0], ("B1", "all"): [0, 0, 10, 0, 0]}
    )
    after = _heatmap(
        2, {("A1", "all"): [0, 0, 5, 5, 0], ("A2", "all"): [10, 0, 0, 0, 0], ("B1", "all"): HIDDEN}
    )
    comparison = changes(after, before, comparable={"A1", "A2", "B1"})
    state = ViewState(mode="change_previous", sort="largest")
    view = build_view(after, state, comparison)
    assert [r.row.identifier for r in view.rows] == ["A2", "A1", "B1"]  # −2.0, +0.5, hidden last
    lowest = build_view(after, ViewState(mode="change_previous", sort="lowest"), comparison)
    assert [r.row.identifier for r in lowest.rows] == ["A2", "A1", "B1"]
    highest = build_view(after, ViewState(mode="change_previous", sort="highest"), comparison)
    assert [r.row.identifier for r in highest.rows] == ["A1", "A2", "B1"]


def test_only_agreed_or_divided_cells_keep_their_colour_and_rows_without_any_are_left_out() -> None:
    data = _heatmap(1, MEANS, agreement={("A1", "all"): "agreed", ("A2", "client"): "divided"})
    divided = build_view(data, ViewState(labels="divided"))
    assert [r.row.identifier for r in divided.rows] == ["A2"]
    assert divided.hidden_rows == 2
    assert [c.column.group for c in divided.rows[0].cells if not c.muted] == ["client"]
    either = build_view(data, ViewState(labels="either"))
    assert [r.row.identifier for r in either.rows] == ["A1", "A2"]
    assert all(not c.muted for r in build_view(data, ViewState()).rows for c in r.cells)


def test_a_comparison_mode_needs_its_comparison() -> None:
    with pytest.raises(ValueError, match="the gap mode needs a comparison"):
        build_view(_heatmap(1, MEANS), ViewState(mode="gap"))


def test_the_sort_column_is_the_broadest_group() -> None:
    assert sort_column(COLUMNS) == COLUMNS[-1]
    assert sort_column([c for c in COLUMNS if c.group_kind == "party_perspective"]) == COLUMNS[0]
    assert sort_column([]) is None


# ---------------------------------------------------------------- the address


CHOICES = ViewChoices(
    ("Section A", "Section B"), {"client": "Client", "supplier": "Supplier"}, {"senior": "Senior"}
)


def test_a_view_survives_the_address_bar() -> None:
    state = ViewState(
        mode="gap",
        sort="largest",
        sections=("Section B",),
        parties=("supplier",),
        perspectives=("senior",),
        labels="either",
    )
    query = state.to_query()
    assert query == {
        "mode": ["gap"],
        "sort": ["largest"],
        "section": ["Section B"],
        "party": ["supplier"],
        "perspective": ["senior"],
        "labels": ["either"],
    }
    assert ViewState.from_query(query, CHOICES) == state
    assert ViewState().to_query() == {}  # the default view has a clean address


def test_an_address_with_values_this_heatmap_lacks_still_opens() -> None:
    query = {
        "mode": ["colourful"],
        "sort": ["largest"],
        "section": ["Gone", "Section A"],
        "party": ["client", "client"],
        "labels": ["agreed"],
    }
    state = ViewState.from_query(query, CHOICES)
    # unknown mode → level, where "largest" is not offered → by section; unknown section dropped, repeats once
    assert state == ViewState(sections=("Section A",), parties=("client",), labels="agreed")


def test_switching_mode_keeps_a_sort_only_when_the_mode_offers_it() -> None:
    assert "largest" not in sorts_for("level")
    assert ViewState(mode="gap", sort="largest").with_mode("level").sort == "section"
    assert ViewState(mode="gap", sort="lowest").with_mode("level").sort == "lowest"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mode": "pie"}, "unknown heatmap mode 'pie'"),
        ({"sort": "largest"}, "sort 'largest' is not offered in the level mode"),
        ({"labels": "loud"}, "unknown label filter 'loud'"),
    ],
)
def test_a_bad_view_state_is_refused_in_one_line(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ViewState(**fields)


# ---------------------------------------------------------------- the read side's verdicts, on a store

#: One perspective; 12 respondents a party. Client: eight at 2, four at 3 (mean 2.33); supplier: four
#: at 3, eight at 4 (3.67). θ(supplier > client) = (4·(8 + 4/2) + 8·12)/144 = 0.944: a clear "higher".
LOW, HIGH = [2] * 8 + [3] * 4, [3] * 4 + [4] * 8


def _store_heatmap(store: Store, cycle: int) -> HeatmapData:
    with store.sessions() as s:
        return review.heatmap(s, "acme", cycle)


@pytest.mark.store
def test_the_gap_and_change_modes_carry_the_read_sides_verdicts(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_world(s, key="acme", perspectives=("senior",), sections={"Delivery": ("VC1",)})
        add_respondents(s, world, party="client", perspective="senior", levels={"VC1": LOW})
        add_respondents(s, world, party="supplier", perspective="senior", levels={"VC1": HIGH})
        score_cycle(s, world.cycle.id, counts(s, world.cycle))
        second = seed_cycle(s, world.relationship, world.library_version, number=2)
        add_respondents(s, world, party="client", perspective="senior", levels={"VC1": HIGH}, cycle=second)
        add_respondents(s, world, party="supplier", perspective="senior", levels={"VC1": HIGH}, cycle=second)
        score_cycle(s, second.id, counts(s, second))

    first = _store_heatmap(store, 1)
    with store.sessions() as s:
        gap = read_comparison(s, first, "gap")
    senior, overall = (gap.cell("VC1", c) for c in gap.columns)
    for cell in (senior, overall):  # the supplier against the client: higher (read_gaps says client lower)
        assert cell.delta == pytest.approx(4 / 3)
        assert cell.verdict == "higher"
    with store.sessions() as s, pytest.raises(ModeUnavailable, match="cycle 1 is the first cycle"):
        read_comparison(s, first, "change_previous")

    now = _store_heatmap(store, 2)
    with store.sessions() as s:
        change = read_comparison(s, now, "change_first")  # the first cycle is the previous one here
    client = next(c for c in change.columns if c.group == "client/senior")
    supplier = next(c for c in change.columns if c.group == "supplier/senior")
    assert (change.cell("VC1", client).delta, change.cell("VC1", client).verdict) == (
        pytest.approx(4 / 3),
        "higher",
    )
    assert change.cell("VC1", supplier).delta == 0
    assert change.cell("VC1", supplier).verdict == "no detectable difference"
    assert change.title == "Change in mean level since Cycle 1 · Resolve"
