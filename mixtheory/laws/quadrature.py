r"""Quadrature rules for the laws of λ and θ: ``E g(Z) ≈ Σ_k w_k g(z_k)``.

Beta densities use Gauss–Jacobi, whose weight absorbs the endpoint singularity for α < 1, and
Gauss–Legendre on the window carrying all but 1e-20 of the mass when the exponents are large
(there the Jacobi weight no longer resembles the density); an endpoint exponent below 0.05 gets an
atom at that endpoint. Densities given only numerically use tanh–sinh.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from numpy.polynomial.legendre import leggauss
from scipy import special, stats

from .._types import DeviceLike, Tensor

__all__ = [
    "DEFAULT_NODES",
    "QuadratureRule",
    "beta_rule",
    "beta_rule_with_endpoint_atoms",
    "check_num_nodes",
    "gauss_legendre",
    "tanh_sinh",
]

DEFAULT_NODES = 96
# Gauss–Jacobi puts the endpoint behaviour (1−x)^{q−1}, x^{p−1} into the weight, which no Legendre
# rule matches when an exponent is small and fractional. When both exponents are large the
# density is a smooth bump far from both ends, and Gauss–Legendre on the window holding all but
# _TAIL of the mass is more accurate; beyond _JACOBI_MAX_EXPONENT scipy's Jacobi rule overflows
# (a small exponent together with one above it is the one case left less accurate).
_JACOBI_SMOOTH_EXPONENT = 50.0
_JACOBI_MAX_EXPONENT = 1000.0
_TAIL = 1e-20
# Below this endpoint exponent the Beta rules put an atom at the endpoint (see
# beta_rule_with_endpoint_atoms): the Jacobi weight (1−t)^{q−1} with q − 1 → −1 is ill-conditioned.
_ATOM_EXPONENT = 0.05


@dataclass(frozen=True)
class QuadratureRule:
    r"""Nodes and weights with ``E g(Z) ≈ Σ_k weights[k] · g(nodes[k])``; weights sum to 1."""

    nodes: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        if self.nodes.shape != self.weights.shape or self.nodes.ndim != 1:
            raise ValueError("nodes and weights must be 1-D arrays of the same length")

    def expect(self, g: Callable[[np.ndarray], np.ndarray]) -> float:
        values = np.asarray(g(self.nodes), dtype=np.float64)
        return float(np.sum(self.weights * values))

    def scaled(self, factor: float) -> QuadratureRule:
        return QuadratureRule(self.nodes, self.weights * factor)

    @staticmethod
    def concatenate(rules: Sequence[QuadratureRule]) -> QuadratureRule:
        rules = [r for r in rules if r.nodes.size]
        return QuadratureRule(
            np.concatenate([r.nodes for r in rules]), np.concatenate([r.weights for r in rules])
        )

    def to_torch(
        self, dtype: torch.dtype = torch.float64, device: DeviceLike = None
    ) -> tuple[Tensor, Tensor]:
        return (
            torch.as_tensor(self.nodes, dtype=dtype, device=device),
            torch.as_tensor(self.weights, dtype=dtype, device=device),
        )


def check_num_nodes(num_nodes: int) -> int:
    """``num_nodes`` as a positive int, or an error."""
    if int(num_nodes) != num_nodes or num_nodes < 1:
        raise ValueError(f"num_nodes must be a positive integer, got {num_nodes!r}")
    return int(num_nodes)


def gauss_legendre(lo: float, hi: float, num_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights on [lo, hi]."""
    x, w = leggauss(num_nodes)
    half = 0.5 * (hi - lo)
    return lo + half * (x + 1.0), half * w


def beta_rule(p: float, q: float, num_nodes: int, lower: float) -> QuadratureRule:
    r"""Rule for ``∫_lower^1 g(x) Beta(p, q)(x) dx``, lower ∈ {0, 1/2}; weights sum to P(X ≥ lower)."""
    log_norm = special.betaln(p, q)
    jacobi = min(p, q) <= _JACOBI_SMOOTH_EXPONENT and max(p, q) <= _JACOBI_MAX_EXPONENT
    if jacobi and (q < _ATOM_EXPONENT or (lower == 0.0 and p < _ATOM_EXPONENT)):
        return beta_rule_with_endpoint_atoms(p, q, num_nodes, lower)
    if lower == 0.0 and jacobi:
        # x = (1+t)/2: x^{p-1}(1-x)^{q-1} dx = 2^{-(p+q-1)} (1+t)^{p-1}(1-t)^{q-1} dt
        t, w = special.roots_jacobi(num_nodes, q - 1.0, p - 1.0)
        nodes = 0.5 * (1.0 + t)
        log_w = np.log(w) - (p + q - 1.0) * math.log(2.0) - log_norm
        return QuadratureRule(nodes, np.exp(log_w))
    if lower == 0.5 and jacobi:
        # x = (3+t)/4 on [1/2, 1]: (1-x)^{q-1} = 4^{1-q}(1-t)^{q-1}, dx = dt/4; x^{p-1} is smooth
        t, w = special.roots_jacobi(num_nodes, q - 1.0, 0.0)
        nodes = 0.25 * (3.0 + t)
        log_w = np.log(w) + (p - 1.0) * np.log(nodes) - q * math.log(4.0) - log_norm
        return QuadratureRule(nodes, np.exp(log_w))
    # Large exponents: the density is smooth and concentrated; integrate its bulk.
    lo = max(lower, float(stats.beta.ppf(_TAIL, p, q)))
    hi = min(1.0, float(stats.beta.isf(_TAIL, p, q)))
    if not lo < hi:
        return QuadratureRule(np.zeros(0), np.zeros(0))
    nodes, w = gauss_legendre(lo, hi, num_nodes)
    log_density = (p - 1.0) * np.log(nodes) + (q - 1.0) * np.log1p(-nodes)
    weights = w * np.exp(log_density - log_density.max())
    # normalize to the exact mass P(X ≥ lower) rather than through B(p, q), whose log-gamma
    # evaluation loses ~1e-12 at these exponents
    mass = 1.0 if lower == 0.0 else float(special.betaincc(p, q, lower))
    return QuadratureRule(nodes, weights * (mass / weights.sum()))


