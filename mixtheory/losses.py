r"""Losses ℓ(y, u) of a label y ∈ R^c and an output u ∈ R^c, with the derivatives Theorem 3 needs.

Conventions (all batched over a leading dimension b):

- ``value(y, u)``: (b,)
- ``grad_u`` = ℓ_u, ``grad_y`` = ℓ_y: (b, c)
- ``hess_uu`` = ℓ_uu, ``hess_uy`` with ``(ℓ_uy)_{kl} = ∂²ℓ/∂u_k∂y_l``, ``hess_yy``: (b, c, c)
- ``inverse_uu_apply(y, u, M)`` = ℓ_uu⁻¹ M for M (b, c, k); the pseudo-inverse where ℓ_uu is
  singular by construction (cross-entropy, on 1⊥).

Cross-entropy on logits with soft labels: ``ℓ(y, u) = logsumexp(u) − yᵀu`` (= −yᵀ log S(u) when
Σy = 1). ``ℓ_u = S − y``, ``ℓ_uu = H = diag(S) − S Sᵀ``, ``ℓ_uy = −I``, ``ℓ_yy = 0``. H·1 = 0;
its pseudo-inverse is ``H⁺ = P diag(1/S) P`` with ``P = I − 11ᵀ/c`` (for v ⊥ 1, x = P(v/S) solves
Hx = v in 1⊥), exact however saturated the softmax is, as long as 1/S fits the dtype.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._types import Tensor

__all__ = ["Loss", "CrossEntropy", "SquaredError", "BinaryLogistic", "AutogradLoss", "get_loss"]


def _eye_like(u: Tensor) -> Tensor:
    b, c = u.shape
    return torch.eye(c, dtype=u.dtype, device=u.device).expand(b, c, c)


class Loss:
    """Base class; subclasses give closed-form derivatives (see the module docstring)."""

    name = "loss"
    requires_normalized_labels = False

    def value(self, y: Tensor, u: Tensor) -> Tensor:
        raise NotImplementedError

    def grad_u(self, y: Tensor, u: Tensor) -> Tensor:
        raise NotImplementedError

    def grad_y(self, y: Tensor, u: Tensor) -> Tensor:
        raise NotImplementedError

    def hess_uu(self, y: Tensor, u: Tensor) -> Tensor:
        raise NotImplementedError

    def hess_uy(self, y: Tensor, u: Tensor) -> Tensor:
        raise NotImplementedError

    def hess_yy(self, y: Tensor, u: Tensor) -> Tensor:
        raise NotImplementedError

    def inverse_uu_apply(self, y: Tensor, u: Tensor, M: Tensor) -> Tensor:
        r"""ℓ_uu⁻¹ M, M of shape (b, c, k); raises when ℓ_uu is numerically singular."""
        L = self.hess_uu(y, u)
        eigvals = torch.linalg.eigvalsh(L)
        eps = torch.finfo(L.dtype).eps
        top = eigvals.abs().amax(-1)
        bottom = eigvals.abs().amin(-1)
        singular = bottom <= L.shape[-1] * eps * top
        if bool(singular.any()):
            worst = int(singular.nonzero()[0, 0])
            raise ValueError(
                f"{self.name}: ℓ_uu is singular at sample {worst} of this batch (eigenvalues "
                f"{eigvals[worst].tolist()}); Theorem 3 needs ℓ_uu⁻¹. For cross-entropy use "
                "loss='ce', whose pseudo-inverse on 1⊥ is exact."
            )
        return torch.linalg.solve(L, M)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class CrossEntropy(Loss):
    r"""Softmax cross-entropy on logits, soft labels allowed: ``ℓ = logsumexp(u) − yᵀu``.

    >>> import torch
    >>> ce = CrossEntropy()
    >>> u = torch.tensor([[2.0, -1.0, 0.5]], dtype=torch.float64)
    >>> y = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
    >>> H = ce.hess_uu(y, u)
    >>> bool(torch.allclose(H @ torch.ones(3, dtype=torch.float64), torch.zeros(1, 3, dtype=torch.float64)))
    True
    """

    name = "cross-entropy"
    requires_normalized_labels = True

    def value(self, y: Tensor, u: Tensor) -> Tensor:
        return torch.logsumexp(u, -1) - (y * u).sum(-1)

    def grad_u(self, y: Tensor, u: Tensor) -> Tensor:
        return torch.softmax(u, -1) - y

    def grad_y(self, y: Tensor, u: Tensor) -> Tensor:
        return -u

    def hess_uu(self, y: Tensor, u: Tensor) -> Tensor:
        s = torch.softmax(u, -1)
        # diagonal S_k(1 − S_k) written as S_k Σ_{j≠k} S_j: when S_k ≈ 1, 1 − S_k would cancel
        # and round H to an indefinite matrix
        others = (s[:, None, :] * (1 - torch.eye(s.shape[-1], dtype=s.dtype, device=s.device))).sum(-1)
        return torch.diag_embed(s * others) - (s[:, :, None] * s[:, None, :]) * (
            1 - torch.eye(s.shape[-1], dtype=s.dtype, device=s.device)
        )

    def hess_uy(self, y: Tensor, u: Tensor) -> Tensor:
        return -_eye_like(u)

    def hess_yy(self, y: Tensor, u: Tensor) -> Tensor:
        b, c = u.shape
        return torch.zeros(b, c, c, dtype=u.dtype, device=u.device)

    def inverse_uu_apply(self, y: Tensor, u: Tensor, M: Tensor) -> Tensor:
        # H⁺ = P diag(1/S) P; 1/S = exp(−log S) from log_softmax, exact until it overflows
        inv_s = torch.exp(-torch.log_softmax(u, -1))
        if not bool(torch.isfinite(inv_s).all()):
            gap = float((u.amax(-1) - u.amin(-1)).max())
            raise ValueError(
                f"outputs are so saturated (logit gap {gap:.0f}) that 1/S overflows {u.dtype}: H⁺, "
                "and with it R1 and R3 separately, exceed the floating-point range (R1 + R3 stays "
                "finite). Use float64 outputs, or report R1 + R3 (the uncompleted quadratic form)."
            )
        PM = M - M.mean(-2, keepdim=True)
        out = inv_s[:, :, None] * PM
        return out - out.mean(-2, keepdim=True)


class SquaredError(Loss):
    r"""``ℓ = ½‖y − u‖²``: ℓ_u = u − y, ℓ_uu = I, ℓ_uy = −I, ℓ_yy = I."""

    name = "squared error"

    def value(self, y: Tensor, u: Tensor) -> Tensor:
        return 0.5 * ((y - u) ** 2).sum(-1)

    def grad_u(self, y: Tensor, u: Tensor) -> Tensor:
        return u - y

    def grad_y(self, y: Tensor, u: Tensor) -> Tensor:
        return y - u

    def hess_uu(self, y: Tensor, u: Tensor) -> Tensor:
        return _eye_like(u)

    def hess_uy(self, y: Tensor, u: Tensor) -> Tensor:
        return -_eye_like(u)

    def hess_yy(self, y: Tensor, u: Tensor) -> Tensor:
        return _eye_like(u)

    def inverse_uu_apply(self, y: Tensor, u: Tensor, M: Tensor) -> Tensor:
        return M


class BinaryLogistic(Loss):
    r"""Binary logistic loss on one logit, label y ∈ [0, 1]: ``ℓ = log(1 + eᵘ) − y u`` (c = 1).

    ℓ_u = σ(u) − y, ℓ_uu = σ(u)(1 − σ(u)), ℓ_uy = −1, ℓ_yy = 0.
    """

    name = "binary logistic"

    def _check(self, u):
        if u.shape[-1] != 1:
            raise ValueError(f"binary logistic loss needs one output per sample, got {u.shape[-1]}")

    def value(self, y: Tensor, u: Tensor) -> Tensor:
        self._check(u)
        return (torch.nn.functional.softplus(u) - y * u).sum(-1)

    def grad_u(self, y: Tensor, u: Tensor) -> Tensor:
        return torch.sigmoid(u) - y

    def grad_y(self, y: Tensor, u: Tensor) -> Tensor:
        return -u

    def hess_uu(self, y: Tensor, u: Tensor) -> Tensor:
        s = torch.sigmoid(u)
        return (s * (1 - s))[:, :, None]

    def hess_uy(self, y: Tensor, u: Tensor) -> Tensor:
        return -_eye_like(u)

    def hess_yy(self, y: Tensor, u: Tensor) -> Tensor:
        return torch.zeros_like(u)[:, :, None]

    def inverse_uu_apply(self, y: Tensor, u: Tensor, M: Tensor) -> Tensor:
        # 1/(σ(1−σ)) = 2 + e^u + e^{−u}: exact and overflow-free until |u| > 700
        return (2.0 + 2.0 * torch.cosh(u))[:, :, None] * M


class AutogradLoss(Loss):
    r"""Any twice-differentiable loss from a torch function ``fn(y, u) -> scalar`` of one sample
    (y: (c,), u: (c,)); derivatives by ``torch.func`` (vmapped over the batch).

    >>> import torch
    >>> mse = AutogradLoss(lambda y, u: 0.5 * ((y - u) ** 2).sum())
    >>> y = torch.zeros(2, 3, dtype=torch.float64); u = torch.ones(2, 3, dtype=torch.float64)
    >>> bool(torch.allclose(mse.hess_uy(y, u), SquaredError().hess_uy(y, u)))
    True
    """

    name = "autograd loss"

    def __init__(self, fn: Callable[[Tensor, Tensor], Tensor], name: str = "autograd loss"):
        if not callable(fn):
            raise TypeError("fn must be callable: fn(y, u) -> scalar tensor, for one sample")
        self.fn = fn
        self.name = name

    def value(self, y: Tensor, u: Tensor) -> Tensor:
        return torch.func.vmap(self.fn)(y, u)

    def grad_u(self, y: Tensor, u: Tensor) -> Tensor:
        return torch.func.vmap(torch.func.grad(self.fn, argnums=1))(y, u)

    def grad_y(self, y: Tensor, u: Tensor) -> Tensor:
        return torch.func.vmap(torch.func.grad(self.fn, argnums=0))(y, u)

    def hess_uu(self, y: Tensor, u: Tensor) -> Tensor:
        return torch.func.vmap(torch.func.hessian(self.fn, argnums=1))(y, u)

    def hess_uy(self, y: Tensor, u: Tensor) -> Tensor:
        mixed = torch.func.jacfwd(torch.func.grad(self.fn, argnums=1), argnums=0)
        return torch.func.vmap(mixed)(y, u)

    def hess_yy(self, y: Tensor, u: Tensor) -> Tensor:
        return torch.func.vmap(torch.func.hessian(self.fn, argnums=0))(y, u)


_LOSSES: dict[str, type[Loss]] = {
    "ce": CrossEntropy,
    "cross-entropy": CrossEntropy,
    "cross_entropy": CrossEntropy,
    "mse": SquaredError,
    "squared": SquaredError,
    "squared-error": SquaredError,
    "logistic": BinaryLogistic,
    "binary-logistic": BinaryLogistic,
}


def get_loss(loss: str | Loss | Callable) -> Loss:
    """A Loss from a name (``ce``, ``mse``, ``logistic``), a Loss, or a callable fn(y, u)."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        key = loss.lower()
        if key not in _LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(sorted(_LOSSES))}")
        return _LOSSES[key]()
    if callable(loss):
        return AutogradLoss(loss)
    raise TypeError(f"loss must be a name, a Loss or a callable, got {type(loss).__name__}")
