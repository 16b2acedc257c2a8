"""Mixing laws: closed-form moments against high-precision arithmetic, quadrature, sampling."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import torch
from _stats import assert_within_standard_errors
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from mixtheory.laws import (
    ERM,
    Beta,
    Empirical,
    FromDensity,
    Mixture,
    PointMass,
    SymmetricBeta,
    Uniform,
    WShaped,
    ZhangLambdaTilde,
    law_from_name,
)

ALPHAS = np.logspace(-3, 4, 57)


def _mp_symmetric_beta(alpha: float):
    with mp.workdps(60):
        a = mp.mpf(alpha)
        m = 1 / (a * mp.power(4, a) * mp.beta(a, a))  # the Beta-function form, not the code's
        return (mp.mpf(1) / 2 + m, 1 / (4 * (2 * a + 1)) - m**2, (a + 1) / (2 * (2 * a + 1)) - m)


@pytest.mark.parametrize("alpha", ALPHAS, ids=lambda a: f"alpha={a:.3g}")
def test_symmetric_beta_closed_form_matches_mpmath(alpha):
    law = SymmetricBeta(alpha)
    exact = _mp_symmetric_beta(alpha)
    for got, want, name in zip((law.theta_mean, law.theta_var, law.gamma2), exact, ("θ̄", "σ²", "γ²")):
        rel = abs((mp.mpf(got) - want) / want)
        assert rel <= 1e-11, f"{name} at α={alpha}: relative error {float(rel):.2e}"


@settings(max_examples=80, deadline=None)
@given(st.floats(-3.0, 4.0))
def test_symmetric_beta_closed_form_matches_mpmath_anywhere(log10_alpha):
    """The same bound at α drawn anywhere in [1e-3, 1e4] (hypothesis searches for a bad α)."""
    alpha = 10.0**log10_alpha
    law = SymmetricBeta(alpha)
    for got, want in zip((law.theta_mean, law.theta_var, law.gamma2), _mp_symmetric_beta(alpha)):
        assert abs((mp.mpf(got) - want) / want) <= 1e-11


@pytest.mark.parametrize("alpha", [1e-3, 0.1, 0.5, 1.0, 4.0, 100.0, 1e4])
def test_theta_mean_is_one_minus_regularized_incomplete_beta(alpha):
    assert SymmetricBeta(alpha).theta_mean == pytest.approx(
        1 - special.betainc(alpha + 1, alpha, 0.5), rel=1e-12
    )


def test_symmetric_beta_known_values_and_limits():
    law = Uniform()
    assert law.theta_mean == pytest.approx(0.75, rel=1e-15)
    assert law.theta_var == pytest.approx(1 / 48, rel=1e-14)
    assert law.gamma2 == pytest.approx(1 / 12, rel=1e-14)
    assert SymmetricBeta(1e-3).theta_mean > 0.999  # α → 0: ERM
    assert SymmetricBeta(1e4).theta_mean < 0.5 + 0.004  # α → ∞: λ → 1/2
    # γ² = σ² + (1 − θ̄)² everywhere
    for alpha in ALPHAS:
        law = SymmetricBeta(alpha)
        assert law.gamma2 == pytest.approx(law.theta_var + (1 - law.theta_mean) ** 2, rel=1e-12)


@pytest.mark.parametrize("alpha", [1e-3, 0.05, 0.3, 1.0, 3.0, 30.0, 300.0, 1e4])
def test_symmetric_beta_quadrature_matches_closed_form(alpha):
    law = SymmetricBeta(alpha)
    rule = law.theta_rule(48)
    assert rule.nodes.min() >= 0.5 and rule.nodes.max() <= 1.0
    assert rule.weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert rule.expect(lambda t: t) == pytest.approx(law.theta_mean, rel=1e-12)
    assert rule.expect(lambda t: (1 - t) ** 2) == pytest.approx(law.gamma2, rel=1e-9)


def _mp_beta_folded(a, b, k):
    """E θ^k for λ ~ Beta(a, b) by mpmath quadrature of the folded density."""
    with mp.workdps(40):
        a, b = mp.mpf(a), mp.mpf(b)

        def dens(t):
            return (t ** (a - 1) * (1 - t) ** (b - 1) + t ** (b - 1) * (1 - t) ** (a - 1)) / mp.beta(a, b)  # noqa: E731

        return mp.quad(lambda t: t**k * dens(t), [0.5, 0.75, 1])


@pytest.mark.parametrize("a,b", [(2.0, 5.0), (0.4, 2.0), (3.0, 0.7), (1.0, 1.0), (20.0, 3.0)])
def test_asymmetric_beta_moments(a, b):
    law = Beta(a, b)
    m1, m2 = _mp_beta_folded(a, b, 1), _mp_beta_folded(a, b, 2)
    assert law.theta_mean == pytest.approx(float(m1), rel=1e-11)
    assert law.gamma2 == pytest.approx(float(1 - 2 * m1 + m2), rel=1e-10)
    assert law.theta_var == pytest.approx(float(m2 - m1**2), rel=1e-9)
    assert law.expect(lambda t: t) == pytest.approx(float(m1), rel=1e-11)
    assert law.lambda_rule().expect(lambda x: x) == pytest.approx(a / (a + b), rel=1e-12)


@pytest.mark.parametrize(
    "a,b", [(0.5, 60.0), (60.0, 0.5), (0.2, 200.0), (1.5, 60.0), (60.0, 1.5), (900.0, 1.5), (300.0, 700.0)]
)
def test_beta_rules_with_one_large_exponent(a, b):
    """A fractional endpoint exponent next to a large one: the rules keep their mass and mean
    (the λ rule's mean against a/(a+b), the θ rule's against the closed form)."""
    law = Beta(a, b)
    lam, theta = law.lambda_rule(), law.theta_rule()
    assert lam.weights.sum() == pytest.approx(1.0, abs=1e-13)
    assert theta.weights.sum() == pytest.approx(1.0, abs=1e-11)
    assert lam.expect(lambda x: x) == pytest.approx(a / (a + b), rel=1e-9)
    assert theta.expect(lambda t: t) == pytest.approx(law.theta_mean, rel=1e-11)
    zhang = ZhangLambdaTilde(a, b)
    assert zhang.expect_lambda(lambda x: x) == pytest.approx(zhang.lambda_mean, rel=1e-9)


def test_w_shaped_law_moments():
    law = WShaped(0.5)
    assert (law.theta_mean, law.theta_var) == (0.75, 1 / 32)
    for w in (WShaped(0.5), WShaped(3.0)):
        assert w.expect(lambda t: t) == pytest.approx(w.theta_mean, rel=1e-13)
        assert w.expect(lambda t: (t - 0.75) ** 2) == pytest.approx(w.theta_var, rel=1e-11)
        assert w.expect(lambda t: (1 - t) ** 2) == pytest.approx(w.gamma2, rel=1e-12)
        # the λ law is W-shaped: mean 1/2 by symmetry, no mass carried twice
        assert w.lambda_rule().weights.sum() == pytest.approx(1.0, abs=1e-13)
        assert w.expect_lambda(lambda x: x) == pytest.approx(0.5, abs=1e-14)


def test_mixture_with_point_mass_is_regmixup():
    reg = Mixture([PointMass(1.0), SymmetricBeta(0.4)], [0.25, 0.75])
    beta = SymmetricBeta(0.4)
    assert reg.theta_mean == pytest.approx(0.25 + 0.75 * beta.theta_mean, rel=1e-15)
    assert reg.gamma2 == pytest.approx(0.75 * beta.gamma2, rel=1e-15)
    assert reg.theta_var == pytest.approx(reg.gamma2 - (1 - reg.theta_mean) ** 2, rel=1e-12)
    assert reg.expect(lambda t: t) == pytest.approx(reg.theta_mean, rel=1e-12)
    assert reg.expect(lambda t: (t - reg.theta_mean) ** 2) == pytest.approx(reg.theta_var, rel=1e-9)
    erm = ERM()
    assert (erm.theta_mean, erm.theta_var, erm.gamma2) == (1.0, 0.0, 0.0)


def test_from_density_and_empirical():
    dens = FromDensity(lambda x: x * (1 - x))  # unnormalized Beta(2, 2)
    ref = SymmetricBeta(2.0)
    assert dens.theta_mean == pytest.approx(ref.theta_mean, rel=1e-12)
    assert dens.theta_var == pytest.approx(ref.theta_var, rel=1e-10)
    assert dens.theta_rule().expect(lambda t: t**3) == pytest.approx(ref.expect(lambda t: t**3), rel=1e-11)
    # an endpoint singularity (arcsine law = Beta(1/2, 1/2))
    arcsine = FromDensity(lambda x: 1 / np.sqrt(x * (1 - x)))
    assert arcsine.theta_mean == pytest.approx(SymmetricBeta(0.5).theta_mean, rel=1e-9)
    emp = Empirical([0.1, 0.3, 0.8, 0.95])
    th = np.array([0.9, 0.7, 0.8, 0.95])
    assert emp.theta_mean == pytest.approx(th.mean(), rel=1e-15)
    assert emp.theta_var == pytest.approx(th.var(), rel=1e-12)


@pytest.mark.parametrize("alpha", [0.05, 0.7, 12.0])
def test_zhang_lambda_tilde_folds_to_the_symmetric_beta_law(alpha):
    """Beta(α+1, α) is Beta(α, α) size-biased by λ; folding adds λ and 1 − λ back to 1."""
    zhang, beta = ZhangLambdaTilde(alpha), SymmetricBeta(alpha)
    for g in (lambda t: t, lambda t: (1 - t) ** 2, lambda t: np.log(t)):
        assert zhang.expect(g) == pytest.approx(beta.expect(g), rel=1e-11)


def test_zhang_lambda_tilde():
    law = ZhangLambdaTilde(0.7)  # α = β: Beta(α + 1, α)
    ref = Beta(1.7, 0.7)
    assert law.theta_mean == pytest.approx(ref.theta_mean, rel=1e-13)
    assert law.expect_lambda(lambda x: x) == pytest.approx(1.7 / 2.4, rel=1e-12)
    asym = ZhangLambdaTilde(2.0, 0.5)
    assert asym.expect_lambda(lambda x: x) == pytest.approx(asym.lambda_mean, rel=1e-12)


LAWS = [
    SymmetricBeta(0.2),
    SymmetricBeta(8.0),
    Beta(0.3, 4.0),
    WShaped(0.5),
    Mixture([PointMass(1.0), Uniform()], [0.3, 0.7]),
    ZhangLambdaTilde(1.0),
    Empirical([0.1, 0.6, 0.9]),
    FromDensity(lambda x: 6 * x * (1 - x)),
]


@pytest.mark.parametrize("law", LAWS, ids=repr)
def test_sampling_matches_moments(law):
    """Sample mean of θ and of (1−θ)² over 40 000 draws against the closed forms θ̄ and γ²,
    within the shared standard-error tolerance (Bonferroni over the two, family error 1e-6)."""
    g = torch.Generator().manual_seed(1234)
    n = 40_000
    theta = law.sample_theta(n, g)
    assert theta.shape == (n,) and theta.min() >= 0.5 and theta.max() <= 1.0
    sq = (1 - theta) ** 2
    # the mean's standard error from the law's own variance; E(1−θ)²'s from the sample's spread
    se_mean = math.sqrt(law.theta_var / n)
    se_sq = float(sq.std()) / math.sqrt(n)
    assert_within_standard_errors(
        [float(theta.mean()), float(sq.mean())],
        [se_mean, se_sq],
        [law.theta_mean, law.gamma2],
        what=f"{law!r}: sample means of θ and (1−θ)²",
    )


def test_sampling_is_deterministic_given_generator():
    a = SymmetricBeta(0.3).sample_lambda(100, torch.Generator().manual_seed(5))
    b = SymmetricBeta(0.3).sample_lambda(100, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_tiny_alpha_sampling_has_no_nan():
    lam = SymmetricBeta(1e-3).sample_lambda(10_000, torch.Generator().manual_seed(0))
    assert torch.isfinite(lam).all()
    assert ((lam < 1e-6) | (lam > 1 - 1e-6)).float().mean() > 0.9


@settings(max_examples=60, deadline=None)
@given(st.floats(1e-3, 1e4))
def test_moment_ordering_property(alpha):
    law = SymmetricBeta(alpha)
    assert 0.5 < law.theta_mean < 1.0
    assert 0.0 < law.theta_var <= law.gamma2 <= 0.25


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_alpha_is_rejected(bad):
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        SymmetricBeta(bad)


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="b must be"):
        Beta(1.0, 0.0)
    with pytest.raises(ValueError, match="sum to 1"):
        Mixture([Uniform(), ERM()], [0.5, 0.6])
    with pytest.raises(ValueError, match="same length"):
        Mixture([Uniform()], [0.5, 0.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Empirical([0.5, 1.5])
    with pytest.raises(ValueError, match="non-negative"):
        FromDensity(lambda x: x - 0.5)
    with pytest.raises(ValueError, match="unknown law"):
        law_from_name("gaussian", 1.0)
    with pytest.raises(ValueError, match="uniform law has no parameter"):
        law_from_name("uniform", -1.0)
    with pytest.raises(ValueError, match="needs alpha"):
        law_from_name("beta")
    with pytest.raises(ValueError, match="alpha must be"):
        law_from_name("beta", -1.0)
    with pytest.raises(ValueError, match="num_nodes"):
        SymmetricBeta(1.0).theta_rule(0)


def test_law_from_name():
    assert isinstance(law_from_name("beta", 0.4), SymmetricBeta)
    assert law_from_name("w-shaped", 0.5).theta_var == 1 / 32
    assert law_from_name("regmixup", 1.0).theta_mean == pytest.approx(0.875)
