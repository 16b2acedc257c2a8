r"""The jet type and the per-layer rules of second-order Taylor mode (:mod:`.jets`).

A :class:`Jet` ``(x, ẋ, ẍ)`` is mapped by each leaf module: affine layers (linear, convolution,
eval-mode batch norm, average pooling, zero padding, reshapes) to ``(A x + b, A₀ ẋ, A₀ ẍ)``,
elementwise σ to ``(σ, σ' ẋ, σ' ẍ + σ'' ẋ²)`` (:func:`elementwise_derivatives`: closed forms for the
common activations), and smooth per-sample maps (layer and group norm) by nested forward mode
(:func:`smooth_jet`). :func:`module_jet` walks an ``nn.Sequential``; the ``torch.fx`` graph walker
of :mod:`._jet_graph` reuses these rules for the modules and functions it meets.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import jvp, vmap

__all__ = [
    "Jet",
    "module_unsupported",
    "elementwise_derivatives",
    "function_derivatives",
    "elementwise_jet",
    "map_streams",
    "module_jet",
    "smooth_jet",
    "layer_jet",
    "batchnorm_scale",
    "conv_then_batchnorm_jet",
    "CONV_TYPES",
    "BATCHNORM_TYPES",
]

# fmt: off
_ELEMENTWISE = (
    nn.Tanh, nn.Sigmoid, nn.Softplus, nn.GELU, nn.SiLU, nn.ELU, nn.CELU, nn.SELU, nn.Mish,
    nn.LogSigmoid, nn.Tanhshrink, nn.Softsign, nn.ReLU, nn.LeakyReLU, nn.ReLU6, nn.Hardtanh,
)
_IDENTITY = (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)
_LINEAR_NO_BIAS = (
    nn.Flatten, nn.Unflatten, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d, nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.ZeroPad1d, nn.ZeroPad2d, nn.ZeroPad3d,
    nn.ConstantPad1d, nn.ConstantPad2d, nn.ConstantPad3d,
)
_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_BATCHNORM = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
_SMOOTH_PER_SAMPLE = (nn.LayerNorm, nn.GroupNorm)
# fmt: on
CONV_TYPES, BATCHNORM_TYPES = _CONV, _BATCHNORM


class Jet(NamedTuple):
    """A second-order jet of k directions: ``primal`` (B, ...), ``first`` (k, B, ...) and ``second``
    (g, B, ...), each second-order row the sum over a group of k / g consecutive directions (g = k:
    one row per direction); ``second=None`` means ẍ = 0."""

    primal: Tensor
    first: Tensor
    second: Tensor | None
    groups: int

    @property
    def k(self) -> int:
        return self.first.shape[0]

    def full(self) -> Jet:
        """The same jet with explicit (zero) second-order rows."""
        if self.second is not None:
            return self
        return self._replace(second=self.first.new_zeros((self.groups, *self.first.shape[1:])))

    def group_sum(self, per_direction: Tensor) -> Tensor:
        """Sum k per-direction rows (k, B, ...) within the g groups: (g, B, ...)."""
        if self.groups == self.k:
            return per_direction
        return per_direction.reshape(self.groups, self.k // self.groups, *per_direction.shape[1:]).sum(1)

    def map(self, fn: Callable[[Tensor], Tensor], primal: Tensor) -> Jet:
        """A linear map applied to both tangent streams, with the new primal."""
        second = None if self.second is None else fn(self.second)
        return Jet(primal, fn(self.first), second, self.groups)


# --- support -------------------------------------------------------------------------------------


def module_unsupported(module: nn.Module) -> str | None:
    """Why a leaf module has no jet rule, or None."""
    name = type(module).__name__
    if isinstance(module, (nn.ConstantPad1d, nn.ConstantPad2d, nn.ConstantPad3d)) and module.value != 0:
        return f"{name} with a nonzero fill value (not linear)"
    if isinstance(module, _BATCHNORM):
        if module.training or not module.track_running_stats or module.running_mean is None:
            return f"{name} in train mode or without running statistics (samples interact)"
        return None
    if isinstance(module, _IDENTITY[1:]) and module.training:
        return f"{name} in train mode (random)"
    if isinstance(module, (nn.Linear, *_CONV, *_ELEMENTWISE, *_IDENTITY, *_LINEAR_NO_BIAS)):
        return None
    if isinstance(module, _SMOOTH_PER_SAMPLE):
        return None
    return f"module {name}"


# --- elementwise derivatives -----------------------------------------------------------------------


def elementwise_derivatives(module: nn.Module, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """σ(x), σ'(x), σ''(x) of an elementwise module: closed forms for the common activations,
    nested forward mode on the primal otherwise (primal-sized work either way). x: (B, ...)."""
    if isinstance(module, nn.Tanh):
        t = torch.tanh(x)
        d1 = 1 - t * t
        return t, d1, -2 * t * d1
    if isinstance(module, nn.Sigmoid):
        s = torch.sigmoid(x)
        d1 = s * (1 - s)
        return s, d1, d1 * (1 - 2 * s)
    if isinstance(module, nn.GELU) and module.approximate == "none":
        pdf = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
        return x * cdf, cdf + x * pdf, pdf * (2 - x * x)
    if isinstance(module, nn.Softplus):
        bx = module.beta * x
        s = torch.sigmoid(bx)
        linear = bx > module.threshold  # torch's softplus is the identity there
        d1 = torch.where(linear, torch.ones_like(s), s)
        d2 = torch.where(linear, torch.zeros_like(s), module.beta * s * (1 - s))
        return module(x), d1, d2
    if isinstance(module, nn.SiLU):
        s = torch.sigmoid(x)
        return x * s, s * (1 + x * (1 - s)), s * (1 - s) * (2 + x * (1 - 2 * s))
    return function_derivatives(module, x)


def function_derivatives(fn: Callable[[Tensor], Tensor], x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    ones = torch.ones_like(x)

    def first(z: Tensor) -> Tensor:
        return jvp(fn, (z,), (ones,))[1]

    (y, d1), (_, d2) = jvp(lambda z: (fn(z), first(z)), (x,), (ones,))
    return y, d1, d2


def elementwise_jet(jet: Jet, derivatives: tuple[Tensor, Tensor, Tensor], inplace: bool = False) -> Jet:
    """``(σ, σ' ẋ, σ' ẍ + σ'' ẋ²)``. The group sums of ``ẋ²`` accumulate one direction at a time
    (no k-row temporary); ``inplace``: the caller owns ``jet.first`` and ``jet.second`` (nothing else
    reads them), so they are overwritten instead of allocating new streams."""
    y, d1, d2 = derivatives
    curvature = _group_sum_of_squares(jet)
    curvature.mul_(d2)
    if jet.second is not None:
        curvature.addcmul_(jet.second, d1)
    inplace = inplace and not (torch.is_grad_enabled() and jet.first.requires_grad)
    first = jet.first.mul_(d1) if inplace else jet.first * d1
    return Jet(y, first, curvature, jet.groups)


def _group_sum_of_squares(jet: Jet) -> Tensor:
    """``Σ_{k in group} ẋ_k²`` per group, (g, B, ...): a fresh tensor."""
    if jet.groups == jet.k:
        return jet.first * jet.first
    size = jet.k // jet.groups
    rows = jet.first.reshape(jet.groups, size, *jet.first.shape[1:])
    acc = rows[:, 0] * rows[:, 0]
    for j in range(1, size):
        acc.addcmul_(rows[:, j], rows[:, j])
    return acc


# --- per-layer rules -------------------------------------------------------------------------------


def map_streams(fn: Callable[[Tensor], Tensor], streams: Tensor) -> Tensor:
    """Apply a batch-wise linear map to a tangent stream (s, B, ...) as one batch of s·B."""
    out = fn(streams.reshape(streams.shape[0] * streams.shape[1], *streams.shape[2:]))
    return out.reshape(streams.shape[0], streams.shape[1], *out.shape[1:])


def module_jet(module: nn.Module, jet: Jet, inplace: bool = False) -> Jet:
    """One module's rule (``nn.Sequential``: layer by layer). ``inplace``: the caller owns the jet's
    tangent streams, so elementwise layers may overwrite them (a Sequential owns every stream its
    own layers created)."""
    x = jet.primal
    if isinstance(module, nn.Sequential):
        foreign = None if inplace else _storage(jet.first)
        for layer in module:
            jet = module_jet(layer, jet, foreign is None or _storage(jet.first) != foreign)
        return jet
    if isinstance(module, _IDENTITY) and not module.training:
        return jet
    if isinstance(module, nn.Linear):
        return jet.map(lambda t: F.linear(t, module.weight), module(x))
    if isinstance(module, _CONV):

        def conv(z: Tensor) -> Tensor:
            return module._conv_forward(z, module.weight, None)

        return jet.map(lambda t: map_streams(conv, t), module(x))
    if isinstance(module, _BATCHNORM) and module_unsupported(module) is None:
        scale = batchnorm_scale(module).reshape((1, 1, -1) + (1,) * (x.ndim - 2))
        return jet.map(lambda t: t * scale, module(x))
    if isinstance(module, _LINEAR_NO_BIAS) and module_unsupported(module) is None:
        fn = _pool_2x2 if _is_pool_2x2(module, x) else module
        return jet.map(lambda t: map_streams(fn, t), module(x))
    if isinstance(module, _ELEMENTWISE):
        return elementwise_jet(jet, elementwise_derivatives(module, x), inplace)
    if isinstance(module, _SMOOTH_PER_SAMPLE):
        return smooth_jet(module, jet)
    reason = module_unsupported(module) or f"module {type(module).__name__}"
    raise TypeError(f"no Taylor-mode rule for {reason}; use method='jvp'")


def _is_pool_2x2(module: nn.Module, x: Tensor) -> bool:
    """A plain 2 × 2 average pooling with stride 2 over even sides (no padding, no divisor override)."""
    if type(module) is not nn.AvgPool2d or x.ndim != 4 or x.shape[-1] % 2 or x.shape[-2] % 2:
        return False
    pair = (2, 2)
    size = module.kernel_size if isinstance(module.kernel_size, tuple) else (module.kernel_size,) * 2
    stride = module.stride if isinstance(module.stride, tuple) else (module.stride,) * 2
    padding = module.padding if isinstance(module.padding, tuple) else (module.padding,) * 2
    return size == pair and stride == pair and padding == (0, 0) and module.divisor_override is None


def _pool_2x2(t: Tensor) -> Tensor:
    """2 × 2 average pooling as two strided adds (row pairs, then column pairs) and one scaling: the
    same linear map as ``avg_pool2d(t, 2)``. The same additions as summing the column pairs as a
    reduction over a last axis of size 2 (bit for bit), which CPU kernels handle poorly: a one-off
    timing on the benchmark CNN's stream shapes (median of 7, load below 1) gave 2.3× against that
    form and about 2.8× against ``avg_pool2d``; the end-to-end effect is in ``bench_estimators.py``."""
    rows = torch.add(t[:, :, 0::2], t[:, :, 1::2])
    return torch.add(rows[..., 0::2], rows[..., 1::2]).mul_(0.25)


def batchnorm_scale(module: nn.Module) -> Tensor:
    """The per-channel factor of an eval-mode batch norm's linear part: ``γ / √(var + eps)``."""
    scale = torch.rsqrt(module.running_var + module.eps)
    return scale * module.weight if module.weight is not None else scale


