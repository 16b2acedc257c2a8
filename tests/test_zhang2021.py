"""Zhang et al. (ICLR 2021), Lemma 3.1 for multi-class losses: the λ̃ identity at machine precision,
the structured regularizers against a dense route, and the remainder order by contraction."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import make_data, make_mlp
from scipy import stats

from mixtheory import Beta, FromDensity, Mixture, PointMass, SymmetricBeta, exact_mixup_loss
from mixtheory.derivatives import derivatives_at
from mixtheory.exact_loss import LossOptions
from mixtheory.expansions import fit_remainder_order
from mixtheory.expansions.zhang2021 import (
    compare_expansions,
    lambda_tilde_moment,
    zhang_expansion,
    zhang_lambda_tilde,
)
from mixtheory.losses import AutogradLoss
from mixtheory.zhang2021 import zhang_exact_loss

# Laws of λ as data: symmetric and asymmetric Beta (closed-form λ̃ mixture), and laws that go
# through the generic tilted rule or the tilted density.
LAWS = {
    "beta(0.5,0.5)": SymmetricBeta(0.5),
    "beta(2,2)": SymmetricBeta(2.0),
    "beta(0.4,1.5)": Beta(0.4, 1.5),
    "beta(3,0.7)": Beta(3.0, 0.7),
}
GENERIC_LAWS = {
    "regmixup": Mixture([PointMass(1.0), SymmetricBeta(0.5)], [0.5, 0.5]),
    "point(0.3)": PointMass(0.3),
    "density(2,5)": FromDensity(lambda t: t * (1 - t) ** 4),
}
FAMILY_LEVEL = 1e-3  # two-sided level of each slope test


def t_quantile(dof: int) -> float:
    """Half-width, in standard errors, of a two-sided t interval at FAMILY_LEVEL."""
    return float(stats.t.isf(FAMILY_LEVEL / 2, dof))


def logistic_problem(seed: int):
    X, _ = make_data(10, 3, 2, seed=seed)
    g = torch.Generator().manual_seed(seed + 100)
    y = (torch.rand(10, 1, generator=g, dtype=torch.float64) < 0.5).to(torch.float64)
    return X, y, make_mlp(3, 1, seed=seed + 1)


# --- the λ̃ law -------------------------------------------------------------------------------
@pytest.mark.parametrize("law", [*LAWS.values(), *GENERIC_LAWS.values()], ids=[*LAWS, *GENERIC_LAWS])
def test_lambda_tilde_moments(law):
    """E(1−λ̃)^k of the λ̃ law's own rule equals E_λ[λ(1−λ)^k + (1−λ)λ^k]; it is a law (mass 1)."""
    tilde = zhang_lambda_tilde(law)
    rule = tilde.lambda_rule()
    assert abs(rule.weights.sum() - 1) < 1e-12
    for k in (1, 2, 3):
        direct = tilde.expect_lambda(lambda t, k=k: (1 - t) ** k)
        assert direct == pytest.approx(lambda_tilde_moment(law, k), rel=1e-10, abs=1e-14)
    # the printed coefficient E[1 − λ̃²] exceeds E(1−λ̃)² by 2E[λ̃(1−λ̃)] > 0 (non-degenerate laws)
    gap = lambda_tilde_moment(law, 2, printed=True) - lambda_tilde_moment(law, 2)
    assert gap == pytest.approx(2 * tilde.expect_lambda(lambda t: t * (1 - t)), rel=1e-10, abs=1e-14)


def test_lambda_tilde_beta_closed_forms():
    """For Beta(α, β): E(1−λ̃) = 2αβ/(s(s+1)), E(1−λ̃)² = αβ/(s(s+1)), s = α + β."""
    a, b = 0.4, 1.5
    s = a + b
    assert lambda_tilde_moment(Beta(a, b), 1) == pytest.approx(2 * a * b / (s * (s + 1)), rel=1e-13)
    assert lambda_tilde_moment(Beta(a, b), 2) == pytest.approx(a * b / (s * (s + 1)), rel=1e-13)