def beta_rule_with_endpoint_atoms(p: float, q: float, num_nodes: int, lower: float) -> QuadratureRule:
    r"""``beta_rule`` when an endpoint exponent is below ``_ATOM_EXPONENT``: Gauss–Jacobi for the
    part of g that vanishes there, plus an atom at that endpoint.

    As p or q → 0 the weight ``x^{p−1}`` or ``(1−x)^{q−1}`` is barely integrable: nearly all the
    mass sits within e^{−1/p} of the endpoint, and a Jacobi rule with exponent p − 1 ≈ −1 loses
    accuracy (at p − 1 = −1 in floating point it does not exist). Writing ``g = φ + (g − φ)``,
    with φ the interpolant of g at the small-exponent endpoints (``g(1)``; ``g(0)``; or
    ``g(0)(1−x) + g(1)x``), ``∫ φ f`` is exact (``E X = p/(p+q)``) and ``(g − φ)/(1−x)`` (resp.
    ``/x``, ``/(x(1−x))``) is integrated by Gauss–Jacobi with exponent q (resp. p) instead of q − 1.
    The rule is exact for polynomials of degree 2·num_nodes (2·num_nodes + 1 with two atoms) and
    gives E(1−θ)², which vanishes at the atom θ = 1, as a sum of positive terms.
    """
    atom_low = lower == 0.0 and p < _ATOM_EXPONENT
    atom_high = q < _ATOM_EXPONENT
    q_exponent = q if atom_high else q - 1.0
    if lower == 0.0:
        # x = (1+t)/2, dx = dt/2: x^{p'}(1-x)^{q'} dx = 2^{-(p'+q'+1)} (1+t)^{p'}(1-t)^{q'} dt
        p_exponent = p if atom_low else p - 1.0
        t, w = special.roots_jacobi(num_nodes, q_exponent, p_exponent)
        nodes = 0.5 * (1.0 + t)
        log_w = np.log(w) - (p_exponent + q_exponent + 1.0) * math.log(2.0) - special.betaln(p, q)
        mass = 1.0
    else:
        # x = (3+t)/4, dx = dt/4: (1-x)^{q'} dx = 4^{-(q'+1)} (1-t)^{q'} dt; x^{p-1} stays smooth
        t, w = special.roots_jacobi(num_nodes, q_exponent, 0.0)
        nodes = 0.25 * (3.0 + t)
        log_w = (
            np.log(w) + (p - 1.0) * np.log(nodes) - (q_exponent + 1.0) * math.log(4.0) - special.betaln(p, q)
        )
        mass = float(special.betaincc(p, q, 0.5))
    divisor = np.ones_like(nodes)
    if atom_low:
        divisor = divisor * nodes
    if atom_high:
        divisor = divisor * (1.0 - nodes)  # exact: 1 − x has no rounding for x ∈ [1/2, 1]
    weights = np.exp(log_w) / divisor
    if atom_low and atom_high:
        # ∫ [g(0)(1−x) + g(1)x] f = g(0) q/(p+q) + g(1) p/(p+q)
        atom_nodes = np.array([0.0, 1.0])
        atom_weights = np.array(
            [q / (p + q) - np.sum(weights * (1.0 - nodes)), p / (p + q) - np.sum(weights * nodes)]
        )
    else:
        atom_nodes = np.array([0.0 if atom_low else 1.0])
        atom_weights = np.array([mass - weights.sum()])
    return QuadratureRule(np.concatenate([nodes, atom_nodes]), np.concatenate([weights, atom_weights]))


def tanh_sinh(lo: float, hi: float, level: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Double-exponential rule on [lo, hi]; robust to integrable endpoint singularities."""
    h = 2.0**-level * 4.0
    t = np.arange(-4.0, 4.0 + h / 2, h)
    u = 0.5 * np.pi * np.sinh(t)
    x = np.tanh(u)
    w = h * 0.5 * np.pi * np.cosh(t) / np.cosh(u) ** 2
    keep = (np.abs(x) < 1.0) & (w > 1e-300)
    half = 0.5 * (hi - lo)
    return lo + half * (x[keep] + 1.0), half * w[keep]
