"""Beta mixing laws at the edges of their parameters: moments to 1e-12 relative against mpmath.

SymmetricBeta(α) for α from 1e-300 to 1e300 and Beta(a, b) over (a, b) ∈ [1e-8, 1e8]², on a grid
of edge values and at hypothesis-drawn points (log scale; derandomized by the conftest profile).
Also: the quadrature rules and the samplers at these parameters, and the argument checks.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mixtheory.laws import Beta, SymmetricBeta, ZhangLambdaTilde

RTOL = 1e-12
MOMENT_NAMES = ("theta_mean", "theta_var", "gamma2", "one_minus_theta_mean")


# --- references ---------------------------------------------------------------------------------
def _mp_symmetric_beta(alpha: float) -> tuple[mp.mpf, ...]:
    """(θ̄, σ², γ², 1 − θ̄) for λ ~ Beta(α, α), from the textbook closed form
    m = E|X − 1/2| = 1/(α 4^α B(α, α)): θ̄ = 1/2 + m, σ² = 1/(4(2α+1)) − m², γ² = (α+1)/(2(2α+1)) − m,
    evaluated by mpmath with mp.dps = 60 + log10(1/α) digits, so that the subtractions (which lose
    ~log10(1/α) digits as α → 0) still leave more than 50 correct digits."""
    digits = 60 + max(0, math.ceil(-math.log10(alpha)))
    with mp.workdps(digits):
        a = mp.mpf(alpha)
        m = 1 / (a * mp.power(4, a) * mp.beta(a, a))
        half = mp.mpf(1) / 2
        return (+(half + m), 1 / (4 * (2 * a + 1)) - m**2, (a + 1) / (2 * (2 * a + 1)) - m, +(half - m))


def _mp_lower_half_mass(a: mp.mpf, b: mp.mpf) -> mp.mpf:
    """I_{1/2}(a, b) for a ≥ b by the all-positive series (DLMF 8.17.8 with 2F1 by Euler's
    transformation) I_x(a, b) = x^a (1−x)^b / (a B(a, b)) · 2F1(a+b, 1; a+1; x), x = 1/2.
    For a ≥ b its terms decrease from the first; mpmath's own betainc sums 2F1(a, 1−b; a+1; x),
    whose terms alternate and grow for large b, and fails to converge at b ~ 1e8."""
    s = a + b
    log_prefactor = -s * mp.log(2) - mp.log(a) - (mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(s))
    return mp.exp(log_prefactor) * mp.hyp2f1(s, 1, a + 1, mp.mpf(1) / 2, maxterms=10**7)


def _mp_incbeta_half(a: mp.mpf, b: mp.mpf) -> tuple[mp.mpf, mp.mpf]:
    """(I_{1/2}(a, b), 1 − I_{1/2}(a, b)); the smaller of the two is never got by subtraction
    except from a series value of the larger one (I_{1/2}(a, b) = 1 − I_{1/2}(b, a))."""
    if a >= b:
        lower = _mp_lower_half_mass(a, b)
        return lower, 1 - lower
    upper = _mp_lower_half_mass(b, a)
    return 1 - upper, upper


def _mp_folded_beta(a: float, b: float) -> tuple[mp.mpf, ...]:
    """(θ̄, σ², γ², 1 − θ̄) for λ ~ Beta(a, b), μ = 1 − θ = min(λ, 1−λ), s = a + b, at mp.dps = 60:
    E μ = a/s · I_{1/2}(a+1, b) + b/s · (1 − I_{1/2}(a, b+1)),
    E μ² = a(a+1)/(s(s+1)) · I_{1/2}(a+2, b) + b(b+1)/(s(s+1)) · (1 − I_{1/2}(a, b+2)),
    σ² = E μ² − (E μ)² (a subtraction that costs at most ~10 of the 60 digits for s ≤ 2e8)."""
    with mp.workdps(60):
        a, b = mp.mpf(a), mp.mpf(b)
        s = a + b
        mu1 = a / s * _mp_incbeta_half(a + 1, b)[0] + b / s * _mp_incbeta_half(a, b + 1)[1]
        mu2 = (
            a * (a + 1) / (s * (s + 1)) * _mp_incbeta_half(a + 2, b)[0]
            + b * (b + 1) / (s * (s + 1)) * _mp_incbeta_half(a, b + 2)[1]
        )
        return 1 - mu1, mu2 - mu1**2, mu2, mu1


def _relative_errors(law: Beta, exact: tuple[mp.mpf, ...]) -> dict[str, float]:
    got = (law.theta_mean, law.theta_var, law.gamma2, law._one_minus_theta_mean)
    return {name: float(abs((mp.mpf(g) - e) / e)) for name, g, e in zip(MOMENT_NAMES, got, exact)}


def _assert_moments_close(law: Beta, exact: tuple[mp.mpf, ...]) -> None:
    errors = _relative_errors(law, exact)
    bad = {name: f"{err:.2e}" for name, err in errors.items() if not err <= RTOL}
    assert not bad, f"{law!r}: relative errors above {RTOL:g}: {bad}"


# --- the references themselves ------------------------------------------------------------------
@pytest.mark.parametrize("a,b", [(0.3, 7.0), (7.0, 0.3), (2.5, 2.5), (40.0, 55.0), (1e-3, 5.0)])
def test_reference_incomplete_beta_agrees_with_mpmath_betainc(a, b):
    """Where mpmath's own betainc converges, the positive-series reference agrees to 45 digits."""
    with mp.workdps(60):
        lower, upper = _mp_incbeta_half(mp.mpf(a), mp.mpf(b))
        direct = mp.betainc(a, b, 0, mp.mpf(1) / 2, regularized=True)
        assert abs(lower - direct) <= mp.mpf(10) ** -45
        assert abs(upper - (1 - direct)) <= mp.mpf(10) ** -45


