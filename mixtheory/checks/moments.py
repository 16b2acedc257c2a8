r"""Moments of the folded law θ = max(λ, 1 − λ) (Carratino et al., JMLR 2022, Theorem 1): the
closed forms θ̄, σ², γ² against Gauss quadrature of the folded law, within the quadrature's own
error budget (truncation |Q_n − Q_2n| plus the rounding bound of the weighted sum)."""

from __future__ import annotations

import numpy as np

from .context import CheckContext
from .registry import CheckResult, check, relative_row
from .tolerances import summation_bound


def _quadrature(ctx: CheckContext, g) -> tuple[float, float]:
    """E_θ g(θ) with 96 nodes per piece, and its relative error budget."""
    fine, coarse = ctx.law.theta_rule(96), ctx.law.theta_rule(48)
    value = fine.expect(g)
    truncation = abs(value - coarse.expect(g)) / max(abs(value), 1e-300)
    nodes = np.asarray(fine.nodes)
    return value, truncation + 2 * summation_bound(np.asarray(fine.weights), g(nodes))


@check("moments", "θ̄, σ², γ² closed forms against quadrature of the folded law")
def moments(ctx: CheckContext) -> list[CheckResult]:
    law = ctx.law
    centre = law.theta_mean
    rows = []
    for name, closed, g in (
        ("θ̄", law.theta_mean, lambda t: t),
        ("σ²", law.theta_var, lambda t: (t - centre) ** 2),
        ("γ²", law.gamma2, lambda t: (1 - t) ** 2),
    ):
        value, tol = _quadrature(ctx, g)
        rows.append(
            relative_row(
                f"{name} (closed form vs quadrature)",
                closed,
                value,
                tol,
                "budget: |Q₄₈ − Q₉₆| + 2·K·eps·Σ|w g|",
            )
        )
    return rows
