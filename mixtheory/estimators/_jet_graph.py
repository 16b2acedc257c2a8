r"""The ``torch.fx`` graph walker of second-order Taylor mode (:mod:`.jets`).

:func:`graph_jet` propagates a :class:`~._jet_layers.Jet` through a ``torch.fx`` trace of a model,
node by node: modules by their layer rule (:func:`~._jet_layers.module_jet`), and the functions
and tensor methods below by theirs: elementwise activations (closed-form or nested-forward-mode
derivatives), sums and differences, products of two jets ``(xy, ẋy + xẏ, ẍy + 2ẋẏ + xÿ)``,
scaling and division by constants, ``F.linear``/``F.conv`` with fixed weights, layer and group norm,
and calls linear in their tensor arguments (reshapes, concatenation, pooling, indexing), whose
tangent streams go through ``vmap``. :func:`graph_unsupported` names the first node without a rule.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, fx, nn
from torch.func import vmap

from ._jet_layers import (
    BATCHNORM_TYPES,
    CONV_TYPES,
    Jet,
    _storage,
    conv_then_batchnorm_jet,
    elementwise_derivatives,
    elementwise_jet,
    function_derivatives,
    map_streams,
    module_jet,
    module_unsupported,
    smooth_jet,
)

__all__ = ["graph_jet", "graph_unsupported"]


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
        # for memory: the values that die at each node, and the nodes read by exactly one other node
        last_use: dict[fx.Node, fx.Node] = {}
        for node in self.graph_module.graph.nodes:
            for used in node.all_input_nodes:
                last_use[used] = node
        self.frees: dict[fx.Node, list[fx.Node]] = {}
        for used, node in last_use.items():
            self.frees.setdefault(node, []).append(used)
        self.single_use = {
            node
            for node in self.graph_module.graph.nodes
            if len(node.users) == 1 and node.op != "placeholder"
        }
        nodes = self.graph_module.graph.nodes
        # convolutions read only by a batch norm: the pair's tangent maps fold into one convolution
        self.conv_bn: dict[fx.Node, fx.Node] = {}
        for node in nodes:
            if node.op != "call_module" or node not in self.single_use or node.kwargs or len(node.args) != 1:
                continue
            (user,) = node.users
            if user.op == "call_module" and len(user.args) == 1 and not user.kwargs:
                conv, bn = (
                    self.graph_module.get_submodule(node.target),
                    self.graph_module.get_submodule(user.target),
                )
                if isinstance(conv, CONV_TYPES) and isinstance(bn, BATCHNORM_TYPES):
                    self.conv_bn[node] = user

    def _check(self) -> str | None:
        gm = self.graph_module
        for node in gm.graph.nodes:
            if node.op == "call_module":
                reason = module_unsupported(gm.get_submodule(node.target))
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
    return jet.map(lambda t: map_streams(lambda z: fn(z, *rest, **kw), t), primal)


def _call_function(node: fx.Node, fn: Any, args: tuple, kwargs: dict) -> Any:
    jets = [a for a in _flatten(args, kwargs) if _is_jet(a)]
    if not jets:
        return fn(*args, **kwargs)
    if fn in _ELEMENTWISE_FUNCTIONS:
        module = _ELEMENTWISE_FUNCTIONS[fn](*args[1:], **kwargs)
        return elementwise_jet(args[0], elementwise_derivatives(module, args[0].primal))
    if fn in _ELEMENTWISE_GENERIC:
        return elementwise_jet(
            args[0], function_derivatives(lambda z: fn(z, *args[1:], **kwargs), args[0].primal)
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
        return smooth_jet(lambda z: fn(z, *args[1:], **kwargs), args[0])
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
        return elementwise_jet(self, elementwise_derivatives(_ELEMENTWISE_METHODS[name](), self.primal))
    if name in _ELEMENTWISE_GENERIC_METHODS:
        return elementwise_jet(self, function_derivatives(lambda z: getattr(z, name)(), self.primal))
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
    foreign = -1
    folded: dict[fx.Node, Jet] = {}  # batch norms whose output jet a folded convolution computed

    def load(value: Any) -> Any:
        return fx.node.map_arg(value, lambda n: env[n])

    for node in gm.graph.nodes:
        if node.op == "placeholder":
            if placeholders:
                raise TypeError("Taylor mode needs a model with one input")
            env[node] = jet
            foreign = _storage(jet.first)  # the caller's stream: never overwritten
            placeholders += 1
        elif node.op == "get_attr":
            obj: Any = gm
            for part in node.target.split("."):
                obj = getattr(obj, part)
            env[node] = obj
        elif node.op == "call_module":
            args, kwargs = load(node.args), load(node.kwargs)
            module = gm.get_submodule(node.target)
            if node in folded:  # a batch norm whose jet the convolution before it computed
                env[node] = folded.pop(node)
            elif not any(_is_jet(a) for a in _flatten(args, kwargs)):
                env[node] = module(*args, **kwargs)
            elif len(args) != 1 or kwargs:
                raise TypeError(f"no Taylor-mode rule for module {type(module).__name__} with several inputs")
            elif (
                node in traced.conv_bn
                and module_unsupported(gm.get_submodule(traced.conv_bn[node].target)) is None
            ):
                bn_node = traced.conv_bn[node]
                bn = gm.get_submodule(bn_node.target)
                folded[bn_node], env[node] = conv_then_batchnorm_jet(module, bn, args[0])
            else:
                env[node] = module_jet(module, args[0], _owned(node, env, traced, foreign))
        elif node.op == "call_function":
            if node.target is getattr:
                obj, attr = load(node.args)
                env[node] = getattr(obj.primal if _is_jet(obj) else obj, attr)
            else:
                summed = _add_in_place(node, env, traced, foreign)
                env[node] = (
                    summed
                    if summed is not None
                    else _call_function(node, node.target, load(node.args), load(node.kwargs))
                )
        elif node.op == "call_method":
            env[node] = _call_method(node, node.target, load(node.args), load(node.kwargs))
        elif node.op == "output":
            out = load(node.args[0])
            if not _is_jet(out):
                raise TypeError("Taylor mode needs a model whose output is one tensor depending on the input")
            return out
        for dead in traced.frees.get(node, ()):
            env.pop(dead, None)  # free each value after its last use
    raise TypeError("the traced graph has no output")


def _owned(node: fx.Node, env: dict[fx.Node, Any], traced: _Traced, foreign: int, index: int = 0) -> bool:
    """Whether ``node`` may overwrite the tangent streams of its input ``index``: that input is read
    by this node only, is not (a view of) the caller's stream, and shares no storage with another
    live value."""
    arg = node.args[index] if len(node.args) > index else None
    if not isinstance(arg, fx.Node) or arg not in traced.single_use or not _is_jet(env.get(arg)):
        return False
    mine = _storages(env[arg])
    if foreign in mine:
        return False
    return not any(_is_jet(v) and v is not env[arg] and mine & _storages(v) for v in env.values())


def _storages(jet: Jet) -> set[int]:
    return {_storage(t) for t in (jet.first, jet.second) if t is not None}


def _add_in_place(node: fx.Node, env: dict[fx.Node, Any], traced: _Traced, foreign: int) -> Jet | None:
    """``a + b`` of two jets of the same shape, accumulated into a's streams when the sum owns them
    (a residual connection: no new buffers); None when that does not apply."""
    if node.target not in _ADD or len(node.args) != 2 or node.kwargs:
        return None
    a, b = (env.get(arg) if isinstance(arg, fx.Node) else None for arg in node.args)
    if (
        not (_is_jet(a) and _is_jet(b))
        or a.first.shape != b.first.shape
        or (a.second is None) != (b.second is None)
    ):
        return None
    if a.second is not None and a.second.shape != b.second.shape:
        return None
    if torch.is_grad_enabled() and (a.first.requires_grad or b.first.requires_grad):
        return None
    if not _owned(node, env, traced, foreign, 0) or _storages(a) & _storages(b):
        return None
    primal = a.primal + b.primal
    second = None if a.second is None else a.second.add_(b.second)
    return Jet(primal, a.first.add_(b.first), second, a.groups)


def graph_unsupported(model: object) -> str | None:
    """None when every node of ``model``'s ``torch.fx`` trace has a jet rule, else the first one
    without (or why the model could not be traced)."""
    try:
        return _traced(model).unsupported
    except _TraceError as exc:
        return str(exc)
