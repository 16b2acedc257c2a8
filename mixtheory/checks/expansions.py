r"""The expansions beyond Carratino et al.'s, each against its own exact loss (``docs/theory.md §8``):

- Zhang, Deng, Kawaguchi, Ghorbani, Zou (ICLR 2021), Lemma 3.1, generalised to cross-entropy: the
  mixup loss equals an expectation around the anchors with λ̃ and unmixed labels (an identity), and
  its second-order expansion has a third-order remainder when the inputs are contracted toward x̄;
  the slides' printed R3 (with E[1 − λ̃²]) leaves a second-order one;
- MixupE's directional expansion (Zou, Verma et al., UAI 2023) at K = 2 is the same polynomial as
  Zhang's, by an independent route (nested jvp along x_j − x_i, no Hessian);
- masked mixing (Park, Yun, Chun, NeurIPS 2022) with the Mixup mask M = λ·1 reduces to Zhang's terms;
- a non-uniform pairing (class-conditional partners) folds: Theorem 1 for π(j | i).

They run on the first ``EXPANSION_SAMPLES`` samples of the check's data (the exact losses cost n²
model evaluations per node).
"""

from __future__ import annotations

import warnings

import torch

from ..exact_loss import LossOptions, exact_mixup_loss
from ..expansions.mixupe import directional_expansion
from ..expansions.park2022 import masked_expansion
from ..expansions.remainder import fit_remainder_order
from ..expansions.zhang2021 import zhang_expansion
from ..mixing import ClassConditional
from ..pairing import exact_mixup_loss_with_pairing
from ..zhang2021 import zhang_exact_loss
from .context import CheckContext
from .registry import CheckResult, check, relative_row, symmetric_lambda_only
from .tolerances import EPS64, t_critical

EXPANSION_SAMPLES = 40
NODES = 32  # per Beta piece; the error estimate compares with NODES // 2


def _subset(ctx: CheckContext) -> tuple[torch.Tensor, torch.Tensor]:
    m = min(EXPANSION_SAMPLES, ctx.X.shape[0])
    return ctx.X[:m], ctx.Y[:m]


