r"""The mixup loss itself (Carratino et al., JMLR 2022): Theorem 1 (folded = unfolded exact loss),
the exact loss against the way training samples it, E_Q (Theorem 3) against the Monte Carlo of the
second-order polynomial, and the size of E_mix − E_Q at the data's own scale."""

from __future__ import annotations

import math

from ..mixup_loss import sampled_mixup_loss, sampled_second_order_loss
from .context import CheckContext, rounding_floor
from .registry import CheckResult, check
from .tolerances import z_critical


@check("theorem1", "Theorem 1: folded (θ on [1/2, 1]) = unfolded (λ on [0, 1]) exact mixup loss")
def theorem1(ctx: CheckContext) -> list[CheckResult]:
    """On the first ``theorem1_samples`` samples (the identity holds for any data set), both forms
    converged to 1e-10; tolerance: both quadrature estimates plus the rounding of the sums."""
    m = min(ctx.settings.theorem1_samples, ctx.X.shape[0])
    X, Y = ctx.X[:m], ctx.Y[:m]
    folded = ctx.exact(X, Y, form="folded", relative=1e-10)
    unfolded = ctx.exact(X, Y, form="unfolded", relative=1e-10)
    scale = abs(unfolded.value)
    terms = m * m * 2 * max(folded.nodes, unfolded.nodes)
    tol = (folded.error + unfolded.error + 2 * rounding_floor(scale, terms)) / scale
    err = abs(folded.value - unfolded.value) / scale
    detail = (
        f"{m} samples; nodes/piece {folded.nodes} and {unfolded.nodes}, quadrature estimates "
        f"{folded.error / scale:.1e} and {unfolded.error / scale:.1e}"
    )
    return [
        CheckResult(
            "Theorem 1: folded = unfolded mixup loss",
            folded.value,
            unfolded.value,
            err,
            tol,
            "relative",
            err <= tol,
            detail,
        )
    ]


def _z_row(ctx: CheckContext, name: str, closed: float, estimate, extra_se: float = 0.0) -> CheckResult:
    se = math.hypot(estimate.stderr, extra_se)
    z = (estimate.value - closed) / se if se > 0 else (0.0 if estimate.value == closed else math.inf)
    crit = z_critical(ctx.settings.significance)
    detail = (
        f"{estimate.num_replicates} replicates, SE {estimate.stderr:.2e}; two-sided "
        f"p > {ctx.settings.significance:g} ⇔ |z| ≤ {crit:.2f}"
    )
    return CheckResult(name, closed, estimate.value, abs(z), crit, "z-score", abs(z) <= crit, detail)


@check("second-order-mc", "E_Q closed form (Theorem 3) against the Monte Carlo of l_Q")
def second_order_mc(ctx: CheckContext) -> list[CheckResult]:
    mc = sampled_second_order_loss(
        ctx.model, ctx.geometry, num_draws=ctx.settings.num_draws, generator=ctx.generator(1)
    )
    return [_z_row(ctx, "E_Q closed form vs sampled l_Q", ctx.second_order_loss, mc)]


@check("sampled-mixup", "exact mixup loss against the sampled one (one λ and partner per anchor)")
def sampled_mixup(ctx: CheckContext) -> list[CheckResult]:
    exact = ctx.exact_loss
    sampled = sampled_mixup_loss(
        ctx.model, ctx.X, ctx.Y, ctx.law, num_draws=ctx.settings.num_draws, generator=ctx.generator(2)
    )
    return [_z_row(ctx, "Exact vs sampled mixup loss", exact.value, sampled, extra_se=exact.error)]


@check("full-scale-gap", "E_mix − E_Q at the data's own scale (reported, not judged)")
def full_scale_gap(ctx: CheckContext) -> list[CheckResult]:
    exact, e_q = ctx.exact_loss.value, ctx.second_order_loss
    return [
        CheckResult(
            "E_mix − E_Q at the data's own scale",
            e_q,
            exact,
            abs(exact - e_q) / abs(exact),
            math.inf,
            "relative",
            True,
            "informational: third-order remainder",
        )
    ]
