r"""The exact mixup loss: quadrature over θ (or λ) times the sum over every partner.

``E_mix(f) = (1/n²) Σ_i Σ_j E_λ ℓ(λ y_i + (1−λ) y_j, f(λ x_i + (1−λ) x_j))``, by
:func:`exact_mixup_loss` (Theorem 1 of Carratino et al., JMLR 2022, for the fold; see
:mod:`mixtheory.mixup_loss` for its accuracy and cost). It sits below the modules that specialise
it (:mod:`mixtheory.pairing`, :mod:`mixtheory.mixing.expected_loss`) and below
:mod:`mixtheory.mixup_loss`, which re-exports it, so that none of them imports another in a cycle.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
from torch import nn

from ._progress import progress_bar
from ._types import ArrayLike, Model, Tensor
from ._validation import (
    as_tensor,
    check_eval_mode,
    check_model_dtype,
    labels_for_model,
    model_dtype_device,
    model_outputs,
)
from .laws import DEFAULT_NODES, MixingLaw
from .losses import BinaryLogistic, CrossEntropy, Loss, SquaredError, get_loss

__all__ = ["exact_mixup_loss", "progress_bar"]

Form = Literal["folded", "unfolded"]


def _prepare(model: Model, X: ArrayLike, Y: ArrayLike, law, loss, dtype, device, num_classes=None):
    if not isinstance(law, MixingLaw):
        raise TypeError(f"law must be a mixtheory law (e.g. SymmetricBeta(alpha)), got {type(law).__name__}")
    check_eval_mode(model)
    check_model_dtype(model)
    x = as_tensor("X", X, dtype=dtype, device=device)
    if x.ndim < 2:
        raise ValueError(f"X must be (n, d) or (n, *input_shape), got shape {tuple(x.shape)}")
    if x.shape[0] < 2:
        raise ValueError(
            f"X has {'no samples' if x.shape[0] == 0 else 'one sample'}: mixup mixes pairs of samples, "
            "so the mixup loss needs at least 2"
        )
    y = labels_for_model(model, x, Y, num_classes, x.dtype, x.device)
    return x, y, get_loss(loss)


def exact_mixup_loss(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    loss: str | Loss = "ce",
    *,
    form: Form = "folded",
    num_nodes: int = DEFAULT_NODES,
    chunk_size: int | None = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
    num_classes: int | None = None,
    progress: bool | None = None,
) -> float:
    r"""The exact mixup loss ``E_mix`` of ``model`` on (X, Y) with λ from ``law``: quadrature over
    θ times the sum over every partner (module docstring).

    Args:
        model: callable mapping (batch, *input_shape) to (batch, c) outputs; it runs in its own
            dtype and device, the sum is accumulated in ``dtype`` (float64 by default).
        X: (n, d) or (n, *input_shape); Y: (n, c) labels or (n,) integer class indices.
        law: the law of λ. loss: ``"ce"``, ``"mse"``, ``"logistic"``, a Loss or callable.
        form: ``"folded"`` (θ on [1/2, 1], Theorem 1) or ``"unfolded"`` (λ on [0, 1]).
        num_nodes: quadrature nodes per Beta piece.
        chunk_size: anchors per chunk; memory is ``chunk_size · n · (d + c)``. Default: ~2e6
            numbers per mixed batch (``benchmarks/bench_exact_loss.py`` compares chunk sizes).
        progress: a progress bar (default: for long runs; in logs too).

    >>> import torch
    >>> from mixtheory import SymmetricBeta
    >>> g = torch.Generator().manual_seed(0)
    >>> X, Y = torch.randn(30, 4, generator=g, dtype=torch.float64), torch.arange(30) % 3
    >>> W = torch.randn(4, 3, generator=g, dtype=torch.float64)
    >>> model = lambda x: torch.tanh(x @ W)
    >>> folded = exact_mixup_loss(model, X, Y, SymmetricBeta(0.5))
    >>> unfolded = exact_mixup_loss(model, X, Y, SymmetricBeta(0.5), form="unfolded")
    >>> abs(folded - unfolded) / folded < 1e-10        # Theorem 1
    True
    """
    x, y, loss = _prepare(model, X, Y, law, loss, dtype, device, num_classes)
    n = x.shape[0]
    if form == "folded":
        rule = law.theta_rule(num_nodes)
    elif form == "unfolded":
        rule = law.lambda_rule(num_nodes)
    else:
        raise ValueError(f"form must be 'folded' or 'unfolded', got {form!r}")
    nodes, weights = rule.to_torch(x.dtype, x.device)
    with torch.no_grad():
        z, head, z_shape = _mixing_space(model, x)
    if chunk_size is None:
        # ~2e6 numbers per mixed batch: small enough to stay cache-friendly (see the benchmark)
        chunk_size = max(1, int(2e6 // (n * z.shape[1] + n * y.shape[1])))
    elif int(chunk_size) != chunk_size or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    # a non-finite output makes these losses' values non-finite, so one check of each chunk's
    # sum replaces the element-wise check of every output (the failing chunk is re-checked)
    sum_checks_outputs = type(loss) in (CrossEntropy, SquaredError, BinaryLogistic)
    total = torch.zeros((), dtype=torch.float64, device=x.device)
    steps = nodes.numel() * math.ceil(n / chunk_size)
    with torch.no_grad(), progress_bar(steps, "exact mixup loss", progress) as bar:
        for t, w in zip(nodes, weights):
            # the partners' side (1 − t)·z_j is shared by every chunk of anchors
            partner_z, partner_y = (1 - t) * z, (1 - t) * y
            for start in range(0, n, chunk_size):
                zi, yi = z[start : start + chunk_size], y[start : start + chunk_size]
                mixed_z = (t * zi[:, None, :] + partner_z[None]).reshape(-1, *z_shape)
                mixed_y = (t * yi[:, None, :] + partner_y[None]).reshape(mixed_z.shape[0], -1)
                out = model_outputs(
                    head, mixed_z, y.shape[1], out_dtype=x.dtype, allow_nonfinite=sum_checks_outputs
                )
                chunk_total = (w * loss.value(mixed_y, out).sum()).to(torch.float64)
                if sum_checks_outputs and not bool(torch.isfinite(chunk_total)):
                    model_outputs(head, mixed_z, y.shape[1])  # raises, naming the outputs
                    raise ValueError(f"{loss.name}: the loss overflowed on finite outputs")
                total += chunk_total
                bar.update(1)
    return float(total / (n * n))


#: first layers that are exactly affine in their input, W x + b: mixing commutes with them
_AFFINE_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def _affine_split(model: Callable[[Tensor], Tensor]) -> tuple[nn.Module, nn.Module] | None:
    """``(first, rest)`` for an ``nn.Sequential`` (exactly, no subclass or hooks that could change
    its forward) whose first layer is exactly an affine layer; None otherwise."""
    if type(model) is not nn.Sequential or len(model) == 0 or type(model[0]) not in _AFFINE_LAYERS:
        return None
    if any(m._forward_hooks or m._forward_pre_hooks for m in (model, model[0])):
        return None
    return model[0], model[1:]


def _mixing_space(
    model: Callable[[Tensor], Tensor], x: Tensor
) -> tuple[Tensor, Callable[[Tensor], Tensor], tuple[int, ...]]:
    r"""Where to mix: ``(z, head, shape)`` with ``model(mixed x) = head(mixed z)``, z flat (n, ·).

    For a model ``head ∘ A`` whose first layer ``A x = W x + b`` is affine, the mixed pre-activation
    is ``A(t x_i + (1 − t) x_j) = t A x_i + (1 − t) A x_j`` (the weights sum to 1, so the bias
    mixes to itself): ``A`` runs once on the n inputs instead of once per pair and node. Any other
    callable mixes in input space (``z = x``, ``head = model``)."""
    split = _affine_split(model)
    if split is None:
        return x.reshape(x.shape[0], -1), model, tuple(x.shape[1:])
    first, head = split
    model_dtype, model_device = model_dtype_device(first)
    z = first(x.to(dtype=model_dtype or x.dtype, device=model_device or x.device))
    return z.reshape(x.shape[0], -1).to(dtype=x.dtype, device=x.device), head, tuple(z.shape[1:])
