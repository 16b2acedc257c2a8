"""Non-uniform pairing (docs/theory.md §8.1): the fold with the symmetrised pair law, the per-anchor
geometry against brute force, uniform pairing bit for bit, and the third-order remainder."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from conftest import make_data, make_mlp

from mixtheory import Beta, MixupGeometry, SymmetricBeta, WShaped, second_order_loss
from mixtheory.checks.tolerances import t_critical
from mixtheory.closed_form import taylor_regularizers
from mixtheory.exact_loss import LossOptions
from mixtheory.expansions import fit_remainder_order
from mixtheory.mixing import ClassConditional, DensePairing, HardPool, KNearest, UniformPartner
from mixtheory.pairing import (
    exact_mixup_loss_with_pairing,
    pool_shrinkage,
    symmetrised_pair_law,
)
from mixtheory.reference import dense_regularizers
from mixtheory.regularizers import (
    CancellationWarning,
    model_derivatives,
    regularizers_from_derivatives,
)

N, D, C = 10, 3, 3


def _rel(a, b):
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-300))


def _data(n=N, d=D, c=C, seed=0, **kw):
    return make_data(n, d, c, seed=seed, **kw)


def _dense(n, seed):
    g = torch.Generator().manual_seed(seed)
    P = torch.rand(n, n, generator=g, dtype=torch.float64) ** 3  # uneven rows
    P[0, 0] = 0.0
    return P / P.sum(1, keepdim=True)


# the pairings as data: name -> builder(X, Y) (Y one-hot)
PAIRINGS = {
    "dense": lambda X, Y: DensePairing(_dense(X.shape[0], 1)),
    "dense-tensor": lambda X, Y: _dense(X.shape[0], 2),
    "class-conditional": lambda X, Y: ClassConditional(
        torch.tensor([[0.2, 0.8, 0.0], [0.5, 0.0, 0.5], [0.1, 0.3, 0.6]], dtype=torch.float64),
        Y.argmax(1),
        on_empty_class="renormalise",
        on_zero_row="uniform",
    ),
    "hard-pool": lambda X, Y: HardPool(X[:, 0] ** 2, 0.3),
    "hard-pool-no-self": lambda X, Y: HardPool(X[:, 1], 0.4, include_self=False),
    "k-nn": lambda X, Y: KNearest(X, 3),
    "uniform-no-self": lambda X, Y: UniformPartner(X.shape[0], include_self=False),
}


@pytest.mark.parametrize("name", PAIRINGS)
def test_folded_equals_unfolded_exact_loss(name):
    """Theorem 1 for a pairing: Σ_ij P(i,j) E_θ m_ij(θ) = (1/n) Σ_ij π(j|i) E_λ m_ij(λ) at 1e-10."""
    X, Y = _data(seed=1)
    pairing = PAIRINGS[name](X, Y)
    model = make_mlp(D, C, seed=2, hidden=5)
    law = SymmetricBeta(0.6)
    folded = exact_mixup_loss_with_pairing(model, X, Y, law, pairing=pairing)
    unfolded = exact_mixup_loss_with_pairing(model, X, Y, law, pairing=pairing, form="unfolded")
    assert abs(folded - unfolded) <= 1e-10 * abs(unfolded)
    # and it is not the uniform loss (the pairing matters)
    uniform = exact_mixup_loss_with_pairing(model, X, Y, law, pairing=None)
    assert abs(folded - uniform) > 1e-6 * abs(uniform)


def test_uniform_pairing_exact_loss_is_exact_mixup_loss():
    from mixtheory.mixup_loss import exact_mixup_loss

    X, Y = _data(seed=3)
    model = make_mlp(D, C, seed=4, hidden=5)
    law = SymmetricBeta(0.6)
    ref = exact_mixup_loss(model, X, Y, law)
    assert exact_mixup_loss_with_pairing(model, X, Y, law, pairing=UniformPartner(N)) == ref
    # the pair route on the same law (not bit-equal: another summation order)
    dense = torch.full((N, N), 1.0 / N, dtype=torch.float64)
    assert abs(exact_mixup_loss_with_pairing(model, X, Y, law, pairing=dense) - ref) <= 1e-12 * ref


def test_asymmetric_law_is_refused_by_the_fold():
    X, Y = _data(seed=5)
    knn = KNearest(X, 2)
    law = Beta(0.5, 2.0)
    with pytest.raises(ValueError, match="symmetric about 1/2"):
        MixupGeometry(X, Y, law, pairing=knn)
    model = make_mlp(D, C, seed=6, hidden=5)
    with pytest.raises(ValueError, match="symmetric about 1/2"):
        exact_mixup_loss_with_pairing(model, X, Y, law, pairing=knn)
    # the definition needs no symmetry, and uniform pairing folds any law
    assert np.isfinite(exact_mixup_loss_with_pairing(model, X, Y, law, pairing=knn, form="unfolded"))
    MixupGeometry(X, Y, law, pairing=UniformPartner(N))


def _brute_force_moments(X, Y, pairing, law, num_nodes=48):
    """Per-anchor weight, mean and covariance of the mixed points from the definition: anchor i
    uniform, j ~ π(j|i), λ = θ or 1 − θ with probability ½ each (λ symmetric), θ by quadrature;
    the triple is re-anchored at whichever sample keeps the weight θ ≥ ½. No P_sym formula."""
    n = X.shape[0]
    Pi = (pairing if isinstance(pairing, torch.Tensor) else pairing.dense()).to(torch.float64)
    nodes, weights = law.theta_rule(num_nodes).to_torch(torch.float64, "cpu")
    Z = torch.cat([X, Y], 1)
    weight = torch.zeros(n, dtype=torch.float64)
    first = torch.zeros(n, Z.shape[1], dtype=torch.float64)
    second = torch.zeros(n, Z.shape[1], Z.shape[1], dtype=torch.float64)
    for i in range(n):
        for j in range(n):
            if Pi[i, j] == 0:
                continue
            for t, w in zip(nodes, weights):
                for anchor, partner in ((i, j), (j, i)):  # λ = θ: anchor i; λ = 1 − θ: anchor j
                    mass = Pi[i, j] / n * w / 2
                    z = t * Z[anchor] + (1 - t) * Z[partner]
                    weight[anchor] += mass
                    first[anchor] += mass * z
                    second[anchor] += mass * torch.outer(z, z)
    mean = first / weight[:, None]
    cov = second / weight[:, None, None] - mean[:, :, None] * mean[:, None, :]
    return weight, mean, cov


@pytest.mark.parametrize("name", PAIRINGS)
@pytest.mark.parametrize("law", [SymmetricBeta(0.4), WShaped(2.0)], ids=repr)
def test_lemma2_with_pairing_against_brute_force(name, law):
    X, Y = _data(n=7, seed=7)
    pairing = PAIRINGS[name](X, Y)
    geo = MixupGeometry(X, Y, law, pairing=pairing)
    assert type(geo) is MixupGeometry
    weight, mean, cov = _brute_force_moments(X, Y, pairing, law)
    assert geo.anchor_weights.shape == (7,)
    assert _rel(geo.anchor_weights, weight) <= 1e-12
    assert _rel(geo.x_tilde, mean[:, :D]) <= 1e-12 and _rel(geo.y_tilde, mean[:, D:]) <= 1e-12
    for i in range(7):
        assert _rel(geo.sigma_xx(i), cov[i, :D, :D]) <= 1e-10
        assert _rel(geo.sigma_xy(i), cov[i, :D, D:]) <= 1e-10
        assert _rel(geo.sigma_yy(i), cov[i, D:, D:]) <= 1e-10
    P = symmetrised_pair_law(pairing, 7)
    assert _rel(P.sum(1), weight) <= 1e-12 and bool(torch.equal(P, P.T))


@pytest.mark.parametrize("name", PAIRINGS)
@pytest.mark.parametrize("n,d,c,const", [(10, 3, 3, 0), (6, 8, 3, 0), (9, 5, 2, 2)], ids=str)
def test_paired_operators_match_dense(name, n, d, c, const):
    X, Y = make_data(n, d, c, seed=8, constant_features=const)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.3), pairing=PAIRINGS[name](X, Y))
    g = torch.Generator().manual_seed(9)
    V = torch.randn(n, 2, d, generator=g, dtype=torch.float64)
    T = torch.randn(n, d, d, generator=g, dtype=torch.float64)
    Ty = torch.randn(n, c, c, generator=g, dtype=torch.float64)
    matvec, quad, solve = geo.matvec_xx(V), geo.quad_xx(V), geo.solve_xx(V)
    K, pinv_xy = geo.projected_label_covariance(), geo.pinv_sigma_xy()
    frob, frob_y, traces = geo.frobenius_xx(T), geo.frobenius_yy(Ty), geo.trace_xx()
    L = geo.factor_apply(torch.eye(geo.factor_dim, dtype=torch.float64)[None].expand(n, -1, -1))
    Ly = geo.cross_factor()
    assert matvec.shape == V.shape and quad.shape == (n, 2) and K.shape == (n, c, c)
    assert L.shape == (n, geo.factor_dim, d) and Ly.shape == (n, c, geo.factor_dim)
    for i in range(n):
        S, S_xy, S_yy = geo.sigma_xx(i), geo.sigma_xy(i), geo.sigma_yy(i)
        S_pinv = torch.linalg.pinv(S, hermitian=True)
        assert _rel(matvec[i], V[i] @ S) <= 1e-12
        assert _rel(quad[i], torch.einsum("kd,de,ke->k", V[i], S, V[i])) <= 1e-12
        assert _rel(solve[i], V[i] @ S_pinv) <= 1e-8
        assert _rel(K[i], S_xy.T @ S_pinv @ S_xy) <= 1e-9
        assert _rel(pinv_xy[i], S_pinv @ S_xy) <= 1e-8
        assert _rel(frob[i], (S * T[i]).sum()) <= 1e-12
        assert _rel(frob_y[i], (S_yy * Ty[i]).sum()) <= 1e-12
        assert _rel(traces[i], torch.trace(S)) <= 1e-12
        assert _rel(L[i].T @ L[i], S) <= 1e-12
        assert _rel(L[i].T @ Ly[i].T, S_xy) <= 1e-12
        # range: Σ Σ⁺ Σ_xy = Σ_xy (docs/theory.md §3.4)
        assert _rel(geo.matvec_xx(pinv_xy[i].T[None], [i])[0].T, S_xy) <= 1e-9


def test_uniform_no_self_closed_form():
    r"""π(j|i) = 1/(n−1), j ≠ i: μ_i − x̄ = −a_i/(n−1), C_i = (n/(n−1))Σ_xx − n/(n−1)² a_i a_iᵀ, so
    Σ^(i)_xx = n/(n−1) [γ² Σ_xx + (nσ² − γ²)/(n−1) a_i a_iᵀ] (derived in the report; a_i = x_i − x̄)."""
    X, Y = _data(seed=10)
    law = SymmetricBeta(1.0)
    uni = MixupGeometry(X, Y, law)
    geo = MixupGeometry(X, Y, law, pairing=UniformPartner(N, include_self=False))
    s2, g2, a = law.theta_var, law.gamma2, uni.centered_x
    assert _rel(geo.anchor_weights, torch.full((N,), 1.0 / N, dtype=torch.float64)) <= 1e-15
    assert _rel(geo.centered_x, N / (N - 1) * a) <= 1e-13
    for i in range(N):
        closed = N / (N - 1) * (g2 * uni.cov_xx + (N * s2 - g2) / (N - 1) * torch.outer(a[i], a[i]))
        assert _rel(geo.sigma_xx(i), closed) <= 1e-12


def test_uniform_pairing_is_bit_for_bit_todays_geometry():
    X, Y = _data(n=12, d=4, seed=11)
    law = SymmetricBeta(0.7)
    today = MixupGeometry(X, Y, law)
    for pairing in (None, UniformPartner(12)):
        geo = MixupGeometry(X, Y, law, pairing=pairing)
        assert type(geo) is MixupGeometry and repr(geo) == repr(today)
        for name in ("x_tilde", "y_tilde", "centered_x", "centered_y", "basis", "eigvals", "coords", "cross"):
            assert torch.equal(getattr(geo, name), getattr(today, name)), name
        V = torch.randn(12, 2, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        assert torch.equal(geo.solve_xx(V), today.solve_xx(V))
        assert torch.equal(geo.projected_label_covariance(), today.projected_label_covariance())
        assert torch.equal(geo.sigma_xx(3), today.sigma_xx(3))
        model = make_mlp(4, C, seed=12, hidden=5)
        a, b = taylor_regularizers(model, geo), taylor_regularizers(model, today)
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert torch.equal(today.anchor_weights, torch.full((12,), 1 / 12, dtype=torch.float64))


def test_uniform_law_through_the_paired_route_matches():
    """π = 1/n given as a dense matrix runs the per-anchor code: same numbers to rounding."""
    X, Y = _data(n=12, d=4, seed=13)
    law = SymmetricBeta(0.7)
    today = MixupGeometry(X, Y, law)
    geo = MixupGeometry(X, Y, law, pairing=torch.full((12, 12), 1 / 12, dtype=torch.float64))
    model = make_mlp(4, C, seed=14, hidden=5)
    ref, got = taylor_regularizers(model, today), taylor_regularizers(model, geo, route="dense")
    for key in ("erm", "R1", "R2", "R3", "R4", "R13"):
        assert _rel(got[key], ref[key]) <= 1e-10, key


def test_factor_route_equals_shared_route_on_uniform_geometry():
    X, Y = _data(n=15, d=5, seed=15, soft=True)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.5))
    model = make_mlp(5, C, seed=16, hidden=6)
    u, jac, T = model_derivatives(model, geo, "mse")
    ref = regularizers_from_derivatives(geo, u, jac, "mse", hessian_contraction=T)
    got = regularizers_from_derivatives(geo, u, jac, "mse", hessian_contraction=T, r13_through="factor")
    for key in ("erm", "R1", "R2", "R3", "R4", "R13"):
        assert _rel(got[key], ref[key]) <= 1e-12, key


@pytest.mark.parametrize("name", ["dense", "class-conditional", "k-nn"])
@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_paired_regularizers_against_dense_reference(name, loss):
    X, Y = _data(seed=17)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.5), pairing=PAIRINGS[name](X, Y))
    model = make_mlp(D, C, seed=18, hidden=5)
    got = taylor_regularizers(model, geo, loss)
    ref = dense_regularizers(model, geo, loss)
    for key in ("erm", "R1", "R2", "R3", "R4", "R13"):
        assert _rel(got[key], ref[key]) <= 1e-9, key


def test_shared_attributes_refuse_politely():
    """The shared eigenbasis of uniform pairing is refused by name under another law; the data's
    covariances mean the same under every law."""
    X, Y = _data(seed=19)
    geo = MixupGeometry(X, Y, SymmetricBeta(1.0), pairing=KNearest(X, 2))
    uniform = MixupGeometry(X, Y, SymmetricBeta(1.0))
    for name in ("basis", "eigvals", "coords", "cross"):
        with pytest.raises(AttributeError, match="uniform pairing.*factor_apply"):
            getattr(geo, name)
    for name in ("cov_xx", "cov_xy", "cov_yy"):
        assert _rel(getattr(geo, name), getattr(uniform, name)) <= 1e-14, name
    with pytest.raises(ValueError, match="samples but X has"):
        MixupGeometry(X, Y, SymmetricBeta(1.0), pairing=KNearest(X[:5], 2))


def test_sampled_perturbations_are_mixed_points_with_zero_mean():
    X, Y = _data(n=6, seed=20)
    geo = MixupGeometry(X, Y, SymmetricBeta(1.0), pairing=DensePairing(_dense(6, 3)))
    delta, eps = geo.sample_perturbations(4000, generator=torch.Generator().manual_seed(0))
    assert delta.shape == (6, 4000, D) and eps.shape == (6, 4000, C)
    mean, se = delta.mean(1), delta.std(1) / 4000**0.5
    from _stats import assert_within_standard_errors

    assert_within_standard_errors(mean, se, torch.zeros_like(mean), what="E δ")


def _remainder_gaps(name, scales):
    X, Y = _data(n=8, seed=21, soft=True)
    pairing = PAIRINGS[name](X, Y)
    model = make_mlp(D, C, seed=22, hidden=6)
    law = SymmetricBeta(0.8)
    geo = MixupGeometry(X, Y, law, pairing=pairing)
    gaps = []
    for s in scales:
        g = geo.contracted(s)
        exact = exact_mixup_loss_with_pairing(model, g.X, g.Y, law, pairing=pairing)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CancellationWarning)
            gaps.append(abs(exact - second_order_loss(model, g, "ce")))
    return np.array(gaps)


@pytest.mark.parametrize("name", ["dense", "class-conditional", "hard-pool", "k-nn", "uniform-no-self"])
def test_taylor_remainder_with_pairing_is_third_order(name):
    """|E_π − E_Q| under joint contraction x, y → mean + s(· − mean): slope 3 by least squares
    with the first correction absorbed; tolerance t_{dof}(1e-3) times the slope's own SE."""
    scales = 0.4 * 0.5 ** np.arange(6)
    gaps = _remainder_gaps(name, scales)
    fit = fit_remainder_order(scales, gaps, correction=True)
    assert abs(fit.slope - 3.0) <= t_critical(1e-3, fit.dof) * fit.stderr + 1e-3, (fit, gaps)


