r"""Orchestration: per-sample erm, R1–R4 of a network from the geometry, the probes and the passes.

R1 (``r1=``): ``"exact"`` through the c×d Jacobian (c vector-Jacobian products) and the structured
closed form of :func:`mixtheory.regularizers.regularizers_from_derivatives`; or ``"probes"``, the
Hutchinson estimate of R13 = R1 + R3 (:func:`.hutchinson.r13_per_probe`) from the ∇f·v the R2 pass
already computes (free), and R1 = R13 − R3. ``R3 = −½ tr(ℓ_uu⁻¹ ℓ_uy K_i ℓ_yu)`` with
``K_i = Σ_yx Σ_xx⁺ Σ_xy`` needs no derivative of the network: it is computed exactly, as is R4.

Piecewise-linear networks (ReLU, max-pool): ``∇²f = 0`` almost everywhere, so autograd gives
``R2 = 0`` and the second-order theory (Theorem 3 of Carratino et al., JMLR 2022, which needs a
twice-differentiable f) does not apply; a :class:`~mixtheory._validation.PiecewiseLinearWarning`
says so, and ``curvature="secant"`` (:mod:`.evaluators`) measures the curvature at the scale of the
actual perturbations instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from .._memory import MAX_PASS_INPUTS, activation_elements, auto_pass_inputs
from .._progress import progress_bar
from .._types import DeviceLike, Tensor
from .._validation import (
    as_tensor,
    check_device,
    check_eval_mode,
    check_labels_sum_to_one,
    check_model_dtype,
    check_model_output,
    labels_for_model,
    model_call_errors,
    model_dtype_device,
    model_outputs,
    warn_piecewise_linear,
)
from ..geometry import MixupGeometry
from ..laws import MixingLaw
from ..losses import Loss, get_loss
from ..regularizers import cancellation, label_regularizers, regularizers_from_derivatives, warn_if_cancelling
from .evaluators import _DerivativeEvaluator, input_jacobian
from .hutchinson import probe_average, r13_per_probe
from .jets import taylor_mode_unsupported
from .meyer2021_hutchpp import hutch_plus_plus
from .options import EstimatorOptions, TrainMode, options_with
from .probes import ProbeBatch, draw_probe_batch, draw_spectral_batches, probe_seeds
from .results import RegularizerEstimates

__all__ = ["TrainModeWarning", "estimate_regularizers", "estimate_from_geometry"]

Indices = Tensor | Sequence[int] | None
_CHUNK_INPUTS = 512


class TrainModeWarning(UserWarning):
    """A train-mode model with batch norm or dropout was switched to eval mode."""


def _network_geometry(
    model: Callable[[Tensor], Tensor],
    X: Tensor,
    Y: Tensor,
    law: MixingLaw,
    geometry_dtype: torch.dtype,
    device: DeviceLike,
) -> MixupGeometry:
    """The mixup geometry of (X, Y) on ``device`` (default: the model's, else the CPU), after
    checking the device and the model's dtype."""
    device = check_device(device)
    check_model_dtype(model)
    _, model_device = model_dtype_device(model)
    if device is None:
        device = model_device if model_device is not None else torch.device("cpu")
    x = as_tensor("X", X, dtype=geometry_dtype, device=device)
    y = labels_for_model(model, x, Y, None, geometry_dtype, device)
    return MixupGeometry(x, y, law, dtype=geometry_dtype, device=device)


def estimate_regularizers(
    model: Callable[[Tensor], Tensor],
    X: Tensor,
    Y: Tensor,
    law: MixingLaw,
    options: EstimatorOptions | None = None,
    *,
    indices: Indices = None,
    loss: str | Loss = "ce",
    generator: torch.Generator | None = None,
    device: DeviceLike = None,
    geometry_dtype: torch.dtype = torch.float64,
    **overrides: Any,
) -> RegularizerEstimates:
    r"""Per-sample ``erm``, ``R1``, ``R2``, ``R3`` (``R4``) of Theorem 3 (Carratino et al., JMLR 2022)
    on a network, with standard errors for the estimated ones (:mod:`mixtheory.estimators`), as a
    :class:`RegularizerEstimates`.

    Args:
        model: a module (or callable) mapping a batch ``(B, *input_shape)`` to logits ``(B, c)``;
            samples must not interact (eval mode).
        X: inputs ``(n, d)`` or ``(n, *input_shape)``; Y: labels ``(n, c)`` or class indices
            ``(n,)`` (c: the model's number of outputs); law: the law of λ. The geometry uses all
            n samples.
        options: the estimator's settings, an :class:`EstimatorOptions` (probes, their number, the
            derivative pass, R1's mode, curvature, batch size, train mode, progress, …; documented
            there). Default ``EstimatorOptions()``.
        indices: the samples to evaluate (default all).
        loss: ``"ce"`` (default), ``"mse"``, ``"logistic"`` or a :class:`~mixtheory.losses.Loss`.
        generator: a ``torch.Generator`` (CPU) making the run deterministic.
        device: where the geometry and the passes run (default: the model's device).
        geometry_dtype: dtype of the geometry and of all reductions (float64 by default); the
            network runs in its own parameter dtype.
        overrides: fields of :class:`EstimatorOptions` replacing those of ``options``, e.g.
            ``num_probes=32`` (an unknown name is refused and the fields are listed). A train-mode
            model is refused, or switched to eval with a :class:`TrainModeWarning` for
            ``train_mode="eval"``.

    >>> import torch
    >>> from mixtheory import SymmetricBeta, taylor_regularizers, MixupGeometry
    >>> g = torch.Generator().manual_seed(0)
    >>> X = torch.randn(12, 3, generator=g, dtype=torch.float64)
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    >>> net = net.double()
    >>> est = estimate_regularizers(net, X, torch.arange(12) % 2, SymmetricBeta(1.0),
    ...                             EstimatorOptions(probes="exact"))
    >>> ref = taylor_regularizers(net, MixupGeometry(X, torch.arange(12) % 2, SymmetricBeta(1.0)))
    >>> bool(torch.allclose(est["R2"], ref["R2"], rtol=1e-10, atol=1e-14))
    True
    """
    options = options_with(options, overrides)
    geometry = _network_geometry(model, X, Y, law, geometry_dtype, device)
    return estimate_from_geometry(model, geometry, options, indices=indices, loss=loss, generator=generator)


def estimate_from_geometry(
    model: Callable[[Tensor], Tensor],
    geometry: MixupGeometry,
    options: EstimatorOptions | None = None,
    *,
    indices: Indices = None,
    loss: str | Loss = "ce",
    generator: torch.Generator | None = None,
    seeds: list[int] | None = None,
    **overrides: Any,
) -> RegularizerEstimates:
    """:func:`estimate_regularizers` on a prebuilt :class:`~mixtheory.geometry.MixupGeometry`.

    ``seeds`` (one per requested sample) overrides the seeds drawn from ``generator``; the
    distributed driver uses it to reproduce the single-process draws on every shard. ``options``
    and ``overrides`` as in :func:`estimate_regularizers`.
    """
    options = options_with(options, overrides)
    loss = get_loss(loss)
    if loss.requires_normalized_labels:
        check_labels_sum_to_one("Y", geometry.Y, f"the {loss.name} regularizers")
    switched_to_eval = _enter_eval_mode(model, options.train_mode)
    try:
        return _estimate(model, geometry, options, loss, indices, generator, seeds)
    finally:
        if switched_to_eval:
            model.train()


def _enter_eval_mode(model: Callable[[Tensor], Tensor], train_mode: TrainMode) -> bool:
    """Check (``"error"``) or switch (``"eval"``, with a warning) a train-mode model; whether it
    was switched and must be put back into train mode afterwards."""
    was_training = isinstance(model, nn.Module) and model.training
    if train_mode == "error":
        check_eval_mode(model)
        return was_training
    if not was_training:
        return False
    try:
        check_eval_mode(model)
    except ValueError as exc:
        warnings.warn(
            f"{exc} Switched to eval mode for this computation "
            "(silence with warnings.filterwarnings('ignore', "
            "category=mixtheory.estimators.TrainModeWarning)).",
            TrainModeWarning,
            stacklevel=4,
        )
        model.eval()
        return True
    return False


def _estimate(
    model: Callable[[Tensor], Tensor],
    geometry: MixupGeometry,
    options: EstimatorOptions,
    loss: Loss,
    indices: Indices,
    generator: torch.Generator | None,
    seeds: list[int] | None,
) -> RegularizerEstimates:
    """All requested samples, chunked so that a pass sees at most ``chunk_size`` model inputs."""
    idx = geometry.sample_indices(indices)
    model_dtype, _ = model_dtype_device(model)
    model_dtype = model_dtype or geometry.dtype
    requested_method = options.method
    options = options.resolved(model, geometry.c)

    chunk_size = options.chunk_size
    if chunk_size is None:
        chunk_size = _auto_chunk_size(model, geometry, model_dtype)
    probe_chunk = min(options.probes_per_sample(geometry.rank), chunk_size)
    pass_samples = max(1, chunk_size // probe_chunk)
    # chunks of samples for drawing probes and the per-sample algebra: at least _CHUNK_INPUTS inputs'
    # worth (fixed costs amortized); the derivative passes inside see pass_samples at a time
    samples_per_chunk = max(pass_samples, _CHUNK_INPUTS // probe_chunk)
    if seeds is None:
        seeds = probe_seeds(generator, idx) if not options.exact_probes else [0] * idx.numel()
    elif len(seeds) != idx.numel():
        raise ValueError(f"seeds must give one seed per sample ({idx.numel()}), got {len(seeds)}")
    evaluator = _DerivativeEvaluator(
        model,
        geometry,
        options,
        model_dtype,
        probe_chunk,
        need_jv=options.r1 == "probes",
        pass_samples=pass_samples,
    )

    parts = []
    all_curvature_zero = True
    bar = _progress_bar(idx.numel(), samples_per_chunk, options.progress)
    for start in range(0, idx.numel(), samples_per_chunk):
        chunk = idx[start : start + samples_per_chunk]
        chunk_seeds = seeds[start : start + samples_per_chunk]
        # parameters need no graph (torch.func transforms ignore no_grad for the inputs)
        with torch.no_grad(), model_call_errors():
            parts.append(_estimate_chunk(evaluator, geometry, options, loss, chunk, chunk_seeds))
        all_curvature_zero &= parts[-1].info.pop("curvature_zero")
        bar.update(chunk.numel())
    bar.close()

    if options.curvature == "autograd":
        warn_piecewise_linear(model, all_curvature_zero, stacklevel=4)
    result = RegularizerEstimates.concatenate(parts)
    if requested_method == "auto" and options.method not in ("taylor", "taylor-collapsed"):
        result.info["taylor_unsupported"] = taylor_mode_unsupported(model)
    warn_if_cancelling(result.cancellation, geometry.dtype, stacklevel=4)
    return result


def _auto_chunk_size(model: Callable[[Tensor], Tensor], geometry: MixupGeometry, dtype: torch.dtype) -> int:
    """Model inputs per pass for ``chunk_size=None``: a pass's largest activation about 4 MB."""
    _, device = model_dtype_device(model)
    one = geometry.as_inputs(geometry.x_tilde[:1].to(dtype=dtype, device=device or geometry.device))
    try:
        with model_call_errors():
            largest = activation_elements(model, one, largest=True)
    except Exception:  # noqa: BLE001 - a model that cannot run on one sample: the passes will say why
        largest = 0
    if largest == 0:
        return MAX_PASS_INPUTS
    return auto_pass_inputs(largest, torch.finfo(dtype).bits // 8, device=device or geometry.device)


def _progress_bar(num_samples: int, samples_per_chunk: int, progress: bool | None) -> tqdm:
    """A bar over samples (:func:`mixtheory._progress.progress_bar`): as asked, or (``progress=None``)
    for multi-chunk runs; only ever on a terminal."""
    return progress_bar(
        num_samples, "mixup regularizers", progress, long=num_samples > samples_per_chunk, unit="sample"
    )


def _estimate_chunk(
    evaluator: _DerivativeEvaluator,
    geometry: MixupGeometry,
    options: EstimatorOptions,
    loss: Loss,
    chunk: Tensor,
    chunk_seeds: list[int],
) -> RegularizerEstimates:
    """One chunk of samples: R2 from the curvature pass, R13 exact or from the same probes."""
    xt = geometry.x_tilde[chunk]
    exact_columns = options.exact_probes
    fused = options.method in ("taylor", "taylor-collapsed") and options.curvature == "autograd"
    if fused and options.probes != "spectral":
        u, R2, R2_se, coords, jv, curv = _taylor_probe_pass(
            evaluator, geometry, options, loss, chunk, chunk_seeds
        )
        return _chunk_estimates(evaluator, geometry, options, loss, chunk, u, R2, R2_se, coords, jv, curv)
    u = model_outputs(
        evaluator.model, geometry.as_inputs(xt.to(evaluator.dtype)), geometry.c, out_dtype=geometry.dtype
    )
    w = loss.grad_u(geometry.y_tilde[chunk], u)
    if options.method == "hutch++":
        sketch = hutch_plus_plus(
            evaluator, geometry, chunk, xt, w, options.probes, options.num_probes, chunk_seeds
        )
        R2, R2_se = 0.5 * sketch.trace, 0.5 * sketch.trace_se
        coords, jv, exact_columns = sketch.coords, sketch.jv, sketch.exact_columns
        curv = sketch.trace[:, None]
    elif options.probes == "spectral":
        R2, R2_se, coords, jv, curv, exact_columns = _spectral_pass(
            evaluator, geometry, options, chunk, chunk_seeds, xt, w
        )
    else:
        probes = draw_probe_batch(
            geometry,
            options.probes,
            options.num_probes,
            chunk,
            chunk_seeds,
            evaluator.dtype,
            evaluator.device,
        )
        coords = probes.coords
        jv, curv = _curvature_pass(evaluator, options, xt, w, probes)
        R2, R2_se = _group_average(0.5 * curv, probes.vectors.shape[1], options.exact_probes)
    return _chunk_estimates(
        evaluator, geometry, options, loss, chunk, u, R2, R2_se, coords, jv, curv, exact_columns
    )


def _taylor_probe_pass(
    evaluator: _DerivativeEvaluator,
    geometry: MixupGeometry,
    options: EstimatorOptions,
    loss: Loss,
    chunk: Tensor,
    chunk_seeds: list[int],
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Taylor mode over drawn probes, the outputs f(x̃) taken from the jets' primal (no separate
    forward pass): u, R2, its standard error, the probes' coordinates, ∇f v and the curvature."""
    probes = draw_probe_batch(
        geometry, options.probes, options.num_probes, chunk, chunk_seeds, evaluator.dtype, evaluator.device
    )
    k = probes.vectors.shape[1]
    groups = options.curvature_groups(k)
    if groups is not None and probes.exact:
        groups = 1
    with model_call_errors():
        out, jv, vhv = evaluator.taylor_outputs(geometry.x_tilde[chunk], probes.vectors, groups)
    u = check_model_output(out, chunk.numel(), geometry.c).to(device=geometry.device, dtype=geometry.dtype)
    w = loss.grad_u(geometry.y_tilde[chunk], u)
    curv = (vhv * w.to(device=vhv.device, dtype=vhv.dtype)[:, None, :]).sum(-1).to(geometry.dtype)
    R2, R2_se = _group_average(0.5 * curv, k, options.exact_probes)
    return u, R2, R2_se, probes.coords, jv, curv


def _chunk_estimates(
    evaluator: _DerivativeEvaluator,
    geometry: MixupGeometry,
    options: EstimatorOptions,
    loss: Loss,
    chunk: Tensor,
    u: Tensor,
    R2: Tensor,
    R2_se: Tensor,
    coords,  # noqa: ANN001 - a tensor, or the (head, tail) pair of spectral probes
    jv,  # noqa: ANN001
    curv: Tensor,
    exact_columns: bool | None = None,
) -> RegularizerEstimates:
    """R13 (exact or from the probes), R1 = R13 − R3 and the labels' terms for one chunk."""
    exact_columns = options.exact_probes if exact_columns is None else exact_columns
    xt = geometry.x_tilde[chunk]
    if options.r1 == "exact":
        jac = input_jacobian(evaluator.forward, xt.to(evaluator.dtype), geometry.c).to(geometry.dtype)
        regs = regularizers_from_derivatives(geometry, u, jac, loss, indices=chunk, r2=R2, warn=False)
        R13, R13_se = regs["R13"], torch.zeros_like(R2)
    else:
        regs = label_regularizers(geometry, u, loss, indices=chunk)
        if options.probes == "spectral":
            R13, R13_se = _spectral_r13(geometry, loss, chunk, u, coords, jv)
        else:
            per_probe = r13_per_probe(geometry, loss, chunk, u, coords, jv.to(geometry.dtype))
            R13, R13_se = probe_average(per_probe, exact_columns)
    R1 = R13 - regs["R3"]
    return RegularizerEstimates(
        indices=chunk,
        erm=regs["erm"],
        R1=R1,
        R2=R2,
        R3=regs["R3"],
        R4=regs["R4"],
        R1_se=R13_se,
        R2_se=R2_se,
        R13=R13,
        R13_se=R13_se,
        cancellation=cancellation(R1, regs["R3"], R13),
        probes=options.probes,
        num_probes=options.probes_per_sample(geometry.rank),
        method=options.method,
        r1=options.r1,
        curvature=options.curvature,
        info={"curvature_zero": bool((curv == 0).all())},
    )


def _curvature_pass(
    evaluator: _DerivativeEvaluator, options: EstimatorOptions, xt: Tensor, w: Tensor, probes: ProbeBatch
) -> tuple[Tensor, Tensor]:
    """``∇f v`` per probe and ``vᵀ∇²g v`` per probe, or summed within the groups of collapsed Taylor
    mode (one group for exact columns), in the geometry's dtype."""
    k = probes.vectors.shape[1]
    groups = options.curvature_groups(k)
    if groups is not None and probes.exact:
        groups = 1
    jv, curv = evaluator(xt, w, probes.vectors, groups)
    return jv, curv.to(evaluator.geometry.dtype)


def _group_average(group_sums: Tensor, num_probes: int, exact: bool) -> tuple[Tensor, Tensor]:
    """The estimate and its standard error from per-group sums (m, g) of ``num_probes`` probes:
    exact columns are summed (zero error); random probes give g group means, averaged, with their
    standard deviation over √g (g = num_probes without collapsing)."""
    if exact:
        return group_sums.sum(1), torch.zeros_like(group_sums[:, 0])
    groups = group_sums.shape[1]
    return probe_average(group_sums * (groups / num_probes), False)


def _spectral_pass(
    evaluator: _DerivativeEvaluator,
    geometry: MixupGeometry,
    options: EstimatorOptions,
    chunk: Tensor,
    chunk_seeds: list[int],
    xt: Tensor,
    w: Tensor,
) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor | None], tuple[Tensor, Tensor | None], Tensor, bool]:
    """R2 from spectral probes (:func:`.probes.draw_spectral_batches`): the exact columns summed
    plus the tail's group means; returns the coordinates and ∇f·v of both batches for R13."""
    head, tail = draw_spectral_batches(
        geometry,
        options.exact_directions,
        options.num_probes,
        chunk,
        chunk_seeds,
        evaluator.dtype,
        evaluator.device,
    )
    head_jv, head_curv = _curvature_pass(evaluator, options, xt, w, head)
    head_r2 = 0.5 * head_curv.sum(1)
    if tail is None:
        return head_r2, torch.zeros_like(head_r2), (head.coords, None), (head_jv, None), head_curv, True
    tail_jv, tail_curv = _curvature_pass(evaluator, options, xt, w, tail)
    tail_r2, tail_se = _group_average(0.5 * tail_curv, tail.vectors.shape[1], False)
    curv = torch.cat([head_curv, tail_curv], 1)
    return head_r2 + tail_r2, tail_se, (head.coords, tail.coords), (head_jv, tail_jv), curv, False


def _spectral_r13(
    geometry: MixupGeometry,
    loss: Loss,
    chunk: Tensor,
    u: Tensor,
    coords: tuple[Tensor, Tensor | None],
    jv: tuple[Tensor, Tensor | None],
) -> tuple[Tensor, Tensor]:
    """R13 from spectral probes: the per-column values summed over the exact columns, plus the
    Hutchinson mean (and standard error) of the tail probes' values."""
    head = r13_per_probe(geometry, loss, chunk, u, coords[0], jv[0].to(geometry.dtype)).sum(1)
    if coords[1] is None:
        return head, torch.zeros_like(head)
    tail = r13_per_probe(geometry, loss, chunk, u, coords[1], jv[1].to(geometry.dtype))
    R13, R13_se = probe_average(tail, False)
    return head + R13, R13_se
