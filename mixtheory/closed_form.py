r"""Theorem 3's regularizers of a network in closed form: :func:`taylor_regularizers`.

The algebra (R1–R4 and R13 from a network's outputs, Jacobians and input-Hessian contractions) is
:mod:`mixtheory.regularizers`; this module computes those derivatives for a network under a memory
budget (:mod:`mixtheory._memory`), either densely (Jacobians and d × d input Hessians of a chunk of
samples: :func:`mixtheory.regularizers.model_derivatives`) or by Taylor-mode jets along the factor
columns of Σ^(i) (:mod:`mixtheory.estimators.factor_route`: no d × d matrix). It sits above the
estimators because the factor route is theirs (``docs/README.md``, layers).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._memory import ClosedFormPlan, activation_elements, parse_memory_budget, plan_closed_form
from ._types import Indices, Tensor
from ._validation import (
    check_eval_mode,
    check_model_dtype,
    model_call_errors,
    model_dtype_device,
    warn_piecewise_linear,
)
from .geometry import MixupGeometry
from .losses import Loss, get_loss
from .regularizers import (
    cancellation,
    check_regularizer_labels,
    model_derivatives,
    regularizers_from_derivatives,
    warn_if_cancelling,
)

__all__ = ["taylor_regularizers"]


def taylor_regularizers(
    model: Callable[[Tensor], Tensor],
    geometry: MixupGeometry,
    loss: str | Loss = "ce",
    *,
    indices: Indices = None,
    return_j: bool = False,
    chunk_size: int | None = None,
    route: str = "auto",
    memory_budget: int | float | str | None = None,
) -> dict[str, Tensor]:
    r"""Per-sample ``erm``, ``R1``, ``R2``, ``R3``, ``R4``, ``R13`` and ``cancellation`` (and ``J``)
    of Theorem 3 for a model, exactly (no probes).

    Two routes, equal to rounding (``route=``):

    - ``"dense"``: ``torch.func`` Jacobians and input Hessians of the model at ``x̃_i``, combined with
      the structured geometry; a d × d Hessian per sample: the small-d reference.
    - ``"factor"``: the network's first and second derivatives contracted with the 1 + r columns of
      the factor of ``Σ^(i)_xx`` by Taylor-mode jets (:mod:`mixtheory.estimators.factor_route`),
      never a d × d matrix; memory bounded by the pass size.
    - ``"auto"`` (default): the factor route when it needs fewer directions (2(1 + r) < d + c) or the
      dense one does not fit ``memory_budget``, else the dense route.

    ``geometry`` may have any partner law (``MixupGeometry(X, Y, law, pairing=π)``, ``docs/theory.md
    §8.1``): both routes take it through the geometry's methods alone (the per-anchor factor columns
    in the factor route), and the terms are per anchor, to be averaged with
    ``geometry.anchor_weights``.

    Samples (and factor columns) are processed in passes sized to ``memory_budget`` (bytes or a
    string like ``"2GB"``; default ``$MIXTHEORY_MEMORY_BUDGET`` or 2 GiB, :mod:`mixtheory._memory`);
    a run that cannot fit is refused up front with a :class:`~mixtheory._memory.MemoryBudgetError`
    naming the memory it would need and the route that fits. ``chunk_size`` caps the samples per
    pass. ``model`` maps (batch, *input_shape) to (batch, c); cross-entropy uses H⁺ on 1⊥ and needs
    labels that sum to 1.

    ``R13`` is R1 + R3 computed directly (module docstring): build E_Q from
    ``erm + R13 + R2 + R4``, never from R1 + R3. The model runs in its own dtype and device;
    verification wants float64 (``model.double()``), float32 models work with float32 accuracy.
    A piecewise-linear model (ReLU, max-pool) gets a :class:`~mixtheory.PiecewiseLinearWarning`:
    its R2 is 0 almost everywhere.

    >>> import torch
    >>> from mixtheory import MixupGeometry, SymmetricBeta
    >>> g = torch.Generator().manual_seed(0)
    >>> X = torch.randn(20, 3, generator=g, dtype=torch.float64)
    >>> W = torch.randn(3, 2, generator=g, dtype=torch.float64)
    >>> geo = MixupGeometry(X, torch.arange(20) % 2, SymmetricBeta(1.0))
    >>> regs = taylor_regularizers(lambda x: torch.tanh(x @ W), geo)
    >>> bool((regs["R1"] >= 0).all()), bool((regs["R3"] <= 0).all())
    (True, True)
    >>> from mixtheory.expansions import second_order_from_terms
    >>> e_q = second_order_from_terms(regs)   # E_Q = mean(erm + R13 + R2 + R4), stably
    >>> factor = taylor_regularizers(lambda x: torch.tanh(x @ W), geo, route="factor")
    >>> bool(torch.allclose(factor["R2"], regs["R2"], rtol=1e-10, atol=1e-14))
    True
    """
    loss = get_loss(loss)
    check_regularizer_labels(geometry, loss)
    idx = geometry.sample_indices(indices)
    if chunk_size is not None and (int(chunk_size) != chunk_size or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    check_eval_mode(model)
    check_model_dtype(model)
    plan = _closed_form_plan(model, geometry, route, memory_budget, chunk_size)
    if plan.route == "factor":
        from .estimators.factor_route import factor_regularizers

        regs, curvature_zero = factor_regularizers(model, geometry, loss, idx, plan.samples, plan.directions)
        out = _from_factor_route(geometry, loss, idx, regs, return_j)
    else:
        out, curvature_zero = _dense_route(model, geometry, loss, idx, plan.samples, return_j)
    warn_piecewise_linear(model, curvature_zero)
    warn_if_cancelling(out["cancellation"], geometry.dtype)
    return out


def _closed_form_plan(
    model: Callable[[Tensor], Tensor],
    geometry: MixupGeometry,
    route: str,
    memory_budget: int | float | str | None,
    chunk_size: int | None,
) -> ClosedFormPlan:
    """The route and pass sizes of :func:`taylor_regularizers` under the memory budget."""
    budget = parse_memory_budget(memory_budget)
    model_dtype, model_device = model_dtype_device(model)
    run_dtype = model_dtype or geometry.dtype
    one = geometry.as_inputs(geometry.x_tilde[:1].to(dtype=run_dtype, device=model_device or geometry.device))
    with model_call_errors():
        act = activation_elements(model, one)
    return plan_closed_form(
        d=geometry.d,
        c=geometry.c,
        rank=geometry.rank,
        act=act,
        model_bytes=torch.finfo(run_dtype).bits // 8,
        geometry_bytes=torch.finfo(geometry.dtype).bits // 8,
        route=route,
        budget=budget,
        max_samples=chunk_size,
    )


def _dense_route(
    model: Callable[[Tensor], Tensor],
    geometry: MixupGeometry,
    loss: Loss,
    idx: Tensor,
    chunk_size: int,
    return_j: bool,
) -> tuple[dict[str, Tensor], bool]:
    """The dense reference: Jacobians and d × d Hessians of ``chunk_size`` samples at a time."""
    parts: list[dict[str, Tensor]] = []
    curvature_zero = True
    for start in range(0, idx.numel(), chunk_size):
        chunk = idx[start : start + chunk_size]
        u, jac, T = model_derivatives(model, geometry, loss, chunk)
        curvature_zero &= bool((T == 0).all())
        parts.append(
            regularizers_from_derivatives(
                geometry, u, jac, loss, indices=chunk, hessian_contraction=T, return_j=return_j, warn=False
            )
        )
        del u, jac, T
    return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}, curvature_zero


def _from_factor_route(
    geometry: MixupGeometry, loss: Loss, idx: Tensor, regs: dict[str, Tensor], return_j: bool
) -> dict[str, Tensor]:
    """R1 = R13 − R3, the cancellation and (``return_j``) J from the factor route's sums."""
    R13, R3 = regs["R13"], regs["R3"]
    R1 = R13 - R3
    out = {"erm": regs["erm"], "R1": R1, "R2": regs["R2"], "R3": R3, "R4": regs["R4"], "R13": R13}
    out["cancellation"] = cancellation(R1, R3, R13)
    if return_j:
        y = geometry.y_tilde[idx]
        u = regs["outputs"]
        pinv_xy = geometry.pinv_sigma_xy(idx)  # (m, d, c)
        out["J"] = -loss.inverse_uu_apply(y, u, loss.hess_uy(y, u) @ pinv_xy.transpose(1, 2))
    return out
