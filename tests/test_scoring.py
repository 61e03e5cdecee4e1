"""Scores: Tastle & Wierman consensus, agreement labels, anonymity, writing and reading.

The numbers are worked out by hand in the comments; log2 values used:
log2(0.5) = −1, log2(0.75) = −0.415037, log2(0.8) = −0.321928,
log2(0.95) = −0.074001, log2(0.2) = −2.321928.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.conftest import Store
from tests.factories import BLANK, World, add_respondents, counts, current_lake, seed_cycle, seed_world
from vm_core.read.audit import audit_anonymity
from vm_core.read.scores import FRAME_COLUMNS, format_scores, read_scores
from vm_core.scoring import (
    SCORE_COLUMNS,
    AgreementRule,
    consensus,
    effective_min_group_size,
    mean_level,
    score_cycle,
)
from vm_core.store.models import MIN_GROUP_SIZE_FLOOR, Cycle, PublishedTally, Relationship, Score

# ---------------------------------------------------------------- consensus


def test_consensus_everybody_at_one_level_is_1() -> None:
    # μ = 3; the only term is p3·log2(1 − 0/4) = 1·log2(1) = 0  →  Cns = 1 + 0 = 1
    assert consensus([0, 0, 5, 0, 0]) == 1.0
    assert consensus([7, 0, 0, 0, 0]) == 1.0


def test_consensus_even_split_between_the_ends_is_0() -> None:
    # μ = (1·3 + 5·3)/6 = 3; |1−3|/4 = |5−3|/4 = 0.5
    # Cns = 1 + 0.5·log2(0.5) + 0.5·log2(0.5) = 1 − 0.5 − 0.5 = 0
    assert consensus([3, 0, 0, 0, 3]) == 0.0


def test_consensus_uniform() -> None:
    # μ = 3, p_i = 0.2; distances /4: 0.5, 0.25, 0, 0.25, 0.5
    # Cns = 1 + 0.2·(2·log2(0.5) + 2·log2(0.75) + log2(1))
    #     = 1 + 0.2·(−2 − 0.830075) = 1 − 0.566015 = 0.433985
    assert consensus([1, 1, 1, 1, 1]) == pytest.approx(1 + 0.2 * (2 * math.log2(0.5) + 2 * math.log2(0.75)))
    assert consensus([1, 1, 1, 1, 1]) == pytest.approx(0.433985, abs=1e-6)


def test_consensus_skewed() -> None:
    # counts [0,0,2,6,2], n = 10: μ = (3·2 + 4·6 + 5·2)/10 = 40/10 = 4
    # level 3: p = 0.2, 1 − |3−4|/4 = 0.75; level 4: p = 0.6, log2(1) = 0; level 5: p = 0.2, 0.75
    # Cns = 1 + 0.2·log2(0.75) + 0 + 0.2·log2(0.75) = 1 + 0.4·(−0.415037) = 1 − 0.166015 = 0.833985
    assert consensus([0, 0, 2, 6, 2]) == pytest.approx(0.833985, abs=1e-6)


def test_consensus_thin_tail() -> None:
    # counts [4,0,0,0,1], n = 5: μ = (4 + 5)/5 = 1.8
    # level 1: p = 0.8, 1 − 0.8/4 = 0.8; level 5: p = 0.2, 1 − 3.2/4 = 0.2
    # Cns = 1 + 0.8·(−0.321928) + 0.2·(−2.321928) = 1 − 0.257542 − 0.464386 = 0.278072
    assert consensus([4, 0, 0, 0, 1]) == pytest.approx(0.278072, abs=1e-6)


def test_consensus_high_with_a_neighbour() -> None:
    # counts [0,0,0,8,2], n = 10: μ = (32 + 10)/10 = 4.2
    # level 4: p = 0.8, 1 − 0.2/4 = 0.95; level 5: p = 0.2, 1 − 0.8/4 = 0.8
    # Cns = 1 + 0.8·(−0.074001) + 0.2·(−0.321928) = 1 − 0.059201 − 0.064386 = 0.876414
    assert consensus([0, 0, 0, 8, 2]) == pytest.approx(0.876414, abs=1e-6)


def test_consensus_of_nobody_is_none_and_counts_are_checked() -> None:
    assert consensus([0, 0, 0, 0, 0]) is None
    with pytest.raises(ValueError, match="5 level counts"):
        consensus([1, 2, 3])
    with pytest.raises(ValueError, match="negative"):
        consensus([1, -1, 0, 0, 0])


def test_mean_level() -> None:
    # (1·2 + 2·5 + 3·9 + 4·12 + 5·4)/32 = (2 + 10 + 27 + 48 + 20)/32 = 107/32 = 3.34375
    assert mean_level([2, 5, 9, 12, 4]) == 3.34375
    assert mean_level([0, 0, 2, 6, 2]) == 4.0  # 40/10
    assert mean_level([0, 0, 0, 0, 0]) is None


# ---------------------------------------------------------------- agreement labels


def test_agreement_labels_with_default_rule() -> None:
    rule = AgreementRule()
    defaults = (rule.agreed_min_consensus, rule.divided_max_consensus, rule.divided_min_end_share)
    assert defaults == (0.8, 0.5, 0.25)
    assert rule.label([0, 0, 5, 0, 0]) == "agreed"  # Cns 1
    assert rule.label([0, 0, 2, 6, 2]) == "agreed"  # Cns 0.834 ≥ 0.8
    assert rule.label([3, 0, 0, 0, 3]) == "divided"  # Cns 0; ends 0.5 and 0.5
    assert rule.label([1, 1, 1, 1, 1]) == "divided"  # Cns 0.434 ≤ 0.5; levels 1–2: 0.4, levels 4–5: 0.4
    # Cns 0.278 is low, but levels 4–5 hold only 1/5 = 0.2 < 0.25: a thin tail, not a division
    assert rule.label([4, 0, 0, 0, 1]) is None
    assert rule.label([0, 0, 0, 0, 0]) is None


def test_agreement_boundaries_are_inclusive() -> None:
    # [1,0,2,0,1]: μ = 3, Cns = 1 + 0.25·log2(0.5) + 0.5·0 + 0.25·log2(0.5) = 0.5 exactly,
    # ends (1+0)/4 = 0.25 and (0+1)/4 = 0.25: every divided threshold met with equality.
    assert consensus([1, 0, 2, 0, 1]) == 0.5
    assert AgreementRule().label([1, 0, 2, 0, 1]) == "divided"
    assert AgreementRule(divided_max_consensus=0.49).label([1, 0, 2, 0, 1]) is None
    assert AgreementRule(divided_min_end_share=0.26).label([1, 0, 2, 0, 1]) is None
    # [1,0,6,0,1]: μ = 3, Cns = 1 + 2·(1/8)·log2(0.5) = 1 − 0.25 = 0.75 exactly
    assert consensus([1, 0, 6, 0, 1]) == 0.75
    assert AgreementRule(agreed_min_consensus=0.75).label([1, 0, 6, 0, 1]) == "agreed"
    assert AgreementRule(agreed_min_consensus=0.76).label([1, 0, 6, 0, 1]) is None
    assert AgreementRule().label([1, 0, 6, 0, 1]) is None  # 0.75 < 0.8, ends only 1/8


def test_agreement_rule_from_mapping() -> None:
    assert AgreementRule.from_mapping({}) == AgreementRule()
    assert AgreementRule.from_mapping(None) == AgreementRule()
    strict = AgreementRule.from_mapping({"agreed_min_consensus": 0.9})
    assert strict == AgreementRule(agreed_min_consensus=0.9)
    assert AgreementRule.from_mapping({"divided_min_end_share": 0}).divided_min_end_share == 0


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"agreed": 0.8}, r"unknown key\(s\) agreed; known: agreed_min_consensus"),
        ({"agreed_min_consensus": "high"}, "agreed_min_consensus must be a number"),
        ({"agreed_min_consensus": True}, "agreed_min_consensus must be a number"),
        ({"agreed_min_consensus": 1.2}, "agreed_min_consensus must be between 0 and 1"),
        ({"divided_max_consensus": -0.1}, "divided_max_consensus must be between 0 and 1"),
        ({"agreed_min_consensus": 0.5, "divided_max_consensus": 0.5}, "must be below agreed_min_consensus"),
        ({"divided_min_end_share": 0.6}, "divided_min_end_share must be at most 0.5"),
        ([("agreed_min_consensus", 0.8)], "expected a mapping"),
    ],
)
def test_agreement_rule_from_mapping_rejects(mapping: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AgreementRule.from_mapping(mapping)


def test_effective_min_group_size() -> None:
    assert MIN_GROUP_SIZE_FLOOR == 3
    assert effective_min_group_size(Relationship(min_group_size=5)) == 5
    assert effective_min_group_size(Relationship(min_group_size=2)) == 3  # never below the floor
    assert effective_min_group_size(8) == 8


# ---------------------------------------------------------------- store: seeded scenario

# (party, perspective) → {Value Code: one level per respondent}; None = "no level".
# client/None are client respondents with an unmapped role; None/"senior" have no party: the
# pipeline quarantines such answers, so they never reach the lake (tests.factories writes none)
# and are not scored at all, not even in "senior".
SCENARIO: dict[tuple[str | None, str | None], dict[str, list[int | None]]] = {
    ("client", "senior"): {"VC1": [5, 5, 4, 4, 4, None], "VC2": [4, 4, 4, 4, 5, 5]},
    ("client", "middle"): {"VC1": [3, 3, 4, 4, 5], "VC2": [3, 4, 4, 5, 5]},
    ("client", "frontline"): {"VC1": [2, 3, 3, 4], "VC2": [3, 3, 3, 3]},
    ("client", None): {"VC1": [1, None], "VC2": [None, None]},
    ("supplier", "senior"): {"VC1": [4, 4, 4, 4, 4], "VC2": [5, 5, 5, 5, 5]},
    ("supplier", "middle"): {"VC1": [1, 2, 2, 3, 3, 4, 5], "VC2": [2, 2, 3, 4, None, None, None]},
    ("supplier", "frontline"): {"VC1": [2, 2, 3, 3, 3, None], "VC2": [1, 2, 3, 4, 5, 5]},
    (None, "senior"): {"VC1": [1, 1, 1], "VC2": [5, 5, 5]},
}

# Hand counts: (Value Code, group key) → (n, n_no_level, [l1, l2, l3, l4, l5]).
EXPECTED: dict[tuple[str, str], tuple[int, int, list[int]]] = {
    # VC1 cells
    ("VC1", "client/senior"): (5, 1, [0, 0, 0, 3, 2]),
    ("VC1", "client/middle"): (5, 0, [0, 0, 2, 2, 1]),
    ("VC1", "client/frontline"): (4, 0, [0, 1, 2, 1, 0]),
    ("VC1", "supplier/senior"): (5, 0, [0, 0, 0, 5, 0]),
    ("VC1", "supplier/middle"): (7, 0, [1, 2, 2, 1, 1]),
    ("VC1", "supplier/frontline"): (5, 1, [0, 2, 3, 0, 0]),
    # client = its three cells + the unmapped [1, 0, 0, 0, 0] (n 1, no level 1)
    ("VC1", "client"): (15, 2, [1, 1, 4, 6, 3]),
    ("VC1", "supplier"): (17, 1, [1, 4, 5, 6, 1]),
    ("VC1", "senior"): (10, 1, [0, 0, 0, 8, 2]),
    ("VC1", "middle"): (12, 0, [1, 2, 4, 3, 2]),
    ("VC1", "frontline"): (9, 1, [0, 3, 5, 1, 0]),
    ("VC1", "all"): (32, 3, [2, 5, 9, 12, 4]),  # 15 + 17; the 3 without a party are left out
    # VC2 cells
    ("VC2", "client/senior"): (6, 0, [0, 0, 0, 4, 2]),
    ("VC2", "client/middle"): (5, 0, [0, 0, 1, 2, 2]),
    ("VC2", "client/frontline"): (4, 0, [0, 0, 4, 0, 0]),
    ("VC2", "supplier/senior"): (5, 0, [0, 0, 0, 0, 5]),
    ("VC2", "supplier/middle"): (4, 3, [0, 2, 1, 1, 0]),
    ("VC2", "supplier/frontline"): (6, 0, [1, 1, 1, 1, 2]),
    ("VC2", "client"): (15, 2, [0, 0, 5, 6, 4]),  # the 2 unmapped gave no level
    ("VC2", "supplier"): (15, 3, [1, 3, 2, 2, 7]),
    ("VC2", "senior"): (11, 0, [0, 0, 0, 4, 7]),
    ("VC2", "middle"): (9, 3, [0, 2, 2, 3, 2]),
    ("VC2", "frontline"): (10, 0, [1, 1, 5, 1, 2]),
    ("VC2", "all"): (30, 5, [1, 3, 7, 8, 11]),
}

# With the default minimum 5 (vm_core.scoring.anonymity.suppress: primary, then the cheapest complementary
# groups that leave no union of hidden atoms under 5 derivable):
#  VC1 primary: client/frontline (n 4). "all − senior − middle − frontline" would be the ONE unmapped
#      client respondent's level [1,0,0,0,0]: the cross-party frontline (9) goes — the cheapest kind.
#  VC2 primary: client/frontline (4), supplier/middle (4). The cheapest leak-free table by the
#      documented priority (kinds first: perspective rows, then cells, then parties) hides the
#      cross-party middle row and two more cells (client/middle, supplier/frontline), and keeps both
#      party totals and "all".
SUPPRESSED_MIN5 = {
    ("VC1", "client/frontline"): "below_minimum",
    ("VC1", "frontline"): "complementary",
    ("VC2", "client/frontline"): "below_minimum",
    ("VC2", "supplier/middle"): "below_minimum",
    ("VC2", "client/middle"): "complementary",
    ("VC2", "middle"): "complementary",
    ("VC2", "supplier/frontline"): "complementary",
}
HIDDEN_NUMBERS = ("n", "n_no_level", "n_blank", "l1", "l2", "l3", "l4", "l5", "mean", "consensus")
ORDER_VC = [
    ("all", "all"),
    ("party", "client"),
    ("party", "supplier"),
    ("perspective", "senior"),
    ("perspective", "middle"),
    ("perspective", "frontline"),
    ("party_perspective", "client/senior"),
    ("party_perspective", "client/middle"),
    ("party_perspective", "client/frontline"),
    ("party_perspective", "supplier/senior"),
    ("party_perspective", "supplier/middle"),
    ("party_perspective", "supplier/frontline"),
]


def seed_scenario(session: Session, **world_options: Any) -> World:
    world = seed_world(session, **world_options)
    for (party, perspective), levels in SCENARIO.items():
        add_respondents(session, world, party=party, perspective=perspective, levels=levels)
    return world


def stored_rows(session: Session, cycle_id: int) -> list[tuple[Any, ...]]:
    cols = [
        getattr(Score, c)
        for c in (
            "value_code_id",
            "group_kind",
            "group_key",
            "party_id",
            "perspective_id",
            "n",
            "n_no_level",
            "l1",
            "l2",
            "l3",
            "l4",
            "l5",
            "mean",
            "consensus",
            "agreement",
            "suppressed",
        )
    ]
    return [
        tuple(r)
        for r in session.execute(
            select(*cols)
            .where(Score.cycle_id == cycle_id)
            .order_by(Score.value_code_id, Score.group_kind, Score.group_key)
        )
    ]


def by_key(df: pd.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["value_code"], r["group"]): r for r in df.to_dict("records")}


def levels_of(row: dict[str, Any]) -> list[Any]:
    return [None if pd.isna(row[f"l{i}"]) else int(row[f"l{i}"]) for i in range(1, 6)]


def assert_hidden_without_numbers(row: dict[str, Any]) -> None:
    assert row["suppressed"]
    assert row["suppression"] in ("below_minimum", "complementary")
    assert all(pd.isna(row[c]) for c in HIDDEN_NUMBERS), row
    assert row["agreement"] is None


def assert_audit_clean(session: Session) -> None:
    """Independent of how suppression chose: nothing small can be worked out from what is shown."""
    report = audit_anonymity(session, current_lake())
    assert report.ok, report.problems
    assert report.tables > 0


@pytest.mark.store
def test_score_cycle_counts_every_group(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_scenario(s)
        summary = score_cycle(s, world.cycle.id, counts(s, world.cycle))
        df = read_scores(s, "acme-bolt", 1)
        assert_audit_clean(s)

    # 2 Value Codes × (1 all + 2 parties + 3 perspectives + 2×3 cells) = 24 rows
    assert (summary.cells, summary.suppressed_cells, summary.value_codes) == (24, 7, 2)
    # client 6 + 5 + 4 + 2 unmapped = 17, supplier 5 + 7 + 6 = 18; the 3 without a party are not scored
    assert summary.participants == 35
    assert list(df.columns) == list(FRAME_COLUMNS)
    assert len(df) == 24
    got = by_key(df)
    for key, (n, no_level, levels) in EXPECTED.items():
        row = got[key]
        if key in SUPPRESSED_MIN5:
            assert_hidden_without_numbers(row)
            assert row["suppression"] == SUPPRESSED_MIN5[key], key
        else:
            assert not row["suppressed"], key
            assert row["suppression"] is None
            assert (row["n"], row["n_no_level"], row["n_blank"]) == (n, no_level, 0), key
            assert levels_of(row) == levels, key
            assert row["mean"] == pytest.approx(mean_level(levels))
            assert row["consensus"] == pytest.approx(consensus(levels))
    assert {k: r["suppression"] for k, r in got.items() if r["suppressed"]} == SUPPRESSED_MIN5

    a = got[("VC1", "all")]
    assert a["mean"] == 3.34375  # 107/32, worked out in test_mean_level
    assert a["consensus"] == pytest.approx(0.598405, abs=1e-6)
    assert a["agreement"] is None  # 0.598: neither ≥ 0.8 nor ≤ 0.5
    assert got[("VC1", "senior")]["consensus"] == pytest.approx(0.876414, abs=1e-6)  # [0,0,0,8,2]
    assert got[("VC1", "senior")]["agreement"] == "agreed"
    assert got[("VC1", "supplier/senior")]["consensus"] == 1.0  # everybody at level 4

    # order: relationship, cycle, section/Value Code, group kind, party then perspective position
    assert df["value_code"].tolist() == ["VC1"] * 12 + ["VC2"] * 12
    assert list(zip(df["group_kind"][:12], df["group"][:12], strict=True)) == ORDER_VC
    assert df["section"].tolist() == ["Delivery"] * 12 + ["Relationship"] * 12
    assert got[("VC1", "client/middle")]["party"] == "client"
    assert got[("VC1", "client/middle")]["perspective"] == "middle"
    assert got[("VC1", "all")]["party"] is None
    assert got[("VC1", "all")]["perspective"] is None
    assert str(df["n"].dtype) == "Int64"
    assert str(df["l1"].dtype) == "Int64"


@pytest.mark.store
def test_suppressed_rows_store_no_numbers_and_the_check_constraint_holds(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_scenario(s)
        score_cycle(s, world.cycle.id, counts(s, world.cycle))
        vc2 = world.value_codes["VC2"].id
        row = s.execute(
            select(Score).where(Score.value_code_id == vc2, Score.group_key == "client/frontline")
        ).scalar_one()
        # n = 4 < 5: only n and n_no_level are stored
        assert (row.n, row.n_no_level, row.suppressed) == (4, 0, True)
        assert (row.l1, row.l2, row.l3, row.l4, row.l5, row.mean, row.consensus, row.agreement) == (None,) * 8
        nulls = s.scalar(
            select(func.count())
            .select_from(Score)
            .where(Score.suppressed.is_(True), Score.mean.is_(None), Score.l3.is_(None))
        )
        assert nulls == len(SUPPRESSED_MIN5)

        values = {
            "cycle_id": world.cycle.id,
            "value_code_id": vc2,
            "group_kind": "party_perspective",
            "group_key": "x/y",
            "n": 4,
            "n_no_level": 0,
            "mean": 3.0,
            "suppressed": True,
        }
        with pytest.raises(IntegrityError), s.begin_nested():
            s.execute(insert(Score), [values])


@pytest.mark.store
def test_complementary_suppression_of_a_small_unmapped_remainder(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_scenario(s)
        score_cycle(s, world.cycle.id, counts(s, world.cycle))
        got = by_key(read_scores(s))
    # Without it: all [2,5,9,12,4] − senior [0,0,0,8,2] − middle [1,2,4,3,2] − frontline [0,3,5,1,0]
    # = [1,0,0,0,0]: the level of the ONE client respondent whose role maps to no perspective.
    assert not got[("VC1", "all")]["suppressed"]
    assert_hidden_without_numbers(got[("VC1", "frontline")])  # n is not published either
    visible = [k for k in ("senior", "middle", "frontline") if not got[("VC1", k)]["suppressed"]]
    assert visible == ["senior", "middle"]
    # what subtraction now gives mixes frontline and the unmapped: 32 − 10 − 12 = 10 ≥ 5 respondents
    assert got[("VC1", "all")]["n"] - sum(got[("VC1", k)]["n"] for k in visible) == 10


@pytest.mark.store
def test_complementary_suppression_keeps_the_parties_comparable(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_scenario(s)
        score_cycle(s, world.cycle.id, counts(s, world.cycle))
        got = by_key(read_scores(s))
        assert_audit_clean(s)
    # VC2, client: cells 6, 5, 4 and no unmapped levels. With only client/frontline hidden,
    # client [0,0,5,6,4] − senior [0,0,0,4,2] − middle [0,0,1,2,2] = [0,0,4,0,0] would be its levels;
    # likewise supplier − its senior and frontline cells = supplier/middle. Hiding the cross-party
    # middle row and one more cell per party breaks every such derivation; the senior cells of both
    # parties stay comparable, and so do both party totals and "all".
    for group in ("client/senior", "supplier/senior", "client", "supplier", "all", "senior", "frontline"):
        assert not got[("VC2", group)]["suppressed"], group
    for group in ("client/middle", "middle", "supplier/frontline"):
        assert got[("VC2", group)]["suppression"] == "complementary", group


@pytest.mark.store
def test_min_group_size_is_configurable(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_scenario(s, min_group_size=3, agreement={"agreed_min_consensus": 0.9})
        summary = score_cycle(s, world.cycle.id, counts(s, world.cycle))
        df = read_scores(s)
        assert_audit_clean(s)
    got = by_key(df)
    # Minimum 3: no cell is below 3, but each Value Code has two client respondents without a
    # perspective (VC1: one level 1 and one "no level"; VC2: two "no level"), fewer than 3 who gave a
    # level: "client − its cells" would give them away, and so would "all − perspectives". The
    # cheapest protection by the documented priority is a cross-party perspective row and one client
    # cell per Value Code; "all" and both party totals stay.
    hidden = {k: r["suppression"] for k, r in got.items() if r["suppressed"]}
    assert hidden == {
        ("VC1", "client/frontline"): "complementary",
        ("VC1", "frontline"): "complementary",
        ("VC2", "client/middle"): "complementary",
        ("VC2", "middle"): "complementary",
    }
    assert summary.suppressed_cells == 4
    row = got[("VC2", "client/frontline")]  # n = 4 ≥ 3: published
    assert levels_of(row) == [0, 0, 4, 0, 0]
    assert (row["mean"], row["consensus"], row["agreement"]) == (3.0, 1.0, "agreed")
    # the relationship's agreement rule is used: 0.876 < 0.9
    assert got[("VC1", "senior")]["agreement"] is None


@pytest.mark.store
def test_read_scores_masks_tampered_rows(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_scenario(s)
        score_cycle(s, world.cycle.id, counts(s, world.cycle))
        vc2 = world.value_codes["VC2"].id
        tamper = text(
            "UPDATE score SET suppressed = :f, l1 = :l1, l2 = :l2, l3 = :l3, l4 = :l4, l5 = :l5, mean = :mean,"
            " consensus = 0.5, agreement = 'agreed' WHERE value_code_id = :vc AND group_key = :key"
        )
        # 1. a primary-suppressed cell (n 4) un-flagged with its true numbers: passes the CHECK
        s.execute(
            tamper,
            {"f": False, "l1": 0, "l2": 0, "l3": 4, "l4": 0, "l5": 0, "mean": 3.0, "vc": vc2, "key": "client/frontline"},
        )  # fmt: skip
        # 2. a complementary-suppressed total un-flagged: client − client/senior − client/middle would
        #    give the 4 client/frontline respondents' levels
        s.execute(
            tamper,
            {"f": False, "l1": 0, "l2": 0, "l3": 5, "l4": 6, "l5": 4, "mean": 59 / 15, "vc": vc2, "key": "client"},
        )  # fmt: skip
        stored = s.execute(
            select(Score.suppressed, Score.mean).where(
                Score.value_code_id == vc2, Score.group_key.in_(["client/frontline", "client"])
            )
        ).all()
        assert sorted(stored) == [(False, 3.0), (False, 59 / 15)]
        df = read_scores(s)
        assert_audit_clean(s)
    got = by_key(df)
    assert_hidden_without_numbers(got[("VC2", "client/frontline")])
    assert got[("VC2", "client/frontline")]["suppression"] == "below_minimum"
    # the un-flagged total may come back, but then read_scores hides another group instead:
    # nothing derivable, as the audit above proves
    assert len(df[df["suppressed"]]) >= len(SUPPRESSED_MIN5) - 1


@pytest.mark.store
def test_read_scores_applies_a_minimum_raised_after_scoring(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_scenario(s)
        score_cycle(s, world.cycle.id, counts(s, world.cycle))
        s.execute(
            text("UPDATE relationship SET min_group_size = 6 WHERE id = :id"), {"id": world.relationship.id}
        )
        df = read_scores(s)
        assert_audit_clean(s)  # against the new minimum
    got = by_key(df)
    small = [key for key, (n, _, _) in EXPECTED.items() if n < 6]
    assert small
    for key in small:
        assert_hidden_without_numbers(got[key])
        assert got[key]["suppression"] == "below_minimum"
    assert got[("VC1", "supplier/senior")]["suppressed"]  # n 5: published under 5, not under 6
    assert not df.loc[~df["suppressed"], "n"].lt(6).any()


@pytest.mark.store
def test_score_cycle_is_idempotent_and_per_cycle(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_scenario(s)
        first = score_cycle(s, world.cycle.id, counts(s, world.cycle))
        rows = stored_rows(s, world.cycle.id)
        second = score_cycle(s, world.cycle.id, counts(s, world.cycle))
        assert second == first
        assert stored_rows(s, world.cycle.id) == rows
        assert s.scalar(select(func.count()).select_from(Score)) == 24

        # a cycle nobody answered yet: every group of every Value Code is written, n = 0, suppressed
        cycle2 = seed_cycle(s, world.relationship, world.library_version, number=2)
        empty = score_cycle(s, cycle2.id, counts(s, cycle2))
        assert (empty.cells, empty.suppressed_cells, empty.participants) == (24, 24, 0)
        assert stored_rows(s, world.cycle.id) == rows  # cycle 1 untouched
        df2 = read_scores(s, "acme-bolt", 2)
        assert len(df2) == 24
        assert df2["suppressed"].all()
        assert df2["n"].isna().all()  # n = 0 is not shown either
        assert len(read_scores(s, "acme-bolt")) == 48
        assert read_scores(s, "no-such-relationship").empty
        assert list(read_scores(s, "no-such-relationship").columns) == list(FRAME_COLUMNS)


@pytest.mark.store
def test_format_scores(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_scenario(s)
        score_cycle(s, world.cycle.id, counts(s, world.cycle))
        df = read_scores(s, "acme-bolt", 1)

    out = format_scores(df, "csv")
    lines = list(csv.reader(io.StringIO(out)))
    assert tuple(lines[0]) == SCORE_COLUMNS
    assert len(lines) == 1 + 24
    rows = {(r[2], r[4]): dict(zip(SCORE_COLUMNS, r, strict=True)) for r in lines[1:]}
    hidden = rows[("VC2", "client/frontline")]
    assert (hidden["suppressed"], hidden["suppression"]) == ("true", "below_minimum")
    assert [hidden[c] for c in HIDDEN_NUMBERS] == [""] * len(HIDDEN_NUMBERS)  # not even n
    shown = rows[("VC1", "all")]
    assert (shown["relationship"], shown["cycle"], shown["group_kind"]) == ("acme-bolt", "1", "all")
    assert [shown[c] for c in ("n", "l1", "l2", "l3", "l4", "l5", "suppressed")] == [
        "32",
        "2",
        "5",
        "9",
        "12",
        "4",
        "false",
    ]
    assert float(shown["mean"]) == 3.34375

    as_json = format_scores(df, "json")
    assert as_json.endswith("]\n")  # a line end, as every --format json has: the shell prompt starts anew
    data = json.loads(as_json)
    assert len(data) == 24
    assert set(data[0]) == {*SCORE_COLUMNS, "agreement"}
    j = {(d["value_code"], d["group"]): d for d in data}
    hidden_row = j[("VC2", "client/frontline")]
    assert all(hidden_row[c] is None for c in HIDDEN_NUMBERS)
    assert hidden_row["suppressed"] is True
    assert hidden_row["suppression"] == "below_minimum"
    assert j[("VC2", "middle")]["suppression"] == "complementary"
    assert j[("VC1", "all")]["suppression"] is None
    assert j[("VC1", "all")]["l4"] == 12
    assert j[("VC1", "all")]["mean"] == 3.34375

    table = format_scores(df, "table")
    assert "relationship acme-bolt" in table
    line = next(
        x
        for x in table.splitlines()
        if "client/frontline" in x and x.split()[0] == "1" and " VC2 " in f" {x} "
    )
    assert "below_minimum" in line
    assert not re.search(r"\d", line.split("client/frontline", 1)[1])  # no count at all, not even n
    all_line = next(x for x in table.splitlines() if x.split()[:4] == ["1", "VC1", "all", "all"])
    assert "3.34" in all_line
    assert "0.60" in all_line
    with pytest.raises(ValueError, match="unknown format"):
        format_scores(df, "xml")
    assert format_scores(df.iloc[0:0], "csv").strip() == ",".join(SCORE_COLUMNS)


# ---------------------------------------------------------------- blank is not "no level"


@pytest.mark.store
def test_blank_is_counted_apart_from_no_level(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_world(s)
        for party in ("client", "supplier"):
            add_respondents(
                s,
                world,
                party=party,
                perspective="senior",
                levels={"VC1": [4, 4, 5, 5, 3, None, BLANK, BLANK], "VC2": [3] * 8},
            )
        summary = score_cycle(s, world.cycle.id, counts(s, world.cycle))
        got = by_key(read_scores(s))
        tallies = s.execute(
            select(PublishedTally.n_no_level, PublishedTally.n_blank).where(
                PublishedTally.value_code_id == world.value_codes["VC1"].id
            )
        ).all()
        out = format_scores(read_scores(s), "csv")
    assert summary.participants == 16
    client = got[("VC1", "client/senior")]
    assert (client["n"], client["n_no_level"], client["n_blank"]) == (5, 1, 2)
    everybody = got[("VC1", "all")]
    assert (everybody["n"], everybody["n_no_level"], everybody["n_blank"]) == (10, 2, 4)
    assert levels_of(everybody) == [0, 0, 2, 4, 4]  # blanks and "no level" are in no level count
    assert sorted(tallies) == [(1, 2), (1, 2)]  # the atom counts behind what is published
    rows = {(r["value_code"], r["group"]): r for r in csv.DictReader(io.StringIO(out))}
    assert (rows[("VC1", "all")]["n_no_level"], rows[("VC1", "all")]["n_blank"]) == ("2", "4")


# ---------------------------------------------------------------- re-scoring a published cycle


def _two_by_two(session: Session) -> World:
    """client/supplier × senior/middle, 6 respondents per cell, everything shown at minimum 5."""
    world = seed_world(session, perspectives=("senior", "middle"))
    for party in ("client", "supplier"):
        for perspective in ("senior", "middle"):
            add_respondents(
                session, world, party=party, perspective=perspective, levels={"VC1": [4] * 6, "VC2": [2] * 6}
            )
    return world


def _n(session: Session, group: str, code: str = "VC1") -> Any:
    return by_key(read_scores(session))[(code, group)]["n"]


@pytest.mark.store
def test_a_late_respondent_is_held_back_until_enough_arrive(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = _two_by_two(s)
        first = score_cycle(s, world.cycle.id, counts(s, world.cycle))
        assert (first.suppressed_cells, first.held) == (0, None)
        assert _n(s, "client/senior") == 6

        # one late response in client/senior: old and new client/senior differenced would be that person
        add_respondents(s, world, party="client", perspective="senior", levels={"VC1": [1], "VC2": [5]})
        held = score_cycle(s, world.cycle.id, counts(s, world.cycle))
        assert held.held is not None
        assert "client/senior" in held.held
        assert s.get(Cycle, world.cycle.id).held_note == held.held
        assert _n(s, "client/senior") == 6  # the published scores stay
        assert _n(s, "all") == 24
        assert_audit_clean(s)  # compared with what was published, not with the newer data

        # five more arrive: six newcomers cannot be told apart; the newer data is published
        add_respondents(
            s, world, party="client", perspective="senior", levels={"VC1": [2] * 5, "VC2": [3] * 5}
        )
        published = score_cycle(s, world.cycle.id, counts(s, world.cycle))
        assert published.held is None
        assert s.get(Cycle, world.cycle.id).held_note is None
        assert _n(s, "client/senior") == 12
        assert _n(s, "all") == 30
        assert_audit_clean(s)


@pytest.mark.store
@pytest.mark.parametrize("option", ["erasure", "publish_held"])
def test_erasure_and_publish_held_publish_anyway(store: Store, option: str) -> None:
    with store.sessions() as s, s.begin():
        world = _two_by_two(s)
        score_cycle(s, world.cycle.id, counts(s, world.cycle))
        add_respondents(s, world, party="supplier", perspective="middle", levels={"VC1": [1], "VC2": [5]})
        assert score_cycle(s, world.cycle.id, counts(s, world.cycle)).held is not None
        summary = score_cycle(s, world.cycle.id, counts(s, world.cycle), **{option: True})
        assert summary.held is None
        assert s.get(Cycle, world.cycle.id).held_note is None
        assert _n(s, "supplier/middle") == 7
        # publishing over the rule is reported as such; an erasure is not a risk someone chose
        assert (summary.risk_accepted is not None) == (option == "publish_held")
