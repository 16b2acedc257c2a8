"""Taylor regularizers: structured path against the brute-force reference, the completed
square, signs, and the errors a user can trigger."""

from __future__ import annotations

import pytest
import torch
from conftest import make_data, make_mlp
from hypothesis import given, settings
from hypothesis import strategies as st

from mixtheory import (
    AutogradLoss,
    MixupGeometry,
    SymmetricBeta,
    WShaped,
    taylor_regularizers,
)
from mixtheory.losses import get_loss
from mixtheory.reference import dense_regularizers
from mixtheory.regularizers import regularizers_from_derivatives

CASES = [
    ("ce", 30, 4, 3, 0),
    ("ce", 6, 8, 3, 0),  # n <= d: singular Σ_xx
    ("ce", 20, 6, 4, 2),  # constant pixels
    ("mse", 20, 4, 3, 0),
    ("logistic", 20, 4, 1, 0),
]


def _rel(a, b):
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-300))


@pytest.mark.parametrize("loss,n,d,c,const", CASES, ids=lambda v: str(v))
def test_structured_equals_brute_force(loss, n, d, c, const):
    X, Y = make_data(n, d, max(c, 2), seed=20, soft=(loss != "ce"), constant_features=const)
    if c == 1:
        Y = Y[:, :1]
    model = make_mlp(d, c, seed=21, scale=1.5)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.6))
    fast = taylor_regularizers(model, geo, loss, return_j=True)
    ref = dense_regularizers(model, geo, loss)
    for key in ("erm", "R1", "R2", "R3", "R4", "J"):
        assert fast[key].shape == ref[key].shape, key
        if ref[key].abs().max() == 0:
            assert fast[key].abs().max() <= 1e-14, key
        else:
            assert _rel(fast[key], ref[key]) <= 1e-9, key


def test_generic_autograd_loss_matches_closed_form_loss():
    X, Y = make_data(15, 4, 3, seed=22, soft=True)
    model = make_mlp(4, 3, seed=23)
    geo = MixupGeometry(X, Y, SymmetricBeta(1.3))
    generic = AutogradLoss(lambda y, u: 0.5 * ((y - u) ** 2).sum())
    a, b = taylor_regularizers(model, geo, generic), taylor_regularizers(model, geo, "mse")
    for key in ("erm", "R1", "R2", "R3", "R4"):
        assert _rel(a[key], b[key]) <= 1e-12, key


def _asymmetric_label_loss():
    """ℓ = ½‖u − A y‖² with A not symmetric: ℓ_uy = −A ≠ ℓ_yu, so any transpose slip shows."""
    A = torch.tensor([[1.0, 0.5, 0.0], [-0.3, 1.0, 0.8], [0.2, 0.0, 1.0]], dtype=torch.float64)
    return AutogradLoss(lambda y, u: 0.5 * ((u - A @ y) ** 2).sum(), name="asymmetric")


def test_asymmetric_cross_derivative_matches_brute_force():
    X, Y = make_data(15, 4, 3, seed=35, soft=True)
    model = make_mlp(4, 3, seed=36, scale=1.5)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.8))
    loss = _asymmetric_label_loss()
    fast = taylor_regularizers(model, geo, loss, return_j=True)
    ref = dense_regularizers(model, geo, loss)
    for key in ("erm", "R1", "R2", "R3", "R4", "J"):
        assert _rel(fast[key], ref[key]) <= 1e-10, key


@pytest.mark.parametrize("loss", ["ce", "mse", "asymmetric"])
def test_completed_square(loss):
    """R1 + R3 = ½⟨Σ_xx, ∇fᵀ ℓ_uu ∇f⟩ + ⟨Σ_yx, ℓ_yu ∇f⟩ computed densely, machine precision."""
    X, Y = make_data(12, 5, 3, seed=24, soft=True)
    model = make_mlp(5, 3, seed=25, scale=2.0)
    geo = MixupGeometry(X, Y, WShaped(0.5))
    L = _asymmetric_label_loss() if loss == "asymmetric" else get_loss(loss)
    ref = dense_regularizers(model, geo, L)
    # the dense reference forms R1, R3 through ℓ_uu⁻¹ and J, and R13 = ½⟨Σ_xx, ∇fᵀℓ_uu∇f⟩ +
    # ⟨Σ_yx, ℓ_yu∇f⟩ without them: two routes to one number (Theorem 3's completed square)
    torch.testing.assert_close(ref["R1"] + ref["R3"], ref["R13"], rtol=1e-11, atol=1e-14)


