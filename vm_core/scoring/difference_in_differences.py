"""Difference in differences of Value Codes' changes: did the codes an action worked on move more than the rest?

Between two cycles every Value Code of a group changes a little — people, events and the year
differ. An improvement action links some Value Codes; the question "did it work?" is whether
*those* codes moved more than the codes no action worked on moved over the same two cycles
(Angrist & Pischke 2009, ch. 5: the difference in differences, with the other codes as the
control group).

Per Value Code, the change between the two cycles is measured on the ordinal scale of every
other comparison here: θ = P(later answer > earlier answer) + ½·P(tie), from the two cells' level
counts (:func:`vm_core.scoring.comparisons.superiority`; ½ = no change). The Value Codes are the
units (Donald & Lang 2007): with m linked codes and K control codes,

* estimate δ = mean θ of the linked codes − mean θ of the control codes;
* s² = the sample variance (divisor K − 1) of the control codes' θ — how much a Value Code's
  change varies without an action, sampling noise and the code's own year included;
* SE = s·√(1/m + 1/K); T = δ / SE, compared with Student's t with K − 1 degrees of freedom
  (two-sided p, interval δ ± t·SE cut to [−1, 1]).

Under the null hypothesis each code's θ is its group's common shift plus noise that is
exchangeable across codes; the common shift cancels in δ and does not enter s². The variance comes
from the controls only (Conley & Taber 2011): the linked codes' spread includes how differently the
action worked on each of them, which is not noise. With m = 1 this is the pooled two-sample t-test
of one value against K (``scipy.stats.ttest_ind``, equal variances). The difference of mean levels
is reported beside it, for reading, never tested. ``docs/statistics.md`` has the why, the caveats
(parallel trends) and a worked example.

Angrist, J.D. & Pischke, J.-S. (2009) *Mostly Harmless Econometrics*, Princeton University Press,
ch. 5.2. Donald, S.G. & Lang, K. (2007) "Inference with difference-in-differences and other panel
data", Review of Economics and Statistics 89(2), 221–233. Conley, T.G. & Taber, C.R. (2011)
"Inference with 'difference in differences' with a small number of policy changes", Review of
Economics and Statistics 93(1), 113–125.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from vm_core.scoring.comparisons import ALPHA, PRACTICAL_THETA, benjamini_hochberg, superiority, t_test
from vm_core.scoring.statistics import _checked, mean_level

EffectVerdict = Literal["improved", "no detectable change", "declined", "not yet measurable"]
EFFECT_VERDICTS: tuple[EffectVerdict, ...] = (
    "improved",
    "no detectable change",
    "declined",
    "not yet measurable",
)

#: Fewest control codes: the spread of their changes needs at least two.
MIN_CONTROL_CODES = 2


@dataclass(frozen=True)
class CodeChange:
    """One Value Code's cell in one group, in the earlier and the later cycle (level counts ``l1..l5``)."""

    value_code: str
    before: tuple[int, ...]
    after: tuple[int, ...]

    def __post_init__(self) -> None:
        for counts in (self.before, self.after):
            if sum(_checked(counts)) == 0:
                raise ValueError(f"{self.value_code}: a change needs answers in both cycles")

    @property
    def theta(self) -> float:
        """θ of the later cell against the earlier one: above ½ the answers rose, below ½ they fell."""
        theta = superiority(self.after, self.before)
        assert theta is not None  # both cells have answers (checked above)
        return theta

    @property
    def mean_before(self) -> float:
        return _mean(self.before)

    @property
    def mean_after(self) -> float:
        return _mean(self.after)


def _mean(counts: Sequence[int]) -> float:
    value = mean_level(counts)
    assert value is not None
    return value


def _average(values: Sequence[float]) -> float:
    return sum(values) / len(values)


@dataclass(frozen=True)
class DifferenceInDifferences:
    """The linked codes' changes against the control codes' (module docstring), with the means for reading.

    ``estimate`` is δ on the θ scale; ``se``, ``statistic``, ``df``, ``p_value`` and the interval
    are None when ``insufficient`` says (in one line) why it cannot be tested: no linked code,
    fewer than :data:`MIN_CONTROL_CODES` control codes, or control codes that all changed by the
    same θ (no spread to measure against). The means are equal-weight averages of the codes' mean
    levels, so ``mean_difference`` = (linked after − before) − (control after − before), in levels.
    """

    linked: tuple[CodeChange, ...]
    control: tuple[CodeChange, ...]
    linked_theta: float | None
    control_theta: float | None
    estimate: float | None
    control_sd: float | None
    se: float | None
    statistic: float | None
    df: int | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    insufficient: str | None

    @property
    def linked_mean_before(self) -> float | None:
        return _average([c.mean_before for c in self.linked]) if self.linked else None

    @property
    def linked_mean_after(self) -> float | None:
        return _average([c.mean_after for c in self.linked]) if self.linked else None

    @property
    def control_mean_before(self) -> float | None:
        return _average([c.mean_before for c in self.control]) if self.control else None

    @property
    def control_mean_after(self) -> float | None:
        return _average([c.mean_after for c in self.control]) if self.control else None

    @property
    def mean_difference(self) -> float | None:
        """Linked codes' change of mean level minus the control codes', in levels (for reading only)."""
        if not self.linked or not self.control:
            return None
        linked = _average([c.mean_after - c.mean_before for c in self.linked])
        control = _average([c.mean_after - c.mean_before for c in self.control])
        return linked - control


