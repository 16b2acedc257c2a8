r"""The statistics behind an experimental verdict: paired t tests across seeds, their confidence
intervals, the minimum effect detectable at 80 % power, and the decision rule.

A stochastic claim ("limiting the pool degrades accuracy") is decided by a **pre-declared rule**
written in the claim's code: the direction of the effect the source claims and ``delta``, the
effect the source claims or the smallest one that would matter. The data are **paired across
seeds**: seed ``k`` of both arms shares the split and the initialisation, so the unit of replication
is the seed and the test is Student's one-sample t on the per-seed differences, with t quantiles at
the real ``n − 1`` degrees of freedom (Student 1908; any two-seed design has one degree of freedom,
``t_0.975,1 ≈ 12.7``). The verdict (:func:`decide`):

- **fails** when the one-sided ``level`` bound on the far side excludes ``delta`` (the data rule out
  an effect as large as the one that matters, even if a smaller one is detected);
- **holds** otherwise when the one-sided bound on the near side excludes "no effect in the claimed
  direction";
- **inconclusive** otherwise, with the number of seeds that would detect ``delta`` at 80 % power
  given the observed spread.

The minimum detectable effect (:func:`min_detectable_effect`) solves the noncentral-t power
equation ``P(T'_{n-1, δ√n/s} > t_{1-α, n-1}) = 0.8`` for δ (Cohen 1988, ch. 2), with the observed
standard deviation ``s`` of the differences.

Not every experiment is a t test across seeds. A verdict on random draws from a fixed data set
(random mixup pairs, Monte Carlo estimates, the samples of one trained network) is decided by an
interval on those draws (:func:`decide_interval`, with :func:`proportion_decision` for an exact
binomial share, :func:`correlation_decision` for a Spearman ρ through Fisher's z, and
:func:`normal_decision` for a Monte Carlo mean with its standard error), with the same rule and the
same three verdicts; its minimum detectable effect comes from :func:`proportion_mde` (Cohen's h,
Cohen 1988 ch. 6) or :func:`correlation_mde` (Fisher 1921; the Spearman variance factor 1.06 of
Fieller, Hartley & Pearson 1957). A verdict without sampling (quadrature, float64 identities, exact
zeros) is a **deterministic computation** (evidence kind :data:`COMPUTATION`): it states the
tolerance that decides it (:class:`Computation`), and a rerun reproduces it to rounding.

>>> t = paired_t([0.91, 0.92, 0.90, 0.93], [0.90, 0.90, 0.90, 0.90])
>>> (t.n, t.df, round(t.estimate, 4))
(4, 3, 0.015)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import optimize, stats

__all__ = [
    "POWER",
    "LEVEL",
    "PairedTest",
    "Rule",
    "Decision",
    "paired_t",
    "one_sample_t",
    "min_detectable_effect",
    "seeds_for_power",
    "decide",
    "summary_t",
    "COMPUTATION",
    "Computation",
    "IntervalDecision",
    "decide_interval",
    "proportion_mde",
    "correlation_mde",
    "proportion_decision",
    "correlation_decision",
    "normal_decision",
    "power_statement_problem",
    "computed",
    "tested",
    "sample_t_decision",
]

#: the power at which the minimum detectable effect is stated
POWER = 0.8
#: the default one-sided confidence level of a decision
LEVEL = 0.95
Side = Literal["greater", "less"]


@dataclass(frozen=True)
class PairedTest:
    """Student's t on per-seed differences ``d_k`` (arm A − arm B, or one sample against 0).

    ``estimate``: mean of ``d``; ``sd``: its sample standard deviation (ddof 1); ``se`` = sd/√n;
    ``t``, ``df`` = n − 1; ``p_greater``/``p_less``: one-sided p-values; ``low``/``high``: the
    two-sided ``level`` interval; ``lower``/``upper``: the one-sided ``level`` bounds; ``mde``: the
    smallest effect detectable at 80 % power by a one-sided test at ``1 − level``."""

    n: int
    df: int
    estimate: float
    sd: float
    se: float
    t: float
    p_greater: float
    p_less: float
    level: float
    low: float
    high: float
    lower: float
    upper: float
    mde: float
    differences: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": "paired t across seeds (Student, one-sample on per-seed differences)",
            "n_seeds": self.n,
            "df": self.df,
            "estimate": self.estimate,
            "sd": self.sd,
            "se": self.se,
            "t": self.t,
            "p_greater": self.p_greater,
            "p_less": self.p_less,
            "ci_level": self.level,
            "ci_two_sided": [self.low, self.high],
            "one_sided_lower": self.lower,
            "one_sided_upper": self.upper,
            "mde_80": self.mde,
            "differences": list(self.differences),
        }


def _clean(x: Sequence[float], name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64).ravel()
    if a.size < 2:
        raise ValueError(f"{name}: a t test needs at least 2 seeds, got {a.size}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: non-finite values {a.tolist()}")
    return a


def min_detectable_effect(sd: float, n: int, level: float = LEVEL, power: float = POWER) -> float:
    """The effect δ a one-sided one-sample t test at ``1 − level`` detects with ``power``, for ``n``
    paired differences of standard deviation ``sd`` (noncentral t, solved by Brent's method).

    >>> round(min_detectable_effect(1.0, 10), 3)
    0.853
    """
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    if not sd > 0:
        return 0.0
    df = n - 1
    crit = stats.t.ppf(level, df)

    def gap(effect_size: float) -> float:
        return stats.nct.sf(crit, df, effect_size * math.sqrt(n)) - power

    d = optimize.brentq(gap, 1e-9, 1e3, xtol=1e-12)
    return float(d * sd)


def seeds_for_power(sd: float, delta: float, level: float = LEVEL, power: float = POWER) -> int | None:
    """The smallest number of seeds whose minimum detectable effect is at most ``delta`` (None above
    10,000)."""
    if not delta > 0:
        raise ValueError(f"delta must be positive, got {delta}")
    if not sd > 0:
        return 2
    for n in range(2, 10_001):
        if min_detectable_effect(sd, n, level, power) <= delta:
            return n
    return None


def one_sample_t(d: Sequence[float], level: float = LEVEL) -> PairedTest:
    """Student's t on ``d`` against 0 (``level``: the confidence of the intervals)."""
    a = _clean(d, "d")
    n = a.size
    df = n - 1
    mean, sd = float(a.mean()), float(a.std(ddof=1))
    se = sd / math.sqrt(n)
    if se > 0:
        t = mean / se
        p_greater, p_less = float(stats.t.sf(t, df)), float(stats.t.cdf(t, df))
    else:
        t = math.copysign(math.inf, mean) if mean != 0 else 0.0
        p_greater, p_less = (0.0 if mean > 0 else 1.0), (0.0 if mean < 0 else 1.0)
    q2, q1 = stats.t.ppf((1 + level) / 2, df), stats.t.ppf(level, df)
    return PairedTest(
        n=n,
        df=df,
        estimate=mean,
        sd=sd,
        se=se,
        t=float(t),
        p_greater=p_greater,
        p_less=p_less,
        level=level,
        low=mean - q2 * se,
        high=mean + q2 * se,
        lower=mean - q1 * se,
        upper=mean + q1 * se,
        mde=min_detectable_effect(sd, n, level),
        differences=tuple(float(v) for v in a),
    )


def summary_t(mean: float, sd: float, n: int, level: float = LEVEL) -> PairedTest:
    """Student's t against 0 from the summary of ``n`` per-seed values (their mean and sample
    standard deviation, ddof 1), as a figure's headline stores them; identical to
    :func:`one_sample_t` on the values themselves."""
    n = int(n)
    if n < 2:
        raise ValueError(f"n: a t test needs at least 2 seeds, got {n}")
    if not (math.isfinite(mean) and math.isfinite(sd)) or sd < 0:
        raise ValueError(f"mean and sd must be finite with sd >= 0, got {mean}, {sd}")
    # n values with this mean and sample standard deviation (the t test sees only these two)
    z = np.zeros(n)
    z[0], z[1] = 1.0, -1.0
    z *= sd / z.std(ddof=1)
    return one_sample_t(z + mean, level)


def paired_t(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> PairedTest:
    """Paired t on ``a − b`` (seed ``k`` of both arms paired)."""
    x, y = _clean(a, "a"), _clean(b, "b")
    if x.shape != y.shape:
        raise ValueError(f"paired arms need as many seeds each, got {x.size} and {y.size}")
    return one_sample_t(x - y, level)


@dataclass(frozen=True)
class Rule:
    """A pre-declared decision rule: the claimed effect is ``side`` (``greater``: the measured
    difference is claimed positive) and ``delta`` is the effect the source claims or the smallest one
    that would matter, in the units of ``quantity`` (a phrase naming the difference)."""

    quantity: str
    side: Side
    delta: float
    level: float = LEVEL

    def __post_init__(self) -> None:
        if self.side not in ("greater", "less"):
            raise ValueError(f"side must be 'greater' or 'less', got {self.side!r}")
        if not self.delta > 0:
            raise ValueError(f"delta must be positive, got {self.delta}")

    def describe(self) -> str:
        sign = ">" if self.side == "greater" else "<"
        bound = "" if self.side == "greater" else "−"
        return (
            f"claimed: {self.quantity} {sign} 0, mattering from {bound}{self.delta:g}; one-sided paired t "
            f"across seeds at level {1 - self.level:.2g}: fails if the {self.level:.0%} bound excludes "
            f"{bound}{self.delta:g}, else holds if it excludes 0, else inconclusive"
        )


@dataclass(frozen=True)
class Decision:
    """A verdict with its test: ``verdict`` (holds, fails, inconclusive), the ``rule``, the
    ``test``, the test-set size ``n_test`` and the seeds needed for 80 % power at ``delta``."""

    verdict: str
    rule: Rule
    test: PairedTest
    n_test: int | None
    seeds_needed: int | None
    capped: bool = False

    def sentence(self) -> str:
        """The verdict's statistics in one sentence."""
        t, r = self.test, self.rule
        sign = 1.0 if r.side == "greater" else -1.0
        bound = t.lower if r.side == "greater" else t.upper
        test_size = f", {self.n_test:,} test points" if self.n_test else ""
        what = {
            "holds": f"the {r.level:.0%} one-sided bound {bound:+.4g} excludes 0",
            "fails": f"the {r.level:.0%} one-sided bound excludes the effect that matters "
            f"({sign * r.delta:+g})"
            + (
                f"; an effect in the claimed direction is detected (bound {bound:+.3g} excludes 0) but is "
                "smaller than that"
                if (bound > 0 if r.side == "greater" else bound < 0)
                else ""
            ),
            "inconclusive": (
                f"a smoke-test scale whose minimum detectable effect exceeds {r.delta:g}, so it "
                "decides nothing"
                if self.capped
                else "the interval contains both 0 and the effect that matters"
            )
            + (
                f"; about {self.seeds_needed} seeds would detect {r.delta:g} at 80% power"
                if self.seeds_needed
                else ""
            ),
        }[self.verdict]
        return (
            f"{r.quantity} = {t.estimate:+.4g}, {t.level:.0%} CI [{t.low:+.4g}, {t.high:+.4g}] "
            f"(t across seeds, {t.n} seeds, df {t.df}{test_size}; minimum detectable effect at 80% power "
            f"{t.mde:.3g}): {what}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "rule": self.rule.describe(),
            "side": self.rule.side,
            "delta": self.rule.delta,
            "level": round(1 - self.rule.level, 12),
            "n_test": self.n_test,
            "seeds_needed_for_80_power": self.seeds_needed,
            "capped_by_smoke_scale": self.capped,
            **self.test.to_dict(),
        }


def decide(
    rule: Rule,
    d: Sequence[float] | PairedTest,
    n_test: int | None = None,
    *,
    smoke: bool = False,
    resolution: float | None = None,
) -> Decision:
    """The verdict of ``rule`` on the per-seed differences ``d`` (or their test) (module docstring).

    ``smoke``: the data come from a smoke-test scale (``--quick``); its verdict is at most
    ``inconclusive`` unless its power analysis says it can decide, i.e. unless its minimum
    detectable effect is at most ``rule.delta``. ``resolution``: the smallest change the readout can
    show (one test point of an accuracy: ``1 / n_test``); a spread across seeds below it (seeds that
    agree to the last test point) is floored at it, since a zero spread makes the t test degenerate.
    Without a resolution, a zero spread leaves the verdict inconclusive."""
    t = d if isinstance(d, PairedTest) else one_sample_t(d, rule.level)
    if resolution is not None and t.sd < resolution:
        t = summary_t(t.estimate, float(resolution), t.n, rule.level)
    if t.sd == 0:
        return Decision("inconclusive", rule, t, n_test, None, capped=False)
    if rule.side == "greater":
        holds, fails = t.lower > 0, t.upper < rule.delta
    else:
        holds, fails = t.upper < 0, t.lower > -rule.delta
    # the effect that matters excluded decides first: a detected effect smaller than δ does not matter
    verdict = "fails" if fails else "holds" if holds else "inconclusive"
    capped = smoke and t.mde > rule.delta and verdict != "inconclusive"
    if capped:
        verdict = "inconclusive"
    needed = None if verdict != "inconclusive" else seeds_for_power(t.sd, rule.delta, rule.level)
    return Decision(verdict, rule, t, n_test, needed, capped)


# --------------------------------------------------------------------------------------------
# Deterministic computations, and intervals on random draws that are not seeds
# --------------------------------------------------------------------------------------------
#: the evidence kind of a verdict computed without sampling (quadrature, float64 identities)
COMPUTATION = "computation"


@dataclass(frozen=True)
class Computation:
    """A deterministic verdict: ``quantity`` (what is compared) has ``value``, and the verdict is
    decided by ``value ≤ tolerance``; ``method`` says why no sampling enters (``"float64 quadrature"``)."""

    quantity: str
    value: float
    tolerance: float
    method: str

    def __post_init__(self) -> None:
        if not (math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise ValueError(f"tolerance must be finite and >= 0, got {self.tolerance}")

    @property
    def passed(self) -> bool:
        return bool(self.value <= self.tolerance)

    def sentence(self) -> str:
        return (
            f"Deterministic computation ({self.method}; no sampling, a rerun reproduces it to rounding): "
            f"{self.quantity} = {self.value:.3g}, decided by the tolerance {self.tolerance:.3g} "
            f"({'within' if self.passed else 'outside'} it)."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "deterministic": True,
            "method": self.method,
            "quantity": self.quantity,
            "value": float(self.value),
            "tolerance": float(self.tolerance),
            "within_tolerance": self.passed,
        }


def _z(p: float) -> float:
    return float(stats.norm.ppf(p))


def proportion_mde(p0: float, n: int, side: Side, level: float = LEVEL, power: float = POWER) -> float:
    """The smallest shift of a proportion from ``p0`` (towards ``side``) that a one-sided test at
    ``1 − level`` on ``n`` draws detects with ``power`` (Cohen's h = 2 asin√p − 2 asin√p0 =
    (z_level + z_power)/√n, Cohen 1988 ch. 6); capped at the boundary 0 or 1.

    >>> round(proportion_mde(0.5, 100, "greater"), 3)
    0.123
    """
    if not 0 <= p0 <= 1:
        raise ValueError(f"p0 must lie in [0, 1], got {p0}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    h = (_z(level) + _z(power)) / math.sqrt(n)
    phi = 2 * math.asin(math.sqrt(p0)) + (h if side == "greater" else -h)
    phi = min(max(phi, 0.0), math.pi)
    return float(abs(math.sin(phi / 2) ** 2 - p0))


def correlation_mde(
    n: int, level: float = LEVEL, power: float = POWER, *, spearman: bool = True, rho0: float = 0.0
) -> float:
    """The smallest |ρ − ρ0| a one-sided test at ``1 − level`` on ``n`` pairs detects with ``power``,
    through Fisher's z (variance 1/(n − 3); × 1.06 for Spearman's ρ, Fieller et al. 1957).

    >>> round(correlation_mde(100, spearman=False), 3)
    0.247
    """
    if n < 4:
        raise ValueError(f"n must be at least 4 pairs, got {n}")
    se = math.sqrt((1.06 if spearman else 1.0) / (n - 3))
    return float(math.tanh(math.atanh(rho0) + (_z(level) + _z(power)) * se) - rho0)


@dataclass(frozen=True)
class IntervalDecision:
    """A verdict on random draws that are not seeds (:func:`decide_interval`): the ``rule``, the
    ``test``, the ``estimate`` of the rule's quantity with its two-sided ``level`` interval
    ``low``–``high`` and one-sided bounds ``lower``/``upper``, ``mde`` at 80 % power, ``n`` draws
    of ``sample`` (what was drawn), and the ``seeds`` that fixed them."""

    verdict: str
    rule: Rule
    test: str
    estimate: float
    low: float
    high: float
    lower: float
    upper: float
    mde: float
    n: int
    sample: str
    seeds: str

    def sentence(self) -> str:
        r = self.rule
        what = {
            "holds": "the one-sided bound excludes 0",
            "fails": f"the one-sided bound excludes the effect that matters ({r.delta:g})",
            "inconclusive": f"the interval contains both 0 and the effect that matters ({r.delta:g}); "
            f"draws enough for a minimum detectable effect below {r.delta:g} would decide it",
        }[self.verdict]
        return (
            f"{r.quantity} = {self.estimate:+.4g}, {100 * r.level:g}% CI [{self.low:+.4g}, {self.high:+.4g}] "
            f"({self.test}, {self.n:,} {self.sample}, {self.seeds}; minimum detectable effect at 80% power "
            f"{self.mde:.3g}; rule: {r.side}, mattering from {r.delta:g}, one-sided level "
            f"{1 - r.level:.2g}): {what}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "rule": self.rule.describe().replace("one-sided paired t across seeds", f"one-sided {self.test}"),
            "test": self.test,
            "side": self.rule.side,
            "delta": self.rule.delta,
            "level": round(1 - self.rule.level, 12),
            "estimate": self.estimate,
            "ci_level": self.rule.level,
            "ci_two_sided": [self.low, self.high],
            "one_sided_lower": self.lower,
            "one_sided_upper": self.upper,
            "mde_80": self.mde,
            "n": self.n,
            "sample": self.sample,
            "seeds": self.seeds,
        }


def decide_interval(
    rule: Rule,
    estimate: float,
    ci: tuple[float, float],
    bounds: tuple[float, float],
    mde: float,
    n: int,
    *,
    test: str,
    sample: str,
    seeds: str,
) -> IntervalDecision:
    """The verdict of ``rule`` on an ``estimate`` of its quantity with two-sided interval ``ci`` and
    one-sided bounds ``bounds`` (lower, upper) at ``rule.level``: as :func:`decide` (fails when the
    far bound excludes ``delta``, holds when the near bound excludes 0, else inconclusive)."""
    lower, upper = bounds
    if rule.side == "greater":
        holds, fails = lower > 0, upper < rule.delta
    else:
        holds, fails = upper < 0, lower > -rule.delta
    verdict = "fails" if fails else "holds" if holds else "inconclusive"
    return IntervalDecision(
        verdict, rule, test, float(estimate), float(ci[0]), float(ci[1]), float(lower), float(upper),
        float(mde), int(n), sample, seeds,
    )  # fmt: skip


def proportion_decision(
    rule: Rule, k: int, n: int, reference: float, *, sample: str, seeds: str
) -> IntervalDecision:
    """``rule`` on the share ``k/n`` minus ``reference`` (the proportion the claim is measured
    against): exact Clopper–Pearson interval and bounds (scipy's ``binomtest``), MDE from
    :func:`proportion_mde` at ``reference``."""
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    res = stats.binomtest(int(k), int(n))
    two = res.proportion_ci(rule.level, method="exact")
    one = res.proportion_ci(2 * rule.level - 1, method="exact")
    return decide_interval(
        rule,
        k / n - reference,
        (two.low - reference, two.high - reference),
        (one.low - reference, one.high - reference),
        proportion_mde(reference, n, rule.side, rule.level),
        n,
        test=f"exact binomial (Clopper-Pearson) against {reference:g}",
        sample=sample,
        seeds=seeds,
    )


def correlation_decision(
    rule: Rule, rho: float, n: int, *, sample: str, seeds: str, spearman: bool = True
) -> IntervalDecision:
    """``rule`` on a (Spearman) correlation ``rho`` of ``n`` pairs: Fisher-z interval and bounds
    (variance × 1.06 for Spearman), MDE from :func:`correlation_mde`."""
    se = math.sqrt((1.06 if spearman else 1.0) / (n - 3)) if n > 3 else math.inf
    z = math.atanh(max(min(rho, 1 - 1e-15), -1 + 1e-15))
    q2, q1 = _z((1 + rule.level) / 2), _z(rule.level)
    return decide_interval(
        rule,
        rho,
        (math.tanh(z - q2 * se), math.tanh(z + q2 * se)),
        (math.tanh(z - q1 * se), math.tanh(z + q1 * se)),
        correlation_mde(n, rule.level, spearman=spearman),
        n,
        test=f"Fisher z on {'Spearman' if spearman else 'Pearson'} ρ",
        sample=sample,
        seeds=seeds,
    )


def normal_decision(
    rule: Rule, estimate: float, se: float, n: int, *, sample: str, seeds: str, test: str = "z test"
) -> IntervalDecision:
    """``rule`` on a Monte Carlo ``estimate`` with standard error ``se`` from ``n`` draws (normal
    quantiles: the draws are many); MDE (z_level + z_power)·se."""
    if not (math.isfinite(se) and se >= 0):
        raise ValueError(f"se must be finite and >= 0, got {se}")
    q2, q1 = _z((1 + rule.level) / 2), _z(rule.level)
    return decide_interval(
        rule,
        estimate,
        (estimate - q2 * se, estimate + q2 * se),
        (estimate - q1 * se, estimate + q1 * se),
        (q1 + _z(POWER)) * se,
        n,
        test=test,
        sample=sample,
        seeds=seeds,
    )


def _has_power(record: Any) -> bool:
    """A test record (or a mapping of part → record) that states rule, interval and MDE."""
    if not isinstance(record, dict) or not record:
        return False
    if "mde_80" in record:
        return all(k in record for k in ("rule", "level", "estimate", "ci_two_sided")) and math.isfinite(
            float(record["mde_80"])
        )
    return all(_has_power(v) for v in record.values())


def power_statement_problem(kind: str, numbers: dict[str, Any]) -> str | None:
    """What an evidence of ``kind`` with ``numbers`` lacks of its power statement (None: nothing):
    an ``experiment`` needs ``numbers["test"]`` with its rule, level, estimate, interval and minimum
    detectable effect (per part for a claim of several parts); a :data:`COMPUTATION` needs
    ``numbers["computation"]`` with its tolerance."""
    if kind == "experiment":
        return None if _has_power(numbers.get("test")) else "no test with rule, interval and MDE"
    if kind == COMPUTATION:
        rec = numbers.get("computation")
        if not isinstance(rec, dict) or not rec.get("deterministic") or "tolerance" not in rec:
            return "no deterministic-computation record with its tolerance"
    return None


def computed(text: str, numbers: dict[str, Any], computation: Computation) -> Any:
    """The :class:`~.claims.Evidence` of a deterministic computation: ``text`` followed by
    ``computation``'s sentence, its record in ``numbers["computation"]``."""
    from .claims import Evidence

    record = {**numbers, "computation": computation.to_dict()}
    return Evidence(COMPUTATION, f"{text.rstrip()} {computation.sentence()}", record)


def tested(text: str, numbers: dict[str, Any], decisions: dict[str, IntervalDecision]) -> Any:
    """The ``experiment`` :class:`~.claims.Evidence` of interval decisions: ``text`` followed by
    each part's sentence, their records in ``numbers["test"]`` (part → record)."""
    from .claims import Evidence

    parts = " ".join(f"{name}: {d.verdict} — {d.sentence()}." for name, d in decisions.items())
    tests = {name: d.to_dict() for name, d in decisions.items()}
    return Evidence("experiment", f"{text.rstrip()} {parts}", {**numbers, "test": tests})


def sample_t_decision(rule: Rule, values: Sequence[float], *, sample: str, seeds: str) -> IntervalDecision:
    """``rule`` on the mean of ``values`` drawn once each (the samples of one trained network, not
    seeds): Student's t at n − 1 degrees of freedom, MDE from :func:`min_detectable_effect`."""
    t = one_sample_t(values, rule.level)
    return decide_interval(
        rule,
        t.estimate,
        (t.low, t.high),
        (t.lower, t.upper),
        t.mde,
        t.n,
        test="one-sample t over samples",
        sample=sample,
        seeds=seeds,
    )
