r"""The real mixup loss, exactly and as training samples it, and the second-order loss it is
compared with.

``E_mix(f) = (1/n²) Σ_i Σ_j E_λ ℓ(λ y_i + (1−λ) y_j, f(λ x_i + (1−λ) x_j))``.

- :func:`exact_mixup_loss`: quadrature over θ (the folded law, Theorem 1 of Carratino et al.,
  JMLR 2022) times the exact sum over all n partners, in chunks; deterministic and accurate to
  ~1e-12 for smooth models. It costs n² · nodes model evaluations: about a second for n = 200 on
  digits, many minutes for all 1,797 digits; for large n use :func:`sampled_mixup_loss`, whose
  standard error says how far it can be from the exact value. ``form="unfolded"`` uses λ's own
  law on [0, 1] instead (the definition, before folding); the two agree by Theorem 1, a test.
  For α ≤ 1e-3 nearly all of θ's mass sits at θ ≈ 1 (ERM): the rule integrates it, but the
  mixup part E_mix − ERM is then ~1e-7 of the loss and only its absolute error (~3e-12 on
  digits) is meaningful.
- :func:`sampled_mixup_loss`: drawn as training draws it, one λ per sample with a random
  partner, or one λ per batch with a random permutation of partners; the mean of independent
  replicates with its standard error (:class:`~mixtheory.monte_carlo.MonteCarloEstimate`).

:func:`second_order_loss` gives ``E_Q`` in closed form (``erm + R13 + R2 + R4`` from
:func:`mixtheory.regularizers.taylor_regularizers`) and :func:`sampled_second_order_loss` by
Monte Carlo over the actual perturbations of the second-order Taylor polynomial ``l_Q``: an
independent check of the closed-form algebra.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import torch
from torch import nn

from ._progress import progress_bar  # noqa: F401  (re-exported: mixtheory.cli.check imports it here)
from ._types import ArrayLike, Generator, Model
from ._validation import (
    Tensor,
    as_tensor,
    check_eval_mode,
    check_labels_sum_to_one,
    check_model_dtype,
    labels_for_model,
    model_call_errors,
    model_dtype_device,
    model_outputs,
)
from .derivatives import directional_derivatives
from .geometry import MixupGeometry
from .laws import DEFAULT_NODES, MixingLaw
from .losses import BinaryLogistic, CrossEntropy, Loss, SquaredError, get_loss
from .monte_carlo import MonteCarloEstimate, monte_carlo_estimate
from .regularizers import taylor_regularizers

__all__ = [
    "MonteCarloEstimate",
    "exact_mixup_loss",
    "sampled_mixup_loss",
    "mixup_loss",
    "mix_batch",
    "second_order_loss",
    "sampled_second_order_loss",
]

Form = Literal["folded", "unfolded"]
Granularity = Literal["sample", "batch"]


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


def mix_batch(
    x: Tensor, y: Tensor, lam: Tensor, partner: Tensor, *, y_lam: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """``(λ x + (1 − λ) x[partner], λ y + (1 − λ) y[partner])``: the one mixup batch construction.

    ``lam`` broadcasts against ``x`` (e.g. (n, 1) for flat inputs, (1, 1, 1, 1) for one λ per
    image batch); ``y_lam`` (default ``lam``) against the (n, c) labels."""
    y_lam = lam if y_lam is None else y_lam
    return lam * x + (1 - lam) * x[partner], y_lam * y + (1 - y_lam) * y[partner]


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


def sampled_mixup_loss(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    loss: str | Loss = "ce",
    *,
    num_draws: int = 64,
    per: Granularity = "sample",
    generator: Generator = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
    num_classes: int | None = None,
    checkpoints: Sequence[int] | None = None,
) -> MonteCarloEstimate:
    r"""The mixup loss as training draws it: ``num_draws`` independent replicates, each an average
    over all n anchors, with the standard error across replicates.

    ``per="sample"``: one λ and a uniform partner (self included) per anchor. ``per="batch"``: one λ
    per replicate and partners a uniformly random permutation (as training code mixes a shuffled
    batch). Both means are exactly the mixup loss ``E_mix``: under a uniform permutation each
    anchor's partner is uniform over all n, itself included with probability 1/n; sharing one λ
    changes only the variance. (Flipping or rolling a batch never pairs a sample with itself and
    converges to ``(n·E_mix − E_ERM)/(n − 1)`` instead: see :mod:`mixtheory.mixing`.)
    ``checkpoints``: replicate counts at which to record the running estimate.
    """
    x, y, loss = _prepare(model, X, Y, law, loss, dtype, device, num_classes)
    if per not in ("sample", "batch"):
        raise ValueError(f"per must be 'sample' or 'batch', got {per!r}")
    if int(num_draws) != num_draws or num_draws < 2:
        raise ValueError(f"num_draws must be an integer >= 2 (for a standard error), got {num_draws!r}")
    n = x.shape[0]
    input_shape = x.shape[1:]
    x = x.reshape(n, -1)
    replicates = []
    with torch.no_grad():
        for _ in range(int(num_draws)):
            if per == "sample":
                lam = law.sample_lambda(n, generator).to(x.dtype).to(x.device)[:, None]
                partner = torch.randint(n, (n,), generator=generator).to(x.device)
            else:
                lam = law.sample_lambda(1, generator).to(x.dtype).to(x.device)[:, None]
                partner = torch.randperm(n, generator=generator).to(x.device)
            mixed_x, mixed_y = mix_batch(x, y, lam, partner)
            out = model_outputs(model, mixed_x.reshape(n, *input_shape), y.shape[1], out_dtype=x.dtype)
            replicates.append(float(loss.value(mixed_y, out).mean()))
    return monte_carlo_estimate(replicates, checkpoints)


def mixup_loss(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    loss: str | Loss = "ce",
    method: Literal["exact", "sampled"] = "exact",
    **options,
) -> float | MonteCarloEstimate:
    r"""Convenience: :func:`exact_mixup_loss` (a float) for ``method="exact"``, or
    :func:`sampled_mixup_loss` (a :class:`MonteCarloEstimate`) for ``method="sampled"``; the
    options are theirs.

    ``pairing=`` (an option): partners drawn from π(j | i) instead of uniformly — a dense n×n
    row-stochastic matrix ``P[i, j] = π(j | i)`` or a :class:`mixtheory.mixing.PartnerLaw`; anchor i
    uniform, λ from the law (docs/theory.md §8.1). The exact method is then
    :func:`mixtheory.pairing.exact_mixup_loss_with_pairing`, the sampled one
    :func:`mixtheory.mixing.sampled_loss_for_rule` with that partner law."""
    pairing = options.pop("pairing", None)
    if pairing is not None:
        return _mixup_loss_with_pairing(model, X, Y, law, loss, method, pairing, options)
    if method == "exact":
        return exact_mixup_loss(model, X, Y, law, loss, **options)
    if method == "sampled":
        return sampled_mixup_loss(model, X, Y, law, loss, **options)
    raise ValueError(f"method must be 'exact' or 'sampled', got {method!r}")


def _mixup_loss_with_pairing(model: Model, X: ArrayLike, Y: ArrayLike, law, loss, method, pairing, options):
    from .geometry import as_partner_law
    from .mixing import sampled_loss_for_rule
    from .pairing import exact_mixup_loss_with_pairing

    if method == "exact":
        return exact_mixup_loss_with_pairing(model, X, Y, law, pairing, loss, **options)
    if method == "sampled":
        n = torch.as_tensor(X).shape[0]
        return sampled_loss_for_rule(model, X, Y, law, loss, partner=as_partner_law(pairing, n), **options)
    raise ValueError(f"method must be 'exact' or 'sampled', got {method!r}")


def second_order_loss(
    model: Callable[[Tensor], Tensor], geometry: MixupGeometry, loss: str | Loss = "ce"
) -> float:
    r"""Closed-form ``E_Q = (1/n) Σ_i [ℓ(ỹ_i, f(x̃_i)) + R13 + R2 + R4]`` (Theorem 3), with
    ``R13 = R1 + R3`` computed directly (no cancellation on a saturated softmax)."""
    regs = taylor_regularizers(model, geometry, loss)
    terms = regs["erm"] + regs["R13"] + regs["R2"] + regs["R4"]
    if getattr(geometry, "pairing", None) is not None:
        return float((geometry.anchor_weights * terms).sum())  # anchor weights p_i (§8.1)
    return float(terms.mean())


def sampled_second_order_loss(
    model: Callable[[Tensor], Tensor],
    geometry: MixupGeometry,
    loss: str | Loss = "ce",
    *,
    num_draws: int = 64,
    generator: Generator = None,
    checkpoints: Sequence[int] | None = None,
) -> MonteCarloEstimate:
    r"""Monte Carlo of the second-order Taylor polynomial over the real perturbations:

    ``l_Q = ℓ + ℓ_yᵀε + ℓ_uᵀ(∇f δ) + ½[εᵀℓ_yy ε + 2 (∇f δ)ᵀ ℓ_uy ε + (∇f δ)ᵀ ℓ_uu (∇f δ)
    + ℓ_uᵀ (δᵀ ∇²f δ)]`` at ``(ỹ_i, f(x̃_i))``, with (θ, j) drawn per anchor. ``∇f δ`` and
    ``δᵀ∇²f δ`` come from one nested forward-mode pass (jvp of jvp). Each replicate averages
    over all anchors with the geometry's anchor weights ``p_i`` (the plain mean under uniform
    pairing; ``(1 + Σ_j π(i|j))/(2n)`` under a non-uniform pairing, docs/theory.md §8.1, so that it
    estimates :func:`~mixtheory.pairing.weighted_second_order_loss`); the standard error is across
    replicates.
    """
    loss = get_loss(loss)
    check_eval_mode(model)
    check_model_dtype(model)
    if loss.requires_normalized_labels:
        check_labels_sum_to_one("Y", geometry.Y, f"the {loss.name} second-order loss")
    model_dtype, model_device = model_dtype_device(model)
    run = {"dtype": model_dtype or geometry.dtype, "device": model_device or geometry.device}
    back = {"dtype": geometry.dtype, "device": geometry.device}
    xt, yt = geometry.x_tilde, geometry.y_tilde

    def f(x_flat: Tensor) -> Tensor:
        return model(geometry.as_inputs(x_flat)[None])[0]

    def directional(x_flat: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        return directional_derivatives(f, x_flat, v)

    with torch.no_grad():
        u = model_outputs(model, geometry.as_inputs(xt), geometry.c, out_dtype=geometry.dtype)
    L = loss.value(yt, u)
    L_u, L_y = loss.grad_u(yt, u), loss.grad_y(yt, u)
    L_uu, L_uy, L_yy = loss.hess_uu(yt, u), loss.hess_uy(yt, u), loss.hess_yy(yt, u)
    replicates = []
    for _ in range(num_draws):
        delta, eps = geometry.sample_perturbations(1, generator=generator)
        with torch.no_grad(), model_call_errors():  # forward mode needs no graph for the parameters
            jv, hvv = torch.func.vmap(directional)(xt.to(**run), delta[:, 0].to(**run))
        jv, hvv = jv.to(**back), hvv.to(**back)
        eps = eps[:, 0]
        lq = (
            L
            + (L_y * eps).sum(-1)
            + (L_u * jv).sum(-1)
            + 0.5
            * (
                torch.einsum("mk,mkl,ml->m", eps, L_yy, eps)
                + 2 * torch.einsum("mk,mkl,ml->m", jv, L_uy, eps)
                + torch.einsum("mk,mkl,ml->m", jv, L_uu, jv)
                + (L_u * hvv).sum(-1)
            )
        )
        # anchor i carries weight p_i (1/n under uniform pairing; (1 + Σ_j π(i|j))/(2n) for a
        # non-uniform pairing, docs/theory.md §8.1): E_Q = Σ_i p_i E[l_Q | i]
        replicates.append(float((geometry.anchor_weights * lq).sum()))
    return monte_carlo_estimate(replicates, checkpoints)
