r"""The Taylor remainder of Theorem 3 (Carratino et al., JMLR 2022) is third order: contracting data
and labels toward their means by s, ``gap(s) = |E_mix − E_Q| = C₃ s³ (1 + O(s))``.

Scales: the smallest is where the remainder is still ≥ 1e3·eps·|E_mix| (so rounding, ~eps·|E_mix|,
moves each gap by ≤ 0.1%), estimated from the full-scale gap as ``s₀ = (1e3·eps·|E_mix| / gap(1))^⅓``
and moved up a doubling while the measured gap is below that floor; then ``s₀·2^k``. Verdict, two
conditions:

1. the least-squares slope of log gap on log s is 3 within ``t_{K−2}·SE`` (its own standard error);
2. the local orders ``p_k = log₂(gap(2s_k)/gap(s_k))`` approach 3 as s → 0 the way a next-order
   term allows: with ``p_k = 3 + a s_k + O(s²)``, ``|p₁ − 3| ≈ |p₂ − p₁|``, while a spurious s²
   term gives ``|p₁ − 3| > 2|p₂ − p₁|`` at every scale. Pass when
   ``|p₁ − 3| ≤ 2|p₂ − p₁| + z·ν``, ν the local orders' rounding noise (quadrature estimates).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..closed_form import taylor_regularizers
from ..expansions.remainder import fit_remainder_order
from ..regularizers import CancellationWarning
from .context import CheckContext, e_q
from .registry import CheckResult, check
from .tolerances import EPS64, t_critical, z_critical

FLOOR = 1e3  # the smallest remainder, in units of eps·|E_mix|


def _gap(ctx: CheckContext, s: float) -> tuple[float, float]:
    """|E_mix − E_Q| at contraction s and its rounding/quadrature noise."""
    g = ctx.geometry.contracted(s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CancellationWarning)
        regs = taylor_regularizers(ctx.model, g)
    exact = ctx.exact(g.X, g.Y, relative=FLOOR * EPS64 / 100)
    return abs(exact.value - e_q(regs)), exact.error + 4 * EPS64 * abs(exact.value)


def contraction_gaps(ctx: CheckContext) -> tuple[list[float], list[float], list[float]]:
    """Scales (ascending), gaps and their noise, cached on the context."""
    if "contraction" in ctx.cache:
        return ctx.cache["contraction"]
    full = ctx.exact_loss.value
    floor = FLOOR * EPS64 * abs(full)
    gap_full = max(abs(full - ctx.second_order_loss), floor)
    s = min(1.0, (floor / gap_full) ** (1 / 3))
    scales, gaps, noise = [], [], []
    while len(scales) < ctx.settings.num_scales:
        gap, err = _gap(ctx, s)
        if gaps or gap >= floor or s > 0.25:
            scales.append(s)
            gaps.append(gap)
            noise.append(err)
        s *= 2
    ctx.cache["contraction"] = (scales, gaps, noise)
    return scales, gaps, noise


@check("remainder-slope", "Taylor remainder |E_mix − E_Q| falls like s³ under joint contraction")
def remainder_slope(ctx: CheckContext) -> list[CheckResult]:
    scales, gaps, noise = contraction_gaps(ctx)
    alpha = ctx.settings.significance
    fit = fit_remainder_order(scales, gaps)  # the plain fit: 3 scales, t with 1 dof covers its bias
    slope_tol = t_critical(alpha, fit.dof) * fit.stderr
    local = np.diff(np.log(gaps)) / math.log(2)
    rel_noise = np.asarray(noise) / np.asarray(gaps)
    nu = (rel_noise[0] + 2 * rel_noise[1] + rel_noise[2]) / math.log(2)
    order_err = abs(local[0] - 3)
    order_tol = 2 * abs(local[1] - local[0]) + z_critical(alpha) * nu
    ok_slope, ok_order = abs(fit.slope - 3) <= slope_tol, order_err <= order_tol
    detail = (
        f"s = {scales[0]:.2e}…{scales[-1]:.2e}; gaps "
        + ", ".join(f"{v:.2e}" for v in gaps)
        + "; local orders "
        + ", ".join(f"{p:.3f}" for p in local)
    )
    return [
        CheckResult(
            "Taylor remainder slope (joint contraction)",
            3.0,
            fit.slope,
            abs(fit.slope - 3),
            slope_tol,
            "slope",
            ok_slope,
            detail + f"; t·SE, SE {fit.stderr:.2e}",
        ),
        CheckResult(
            "Remainder order at the smallest scales",
            3.0,
            float(local[0]),
            order_err,
            order_tol,
            "slope",
            ok_order,
            "|p₁ − 3| ≤ 2|p₂ − p₁| + z·ν (next-order term, not s²)",
        ),
    ]