def test_pool_shrinkage_rows():
    X, Y = _data(n=14, d=3, seed=23)
    model = make_mlp(3, C, seed=24, hidden=5)
    scores = torch.arange(14, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CancellationWarning)
        rows = pool_shrinkage(X, Y, SymmetricBeta(1.0), scores, etas=(1, 0.5, 0.2), model=model)
    assert [r["eta"] for r in rows] == ["uniform", 1.0, 0.5, 0.2]
    assert [r["pool_size"] for r in rows] == [14, 14, 7, 3]
    # η = 1 is the uniform law through the paired route
    for key in ("trace", "R13", "R2", "R3"):
        assert abs(rows[1][f"{key}_ratio"] - 1) <= 1e-10, key
    # pool anchors are drawn by everyone: p_i = (1 + n/|pool|)/(2n), total |pool|/(2n) + 1/2
    for r in rows[1:]:
        assert abs(r["weight_pool"] - (r["pool_size"] / 28 + 0.5)) <= 1e-12
    assert abs(rows[3]["trace_ratio"] - 1) > 1e-3  # a restricted pool changes the spread


def test_public_entry_points_take_a_pairing():
    """mixup_loss(pairing=...), taylor_regularizers and second_order_loss on a paired geometry give
    the pairing module's numbers (anchor weights p_i, not 1/n); the sampled loss agrees with the
    exact one within its standard error."""
    from _stats import assert_within_standard_errors

    from mixtheory import mixup_loss, second_order_loss, taylor_regularizers
    from mixtheory.expansions import second_order_from_terms
    from mixtheory.pairing import exact_mixup_loss_with_pairing

    X, Y = make_data(12, 3, 2, seed=31)
    model = make_mlp(3, 2, seed=32)
    law = SymmetricBeta(0.7)
    g = torch.Generator().manual_seed(33)
    P = torch.rand(12, 12, generator=g, dtype=torch.float64)
    P = P / P.sum(1, keepdim=True)
    exact = mixup_loss(model, X, Y, law, pairing=P, options=LossOptions(num_nodes=16))
    assert exact.evaluation == "exact" and exact.stderr == 0.0
    assert exact.value == exact_mixup_loss_with_pairing(
        model, X, Y, law, pairing=P, options=LossOptions(num_nodes=16)
    )
    geo = MixupGeometry(X, Y, law, pairing=P)
    regs = taylor_regularizers(model, geo)
    ref = dense_regularizers(model, geo)
    for key in ("erm", "R13", "R2", "R3", "R4"):
        assert _rel(regs[key], ref[key]) <= 1e-9, key
    assert second_order_loss(model, geo) == second_order_from_terms(regs, weights=geo.anchor_weights)
    assert abs(geo.anchor_weights.sum() - 1) < 1e-12 and not torch.allclose(
        geo.anchor_weights, torch.full_like(geo.anchor_weights, 1 / 12)
    )
    sampled = mixup_loss(
        model,
        X,
        Y,
        law,
        evaluation="sampled",
        pairing=P,
        num_draws=400,
        generator=torch.Generator().manual_seed(34),
    )
    assert_within_standard_errors(
        [sampled.value], [sampled.stderr], [exact.value], what="sampled paired loss"
    )


