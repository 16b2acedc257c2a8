"""MixupE (UAI 2023): q by jvp against a dense Jacobian, q̂ = q exactly for bias-free positively
homogeneous networks on centred data (and not otherwise), and the remainder orders of the K-th
order directional-derivative expansion of Theorem 1."""

from __future__ import annotations

import pytest
import torch
from conftest import make_data, make_mlp
from scipy import stats

from mixtheory import SymmetricBeta, exact_mixup_loss
from mixtheory.derivatives import derivatives_at
from mixtheory.exact_loss import LossOptions
from mixtheory.expansions import fit_remainder_order
from mixtheory.expansions.mixupe import (
    directional_expansion,
    first_order_term,
    first_order_term_approx,
    mixupe_regularizer,
    q_hat_relative_error,
)
from mixtheory.expansions.zhang2021 import lambda_tilde_moment, zhang_expansion

FAMILY_LEVEL = 1e-3


def t_quantile(dof: int) -> float:
    return float(stats.t.isf(FAMILY_LEVEL / 2, dof))


def net(d: int, c: int, seed: int, *, activation=torch.nn.ReLU, bias: bool = False, hidden: int = 16):
    torch.manual_seed(seed)
    return (
        torch.nn.Sequential(
            torch.nn.Linear(d, hidden, bias=bias),
            activation(),
            torch.nn.Linear(hidden, hidden, bias=bias),
            activation(),
            torch.nn.Linear(hidden, c, bias=bias),
        )
        .to(torch.float64)
        .eval()
    )


# Networks as data: (id, factory, centre the data?, is q̂ exact?)
Q_HAT_CASES = [
    ("bias-free relu, centred", lambda: net(5, 3, 0), True, True),
    ("bias-free linear, centred", lambda: net(5, 3, 1, activation=torch.nn.Identity), True, True),
    ("relu with biases, centred", lambda: net(5, 3, 2, bias=True), True, False),
    ("bias-free tanh, centred", lambda: net(5, 3, 3, activation=torch.nn.Tanh), True, False),
    ("bias-free relu, uncentred", lambda: net(5, 3, 4), False, False),
]


@pytest.mark.parametrize("loss", ["ce", "logistic"])
def test_q_against_dense_jacobian(loss):
    c = 3 if loss == "ce" else 1
    X, Y = make_data(15, 5, 3, seed=1)
    if loss == "logistic":
        Y = Y[:, :1]
    model = make_mlp(5, c, seed=2)
    q = first_order_term(model, X, Y, loss)
    assert q.shape == (15,)
    u, jac, _ = derivatives_at(model, X, Y, loss, hessian=False)
    g = torch.softmax(u, -1) if loss == "ce" else torch.sigmoid(u)
    dense = torch.einsum("mc,mcd,md->m", g - Y, jac, X.mean(0) - X)
    torch.testing.assert_close(q, dense, rtol=1e-10, atol=1e-14)


def test_q_is_zhang_r1_over_its_coefficient():
    """E(1−λ̃)·q_i is Zhang et al.'s first-order term, the paper's R1 (two routes: jvp here, dense
    Jacobian there)."""
    X, Y = make_data(10, 4, 3, seed=3)
    model = make_mlp(4, 3, seed=4)
    law = SymmetricBeta(0.3)
    r1 = zhang_expansion(model, X, Y, law)["first_order"]
    torch.testing.assert_close(
        lambda_tilde_moment(law, 1) * first_order_term(model, X, Y), r1, rtol=1e-10, atol=0
    )


@pytest.mark.parametrize("case", Q_HAT_CASES, ids=[c[0] for c in Q_HAT_CASES])
def test_q_hat_exact_only_for_homogeneous_nets_on_centred_data(case):
    _, factory, centred, exact = case
    X, Y = make_data(20, 5, 3, seed=5)
    X = X + 0.7  # an offset, removed when centred
    if centred:
        X = X - X.mean(0)
    err = q_hat_relative_error(factory(), X, Y)
    assert err["per_sample"].shape == (20,)
    if exact:
        assert err["aggregate"] < 1e-10 and float(err["per_sample"].max()) < 1e-10
    else:
        assert err["aggregate"] > 1e-3


