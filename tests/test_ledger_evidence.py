"""The verdict statistics (mixtheory.ledger._evidence) against scipy's own tests on known inputs,
and the minimum detectable effect against a Monte Carlo power estimate."""

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
