r"""Laws of the mixing coefficient λ and the moments of the folded coefficient θ = max(λ, 1−λ).

Carratino, Cissé, Jenatton, Vert, "On Mixup Regularization" (JMLR 2022), Theorem 1: under uniform
pairing the mixup loss is a perturbed ERM whose geometry depends on λ's law only through

.. math::

    \bar\theta = E\,\theta,\qquad \sigma^2 = \operatorname{Var}\theta,\qquad
    \gamma^2 = \sigma^2 + (1-\bar\theta)^2 = E(1-\theta)^2 .

The folding uses only that the pair (i, j) is uniform, so any law of λ on [0, 1] folds: θ has
density ``p(θ) + p(1−θ)`` on [1/2, 1].

Every law here offers

- the moments ``theta_mean``, ``theta_var``, ``gamma2`` (closed form where one exists),
- ``theta_rule(num_nodes)`` and ``lambda_rule(num_nodes)``: quadrature nodes and weights with
  ``E g(θ) ≈ Σ_k w_k g(θ_k)`` (resp. for λ on [0, 1]); atoms (point masses, empirical samples)
  are represented exactly,
- ``expect(g)`` = E_θ[g(θ)] and ``expect_lambda(g)`` through those rules,
- ``sample_lambda(shape, generator)`` and ``sample_theta(shape, generator)`` from a
  ``torch.Generator``.

Quadrature: Beta densities use Gauss–Jacobi, whose weight absorbs the endpoint singularity for
α < 1, and Gauss–Legendre on the window carrying all but 1e-20 of the mass
when the exponents are large (there the Jacobi weight no longer resembles the density).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from numpy.polynomial.legendre import leggauss
from scipy import integrate, special, stats

__all__ = [
    "MixingLaw",
    "QuadratureRule",
    "SymmetricBeta",
    "Beta",
    "Uniform",
    "WShaped",
    "PointMass",
    "Mixture",
    "FromDensity",
    "Empirical",
    "ZhangLambdaTilde",
    "ERM",
    "law_from_name",
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
# _beta_rule_with_endpoint_atoms): the Jacobi weight (1−t)^{q−1} with q − 1 → −1 is ill-conditioned.
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

    def to_torch(self, dtype: torch.dtype = torch.float64, device=None):
        return (
            torch.as_tensor(self.nodes, dtype=dtype, device=device),
            torch.as_tensor(self.weights, dtype=dtype, device=device),
        )


def _check_positive(name: str, value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a positive number, got {value!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"{name} must be a finite number > 0, got {value!r}; "
            f"{name} -> 0 is ERM (use mixtheory.ERM()), large {name} concentrates λ at 1/2"
        )
    return value


def _check_nodes(num_nodes: int) -> int:
    if int(num_nodes) != num_nodes or num_nodes < 1:
        raise ValueError(f"num_nodes must be a positive integer, got {num_nodes!r}")
    return int(num_nodes)


def _gauss_legendre(lo: float, hi: float, num_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = leggauss(num_nodes)
    half = 0.5 * (hi - lo)
    return lo + half * (x + 1.0), half * w


def _beta_rule(p: float, q: float, num_nodes: int, lower: float) -> QuadratureRule:
    r"""Rule for ``∫_lower^1 g(x) Beta(p, q)(x) dx``, lower ∈ {0, 1/2}; weights sum to P(X ≥ lower)."""
    log_norm = special.betaln(p, q)
    jacobi = min(p, q) <= _JACOBI_SMOOTH_EXPONENT and max(p, q) <= _JACOBI_MAX_EXPONENT
    if jacobi and (q < _ATOM_EXPONENT or (lower == 0.0 and p < _ATOM_EXPONENT)):
        return _beta_rule_with_endpoint_atoms(p, q, num_nodes, lower)
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
    nodes, w = _gauss_legendre(lo, hi, num_nodes)
    log_density = (p - 1.0) * np.log(nodes) + (q - 1.0) * np.log1p(-nodes)
    weights = w * np.exp(log_density - log_density.max())
    # normalize to the exact mass P(X ≥ lower) rather than through B(p, q), whose log-gamma
    # evaluation loses ~1e-12 at these exponents
    mass = 1.0 if lower == 0.0 else float(special.betaincc(p, q, lower))
    return QuadratureRule(nodes, weights * (mass / weights.sum()))


def _beta_rule_with_endpoint_atoms(p: float, q: float, num_nodes: int, lower: float) -> QuadratureRule:
    r"""``_beta_rule`` when an endpoint exponent is below ``_ATOM_EXPONENT``: Gauss–Jacobi for the
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