def test_references_agree_on_symmetric_laws():
    """The two references are different formulas; at a = b they must give the same numbers."""
    for alpha in (1e-8, 0.37, 1.0, 250.0):
        for sym, folded in zip(_mp_symmetric_beta(alpha), _mp_folded_beta(alpha, alpha)):
            assert abs(sym - folded) <= mp.mpf(10) ** -40 * abs(sym)


# --- SymmetricBeta ----------------------------------------------------------------------------------
SYMMETRIC_EDGE_ALPHAS = [
    1e-300, 1e-200, 1e-100, 1e-30, 1e-17, 1e-16, 1e-12, 1e-8, 1e-5, 1e-3, 0.05,
    0.0999999, 0.1, 0.1000001, 0.5, 0.999999, 1.0, 1.000001, 29.999, 30.0, 1e4,
    1e8, 1e12, 1e15, 1e50, 1e100, 1e300,
]  # fmt: skip


@pytest.mark.parametrize("alpha", SYMMETRIC_EDGE_ALPHAS, ids=lambda a: f"alpha={a:.7g}")
def test_symmetric_beta_moments_at_edge_alphas(alpha):
    """Every branch of the closed forms and both sides of each switch (0.1, 1, 30)."""
    _assert_moments_close(SymmetricBeta(alpha), _mp_symmetric_beta(alpha))


@settings(max_examples=120, deadline=None)
@given(st.floats(-300.0, 300.0))
def test_symmetric_beta_moments_at_any_alpha(log10_alpha):
    alpha = 10.0**log10_alpha
    _assert_moments_close(SymmetricBeta(alpha), _mp_symmetric_beta(alpha))