# --- issue 15 §3: every estimator route on a paired geometry; anchor weights in the Monte Carlo ---
from _stats import assert_within_standard_errors, bonferroni_k  # noqa: E402

from mixtheory.estimators import estimate_from_geometry  # noqa: E402
from mixtheory.estimators.options import METHODS, PROBES  # noqa: E402
from mixtheory.mixup_loss import sampled_second_order_loss  # noqa: E402

# (probes, method) pairs as data: every probe law with every evaluation method (Hutch++ takes
# factor-space probes only); r1 both exact (c VJPs) and from the probes
_ROUTES = [
    (probes, method)
    for probes in PROBES
    for method in METHODS
    if method != "hutch++" or probes in ("gaussian", "rademacher")
]


@pytest.fixture(scope="module")
def knn_setup():
    X, Y = _data(n=14, d=4, c=3, seed=11)
    net = make_mlp(4, 3, seed=12, hidden=6)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.7), pairing=KNearest(X, 3))
    return net, geo, taylor_regularizers(net, geo)


@pytest.mark.parametrize("probes,method", _ROUTES)
@pytest.mark.parametrize("r1", ["exact", "probes"])
def test_every_estimator_route_on_a_paired_geometry(knn_setup, probes, method, r1):
    """estimate_from_geometry on MixupGeometry(..., pairing=k-NN) (once an AttributeError 'coords')
    agrees with taylor_regularizers on the same geometry within its own standard errors (exact
    routes at rounding)."""
    net, geo, ref = knn_setup
    est = estimate_from_geometry(
        net,
        geo,
        probes=probes,
        num_probes=64 if probes == "spectral" else 256,
        method=method,
        r1=r1,
        exact_directions=2,
        generator=torch.Generator().manual_seed(3),
    )
    scale = float(ref["R13"].abs().max() + ref["R2"].abs().max())
    assert_within_standard_errors(
        est.R2, est.R2_se, ref["R2"], atol=1e-11 * scale, what=f"R2 {probes}/{method}"
    )
    assert_within_standard_errors(
        est.R13, est.R13_se, ref["R13"], atol=1e-11 * scale, what=f"R13 {probes}/{method}"
    )
    for key in ("erm", "R3", "R4"):
        torch.testing.assert_close(getattr(est, key), ref[key], rtol=1e-10, atol=1e-12 * scale)


