"""Ordinal comparisons: θ, Brunner–Munzel, Benjamini–Hochberg, van der Eijk's A and the verdicts.

Each statistic is checked three ways where it can be: a case worked out by hand in the comments,
a published example, and scipy on the counts expanded to one value per respondent (only the tests
expand; the product works on the counts).
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from vm_core.scoring import (
    BrunnerMunzel,
    Comparison,
    benjamini_hochberg,
    brunner_munzel,
    compare,
    compare_family,
    superiority,
    van_der_eijk_agreement,
    vargha_delaney_magnitude,
)
from vm_core.scoring.comparisons import _layered_agreement

LEVELS = np.arange(1, 6)

#: Brunner & Munzel (2000), pain scores on the third day after surgery, as level counts l1..l5:
#: treatment N = [3, 3, 4, 3, 1, 2, 3, 1, 1, 5, 4], treatment Y = [1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 1, 1].
PAIN_N = [3, 1, 4, 2, 1]
PAIN_Y = [11, 2, 0, 1, 0]

counts_5 = st.lists(st.integers(0, 25), min_size=5, max_size=5)


def expand(counts: list[int]) -> np.ndarray:
    return np.repeat(LEVELS, counts)


def reference_brunner_munzel(x: np.ndarray, y: np.ndarray, alpha: float = 0.05) -> dict[str, float]:
    """Brunner & Munzel's statistic from midranks, as the paper writes it (and R's lawstat), for θ = P(X>Y)+½P(X=Y)."""
    n1, n2 = len(x), len(y)
    r = stats.rankdata(np.concatenate([x, y]))
    r1, r2 = stats.rankdata(x), stats.rankdata(y)
    m1, m2 = r[:n1].mean(), r[n1:].mean()
    theta = (m1 - (n1 + 1) / 2) / n2
    v1 = ((r[:n1] - r1 - m1 + (n1 + 1) / 2) ** 2).sum() / (n1 - 1)
    v2 = ((r[n1:] - r2 - m2 + (n2 + 1) / 2) ** 2).sum() / (n2 - 1)
    df = (n1 * v1 + n2 * v2) ** 2 / ((n1 * v1) ** 2 / (n1 - 1) + (n2 * v2) ** 2 / (n2 - 1))
    se = math.sqrt(v1 / (n1 * n2**2) + v2 / (n2 * n1**2))
    half = stats.t.ppf(1 - alpha / 2, df) * se
    return {"theta": theta, "df": df, "ci_low": max(0.0, theta - half), "ci_high": min(1.0, theta + half)}


# ---------------------------------------------------------------- θ


def test_superiority_by_hand() -> None:
    # x = levels 2, 3, 4 (one each), y = levels 1, 2, 3. The 9 pairs (x, y):
    # x=2 beats y=1, ties y=2, loses to y=3   → 1 + ½ = 1.5
    # x=3 beats 1 and 2, ties 3               → 2 + ½ = 2.5
    # x=4 beats all three                     → 3
    # θ = (1.5 + 2.5 + 3) / 9 = 7/9
    assert superiority([0, 1, 1, 1, 0], [1, 1, 1, 0, 0]) == pytest.approx(7 / 9, abs=1e-15)
    assert superiority([1, 1, 1, 0, 0], [0, 1, 1, 1, 0]) == pytest.approx(2 / 9, abs=1e-15)


def test_superiority_ends_and_empty_groups() -> None:
    assert superiority([0, 0, 0, 0, 4], [3, 0, 0, 0, 0]) == 1.0
    assert superiority([3, 0, 0, 0, 0], [0, 0, 0, 0, 4]) == 0.0
    assert superiority([0, 0, 6, 0, 0], [0, 0, 2, 0, 0]) == 0.5
    assert superiority([0, 0, 0, 0, 0], [1, 0, 0, 0, 0]) is None
    assert superiority([1, 0, 0, 0, 0], [0, 0, 0, 0, 0]) is None


@settings(max_examples=200, deadline=None)
@given(counts_5, counts_5)
def test_superiority_is_the_share_of_pairs_won(x: list[int], y: list[int]) -> None:
    assume(sum(x) and sum(y))
    a, b = expand(x), expand(y)
    wins = (a[:, None] > b[None, :]).sum() + 0.5 * (a[:, None] == b[None, :]).sum()
    assert superiority(x, y) == pytest.approx(wins / (len(a) * len(b)), abs=1e-12)
    assert superiority(x, y) + superiority(y, x) == pytest.approx(1.0, abs=1e-12)


def test_vargha_delaney_bands_are_symmetric_and_include_their_edges() -> None:
    # θ = 11/25 = 0.44 from counts: the one x at level 3 beats the 10 y at level 1, ties the 2 at
    # level 3 → (10 + 1)/25. 1 − 0.56 is 0.43999999999999995 in floats; 0.44 is still "small".
    assert superiority([0, 0, 1, 0, 0], [10, 0, 2, 13, 0]) == 0.44
    assert vargha_delaney_magnitude(0.44) == "small"
    assert vargha_delaney_magnitude(0.56) == "small"
    assert vargha_delaney_magnitude(0.5599) == "negligible"
    assert vargha_delaney_magnitude(0.4401) == "negligible"
    assert vargha_delaney_magnitude(0.64) == vargha_delaney_magnitude(0.36) == "medium"
    assert vargha_delaney_magnitude(0.71) == vargha_delaney_magnitude(0.29) == "large"
    assert vargha_delaney_magnitude(1.0) == "large"
    with pytest.raises(ValueError, match="between 0 and 1"):
        vargha_delaney_magnitude(1.2)


# ---------------------------------------------------------------- Brunner–Munzel


def test_brunner_munzel_by_hand() -> None:
    # x = [0,1,1,1,0], y = [1,1,1,0,0] (n = 3 each), θ = 7/9 (above).
    # Normalised placements of x among y: 1.5/3, 2.5/3, 3/3 = 1/2, 5/6, 1; mean 7/9.
    #   deviations −5/18, 1/18, 4/18 → Σ² = 42/324 → v_x = 42/324 / 2 = 7/108
    # Placements of y among x: 0, 0.5/3, 1.5/3 = 0, 1/6, 1/2; mean 2/9 = 1 − θ.
    #   deviations −4/18, −1/18, 5/18 → Σ² = 42/324 → v_y = 7/108
    # SE² = v_x/3 + v_y/3 = 14/324 = 7/162
    # T = (7/9 − 1/2)/SE = (5/18)/√(7/162);  T² = (25/324)·(162/7) = 25/14
    # df = SE⁴ / ((7/324)²/2 + (7/324)²/2) = (14/324)² / (7/324)² = 4
    # For 4 df, F(t) = ½ + (3/8)·s·(1 − s²/12) with s = t/√(1 + t²/4); here s² = (25/14)/(81/56) = 100/81,
    # s = 10/9, so F = ½ + (3/8)(10/9)(1 − 100/972) = ½ + 26160/69984 and p = 2(1 − F) = 8832/34992.
    result = brunner_munzel([0, 1, 1, 1, 0], [1, 1, 1, 0, 0])
    assert result.insufficient is None
    assert result.theta == pytest.approx(7 / 9, abs=1e-15)
    assert result.statistic == pytest.approx(math.sqrt(25 / 14), abs=1e-12)
    assert result.df == pytest.approx(4.0, abs=1e-12)
    assert result.p_value == pytest.approx(float(Fraction(8832, 34992)), abs=1e-12)
    # 95% interval: 7/9 ± t(4; 0.975)·√(7/162) = 0.777778 ± 2.776445·0.207870 = 0.777778 ± 0.577139:
    # the upper end 1.354917 is cut to 1, where θ ends.
    assert result.ci_low == pytest.approx(7 / 9 - 2.776445105 * math.sqrt(7 / 162), abs=1e-9)
    assert result.ci_low == pytest.approx(0.200639, abs=1e-6)
    assert result.ci_high == 1.0
    # the other way round, θ = 2/9 and the interval's lower end −0.354917 is cut to 0
    mirrored = brunner_munzel([1, 1, 1, 0, 0], [0, 1, 1, 1, 0])
    assert (mirrored.ci_low, mirrored.ci_high) == (0.0, pytest.approx(1 - 0.200639, abs=1e-6))


def test_brunner_munzel_pain_scores_published() -> None:
    # Brunner & Munzel (2000), corrected in Neubert & Brunner (2007); R's lawstat and brunnermunzel
    # print: statistic 3.1375, df 17.683, p-value 0.005786, 95% CI 0.5952169 0.9827052,
    # P(X<Y)+.5*P(X=Y) 0.788961 for brunner.munzel.test(Y, N) — our θ of N against Y.
    result = brunner_munzel(PAIN_N, PAIN_Y)
    assert (result.n_x, result.n_y) == (11, 14)
    assert result.theta == pytest.approx(0.788961, abs=1e-6)
    assert result.statistic == pytest.approx(3.1375, abs=1e-4)
    assert result.df == pytest.approx(17.683, abs=1e-3)
    assert result.p_value == pytest.approx(0.005786, abs=1e-6)
    assert result.ci_low == pytest.approx(0.5952169, abs=1e-7)
    assert result.ci_high == pytest.approx(0.9827052, abs=1e-7)
    # the other way round: θ and the interval mirror about ½, T changes sign, p stays
    other = brunner_munzel(PAIN_Y, PAIN_N)
    assert other.theta == pytest.approx(1 - result.theta, abs=1e-12)
    assert other.statistic == pytest.approx(-result.statistic, abs=1e-12)
    assert other.p_value == pytest.approx(result.p_value, abs=1e-12)
    assert other.ci_low == pytest.approx(1 - result.ci_high, abs=1e-12)


def test_brunner_munzel_worked_example_of_the_docs() -> None:
    # docs/statistics.md: x = [0,0,2,6,2] against y = [0,2,4,4,0], n = 10 each.
    # x among y: level 3 → (2 + 4/2)/10 = 0.4, level 4 → (6 + 4/2)/10 = 0.8, level 5 → 1.0
    #   θ = (2·0.4 + 6·0.8 + 2·1.0)/10 = 0.76; v_x = (2·0.36² + 6·0.04² + 2·0.24²)/9 = 0.384/9
    # y among x: level 2 → 0, level 3 → (0 + 2/2)/10 = 0.1, level 4 → (2 + 6/2)/10 = 0.5; mean 0.24
    #   v_y = (2·0.24² + 4·0.14² + 4·0.26²)/9 = 0.464/9
    # SE² = (0.384 + 0.464)/90 = 0.0094222; T = 0.26/0.097068 = 2.6785
    # df = SE⁴ / ((0.384/90)² / 9 + (0.464/90)² / 9) = 17.841; p = 0.0154
    # 95% interval 0.76 ± t(17.841; 0.975)·SE = 0.76 ± 2.10226·0.097068 = 0.556 … 0.964
    se = math.sqrt((0.384 + 0.464) / 90)
    result = brunner_munzel([0, 0, 2, 6, 2], [0, 2, 4, 4, 0])
    assert result.theta == pytest.approx(0.76, abs=1e-12)
    assert result.statistic == pytest.approx(0.26 / se, abs=1e-12)
    assert result.statistic == pytest.approx(2.6785, abs=1e-4)
    assert result.df == pytest.approx(se**4 / (((0.384 / 90) ** 2 + (0.464 / 90) ** 2) / 9), abs=1e-9)
    assert result.df == pytest.approx(17.841, abs=1e-3)
    assert result.p_value == pytest.approx(0.0154, abs=1e-4)
    assert result.ci_low == pytest.approx(0.76 - 2.1022631 * se, abs=1e-7)
    assert (round(result.ci_low, 3), round(result.ci_high, 3)) == (0.556, 0.964)
    assert compare([0, 0, 2, 6, 2], [0, 2, 4, 4, 0]).verdict == "higher"


@settings(max_examples=300, deadline=None)
@given(counts_5, counts_5, st.sampled_from([0.05, 0.1, 0.01]))
def test_brunner_munzel_agrees_with_scipy_and_the_rank_formula(
    x: list[int], y: list[int], alpha: float
) -> None:
    assume(sum(x) >= 2 and sum(y) >= 2)
    result = brunner_munzel(x, y, confidence=1 - alpha)
    a, b = expand(x), expand(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy divides by zero in the degenerate cases
        theirs = stats.brunnermunzel(a, b)
    if not np.isfinite(theirs.statistic):
        assert result.insufficient is not None
        assert result.statistic is result.p_value is result.df is result.ci_low is None
        return
    assert result.insufficient is None
    # scipy estimates P(X<Y)+½P(X=Y) = 1 − θ, so its statistic is ours with the sign turned
    assert result.statistic == pytest.approx(-theirs.statistic, rel=1e-9, abs=1e-12)
    assert result.p_value == pytest.approx(theirs.pvalue, rel=1e-9, abs=1e-12)
    reference = reference_brunner_munzel(a, b, alpha)
    assert result.theta == pytest.approx(reference["theta"], abs=1e-12)
    assert result.df == pytest.approx(reference["df"], rel=1e-9)
    assert result.ci_low == pytest.approx(reference["ci_low"], abs=1e-9)
    assert result.ci_high == pytest.approx(reference["ci_high"], abs=1e-9)


@pytest.mark.parametrize(
    ("x", "y", "reason"),
    [
        ([1, 0, 0, 0, 0], [3, 4, 0, 0, 0], "n = 1 and n = 7; the test needs at least 2"),
        ([0, 0, 0, 0, 0], [3, 4, 0, 0, 0], "n = 0 and n = 7"),
        ([0, 0, 20, 0, 0], [0, 0, 30, 0, 0], "no variance to estimate the error from (both groups at one"),
        (
            [0, 0, 0, 12, 9],
            [5, 20, 0, 0, 0],
            "no variance to estimate the error from (the groups do not overlap)",
        ),
        ([5, 20, 0, 0, 0], [0, 0, 0, 12, 9], "the groups do not overlap"),
    ],
)
def test_brunner_munzel_says_when_there_is_nothing_to_test(x: list[int], y: list[int], reason: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero, no nan, no warning
        result = brunner_munzel(x, y)
    assert result.insufficient is not None
    assert reason in result.insufficient
    assert result.statistic is result.df is result.p_value is result.ci_low is result.ci_high is None


def test_brunner_munzel_one_group_at_one_level_is_a_test() -> None:
    # x all at level 3 has no placement variance, but y's spread is enough: df = n_y − 1.
    # y = [2,0,0,0,2]: placements of y among x are 0 and 1 → θ = ½, T = 0, p = 1.
    result = brunner_munzel([0, 0, 5, 0, 0], [2, 0, 0, 0, 2])
    assert result.insufficient is None
    assert result.theta == 0.5
    assert result.statistic == 0.0
    assert result.p_value == pytest.approx(1.0)
    assert result.df == pytest.approx(3.0)


def test_brunner_munzel_rejects_a_bad_confidence() -> None:
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        brunner_munzel(PAIN_N, PAIN_Y, confidence=95)


# ---------------------------------------------------------------- Benjamini–Hochberg

#: Benjamini & Hochberg (1995), JRSS B 57(1), p. 298: the 15 ordered p-values of the myocardial
#: infarction study; at q* = 0.05 the procedure rejects the four smallest (Bonferroni only three).
BH_1995 = [
    0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
    0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0000,
]  # fmt: skip


def test_benjamini_hochberg_published_example() -> None:
    # Step-up at q* = 0.05: the largest i with p_(i) ≤ i·0.05/15 is i = 4 (0.0095 ≤ 0.01333;
    # 0.0201 > 0.01667, 0.0278 > 0.02, … 0.0459 > 0.03), so exactly the first four are rejected.
    q = benjamini_hochberg(BH_1995)
    assert [value <= 0.05 for value in q] == [True] * 4 + [False] * 11
    assert sum(p <= 0.05 / 15 for p in BH_1995) == 3  # Bonferroni, for contrast
    # q_(4) = 15·0.0095/4 = 0.035625 (the later 15·p_(j)/j are larger);
    # q_(5) = min over j ≥ 5 of 15·p_(j)/j = min(0.0603, 0.0695, 0.0639, 0.0645, 0.0765, …) = 0.0603
    assert q[3] == pytest.approx(0.035625, abs=1e-12)
    assert q[4] == pytest.approx(0.0603, abs=1e-12)
    assert q == pytest.approx(list(stats.false_discovery_control(BH_1995)), abs=1e-12)


def test_benjamini_hochberg_by_hand_in_the_order_given() -> None:
    # sorted 0.005, 0.01, 0.03, 0.04 (m = 4): 4·0.005/1 = 0.02, 4·0.01/2 = 0.02, 4·0.03/3 = 0.04, 4·0.04/4 = 0.04
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # the running minimum from the top: 3·0.021/3 = 0.021 caps 3·0.02/2 = 0.03 and 3·0.01/1 = 0.03
    assert benjamini_hochberg([0.01, 0.02, 0.021]) == pytest.approx([0.021, 0.021, 0.021])
    assert benjamini_hochberg([0.9, 0.8]) == pytest.approx([0.9, 0.9])
    assert benjamini_hochberg([0.3]) == [0.3]
    assert benjamini_hochberg([]) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_benjamini_hochberg_agrees_with_scipy(p_values: list[float]) -> None:
    assert benjamini_hochberg(p_values) == pytest.approx(
        list(stats.false_discovery_control(p_values)), abs=1e-12
    )


@pytest.mark.parametrize("bad", [math.nan, -0.1, 1.5])
def test_benjamini_hochberg_rejects_what_is_not_a_p_value(bad: float) -> None:
    with pytest.raises(ValueError, match="p-values must be between 0 and 1"):
        benjamini_hochberg([0.1, bad])


# ---------------------------------------------------------------- van der Eijk's A


def test_agreement_ideal_types() -> None:
    # one level: one layer, S = 1 → A = 1
    assert van_der_eijk_agreement([0, 0, 9, 0, 0]) == 1.0
    # uniform: one layer, S = K = 5 → A = U·(1 − 4/4) = 0
    assert van_der_eijk_agreement([4, 4, 4, 4, 4]) == 0.0
    # half at 1, half at 5: one layer, pattern 10001. Triples i<j<k with a 1-0-1 pattern:
    # (1,2,5), (1,3,5), (1,4,5) → TDU = 3; none is 110 or 011 → TU = 0.
    # U = (3·0 − 4·3)/(3·3) = −4/3; A = −4/3 · (1 − 1/4) = −1
    assert van_der_eijk_agreement([6, 0, 0, 0, 6]) == pytest.approx(-1.0, abs=1e-15)
    assert van_der_eijk_agreement([0, 0, 0, 0, 0]) is None


def test_agreement_mixed_case_by_hand() -> None:
    # counts [3, 0, 5, 1, 1], n = 10; K = 5, so U = (3·TU − 4·TDU) / (3·(TU + TDU)).
    # Layer 1: smallest non-zero count 1 from each of levels 1, 3, 4, 5 → pattern 10111, 4 answers.
    #   Triples: (1,2,3) (1,2,4) (1,2,5) are 101 → TDU = 3; (2,3,4) (2,3,5) (2,4,5) are 011 → TU = 3;
    #   (1,3,4) (1,3,5) (1,4,5) (3,4,5) are 111 (not counted).
    #   U = (9 − 12)/(3·6) = −1/6; S = 4 → A₁ = −1/6 · (1 − 3/4) = −1/24; weight 4/10.
    # Remainder [2, 0, 4, 0, 0]; layer 2: 2 from levels 1 and 3 → pattern 10100, 4 answers.
    #   Triples: (1,2,3) is 101 → TDU = 1; (1,3,4) (1,3,5) are 110 → TU = 2; the rest hold one 1 or none.
    #   U = (6 − 4)/(3·3) = 2/9; S = 2 → A₂ = 2/9 · 3/4 = 1/6; weight 4/10.
    # Remainder [0, 0, 2, 0, 0]; layer 3: pattern 00100, S = 1 → A₃ = 1; weight 2/10.
    # A = 0.4·(−1/24) + 0.4·(1/6) + 0.2·1 = −1/60 + 4/60 + 12/60 = 15/60 = 0.25
    assert van_der_eijk_agreement([3, 0, 5, 1, 1]) == pytest.approx(0.25, abs=1e-12)


def test_agreement_paper_example_on_seven_categories() -> None:
    # van der Eijk (2001), p. 331: frequencies 30, 40, 210, 130, 530, 50, 10 on a 7-point scale peel
    # into seven layers with agreement 0, 1/6, 1/3, 1/2, 2/3, 0.467 (pattern 0010100: U = 14/25, A = 14/25·5/6)
    # and 1, weighted 70, 120, 50, 40, 240, 160, 320 of 1000 → A = 0.6113 (R's agrmt: 0.6113333).
    expected = (120 / 6 + 50 / 3 + 40 / 2 + 240 * 2 / 3 + 160 * (14 / 25) * (5 / 6) + 320) / 1000
    assert expected == pytest.approx(0.6113333, abs=1e-7)
    assert _layered_agreement([30, 40, 210, 130, 530, 50, 10]) == pytest.approx(expected, abs=1e-12)


def test_agreement_checks_its_counts() -> None:
    with pytest.raises(ValueError, match="expected 5 level counts"):
        van_der_eijk_agreement([1, 2, 3])
    with pytest.raises(ValueError, match="must not be negative"):
        van_der_eijk_agreement([1, -2, 3, 0, 0])


# ---------------------------------------------------------------- verdicts


def test_compare_pain_scores_higher_and_lower() -> None:
    result = compare(PAIN_N, PAIN_Y)
    assert isinstance(result, Comparison)
    assert isinstance(result.test, BrunnerMunzel)
    assert result.verdict == "higher"
    assert result.q_value == result.test.p_value  # a family of one
    # mean levels: N = (3·1 + 1·2 + 4·3 + 2·4 + 1·5)/11 = 30/11; Y = (11 + 4 + 4)/14 = 19/14
    assert result.mean_difference == pytest.approx(30 / 11 - 19 / 14, abs=1e-12)
    assert (result.alpha, result.practical, result.min_n) == (0.05, 0.56, 10)
    assert "θ = 0.789" in result.reason
    assert "q = 0.00579" in result.reason
    assert compare(PAIN_Y, PAIN_N).verdict == "lower"


def test_compare_same_distribution_is_no_detectable_difference() -> None:
    result = compare([2, 3, 5, 3, 2], [4, 6, 10, 6, 4])
    assert result.test.theta == 0.5
    assert result.test.p_value == pytest.approx(1.0)
    assert result.verdict == "no detectable difference"
    assert result.mean_difference == 0.0


def test_compare_needs_a_practical_difference_not_only_a_small_p() -> None:
    # 2800 of 5000 at level 4 (rest at 3) against 2500 of 5000:
    # θ = P(X>Y) + ½P(X=Y) = 0.56·0.5 + ½·(0.56·0.5 + 0.44·0.5) = 0.28 + 0.25 = 0.53: tiny, yet p ≈ 1e-9
    x, y = [0, 0, 2200, 2800, 0], [0, 0, 2500, 2500, 0]
    result = compare(x, y)
    assert result.test.theta == pytest.approx(0.53, abs=1e-12)
    assert result.test.p_value < 1e-6
    assert result.verdict == "no detectable difference"
    assert "below a practical difference" in result.reason
    assert compare(x, y, practical=0.5).verdict == "higher"


def test_compare_practical_edge_is_symmetric() -> None:
    # θ = 0.44 and 0.56 exactly (see the Vargha–Delaney test), with thousands of answers: significant,
    # and on the edge of the practical band on both sides.
    x, y = [0, 0, 1000, 0, 0], [1000, 0, 200, 1300, 0]
    assert compare(x, y).test.theta == 0.44
    assert compare(x, y).verdict == "lower"
    assert compare(y, x).verdict == "higher"


def test_compare_small_groups_are_insufficient_evidence() -> None:
    # 9 against 12, every x above every y would be striking, but 9 < 10
    result = compare([0, 0, 0, 4, 5], [0, 12, 0, 0, 0])
    assert result.verdict == "insufficient evidence"
    assert result.reason == "n = 9 against n = 12; at least 10 in each group are needed"
    assert result.q_value is None
    assert compare([0, 0, 0, 4, 5], [0, 12, 0, 0, 0], min_n=5).verdict == "insufficient evidence"  # separated
    # the pain study under a minimum of 12: Y has 14 but N only 11
    assert compare(PAIN_N, PAIN_Y, min_n=12).verdict == "insufficient evidence"


def test_compare_degenerate_tests_are_insufficient_evidence() -> None:
    everybody_at_3 = compare([0, 0, 20, 0, 0], [0, 0, 31, 0, 0])
    assert everybody_at_3.verdict == "insufficient evidence"
    assert "both groups at one and the same level" in everybody_at_3.reason
    assert everybody_at_3.test.theta == 0.5
    separated = compare([0, 0, 0, 10, 10], [10, 10, 0, 0, 0])
    assert separated.verdict == "insufficient evidence"
    assert "do not overlap" in separated.reason
    assert separated.mean_difference == pytest.approx(3.0)


def test_compare_family_adjusts_across_the_family_in_order() -> None:
    same = ([2, 3, 5, 3, 2], [2, 3, 5, 3, 2])  # p = 1
    # alone, the pain comparison is "higher" (p = 0.005786); among 10 comparisons with p = 1 its
    # q = 11·0.005786 = 0.0636 > 0.05
    family = compare_family([same] * 5 + [(PAIN_N, PAIN_Y)] + [same] * 5)
    assert [c.verdict for c in family] == ["no detectable difference"] * 11
    assert family[5].q_value == pytest.approx(11 * 0.005786208666151469, abs=1e-12)
    p_values = [c.test.p_value for c in family]
    assert [c.q_value for c in family] == pytest.approx(benjamini_hochberg(p_values))  # type: ignore[arg-type]


def test_compare_family_leaves_insufficient_evidence_out_of_the_adjustment() -> None:
    same = ([2, 3, 5, 3, 2], [2, 3, 5, 3, 2])
    small = ([1, 2, 1, 0, 0], [0, 0, 1, 2, 1])  # n = 4: insufficient evidence, though it has a p-value
    # m = 8 tested comparisons: q = 8·0.005786 = 0.0463 ≤ 0.05 → still "higher"; had the 20 small
    # ones counted, q = 28·0.005786 = 0.162
    pairs = [small] * 10 + [(PAIN_N, PAIN_Y)] + [same] * 7 + [small] * 10
    family = compare_family(pairs)
    assert family[10].verdict == "higher"
    assert family[10].q_value == pytest.approx(8 * 0.005786208666151469, abs=1e-12)
    assert all(c.verdict == "insufficient evidence" and c.q_value is None for c in family[:10] + family[18:])
    assert all(c.test.p_value is not None for c in family[:10])
    assert [c.verdict for c in family[11:18]] == ["no detectable difference"] * 7


def test_compare_family_of_nothing_is_empty() -> None:
    assert compare_family([]) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"alpha": 0}, "alpha must be between 0 and 1"),
        ({"alpha": 1.5}, "alpha must be between 0 and 1"),
        ({"practical": 0.4}, "practical threshold for θ must be at least 0.5 and below 1"),
        ({"practical": 1.0}, "practical threshold"),
        ({"min_n": 1}, "min_n must be a whole number of at least 2"),
        ({"min_n": 10.0}, "min_n must be a whole number"),
    ],
)
def test_compare_rejects_bad_settings(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compare(PAIN_N, PAIN_Y, **options)  # type: ignore[arg-type]


def test_compare_checks_its_counts() -> None:
    with pytest.raises(ValueError, match="expected 5 level counts"):
        compare([1, 2, 3, 4], PAIN_Y)
    with pytest.raises(ValueError, match="must not be negative"):
        compare_family([(PAIN_N, PAIN_Y), (PAIN_N, [1, 1, -1, 1, 1])])