def test_symmetric_beta_small_alpha_limit():
    """As α → 0: γ² ≈ σ² ≈ (log 2 − 1/2) α and 1 − θ̄ ≈ α log 2 (first Taylor terms), positive
    all the way down to the smallest subnormal α."""
    law = SymmetricBeta(1e-250)
    assert law.gamma2 / 1e-250 == pytest.approx(math.log(2) - 0.5, rel=1e-15)
    assert law.theta_var / 1e-250 == pytest.approx(math.log(2) - 0.5, rel=1e-15)
    assert law._one_minus_theta_mean / 1e-250 == pytest.approx(math.log(2), rel=1e-15)
    smallest = SymmetricBeta(5e-324)
    assert smallest.theta_mean == 1.0
    assert 0.0 <= smallest.theta_var <= smallest.gamma2 <= 1e-323
    largest = SymmetricBeta(1.7e308)
    values = (largest.theta_mean, largest.theta_var, largest.gamma2)
    assert all(math.isfinite(v) and v >= 0 for v in values), values


# --- asymmetric Beta --------------------------------------------------------------------------------
BETA_EDGE_VALUES = [1e-8, 1e-6, 1e-3, 0.5, 0.999999, 1.0, 1.000001, 9.99999, 10.0, 30.0, 1e3, 1e6, 1e8]


@pytest.mark.parametrize("a", BETA_EDGE_VALUES, ids=lambda v: f"a={v:g}")
def test_beta_moments_on_edge_grid(a):
    """All pairs of edge values, including both sides of the switches at min(a, b) = 1 and 10."""
    for b in BETA_EDGE_VALUES:
        _assert_moments_close(Beta(a, b), _mp_folded_beta(a, b))


@pytest.mark.parametrize(
    "a,b",
    [(1e-6, 1e6), (1e8, 1e8), (1e8, 1e8 + 1e4), (5e7, 5e7 - 3e3), (1e6, 1e6 + 1.0), (3.0, 1e8), (1e-8, 1e8)],
    ids=str,
)
def test_beta_moments_where_the_old_forms_cancelled(a, b):
    """Var θ of Beta(1e-6, 1e6) is ≈ 1e-18 (E θ² − θ̄² gave 1.6e-13); near-equal large a, b put the
    mass within ~1/√s of 1/2, where E μ² − (E μ)² loses log10(s) digits."""
    _assert_moments_close(Beta(a, b), _mp_folded_beta(a, b))


LOG10_PARAMETER = st.floats(-8.0, 8.0)


@settings(max_examples=100, deadline=None)
@given(LOG10_PARAMETER, LOG10_PARAMETER)
def test_beta_moments_at_any_parameters(log10_a, log10_b):
    a, b = 10.0**log10_a, 10.0**log10_b
    _assert_moments_close(Beta(a, b), _mp_folded_beta(a, b))


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 8.0), st.floats(-6.0, 6.0))
def test_beta_moments_near_the_diagonal(log10_a, z):
    """b = a + z·√(8a): λ's mean within a few standard deviations of 1/2, the folded law's
    hardest case for the variance."""
    a = 10.0**log10_a
    b = min(max(a + z * math.sqrt(8.0 * a), 1e-8), 1e8)
    _assert_moments_close(Beta(a, b), _mp_folded_beta(a, b))


def test_beta_folds_the_same_both_ways():
    """Beta(a, b) and Beta(b, a) give the same law of θ."""
    for a, b in [(1e-6, 1e6), (0.3, 4.0), (2.0, 3e7)]:
        law, swapped = Beta(a, b), Beta(b, a)
        for name in ("theta_mean", "theta_var", "gamma2"):
            assert getattr(law, name) == pytest.approx(getattr(swapped, name), rel=1e-14)


