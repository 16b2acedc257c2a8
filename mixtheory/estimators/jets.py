r"""Second-order Taylor mode (jets) through ``nn.Sequential`` networks.

Propagates the jet ``(x, ẋ, ẍ) ↦ (f, ∇f ẋ, ∇f ẍ + ẋᵀ∇²f ẋ)`` layer by layer (univariate Taylor
propagation, Griewank & Walther, *Evaluating Derivatives*, 2nd ed., SIAM 2008, chapter 13): for an
affine layer ``A`` the streams are ``(A x + b, A₀ ẋ, A₀ ẍ)`` (A₀ without bias), for an elementwise σ
``(σ, σ' ẋ, σ' ẍ + σ'' ẋ²)``. The primal is computed once per batch and shared by every direction,
so a direction costs about two forward passes.

Self-contained (torch only): the rules are keyed by module type, so other graph walkers can
reuse :func:`layer_jet` layer by layer.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.func import jvp

__all__ = ["taylor_mode_supported", "second_order_jet", "layer_jet", "elementwise_derivatives"]

# fmt: off
_ELEMENTWISE = (
    nn.Tanh, nn.Sigmoid, nn.Softplus, nn.GELU, nn.SiLU, nn.ELU, nn.CELU, nn.SELU, nn.Mish,
    nn.LogSigmoid, nn.Tanhshrink, nn.Softsign, nn.ReLU, nn.LeakyReLU, nn.ReLU6, nn.Hardtanh,
    nn.Identity,
)
_LINEAR_NO_BIAS = (
    nn.Flatten, nn.Unflatten, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d, nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.Dropout, nn.Dropout1d, nn.Dropout2d,
    nn.Dropout3d, nn.AlphaDropout, nn.ZeroPad2d, nn.ConstantPad2d,
)
_BATCHNORM = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
# fmt: on


def taylor_mode_supported(model: object) -> bool:
    """True when ``model`` is an ``nn.Sequential`` (nested allowed) of layers with a jet rule:
    Linear, Conv1d/2d/3d, average pooling, Flatten, eval-mode dropout and batch norm, and
    elementwise activations (tanh, sigmoid, softplus, GELU, SiLU, ELU, ReLU, ...)."""
    if isinstance(model, nn.Sequential):
        return all(taylor_mode_supported(m) for m in model)
    if isinstance(model, nn.ConstantPad2d) and model.value != 0:
        return False
    if isinstance(model, _BATCHNORM):
        return not model.training and model.track_running_stats and model.running_mean is not None
    if isinstance(model, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)):
        return not model.training
    return isinstance(model, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)) or isinstance(
        model, _ELEMENTWISE + _LINEAR_NO_BIAS
    )


def _map_streams(fn: Callable[[Tensor], Tensor], t: Tensor | None) -> Tensor | None:
    """Apply a batch-wise linear map to a tangent stream of shape (k, B, ...)."""
    if t is None:
        return None
    out = fn(t.reshape(t.shape[0] * t.shape[1], *t.shape[2:]))
    return out.reshape(t.shape[0], t.shape[1], *out.shape[1:])


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
    ones = torch.ones_like(x)

    def first(z: Tensor) -> Tensor:
        return jvp(module, (z,), (ones,))[1]

    (y, d1), (_, d2) = jvp(lambda z: (module(z), first(z)), (x,), (ones,))
    return y, d1, d2


def second_order_jet(model: nn.Module, x: Tensor, tangent: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    r"""Second-order Taylor mode: ``(f(x), ∇f(x) v, vᵀ∇²f(x) v)`` for k directions at once.

    Args:
        model: a module accepted by :func:`taylor_mode_supported`.
        x: inputs (B, *in_shape), shared by all directions (computed once).
        tangent: directions (k, B, *in_shape).

    Returns ``f(x)`` (B, c), ``∇f v`` (k, B, c) and ``vᵀ∇²f v`` (k, B, c). Each layer maps the jet
    ``(x, ẋ, ẍ)``: affine ``A`` to ``(A x, A₀ ẋ, A₀ ẍ)`` (A₀ without bias), elementwise σ to
    ``(σ(x), σ'(x) ẋ, σ'(x) ẍ + σ''(x) ẋ²)``; ẍ starts at 0 and is the second derivative.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    >>> net = net.double()
    >>> x, v = torch.randn(5, 3, dtype=torch.float64), torch.randn(1, 5, 3, dtype=torch.float64)
    >>> _, _, curv = second_order_jet(net, x, v)
    >>> H = torch.func.hessian(lambda z: net(z[None])[0])(x[0])    # (2, 3, 3)
    >>> bool(torch.allclose(curv[0, 0], torch.einsum("i,kij,j->k", v[0, 0], H, v[0, 0])))
    True
    """
    return layer_jet(model, x, tangent, None)


def layer_jet(
    module: nn.Module, x: Tensor, first: Tensor, second: Tensor | None
) -> tuple[Tensor, Tensor, Tensor | None]:
    """One module's jet: ``(x, ẋ, ẍ)`` (x: (B, ...), ẋ and ẍ: (k, B, ...)) to the output's jet.

    ``second=None`` stands for ẍ = 0 (the input of :func:`second_order_jet`); ``nn.Sequential``
    is walked layer by layer. Raises ``TypeError`` for a module without a rule.
    """
    if isinstance(module, nn.Sequential):
        for layer in module:
            x, first, second = layer_jet(layer, x, first, second)
        return x, first, second
    if isinstance(module, nn.Linear):

        def lin(z: Tensor) -> Tensor:
            return nn.functional.linear(z, module.weight)

        return module(x), _map_streams(lin, first), _map_streams(lin, second)
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):

        def conv(z: Tensor) -> Tensor:
            return module._conv_forward(z, module.weight, None)

        return module(x), _map_streams(conv, first), _map_streams(conv, second)
    if isinstance(module, _BATCHNORM):
        scale = torch.rsqrt(module.running_var + module.eps)
        if module.weight is not None:
            scale = scale * module.weight
        shape = (1, 1, -1) + (1,) * (x.ndim - 2)
        scale = scale.reshape(shape)
        return module(x), first * scale, None if second is None else second * scale
    if isinstance(module, _LINEAR_NO_BIAS):
        return module(x), _map_streams(module, first), _map_streams(module, second)
    if isinstance(module, _ELEMENTWISE):
        y, d1, d2 = elementwise_derivatives(module, x)
        curvature = d2 * first * first
        return y, d1 * first, curvature if second is None else d1 * second + curvature
    raise TypeError(f"no Taylor-mode rule for {type(module).__name__}; use method='jvp'")