def _tanh_sinh(lo: float, hi: float, level: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Double-exponential rule on [lo, hi]; robust to integrable endpoint singularities."""
    h = 2.0**-level * 4.0
    t = np.arange(-4.0, 4.0 + h / 2, h)
    u = 0.5 * np.pi * np.sinh(t)
    x = np.tanh(u)
    w = h * 0.5 * np.pi * np.cosh(t) / np.cosh(u) ** 2
    keep = (np.abs(x) < 1.0) & (w > 1e-300)
    half = 0.5 * (hi - lo)
    return lo + half * (x[keep] + 1.0), half * w[keep]


class MixingLaw:
    r"""Base class: a law of λ on [0, 1]. Subclasses give ``theta_rule``, ``lambda_rule`` and
    ``sample_lambda``; moments default to high-order quadrature and are overridden by closed forms.
    """

    name: str = "law"

    # --- quadrature ---------------------------------------------------------------------------
    def theta_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        raise NotImplementedError

    def lambda_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        raise NotImplementedError

    def expect(self, g: Callable[[np.ndarray], np.ndarray], num_nodes: int = DEFAULT_NODES) -> float:
        r"""E_θ[g(θ)] by quadrature over the folded law (g takes and returns numpy arrays)."""
        return self.theta_rule(num_nodes).expect(g)

    def expect_lambda(self, g: Callable[[np.ndarray], np.ndarray], num_nodes: int = DEFAULT_NODES) -> float:
        r"""E_λ[g(λ)] by quadrature over the law of λ itself."""
        return self.lambda_rule(num_nodes).expect(g)

    # --- moments of θ --------------------------------------------------------------------------
    @property
    def theta_mean(self) -> float:
        return self.expect(lambda t: t)

    @property
    def gamma2(self) -> float:
        """γ² = E(1−θ)²."""
        return self.expect(lambda t: (1.0 - t) ** 2)

    @property
    def theta_var(self) -> float:
        """σ² = Var θ = γ² − (1−θ̄)², computed without the cancellation of E θ² − θ̄²."""
        centre = self.theta_mean
        return self.expect(lambda t: (t - centre) ** 2)

    def moments(self) -> dict[str, float]:
        """θ̄, σ², γ² and the ratios σ²/θ̄², γ²/θ̄² that scale the regularizers."""
        tm, tv, g2 = self.theta_mean, self.theta_var, self.gamma2
        return {
            "theta_mean": tm,
            "theta_var": tv,
            "gamma2": g2,
            "theta_var_over_theta_mean2": tv / tm**2,
            "gamma2_over_theta_mean2": g2 / tm**2,
        }

    # --- sampling ------------------------------------------------------------------------------
    def sample_lambda(self, shape, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    def sample_theta(self, shape, generator: torch.Generator | None = None) -> torch.Tensor:
        lam = self.sample_lambda(shape, generator)
        return torch.maximum(lam, 1.0 - lam)

    def __repr__(self) -> str:
        return self.name


def _as_shape(shape) -> tuple[int, ...]:
    return (shape,) if isinstance(shape, int) else tuple(shape)


def _log_gamma_variates(shape_param: float, shape, generator) -> torch.Tensor:
    """log of Gamma(shape_param, 1) variates, accurate for tiny shape parameters: for a < 1,
    G(a) = G(a + 1) · U^{1/a} (Marsaglia–Tsang's boost), kept in log space so nothing underflows."""
    base = shape_param + 1.0 if shape_param < 1.0 else shape_param
    g = torch._standard_gamma(torch.full(shape, base, dtype=torch.float64), generator=generator)
    log_g = torch.log(g)
    if shape_param < 1.0:
        u = torch.rand(shape, generator=generator, dtype=torch.float64)
        log_g = log_g + torch.log(u) / shape_param
    return log_g


def _sample_beta(a: float, b: float, shape, generator) -> torch.Tensor:
    """Beta(a, b) variates as G_a / (G_a + G_b) = sigmoid(log G_a − log G_b)."""
    shape = _as_shape(shape)
    return torch.sigmoid(_log_gamma_variates(a, shape, generator) - _log_gamma_variates(b, shape, generator))


class Beta(MixingLaw):
    r"""λ ~ Beta(a, b), not necessarily symmetric (it still folds under uniform pairing).

    Folded density on [1/2, 1]: ``[θ^{a−1}(1−θ)^{b−1} + θ^{b−1}(1−θ)^{a−1}] / B(a, b)``. Moments in
    closed form through the regularized incomplete Beta ``I_x`` (``I^c_x = 1 − I_x``), ``s = a + b``:

    ``θ̄ = a/s · I^c_{1/2}(a+1, b) + b/s · I_{1/2}(a, b+1)``,

    ``1 − θ̄ = E min(λ, 1−λ) = a/s · I_{1/2}(a+1, b) + b/s · I^c_{1/2}(a, b+1)``,

    ``γ² = E min(λ, 1−λ)² = a(a+1)/(s(s+1)) · I_{1/2}(a+2, b) + b(b+1)/(s(s+1)) · I^c_{1/2}(a, b+2)``.

    Each is a sum of two non-negative terms, so none cancels (``1 − 2θ̄ + E θ²`` would, as θ → 1).
    ``σ² = Var min(λ, 1−λ)`` is ``γ² − (1−θ̄)²`` when min(a, b) < 1: there the coefficient of
    variation of min(λ, 1−λ) is at least of order one and the subtraction loses a small factor.
    For min(a, b) ≥ 1 that subtraction would cancel (the law concentrates, with relative width
    ~ 1/√min(a, b)); instead, with a ≤ b (the folded law is the same for Beta(b, a)),
    ``m = a/s``, ``d = 1 − 2m``, ``P = I_{1/2}(a, b)``, ``Q = 1 − P`` and the density term
    ``u = 2^{1−s} / (s B(a, b))``,

    ``σ² = Var λ − u² − d u (P − Q) + d² P Q``,  ``Var λ = ab/(s²(s+1))``,

    which follows from Stein's identity for the Beta law, ``E[(λ − m); λ < x] = −x^a(1−x)^b/(s B(a, b))``,
    applied at x = 1/2 to ``E(μ − m)² − (E μ − m)²``, μ = min(λ, 1−λ). For a = b it is the
    symmetric ``1/(4(2α+1)) − m(α)²``; for a concentrated law it is the mild cancellation
    of a Gaussian folded at 1/2 (the sum of the terms' absolute values is at most 7 times σ², at
    a = b = 1, and tends to 4.5 as a, b → ∞). ``log u`` is summed from Stirling series when min(a, b) ≥ 10,
    so that ``−s log 2 − log B(a, b)`` never subtracts two numbers of size s.

    >>> law = Beta(2.0, 5.0)
    >>> abs(law.theta_mean - law.expect(lambda t: t)) < 1e-13
    True
    >>> tiny = Beta(1e-6, 1e6)      # Var θ ≈ Var λ = ab/(s²(s+1)) ≈ 1e-18
    >>> abs(tiny.theta_var / (1e-6 * 1e6 / ((1e6 + 1e-6) ** 2 * (1e6 + 1 + 1e-6))) - 1) < 1e-5
    True
    """

    def __init__(self, a: float, b: float):
        self.a = _check_positive("a", a)
        self.b = _check_positive("b", b)
        self.name = f"Beta({self.a:g}, {self.b:g})"

    def theta_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        num_nodes = _check_nodes(num_nodes)
        # λ ≥ 1/2 (θ = λ ~ Beta(a, b)) and λ < 1/2 (θ = 1 − λ ~ Beta(b, a))
        return QuadratureRule.concatenate(
            [_beta_rule(self.a, self.b, num_nodes, 0.5), _beta_rule(self.b, self.a, num_nodes, 0.5)]
        )

    def lambda_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        return _beta_rule(self.a, self.b, _check_nodes(num_nodes), 0.0)

    def _weights(self) -> tuple[float, float, float, float]:
        """a/s, b/s, a(a+1)/(s(s+1)), b(b+1)/(s(s+1)), written so that no product overflows."""
        a, b = self.a, self.b
        s = a + b
        return a / s, b / s, (a / s) * ((a + 1.0) / (s + 1.0)), (b / s) * ((b + 1.0) / (s + 1.0))

    @property
    def theta_mean(self) -> float:
        a, b = self.a, self.b
        wa, wb, _, _ = self._weights()
        return float(wa * special.betaincc(a + 1.0, b, 0.5) + wb * special.betainc(a, b + 1.0, 0.5))

    @property
    def _one_minus_theta_mean(self) -> float:
        """1 − θ̄ = E min(λ, 1−λ) as a sum of two non-negative terms (accurate when θ̄ → 1)."""
        a, b = self.a, self.b
        wa, wb, _, _ = self._weights()
        return float(wa * special.betainc(a + 1.0, b, 0.5) + wb * special.betaincc(a, b + 1.0, 0.5))

    @property
    def gamma2(self) -> float:
        a, b = self.a, self.b
        _, _, waa, wbb = self._weights()
        return float(waa * special.betainc(a + 2.0, b, 0.5) + wbb * special.betaincc(a, b + 2.0, 0.5))

    @property
    def theta_var(self) -> float:
        a, b = sorted((self.a, self.b))
        if a < 1.0:
            q = self._one_minus_theta_mean
            return float(self.gamma2 - q * q)
        s = a + b
        lower_mass = float(special.betainc(a, b, 0.5))
        upper_mass = float(special.betaincc(a, b, 0.5))
        d = (b - a) / s
        u = 2.0 * math.exp(_log_half_power_over_beta(a, b)) / s
        var_lambda = (a / s) * (b / s) / (s + 1.0)
        return float(var_lambda - u * u - d * u * (lower_mass - upper_mass) + d * d * lower_mass * upper_mass)

    def sample_lambda(self, shape, generator=None) -> torch.Tensor:
        return _sample_beta(self.a, self.b, shape, generator)


# Stirling series of log Γ: log Γ(z) = (z − 1/2) log z − z + log(2π)/2 + Σ_k c_k z^{1−2k},
# c_k = B_{2k} / (2k(2k−1)). The series is enveloping (the error is below the first omitted
# term), which after these eight is 3617/122400 · z^{−15} < 3e-17 for z ≥ 10.
_STIRLING_COEFFS = (
    1.0 / 12.0,
    -1.0 / 360.0,
    1.0 / 1260.0,
    -1.0 / 1680.0,
    1.0 / 1188.0,
    -691.0 / 360360.0,
    1.0 / 156.0,
    -3617.0 / 122400.0,
)
_STIRLING_MIN_ARG = 10.0


def _stirling_correction(z: float) -> float:
    """``log Γ(z) − [(z − 1/2) log z − z + log(2π)/2]`` for z ≥ 10, to ~3e-17 absolute."""
    inv_sq = 1.0 / (z * z)
    power = 1.0 / z
    total = 0.0
    for coeff in _STIRLING_COEFFS:
        total += coeff * power
        power *= inv_sq
    return total


def _log_half_power_over_beta(a: float, b: float) -> float:
    r"""``log(2^{−(a+b)} / B(a, b))`` = log of ``x^a (1−x)^b / B(a, b)`` at x = 1/2.

    For min(a, b) ≥ 10, with ``s = a + b``, ``r = (b − a)/s`` and the Stirling corrections ω,

    ``−(s/2)·[(1+r) log(1+r) + (1−r) log(1−r)] + ½ log(ab/s) − ½ log 2π − ω(a) − ω(b) + ω(s)``,

    where the bracket is ``2r·artanh r + log(1 − r²)`` (≈ r², no large terms). The direct
    ``−s log 2 − log B(a, b)`` would subtract two numbers of size s, losing ~s·1e-16 absolute.
    """
    if min(a, b) < _STIRLING_MIN_ARG:
        return float(-(a + b) * math.log(2.0) - special.betaln(a, b))
    s = a + b
    r = (b - a) / s
    entropy_gap = 2.0 * r * math.atanh(r) + math.log1p(-r * r)
    return (
        -0.5 * s * entropy_gap
        + 0.5 * (math.log(a) + math.log(b) - math.log(s))
        - 0.5 * math.log(2.0 * math.pi)
        - _stirling_correction(a)
        - _stirling_correction(b)
        + _stirling_correction(s)
    )


def _gamma_ratio_half(alpha: float) -> float:
    r"""``r(α) = Γ(α+1/2) / (√π Γ(α+1))`` to ~1e-15 relative, for every α > 0.

    Small α: direct Gamma values. Large α: the difference of Stirling series of log Γ at
    α+1/2 and α+1, written so that no large terms cancel.
    """
    if alpha < 30.0:
        return float(special.gamma(alpha + 0.5) / (math.sqrt(math.pi) * special.gamma(alpha + 1.0)))
    z1, z2 = alpha + 0.5, alpha + 1.0
    # (z1 - 1/2) log z1 - z1 - (z2 - 1/2) log z2 + z2
    #   = α log(z1/z2) - (1/2) log z2 + 1/2, with log(z1/z2) = log1p(-1/(2 z2))
    log_r = alpha * math.log1p(-0.5 / z2) + 0.5 - 0.5 * math.log(z2)
    coeffs = (1.0 / 12.0, -1.0 / 360.0, 1.0 / 1260.0, -1.0 / 1680.0, 1.0 / 1188.0)
    for k, c in enumerate(coeffs):
        power = 2 * k + 1
        log_r += c * (z1**-power - z2**-power)
    return math.exp(log_r - 0.5 * math.log(math.pi))


# Taylor coefficients of log r(α) = log Γ(α+1/2) − log Γ(1/2) − log Γ(α+1) at α = 0:
# c_1 = ψ(1/2) − ψ(1) = −2 log 2 and, from ψ^{(n)}(z) = (−1)^{n+1} n! ζ(n+1, z) with
# ζ(n+1, 1/2) = (2^{n+1} − 1) ζ(n+1), c_k = (−1)^k (2^k − 2) ζ(k) / k for k ≥ 2.
# For 0 < α ≤ 0.1 the terms from k = 2 on alternate in sign and shrink (ratio < 3α), so the
# truncation error is below the first omitted term, |c_26| α^26 < 3e-20 < 1e-18 |log r|.
_SERIES_MAX_ALPHA = 0.1
_LOG_R_COEFFS = (-2.0 * math.log(2.0),) + tuple(
    (-1.0) ** k * (2.0**k - 2.0) * float(special.zeta(k)) / k for k in range(2, 26)
)


def _log_r_over_alpha(alpha: float) -> float:
    """``log r(α) / α = Σ_k c_k α^{k−1}`` for 0 < α ≤ 0.1 (Horner)."""
    total = 0.0
    for coeff in reversed(_LOG_R_COEFFS):
        total = total * alpha + coeff
    return total


def _expm1_over_x(x: float) -> float:
    """``(e^x − 1)/x`` with relative accuracy for every x, including subnormal and zero x."""
    if abs(x) < 1e-8:
        return 1.0 + x / 2.0 + x * x / 6.0
    return math.expm1(x) / x


class SymmetricBeta(Beta):
    r"""λ ~ Beta(α, α), the law of the original mixup; θ ~ Beta_[1/2, 1](α, α).

    Closed forms with ``m(α) = E|X − 1/2| = 1 / (α 4^α B(α, α))``
    ``= Γ(α+1/2) / (2√π Γ(α+1))`` (Legendre duplication):

    ``θ̄ = 1/2 + m``, ``σ² = 1/(4(2α+1)) − m²``, ``γ² = (α+1)/(2(2α+1)) − m``.

    They are evaluated through ``q = 1 − θ̄ = (1 − r)/2``, ``r = 2m``:
    ``γ² = q − α/(2(2α+1))`` and ``σ² = γ² − q²`` for α < 1, where ``q = −expm1(log r)/2``.
    For α ≤ 0.1 everything is scaled by α, since ``q``, ``γ²`` and ``σ²`` are all ~α:
    ``log r = α ℓ(α)`` with ``ℓ(α) = Σ_k c_k α^{k−1}`` (Taylor series of log Γ at 1/2 and 1,
    ``c_1 = −2 log 2``, ``c_k = (−1)^k (2^k − 2) ζ(k)/k``), ``q/α = −ℓ · expm1(αℓ)/(2αℓ)``,
    ``γ²/α = q/α − 1/(2(2α+1))``, ``σ²/α = γ²/α − α (q/α)²``. Then ``1/2 − m``, ``σ²`` and ``γ²``
    keep full relative accuracy down to the smallest normal α (as α → 0,
    ``γ² ≈ σ² ≈ (log 2 − 1/2) α``), where log-gamma differences lose ~1e-16/α. For α ≥ 1 the
    Stirling-based ``r(α)`` keeps ``σ² = 1/(8(α+1/2)) − m²`` a mild cancellation (the two terms
    add up to at most 7 σ², at α = 1, and to 4.5 σ² as α → ∞).

    >>> law = SymmetricBeta(1.0)          # θ uniform on [1/2, 1]
    >>> round(law.theta_mean, 15), round(law.theta_var * 48, 12)
    (0.75, 1.0)
    >>> tiny = SymmetricBeta(1e-200)      # γ² / α → log 2 − 1/2
    >>> abs(tiny.gamma2 / 1e-200 / (math.log(2) - 0.5) - 1) < 1e-15
    True
    """

    def __init__(self, alpha: float):
        alpha = _check_positive("alpha", alpha)
        super().__init__(alpha, alpha)
        self.alpha = alpha
        self.name = f"SymmetricBeta({alpha:g})"

    def _small_alpha_scaled(self) -> tuple[float, float, float]:
        """(q/α, γ²/α, σ²/α) for α ≤ 0.1, from the Taylor series of log r."""
        alpha = self.alpha
        slope = _log_r_over_alpha(alpha)
        q_scaled = -0.5 * slope * _expm1_over_x(alpha * slope)
        gamma2_scaled = q_scaled - 0.5 / (2.0 * alpha + 1.0)
        return q_scaled, gamma2_scaled, gamma2_scaled - alpha * q_scaled * q_scaled

    @property
    def _one_minus_theta_mean(self) -> float:
        alpha = self.alpha
        if alpha <= _SERIES_MAX_ALPHA:
            return alpha * self._small_alpha_scaled()[0]
        if alpha < 1.0:
            # r → 1 as α → 0: 1 − r = −expm1(log r) keeps relative accuracy
            log_r = special.gammaln(alpha + 0.5) - special.gammaln(0.5) - special.gammaln(alpha + 1.0)
            return -0.5 * math.expm1(log_r)
        return 0.5 * (1.0 - _gamma_ratio_half(alpha))

    @property
    def m(self) -> float:
        """m(α) = E|X − 1/2| for X ~ Beta(α, α)."""
        return 0.5 * _gamma_ratio_half(self.alpha) if self.alpha >= 1.0 else 0.5 - self._one_minus_theta_mean

    @property
    def theta_mean(self) -> float:
        return 1.0 - self._one_minus_theta_mean

    @property
    def gamma2(self) -> float:
        a = self.alpha
        if a <= _SERIES_MAX_ALPHA:
            return a * self._small_alpha_scaled()[1]
        if a < 1.0:
            return self._one_minus_theta_mean - a / (2.0 * (2.0 * a + 1.0))
        # (α+1)/(2(2α+1)) = 1/4 + 1/(8(α+1/2)), which does not overflow for large α
        return 0.25 + 0.125 / (a + 0.5) - self.m

    @property
    def theta_var(self) -> float:
        a = self.alpha
        if a <= _SERIES_MAX_ALPHA:
            return a * self._small_alpha_scaled()[2]
        if a < 1.0:
            q = self._one_minus_theta_mean
            return self.gamma2 - q * q
        m = self.m
        return 0.125 / (a + 0.5) - m * m


class Uniform(SymmetricBeta):
    """λ ~ U[0, 1] = Beta(1, 1): θ uniform on [1/2, 1], θ̄ = 3/4, σ² = 1/48, γ² = 1/12."""

    def __init__(self):
        super().__init__(1.0)
        self.name = "Uniform()"


class PointMass(MixingLaw):
    """λ = value with probability one (θ = max(value, 1 − value)). ``PointMass(1.0)`` is ERM."""

    def __init__(self, value: float):
        value = float(value)
        if not (0.0 <= value <= 1.0):
            raise ValueError(f"value must lie in [0, 1], got {value!r}")
        self.value = value
        self.name = f"PointMass({value:g})"

    def theta_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        return QuadratureRule(np.array([max(self.value, 1.0 - self.value)]), np.ones(1))

    def lambda_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        return QuadratureRule(np.array([self.value]), np.ones(1))

    def sample_lambda(self, shape, generator=None) -> torch.Tensor:
        return torch.full(_as_shape(shape), self.value, dtype=torch.float64)


def ERM() -> PointMass:
    """The α → 0 limit of mixup: θ = 1, no perturbation, the regularizers vanish."""
    return PointMass(1.0)


class Mixture(MixingLaw):
    r"""λ drawn from ``components[k]`` with probability ``weights[k]``.

    RegMixup (clean plus mixed samples) is ``Mixture([PointMass(1.0), SymmetricBeta(α)], [w, 1−w])``.
    Moments are exact mixtures of the components' (closed-form where they have one):
    ``θ̄ = Σ w_k θ̄_k``, ``γ² = Σ w_k γ²_k``, ``σ² = γ² − (1 − θ̄)²``.

    >>> reg = Mixture([PointMass(1.0), Uniform()], [0.5, 0.5])
    >>> reg.theta_mean
    0.875
    """

    def __init__(self, components: Sequence[MixingLaw], weights: Sequence[float]):
        components = list(components)
        weights = np.asarray(weights, dtype=np.float64)
        if len(components) == 0 or weights.shape != (len(components),):
            raise ValueError("components and weights must be non-empty and of the same length")
        if not all(isinstance(c, MixingLaw) for c in components):
            raise TypeError("every component must be a MixingLaw")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError(f"weights must be finite, non-negative, not all zero; got {weights}")
        if abs(weights.sum() - 1.0) > 1e-12:
            raise ValueError(f"weights must sum to 1 (they sum to {weights.sum():.17g}); divide by their sum")
        self.components = components
        self.weights = weights
        self.name = "Mixture([" + ", ".join(f"{w:g}·{c!r}" for c, w in zip(components, weights)) + "])"

    def theta_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        return QuadratureRule.concatenate(
            [c.theta_rule(num_nodes).scaled(w) for c, w in zip(self.components, self.weights)]
        )

    def lambda_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        return QuadratureRule.concatenate(
            [c.lambda_rule(num_nodes).scaled(w) for c, w in zip(self.components, self.weights)]
        )

    @property
    def theta_mean(self) -> float:
        return float(sum(w * c.theta_mean for c, w in zip(self.components, self.weights)))

    @property
    def gamma2(self) -> float:
        return float(sum(w * c.gamma2 for c, w in zip(self.components, self.weights)))

    @property
    def theta_var(self) -> float:
        # Law of total variance: no E θ² − θ̄² cancellation when components are concentrated.
        tm = self.theta_mean
        return float(
            sum(w * (c.theta_var + (c.theta_mean - tm) ** 2) for c, w in zip(self.components, self.weights))
        )

    def sample_lambda(self, shape, generator=None) -> torch.Tensor:
        shape = _as_shape(shape)
        probs = torch.as_tensor(self.weights, dtype=torch.float64)
        which = torch.multinomial(probs, max(1, math.prod(shape)), replacement=True, generator=generator)
        which = which[: math.prod(shape)].reshape(shape)
        out = torch.empty(shape, dtype=torch.float64)
        for k, comp in enumerate(self.components):
            mask = which == k
            count = int(mask.sum())
            if count:
                out[mask] = comp.sample_lambda(count, generator)
        return out


class WShaped(MixingLaw):
    r"""The W-shaped law of seed 001: λ = X/2 or (X+1)/2 with probability 1/2 each, X ~ Beta(α, α).

    Folding gives θ = (1+X)/2 (X is symmetric), so ``θ̄ = 3/4``, ``σ² = 1/(16(2α+1))``,
    ``γ² = σ² + 1/16``.

    >>> law = WShaped(0.5)
    >>> law.theta_mean, law.theta_var == 1 / 32
    (0.75, True)
    """

    def __init__(self, alpha: float):
        self.alpha = _check_positive("alpha", alpha)
        self.name = f"WShaped({self.alpha:g})"

    def theta_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        base = _beta_rule(self.alpha, self.alpha, _check_nodes(num_nodes), 0.0)
        return QuadratureRule(0.5 * (1.0 + base.nodes), base.weights)

    def lambda_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        base = _beta_rule(self.alpha, self.alpha, _check_nodes(num_nodes), 0.0)
        return QuadratureRule(
            np.concatenate([0.5 * base.nodes, 0.5 * (1.0 + base.nodes)]),
            np.concatenate([0.5 * base.weights, 0.5 * base.weights]),
        )

    @property
    def theta_mean(self) -> float:
        return 0.75

    @property
    def theta_var(self) -> float:
        return 1.0 / (16.0 * (2.0 * self.alpha + 1.0))

    @property
    def gamma2(self) -> float:
        return self.theta_var + 1.0 / 16.0

    def sample_lambda(self, shape, generator=None) -> torch.Tensor:
        shape = _as_shape(shape)
        x = _sample_beta(self.alpha, self.alpha, shape, generator)
        upper = torch.rand(shape, generator=generator, dtype=torch.float64) < 0.5
        return torch.where(upper, 0.5 * (x + 1.0), 0.5 * x)


class FromDensity(MixingLaw):
    r"""λ with density ``pdf`` on [0, 1] (normalized numerically; need not integrate to 1).

    ``pdf`` maps a numpy array of points in (0, 1) to non-negative values. Quadrature is
    tanh–sinh (double exponential) on [1/2, 1] for the folded density ``pdf(θ) + pdf(1−θ)``,
    robust to integrable endpoint singularities; sampling is by inverse CDF on a fine grid.

    >>> law = FromDensity(lambda x: 6 * x * (1 - x))    # Beta(2, 2)
    >>> abs(law.theta_mean - SymmetricBeta(2.0).theta_mean) < 1e-12
    True
    """

    def __init__(self, pdf: Callable[[np.ndarray], np.ndarray], name: str = "FromDensity"):
        if not callable(pdf):
            raise TypeError("pdf must be callable: numpy array of points in (0, 1) -> densities")
        self._raw_pdf = pdf
        probe = np.asarray(pdf(np.linspace(0.01, 0.99, 99)), dtype=np.float64)
        if probe.shape != (99,):
            raise ValueError("pdf must be vectorized: an array of points in, an array of values out")
        if not np.all(np.isfinite(probe)) or np.any(probe < 0):
            raise ValueError("pdf must return finite, non-negative values on (0, 1)")
        self.name = name
        total = sum(
            integrate.quad(self._raw, lo, hi, limit=200, epsabs=0.0, epsrel=1e-13)[0]
            for lo, hi in ((0.0, 0.5), (0.5, 1.0))
        )
        if not total > 0:
            raise ValueError("pdf integrates to 0 on [0, 1]")
        self._total = total

    def _raw(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self._raw_pdf(x), dtype=np.float64)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return self._raw(x) / self._total

    def theta_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        nodes, w = _tanh_sinh(0.5, 1.0)
        weights = w * (self.pdf(nodes) + self.pdf(1.0 - nodes))
        return QuadratureRule(nodes, weights / weights.sum())

    def lambda_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        nodes, w = _tanh_sinh(0.0, 1.0)
        weights = w * self.pdf(nodes)
        return QuadratureRule(nodes, weights / weights.sum())

    def expect(self, g, num_nodes: int = DEFAULT_NODES) -> float:
        folded = lambda t: (self.pdf(t) + self.pdf(1.0 - t)) * g(t)  # noqa: E731
        value, _ = integrate.quad(folded, 0.5, 1.0, limit=200, epsabs=1e-14, epsrel=1e-13)
        return float(value)

    def sample_lambda(self, shape, generator=None) -> torch.Tensor:
        shape = _as_shape(shape)
        nodes, w = _tanh_sinh(0.0, 1.0, level=9)
        cdf = np.cumsum(w * self.pdf(nodes))
        cdf /= cdf[-1]
        u = torch.rand(shape, generator=generator, dtype=torch.float64).numpy()
        return torch.from_numpy(np.interp(u, cdf, nodes)).to(torch.float64)


class Empirical(MixingLaw):
    r"""The empirical law of observed λ samples (e.g. a learned λ distribution); exact atoms.

    >>> round(Empirical([0.2, 0.9]).theta_mean, 15)   # atoms θ = 0.8 and 0.9
    0.85
    """

    def __init__(self, samples):
        lam = np.asarray(torch.as_tensor(samples, dtype=torch.float64).reshape(-1))
        if lam.size == 0:
            raise ValueError("samples is empty: give at least one λ")
        if not np.all(np.isfinite(lam)) or np.any((lam < 0) | (lam > 1)):
            raise ValueError("samples must be finite and lie in [0, 1]")
        self.samples = lam
        self.name = f"Empirical({lam.size} samples)"

    def theta_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        th = np.maximum(self.samples, 1.0 - self.samples)
        return QuadratureRule(th, np.full(th.size, 1.0 / th.size))

    def lambda_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        return QuadratureRule(self.samples.copy(), np.full(self.samples.size, 1.0 / self.samples.size))

    def sample_lambda(self, shape, generator=None) -> torch.Tensor:
        shape = _as_shape(shape)
        idx = torch.randint(self.samples.size, shape, generator=generator)
        return torch.as_tensor(self.samples, dtype=torch.float64)[idx]


class ZhangLambdaTilde(Mixture):
    r"""Zhang, Deng, Kawaguchi, Ghorbani, Zou (ICLR 2021), Lemma 3.1: the law of λ̃ in the
    expansion of the mixup loss around x_i,

    ``λ̃ ~ α/(α+β) · Beta(α+1, β) + β/(α+β) · Beta(β+1, α)``; for α = β this is Beta(α+1, α).

    >>> law = ZhangLambdaTilde(1.0, 1.0)
    >>> abs(law.expect_lambda(lambda x: x) - 2 / 3) < 1e-13
    True
    """

    def __init__(self, alpha: float, beta: float | None = None):
        alpha = _check_positive("alpha", alpha)
        beta = alpha if beta is None else _check_positive("beta", beta)
        w = alpha / (alpha + beta)
        super().__init__([Beta(alpha + 1.0, beta), Beta(beta + 1.0, alpha)], [w, 1.0 - w])
        self.alpha, self.beta = alpha, beta
        self.name = f"ZhangLambdaTilde({alpha:g}, {beta:g})"

    @property
    def lambda_mean(self) -> float:
        """E λ̃ = Σ_k w_k a_k/(a_k+b_k)."""
        a, b = self.alpha, self.beta
        s = a + b
        return float(a / s * (a + 1) / (s + 1) + b / s * (b + 1) / (s + 1))


_LAW_NAMES = {
    "beta": SymmetricBeta,
    "symmetric-beta": SymmetricBeta,
    "w-shaped": WShaped,
    "zhang": ZhangLambdaTilde,
}


def law_from_name(name: str, alpha: float | None = None) -> MixingLaw:
    """Build a law from a command-line name: ``beta`` (default), ``w-shaped``, ``zhang``,
    ``regmixup`` (half clean, half Beta(α, α)), each needing ``alpha``; ``uniform`` takes none."""
    key = name.lower()
    if key == "uniform":
        if alpha is not None:
            raise ValueError("the uniform law has no parameter: leave alpha out")
        return Uniform()
    if alpha is None:
        raise ValueError(f"the {name!r} law needs alpha (its parameter α > 0)")
    alpha = _check_positive("alpha", alpha)
    if key == "regmixup":
        return Mixture([PointMass(1.0), SymmetricBeta(alpha)], [0.5, 0.5])
    if key not in _LAW_NAMES:
        choices = ", ".join(sorted([*_LAW_NAMES, "uniform", "regmixup"]))
        raise ValueError(f"unknown law {name!r}; choose one of {choices}")
    return _LAW_NAMES[key](alpha)
