r"""Second-order Taylor mode (jets) through ``nn.Sequential`` networks and any ``torch.fx``-traceable one.

Propagates the jet ``(x, ẋ, ẍ) ↦ (f, ∇f ẋ, ∇f ẍ + ẋᵀ∇²f ẋ)`` operation by operation (univariate Taylor
propagation: A. Griewank and A. Walther, *Evaluating Derivatives*, 2nd ed., SIAM 2008, chapter 13;
J. Bettencourt, M. J. Johnson, D. Duvenaud, "Taylor-mode automatic differentiation for higher-order
derivatives in JAX", 2019; ``docs/theory.md`` §7.4). The rules:

- affine ``A`` (linear, convolution, eval-mode batch norm, average pooling, padding by zeros,
  reshapes, concatenation, residual sums): ``(A x + b, A₀ ẋ, A₀ ẍ)`` (A₀ without bias);
- elementwise σ: ``(σ, σ' ẋ, σ' ẍ + σ'' ẋ²)``;
- products ``x ⊙ y`` of two jets: ``(xy, ẋy + xẏ, ẍy + 2ẋẏ + xÿ)``;
- other smooth maps h acting on one sample at a time (layer and group norm): ``ẋ ↦ ∇h ẋ`` and
  ``∇h ẍ + ẋᵀ∇²h ẋ`` by nested forward mode (``torch.func.jvp``), on the primal's size.

The primal is computed once per batch and shared by every direction, so a direction costs about
two forward passes. (The two tangent streams are kept apart rather than stacked: on a CPU one
convolution over 2kB inputs runs slower than two over kB.)

*Collapsed* Taylor mode (F. Dangel, T. Siebert, M. Zeinhofer, A. Walther, "Collapsing Taylor mode
automatic differentiation", 2025): when only sums ``Σ_k ẋ_kᵀ∇²f ẋ_k`` are needed (R2 of
Carratino et al., JMLR 2022, needs ``Σ_k v_kᵀ∇²g v_k``), the second-order stream is linear in the
direction-wise terms and can be summed within ``g`` groups of directions as it is propagated: the
second-order rows shrink from k to g (:func:`second_order_jet` with ``groups=g``); g ≥ 2 groups
keep a standard error.

Models that are not an ``nn.Sequential`` of known layers are traced with ``torch.fx`` and the jet
is propagated node by node (:func:`graph_jet`); :func:`taylor_mode_unsupported` names the first
operation without a rule.
"""

from __future__ import annotations

import math
import operator
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, fx, nn
from torch.func import jvp, vmap

