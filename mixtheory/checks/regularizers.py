r"""Lemma 2 and Theorem 3 of Carratino et al. (JMLR 2022) on the trained network: the structured
covariances and regularizers against the dense brute force of :mod:`mixtheory.reference`, the
completed square R1 + R3 = R13, the signs of R1 and R3, and how much R1 and R3 cancel."""

from __future__ import annotations

import math

import torch

from ..reference import dense_lemma2
from .context import CheckContext
from .registry import CheckResult, check
from .tolerances import EPS64, dense_tolerance

#: beyond this the dense reference cannot confirm anything useful: the row fails instead
_MAX_DENSE_TOLERANCE = 1e-3


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-300))


@check("lemma2", "Lemma 2: structured Σ^(i) against brute force over partners × quadrature")
def lemma2(ctx: CheckContext) -> list[CheckResult]:
    """Tolerance: the brute force sums n·K terms of size |Σ|: n·K·eps (Higham's summation bound)."""
    geo = ctx.geometry
    worst = 0.0
    for i in range(0, geo.n, max(1, geo.n // 5)):
        brute = dense_lemma2(geo, i)
        worst = max(
            worst,
            _rel(geo.sigma_xx(i), brute["xx"]),
            _rel(geo.sigma_xy(i), brute["xy"]),
            _rel(geo.sigma_yy(i), brute["yy"]),
        )
    tol = geo.n * 2 * 48 * EPS64
    return [
        CheckResult(
            "Lemma 2: Σ^(i) vs brute force",
            math.nan,
            math.nan,
            worst,
            tol,
            "relative",
            worst <= tol,
            f"rank Σ_xx = {geo.rank} of d = {geo.d}; tolerance n·K·eps",
        )
    ]


@check("dense", "R1, R2, R3, R13: structured against the dense pinv reference")
def dense(ctx: CheckContext) -> list[CheckResult]:
    """R1 and R3 go through ℓ_uu⁻¹ (dense: (H + 11ᵀ/c)⁻¹, error ~c·κ·eps); R2 and the uncompleted
    R13 have no inverse: their tolerance is the d²-term summation bound d²·eps."""
    regs, ref, sub = ctx.regularizers, ctx.dense, ctx.dense_indices
    c, d = ctx.geometry.c, ctx.geometry.d
    kappa_tol = dense_tolerance(ctx.kappa, c)
    rows = []
    for key, tol, label in (
        ("R1", kappa_tol, "dense pinv reference"),
        ("R2", d * d * EPS64, "dense pinv reference"),
        ("R3", kappa_tol, "dense pinv reference"),
        ("R13", d * d * EPS64, "dense uncompleted form"),
    ):
        err = _rel(regs[key][sub], ref[key])
        ok = err <= tol <= _MAX_DENSE_TOLERANCE
        rows.append(
            CheckResult(
                f"{key}: structured vs {label}",
                float(regs[key][sub].mean()),
                float(ref[key].mean()),
                err,
                tol,
                "relative",
                ok,
                f"{len(sub)} samples; softmax condition κ = {ctx.kappa:.1e}",
            )
        )
    return rows


@check("completed-square", "dense R1 + R3 against the dense uncompleted quadratic form R13")
def completed_square(ctx: CheckContext) -> list[CheckResult]:
    """R1 and −R3 each grow like κ while R13 stays O(1): the error is measured against |R1| + |R3|."""
    ref = ctx.dense
    scale = ref["R1"].abs() + ref["R3"].abs()
    worst = float(((ref["R1"] + ref["R3"] - ref["R13"]).abs() / scale).max())
    tol = dense_tolerance(ctx.kappa, ctx.geometry.c)
    return [
        CheckResult(
            "Completed square: R1 + R3 = quadratic form",
            math.nan,
            math.nan,
            worst,
            tol,
            "relative",
            worst <= tol <= _MAX_DENSE_TOLERANCE,
            f"{len(ctx.dense_indices)} samples, dense J; R1 up to {float(ref['R1'].max()):.2e}",
        )
    ]


@check("signs", "R1 ≥ 0 and R3 ≤ 0 for every sample (cross-entropy)")
def signs(ctx: CheckContext) -> list[CheckResult]:
    """Counted beyond the rounding of each: c·eps relative to the largest |R|."""
    regs, c = ctx.regularizers, ctx.geometry.c
    neg_r1 = int((regs["R1"] < -c * EPS64 * regs["R1"].abs().max()).sum())
    pos_r3 = int((regs["R3"] > c * EPS64 * regs["R3"].abs().max()).sum())
    return [
        CheckResult(
            "R1 ≥ 0 for every sample",
            float(regs["R1"].min()),
            0.0,
            neg_r1,
            0,
            "count",
            neg_r1 == 0,
            "min R1 shown",
        ),
        CheckResult(
            "R3 ≤ 0 for every sample",
            float(regs["R3"].max()),
            0.0,
            pos_r3,
            0,
            "count",
            pos_r3 == 0,
            "max R3 shown",
        ),
    ]


@check("cancellation", "max(|R1|, |R3|) / |R13|: how much R1 and R3 cancel (reported)")
def cancellation(ctx: CheckContext) -> list[CheckResult]:
    ratio = ctx.regularizers["cancellation"]
    worst = float(ratio.max())
    lost = math.log10(max(worst, 1.0))
    return [
        CheckResult(
            "max cancellation max(|R1|,|R3|)/|R13|",
            worst,
            math.nan,
            worst,
            math.inf,
            "info",
            True,
            f"adding R1 and R3 would lose ~{lost:.0f} of 16 digits; E_Q uses R13",
        )
    ]
