r"""Derivatives of a network with respect to its input, written once:

- :func:`directional_derivatives`: ``(∇f(x) v, vᵀ∇²f(x) v)`` by nested forward mode, which the
  Monte Carlo of the second-order loss, the probe estimators and MixupE's directional expansion
  share;
- :func:`derivatives_at`: dense outputs, input Jacobians and the loss-weighted input Hessian
  ``Σ_k (ℓ_u)_k ∇²f_k`` at given points (small d), which Theorem 3's dense route (Carratino et al.,
  JMLR 2022) and the expansions around the anchor (Zhang et al., ICLR 2021; Park et al., NeurIPS
  2022) share (``docs/theory.md`` §4, §8.2–8.3)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._types import Tensor
from ._validation import (
    check_eval_mode,
    check_model_dtype,
    model_call_errors,
    model_dtype_device,
    model_outputs,
)
from .losses import Loss, get_loss

__all__ = ["derivatives_at", "directional_derivatives"]


def directional_derivatives(f: Callable[[Tensor], Tensor], x: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
    r"""``(∇f(x) v, vᵀ∇²f(x) v)`` for one direction ``v`` (same shape as ``x``), by a jvp of a jvp:
    the primal of the outer pass is the first directional derivative, its tangent the second.
    Compose with ``torch.func.vmap`` for batches of points or of directions.

    >>> import torch
    >>> f = lambda x: torch.stack([x.pow(3).sum(), x.prod()])
    >>> x, v = torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([1.0, -1.0], dtype=torch.float64)
    >>> first, second = directional_derivatives(f, x, v)
    >>> first.tolist(), second.tolist()        # 3x²·v = 3 − 12; 6x·v² = 6 + 12; d²(x1 x2) = 2 v1 v2
    ([-9.0, 1.0], [18.0, -2.0])
    """

    def first(z: Tensor) -> Tensor:
        return torch.func.jvp(f, (z,), (v,))[1]

    return torch.func.jvp(first, (x,), (v,))


def derivatives_at(
    model: Callable[[Tensor], Tensor],
    points: Tensor,
    labels: Tensor,
    loss: str | Loss = "ce",
    *,
    input_shape: tuple[int, ...] | None = None,
    hessian: bool = True,
) -> tuple[Tensor, Tensor, Tensor | None]:
    r"""Dense derivatives of a network at flat points ``x`` (m, d) with labels ``y`` (m, c):
    outputs ``f(x)`` (m, c), input Jacobians ``∇f(x)`` (m, c, d) and, if ``hessian``,
    ``T = Σ_k (ℓ_u)_k ∇²f_k(x)`` (m, d, d), the input Hessian of ``g = wᵀf`` with
    ``w = ℓ_u(y, f(x))`` held fixed (one scalar function, not c Hessians). Small d only.

    The network runs in its own dtype and on its own device (a float32 model gets float32 inputs);
    the results come back in the dtype and device of ``points``. ``input_shape``: the shape the
    model expects per sample (default: flat)."""
    loss = get_loss(loss)
    check_eval_mode(model)
    check_model_dtype(model)
    model_dtype, model_device = model_dtype_device(model)
    run = {"dtype": model_dtype or points.dtype, "device": model_device or points.device}
    shape = (points.shape[-1],) if input_shape is None else tuple(input_shape)
    x = points.to(**run)
    y = labels.to(**run)

    def f(x_flat: Tensor) -> Tensor:
        return model(x_flat.reshape(1, *shape))[0]

    def back(t: Tensor) -> Tensor:
        return t.to(device=points.device, dtype=points.dtype)

    with torch.no_grad():
        u = model_outputs(model, x.reshape(x.shape[0], *shape), labels.shape[-1])
    # Outer no_grad: torch.func transforms still differentiate w.r.t. the input, but no graph
    # is kept for the model's parameters.
    with torch.no_grad(), model_call_errors():
        jac = torch.func.vmap(torch.func.jacrev(f))(x)
        if not hessian:
            return back(u), back(jac), None
        w = loss.grad_u(y, u)

        def g(x_flat: Tensor, weights: Tensor) -> Tensor:
            return (weights * f(x_flat)).sum()

        T = torch.func.vmap(torch.func.hessian(g, argnums=0))(x, w)
    return back(u), back(jac), back(T)