def difference_in_differences(
    linked: Sequence[CodeChange], control: Sequence[CodeChange], *, confidence: float = 1 - ALPHA
) -> DifferenceInDifferences:
    """δ = mean θ of ``linked`` − mean θ of ``control``, tested against the control codes' spread (module docstring)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    linked, control = tuple(linked), tuple(control)
    shared = {c.value_code for c in linked} & {c.value_code for c in control}
    if shared:
        raise ValueError(f"a Value Code cannot be both linked and a control: {', '.join(sorted(shared))}")
    linked_theta = _average([c.theta for c in linked]) if linked else None
    control_theta = _average([c.theta for c in control]) if control else None
    estimate = None if linked_theta is None or control_theta is None else linked_theta - control_theta
    k = len(control)
    control_sd = (
        math.sqrt(sum((c.theta - control_theta) ** 2 for c in control) / (k - 1))
        if control_theta is not None and k >= MIN_CONTROL_CODES
        else None
    )

    def untested(reason: str) -> DifferenceInDifferences:
        return DifferenceInDifferences(
            linked, control, linked_theta, control_theta, estimate, control_sd,
            None, None, None, None, None, None, confidence, reason,
        )  # fmt: skip

    if not linked:
        return untested("no linked Value Code has two published cells to compare")
    if k < MIN_CONTROL_CODES:
        return untested(
            f"{k} Value Code{'' if k == 1 else 's'} without an action to compare with; "
            f"at least {MIN_CONTROL_CODES} are needed"
        )
    assert estimate is not None
    assert control_sd is not None
    if control_sd < 1e-12:  # θ of a count vector is a ratio of integers: equal ones are equal
        return untested(
            f"the {k} Value Codes without an action all changed alike: no spread to measure against"
        )
    se = control_sd * math.sqrt(1 / len(linked) + 1 / k)
    statistic = estimate / se
    df = k - 1
    p_value, half_width = t_test(statistic, df, se, confidence)
    return DifferenceInDifferences(
        linked,
        control,
        linked_theta,
        control_theta,
        estimate,
        control_sd,
        se,
        statistic,
        df,
        p_value,
        max(-1.0, estimate - half_width),
        min(1.0, estimate + half_width),
        confidence,
        None,
    )


# ---------------------------------------------------------------- verdicts across a family


@dataclass(frozen=True)
class Effect:
    """A difference in differences judged within its family: q-value, verdict and the evidence in one line.

    **improved** / **declined** when the Benjamini–Hochberg q-value is at most ``alpha`` and δ is at
    least ``practical − ½`` (or at most ``½ − practical``): the linked codes moved, relative to the
    others, by at least what makes a single change practical (θ ≥ 0.56 is Vargha & Delaney's
    "small"); **not yet measurable** when the contrast could not be tested
    (``contrast.insufficient``); otherwise **no detectable change**. ``q_value`` is None when the
    contrast took no part in the adjustment.
    """

    contrast: DifferenceInDifferences
    q_value: float | None
    alpha: float
    practical: float
    verdict: EffectVerdict
    reason: str


def judge_effects(
    contrasts: Sequence[DifferenceInDifferences], *, alpha: float = ALPHA, practical: float = PRACTICAL_THETA
) -> list[Effect]:
    """Every contrast's verdict, Benjamini–Hochberg adjusted across the tested ones, in the order given."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    if not 0.5 <= practical < 1:
        raise ValueError(f"practical threshold for θ must be at least 0.5 and below 1, got {practical!r}")
    tested = [i for i, c in enumerate(contrasts) if c.p_value is not None]
    q_values = dict(zip(tested, benjamini_hochberg([_p(contrasts[i]) for i in tested]), strict=True))
    effects = []
    for i, contrast in enumerate(contrasts):
        q = q_values.get(i)
        verdict, reason = _verdict(contrast, q, alpha=alpha, practical=practical)
        effects.append(Effect(contrast, q, alpha, practical, verdict, reason))
    return effects


def _p(contrast: DifferenceInDifferences) -> float:
    assert contrast.p_value is not None
    return contrast.p_value


def _verdict(
    contrast: DifferenceInDifferences, q: float | None, *, alpha: float, practical: float
) -> tuple[EffectVerdict, str]:
    if contrast.insufficient is not None or q is None:
        return "not yet measurable", contrast.insufficient or "not tested"
    assert contrast.estimate is not None
    assert contrast.ci_low is not None
    assert contrast.ci_high is not None
    threshold = practical - 0.5
    evidence = (
        f"δθ = {contrast.estimate:+.3f} ({contrast.confidence:.0%} CI {contrast.ci_low:+.3f} to "
        f"{contrast.ci_high:+.3f}), p = {contrast.p_value:.3g}, q = {q:.3g}, "
        f"{len(contrast.linked)} linked against {len(contrast.control)} other Value Codes"
    )
    if q > alpha:
        return "no detectable change", f"{evidence}: q above α = {alpha:g}"
    # with a tolerance far below any count's resolution, as comparisons._reaches
    if contrast.estimate >= threshold - 1e-12:
        return "improved", f"{evidence}: q ≤ α = {alpha:g} and δθ ≥ {threshold:g}"
    if contrast.estimate <= -threshold + 1e-12:
        return "declined", f"{evidence}: q ≤ α = {alpha:g} and δθ ≤ {-threshold:g}"
    return (
        "no detectable change",
        f"{evidence}: significant, but |δθ| below {threshold:g}, smaller than a practical change",
    )