def _quadrature_pair(fn, *args, **kwargs) -> tuple[float, float]:
    """A quadrature value and its error estimate |Q_K − Q_{K/2}|."""
    value = fn(*args, options=LossOptions(num_nodes=NODES), **kwargs)
    coarse = fn(*args, options=LossOptions(num_nodes=NODES // 2), **kwargs)
    return value, abs(value - coarse)


@check("zhang-identity", "Zhang et al. Lemma 3.1: E_mix = E over λ̃ around x_i with unmixed labels")
def zhang_identity(ctx: CheckContext) -> list[CheckResult]:
    X, Y = _subset(ctx)
    zhang, zhang_err = _quadrature_pair(zhang_exact_loss, ctx.model, X, Y, ctx.law)
    exact, exact_err = _quadrature_pair(exact_mixup_loss, ctx.model, X, Y, ctx.law)
    tol = (zhang_err + exact_err + 8 * EPS64 * abs(exact)) / abs(exact)
    return [
        relative_row(
            "Zhang et al.: λ̃ form = exact mixup loss",
            zhang,
            exact,
            max(tol, 1e-14),
            f"{X.shape[0]} samples; tolerance: both quadrature estimates + rounding",
        )
    ]


REMAINDER_SAMPLES = 24
REMAINDER_NODES = 16  # at these contractions the integrand in λ̃ is nearly a low-degree polynomial


def _zhang_gaps(ctx: CheckContext) -> tuple[list[float], dict[str, list[float]]]:
    """|exact − expansion| at six contractions of the inputs toward x̄, for both R3 forms (one exact
    loss per scale, shared)."""
    m = min(REMAINDER_SAMPLES, ctx.X.shape[0])
    X, Y = ctx.X[:m], ctx.Y[:m]
    mean = X.mean(0)
    scales = [0.05 * 2.0**-k for k in range(6)]
    gaps: dict[str, list[float]] = {"correct": [], "printed": []}
    for s in scales:
        Xs = mean + s * (X - mean)
        exact = zhang_exact_loss(ctx.model, Xs, Y, ctx.law, options=LossOptions(num_nodes=REMAINDER_NODES))
        for form in gaps:
            gaps[form].append(abs(exact - zhang_expansion(ctx.model, Xs, Y, ctx.law, r3_form=form).loss()))
    return scales, gaps


def _order_row(ctx: CheckContext, name: str, order: int, scales, gaps, detail: str) -> CheckResult:
    """Order ``order`` accepted iff the corrected fit's (1 − significance) interval and the local
    orders of the three smallest scale pairs all lie within (order − ½, order + ½): a slope window
    alone lets a wrong term pass, the local orders do not."""
    fit = fit_remainder_order(scales, gaps, correction=True)
    half = t_critical(ctx.settings.significance, fit.dof) * fit.stderr
    local = list(fit.local)[-3:]
    worst = max([abs(fit.slope - order) + half] + [abs(p - order) for p in local])
    return CheckResult(
        name,
        float(order),
        fit.slope,
        worst,
        0.5,
        "slope",
        worst < 0.5,
        detail
        + "; local orders "
        + ", ".join(f"{p:.2f}" for p in fit.local)
        + f"; fit ± t·SE = {fit.slope:.3f} ± {half:.3f}",
    )


@check("zhang-remainder", "Zhang et al.'s expansion: remainder order 3 (2 with the slides' printed R3)")
def zhang_remainder(ctx: CheckContext) -> list[CheckResult]:
    scales, gaps = _zhang_gaps(ctx)
    span = f"inputs contracted by s = {scales[-1]:.1e}…{scales[0]:.1e} (labels unmixed)"
    return [
        _order_row(ctx, "Zhang et al. remainder order (R3 with E(1−λ̃)²)", 3, scales, gaps["correct"], span),
        _order_row(
            ctx,
            "Zhang et al. remainder order, R3 as printed",
            2,
            scales,
            gaps["printed"],
            "the slides' E[1 − λ̃²] leaves a second-order error",
        ),
    ]


@check("mixupe-expansion", "MixupE's K = 2 directional expansion (nested jvp) = Zhang's expansion")
def mixupe_expansion(ctx: CheckContext) -> list[CheckResult]:
    X, Y = _subset(ctx)
    directional = directional_expansion(ctx.model, X, Y, ctx.law, order=2).loss()
    zhang = zhang_expansion(ctx.model, X, Y, ctx.law).loss()
    tol = 1e3 * EPS64  # two routes to one polynomial: Hessians against second directional derivatives
    return [
        relative_row(
            "MixupE K = 2 (jvp) vs Zhang et al. (Hessians)",
            directional,
            zhang,
            tol,
            f"{X.shape[0]} samples; λ̃ moments",
        )
    ]


@check("masked-mixup", "masked mixing with the Mixup mask M = λ·1 reduces to Zhang's terms")
def masked_mixup(ctx: CheckContext) -> list[CheckResult]:
    X, Y = _subset(ctx)
    masked = masked_expansion(ctx.model, X, Y, ctx.law).loss()
    zhang = zhang_expansion(ctx.model, X, Y, ctx.law).loss()
    return [
        relative_row(
            "masked expansion (M = λ·1) vs Zhang et al.",
            masked,
            zhang,
            1e3 * EPS64,
            f"{X.shape[0]} samples; Park et al.'s weights with the Mixup mask",
        )
    ]


@check(
    "pairing-theorem1",
    "Theorem 1 for class-conditional partners: folded = unfolded exact loss",
    applies=symmetric_lambda_only,
)
def pairing_theorem1(ctx: CheckContext) -> list[CheckResult]:
    X, Y = _subset(ctx)
    labels = Y.argmax(-1)
    c = Y.shape[1]
    present = torch.zeros(c, dtype=torch.bool)
    present[labels] = True
    # partners from any other class present in the subset, uniformly (a hard-negative style pairing)
    matrix = (~torch.eye(c, dtype=torch.bool) & present[None, :]).to(torch.float64)
    matrix[~present] = 1.0 / c  # rows of absent classes are never used; keep them stochastic
    matrix = matrix / matrix.sum(1, keepdim=True)
    pairing = ClassConditional(matrix, labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folded, folded_err = _quadrature_pair(
            exact_mixup_loss_with_pairing, ctx.model, X, Y, ctx.law, pairing=pairing, form="folded"
        )
        unfolded, unfolded_err = _quadrature_pair(
            exact_mixup_loss_with_pairing, ctx.model, X, Y, ctx.law, pairing=pairing, form="unfolded"
        )
    tol = (folded_err + unfolded_err + 8 * EPS64 * abs(unfolded)) / abs(unfolded)
    return [
        relative_row(
            "pairing: folded = unfolded (class-conditional π)",
            folded,
            unfolded,
            max(tol, 1e-14),
            f"{X.shape[0]} samples; partners from the other classes",
        )
    ]
