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

The jet type and the per-layer rules live in :mod:`._jet_layers`, the ``torch.fx`` graph walker in
:mod:`._jet_graph`; this module holds the entry points and re-exports :class:`Jet`,
:func:`layer_jet`, :func:`graph_jet` and :func:`elementwise_derivatives`.
"""

from __future__ import annotations

from torch import Tensor, nn

from ._jet_graph import graph_jet, graph_unsupported
from ._jet_layers import Jet, elementwise_derivatives, layer_jet, module_jet, module_unsupported

__all__ = [
    "taylor_mode_supported",
    "taylor_mode_unsupported",
    "second_order_jet",
    "graph_jet",
    "layer_jet",
    "elementwise_derivatives",
    "Jet",
]

# --- support -------------------------------------------------------------------------------------


def _sequential_unsupported(model: object) -> str | None:
    if isinstance(model, nn.Sequential):
        for layer in model:
            reason = _sequential_unsupported(layer)
            if reason is not None:
                return reason
        return None
    if not isinstance(model, nn.Module):
        return f"{type(model).__name__} is not an nn.Module"
    return module_unsupported(model)


def taylor_mode_unsupported(model: object) -> str | None:
    """None when Taylor mode applies to ``model``, else why not, naming the first operation without
    a jet rule (or the reason ``torch.fx`` could not trace the model).

    >>> taylor_mode_unsupported(nn.Sequential(nn.Linear(2, 3), nn.MaxPool1d(1))) is not None
    True
    """
    if _sequential_unsupported(model) is None:
        return None
    return graph_unsupported(model)


def taylor_mode_supported(model: object) -> bool:
    """True when every operation of ``model`` has a jet rule: an ``nn.Sequential`` (nested allowed)
    of Linear, Conv1d/2d/3d, average pooling, Flatten, eval-mode dropout and batch norm, layer and
    group norm, elementwise activations; or any model ``torch.fx`` traces into such modules and
    the functions of :func:`graph_jet` (residual sums, concatenation, reshapes, products, ...)."""
    return taylor_mode_unsupported(model) is None


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
        out = module_jet(model, jet)
    else:
        reason = taylor_mode_unsupported(model)
        if reason is not None:
            raise TypeError(f"no Taylor-mode rule for {reason}; use method='jvp'")
        out = graph_jet(model, jet)
    second = out.second if out.second is not None else out.first.new_zeros((groups, *out.first.shape[1:]))
    return out.primal, out.first, second