def test_tilted_law_sampler():
    """The generic sampler (keep λ with probability λ) has E λ̃ = E[λ² + (1−λ)²] within its SE."""
    law = zhang_lambda_tilde(GENERIC_LAWS["regmixup"])
    draws = law.sample_lambda(200_000, torch.Generator().manual_seed(0))
    assert draws.shape == (200_000,)
    truth = law.expect_lambda(lambda t: t)
    se = float(draws.std()) / math.sqrt(draws.numel())
    assert abs(float(draws.mean()) - truth) <= stats.norm.isf(1e-6 / 2) * se


# --- the identity ------------------------------------------------------------------------------
@pytest.mark.parametrize("law", LAWS.values(), ids=LAWS.keys())
@pytest.mark.parametrize("loss", ["ce", "logistic"])
def test_lambda_tilde_form_equals_mixup_loss(law, loss):
    """(1/n²)Σ_ij E_λ̃ ℓ(y_i, f(λ̃x_i + (1−λ̃)x_j)) = E_mix (label mixed), for α = β and α ≠ β."""
    if loss == "ce":
        X, Y = make_data(10, 3, 3, seed=2, soft=True)
        model = make_mlp(3, 3, seed=3)
    else:
        X, Y, model = logistic_problem(seed=4)
    exact = exact_mixup_loss(model, X, Y, law, loss=loss, options=LossOptions(progress=False))
    assert zhang_exact_loss(model, X, Y, law, loss=loss) == pytest.approx(exact, rel=1e-10)


@pytest.mark.parametrize("law", GENERIC_LAWS.values(), ids=GENERIC_LAWS.keys())
def test_lambda_tilde_form_generic_laws(law):
    """The same identity through the generic tilted rule and the tilted density."""
    X, Y = make_data(8, 3, 3, seed=5)
    model = make_mlp(3, 3, seed=6)
    exact = exact_mixup_loss(model, X, Y, law, options=LossOptions(progress=False))
    assert zhang_exact_loss(model, X, Y, law) == pytest.approx(exact, rel=1e-10)


def test_squared_error_is_refused():
    X, Y = make_data(6, 3, 2, seed=0)
    model = make_mlp(3, 2, seed=0)
    with pytest.raises(ValueError, match="not of the form h"):
        zhang_exact_loss(model, X, Y, SymmetricBeta(1.0), loss="mse")
    with pytest.raises(ValueError, match="not of the form h"):
        zhang_expansion(model, X, Y, SymmetricBeta(1.0), "mse")


def test_autograd_loss_affine_in_label_is_accepted():
    """A user loss h(u) − yᵀu (here cross-entropy written out) passes the check and agrees."""
    X, Y = make_data(8, 3, 3, seed=7)
    model = make_mlp(3, 3, seed=8)
    ce = AutogradLoss(lambda y, u: torch.logsumexp(u, -1) - (y * u).sum())
    law = SymmetricBeta(0.7)
    assert zhang_exact_loss(model, X, Y, law, loss=ce) == pytest.approx(
        zhang_exact_loss(model, X, Y, law), rel=1e-12
    )