def test_cross_entropy_r4_vanishes_and_j_solves():
    X, Y = make_data(10, 3, 3, seed=26)
    model = make_mlp(3, 3, seed=27)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.3))
    regs = taylor_regularizers(model, geo, return_j=True)
    assert regs["R4"].abs().max() == 0
    # H J = Σ_yx Σ_xx⁺ (J is defined through the pseudo-inverse on 1⊥)
    u = model(geo.x_tilde).detach()
    H = get_loss("ce").hess_uu(geo.y_tilde, u)
    for i in range(geo.n):
        target = geo.sigma_xy(i).T @ torch.linalg.pinv(geo.sigma_xx(i), hermitian=True)
        assert torch.allclose(H[i] @ regs["J"][i], target, atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    alpha=st.floats(0.01, 50.0),
    scale=st.floats(0.1, 8.0),
    n=st.integers(3, 12),
    d=st.integers(1, 6),
)
def test_signs_of_r1_and_r3(seed, alpha, scale, n, d):
    """R1 ≥ 0 and R3 ≤ 0 for cross-entropy, for any data, labels, network and α."""
    X, Y = make_data(n, d, 3, seed=seed, soft=bool(seed % 2))
    model = make_mlp(d, 3, seed=seed + 1, scale=scale)
    regs = taylor_regularizers(model, MixupGeometry(X, Y, SymmetricBeta(alpha)))
    tol = 1e-12 * (1 + regs["R1"].abs().max() + regs["R3"].abs().max())
    assert (regs["R1"] >= -tol).all()
    assert (regs["R3"] <= tol).all()


def test_saturated_softmax_stays_finite_and_exact():
    X, Y = make_data(10, 3, 3, seed=28)
    model = make_mlp(3, 3, seed=29, scale=12.0)  # logits in the tens: S_k down to ~1e-15
    geo = MixupGeometry(X, Y, SymmetricBeta(1.0))
    fast = taylor_regularizers(model, geo)
    ref = dense_regularizers(model, geo)
    for key in ("R1", "R3"):
        assert torch.isfinite(fast[key]).all()
        assert _rel(fast[key], ref[key]) <= 1e-6, key  # the reference inverts H + 11ᵀ/c, ill-conditioned here


def test_precomputed_r2_and_shapes():
    X, Y = make_data(8, 3, 2, seed=30)
    model = make_mlp(3, 2, seed=31)
    geo = MixupGeometry(X, Y, SymmetricBeta(1.0))
    u = model(geo.x_tilde).detach()
    jac = torch.func.vmap(torch.func.jacrev(lambda x: model(x[None])[0]))(geo.x_tilde)
    out = regularizers_from_derivatives(geo, u, jac, r2=torch.arange(8.0))
    assert torch.equal(out["R2"], torch.arange(8.0, dtype=torch.float64))
    assert torch.isnan(regularizers_from_derivatives(geo, u, jac)["R2"]).all()
    with pytest.raises(ValueError, match="jacobians must have shape"):
        regularizers_from_derivatives(geo, u, jac[:, :, :2])
    with pytest.raises(ValueError, match="outputs must have shape"):
        regularizers_from_derivatives(geo, u[:4], jac)


def test_user_errors():
    X, Y = make_data(8, 3, 2, seed=32)
    geo_bad = MixupGeometry(X, 0.5 * Y, SymmetricBeta(1.0))
    with pytest.raises(ValueError, match="every label must sum to 1"):
        taylor_regularizers(make_mlp(3, 2, seed=33), geo_bad)
    bn = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)).double()
    geo = MixupGeometry(X, Y, SymmetricBeta(1.0))
    with pytest.raises(ValueError, match="train mode.*BatchNorm1d.*model.eval"):
        taylor_regularizers(bn, geo)
    with pytest.raises(ValueError, match=r"the model has 5 outputs but the labels have 2 classes"):
        taylor_regularizers(make_mlp(3, 5, seed=34), geo)
