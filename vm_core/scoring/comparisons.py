"""Comparisons of two groups' level counts that respect ordinal data: pure functions, published definitions.

Two groups (party vs party, perspective vs perspective, cycle vs cycle) are compared by the
probability of superiority θ = P(X > Y) + ½·P(X = Y) — how likely a random member of the first
group picks a higher level than a random member of the second, ties halved — with the
Brunner–Munzel test and its confidence interval for θ, the Benjamini–Hochberg adjustment across
a family of comparisons (a heatmap's), and a verdict that also asks for a *practical* size of
difference (Vargha & Delaney's bands for θ). Van der Eijk's agreement A describes one group's
counts beside Tastle–Wierman consensus. Nothing here averages Likert levels into a t-test: the
mean difference is reported for reading, never tested. ``docs/statistics.md`` has every formula,
reference and a worked example.

Every function takes level counts ``l1..l5`` (as :mod:`vm_core.scoring.statistics`) and works on
them directly; nothing is expanded to one value per respondent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from vm_core.scoring.statistics import _checked, mean_level

Verdict = Literal["higher", "lower", "no detectable difference", "insufficient evidence"]
Magnitude = Literal["negligible", "small", "medium", "large"]

#: Vargha & Delaney (2000) bands for θ (their A measure): |θ − ½| from 0.06, 0.14 and 0.21 is a
#: small, medium and large difference (the values of A that match Cohen's d = 0.2, 0.5, 0.8).
VARGHA_DELANEY_SMALL = 0.56
VARGHA_DELANEY_MEDIUM = 0.64
VARGHA_DELANEY_LARGE = 0.71

#: Default practical threshold: a difference counts when θ ≥ 0.56 (or ≤ 0.44), Vargha & Delaney's "small".
PRACTICAL_THETA = VARGHA_DELANEY_SMALL
#: Default significance level for the Benjamini–Hochberg q-value (and 1 − the confidence of the interval).
ALPHA = 0.05
#: Default smallest group compared: below 10 per group the t-approximation of the Brunner–Munzel test
#: is not trusted (Neubert & Brunner 2007 recommend a permutation test there).
MIN_N = 10


# ---------------------------------------------------------------- probability of superiority


def _doubled_placements(other: Sequence[int]) -> list[int]:
    """Per level, twice its placement among ``other``: 2·(#other below the level) + #other at the level.

    The placement of an answer among the other group is how many of the other group's answers it
    beats, a tie counting ½ (Brunner & Munzel's R_ik − R^(i)_ik, overall minus internal midrank).
    Doubled, it is an integer, so the sums below are exact.
    """
    placements, below = [], 0
    for at in other:
        placements.append(2 * below + at)
        below += at
    return placements


def superiority(x: Sequence[int], y: Sequence[int]) -> float | None:
    """Probability of superiority θ = P(X > Y) + ½·P(X = Y) of two independent groups' level counts.

    θ = Σ_i x_i·(Σ_{j<i} y_j + ½·y_i) / (n_x·n_y): the share of the n_x·n_y pairs (one answer from
    each group) in which x's answer is the higher level, ties counting ½. ½ means neither group tends
    to answer higher; 1 that every x answer is above every y answer. None when a group is empty.

    Vargha, A. & Delaney, H.D. (2000) "A critique and improvement of the CL common language effect
    size statistics of McGraw and Wong", Journal of Educational and Behavioral Statistics 25(2),
    101–132 (their A measure); Brunner & Munzel (2000) call it the relative effect p (with X, Y swapped).
    """
    xs, ys = _checked(x), _checked(y)
    n_x, n_y = sum(xs), sum(ys)
    if n_x == 0 or n_y == 0:
        return None
    wins = sum(c * p for c, p in zip(xs, _doubled_placements(ys), strict=True))
    return wins / (2 * n_x * n_y)


def vargha_delaney_magnitude(theta: float) -> Magnitude:
    """How large θ's departure from ½ is, in Vargha & Delaney's (2000) bands (symmetric about ½)."""
    if not 0 <= theta <= 1:
        raise ValueError(f"θ must be between 0 and 1, got {theta!r}")
    if _reaches(theta, VARGHA_DELANEY_LARGE):
        return "large"
    if _reaches(theta, VARGHA_DELANEY_MEDIUM):
        return "medium"
    if _reaches(theta, VARGHA_DELANEY_SMALL):
        return "small"
    return "negligible"


def _reaches(theta: float, threshold: float) -> bool:
    """|θ − ½| ≥ threshold − ½: θ is at least ``threshold`` or at most 1 − ``threshold``.

    With a tolerance far below any count's resolution, because binary floats hold 0.56 and θ = 14/25
    only approximately, and 1 − 0.56 is not 0.44 (a θ on a band's edge belongs to the band).
    """
    return abs(theta - 0.5) >= threshold - 0.5 - 1e-12


# ---------------------------------------------------------------- Brunner–Munzel


@dataclass(frozen=True)
class BrunnerMunzel:
    """The Brunner–Munzel test of H0: θ = ½ for level counts ``x`` against ``y``.

    ``statistic`` = (θ − ½)/SE is positive when x tends to answer higher (scipy's
    ``brunnermunzel(x, y)`` reports the same number with the opposite sign: it estimates
    P(X < Y) + ½·P(X = Y)); ``df`` is the Satterthwaite degrees of freedom; ``p_value`` is
    two-sided; ``ci_low``/``ci_high`` bound θ with confidence ``confidence``.

    ``insufficient`` says, in one line, why there is not enough evidence to test — a group with
    fewer than 2 answers, or no variance to estimate the error from (both groups at one and the same
    level, or every x answer above every y answer or every one below) — and then ``statistic``,
    ``df``, ``p_value`` and the interval are None. ``theta`` is None only when a group is empty.
    """

    n_x: int
    n_y: int
    theta: float | None
    statistic: float | None
    df: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    insufficient: str | None


def t_test(statistic: float, df: float, se: float, confidence: float) -> tuple[float, float]:
    """(two-sided p of ``statistic`` on Student's t with ``df``, the half-width of its ``confidence`` interval)."""
    # scipy.special is imported here, not at module level: it costs a third of a second, and most
    # importers of vm_core.scoring never compare.
    from scipy.special import stdtr, stdtrit

    p_value = min(1.0, 2 * float(stdtr(df, -abs(statistic))))
    return p_value, float(stdtrit(df, 1 - (1 - confidence) / 2)) * se


def brunner_munzel(x: Sequence[int], y: Sequence[int], *, confidence: float = 1 - ALPHA) -> BrunnerMunzel:
    """Brunner–Munzel test and t-approximation confidence interval for θ, from level counts.

    With the placements P_k of each x answer among y (see :func:`superiority`) normalised to
    [0, 1] by n_y, and likewise for y among x:

    * θ̂ = mean normalised placement of x;
    * v_x, v_y = the sample variances (divisor n − 1) of the normalised placements;
    * SE² = v_x/n_x + v_y/n_y; statistic T = (θ̂ − ½)/SE;
    * df = SE⁴ / ((v_x/n_x)²/(n_x − 1) + (v_y/n_y)²/(n_y − 1)) (Satterthwaite);
    * p = 2·P(t_df > |T|); interval θ̂ ± t_{df, 1−(1−confidence)/2}·SE, cut to [0, 1] where θ lives.

    This is Brunner & Munzel's statistic W_N^BF and its t-approximation, with the rank variances
    written through placements (R_ik − R^(i)_ik); on their pain-score case study it gives
    T = 3.1375, df = 17.683, p = 0.0058 and interval 0.595–0.983, the figures of Neubert &
    Brunner (2007), who corrected a misprint in the 2000 paper's example (``tests/test_comparisons.py``).

    Brunner, E. & Munzel, U. (2000) "The nonparametric Behrens–Fisher problem: asymptotic theory
    and a small-sample approximation", Biometrical Journal 42(1), 17–25.
    Neubert, K. & Brunner, E. (2007) "A studentized permutation test for the non-parametric
    Behrens–Fisher problem", Computational Statistics & Data Analysis 51(10), 5192–5204.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    xs, ys = _checked(x), _checked(y)
    n_x, n_y = sum(xs), sum(ys)
    theta = superiority(xs, ys)

    def insufficient(reason: str) -> BrunnerMunzel:
        return BrunnerMunzel(n_x, n_y, theta, None, None, None, None, None, confidence, reason)

    if n_x < 2 or n_y < 2:
        return insufficient(f"groups of n = {n_x} and n = {n_y}; the test needs at least 2 answers in each")
    assert theta is not None
    # Exact integer sums of squared deviations of the doubled placements (scaled by n): a zero
    # variance is then exactly zero, never a rounding residue that would make SE look tiny.
    ss_x = _scaled_sum_of_squares(xs, _doubled_placements(ys))
    ss_y = _scaled_sum_of_squares(ys, _doubled_placements(xs))
    if ss_x == 0 and ss_y == 0:
        where = "both groups at one and the same level" if theta == 0.5 else "the groups do not overlap"
        return insufficient(f"no variance to estimate the error from ({where})")
    # v = Σ c·(u/(2·n_other) − mean)² / (n − 1) with u the doubled placement; ss = Σ c·(n·u − Σu)².
    term_x = ss_x / ((2 * n_x * n_y) ** 2 * (n_x - 1)) / n_x  # v_x / n_x
    term_y = ss_y / ((2 * n_x * n_y) ** 2 * (n_y - 1)) / n_y  # v_y / n_y
    se = math.sqrt(term_x + term_y)
    statistic = (theta - 0.5) / se
    df = (term_x + term_y) ** 2 / (term_x**2 / (n_x - 1) + term_y**2 / (n_y - 1))
    p_value, half_width = t_test(statistic, df, se, confidence)
    return BrunnerMunzel(
        n_x,
        n_y,
        theta,
        statistic,
        df,
        p_value,
        max(0.0, theta - half_width),
        min(1.0, theta + half_width),
        confidence,
        None,
    )


def _scaled_sum_of_squares(counts: Sequence[int], doubled: Sequence[int]) -> int:
    """Σ c·(n·u − Σ c·u)² over levels: n² · (2·n_other)² times the squared deviations of the placements."""
    n = sum(counts)
    total = sum(c * u for c, u in zip(counts, doubled, strict=True))
    return sum(c * (n * u - total) ** 2 for c, u in zip(counts, doubled, strict=True))


# ---------------------------------------------------------------- Benjamini–Hochberg


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values) of a family, in the order given.

    With the m p-values sorted p_(1) ≤ … ≤ p_(m): q_(i) = min_{j ≥ i} min(1, m·p_(j)/j). Rejecting
    every hypothesis with q ≤ α is the step-up procedure that keeps the expected share of false
    discoveries among the discoveries at most α (for independent or positively dependent tests).

    Benjamini, Y. & Hochberg, Y. (1995) "Controlling the false discovery rate: a practical and
    powerful approach to multiple testing", JRSS B 57(1), 289–300.
    """
    values = [float(p) for p in p_values]
    for p in values:
        if not 0 <= p <= 1:  # also rejects nan
            raise ValueError(f"p-values must be between 0 and 1, got {p!r}")
    m = len(values)
    order = sorted(range(m), key=values.__getitem__)
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):  # from the largest p down, keeping the running minimum
        index = order[rank - 1]
        running = min(running, m * values[index] / rank)
        adjusted[index] = running
    return adjusted


# ---------------------------------------------------------------- van der Eijk's agreement A


def van_der_eijk_agreement(counts: Sequence[int]) -> float | None:
    """Van der Eijk's agreement A of the counts ``l1..l5``: 1 all at one level, 0 uniform, −1 split between the ends.

    The counts are peeled into *layers*: each layer takes the smallest non-zero count from every
    level still non-zero, so it is a uniform distribution over its pattern of occupied levels. A
    pattern over K = 5 levels with S occupied has agreement A = U·(1 − (S − 1)/(K − 1)), where the
    unimodality U = ((K − 2)·TU − (K − 1)·TDU) / ((K − 2)·(TU + TDU)) counts, over every triple of
    levels i < j < k, the triples patterned 110 or 011 (TU, unimodal) and 101 (TDU, bimodal);
    S = 1 gives A = 1 and S = K gives A = 0. The counts' A is the layers' A weighted by the share
    of answers in each layer. None when nobody gave a level.

    van der Eijk, C. (2001) "Measuring agreement in ordered rating scales", Quality & Quantity
    35(3), 325–341 (equation 2, p. 332; the layers, p. 331).
    """
    return _layered_agreement(_checked(counts))


def _layered_agreement(frequencies: Sequence[int]) -> float | None:
    """Agreement A of a frequency vector over any K ≥ 3 ordered categories (the paper's own examples use K = 7)."""
    n = sum(frequencies)
    if n == 0:
        return None
    remainder = list(frequencies)
    total = 0.0
    while any(remainder):
        depth = min(c for c in remainder if c)
        pattern = [c > 0 for c in remainder]
        total += sum(pattern) * depth / n * _pattern_agreement(pattern)
        remainder = [c - depth if c else 0 for c in remainder]
    return total


def _pattern_agreement(pattern: Sequence[bool]) -> float:
    k, s = len(pattern), sum(pattern)
    if s == 1:
        return 1.0
    if s == k:
        return 0.0
    tu = tdu = 0
    for i in range(k - 2):
        for j in range(i + 1, k - 1):
            for m in range(j + 1, k):
                triple = (pattern[i], pattern[j], pattern[m])
                if triple == (True, False, True):
                    tdu += 1
                elif triple in ((True, True, False), (False, True, True)):
                    tu += 1
    # 1 < S < K: two occupied levels are either apart (a 101 triple) or, with an empty level
    # beyond them, adjacent (a 110 or 011 triple), so TU + TDU > 0.
    unimodality = ((k - 2) * tu - (k - 1) * tdu) / ((k - 2) * (tu + tdu))
    return unimodality * (1 - (s - 1) / (k - 1))


# ---------------------------------------------------------------- comparisons and verdicts


@dataclass(frozen=True)
class Comparison:
    """Group x against group y: the test, the mean difference, the family's q-value and the verdict.

    ``verdict`` reads as "x is … than y": **higher** / **lower** when the Benjamini–Hochberg
    q-value is at most ``alpha`` *and* θ is at least ``practical`` (higher) or at most
    1 − ``practical`` (lower); **insufficient evidence** when a group has fewer than ``min_n``
    answers or the test could not be done (``test.insufficient``); otherwise **no detectable
    difference** (which includes a statistically significant difference smaller than the practical
    threshold). ``q_value`` is None when the comparison took no part in the family's adjustment
    (insufficient evidence). ``reason`` is the verdict's evidence in one line.

    ``mean_difference`` = mean level of x − mean level of y, in levels, shown for reading only:
    levels are ordered categories, so no verdict rests on it.
    """

    test: BrunnerMunzel
    mean_difference: float | None
    q_value: float | None
    alpha: float
    practical: float
    min_n: int
    verdict: Verdict
    reason: str


def compare(
    x: Sequence[int],
    y: Sequence[int],
    *,
    alpha: float = ALPHA,
    practical: float = PRACTICAL_THETA,
    min_n: int = MIN_N,
) -> Comparison:
    """One comparison of level counts x against y (a family of one: q = p); see :class:`Comparison`."""
    return compare_family([(x, y)], alpha=alpha, practical=practical, min_n=min_n)[0]


def compare_family(
    pairs: Iterable[tuple[Sequence[int], Sequence[int]]],
    *,
    alpha: float = ALPHA,
    practical: float = PRACTICAL_THETA,
    min_n: int = MIN_N,
) -> list[Comparison]:
    """Comparisons of every (x, y) pair, Benjamini–Hochberg adjusted across the family, in the order given.

    The family is the comparisons that are tested: a pair with a group below ``min_n`` or a test
    that could not be done has insufficient evidence, takes no part in the adjustment, and does not
    make the others' q-values larger. Each interval has confidence 1 − ``alpha`` and is not adjusted.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    if not 0.5 <= practical < 1:
        raise ValueError(f"practical threshold for θ must be at least 0.5 and below 1, got {practical!r}")
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 2:
        raise ValueError(f"min_n must be a whole number of at least 2, got {min_n!r}")
    checked = [(_checked(x), _checked(y)) for x, y in pairs]
    tests = [brunner_munzel(x, y, confidence=1 - alpha) for x, y in checked]
    tested = [i for i, t in enumerate(tests) if _shortfall(t, min_n) is None]
    q_values: dict[int, float] = dict(
        zip(tested, benjamini_hochberg([_p(tests[i]) for i in tested]), strict=True)
    )
    comparisons = []
    for i, ((x, y), test) in enumerate(zip(checked, tests, strict=True)):
        q = q_values.get(i)
        verdict, reason = _verdict(test, q, alpha=alpha, practical=practical, min_n=min_n)
        mean_x, mean_y = mean_level(x), mean_level(y)
        difference = None if mean_x is None or mean_y is None else mean_x - mean_y
        comparisons.append(Comparison(test, difference, q, alpha, practical, min_n, verdict, reason))
    return comparisons


def _p(test: BrunnerMunzel) -> float:
    assert test.p_value is not None  # only tests without a shortfall reach here
    return test.p_value


def _shortfall(test: BrunnerMunzel, min_n: int) -> str | None:
    """Why the evidence is insufficient, or None when the test's p-value may decide."""
    if test.n_x < min_n or test.n_y < min_n:
        return f"n = {test.n_x} against n = {test.n_y}; at least {min_n} in each group are needed"
    return test.insufficient


def _verdict(
    test: BrunnerMunzel, q: float | None, *, alpha: float, practical: float, min_n: int
) -> tuple[Verdict, str]:
    shortfall = _shortfall(test, min_n)
    if shortfall is not None:
        return "insufficient evidence", shortfall
    assert test.theta is not None  # a test without a shortfall has θ …
    assert q is not None  # … and took part in the family's adjustment
    evidence = (
        f"θ = {test.theta:.3f} ({test.confidence:.0%} CI {test.ci_low:.3f}–{test.ci_high:.3f}), "
        f"p = {test.p_value:.3g}, q = {q:.3g}, n = {test.n_x} against {test.n_y}"
    )
    if q > alpha:
        return "no detectable difference", f"{evidence}: q above α = {alpha:g}"
    if _reaches(test.theta, practical) and test.theta > 0.5:
        return "higher", f"{evidence}: q ≤ α = {alpha:g} and θ ≥ {practical:g}"
    if _reaches(test.theta, practical) and test.theta < 0.5:
        return "lower", f"{evidence}: q ≤ α = {alpha:g} and θ ≤ {1 - practical:g}"
    return (
        "no detectable difference",
        f"{evidence}: significant, but θ within {1 - practical:g}–{practical:g}, below a practical difference",
    )
