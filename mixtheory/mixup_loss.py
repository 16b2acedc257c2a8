r"""The real mixup loss, exactly and as training samples it, and the second-order loss it is
compared with.

``E_mix(f) = (1/n²) Σ_i Σ_j E_λ ℓ(λ y_i + (1−λ) y_j, f(λ x_i + (1−λ) x_j))``.

- :func:`exact_mixup_loss` (from :mod:`mixtheory.exact_loss`, whose engine every exact loss
  shares): quadrature over θ (the folded law, Theorem 1 of Carratino et al.,
  JMLR 2022) times the exact sum over all n partners, in chunks; deterministic and accurate to
  ~1e-12 for smooth models. It costs n² · nodes model evaluations: about a second for n = 200 on
  digits, many minutes for all 1,797 digits; for large n use :func:`sampled_mixup_loss`, whose
  standard error says how far it can be from the exact value. ``form="unfolded"`` uses λ's own
  law on [0, 1] instead (the definition, before folding); the two agree by Theorem 1, a test.
  For α ≤ 1e-3 nearly all of θ's mass sits at θ ≈ 1 (ERM): the rule integrates it, but the
  mixup part E_mix − ERM is then ~1e-7 of the loss and only its absolute error (~3e-12 on
  digits) is meaningful.
- :func:`sampled_mixup_loss`: drawn as training draws it, one λ per pair (anchor and a random
  partner), or one λ per batch with a random permutation of partners; the mean of independent
  replicates with its standard error (:class:`~mixtheory.monte_carlo.MonteCarloEstimate`).
- :func:`mixup_loss`: either, as one :class:`MixupLoss` (``evaluation="exact"`` or ``"sampled"``);
  how a loss is evaluated (nodes, chunk size, dtype, device) is one
  :class:`~mixtheory.exact_loss.LossOptions`.

:func:`second_order_loss` gives ``E_Q`` in closed form (``erm + R13 + R2 + R4`` from
:func:`mixtheory.closed_form.taylor_regularizers`) and :func:`sampled_second_order_loss` by
Monte Carlo over the actual perturbations of the second-order Taylor polynomial ``l_Q``: an
independent check of the closed-form algebra.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch

from ._types import ArrayLike, Generator, Tensor
from ._validation import (
    check_eval_mode,
    check_labels_sum_to_one,
    check_model_dtype,
    model_call_errors,
    model_dtype_device,
    model_outputs,
)
from .closed_form import taylor_regularizers
from .derivatives import directional_derivatives
from .exact_loss import LossOptions, exact_mixup_loss, loss_options, prepare_exact, progress_bar
from .expansions.second_order import CARRATINO_TERMS, second_order_from_terms
from .geometry import MixupGeometry, as_partner_law
from .laws import MixingLaw
from .losses import Loss, get_loss
from .mixing.expected_loss import sampled_loss_for_rule
from .mixing.partners import PartnerLaw
from .mixing.sampler import mix_batch
from .monte_carlo import MonteCarloEstimate, monte_carlo_estimate
from .pairing import exact_mixup_loss_with_pairing

__all__ = [
    "progress_bar",
    "MonteCarloEstimate",
    "exact_mixup_loss",
    "sampled_mixup_loss",
    "mixup_loss",
    "MixupLoss",
    "LossOptions",
    "mix_batch",
    "second_order_loss",
    "sampled_second_order_loss",
]

#: one λ per anchor and its partner ("pair", as in :func:`mixtheory.mixing.mix`) or per batch
Granularity = Literal["pair", "batch"]
#: how :func:`mixup_loss` evaluates the loss
Evaluation = Literal["exact", "sampled"]


def sampled_mixup_loss(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    *,
    loss: str | Loss = "ce",
    num_draws: int = 64,
    per: Granularity = "pair",
    generator: Generator = None,
    num_classes: int | None = None,
    checkpoints: Sequence[int] | None = None,
    options: LossOptions | None = None,
) -> MonteCarloEstimate:
    r"""The mixup loss as training draws it: ``num_draws`` independent replicates, each an average
    over all n anchors, with the standard error across replicates.

    ``per="pair"``: one λ and a uniform partner (self included) per anchor, i.e. per pair (the
    word of :func:`mixtheory.mixing.mix`). ``per="batch"``: one λ per replicate and partners a
    uniformly random permutation (as training code mixes a shuffled batch). Both means are exactly
    the mixup loss ``E_mix``: under a uniform permutation each anchor's partner is uniform over all
    n, itself included with probability 1/n; sharing one λ changes only the variance. (Flipping or
    rolling a batch never pairs a sample with itself and converges to ``(n·E_mix − E_ERM)/(n − 1)``
    instead: see :mod:`mixtheory.mixing`.) ``checkpoints``: replicate counts at which to record
    the running estimate. ``options``: the dtype and device of :class:`~mixtheory.exact_loss.LossOptions`
    apply (its quadrature and chunk fields belong to the exact losses).
    """
    x, y, loss = prepare_exact(model, X, Y, law, loss, loss_options(options), num_classes)
    if per not in ("pair", "batch"):
        hint = " (one λ per anchor and its partner is per='pair')" if per == "sample" else ""
        raise ValueError(f"per must be 'pair' or 'batch', got {per!r}{hint}")
    if int(num_draws) != num_draws or num_draws < 2:
        raise ValueError(f"num_draws must be an integer >= 2 (for a standard error), got {num_draws!r}")
    n = x.shape[0]
    input_shape = x.shape[1:]
    x = x.reshape(n, -1)
    replicates = []
    with torch.no_grad():
        for _ in range(int(num_draws)):
            if per == "pair":
                lam = law.sample_lambda(n, generator).to(x.dtype).to(x.device)[:, None]
                partner = torch.randint(n, (n,), generator=generator).to(x.device)
            else:
                lam = law.sample_lambda(1, generator).to(x.dtype).to(x.device)[:, None]
                partner = torch.randperm(n, generator=generator).to(x.device)
            mixed_x, mixed_y = mix_batch(x, y, lam, partner)
            out = model_outputs(model, mixed_x.reshape(n, *input_shape), y.shape[1], out_dtype=x.dtype)
            replicates.append(float(loss.value(mixed_y, out).mean()))
    return monte_carlo_estimate(replicates, checkpoints)


@dataclass(frozen=True)
class MixupLoss:
    """What :func:`mixup_loss` returns, whichever the evaluation.

    Attributes:
        value: the loss (exact, or the mean of the sampled replicates).
        stderr: the standard error of a sampled value; 0.0 for the exact one (a quadrature, no
            sampling; accurate to ~1e-12 for smooth models, :mod:`mixtheory.mixup_loss`).
        evaluation: ``"exact"`` or ``"sampled"``.
        num_replicates: the number of sampled replicates (0 for the exact value).
        running: ``(count, value, stderr)`` at the requested checkpoints (sampled only).
    """

    value: float
    stderr: float
    evaluation: Evaluation
    num_replicates: int = 0
    running: tuple[tuple[int, float, float], ...] = ()

    def __float__(self) -> float:
        return self.value

    def zscore(self, reference: float) -> float:
        """(value − reference) / stderr, as :meth:`MonteCarloEstimate.zscore` (±inf or 0 when exact)."""
        return MonteCarloEstimate(self.value, self.stderr, self.num_replicates).zscore(reference)


def mixup_loss(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    *,
    loss: str | Loss = "ce",
    evaluation: Evaluation = "exact",
    pairing: PartnerLaw | ArrayLike | None = None,
    **options,
) -> MixupLoss:
    r"""Convenience: the mixup loss as a :class:`MixupLoss`, by :func:`exact_mixup_loss` for
    ``evaluation="exact"`` or by :func:`sampled_mixup_loss` for ``evaluation="sampled"``; the
    options are theirs.

    ``pairing``: partners drawn from π(j | i) instead of uniformly — a dense n×n row-stochastic
    matrix ``P[i, j] = π(j | i)`` or a :class:`mixtheory.mixing.PartnerLaw`; anchor i uniform, λ
    from the law (docs/theory.md §8.1). The exact evaluation is then
    :func:`mixtheory.pairing.exact_mixup_loss_with_pairing`, the sampled one
    :func:`mixtheory.mixing.sampled_loss_for_rule` with that partner law. How the loss is
    evaluated (quadrature nodes, chunk size, dtype, device) is ``options=``
    :class:`~mixtheory.exact_loss.LossOptions`, passed on with the other options."""
    if evaluation not in ("exact", "sampled"):
        raise ValueError(f"evaluation must be 'exact' or 'sampled', got {evaluation!r}")
    if evaluation == "exact":
        if pairing is None:
            value = exact_mixup_loss(model, X, Y, law, loss=loss, **options)
        else:
            value = exact_mixup_loss_with_pairing(model, X, Y, law, pairing=pairing, loss=loss, **options)
        return MixupLoss(value, 0.0, "exact")
    if pairing is None:
        est = sampled_mixup_loss(model, X, Y, law, loss=loss, **options)
    else:
        if "options" in options:
            raise TypeError(
                "options= (LossOptions) applies to the exact evaluation and to sampled_mixup_loss; the "
                "sampled loss with a pairing (mixtheory.mixing.sampled_loss_for_rule) runs in float64 "
                "on X's device: leave options out"
            )
        n = torch.as_tensor(X).shape[0]
        partner = as_partner_law(pairing, n)
        est = sampled_loss_for_rule(model, X, Y, law, loss=loss, partner=partner, **options)
    return MixupLoss(est.value, est.stderr, "sampled", est.num_replicates, est.running)


def second_order_loss(
    model: Callable[[Tensor], Tensor], geometry: MixupGeometry, loss: str | Loss = "ce"
) -> float:
    r"""Closed-form ``E_Q = (1/n) Σ_i [ℓ(ỹ_i, f(x̃_i)) + R13 + R2 + R4]`` (Theorem 3), with
    ``R13 = R1 + R3`` computed directly (no cancellation on a saturated softmax)."""
    regs = taylor_regularizers(model, geometry, loss)
    return second_order_from_terms(regs, CARRATINO_TERMS, weights=geometry.mean_weights)  # p_i (§8.1)


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
    estimates :func:`second_order_loss` on that geometry); the standard error is across
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