# --- the regularizers against the dense route ------------------------------------------------
@pytest.mark.parametrize("r3_form", ["correct", "printed"])
def test_regularizers_against_dense_second_moment(r3_form):
    """Structured first- and second-order terms (the paper's R1, R2, R3, through Σ_xx's factor) against
    M_i = Σ_xx + a_i a_iᵀ formed densely."""
    X, Y = make_data(9, 4, 3, seed=9, constant_features=1)  # singular Σ_xx
    model = make_mlp(4, 3, seed=10)
    law = Beta(0.6, 1.3)
    regs = zhang_expansion(model, X, Y, law, r3_form=r3_form, indices=[0, 4, 7])
    assert all(v.shape == (3,) for v in regs.values())
    idx = torch.tensor([0, 4, 7])
    u, jac, T = derivatives_at(model, X[idx], Y[idx], "ce")
    a = X - X.mean(0)
    M = a.T @ a / X.shape[0] + a[idx, :, None] * a[idx, None, :]
    s = torch.softmax(u, -1)
    H = torch.diag_embed(s) - s[:, :, None] * s[:, None, :]
    e1, e2 = lambda_tilde_moment(law, 1), lambda_tilde_moment(law, 2)
    e2_r3 = lambda_tilde_moment(law, 2, printed=True) if r3_form == "printed" else e2
    r1 = e1 * torch.einsum("mc,mcd,md->m", s - Y[idx], jac, -a[idx])
    r2 = e2 / 2 * torch.einsum("mde,mcd,mck,mke->m", M, jac, H, jac)
    r3 = e2_r3 / 2 * torch.einsum("mde,mde->m", M, T)
    torch.testing.assert_close(regs["first_order"], r1, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(regs["second_order_output"], r2, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(regs["second_order_input"], r3, rtol=1e-10, atol=1e-14)


# --- the remainder order ------------------------------------------------------------------------
# Halving scales, small enough that the O(s) relative correction is a small fraction; the fit
# absorbs it (fit_remainder_order(correction=True)). The remainder at the smallest scale is
# ~1e-11, four orders above the ~1e-15 rounding of the exact loss.
SCALES = [0.05 * 2.0**-k for k in range(6)]


def contraction_errors(model, X0, Y, law, loss="ce"):
    """(errors with the correct R3, errors with the printed R3) at SCALES, inputs contracted only."""
    correct, printed = [], []
    for s in SCALES:
        X = X0.mean(0) + s * (X0 - X0.mean(0))
        exact = exact_mixup_loss(model, X, Y, law, loss=loss, options=LossOptions(progress=False))
        correct.append(zhang_expansion(model, X, Y, law, loss).loss() - exact)
        printed.append(zhang_expansion(model, X, Y, law, loss, r3_form="printed").loss() - exact)
    return correct, printed


def assert_order(fit, order: float, what: str):
    tol = t_quantile(fit.dof) * fit.stderr
    assert abs(fit.slope - order) <= tol, f"{what}: slope {fit.slope:.4f} ± {fit.stderr:.4f}, want {order}"
    # the error ratios between consecutive scales approach 2^slope monotonically
    deviations = np.abs(np.asarray(fit.local) - fit.slope)
    assert np.all(np.diff(deviations) < 0), f"{what}: local slopes {fit.local} do not converge"


@pytest.mark.parametrize(
    "law", [SymmetricBeta(1.0), Beta(0.4, 1.5)], ids=["alpha=beta=1", "alpha=0.4,beta=1.5"]
)
def test_remainder_is_third_order_and_printed_r3_second(law):
    """|E_mix − E_Zhang| ∝ s³ with E(1−λ̃)² in R3, ∝ s² with the printed E[1 − λ̃²]."""
    X0, Y = make_data(12, 3, 3, seed=10)
    model = make_mlp(3, 3, seed=20)
    correct, printed = contraction_errors(model, X0, Y, law)
    fit = fit_remainder_order(SCALES, correct, correction=True)
    fit_printed = fit_remainder_order(SCALES, printed, correction=True)
    assert_order(fit, 3.0, "correct R3")
    assert_order(fit_printed, 2.0, "printed R3")
    gap = t_quantile(fit.dof) * (fit.stderr + fit_printed.stderr)
    assert fit_printed.slope < fit.slope - gap


def test_remainder_binary_logistic():
    """The same third order for binary logistic (h = softplus, c = 1), the lemma's own setting."""
    X0, y, model = logistic_problem(seed=11)
    correct, _ = contraction_errors(model, X0, y, Beta(0.5, 2.0), "logistic")
    assert_order(fit_remainder_order(SCALES, correct, correction=True), 3.0, "binary logistic")


# --- Carratino vs Zhang on a trained network -------------------------------------------------
@pytest.mark.slow
def test_compare_expansions_trained_digits():
    """Both expansions against the exact loss at full scale on a trained tanh MLP (150 digits)."""
    from mixtheory.data import load_digits
    from mixtheory.models import build_model, train_model

    X, y = load_digits(150, seed=0)
    model = build_model("mlp", 64, 10, "tanh", hidden=(32,), dtype=torch.float64, seed=0)
    train_model(model, X, y, epochs=300, lr=1e-2)
    rows = compare_expansions(model, X, y, alphas=(0.1, 0.2, 0.5, 1.0, 2.0))
    assert [r["alpha"] for r in rows] == [0.1, 0.2, 0.5, 1.0, 2.0]
    for r in rows:
        assert r["error_carratino"] == pytest.approx(r["carratino"] - r["exact"], rel=1e-12)
    # measured (see the report of this change): Carratino's expansion is the closer at every α
    assert all(r["ratio"] > 1 for r in rows), [(r["alpha"], r["ratio"]) for r in rows]
