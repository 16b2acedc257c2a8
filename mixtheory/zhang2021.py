r"""The mixup loss in the λ̃ form of Zhang, Deng, Kawaguchi, Ghorbani, Zou, "How Does Mixup Help With
Robustness and Generalization?" (ICLR 2021): :func:`zhang_exact_loss`, exactly (``docs/theory.md
§2.4, §8.2``). For a loss affine in the label, ``ℓ(y, u) = h(u) − yᵀu``,

.. math::

    E_{mix}(f) = \frac1{n^2}\sum_{i,j} E_{λ̃}\, ℓ\big(y_i, f(λ̃ x_i + (1−λ̃) x_j)\big),

with λ̃ of density ``t p(t) + t p(1−t)`` (:func:`mixtheory.expansions.zhang2021.zhang_lambda_tilde`).
The expansion of this loss around the anchors (the paper's Lemma 3.1), the law of λ̃ and its
moments are :mod:`mixtheory.expansions.zhang2021`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._types import ArrayLike, Tensor
from ._validation import model_outputs, prepare_flat_inputs
from .expansions.zhang2021 import check_linear_in_label, zhang_lambda_tilde
from .laws import DEFAULT_NODES, MixingLaw
from .losses import Loss

__all__ = ["zhang_exact_loss"]


# --------------------------------------------------------------------------------------------
# The exact loss in the λ̃ form
# --------------------------------------------------------------------------------------------
def zhang_exact_loss(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    loss: str | Loss = "ce",
    *,
    num_nodes: int = DEFAULT_NODES,
    num_classes: int | None = None,
) -> float:
    r"""``(1/n²) Σ_i Σ_j E_λ̃ ℓ(y_i, f(λ̃ x_i + (1 − λ̃) x_j))`` with λ̃ from
    :func:`zhang_lambda_tilde` (``law`` is the law of λ itself), by quadrature over λ̃'s own rule
    times the exact sum over all partners. Equal to the mixup loss for losses affine in the label
    (module docstring; ``docs/theory.md §8.2``).

    Args:
        model: maps (batch, *input_shape) to (batch, c); X: (n, d) or (n, *input_shape);
        Y: (n, c) labels or (n,) class indices; law: the law of λ; loss: affine in the label.

    >>> import torch
    >>> from mixtheory import SymmetricBeta, exact_mixup_loss
    >>> g = torch.Generator().manual_seed(0)
    >>> X, Y = torch.randn(10, 3, generator=g, dtype=torch.float64), torch.arange(10) % 2
    >>> W = torch.randn(3, 2, generator=g, dtype=torch.float64)
    >>> model = lambda x: torch.tanh(x @ W)
    >>> law = SymmetricBeta(0.4)
    >>> abs(zhang_exact_loss(model, X, Y, law) - exact_mixup_loss(model, X, Y, law)) < 1e-12
    True
    """
    x, y, shape, loss = prepare_flat_inputs(model, X, Y, loss, num_classes)
    n = x.shape[0]
    rule = zhang_lambda_tilde(law).lambda_rule(num_nodes)
    with torch.no_grad():
        check_linear_in_label(
            loss, y, model_outputs(model, x.reshape(n, *shape), y.shape[1], out_dtype=x.dtype)
        )
        total = torch.zeros((), dtype=torch.float64)
        labels = y[:, None, :].expand(n, n, y.shape[1]).reshape(n * n, -1)
        for t, w in zip(rule.nodes.tolist(), rule.weights.tolist()):
            mixed = (t * x[:, None, :] + (1.0 - t) * x[None, :, :]).reshape(n * n, *shape)
            out = model_outputs(model, mixed, y.shape[1], out_dtype=x.dtype)
            total += w * loss.value(labels, out).sum()
    return float(total / (n * n))