# --- quadrature and sampling ------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [1e-300, 1e-17, 1e-12, 1e-6, 1e-3, 0.04], ids=lambda a: f"alpha={a:g}")
@pytest.mark.parametrize("num_nodes", [1, 10, 96])
def test_symmetric_beta_rules_at_small_alpha(alpha, num_nodes):
    """Below α = 0.05 the rules carry an atom at each small-exponent endpoint (Gauss–Jacobi at
    exponent α − 1 ≈ −1 failed outright for α ≤ 1e-16 and lost 5 digits of γ² at α = 1e-6);
    weights stay non-negative. The λ rule is exact for x(1−x) (a quadratic that vanishes at both
    atoms); the θ rule converges to the closed forms (θ^{α−1} is not a polynomial) and is at
    1e-12 by 10 nodes."""
    law = SymmetricBeta(alpha)
    theta, lam = law.theta_rule(num_nodes), law.lambda_rule(num_nodes)
    assert theta.nodes.shape == (2 * (num_nodes + 1),) and lam.nodes.shape == (num_nodes + 2,)
    for rule in (theta, lam):
        assert np.all(rule.weights >= 0.0)
        assert rule.weights.sum() == pytest.approx(1.0, abs=1e-15)
    assert theta.nodes.min() >= 0.5 and theta.nodes.max() == 1.0
    assert lam.expect(lambda x: x) == pytest.approx(0.5, rel=1e-15)
    assert lam.expect(lambda x: x * (1.0 - x)) == pytest.approx(
        alpha / (2.0 * (2.0 * alpha + 1.0)), rel=1e-12
    )
    if num_nodes >= 10:
        assert theta.expect(lambda t: 1.0 - t) == pytest.approx(law._one_minus_theta_mean, rel=1e-12)
        assert theta.expect(lambda t: (1.0 - t) ** 2) == pytest.approx(law.gamma2, rel=1e-12)


@pytest.mark.parametrize("a,b", [(1e-8, 20.0), (20.0, 1e-8), (1e-3, 0.7), (0.03, 0.03)], ids=str)
def test_beta_rules_with_one_small_exponent(a, b):
    law = Beta(a, b)
    lam, theta = law.lambda_rule(), law.theta_rule()
    assert np.all(lam.weights >= 0.0) and np.all(theta.weights >= 0.0)
    assert lam.expect(lambda x: x) == pytest.approx(a / (a + b), rel=1e-12)
    assert theta.expect(lambda t: t) == pytest.approx(law.theta_mean, rel=1e-13)
    assert theta.expect(lambda t: (1.0 - t) ** 2) == pytest.approx(law.gamma2, rel=1e-12)
    zhang = ZhangLambdaTilde(a, b)  # Beta(a+1, b) and Beta(b+1, a): one small exponent each
    assert zhang.expect_lambda(lambda x: x) == pytest.approx(zhang.lambda_mean, rel=1e-12)


@pytest.mark.parametrize(
    "law",
    [SymmetricBeta(1e-300), SymmetricBeta(1e-12), SymmetricBeta(1e15), Beta(1e-8, 1e8), Beta(1e8, 1e8)],
    ids=repr,
)
def test_sampling_at_extreme_parameters(law):
    """Draws stay finite and in range; θ's sample mean is within 5 standard errors of θ̄ (the
    standard error from the closed-form σ², which is 0 to double precision at α = 1e-300)."""
    n = 20_000
    lam = law.sample_lambda(n, torch.Generator().manual_seed(7))
    theta = law.sample_theta(n, torch.Generator().manual_seed(7))
    assert lam.shape == (n,) and theta.shape == (n,)
    assert torch.isfinite(lam).all() and lam.min() >= 0.0 and lam.max() <= 1.0
    assert theta.min() >= 0.5 and theta.max() <= 1.0
    standard_error = math.sqrt(law.theta_var / n)
    assert abs(float(theta.mean()) - law.theta_mean) <= 5 * standard_error + 1e-16


# --- argument checks --------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [0.0, -0.0, -1e-300, -2.0, float("nan"), float("inf"), float("-inf")])
def test_invalid_parameters_name_the_argument(bad):
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        SymmetricBeta(bad)
    with pytest.raises(ValueError, match="^a must be a finite number > 0"):
        Beta(bad, 1.0)
    with pytest.raises(ValueError, match="^b must be a finite number > 0"):
        Beta(1.0, bad)