def test_absolute_option_and_regularizer():
    X, Y = make_data(12, 5, 3, seed=6)
    model = make_mlp(5, 3, seed=7)
    signed = first_order_term_approx(model, X, Y)
    assert bool((signed < 0).any() and (signed > 0).any())  # both signs occur: the choice matters
    torch.testing.assert_close(first_order_term_approx(model, X, Y, absolute=True), signed.abs())
    law = SymmetricBeta(0.4)
    penalty = mixupe_regularizer(model, X, Y, law)
    torch.testing.assert_close(penalty, lambda_tilde_moment(law, 1) * signed.abs().mean())
    penalty.backward()  # a training penalty: differentiable in the parameters
    assert all(p.grad is not None for p in model.parameters())


def test_second_order_expansion_is_zhangs():
    """K = 2 by nested jvp over all pairs equals Zhang's structured second-order loss (dense T_i)."""
    X, Y = make_data(8, 3, 3, seed=8)
    model = make_mlp(3, 3, seed=9)
    law = SymmetricBeta(0.8)
    out = directional_expansion(model, X, Y, law, order=2)
    assert out.paper == "mixupe" and out.table == ("directional_0", "directional_1", "directional_2")
    assert len(out.details["mean_derivatives"]) == 3 and len(out.details["coefficients"]) == 3
    regs = zhang_expansion(model, X, Y, law)
    assert out.loss() == pytest.approx(regs.loss(), rel=1e-10)
    assert float(out["directional_0"]) == pytest.approx(float(regs["anchor_loss"].mean()), rel=1e-12)
    assert float(out["directional_1"]) == pytest.approx(float(regs["first_order"].mean()), rel=1e-10)
    second = regs["second_order_output"] + regs["second_order_input"]
    assert float(out["directional_2"]) == pytest.approx(float(second.mean()), rel=1e-10)


def test_third_directional_derivative_against_finite_differences():
    """D³ from the nested jvp against central differences of D² along v, Richardson-extrapolated
    (steps h and h/2); the tolerance is the differences' own error estimate |FD(h) − FD(h/2)|."""
    from mixtheory.expansions.mixupe import _flat_model, _pair_derivatives
    from mixtheory.losses import get_loss

    X, Y = make_data(4, 3, 3, seed=10)
    model = make_mlp(3, 3, seed=11)
    d3 = directional_expansion(model, X, Y, SymmetricBeta(1.0), order=3).details["mean_derivatives"][3]
    per_pair = torch.func.vmap(_pair_derivatives(get_loss("ce"), _flat_model(model, (3,)), 2))
    i, j = torch.arange(4).repeat_interleave(4), torch.arange(4).repeat(4)
    v = X[j] - X[i]

    def central(h: float) -> float:
        with torch.no_grad():
            plus = per_pair(X[i] + h * v, v, Y[i])[:, 1].mean()
            minus = per_pair(X[i] - h * v, v, Y[i])[:, 1].mean()
        return float((plus - minus) / (2 * h))

    coarse, fine = central(2e-3), central(1e-3)
    extrapolated = (4 * fine - coarse) / 3  # cancels the h² term
    assert abs(d3 - extrapolated) <= abs(fine - coarse)
    assert abs(d3 - extrapolated) < 1e-3 * abs(d3)


SCALES = {
    1: [0.05 * 2.0**-k for k in range(6)],
    2: [0.05 * 2.0**-k for k in range(6)],
    3: [0.2 * 2.0**-k for k in range(6)],
}


def expansion_errors(order, moments, law):
    X0, Y = make_data(12, 3, 3, seed=10)
    model = make_mlp(3, 3, seed=20)
    errors = []
    for s in SCALES[order]:
        X = X0.mean(0) + s * (X0 - X0.mean(0))
        exact = exact_mixup_loss(model, X, Y, law, options=LossOptions(progress=False))
        errors.append(directional_expansion(model, X, Y, law, order=order, moments=moments).loss() - exact)
    return fit_remainder_order(SCALES[order], errors, correction=True)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_expansion_remainder_order(order):
    """With E over λ̃ the K-th order expansion leaves O(s^{K+1}) (inputs contracted by s only)."""
    fit = expansion_errors(order, "lambda_tilde", SymmetricBeta(1.0))
    assert abs(fit.slope - (order + 1)) <= t_quantile(fit.dof) * fit.stderr, fit


@pytest.mark.parametrize("order", [1, 3])
def test_expansion_with_lambdas_own_law_is_first_order(order):
    """With λ's own law (E(1−λ) = 1/2 ≠ E(1−λ̃) = 1/3 at α = 1) the remainder is only O(s)."""
    fit = expansion_errors(order, "lambda", SymmetricBeta(1.0))
    assert abs(fit.slope - 1) <= t_quantile(fit.dof) * fit.stderr, fit
