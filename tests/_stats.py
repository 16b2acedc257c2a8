"""Shared helper for stochastic estimates: tolerances from the estimator's own standard error.

A family of m estimates is accepted when every ``|estimate − truth| <= k·se + atol`` with
``k`` the two-sided normal quantile at family-wise level ``family_error`` (Bonferroni over m), so
the tolerance grows only logarithmically with the number of comparisons and never hides a bias
larger than a few standard errors. ``atol`` absorbs floating-point rounding only.
"""

from __future__ import annotations

import math

import torch
from scipy import stats


def bonferroni_k(num_comparisons: int, family_error: float = 1e-6) -> float:
    """Half-width in standard errors for ``num_comparisons`` two-sided tests at family level."""
    return float(stats.norm.isf(family_error / (2 * max(1, num_comparisons))))


def assert_within_standard_errors(
    estimate,
    standard_error,
    truth,
    *,
    family_error: float = 1e-6,
    atol: float = 0.0,
    what: str = "estimate",
) -> torch.Tensor:
    """Assert every entry lies within k standard errors of the truth; returns the z-scores."""
    est = torch.as_tensor(estimate, dtype=torch.float64).detach().reshape(-1)
    se = torch.as_tensor(standard_error, dtype=torch.float64).detach().reshape(-1)
    ref = torch.as_tensor(truth, dtype=torch.float64).detach().reshape(-1)
    assert est.shape == se.shape == ref.shape, (est.shape, se.shape, ref.shape)
    assert bool((se >= 0).all()) and bool(torch.isfinite(se).all()), "standard errors must be finite"
    k = bonferroni_k(est.numel(), family_error)
    err = (est - ref).abs()
    bad = err > k * se + atol
    if bool(bad.any()):
        i = int(bad.nonzero()[0, 0])
        raise AssertionError(
            f"{what}: {int(bad.sum())}/{est.numel()} entries outside {k:.2f} standard errors; "
            f"first at {i}: estimate {float(est[i]):.6g}, truth {float(ref[i]):.6g}, "
            f"se {float(se[i]):.3g}, error/se {float(err[i] / se[i]):.2f}"
        )
    return (est - ref) / se.clamp_min(torch.finfo(torch.float64).tiny)


def variance_interval(num: int, dof: int | None = None, family_error: float = 1e-6) -> tuple[float, float]:
    """Acceptance interval for the sample variance of ``num`` independent z-scores.

    A studentized mean of ``dof + 1`` draws has variance ``dof/(dof − 2)`` (Student t; 1 when
    ``dof`` is None); the sample variance of ``num`` such scores has relative standard deviation
    about ``sqrt(2/(num − 1))`` (more for the heavier t tails, so the interval is widened by the
    t kurtosis ``6/(dof − 4)``)."""
    center = 1.0 if dof is None else dof / (dof - 2)
    excess = 0.0 if dof is None or dof <= 4 else 6.0 / (dof - 4)
    rel_sd = math.sqrt((2.0 + excess) / (num - 1))
    k = bonferroni_k(1, family_error)
    return center * (1 - k * rel_sd), center * (1 + k * rel_sd)
