"""Theorem 1 / Lemma 2 geometry: brute force against closed form, structured against dense."""

from __future__ import annotations

import pytest
import torch
from _stats import assert_within_standard_errors
from conftest import make_data

from mixtheory import Beta, Mixture, MixupGeometry, PointMass, SymmetricBeta, WShaped
from mixtheory.estimators import draw_probes, probe_seeds
from mixtheory.monte_carlo import mean_and_stderr
from mixtheory.reference import dense_lemma2

LAWS = [
    SymmetricBeta(0.4),
    Beta(0.5, 3.0),
    WShaped(0.5),
    Mixture([PointMass(1.0), SymmetricBeta(2.0)], [0.3, 0.7]),
]
SHAPES = [(30, 4, 3, 0), (7, 10, 3, 0), (25, 6, 4, 2)]  # n > d, n <= d, constant pixels


def _rel(a, b):
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-300))


@pytest.mark.parametrize("law", LAWS, ids=repr)
def test_lemma2_against_brute_force(law):
    X, Y = make_data(15, 4, 3, seed=3, soft=True)
    geo = MixupGeometry(X, Y, law)
    for i in (0, 7, 14):
        brute = dense_lemma2(geo, i)
        assert brute["mean_delta"].abs().max() <= 1e-13 * X.abs().max()
        assert brute["mean_epsilon"].abs().max() <= 1e-13
        assert _rel(geo.sigma_xx(i), brute["xx"]) <= 1e-10
        assert _rel(geo.sigma_xy(i), brute["xy"]) <= 1e-10
        assert _rel(geo.sigma_yy(i), brute["yy"]) <= 1e-10


def test_contracted_points_and_paper_notation():
    X, Y = make_data(20, 3, 2, seed=4)
    law = SymmetricBeta(0.7)
    geo = MixupGeometry(X, Y, law)
    tb = law.theta_mean
    assert torch.allclose(geo.x_tilde, X.mean(0) + tb * (X - X.mean(0)), rtol=0, atol=1e-15)
    assert torch.allclose(geo.y_tilde, Y.mean(0) + tb * (Y - Y.mean(0)), rtol=0, atol=1e-15)
    # the paper's form: (σ²(x̃_i − x̄)(x̃_i − x̄)ᵀ + γ² Σ_x̃x̃)/θ̄² with Σ_x̃x̃ = cov of the x̃'s
    xt = geo.x_tilde - geo.x_tilde.mean(0)
    cov_tilde = xt.T @ xt / geo.n
    paper = (law.theta_var * torch.outer(xt[3], xt[3]) + law.gamma2 * cov_tilde) / tb**2
    assert _rel(paper, geo.sigma_xx(3)) <= 1e-13
    # plugging Σ_xx instead of Σ_x̃x̃ is wrong by θ̄² in the shared term (MATH.md pitfall)
    wrong = (law.theta_var * torch.outer(xt[3], xt[3]) + law.gamma2 * geo.cov_xx) / tb**2
    assert _rel(wrong, geo.sigma_xx(3)) > 0.1


@pytest.mark.parametrize("n,d,c,const", SHAPES, ids=lambda v: str(v))
def test_structured_operators_match_dense(n, d, c, const):
    X, Y = make_data(n, d, c, seed=5, constant_features=const)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.3))
    assert geo.rank == min(n - 1, d - const)
    g = torch.Generator().manual_seed(6)
    V = torch.randn(n, 2, d, generator=g, dtype=torch.float64)
    T = torch.randn(n, d, d, generator=g, dtype=torch.float64)
    matvec, quad, solve = geo.matvec_xx(V), geo.quad_xx(V), geo.solve_xx(V)
    K = geo.projected_label_covariance()
    pinv_xy = geo.pinv_sigma_xy()
    frob = geo.frobenius_xx(T)
    traces = geo.trace_xx()
    assert matvec.shape == V.shape and quad.shape == (n, 2) and K.shape == (n, c, c)
    for i in range(n):
        S = geo.sigma_xx(i)
        S_pinv = torch.linalg.pinv(S, hermitian=True)
        S_xy = geo.sigma_xy(i)
        assert _rel(matvec[i], V[i] @ S) <= 1e-12
        assert _rel(quad[i], torch.einsum("kd,de,ke->k", V[i], S, V[i])) <= 1e-12
        assert _rel(solve[i], V[i] @ S_pinv) <= 1e-9
        assert _rel(K[i], S_xy.T @ S_pinv @ S_xy) <= 1e-10
        assert _rel(pinv_xy[i], S_pinv @ S_xy) <= 1e-9
        assert float(frob[i]) == pytest.approx(float((S * T[i]).sum()), rel=1e-12)
        assert float(traces[i]) == pytest.approx(float(torch.trace(S)), rel=1e-12)


def test_columns_of_sigma_xy_lie_in_range_of_sigma_xx():
    X, Y = make_data(6, 9, 3, seed=7)  # n <= d: Σ_xx singular
    geo = MixupGeometry(X, Y, SymmetricBeta(1.0))
    for i in range(geo.n):
        S, S_xy = geo.sigma_xx(i), geo.sigma_xy(i)
        projector = S @ torch.linalg.pinv(S, hermitian=True)
        assert _rel(projector @ S_xy, S_xy) <= 1e-10


