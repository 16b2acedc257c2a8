r"""The order p of a Taylor remainder ``|error| ≈ C s^p`` from its errors at several scales s: one
fit, used by the checks, the ledger and the tests of every expansion.

A remainder is ``C s^p (1 + D s + O(s²))``: the plain fit ``log|e| = b + p log s`` is biased by
the ``D s`` term by a few of its own standard errors whatever the scales (on halving scales ≈ 4.5
standard errors), so a test of ``p`` against the plain fit needs a tolerance that covers the bias
(on 3 scales the Student-t quantile with one degree of freedom does: 636 at 1e-3) or the
corrected fit, which adds a column ``s`` and absorbs the first correction; its standard error then
measures what is left (O(s²) terms and rounding). ``docs/theory.md`` §6.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

__all__ = ["SlopeFit", "fit_remainder_order"]


class SlopeFit(NamedTuple):
    """Least-squares fit of ``log error`` on ``log scale`` (and on ``scale`` with a correction);
    ``stderr`` is the slope's standard error from the residual variance on ``dof`` degrees of
    freedom; ``local`` holds the slopes between consecutive scales, ``log(e_k/e_{k+1}) /
    log(s_k/s_{k+1})`` (the error ratios, as orders)."""

    slope: float
    stderr: float
    intercept: float
    dof: int
    local: tuple[float, ...]


def _plain(log_s: np.ndarray, e: np.ndarray) -> tuple[float, float, float]:
    """Slope, its standard error and the intercept of the straight line, in centred form."""
    xc = log_s - log_s.mean()
    slope = float((xc * (e - e.mean())).sum() / (xc**2).sum())
    intercept = float(e.mean() - slope * log_s.mean())
    residual = e - intercept - slope * log_s
    stderr = float(np.sqrt((residual**2).sum() / (log_s.size - 2) / (xc**2).sum()))
    return slope, stderr, intercept


def fit_remainder_order(
    scales: Sequence[float], errors: Sequence[float], *, correction: bool = False
) -> SlopeFit:
    r"""The order p of a remainder ``|error| ≈ C s^p`` from errors at several scales s: the plain
    fit ``log|e| = b + p log s`` (``correction=False``, ≥ 3 scales) or ``log|e| = b + p log s + c s``
    (``correction=True``, ≥ 4 scales); module docstring for the bias of the plain fit.

    >>> fit = fit_remainder_order([0.1, 0.05, 0.025], [2e-3, 2.5e-4, 3.125e-5])     # exactly 2 s³
    >>> round(fit.slope, 12), fit.stderr < 1e-12, [round(p, 12) for p in fit.local]
    (3.0, True, [3.0, 3.0])
    >>> s = np.array([0.1, 0.05, 0.025, 0.0125, 0.00625])
    >>> round(fit_remainder_order(s, s**3 * np.exp(5 * s), correction=True).slope, 10)
    3.0
    """
    s = np.asarray(scales, dtype=np.float64)
    e = np.log(np.abs(np.asarray(errors, dtype=np.float64)))
    columns = [np.ones_like(s), np.log(s)] + ([s] if correction else [])
    if s.shape != e.shape or s.ndim != 1 or s.size < len(columns) + 1:
        raise ValueError(f"need at least {len(columns) + 1} scales and as many errors")
    if not (np.all(np.isfinite(e)) and np.all(s > 0)):
        raise ValueError("scales must be positive and errors non-zero and finite")
    dof = s.size - len(columns)
    local = tuple(float(v) for v in np.diff(e) / np.diff(np.log(s)))
    if not correction:
        slope, stderr, intercept = _plain(np.log(s), e)
        return SlopeFit(slope, stderr, intercept, dof, local)
    design = np.stack(columns, 1)
    coef, *_ = np.linalg.lstsq(design, e, rcond=None)
    resid = e - design @ coef
    cov = (resid @ resid / dof) * np.linalg.inv(design.T @ design)
    return SlopeFit(float(coef[1]), float(np.sqrt(cov[1, 1])), float(coef[0]), dof, local)
