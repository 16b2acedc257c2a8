r"""Verdicts that are not t tests across seeds: intervals on random draws from fixed data, and
deterministic computations (issue 19: every experimental verdict states its power).

A verdict on random draws from a fixed data set (random mixup pairs, Monte Carlo estimates, the
samples of one trained network) is decided by an interval on those draws (:func:`decide_interval`,
with :func:`proportion_decision` for an exact binomial share, :func:`correlation_decision` for a
Spearman ρ through Fisher's z, :func:`normal_decision` for a Monte Carlo mean with its standard
error and :func:`sample_t_decision` for a mean over samples), with the pre-declared
:class:`._evidence.Rule` and the same three verdicts as :func:`._evidence.decide`; its minimum
detectable effect comes from :func:`proportion_mde` (Cohen's h, Cohen 1988 ch. 6) or
:func:`correlation_mde` (Fisher 1921; the Spearman variance factor 1.06 of Fieller, Hartley &
Pearson 1957). A verdict without sampling (quadrature, float64 identities, exact zeros) is a
**deterministic computation** (evidence kind :data:`COMPUTATION`): it states the tolerance that
decides it (:class:`Computation`), and a rerun reproduces it to rounding.
:func:`power_statement_problem` says what an evidence lacks of its power statement.

>>> round(correlation_mde(100, spearman=False), 3)
0.247
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scipy import stats

from ._evidence import LEVEL, POWER, Rule, Side, one_sample_t

__all__ = [
    "COMPUTATION",
    "Computation",
    "IntervalDecision",
    "decide_interval",
    "proportion_mde",
    "correlation_mde",
    "proportion_decision",
    "correlation_decision",
    "normal_decision",
    "sample_t_decision",
    "power_statement_problem",
    "computed",
    "tested",
]

#: the evidence kind of a verdict computed without sampling (quadrature, float64 identities)
COMPUTATION = "computation"


@dataclass(frozen=True)
class Computation:
    """A deterministic verdict: ``quantity`` (what is compared) has ``value``, and the verdict is
    decided by ``value ≤ tolerance``; ``procedure`` says why no sampling enters (``"float64 quadrature"``)."""

    quantity: str
    value: float
    tolerance: float
    procedure: str

    def __post_init__(self) -> None:
        if not (math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise ValueError(f"tolerance must be finite and >= 0, got {self.tolerance}")

    @property
    def passed(self) -> bool:
        return bool(self.value <= self.tolerance)

    def sentence(self) -> str:
        return (
            f"Deterministic computation ({self.procedure}; no sampling, a rerun reproduces it to rounding): "
            f"{self.quantity} = {self.value:.3g}, decided by the tolerance {self.tolerance:.3g} "
            f"({'within' if self.passed else 'outside'} it)."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "deterministic": True,
            "procedure": self.procedure,
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
