"""The verdict statistics (mixtheory.ledger._evidence and ._decisions) against scipy's own tests on
known inputs, and the minimum detectable effect against a Monte Carlo power estimate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mixtheory.ledger._evidence import (
    Rule,
    decide,
    min_detectable_effect,
    one_sample_t,
    paired_t,
    seeds_for_power,
)

A = [0.912, 0.905, 0.921, 0.899, 0.917, 0.908, 0.915, 0.903, 0.910, 0.919]
B = [0.905, 0.907, 0.911, 0.896, 0.909, 0.906, 0.902, 0.904, 0.903, 0.911]


def test_paired_t_matches_scipy_ttest_rel():
    t = paired_t(A, B, level=0.95)
    ref = stats.ttest_rel(A, B)
    assert t.df == ref.df == 9
    assert t.t == pytest.approx(ref.statistic, rel=1e-12)
    assert t.p_greater == pytest.approx(stats.ttest_rel(A, B, alternative="greater").pvalue, rel=1e-10)
    assert t.p_less == pytest.approx(stats.ttest_rel(A, B, alternative="less").pvalue, rel=1e-10)
    ci = ref.confidence_interval(0.95)
    assert (t.low, t.high) == pytest.approx((ci.low, ci.high), rel=1e-12)
    one = stats.ttest_rel(A, B, alternative="greater").confidence_interval(0.95)
    assert t.lower == pytest.approx(one.low, rel=1e-12)
    one = stats.ttest_rel(A, B, alternative="less").confidence_interval(0.95)
    assert t.upper == pytest.approx(one.high, rel=1e-12)


def test_two_seeds_use_one_degree_of_freedom():
    t = one_sample_t([0.01, -0.003])
    assert t.df == 1
    half = (t.high - t.low) / 2
    assert half / t.se == pytest.approx(stats.t.ppf(0.975, 1), rel=1e-12)  # ≈ 12.71, not 1.96
    assert half / t.se > 12.7


def test_mde_gives_80_percent_power_by_monte_carlo():
    n, sd = 10, 0.004
    mde = min_detectable_effect(sd, n)
    rng = np.random.default_rng(0)
    x = rng.normal(mde, sd, (100_000, n))
    tt = x.mean(1) / (x.std(1, ddof=1) / np.sqrt(n))
    power = (tt > stats.t.ppf(0.95, n - 1)).mean()
    se = np.sqrt(0.8 * 0.2 / x.shape[0])
    assert abs(power - 0.8) < 4 * se
    # and a smaller effect has less power
    assert min_detectable_effect(sd, 20) < mde
    assert seeds_for_power(sd, mde) == n


def test_decide_holds_fails_inconclusive():
    rule = Rule("Δ accuracy", "greater", 0.01)
    assert decide(rule, [0.02, 0.021, 0.019, 0.022, 0.018]).verdict == "holds"
    assert decide(rule, [0.001, -0.001, 0.0, 0.0005, -0.0005]).verdict == "fails"
    noisy = decide(rule, [0.03, -0.02], n_test=150)
    assert noisy.verdict == "inconclusive"
    assert noisy.seeds_needed is not None and noisy.seeds_needed > 2
    assert "150 test points" in noisy.sentence() and "df 1" in noisy.sentence()
    less = Rule("Δ loss", "less", 0.05)
    assert decide(less, [-0.1, -0.12, -0.11]).verdict == "holds"
    record = noisy.to_dict()
    for key in ("rule", "level", "estimate", "ci_two_sided", "n_seeds", "n_test", "mde_80"):
        assert key in record


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="at least 2 seeds"):
        one_sample_t([0.1])
    with pytest.raises(ValueError, match="as many seeds"):
        paired_t([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="non-finite"):
        one_sample_t([1.0, float("nan")])
    with pytest.raises(ValueError, match="delta"):
        Rule("x", "greater", 0.0)


def test_summary_t_equals_the_test_on_the_values():
    d = np.asarray(A) - np.asarray(B)
    ref = one_sample_t(d)
    got = __import__("mixtheory.ledger._evidence", fromlist=["summary_t"]).summary_t(
        float(d.mean()), float(d.std(ddof=1)), d.size
    )
    assert (got.t, got.low, got.high, got.mde) == pytest.approx(
        (ref.t, ref.low, ref.high, ref.mde), rel=1e-10
    )


def test_smoke_scale_is_capped_unless_powered():
    rule = Rule("Δ", "greater", 0.01)
    big = [0.05, 0.04, 0.06]  # clearly positive, but the spread gives an MDE above 0.01
    assert decide(rule, big).verdict == "holds"
    capped = decide(rule, big, smoke=True)
    assert capped.verdict == "inconclusive" and capped.capped and "smoke-test" in capped.sentence()
    tight = [0.02, 0.021, 0.019, 0.022, 0.018]
    assert decide(rule, tight, smoke=True).verdict == "holds"  # powered: MDE below 0.01


def test_zero_spread_is_not_evidence():
    rule = Rule("Δ accuracy", "greater", 0.01)
    same = [-0.00667, -0.00667]  # two seeds agreeing to the last test image
    assert decide(rule, same).verdict == "inconclusive"
    floored = decide(rule, same, n_test=150, resolution=1 / 150)
    assert floored.test.sd == pytest.approx(1 / 150) and floored.verdict == "inconclusive"


def test_a_detected_effect_smaller_than_what_matters_fails():
    rule = Rule("Δ accuracy", "greater", 0.01)
    small = decide(rule, [0.003, 0.002, 0.004, 0.003, 0.0025, 0.0035, 0.003, 0.002, 0.004, 0.003])
    assert small.test.lower > 0 and small.test.upper < 0.01
    assert small.verdict == "fails" and "detected" in small.sentence()


def test_proportion_mde_gives_80_percent_power_exactly():
    # exact binomial power of the one-sided test at 5% against p0, at p0 ± MDE (normal-theory h)
    for p0, n, side in ((0.5, 400, "greater"), (0.01, 2000, "greater"), (0.3, 900, "less")):
        from mixtheory.ledger._decisions import proportion_mde

        mde = proportion_mde(p0, n, side)
        p1 = p0 + mde if side == "greater" else p0 - mde
        if side == "greater":
            crit = stats.binom.isf(0.05, n, p0) + 1  # reject when k >= crit
            power = stats.binom.sf(crit - 1, n, p1)
        else:
            crit = stats.binom.ppf(0.05, n, p0) - 1  # reject when k <= crit
            power = stats.binom.cdf(crit, n, p1)
        assert 0.74 < power < 0.86, (p0, n, side, power)


def test_correlation_mde_gives_80_percent_power_by_monte_carlo():
    from mixtheory.ledger._decisions import correlation_mde

    n = 60
    rho = correlation_mde(n, spearman=False)
    rng = np.random.default_rng(3)
    reps = 4000
    x = rng.normal(size=(reps, n))
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=(reps, n))
    r = np.array([stats.pearsonr(a, b).statistic for a, b in zip(x, y)])
    crit = np.tanh(stats.norm.ppf(0.95) / np.sqrt(n - 3))
    power = (r > crit).mean()
    assert abs(power - 0.8) < 4 * np.sqrt(0.16 / reps) + 0.01
    assert correlation_mde(n) > rho  # Spearman's larger variance


def test_interval_decisions_match_scipy_and_rule():
    from mixtheory.ledger._decisions import correlation_decision, normal_decision, proportion_decision

    rule = Rule("share − ½", "greater", 0.05)
    d = proportion_decision(rule, 300, 1000, 0.5, sample="pairs", seeds="seed 1")
    ci = stats.binomtest(300, 1000).proportion_ci(0.95, method="exact")
    assert (d.low, d.high) == pytest.approx((ci.low - 0.5, ci.high - 0.5), rel=1e-12)
    assert d.verdict == "fails" and d.to_dict()["mde_80"] > 0
    assert proportion_decision(rule, 700, 1000, 0.5, sample="p", seeds="s").verdict == "holds"
    assert proportion_decision(rule, 26, 50, 0.5, sample="p", seeds="s").verdict == "inconclusive"
    c = correlation_decision(Rule("ρ", "greater", 0.1), 0.4, 100, sample="samples", seeds="seed 0")
    z, se = np.arctanh(0.4), np.sqrt(1.06 / 97)
    assert c.low == pytest.approx(np.tanh(z - 1.959963984540054 * se), rel=1e-12)
    assert c.verdict == "holds"
    m = normal_decision(Rule("p − ½", "less", 0.05), -0.2, 0.01, 1000, sample="draws", seeds="seed 2")
    assert m.verdict == "holds" and m.mde == pytest.approx((1.6448536 + 0.8416212) * 0.01, rel=1e-6)
    with pytest.raises(ValueError, match="k <= n"):
        proportion_decision(rule, 5, 3, 0.5, sample="p", seeds="s")


def test_power_statement_problem_names_what_is_missing():
    from mixtheory.ledger._decisions import Computation, power_statement_problem

    assert power_statement_problem("experiment", {}) is not None
    ok = decide(Rule("Δ", "greater", 0.01), [0.02, 0.021, 0.019]).to_dict()
    assert power_statement_problem("experiment", {"test": ok}) is None
    assert power_statement_problem("experiment", {"test": {"a": ok, "b": {"estimate": 1}}}) is not None
    comp = Computation("relative gap", 1e-14, 1e-10, "float64 quadrature")
    assert comp.passed and "tolerance" in comp.sentence()
    assert power_statement_problem("computation", {"computation": comp.to_dict()}) is None
    assert power_statement_problem("computation", {}) is not None
    with pytest.raises(ValueError, match="tolerance"):
        Computation("x", 0.0, -1.0, "m")
