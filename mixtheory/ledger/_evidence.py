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

Verdicts on random draws that are not seeds, and deterministic computations: :mod:`._decisions`.

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