def test_paired_geometry_repr_is_truthful(knn_setup):
    _, geo, _ = knn_setup
    assert repr(geo).startswith("MixupGeometry(") and "pairing=KNearest" in repr(geo)


def test_sampled_second_order_loss_weights_anchors():
    """The Monte Carlo of the second-order polynomial on a k-NN pairing estimates the p-weighted
    E_Q (docs/theory.md §8.1) within its own standard error, and the unweighted mean is many
    standard errors away (the bug: 0.8156 closed form vs 0.8414 ± 0.0007 on digits)."""
    X, Y = _data(n=30, d=4, c=3, seed=1)
    net = make_mlp(4, 3, seed=2, hidden=6)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.7), pairing=KNearest(X, 3))
    closed = second_order_loss(net, geo)
    regs = taylor_regularizers(net, geo)
    unweighted = float((regs["erm"] + regs["R13"] + regs["R2"] + regs["R4"]).mean())
    mc = sampled_second_order_loss(net, geo, num_draws=200, generator=torch.Generator().manual_seed(0))
    k = bonferroni_k(1)
    assert abs(mc.zscore(closed)) <= k, (float(mc), mc.stderr, closed)
    assert abs(mc.zscore(unweighted)) > 2 * k, "the test cannot tell the weighted from the plain mean"


@pytest.mark.parametrize("name", PAIRINGS)
@pytest.mark.parametrize("probes", ["exact", "mixup", "spectral"])
def test_estimators_on_every_pairing(name, probes):
    """The probe routes on every kind of pairing (dense, class-conditional, hard pool, k-NN, uniform
    without self), against taylor_regularizers on the same geometry."""
    X, Y = _data(seed=4)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.6), pairing=PAIRINGS[name](X, Y))
    net = make_mlp(D, C, seed=5, hidden=5)
    ref = taylor_regularizers(net, geo)
    est = estimate_from_geometry(
        net, geo, probes=probes, num_probes=256 if probes == "mixup" else 64, exact_directions=1, r1="probes",
        generator=torch.Generator().manual_seed(6),
    )  # fmt: skip
    scale = float(ref["R13"].abs().max() + ref["R2"].abs().max())
    assert_within_standard_errors(est.R2, est.R2_se, ref["R2"], atol=1e-11 * scale, what=f"R2 {name}")
    assert_within_standard_errors(est.R13, est.R13_se, ref["R13"], atol=1e-11 * scale, what=f"R13 {name}")
