r"""Directional derivatives of a network by nested forward mode: the one implementation of
``(∇f(x) v, vᵀ∇²f(x) v)`` that the Monte Carlo of the second-order loss and the probe
estimators share."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._types import Tensor

__all__ = ["directional_derivatives"]


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
