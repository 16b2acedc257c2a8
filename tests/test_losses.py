"""Loss derivatives: closed forms equal autograd; the softmax Hessian's pseudo-inverse."""

from __future__ import annotations

import mpmath as mp
import pytest
import torch

from mixtheory.losses import AutogradLoss, BinaryLogistic, CrossEntropy, SquaredError, get_loss


def _autograd_twin(loss):
    def fn(y, u):
        return loss.value(y[None], u[None])[0]

    return AutogradLoss(fn)


@pytest.mark.parametrize(
    "loss,c", [(CrossEntropy(), 4), (SquaredError(), 3), (BinaryLogistic(), 1)], ids=repr
)
def test_closed_forms_equal_autograd(loss, c):
    g = torch.Generator().manual_seed(0)
    u = 3 * torch.randn(6, c, generator=g, dtype=torch.float64)
    y = (
        torch.softmax(torch.randn(6, c, generator=g, dtype=torch.float64), -1)
        if c > 1
        else torch.rand(6, 1, generator=g, dtype=torch.float64)
    )
    twin = _autograd_twin(loss)
    for name in ("value", "grad_u", "grad_y", "hess_uu", "hess_uy", "hess_yy"):
        got, want = getattr(loss, name)(y, u), getattr(twin, name)(y, u)
        assert got.shape == want.shape, name
        assert torch.allclose(got, want, rtol=1e-12, atol=1e-13), name


def test_cross_entropy_equals_negative_log_likelihood_for_normalized_labels():
    g = torch.Generator().manual_seed(1)
    u = torch.randn(5, 3, generator=g, dtype=torch.float64)
    y = torch.softmax(torch.randn(5, 3, generator=g, dtype=torch.float64), -1)
    assert torch.allclose(CrossEntropy().value(y, u), -(y * torch.log_softmax(u, -1)).sum(-1), atol=1e-14)


def _mp_pinv_on_ones_perp(u_row):
    """(H + 11ᵀ/c)⁻¹ − 11ᵀ/c at 60 digits: the pseudo-inverse of H, independent of the code."""
    with mp.workdps(60):
        u = [mp.mpf(float(v)) for v in u_row]
        z = sum(mp.e**v for v in u)
        s = [mp.e**v / z for v in u]
        c = len(u)
        H = mp.matrix(c, c)
        for k in range(c):
            for l in range(c):
                H[k, l] = (s[k] if k == l else 0) - s[k] * s[l] + mp.mpf(1) / c
        inv = H**-1
        return [[float(inv[k, l] - mp.mpf(1) / c) for l in range(c)] for k in range(c)]


@pytest.mark.parametrize("scale", [1.0, 10.0, 30.0], ids=lambda s: f"logit-scale={s}")
def test_softmax_hessian_pseudo_inverse(scale):
    """H⁺ = P diag(1/S) P against (H + 11ᵀ/c)⁻¹ − 11ᵀ/c at 60 digits, saturated softmax included
    (at scale 30 the smallest probabilities are ~1e-40)."""
    g = torch.Generator().manual_seed(2)
    c = 5
    u = scale * torch.randn(3, c, generator=g, dtype=torch.float64)
    y = torch.zeros(3, c, dtype=torch.float64)
    ce = CrossEntropy()
    H = ce.hess_uu(y, u)
    assert (H @ torch.ones(3, c, 1, dtype=torch.float64)).abs().max() <= 1e-15
    assert torch.linalg.eigvalsh(H).min() >= -1e-15  # PSD
    eye = torch.eye(c, dtype=torch.float64).expand(3, c, c)
    got = ce.inverse_uu_apply(y, u, eye)
    for i in range(3):
        want = torch.tensor(_mp_pinv_on_ones_perp(u[i]), dtype=torch.float64)
        assert torch.allclose(got[i], want, rtol=1e-12, atol=1e-12 * float(want.abs().max()))


def test_logistic_inverse_and_generic_singular_error():
    g = torch.Generator().manual_seed(3)
    u = 5 * torch.randn(6, 1, generator=g, dtype=torch.float64)
    y = torch.rand(6, 1, generator=g, dtype=torch.float64)
    log = BinaryLogistic()
    M = torch.randn(6, 1, 2, generator=g, dtype=torch.float64)
    assert torch.allclose(log.hess_uu(y, u) * log.inverse_uu_apply(y, u, M), M, rtol=1e-12)
    generic_ce = _autograd_twin(CrossEntropy())
    with pytest.raises(ValueError, match="ℓ_uu is singular"):
        generic_ce.inverse_uu_apply(
            y.expand(6, 3), u.expand(6, 3).clone(), torch.ones(6, 3, 1, dtype=torch.float64)
        )


def test_get_loss():
    assert isinstance(get_loss("ce"), CrossEntropy)
    assert isinstance(get_loss("MSE"), SquaredError)
    assert isinstance(get_loss(lambda y, u: ((y - u) ** 2).sum()), AutogradLoss)
    with pytest.raises(ValueError, match="unknown loss"):
        get_loss("hinge")
    with pytest.raises(TypeError):
        get_loss(3)


def test_overflowing_pseudo_inverse_is_an_error_not_nan():
    u = torch.tensor([[800.0, 0.0, -1.0]], dtype=torch.float64)  # 1/S = e^800 > float64 max
    with pytest.raises(ValueError, match="1/S overflows"):
        CrossEntropy().inverse_uu_apply(torch.zeros_like(u), u, torch.eye(3, dtype=torch.float64)[None])
