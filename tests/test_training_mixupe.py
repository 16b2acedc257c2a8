"""MixupE objective: what η̂, the residual stop-gradient and the JVP route do to the gradient.

Every identity is exact algebra, checked in float64 at rtol 1e-12 on a small tanh network whose
parameter gradient is taken by autograd through :meth:`MixupE.combine` / :meth:`MixupE.regularizer`.
"""

from __future__ import annotations

import pytest
import torch

from mixtheory import SymmetricBeta
from mixtheory.expansions.mixupe import first_order_term, first_order_term_approx
from mixtheory.training import MixupE, cross_entropy, mixupe_first_order

RTOL = 1e-12


@pytest.fixture
def setup():
    g = torch.Generator().manual_seed(3)
    n, d, c = 12, 5, 3
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    Y = torch.nn.functional.one_hot(torch.arange(n) % c, c).to(torch.float64)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(d, 7), torch.nn.Tanh(), torch.nn.Linear(7, c)).double()
    mixed = 0.7 * X + 0.3 * X.flip(0), 0.7 * Y + 0.3 * Y.flip(0)
    return net, X, Y, mixed


def _grad(net, value: torch.Tensor) -> torch.Tensor:
    params = list(net.parameters())
    grads = torch.autograd.grad(value, params, retain_graph=True, allow_unused=True)
    # the last bias does not enter ∇f: its gradient is exactly zero
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for p, g in zip(params, grads)])


def _parts(objective: MixupE, net, X, Y, mixed):
    objective._x_mean = X.mean(0)
    mixed_loss = cross_entropy(mixed[1], net(mixed[0]))
    reg, _ = objective.regularizer(net, X, Y, SymmetricBeta(1.0))
    return mixed_loss, reg


def _close(a: torch.Tensor, b: torch.Tensor) -> None:
    assert a.shape == b.shape
    assert float((a - b).norm() / b.norm()) < RTOL


def test_eta_hat_none_is_loss_plus_eta_regularizer(setup):
    net, X, Y, mixed = setup
    obj = MixupE(eta=0.5)
    loss, _ = obj.combine(*_parts(obj, net, X, Y, mixed))
    L, R = _parts(obj, net, X, Y, mixed)
    _close(_grad(net, loss), _grad(net, L) + 0.5 * _grad(net, R))


def test_eta_hat_detached_rescales_the_mixupe_gradient(setup):
    net, X, Y, mixed = setup
    obj = MixupE(eta=0.5, eta_hat="detached")
    L, R = _parts(obj, net, X, Y, mixed)
    loss, eta_hat = obj.combine(L, R)
    assert 0 < eta_hat < 1  # R > 0 with |q̂|: η̂ = L/(L + ηR) shrinks the step
    assert abs(float(loss.detach()) - float(L.detach())) < 1e-14 * float(L.detach())  # value |L|
    grad = _grad(net, loss)
    L, R = _parts(obj, net, X, Y, mixed)
    _close(grad, eta_hat * (_grad(net, L) + 0.5 * _grad(net, R)))


def test_eta_hat_attached_removes_the_regularizer_from_the_gradient(setup):
    net, X, Y, mixed = setup
    obj = MixupE(eta=0.5, eta_hat="attached")
    L, R = _parts(obj, net, X, Y, mixed)
    grad = _grad(net, obj.combine(L, R)[0])
    L, R = _parts(obj, net, X, Y, mixed)
    g_mix, g_reg = _grad(net, L), _grad(net, R)
    _close(grad, g_mix)
    assert float((0.5 * g_reg).norm() / g_mix.norm()) > 1e-3  # the regularizer would have mattered


def test_q_by_jvp_matches_the_module_value_and_the_double_backward_gradient(setup):
    """Exact q through torch.func.jvp = mixtheory.expansions.mixupe.first_order_term (values), and its
    parameter gradient with the residual detached = the official double-backward route."""
    net, X, Y, _ = setup
    x_mean = X.mean(0)
    q, _ = mixupe_first_order(net, X, Y, x_mean, term="q", detach_residual=True)
    _close(q.detach(), first_order_term(net, X, Y))
    x = X.clone().requires_grad_(True)
    residual = (torch.softmax(net(x), -1) - Y).detach()
    (dx,) = torch.autograd.grad((net(x) * residual).sum(), x, create_graph=True)
    q_double_backward = (dx * (x_mean - X)).sum(-1)
    _close(_grad(net, q.sum()), _grad(net, q_double_backward.sum()))


def test_q_hat_detached_residual_moves_only_the_logits(setup):
    net, X, Y, _ = setup
    q_hat, logits = mixupe_first_order(net, X, Y, X.mean(0), term="q_hat", detach_residual=False)
    _close(q_hat.detach(), first_order_term_approx(net, X, Y).detach())
    q_det, _ = mixupe_first_order(net, X, Y, X.mean(0), term="q_hat", detach_residual=True)
    residual = (torch.softmax(net(X), -1) - Y).detach()
    _close(_grad(net, q_det.sum()), _grad(net, -(residual * net(X)).sum()))
    assert float((_grad(net, q_hat.sum()) - _grad(net, q_det.sum())).norm()) > 1e-6


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_official_versions_settings(version):
    obj = MixupE.official(version, alpha=2.0)
    assert obj.eta_hat == "detached" and obj.moments == "lambda_tilde"
    assert obj.term == ("q" if version <= 2 else "q_hat")
    assert obj.sign == (1 if version <= 2 else -1)
    # κ = E[1 − λ̃] = α/(2α+1) for λ̃ ~ Beta(α+1, α) (the code's 1 − lamba_mod_mean)
    assert abs(obj.coefficient(SymmetricBeta(2.0)) - 2.0 / 5.0) < 1e-12


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="eta_hat"):
        MixupE(eta_hat="sometimes")
    with pytest.raises(ValueError, match="term"):
        MixupE(term="q_tilde")
    with pytest.raises(ValueError, match="version"):
        MixupE.official(5)