def test_sampled_perturbations_are_the_mixup_points():
    X, Y = make_data(12, 3, 2, seed=8)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.5))
    g = torch.Generator().manual_seed(9)
    delta, eps = geo.sample_perturbations(5, generator=g)
    assert delta.shape == (12, 5, 3) and eps.shape == (12, 5, 2)
    # re-draw with the same seed and rebuild θ x_i + (1 − θ) x_j from the raw data
    g = torch.Generator().manual_seed(9)
    theta = geo.law.sample_theta((12, 5), g)
    j = torch.randint(12, (12, 5), generator=g)
    mixed = theta[..., None] * X[:, None, :] + (1 - theta[..., None]) * X[j]
    assert torch.allclose(geo.x_tilde[:, None, :] + delta, mixed, atol=1e-14, rtol=0)


@pytest.mark.parametrize("sampler", ["perturbations", "gaussian", "rademacher"])
def test_sampled_covariances_converge(sampler):
    """E[vᵀ M v] = ⟨Σ^(i), M⟩ for both samplers, within the Bonferroni band of the estimator's own
    standard error (one comparison per sample)."""
    X, Y = make_data(10, 3, 2, seed=10)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.8))
    g = torch.Generator().manual_seed(11)
    M = torch.randn(3, 3, generator=g, dtype=torch.float64)
    M = M + M.T
    draws = 20_000
    if sampler == "perturbations":
        v = geo.sample_perturbations(draws, generator=g)[0]
    else:  # the estimators' probes, drawn through the factor of Σ^(i)
        v = draw_probes(geo, sampler, draws, None, probe_seeds(g, geo.sample_indices()))
    values = torch.einsum("nkd,de,nke->nk", v, M, v)
    est, se = mean_and_stderr(values, dim=1)
    exact = geo.frobenius_xx(M.expand(10, 3, 3))
    assert_within_standard_errors(est, se, exact, what=f"{sampler} second moments")


def test_degenerate_law_gives_zero_covariance():
    X, Y = make_data(10, 3, 2, seed=12)
    geo = MixupGeometry(X, Y, PointMass(1.0))
    assert torch.allclose(geo.x_tilde, X, rtol=0, atol=1e-15)
    assert geo.sigma_xx(0).abs().max() == 0
    assert geo.projected_label_covariance().abs().max() == 0
    assert geo.solve_xx(torch.ones(10, 3, dtype=torch.float64)).abs().max() == 0


def test_images_keep_their_shape():
    g = torch.Generator().manual_seed(13)
    X = torch.randn(8, 2, 3, 3, generator=g, dtype=torch.float64)
    geo = MixupGeometry(X, torch.arange(8) % 2, SymmetricBeta(1.0))
    assert (geo.d, geo.input_shape, geo.c) == (18, (2, 3, 3), 2)
    assert geo.as_inputs(geo.x_tilde).shape == X.shape


def test_bad_inputs_are_rejected():
    X, Y = make_data(10, 3, 2, seed=14)
    law = SymmetricBeta(1.0)
    Xnan = X.clone()
    Xnan[2, 1] = float("nan")
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        MixupGeometry(Xnan, Y, law)
    Yinf = Y.clone()
    Yinf[0, 0] = float("inf")
    with pytest.raises(ValueError, match="Y contains"):
        MixupGeometry(X, Yinf, law)
    with pytest.raises(ValueError, match="Y has 9 rows but X has 10"):
        MixupGeometry(X, Y[:9], law)
    with pytest.raises(ValueError, match="too few samples for a covariance"):
        MixupGeometry(X[:1], Y[:1], law)
    with pytest.raises(TypeError, match="law must be a mixtheory law"):
        MixupGeometry(X, Y, 0.5)
    with pytest.raises(ValueError, match=r"Y\[3\] = 3 but num_classes=3"):
        MixupGeometry(X, torch.arange(10), law, num_classes=3)
    geo = MixupGeometry(X.numpy(), Y.numpy(), law)  # numpy in
    with pytest.raises(ValueError, match="V must have shape"):
        geo.matvec_xx(torch.ones(10, 4, dtype=torch.float64))
    with pytest.raises(IndexError, match="indices must lie in"):
        geo.trace_xx([10])


def test_range_basis_stays_orthonormal_when_ill_conditioned():
    """d > n with the eigenvalues of Σ_xx spread over 1e12: the basis stays orthonormal (a basis
    built from the Gram matrix, Aᵀ U / √(n s), is off by ~eps·s_max/s) and Σ Σ⁺ Σ_xy = Σ_xy."""
    g = torch.Generator().manual_seed(15)
    n, d = 40, 120
    scales = torch.logspace(0, -5, n, dtype=torch.float64)  # singular values 1 … 1e-5
    X = (torch.randn(n, n, generator=g, dtype=torch.float64) * scales) @ torch.randn(
        n, d, generator=g, dtype=torch.float64
    )
    geo = MixupGeometry(X, torch.arange(n) % 3, SymmetricBeta(0.5))
    eye = torch.eye(geo.rank, dtype=torch.float64)
    assert (geo.basis.T @ geo.basis - eye).abs().max() <= 1e-13
    for i in (0, 17):
        S, S_xy = geo.sigma_xx(i), geo.sigma_xy(i)
        K = geo.projected_label_covariance([i])[0]
        assert _rel(S @ geo.pinv_sigma_xy([i])[0], S_xy) <= 1e-9
        assert bool(torch.linalg.eigvalsh(K).min() >= -1e-12 * K.abs().max())
