r"""The exact-loss engine and the exact mixup loss.

Every exact loss of the package is a finite sum over *atoms* of the mixing weights (λ's
quadrature nodes, θ's folded nodes, λ̃'s nodes, or mask positions × λ pieces) and over pairs
(i, j) of anchor and partner, each term a loss at one mixed point:

.. math::

    L = \sum_k w_k \sum_{i,j} P(i, j)\, ℓ(\text{mixed label}_{kij}, f(\text{mixed input}_{kij})).

:func:`exact_sum` evaluates such a sum, written once: the model is called on one
:class:`MixedBlock` (a chunk of mixed points) at a time, in the model's own dtype and device
(:func:`~mixtheory._validation.model_outputs`); the losses are weighed and summed in the data's
dtype, and the running total is kept in float64 on the data's device. A non-finite block total
stops the sum with an error that names the model's outputs (or the loss, when the outputs were
finite), so that no NaN comes back silently. Each exact loss is a specialisation that supplies the
blocks: its atoms and weights, its partner weights, and how a mixed input and label are formed.

- :func:`all_pairs_blocks`: every anchor with every partner (weight 1/n² each), chunked by
  anchors: :func:`exact_mixup_loss` here (Theorem 1 of Carratino et al., JMLR 2022, for the
  fold) and :func:`mixtheory.zhang2021.zhang_exact_loss` (λ̃ of Zhang et al., ICLR 2021, with
  the anchor's own label);
- :func:`pair_list_blocks`: a list of pairs with weights ``P(i, j)``, chunked by pairs: the folded
  loss of a non-uniform pairing (:func:`mixtheory.pairing.exact_mixup_loss_with_pairing`);
- the rounds of a partner law × chunks of mixing atoms, in
  :func:`mixtheory.mixing.exact_loss_for_rule` (partner rules, partner laws, masks; and
  :func:`mixtheory.msda.exact_masked_loss`).

``chunk_size`` means the same in every exact loss: mixed points per model call, rounded down to
whole chunks of the specialisation's unit (anchors × n partners, pairs, or atoms × n anchors), at
least one unit. The order of the sums is fixed by the blocks, so a seeded value does not change
with the machine's load; it changes with ``chunk_size`` only at float64 rounding (a test).

Every exact loss takes ``model, X, Y, law``, then what the loss is (``loss``, ``form``, the
pairing, the partner rule, the mask) as keywords, and how it is evaluated as one
:class:`LossOptions` (nodes, chunk size, route, dtype, device, progress bar).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from ._progress import progress_bar
from ._types import ArrayLike, Model, Tensor
from ._validation import (
    as_tensor,
    check_device,
    check_eval_mode,
    check_model_dtype,
    labels_for_model,
    model_dtype_device,
    model_outputs,
)
from .laws import DEFAULT_NODES, MixingLaw
from .losses import BinaryLogistic, CrossEntropy, Loss, SquaredError, get_loss

__all__ = [
    "MixedBlock",
    "exact_sum",
    "chunk_units",
    "spans",
    "all_pairs_blocks",
    "pair_list_blocks",
    "prepare_exact",
    "LossOptions",
    "loss_options",
    "exact_mixup_loss",
    "progress_bar",
]

Form = Literal["folded", "unfolded"]
#: ``"auto"``: the θ-fold of :func:`exact_mixup_loss` wherever a partner rule's limit is ``E_mix`` or
#: ``E_≠``; ``"pairs"``: always the sum over the pairs of the partner law (the tests compare the two)
Route = Literal["auto", "pairs"]


@dataclass(frozen=True)
class LossOptions:
    r"""How a loss is evaluated, not which loss it is: one options object for every exact loss
    (and the dtype, device and progress bar of the sampled mixup loss).

    Attributes:
        num_nodes: quadrature nodes per Beta piece of the law of λ (θ, λ̃ or the mask's λ pieces).
        chunk_size: mixed points per model call, in whole units of the loss (module docstring);
            None: each loss's default. Changes a value at float64 rounding only.
        route: ``"auto"`` or ``"pairs"``, for the partner-rule losses
            (:func:`mixtheory.mixing.exact_loss_for_rule`); the other losses have one route.
        dtype: the dtype the data are brought to and the losses weighed and summed in
            (``torch.float64``, or ``torch.float32``); the total is always kept in float64.
        device: the device the data are brought to (None: where X is); the model runs on its own.
        progress: a progress bar (None: for long runs; False: never).

    >>> LossOptions(num_nodes=32).chunk_size is None
    True
    """

    num_nodes: int = DEFAULT_NODES
    chunk_size: int | None = None
    route: Route = "auto"
    dtype: torch.dtype = torch.float64
    device: torch.device | str | None = None
    progress: bool | None = None

    def __post_init__(self) -> None:
        if isinstance(self.num_nodes, bool) or int(self.num_nodes) != self.num_nodes or self.num_nodes < 1:
            raise ValueError(f"num_nodes must be a positive integer, got {self.num_nodes!r}")
        chunk_units(self.chunk_size, 1, 1)  # refuses anything but None or a positive integer
        if self.route not in ("auto", "pairs"):
            raise ValueError(f"route must be 'auto' or 'pairs', got {self.route!r}")
        if self.dtype not in (torch.float64, torch.float32):
            raise TypeError(
                f"dtype must be torch.float64 (the default) or torch.float32, the dtype the losses are "
                f"weighed and summed in; got {self.dtype!r}"
            )
        check_device(self.device)
        if self.progress not in (None, True, False):
            raise TypeError(f"progress must be None, True or False, got {self.progress!r}")


def loss_options(options: LossOptions | None) -> LossOptions:
    """``options``, or the defaults for None; a clear error for anything else."""
    if options is None:
        return LossOptions()
    if not isinstance(options, LossOptions):
        raise TypeError(
            f"options must be a mixtheory.exact_loss.LossOptions (e.g. LossOptions(num_nodes=32)), "
            f"got {type(options).__name__}"
        )
    return options


#: losses whose value is non-finite wherever an output is: one check of each block's sum replaces
#: the element-wise check of every output (the failing block is re-checked to name the outputs)
_SUM_CHECKED = (CrossEntropy, SquaredError, BinaryLogistic)


@dataclass(frozen=True)
class MixedBlock:
    r"""One model call of an exact loss: ``scale · Σ (ℓ(targets, f(inputs)).reshape(shape) · f_1 · f_2 ⋯)``.

    Attributes:
        inputs: (m, *input_shape) mixed inputs, as the model (or the head of an affine split) takes them.
        targets: (m, c) mixed labels.
        factors: weights multiplied into the losses in this order, before the sum; each broadcasts
            against the losses reshaped to ``shape`` (partner and atom weights).
        scale: a weight multiplied into the block's sum (a quadrature weight), or None.
        shape: the shape the (m,) losses take before the factors; None keeps (m,).
    """

    inputs: Tensor
    targets: Tensor
    factors: tuple[Tensor, ...] = ()
    scale: Tensor | float | None = None
    shape: tuple[int, ...] | None = None


def exact_sum(
    model: Callable[[Tensor], Tensor],
    blocks: Iterable[MixedBlock],
    loss: Loss,
    *,
    dtype: torch.dtype,
    device: torch.device,
    steps: int,
    desc: str = "exact loss",
    progress: bool | None = None,
) -> Tensor:
    r"""``Σ_blocks scale · Σ ℓ · factors`` as a float64 scalar on ``device`` (module docstring).

    ``dtype``: the dtype the outputs are brought to and the losses weighed in (the data's);
    ``steps``: the number of blocks, for the progress bar (drawn for long runs by default)."""
    sum_checked = type(loss) in _SUM_CHECKED
    total = torch.zeros((), dtype=torch.float64, device=device)
    with torch.no_grad(), progress_bar(steps, desc, progress) as bar:
        for block in blocks:
            c = block.targets.shape[1]
            out = model_outputs(model, block.inputs, c, out_dtype=dtype, allow_nonfinite=sum_checked)
            values = loss.value(block.targets, out)
            if block.shape is not None:
                values = values.reshape(block.shape)
            for factor in block.factors:
                values = values * factor
            block_total = values.sum()
            if block.scale is not None:
                block_total = block.scale * block_total
            block_total = block_total.to(torch.float64)
            if not bool(torch.isfinite(block_total)):
                model_outputs(model, block.inputs, c)  # raises, naming the outputs
                raise ValueError(
                    f"{loss.name}: the loss overflowed on finite model outputs (or the labels lie outside "
                    "its domain)"
                )
            total += block_total
            bar.update(1)
    return total


def chunk_units(chunk_size: int | None, unit: int, default: int) -> int:
    r"""Units per model call for ``chunk_size`` mixed points, a unit holding ``unit`` points:
    ``max(1, chunk_size // unit)``; ``default`` units for None. Refuses anything but a positive integer.

    >>> chunk_units(100, 30, 8), chunk_units(10, 30, 8), chunk_units(None, 30, 8)
    (3, 1, 8)
    """
    if chunk_size is None:
        return max(1, int(default))
    if isinstance(chunk_size, bool) or int(chunk_size) != chunk_size or chunk_size < 1:
        raise ValueError(
            f"chunk_size must be a positive integer (mixed points per model call), got {chunk_size!r}"
        )
    return max(1, int(chunk_size) // max(1, unit))


def spans(count: int, size: int) -> Iterator[slice]:
    """Slices of ``size`` consecutive rows covering ``range(count)``, the last possibly shorter."""
    for start in range(0, count, size):
        yield slice(start, start + size)


def all_pairs_blocks(
    z: Tensor,
    y: Tensor,
    nodes: Tensor,
    weights: Tensor,
    *,
    anchors: int,
    shape: tuple[int, ...],
    mix_labels: bool = True,
) -> Iterator[MixedBlock]:
    r"""Blocks of ``Σ_k w_k Σ_i Σ_j ℓ(t_k y_i + (1 − t_k) y_j, f(t_k z_i + (1 − t_k) z_j))`` (the sum
    over all n² pairs, not divided by n²), ``anchors`` anchors × all n partners per block.
    ``mix_labels=False`` keeps the anchor's own label ``y_i`` (Zhang et al.'s λ̃ form).
    z: (n, p) flat inputs, reshaped to (·, *shape) for the model."""
    n = z.shape[0]
    for t, w in zip(nodes, weights):
        # the partners' side (1 − t)·z_j is shared by every chunk of anchors
        partner_z, partner_y = (1 - t) * z, (1 - t) * y
        for rows in spans(n, anchors):
            zi, yi = z[rows], y[rows]
            mixed_z = (t * zi[:, None, :] + partner_z[None]).reshape(-1, *shape)
            if mix_labels:
                mixed_y = (t * yi[:, None, :] + partner_y[None]).reshape(mixed_z.shape[0], -1)
            else:
                mixed_y = yi[:, None, :].expand(yi.shape[0], n, y.shape[1]).reshape(mixed_z.shape[0], -1)
            yield MixedBlock(mixed_z, mixed_y, scale=w)


def pair_list_blocks(
    x: Tensor, y: Tensor, pairs: tuple[Tensor, Tensor, Tensor], nodes: Tensor, weights: Tensor, *, size: int
) -> Iterator[MixedBlock]:
    r"""Blocks of ``Σ_k w_k Σ_p P_p ℓ(t_k y_{i_p} + (1 − t_k) y_{j_p}, f(t_k x_{i_p} + (1 − t_k) x_{j_p}))``
    over a list of pairs ``(anchor, partner, weight)``, ``size`` pairs per block. x: (n, *input_shape)."""
    anchor, partner, pair_weight = pairs
    flat = x.reshape(x.shape[0], -1)
    for t, w in zip(nodes, weights):
        for rows in spans(anchor.numel(), size):
            i, j = anchor[rows], partner[rows]
            mixed_x = (t * flat[i] + (1 - t) * flat[j]).reshape(-1, *x.shape[1:])
            mixed_y = t * y[i] + (1 - t) * y[j]
            yield MixedBlock(mixed_x, mixed_y, factors=(pair_weight[rows],), scale=w)


def prepare_exact(
    model: Model,
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    loss: str | Loss,
    options: LossOptions,
    num_classes: int | None = None,
) -> tuple[Tensor, Tensor, Loss]:
    """Checked inputs (n, *input_shape) with n ≥ 2 in the options' dtype and device, labels (n, c)
    and the Loss of an exact or sampled loss."""
    if not isinstance(law, MixingLaw):
        raise TypeError(f"law must be a mixtheory law (e.g. SymmetricBeta(alpha)), got {type(law).__name__}")
    check_eval_mode(model)
    check_model_dtype(model)
    x = as_tensor("X", X, dtype=options.dtype, device=options.device)
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
    *,
    loss: str | Loss = "ce",
    form: Form = "folded",
    num_classes: int | None = None,
    options: LossOptions | None = None,
) -> float:
    r"""The exact mixup loss ``E_mix = (1/n²) Σ_i Σ_j E_λ ℓ(λ y_i + (1−λ) y_j, f(λ x_i + (1−λ) x_j))``
    of ``model`` on (X, Y) with λ from ``law``: quadrature over θ times the sum over every partner,
    by :func:`exact_sum` over :func:`all_pairs_blocks` (module docstring).

    Args:
        model: callable mapping (batch, *input_shape) to (batch, c) outputs; it runs in its own
            dtype and device, the sum is accumulated in ``dtype`` (float64 by default).
        X: (n, d) or (n, *input_shape); Y: (n, c) labels or (n,) integer class indices.
        law: the law of λ. loss: ``"ce"``, ``"mse"``, ``"logistic"``, a Loss or callable.
        form: ``"folded"`` (θ on [1/2, 1], Theorem 1) or ``"unfolded"`` (λ on [0, 1]).
        num_classes: the number of classes, for (n,) class indices (default: the model's outputs).
        options: :class:`LossOptions` (nodes per Beta piece, chunk size, dtype, device, progress).
            ``chunk_size`` counts whole anchors (each with its n partners); default ~2e6 numbers
            per call (``benchmarks/bench_exact_loss.py`` compares sizes).

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
    options = loss_options(options)
    x, y, loss = prepare_exact(model, X, Y, law, loss, options, num_classes)
    n = x.shape[0]
    if form == "folded":
        rule = law.theta_rule(options.num_nodes)
    elif form == "unfolded":
        rule = law.lambda_rule(options.num_nodes)
    else:
        raise ValueError(f"form must be 'folded' or 'unfolded', got {form!r}")
    nodes, weights = rule.to_torch(x.dtype, x.device)
    with torch.no_grad():
        z, head, z_shape = _mixing_space(model, x)
    # default: ~2e6 numbers per mixed batch, small enough to stay cache-friendly (see the benchmark)
    anchors = chunk_units(options.chunk_size, n, 2e6 // (n * z.shape[1] + n * y.shape[1]))
    blocks = all_pairs_blocks(z, y, nodes, weights, anchors=anchors, shape=z_shape)
    steps = nodes.numel() * math.ceil(n / anchors)
    total = exact_sum(
        head,
        blocks,
        loss,
        dtype=x.dtype,
        device=x.device,
        steps=steps,
        desc="exact mixup loss",
        progress=options.progress,
    )
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
