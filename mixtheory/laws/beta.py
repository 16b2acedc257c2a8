r"""λ ~ Beta(a, b) and λ ~ Beta(α, α): closed-form moments of θ = max(λ, 1−λ) and the series
that keep them accurate at extreme exponents (Stirling series of log Γ, Taylor series of log r(α)).
"""

from __future__ import annotations

import math

from scipy import special

from .._types import Generator, Shape, Tensor
from .base import MixingLaw, check_positive, sample_beta
from .quadrature import DEFAULT_NODES, QuadratureRule, beta_rule, check_num_nodes

__all__ = ["Beta", "SymmetricBeta"]


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
        self.a = check_positive("a", a)
        self.b = check_positive("b", b)
        self.name = f"Beta({self.a:g}, {self.b:g})"

    def theta_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        num_nodes = check_num_nodes(num_nodes)
        # λ ≥ 1/2 (θ = λ ~ Beta(a, b)) and λ < 1/2 (θ = 1 − λ ~ Beta(b, a))
        return QuadratureRule.concatenate(
            [beta_rule(self.a, self.b, num_nodes, 0.5), beta_rule(self.b, self.a, num_nodes, 0.5)]
        )

    def lambda_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        return beta_rule(self.a, self.b, check_num_nodes(num_nodes), 0.0)

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

    def sample_lambda(self, shape: Shape, generator: Generator = None) -> Tensor:
        return sample_beta(self.a, self.b, shape, generator)


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
        alpha = check_positive("alpha", alpha)
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
