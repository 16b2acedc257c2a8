r"""Tolerances derived from the computation's own error, not chosen constants.

- Monte Carlo rows: a two-sided test at significance level ``p`` (default 1e-3): pass when
  ``|z| ≤ z_{1−p/2}`` (3.29 for p = 1e-3), z from the estimate's standard error.
- Least-squares slopes: the fitted slope's standard error ``SE = √(SSR/(K−2) / Σ(x − x̄)²)`` and
  Student's t with K − 2 degrees of freedom at the same level.
- Quadrature rows: the truncation estimate ``|Q_n − Q_2n|`` plus the rounding bound of a K-term
  sum, ``γ_K Σ|w_k g_k|`` with ``γ_K ≈ K·eps`` (Higham, *Accuracy and Stability of Numerical
  Algorithms*, 2nd ed., 2002, §4.2).
- Dense-reference rows: the dense route inverts ``H + 11ᵀ/c``, whose condition number is the
  softmax's ``κ = max S / min S``, so its own relative error is ~κ·eps (Higham, §7.1).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["z_critical", "t_critical", "summation_bound", "dense_tolerance"]

EPS64 = float(np.finfo(np.float64).eps)


def z_critical(significance: float) -> float:
    """Two-sided normal critical value: ``|z| ≤ z_critical(p)`` fails with probability p when the
    two sides agree (z_critical(1e-3) = 3.29)."""
    return float(stats.norm.isf(significance / 2))


def t_critical(significance: float, dof: int) -> float:
    """Two-sided Student-t critical value with ``dof`` degrees of freedom."""
    return float(stats.t.isf(significance / 2, dof))


def summation_bound(weights: np.ndarray, values: np.ndarray) -> float:
    """Relative rounding bound ``K·eps·Σ|w g| / |Σ w g|`` of a K-term weighted sum."""
    terms = np.asarray(weights) * np.asarray(values)
    total = abs(float(terms.sum()))
    return terms.size * EPS64 * float(np.abs(terms).sum()) / max(total, 1e-300)


def dense_tolerance(kappa: float, dim: int) -> float:
    """The dense reference's relative error bound ``c·κ·eps`` (c the number of classes, the
    dimension of the inverted matrix), at least ``c·eps``."""
    return dim * max(kappa, 1.0) * EPS64