__all__ = [
    "taylor_mode_supported",
    "taylor_mode_unsupported",
    "second_order_jet",
    "graph_jet",
    "layer_jet",
    "elementwise_derivatives",
    "Jet",
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


def _module_unsupported(module: nn.Module) -> str | None:
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


def _sequential_unsupported(model: object) -> str | None:
    if isinstance(model, nn.Sequential):
        for layer in model:
            reason = _sequential_unsupported(layer)
            if reason is not None:
                return reason
        return None
    if not isinstance(model, nn.Module):
        return f"{type(model).__name__} is not an nn.Module"
    return _module_unsupported(model)


def taylor_mode_unsupported(model: object) -> str | None:
    """None when Taylor mode applies to ``model``, else why not, naming the first operation without
    a jet rule (or the reason ``torch.fx`` could not trace the model).

    >>> taylor_mode_unsupported(nn.Sequential(nn.Linear(2, 3), nn.MaxPool1d(1))) is not None
    True
    """
    if _sequential_unsupported(model) is None:
        return None
    try:
        return _traced(model).unsupported
    except _TraceError as exc:
        return str(exc)


def taylor_mode_supported(model: object) -> bool:
    """True when every operation of ``model`` has a jet rule: an ``nn.Sequential`` (nested allowed)
    of Linear, Conv1d/2d/3d, average pooling, Flatten, eval-mode dropout and batch norm, layer and
    group norm, elementwise activations; or any model ``torch.fx`` traces into such modules and
    the functions of :func:`graph_jet` (residual sums, concatenation, reshapes, products, ...)."""
    return taylor_mode_unsupported(model) is None


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
    return _function_derivatives(module, x)


def _function_derivatives(fn: Callable[[Tensor], Tensor], x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    ones = torch.ones_like(x)

    def first(z: Tensor) -> Tensor:
        return jvp(fn, (z,), (ones,))[1]

    (y, d1), (_, d2) = jvp(lambda z: (fn(z), first(z)), (x,), (ones,))
    return y, d1, d2


def _elementwise_jet(jet: Jet, derivatives: tuple[Tensor, Tensor, Tensor]) -> Jet:
    """``(σ, σ' ẋ, σ' ẍ + σ'' ẋ²)``."""
    y, d1, d2 = derivatives
    curvature = jet.group_sum(jet.first * jet.first) * d2
    if jet.second is not None:
        curvature = curvature.addcmul_(jet.second, d1)
    return Jet(y, jet.first * d1, curvature, jet.groups)


# --- per-layer rules -------------------------------------------------------------------------------


def _map_streams(fn: Callable[[Tensor], Tensor], streams: Tensor) -> Tensor:
    """Apply a batch-wise linear map to a tangent stream (s, B, ...) as one batch of s·B."""
    out = fn(streams.reshape(streams.shape[0] * streams.shape[1], *streams.shape[2:]))
    return out.reshape(streams.shape[0], streams.shape[1], *out.shape[1:])


def _module_jet(module: nn.Module, jet: Jet) -> Jet:
    x = jet.primal
    if isinstance(module, nn.Sequential):
        for layer in module:
            jet = _module_jet(layer, jet)
        return jet
    if isinstance(module, _IDENTITY) and not module.training:
        return jet
    if isinstance(module, nn.Linear):
        return jet.map(lambda t: F.linear(t, module.weight), module(x))
    if isinstance(module, _CONV):

        def conv(z: Tensor) -> Tensor:
            return module._conv_forward(z, module.weight, None)

        return jet.map(lambda t: _map_streams(conv, t), module(x))
    if isinstance(module, _BATCHNORM) and _module_unsupported(module) is None:
        scale = torch.rsqrt(module.running_var + module.eps)
        if module.weight is not None:
            scale = scale * module.weight
        scale = scale.reshape((1, 1, -1) + (1,) * (x.ndim - 2))
        return jet.map(lambda t: t * scale, module(x))
    if isinstance(module, _LINEAR_NO_BIAS) and _module_unsupported(module) is None:
        return jet.map(lambda t: _map_streams(module, t), module(x))
    if isinstance(module, _ELEMENTWISE):
        return _elementwise_jet(jet, elementwise_derivatives(module, x))
    if isinstance(module, _SMOOTH_PER_SAMPLE):
        return _smooth_jet(module, jet)
    reason = _module_unsupported(module) or f"module {type(module).__name__}"
    raise TypeError(f"no Taylor-mode rule for {reason}; use method='jvp'")


def _smooth_jet(fn: Callable[[Tensor], Tensor], jet: Jet) -> Jet:
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
    out = _module_jet(module, Jet(x, first, second, k))
    return out.primal, out.first, out.second


# --- torch.fx graphs --------------------------------------------------------------------------------


class _TraceError(TypeError):
    pass


def _elementwise(module_type: type[nn.Module], **keywords: str) -> Callable[..., nn.Module]:
    """A factory of the module equivalent to a functional activation call (args after x)."""

    def make(*args: Any, **kwargs: Any) -> nn.Module:
        names = list(keywords)
        settings = {keywords[name]: value for name, value in zip(names, args)}
        settings.update({keywords.get(key, key): value for key, value in kwargs.items() if key != "inplace"})
        return module_type(**settings)

    return make


# functional and method forms of the elementwise activations → their module (closed-form derivatives)
_ELEMENTWISE_FUNCTIONS: dict[Any, Callable[..., nn.Module]] = {
    F.gelu: _elementwise(nn.GELU, approximate="approximate"),
    torch.tanh: _elementwise(nn.Tanh),
    F.tanh: _elementwise(nn.Tanh),
    torch.sigmoid: _elementwise(nn.Sigmoid),
    F.sigmoid: _elementwise(nn.Sigmoid),
    F.silu: _elementwise(nn.SiLU),
    F.softplus: _elementwise(nn.Softplus, beta="beta", threshold="threshold"),
    F.elu: _elementwise(nn.ELU, alpha="alpha"),
    F.mish: _elementwise(nn.Mish),
    F.logsigmoid: _elementwise(nn.LogSigmoid),
    F.softsign: _elementwise(nn.Softsign),
    F.relu: _elementwise(nn.ReLU),
    torch.relu: _elementwise(nn.ReLU),
    F.leaky_relu: _elementwise(nn.LeakyReLU, negative_slope="negative_slope"),
}
_ELEMENTWISE_METHODS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}
# smooth elementwise functions without a closed form here: derivatives by nested forward mode
_ELEMENTWISE_GENERIC = {torch.exp, torch.sin, torch.cos, torch.square, torch.erf}
_ELEMENTWISE_GENERIC_METHODS = {"exp", "sin", "cos", "square"}
# structurally linear in their tensor arguments (no constant offset): streams through vmap
_LINEAR_FUNCTIONS = {
    torch.flatten, torch.reshape, torch.cat, torch.concat, torch.stack, torch.permute, torch.transpose,
    torch.squeeze, torch.unsqueeze, torch.mean, torch.sum, torch.chunk, torch.split, torch.narrow,
    F.avg_pool1d, F.avg_pool2d, F.avg_pool3d, F.adaptive_avg_pool1d, F.adaptive_avg_pool2d,
    F.adaptive_avg_pool3d, operator.getitem, operator.neg, torch.neg, F.dropout, F.pad,
}  # fmt: skip
_LINEAR_METHODS = {
    "view", "reshape", "flatten", "permute", "transpose", "contiguous", "unsqueeze", "squeeze",
    "mean", "sum", "chunk", "split", "narrow", "expand", "clone", "neg", "view_as", "reshape_as",
    "t", "flip",
}  # fmt: skip
_SHAPE_METHODS = {"size", "dim", "numel"}
_ADD = {operator.add, torch.add, operator.iadd}
_SUB = {operator.sub, torch.sub, operator.isub}
_MUL = {operator.mul, torch.mul, operator.imul}
_DIV = {operator.truediv, torch.div, torch.true_divide}
_AFFINE_FUNCTIONS = {F.linear, F.conv1d, F.conv2d, F.conv3d}
_SMOOTH_FUNCTIONS = {F.layer_norm, F.group_norm}


def _describe(node: fx.Node) -> str:
    target = node.target
    if node.op == "call_method":
        return f"method Tensor.{target}"
    name = getattr(target, "__name__", repr(target))
    module = getattr(target, "__module__", "") or ""
    return f"function {module + '.' if module else ''}{name}"


class _Traced:
    """A traced model: its fx graph and the first node without a jet rule (None if all have one)."""

    def __init__(self, model: nn.Module) -> None:
        try:
            self.graph_module = fx.symbolic_trace(model)
        except Exception as exc:  # noqa: BLE001 - any tracing failure means no Taylor mode
            raise _TraceError(
                f"torch.fx cannot trace {type(model).__name__} ({type(exc).__name__}: {exc})"
            ) from None
        self.unsupported = self._check()

    def _check(self) -> str | None:
        gm = self.graph_module
        for node in gm.graph.nodes:
            if node.op == "call_module":
                reason = _module_unsupported(gm.get_submodule(node.target))
                if reason is not None:
                    return f"{reason} (node {node.name!r})"
            elif node.op == "call_function":
                known = (
                    _ELEMENTWISE_FUNCTIONS.keys()
                    | _ELEMENTWISE_GENERIC
                    | _LINEAR_FUNCTIONS
                    | _ADD
                    | _SUB
                    | _MUL
                    | _DIV
                    | _AFFINE_FUNCTIONS
                    | _SMOOTH_FUNCTIONS
                    | {getattr}
                )
                if node.target not in known:
                    return f"{_describe(node)} (node {node.name!r})"
            elif node.op == "call_method":
                known_methods = (
                    _ELEMENTWISE_METHODS.keys()
                    | _ELEMENTWISE_GENERIC_METHODS
                    | _LINEAR_METHODS
                    | _SHAPE_METHODS
                    | {"add", "sub", "mul", "div", "__add__", "__mul__"}
                )
                if node.target not in known_methods:
                    return f"{_describe(node)} (node {node.name!r})"
        return None


_TRACES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _traced(model: object) -> _Traced:
    if not isinstance(model, nn.Module):
        raise _TraceError(f"{type(model).__name__} is not an nn.Module (torch.fx traces modules)")
    cached = _TRACES.get(model)
    if cached is None:
        cached = _TRACES[model] = _Traced(model)
    return cached


def _is_jet(value: object) -> bool:
    return isinstance(value, Jet)


def _align(a: Jet, b: Jet) -> tuple[Jet, Jet]:
    """Both with second-order rows when either has them."""
    if (a.second is None) == (b.second is None):
        return a, b
    return a.full(), b.full()


def _scale(jet: Jet, const: Any, primal: Tensor) -> Jet:
    if isinstance(const, Tensor) and const.ndim > jet.primal.ndim:
        return jet.map(vmap(lambda t: t * const), primal)
    return jet.map(lambda t: t * const, primal)


def _product(a: Jet, b: Jet) -> Jet:
    """``(xy, ẋy + xẏ, ẍy + 2ẋẏ + xÿ)``."""
    first = a.first * b.primal + a.primal * b.first
    curvature = 2 * a.group_sum(a.first * b.first)
    if a.second is not None:
        curvature = curvature + a.second * b.primal
    if b.second is not None:
        curvature = curvature + a.primal * b.second
    return Jet(a.primal * b.primal, first, curvature, a.groups)


def _linear_call(fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """A call linear in its jet arguments: the primal from the primals, each tangent stream through
    ``vmap`` over its rows (so shapes read off the primal, like ``x.view(x.size(0), -1)``, hold)."""
    jets = [a for a in _flatten(args, kwargs) if _is_jet(a)]
    if len({j.second is None for j in jets}) > 1:
        args, kwargs = _map_jets(lambda j: j.full(), (args, kwargs))
        jets = [a for a in _flatten(args, kwargs) if _is_jet(a)]
    groups = jets[0].groups
    primal = fn(*_map_jets(lambda j: j.primal, args), **_map_jets(lambda j: j.primal, kwargs))

    def on_stream(pick: Callable[[Jet], Tensor]) -> Any:
        def call(*tangents: Tensor) -> Any:
            it = iter(tangents)
            a, kw = _map_jets(lambda _: next(it), (args, kwargs))
            return fn(*a, **kw)

        return vmap(call)(*[pick(j) for j in jets])

    first = on_stream(lambda j: j.first)
    second = None if jets[0].second is None else on_stream(lambda j: j.second)
    if isinstance(primal, Tensor):
        return Jet(primal, first, second, groups)
    seconds = [None] * len(primal) if second is None else second
    return type(primal)(Jet(p, f, s, groups) for p, f, s in zip(primal, first, seconds))


def _flatten(args: Any, kwargs: Any = None) -> list:
    out: list = []
    for a in [*args, *(kwargs or {}).values()]:
        if isinstance(a, (list, tuple)) and not _is_jet(a):
            out.extend(_flatten(a))
        else:
            out.append(a)
    return out


def _map_jets(fn: Callable[[Jet], Any], value: Any) -> Any:
    if _is_jet(value):
        return fn(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_map_jets(fn, v) for v in value)
    if isinstance(value, dict):
        return {key: _map_jets(fn, v) for key, v in value.items()}
    return value


def _affine_function(fn: Callable[..., Tensor], args: tuple, kwargs: dict) -> Jet:
    """F.linear / F.conv: the streams without the bias."""
    jet = args[0]
    if any(_is_jet(a) for a in _flatten(args[1:], kwargs)):
        raise TypeError(f"no Taylor-mode rule for {fn.__name__} with input-dependent weights")
    rest, kw = list(args[1:]), dict(kwargs)
    primal = fn(jet.primal, *rest, **kw)
    if len(rest) >= 2:
        rest[1] = None
    kw.pop("bias", None)
    return jet.map(lambda t: _map_streams(lambda z: fn(z, *rest, **kw), t), primal)


def _call_function(node: fx.Node, fn: Any, args: tuple, kwargs: dict) -> Any:
    jets = [a for a in _flatten(args, kwargs) if _is_jet(a)]
    if not jets:
        return fn(*args, **kwargs)
    if fn in _ELEMENTWISE_FUNCTIONS:
        module = _ELEMENTWISE_FUNCTIONS[fn](*args[1:], **kwargs)
        return _elementwise_jet(args[0], elementwise_derivatives(module, args[0].primal))
    if fn in _ELEMENTWISE_GENERIC:
        return _elementwise_jet(
            args[0], _function_derivatives(lambda z: fn(z, *args[1:], **kwargs), args[0].primal)
        )
    if fn in _ADD or fn in _SUB:
        a, b = args[0], args[1]
        alpha = kwargs.get("alpha", 1)
        sign = -1 if fn in _SUB else 1
        pa = a.primal if _is_jet(a) else a
        pb = b.primal if _is_jet(b) else b
        primal = fn(pa, pb, alpha=alpha) if "alpha" in kwargs else fn(pa, pb)
        if _is_jet(a) and _is_jet(b):
            a, b = _align(a, b)
            second = None if a.second is None else a.second + (sign * alpha) * b.second
            return Jet(primal, a.first + (sign * alpha) * b.first, second, a.groups)
        if _is_jet(a):
            return a._replace(primal=primal)
        return b.map(lambda t: t * (sign * alpha), primal)
    if fn in _MUL:
        a, b = args[0], args[1]
        if _is_jet(a) and _is_jet(b):
            return _product(a, b)
        jet, const = (a, b) if _is_jet(a) else (b, a)
        return _scale(jet, const, fn(a.primal if _is_jet(a) else a, b.primal if _is_jet(b) else b))
    if fn in _DIV:
        a, b = args[0], args[1]
        if _is_jet(b):
            raise TypeError("no Taylor-mode rule for division by an input-dependent tensor")
        return _scale(a, 1 / b, fn(a.primal, b, **kwargs))
    if fn in _AFFINE_FUNCTIONS:
        return _affine_function(fn, args, kwargs)
    if fn in _SMOOTH_FUNCTIONS:
        return _smooth_jet(lambda z: fn(z, *args[1:], **kwargs), args[0])
    if fn is F.dropout:
        training = kwargs.get("training", args[2] if len(args) > 2 else True)
        if training:
            raise TypeError("no Taylor-mode rule for dropout in training mode")
        return args[0]
    if fn is F.pad:
        value = kwargs.get("value", args[3] if len(args) > 3 else None)
        mode = kwargs.get("mode", args[2] if len(args) > 2 else "constant")
        if mode != "constant" or (value not in (None, 0, 0.0)):
            raise TypeError("no Taylor-mode rule for padding other than by zeros")
    if fn in _LINEAR_FUNCTIONS:
        return _linear_call(fn, args, kwargs)
    raise TypeError(f"no Taylor-mode rule for {_describe(node)}")


def _call_method(node: fx.Node, name: str, args: tuple, kwargs: dict) -> Any:
    self = args[0]
    if not _is_jet(self):
        return getattr(self, name)(*args[1:], **kwargs)
    if name in _SHAPE_METHODS:
        return getattr(self.primal, name)(*args[1:], **kwargs)
    if name in _ELEMENTWISE_METHODS:
        return _elementwise_jet(self, elementwise_derivatives(_ELEMENTWISE_METHODS[name](), self.primal))
    if name in _ELEMENTWISE_GENERIC_METHODS:
        return _elementwise_jet(self, _function_derivatives(lambda z: getattr(z, name)(), self.primal))
    method_ops = {"add": torch.add, "__add__": torch.add, "sub": torch.sub, "mul": torch.mul}
    method_ops.update({"__mul__": torch.mul, "div": torch.div})
    if name in method_ops:
        return _call_function(node, method_ops[name], args, kwargs)
    if name in _LINEAR_METHODS:

        def method(t: Tensor, *rest: Any, **kw: Any) -> Any:
            return getattr(t, name)(*rest, **kw)

        return _linear_call(method, args, kwargs)
    raise TypeError(f"no Taylor-mode rule for {_describe(node)}")


def graph_jet(model: nn.Module, jet: Jet) -> Jet:
    """Propagate a jet through a ``torch.fx`` trace of ``model`` (one forward input), node by node:
    modules by their layer rule, functions and methods by the rules listed in the module docstring.
    Values that do not depend on the input (parameters, shapes, constants) are computed as usual."""
    traced = _traced(model)
    gm = traced.graph_module
    env: dict[fx.Node, Any] = {}
    placeholders = 0

    def load(value: Any) -> Any:
        return fx.node.map_arg(value, lambda n: env[n])

    for node in gm.graph.nodes:
        if node.op == "placeholder":
            if placeholders:
                raise TypeError("Taylor mode needs a model with one input")
            env[node] = jet
            placeholders += 1
        elif node.op == "get_attr":
            obj: Any = gm
            for part in node.target.split("."):
                obj = getattr(obj, part)
            env[node] = obj
        elif node.op == "call_module":
            args, kwargs = load(node.args), load(node.kwargs)
            module = gm.get_submodule(node.target)
            if not any(_is_jet(a) for a in _flatten(args, kwargs)):
                env[node] = module(*args, **kwargs)
            elif len(args) != 1 or kwargs:
                raise TypeError(f"no Taylor-mode rule for module {type(module).__name__} with several inputs")
            else:
                env[node] = _module_jet(module, args[0])
        elif node.op == "call_function":
            if node.target is getattr:
                obj, attr = load(node.args)
                env[node] = getattr(obj.primal if _is_jet(obj) else obj, attr)
            else:
                env[node] = _call_function(node, node.target, load(node.args), load(node.kwargs))
        elif node.op == "call_method":
            env[node] = _call_method(node, node.target, load(node.args), load(node.kwargs))
        elif node.op == "output":
            out = load(node.args[0])
            if not _is_jet(out):
                raise TypeError("Taylor mode needs a model whose output is one tensor depending on the input")
            return out
    raise TypeError("the traced graph has no output")


# --- entry point -------------------------------------------------------------------------------


def second_order_jet(
    model: nn.Module, x: Tensor, tangent: Tensor, *, groups: int | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Second-order Taylor mode: ``(f(x), ∇f(x) v, vᵀ∇²f(x) v)`` for k directions at once.

    Args:
        model: a module accepted by :func:`taylor_mode_supported` (an ``nn.Sequential`` of known
            layers is walked directly, anything else through its ``torch.fx`` trace).
        x: inputs (B, *in_shape), shared by all directions (computed once).
        tangent: directions (k, B, *in_shape).
        groups: collapsed Taylor mode (Dangel et al. 2025): the second-order output is summed
            over g groups of k/g consecutive directions, (g, B, c); g must divide k
            (default: g = k, one row per direction).

    Returns ``f(x)`` (B, c), ``∇f v`` (k, B, c) and ``vᵀ∇²f v`` (k or g, B, c). Each operation maps
    the jet ``(x, ẋ, ẍ)``: affine ``A`` to ``(A x, A₀ ẋ, A₀ ẍ)`` (A₀ without bias), elementwise σ to
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
    k = tangent.shape[0]
    groups = k if groups is None else int(groups)
    if groups < 1 or k % groups:
        raise ValueError(f"groups must divide the number of directions {k}, got {groups}")
    jet = Jet(x, tangent, None, groups)
    if _sequential_unsupported(model) is None:
        out = _module_jet(model, jet)
    else:
        reason = taylor_mode_unsupported(model)
        if reason is not None:
            raise TypeError(f"no Taylor-mode rule for {reason}; use method='jvp'")
        out = graph_jet(model, jet)
    second = out.second if out.second is not None else out.first.new_zeros((groups, *out.first.shape[1:]))
    return out.primal, out.first, second