def conv_then_batchnorm_jet(conv: nn.Module, bn: nn.Module, jet: Jet) -> tuple[Jet, Tensor]:
    """A convolution followed by an eval-mode batch norm that reads only it: the tangent streams go
    through one convolution with the batch norm's scale folded into the weight (the two linear maps
    composed: one pass over the streams instead of two). Returns the jet of the batch norm's output
    and the convolution's primal output."""
    scale = batchnorm_scale(bn)
    weight = conv.weight * scale.reshape((-1,) + (1,) * (conv.weight.ndim - 1))

    def folded(z: Tensor) -> Tensor:
        return conv._conv_forward(z, weight, None)

    primal = conv(jet.primal)
    return jet.map(lambda t: map_streams(folded, t), bn(primal)), primal


def _storage(t: Tensor) -> int:
    """The address of a tensor's storage: views of a stream share it."""
    return t.untyped_storage().data_ptr()


def smooth_jet(fn: Callable[[Tensor], Tensor], jet: Jet) -> Jet:
    """Any smooth per-sample map h by nested forward mode: ``∇h ẋ`` and ``∇h ẍ + ẋᵀ∇²h ẋ``."""
    x = jet.primal

    def along(direction: Tensor) -> tuple[Tensor, Tensor]:
        def derivative(z: Tensor) -> Tensor:
            return jvp(fn, (z,), (direction,))[1]

        return jvp(derivative, (x,), (direction,))

    first, curvature = vmap(along)(jet.first)
    curvature = jet.group_sum(curvature)
    if jet.second is not None:
        curvature = curvature + vmap(lambda t: jvp(fn, (x,), (t,))[1])(jet.second)
    return Jet(fn(x), first, curvature, jet.groups)


def layer_jet(
    module: nn.Module, x: Tensor, first: Tensor, second: Tensor | None
) -> tuple[Tensor, Tensor, Tensor | None]:
    """One module's jet: ``(x, ẋ, ẍ)`` (x: (B, ...), ẋ and ẍ: (k, B, ...)) to the output's jet.

    ``second=None`` stands for ẍ = 0 (the input of :func:`second_order_jet`); ``nn.Sequential``
    is walked layer by layer. Raises ``TypeError`` naming a module without a rule.
    """
    k = first.shape[0]
    out = module_jet(module, Jet(x, first, second, k))
    return out.primal, out.first, out.second
