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

import math
from collections.abc import Callable

import torch

from ._types import ArrayLike, Tensor
from ._validation import model_outputs, prepare_flat_inputs
from .exact_loss import LossOptions, all_pairs_blocks, chunk_units, exact_sum, loss_options
from .expansions.zhang2021 import check_linear_in_label, zhang_lambda_tilde
from .laws import MixingLaw
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
    *,
    loss: str | Loss = "ce",
    num_classes: int | None = None,
    options: LossOptions | None = None,
) -> float:
    r"""``(1/n²) Σ_i Σ_j E_λ̃ ℓ(y_i, f(λ̃ x_i + (1 − λ̃) x_j))`` with λ̃ from
    :func:`zhang_lambda_tilde` (``law`` is the law of λ itself), by quadrature over λ̃'s own rule
    times the exact sum over all partners. Equal to the mixup loss for losses affine in the label
    (module docstring; ``docs/theory.md §8.2``).

    The sum is :func:`mixtheory.exact_loss.exact_sum` over
    :func:`mixtheory.exact_loss.all_pairs_blocks` with the anchor's own label.

    Args:
        model: maps (batch, *input_shape) to (batch, c); X: (n, d) or (n, *input_shape);
        Y: (n, c) labels or (n,) class indices; law: the law of λ; loss: affine in the label.
        options: :class:`~mixtheory.exact_loss.LossOptions`; ``chunk_size`` counts whole anchors
            × n partners (default: all n² pairs of a node in one call).

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
    options = loss_options(options)
    x, y, shape, loss = prepare_flat_inputs(model, X, Y, loss, num_classes)
    n = x.shape[0]
    rule = zhang_lambda_tilde(law).lambda_rule(options.num_nodes)
    with torch.no_grad():
        check_linear_in_label(
            loss, y, model_outputs(model, x.reshape(n, *shape), y.shape[1], out_dtype=x.dtype)
        )
    x, y = (t.to(dtype=options.dtype, device=options.device or t.device) for t in (x, y))
    nodes, weights = rule.to_torch(x.dtype, x.device)
    anchors = chunk_units(options.chunk_size, n, n)
    blocks = all_pairs_blocks(x, y, nodes, weights, anchors=anchors, shape=shape, mix_labels=False)
    steps = nodes.numel() * math.ceil(n / anchors)
    total = exact_sum(
        model,
        blocks,
        loss,
        dtype=x.dtype,
        device=x.device,
        steps=steps,
        desc="Zhang's exact loss",
        progress=options.progress,
    )
    return float(total / (n * n))
