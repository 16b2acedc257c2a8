r"""Symbolic proofs (sympy) of the identities mixtheory rests on, each cross-checked numerically.

Every proof is a function returning a :class:`Proof`: an ``id``, the ``statement`` proved, the
``steps`` of the argument as text, a ``verdict`` (``"holds"`` when every symbolic simplification
reduced to zero and every numerical cross-check passed, ``"fails"`` otherwise) and ``details``
(the numbers of the cross-checks). :func:`all_proofs` runs them all; ``mixtheory verify`` prints
them and :mod:`tests.test_symbolic` asserts each verdict.

Sources: Carratino, Cissé, Jenatton, Vert, "On Mixup Regularization" (JMLR 2022) as summarized in
seeds ``000_733ca9e95aa63fd6.txt`` and ``001_485ae1d53d6bcb3f.txt`` (Theorem 1, Lemma 2,
Theorem 3, Corollary 4); Zhang, Deng, Kawaguchi, Ghorbani, Zou (ICLR 2021) Lemma 3.1 as quoted in
seed 000; the W-shaped law of seed 001. Derivations: MATH.md sections 1–2 and 5.

Where a statement is proved for small sizes (n, d, c), the proof says why that covers every size:
either the identity is entrywise and involves two coordinates at a time, or the symbolic data
are the generic coordinates of one entry (p, q) of a matrix of any size.

>>> proof = beta_variance()
>>> proof.verdict
'holds'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from scipy import special

from .laws import SymmetricBeta, WShaped, ZhangLambdaTilde

__all__ = [
    "Proof",
    "truncated_beta_moments",
    "beta_variance",
    "theorem1_perturbations",
    "lemma2_covariances",
    "cross_entropy_derivatives",
    "completed_square",
    "w_shaped_moments",
    "zhang_lambda_tilde_moments",
    "arcsine_moments",
    "mixing_limits",
    "gini_below_entropy",
    "softmax_hessian_singular",
    "all_proofs",
    "ALPHA_GRID",
]

#: α values of the numerical cross-checks: 29 points log-spaced over [1e-3, 1e4].
ALPHA_GRID: tuple[float, ...] = tuple(float(a) for a in np.logspace(-3.0, 4.0, 29))

_HALF = sp.Rational(1, 2)
_MPMATH_BETAINC_MAX_ALPHA = 100.0


@dataclass
class Proof:
    r"""The result of one symbolic proof.

    Attributes:
        id: short identifier (``"truncated-beta-moments"``).
        statement: what is proved, in the notation of MATH.md.
        steps: the argument, one step per string, each checked by sympy or numerically.
        verdict: ``"holds"`` or ``"fails"``.
        details: numbers of the numerical cross-checks (max errors, grids, sizes).
    """

    id: str
    statement: str
    steps: list[str]
    verdict: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "statement": self.statement,
            "steps": list(self.steps),
            "verdict": self.verdict,
            "details": self.details,
        }


class _Recorder:
    """Collects steps and whether each check passed; a proof holds only if all of them did."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.ok = True

    def check(self, passed: bool, text: str) -> bool:
        self.steps.append(("" if passed else "FAILED: ") + text)
        self.ok = self.ok and bool(passed)
        return bool(passed)

    def zero(self, expr: sp.Expr, text: str) -> bool:
        return self.check(_is_zero(expr), text)

    def note(self, text: str) -> None:
        self.steps.append(text)

    def verdict(self) -> str:
        return "holds" if self.ok else "fails"


def _is_zero(expr) -> bool:
    """Whether a sympy expression (or matrix) simplifies to zero."""
    if isinstance(expr, sp.MatrixBase):
        return all(_is_zero(e) for e in expr)
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    num, _ = sp.together(sp.expand(expr)).as_numer_denom()
    if sp.expand(num) == 0:
        return True
    return sp.simplify(expr) == 0


def _rel_err(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


# --------------------------------------------------------------------------------------------
# Beta(α, α) and its fold
# --------------------------------------------------------------------------------------------
_alpha = sp.Symbol("alpha", positive=True)


def _symbolic_m(alpha: sp.Expr = _alpha) -> sp.Expr:
    """m(α) = 1/(α 4^α B(α, α)), B written through Γ."""
    return sp.gamma(2 * alpha) / (alpha * 4**alpha * sp.gamma(alpha) ** 2)


def _symbolic_truncated_moments(alpha: sp.Expr = _alpha) -> dict[str, sp.Expr]:
    m = _symbolic_m(alpha)
    return {
        "m": m,
        "theta_mean": _HALF + m,
        "theta_var": 1 / (4 * (2 * alpha + 1)) - m**2,
        "gamma2": (alpha + 1) / (2 * (2 * alpha + 1)) - m,
    }


def _mp_truncated_moments(alpha: float, dps: int = 40) -> dict[str, mpmath.mpf]:
    """The derived closed forms evaluated in high precision (mpmath, ``dps`` digits)."""
    with mpmath.workdps(dps):
        a = mpmath.mpf(alpha)
        m = 1 / (a * mpmath.power(4, a) * mpmath.beta(a, a))
        return {
            "m": +m,
            "theta_mean": mpmath.mpf(1) / 2 + m,
            "theta_var": 1 / (4 * (2 * a + 1)) - m * m,
            "gamma2": (a + 1) / (2 * (2 * a + 1)) - m,
        }


def _mp_integrate_upper(g: Callable, alpha) -> mpmath.mpf:
    r"""``∫_{1/2}^1 g(t) (1−t)^{α−1} dt`` in mpmath, through ``t = 1 − w^{1/α}`` which turns the
    endpoint singularity into a smooth integrand: ``(1/α) ∫_0^{2^{−α}} g(1 − w^{1/α}) dw``."""
    return mpmath.quad(lambda w: g(1 - w ** (1 / alpha)), [0, mpmath.power(2, -alpha)]) / alpha


def beta_variance() -> Proof:
    r"""Var X = 1/(4(2α+1)) for X ~ Beta(α, α) (seed 001, slide "Towards stronger regularization").

    E X^k = B(α+k, α)/B(α, α); with k = 1, 2 and Γ(z+1) = zΓ(z).
    """
    rec = _Recorder()
    a = _alpha
    beta = lambda p, q: sp.gamma(p) * sp.gamma(q) / sp.gamma(p + q)  # noqa: E731
    m1 = sp.gammasimp(beta(a + 1, a) / beta(a, a))
    m2 = sp.gammasimp(beta(a + 2, a) / beta(a, a))
    rec.zero(m1 - _HALF, f"E X = B(α+1, α)/B(α, α) = {m1}")
    rec.zero(m2 - (a + 1) / (2 * (2 * a + 1)), f"E X² = B(α+2, α)/B(α, α) = {sp.factor(m2)}")
    var = sp.simplify(m2 - m1**2)
    rec.zero(var - 1 / (4 * (2 * a + 1)), f"Var X = E X² − (E X)² = {var}")
    # numerical cross-check with scipy's Beta variance
    worst = max(_rel_err(_scipy_beta_var(al), 1 / (4 * (2 * al + 1))) for al in ALPHA_GRID)
    rec.check(worst < 1e-12, f"scipy.stats Beta(α, α) variance on the α grid: max rel. err {worst:.2e}")
    return Proof(
        "beta-variance",
        "X ~ Beta(α, α) ⇒ Var X = 1/(4(2α+1)), for every α > 0.",
        rec.steps,
        rec.verdict(),
        {"max_rel_err_vs_scipy": worst, "alpha_grid": [ALPHA_GRID[0], ALPHA_GRID[-1], len(ALPHA_GRID)]},
    )


def _scipy_beta_var(alpha: float) -> float:
    from scipy import stats

    return float(stats.beta(alpha, alpha).var())


def truncated_beta_moments() -> Proof:
    r"""Moments of θ = max(λ, 1−λ), λ ~ Beta(α, α), from the antiderivative identity (MATH.md §1).

    ``d/dx[xᵅ(1−x)ᵅ] = −2α (x − ½) x^{α−1}(1−x)^{α−1}`` gives
    ``m(α) = E|X − ½| = 2∫_{1/2}^1 (x−½) p(x) dx = 4^{−α}/(α B(α, α))``; since θ = ½ + |X − ½|,
    ``θ̄ = ½ + m``, ``σ² = Var X − m² = 1/(4(2α+1)) − m²``, ``γ² = E(½ − |X−½|)² = (α+1)/(2(2α+1)) − m``,
    and ``θ̄ = 1 − I_{1/2}(α+1, α)``. Cross-checked on :data:`ALPHA_GRID` against
    ``SymmetricBeta(α)`` (rel. err ≤ 1e-11) and ``1 − scipy.special.betainc(α+1, α, ½)``.
    """
    rec = _Recorder()
    a = _alpha
    x = sp.Symbol("x", positive=True)
    F = x**a * (1 - x) ** a
    rhs = -2 * a * (x - _HALF) * x ** (a - 1) * (1 - x) ** (a - 1)
    rec.check(
        sp.simplify(sp.diff(F, x) / rhs) == 1,
        "d/dx[xᵅ(1−x)ᵅ] = −2α (x − ½) x^{α−1}(1−x)^{α−1}  (antiderivative identity)",
    )
    B = sp.gamma(a) ** 2 / sp.gamma(2 * a)
    # G is an antiderivative of (x − ½) p(x), p the Beta(α, α) density
    G = -F / (2 * a * B)
    density = x ** (a - 1) * (1 - x) ** (a - 1) / B
    rec.zero(
        sp.simplify((sp.diff(G, x) - (x - _HALF) * density) / density),
        "G = −xᵅ(1−x)ᵅ/(2αB) has G' = (x−½) p(x)",
    )
    G_at_1 = sp.limit(G, x, 1, "-")
    G_at_half = G.subs(x, _HALF)
    m = sp.simplify(2 * (G_at_1 - G_at_half))
    rec.zero(G_at_1, "G(1) = 0 for α > 0")
    rec.zero(
        sp.gammasimp(m - _symbolic_m()),
        "m = E|X−½| = 2[G(1) − G(½)] = (½)^{2α}/(α B(α, α)) = 1/(α 4^α B(α, α))  (X symmetric about ½)",
    )
    rec.zero(
        sp.simplify(
            sp.gammasimp(_symbolic_m() - sp.gamma(a + _HALF) / (2 * sp.sqrt(sp.pi) * sp.gamma(a + 1)))
        ),
        "Legendre duplication: m = Γ(α+½)/(2√π Γ(α+1))  (the form the package evaluates)",
    )
    t = sp.Symbol("t", real=True)
    rec.check(
        all(
            sp.Max(v, 1 - v) == _HALF + sp.Abs(v - _HALF)
            for v in (sp.Rational(1, 5), sp.Rational(7, 9), _HALF)
        )
        and sp.simplify(
            (sp.Max(t, 1 - t) - _HALF - sp.Abs(t - _HALF)).subs(t, _HALF + sp.Symbol("h", positive=True))
        )
        == 0
        and sp.simplify(
            (sp.Max(t, 1 - t) - _HALF - sp.Abs(t - _HALF)).subs(t, _HALF - sp.Symbol("h", positive=True))
        )
        == 0,
        "θ = max(X, 1−X) = ½ + |X − ½| (checked on both sides of ½)",
    )
    var_x = 1 / (4 * (2 * a + 1))
    sym = _symbolic_truncated_moments()
    rec.note("θ̄ = ½ + E|X−½| = ½ + m")
    rec.zero(
        sym["theta_var"] - (var_x - _symbolic_m() ** 2),
        "σ² = E(θ−½)² − (θ̄−½)² = E(X−½)² − m² = Var X − m² = 1/(4(2α+1)) − m²  (Var X: proof beta-variance)",
    )
    gamma2_from_def = sp.Rational(1, 4) - _symbolic_m() + var_x  # E(½ − |X−½|)²
    rec.zero(
        sp.simplify(gamma2_from_def - sym["gamma2"]),
        "γ² = E(1−θ)² = E(½ − |X−½|)² = ¼ − m + Var X = (α+1)/(2(2α+1)) − m",
    )
    rec.zero(
        sp.simplify(sym["gamma2"] - (sym["theta_var"] + (1 - sym["theta_mean"]) ** 2)),
        "γ² = σ² + (1 − θ̄)²",
    )
    half_ratio = sp.gammasimp((sp.gamma(a + 1) * sp.gamma(a) / sp.gamma(2 * a + 1)) / B)
    rec.zero(
        half_ratio - _HALF,
        "x·p_{α,α}(x) = [B(α+1, α)/B(α, α)] p_{α+1,α}(x) with B(α+1, α)/B(α, α) = ½, so "
        "θ̄ = 2E[X; X ≥ ½] = P_{Beta(α+1,α)}(X ≥ ½) = 1 − I_{1/2}(α+1, α)",
    )
    at_one = {k: sp.nsimplify(sp.simplify(v.subs(a, 1))) for k, v in sym.items()}
    rec.check(
        at_one["theta_mean"] == sp.Rational(3, 4) and at_one["theta_var"] == sp.Rational(1, 48),
        f"α = 1: θ̄ = {at_one['theta_mean']}, σ² = {at_one['theta_var']} (θ uniform on [½, 1])",
    )

    # Numerical cross-checks over the α grid
    errs: dict[str, float] = {"theta_mean": 0.0, "theta_var": 0.0, "gamma2": 0.0}
    err_betainc_scipy = 0.0
    err_betainc_mp = 0.0
    err_quad = 0.0
    for al in ALPHA_GRID:
        ref = _mp_truncated_moments(al)
        law = SymmetricBeta(al)
        for key in errs:
            errs[key] = max(errs[key], _rel_err(float(getattr(law, key)), float(ref[key])))
        if al <= _MPMATH_BETAINC_MAX_ALPHA:  # mpmath's hypergeometric series stalls beyond
            with mpmath.workdps(40):
                mp_inc = 1 - mpmath.betainc(al + 1, al, 0, 0.5, regularized=True)
                gap = abs(mp_inc / ref["theta_mean"] - 1)
            err_betainc_mp = max(err_betainc_mp, float(gap))
        err_betainc_scipy = max(
            err_betainc_scipy, _rel_err(float(special.betaincc(al + 1.0, al, 0.5)), float(ref["theta_mean"]))
        )
    # the antiderivative route against direct quadrature of E|X − ½| for a few α
    for al in (0.05, 0.5, 1.0, 3.0, 40.0):
        with mpmath.workdps(30):
            aa = mpmath.mpf(al)
            # E|X − ½| = 2∫_{1/2}^1 (t − ½) t^{α−1}(1−t)^{α−1} dt / B(α, α)
            upper = _mp_integrate_upper(lambda t, aa=aa: (t - mpmath.mpf(1) / 2) * t ** (aa - 1), aa)
            direct = 2 * upper / mpmath.beta(aa, aa)
            gap = abs(direct / _mp_truncated_moments(al)["m"] - 1)
        err_quad = max(err_quad, float(gap))
    for key, e in errs.items():
        rec.check(
            e <= 1e-11,
            f"SymmetricBeta(α).{key} vs the derived form in 40-digit mpmath, α ∈ [1e-3, 1e4]: max rel. err "
            f"{e:.2e}",
        )
    rec.check(
        err_betainc_mp <= 1e-14,
        f"θ̄ = 1 − I_½(α+1, α) in 40-digit mpmath, α ∈ [1e-3, {_MPMATH_BETAINC_MAX_ALPHA:g}]: "
        f"max rel. err {err_betainc_mp:.2e}",
    )
    rec.check(
        err_betainc_scipy <= 1e-12,
        "1 − scipy.special.betainc(α+1, α, ½) vs the derived θ̄ on the grid: max rel. err "
        f"{err_betainc_scipy:.2e}",
    )
    rec.check(
        err_quad <= 1e-12,
        f"m(α) against direct quadrature of E|X−½| (α ∈ {{0.05, 0.5, 1, 3, 40}}): max rel. err "
        f"{err_quad:.2e}",
    )
    return Proof(
        "truncated-beta-moments",
        "For λ ~ Beta(α, α) and θ = max(λ, 1−λ): m(α) = E|λ−½| = 1/(α 4^α B(α, α)), θ̄ = ½ + m, "
        "σ² = 1/(4(2α+1)) − m², γ² = (α+1)/(2(2α+1)) − m, θ̄ = 1 − I_{1/2}(α+1, α).",
        rec.steps,
        rec.verdict(),
        {
            "max_rel_err_package": errs,
            "max_rel_err_betainc_scipy": err_betainc_scipy,
            "max_rel_err_betainc_mpmath": err_betainc_mp,
            "max_rel_err_direct_quadrature": err_quad,
            "alpha_grid": {"min": ALPHA_GRID[0], "max": ALPHA_GRID[-1], "points": len(ALPHA_GRID)},
        },
    )


def arcsine_moments() -> Proof:
    r"""α = ½ (λ ~ Beta(½, ½), the arcsine law): θ̄ = ½ + 1/π, σ² = 1/8 − 1/π², γ² = 3/8 − 1/π.

    Substitution of α = ½ in :func:`truncated_beta_moments`; B(½, ½) = π. Decides the ledger
    entry ``seed001-truncated-arcsine-moments`` (the seed claims 3/4 and 1/32).
    """
    rec = _Recorder()
    sym = {k: sp.simplify(v.subs(_alpha, _HALF)) for k, v in _symbolic_truncated_moments().items()}
    expected = {
        "m": 1 / sp.pi,
        "theta_mean": _HALF + 1 / sp.pi,
        "theta_var": sp.Rational(1, 8) - 1 / sp.pi**2,
        "gamma2": sp.Rational(3, 8) - 1 / sp.pi,
    }
    for key, val in expected.items():
        rec.zero(sym[key] - val, f"{key}(½) = {val}")
    law = SymmetricBeta(0.5)
    numeric = {k: float(expected[k]) for k in ("theta_mean", "theta_var", "gamma2")}
    worst = max(_rel_err(float(getattr(law, k)), v) for k, v in numeric.items())
    rec.check(worst < 1e-13, f"SymmetricBeta(0.5) agrees: max rel. err {worst:.2e}")
    quad = law.expect(lambda th: th, num_nodes=64)
    rec.check(_rel_err(quad, numeric["theta_mean"]) < 1e-13, f"Gauss–Jacobi E θ = {quad:.15f}")
    rec.check(
        sp.simplify(sym["theta_mean"] - sp.Rational(3, 4)) != 0
        and sp.simplify(sym["theta_var"] - sp.Rational(1, 32)) != 0,
        f"θ̄ = {float(expected['theta_mean']):.6f} ≠ 3/4 and σ² = {float(expected['theta_var']):.6f} ≠ 1/32",
    )
    return Proof(
        "arcsine-moments",
        "λ ~ Beta(½, ½) ⇒ θ̄ = ½ + 1/π ≈ 0.8183, σ² = 1/8 − 1/π² ≈ 0.02368, γ² = 3/8 − 1/π ≈ 0.05669.",
        rec.steps,
        rec.verdict(),
        {**numeric, "sigma2_over_theta_mean2": numeric["theta_var"] / numeric["theta_mean"] ** 2},
    )


def mixing_limits() -> Proof:
    r"""α → 0: θ̄ → 1, σ² → 0, γ² → 0 (ERM); α → ∞: θ̄ → ½, σ² → 0, γ² → ¼ (λ ≡ ½)."""
    rec = _Recorder()
    a = _alpha
    m = sp.gamma(a + _HALF) / (2 * sp.sqrt(sp.pi) * sp.gamma(a + 1))  # = m(α), proof truncated-beta-moments
    m0 = sp.limit(m, a, 0, "+")
    rec.check(m0 == _HALF, f"lim_{{α→0}} m(α) = {m0}")
    # α → ∞: Gautschi's inequality Γ(x+1)/Γ(x+½) > x^{1/2} gives 0 < m(α) < 1/(2√(πα)) → 0
    # (sympy's own limit at ∞ takes seconds; the bound is checked on a grid instead)
    big = np.array([1e1, 1e2, 1e3, 1e4, 1e6])
    m_big = np.exp(special.gammaln(big + 0.5) - special.gammaln(big + 1.0)) / (2 * math.sqrt(math.pi))
    bound = 1.0 / (2.0 * np.sqrt(math.pi * big))
    rec.check(
        bool(np.all((m_big > 0) & (m_big < bound))),
        "α → ∞: 0 < m(α) < 1/(2√(πα)) (Gautschi: Γ(α+1)/Γ(α+½) > √α), checked at α = 1e1 … 1e6, so m → 0",
    )
    minf = sp.Integer(0)
    lim0 = {
        "theta_mean": _HALF + m0,
        "theta_var": sp.limit(1 / (4 * (2 * a + 1)), a, 0) - m0**2,
        "gamma2": sp.limit((a + 1) / (2 * (2 * a + 1)), a, 0) - m0,
    }
    liminf = {
        "theta_mean": _HALF + minf,
        "theta_var": sp.limit(1 / (4 * (2 * a + 1)), a, sp.oo) - minf**2,
        "gamma2": sp.limit((a + 1) / (2 * (2 * a + 1)), a, sp.oo) - minf,
    }
    rec.check(
        lim0 == {"theta_mean": 1, "theta_var": 0, "gamma2": 0}, f"α → 0: {lim0} — θ = 1 a.s., δ = ε = 0: ERM"
    )
    rec.check(
        liminf == {"theta_mean": _HALF, "theta_var": 0, "gamma2": sp.Rational(1, 4)},
        f"α → ∞: {liminf} — λ = ½ a.s.",
    )
    # first-order rate at 0: 1 − θ̄ = ½ − m ≈ α ln 2
    slope = sp.limit((_HALF - m) / a, a, 0, "+")
    rec.check(sp.simplify(slope - sp.log(2)) == 0, f"1 − θ̄(α) = α·{slope} + o(α) as α → 0")
    small = [1e-2, 1e-3, 1e-4]
    numeric = {al: 1.0 - SymmetricBeta(al).theta_mean for al in small}
    worst = max(_rel_err(v / al, math.log(2)) for al, v in numeric.items())
    rec.check(
        worst < 0.05, f"SymmetricBeta: (1 − θ̄)/α at α = 1e-2, 1e-3, 1e-4 → ln 2 (max rel. dev. {worst:.2e})"
    )
    return Proof(
        "mixing-limits",
        "As α → 0 the folded law concentrates at θ = 1 (θ̄ → 1, σ², γ² → 0: mixup becomes ERM), "
        "with 1 − θ̄ ~ α ln 2; as α → ∞ it concentrates at θ = ½.",
        rec.steps,
        rec.verdict(),
        {"one_minus_theta_mean": {str(k): v for k, v in numeric.items()}},
    )


# --------------------------------------------------------------------------------------------
# Theorem 1 and Lemma 2
# --------------------------------------------------------------------------------------------
def _expect_theta(expr: sp.Expr, theta: sp.Symbol, theta_mean: sp.Symbol, sigma2: sp.Symbol) -> sp.Expr:
    """E_θ of a polynomial of degree ≤ 2 in θ: θ → θ̄, θ² → σ² + θ̄²."""
    poly = sp.Poly(sp.expand(expr), theta)
    if poly.degree() > 2:
        raise ValueError("only polynomials of degree <= 2 in θ")
    moments = {0: 1, 1: theta_mean, 2: sigma2 + theta_mean**2}
    return sp.expand(sum(coeff * moments[k[0]] for k, coeff in poly.terms()))


def theorem1_perturbations() -> Proof:
    r"""Theorem 1 (seed 001): ``E_{θ,j} δ_i = E_{θ,j} ε_i = 0`` and
    ``x̃_i = E[θx_i + (1−θ)x_j] = x̄ + θ̄(x_i − x̄)`` (same for ỹ); and the folding step
    ``m_ij(λ) = m_ji(1−λ)``.

    Proved with symbolic data for n = 3, d = 2 (every i) and symbolic θ moments; the argument is
    linear and coordinatewise (E_j x_j = x̄ by definition of x̄, E θ = θ̄ since δ is affine in θ),
    so it holds for every n and d. The loss-level identity (mixup loss = folded loss) is checked
    numerically in the ledger entry ``seed001-theorem1``.
    """
    rec = _Recorder()
    n, d = 3, 2
    theta, theta_mean, sigma2 = sp.symbols("theta theta_bar sigma2", real=True)
    X = sp.Matrix(n, d, lambda i, p: sp.Symbol(f"x_{i}{p}", real=True))
    Y = sp.Matrix(n, 2, lambda i, p: sp.Symbol(f"y_{i}{p}", real=True))
    x_bar = sum((X.row(j) for j in range(n)), sp.zeros(1, d)) / n
    y_bar = sum((Y.row(j) for j in range(n)), sp.zeros(1, 2)) / n
    for i in range(n):
        mixed = [theta * X.row(i) + (1 - theta) * X.row(j) for j in range(n)]
        mean_mixed = sum(mixed, sp.zeros(1, d)) / n
        x_tilde = mean_mixed.applyfunc(lambda e: _expect_theta(e, theta, theta_mean, sigma2))
        rec.zero(
            x_tilde - (x_bar + theta_mean * (X.row(i) - x_bar)),
            f"i = {i}: x̃_i = E_{{θ,j}}[θx_i + (1−θ)x_j] = x̄ + θ̄(x_i − x̄)",
        )
        deltas = [
            (theta - theta_mean) * X.row(i) + (1 - theta) * X.row(j) - (1 - theta_mean) * x_bar
            for j in range(n)
        ]
        rec.zero(
            sp.Matrix.vstack(*[mixed[j] - x_tilde - deltas[j] for j in range(n)]),
            f"i = {i}: θx_i + (1−θ)x_j = x̃_i + δ_i for every partner j",
        )
        mean_delta = (sum(deltas, sp.zeros(1, d)) / n).applyfunc(
            lambda e: _expect_theta(e, theta, theta_mean, sigma2)
        )
        rec.zero(mean_delta, f"i = {i}: E_{{θ,j}} δ_i = 0")
        eps = [
            (theta - theta_mean) * Y.row(i) + (1 - theta) * Y.row(j) - (1 - theta_mean) * y_bar
            for j in range(n)
        ]
        mean_eps = (sum(eps, sp.zeros(1, 2)) / n).applyfunc(
            lambda e: _expect_theta(e, theta, theta_mean, sigma2)
        )
        rec.zero(mean_eps, f"i = {i}: E_{{θ,j}} ε_i = 0 (and ỹ_i = ȳ + θ̄(y_i − ȳ) likewise)")
    lam = sp.Symbol("lambda", real=True)
    xi, xj, yi, yj = sp.symbols("x_i x_j y_i y_j", real=True)
    arg_ij = (lam * yi + (1 - lam) * yj, lam * xi + (1 - lam) * xj)
    arg_ji_flipped = tuple(
        e.subs({xi: xj, xj: xi, yi: yj, yj: yi}, simultaneous=True).subs(lam, 1 - lam) for e in arg_ij
    )
    rec.zero(
        sp.Matrix(arg_ij) - sp.Matrix(arg_ji_flipped),
        "folding: m_ij(λ) and m_ji(1−λ) evaluate ℓ at the same (label, input), so Σ_ij E_λ m_ij(λ) = "
        "Σ_ij E m_ij(θ) with θ = max(λ, 1−λ), for any law of λ on [0, 1] (relabel the pairs with λ < ½)",
    )
    rec.note(
        "generality: each coordinate of δ_i is affine in θ and in the partner's coordinate, and "
        "E_j x_j = x̄ holds by definition for every n; hence the n = 3, d = 2 computation is the "
        "general one written out."
    )
    return Proof(
        "theorem1-perturbations",
        "E_{θ,j} δ_i = E_{θ,j} ε_i = 0, x̃_i = x̄ + θ̄(x_i − x̄), ỹ_i = ȳ + θ̄(y_i − ȳ), and mixup folds "
        "onto θ = max(λ, 1−λ).",
        rec.steps,
        rec.verdict(),
        {"n": n, "d": d, "c": 2},
    )


def lemma2_covariances() -> Proof:
    r"""Lemma 2 (seed 001): ``E δδᵀ = σ² a_i a_iᵀ + γ² Σ_xx``, ``E δεᵀ = σ² a_i b_iᵀ + γ² Σ_xy``,
    ``E εεᵀ = σ² b_i b_iᵀ + γ² Σ_yy`` with ``a_i = x_i − x̄``, ``b_i = y_i − ȳ``.

    Two proofs. (1) General n, d, c: one entry (p, q) with δ_p = (θ−θ̄)a_ip + (1−θ)a_jp,
    E_j a_jp = 0, E_j a_jp a_jq = (Σ_xx)_pq, θ independent of j; the entry is a polynomial identity
    in generic symbols, so it holds for every entry of every size. (2) Explicit: symbolic data,
    n = 3, d = 2, c = 2, raw (uncentred) δ, explicit average over j. Also: the paper's form
    ``(σ²(x̃_i−x̄)(x̃_i−x̄)ᵀ + γ² Σ_x̃x̃)/θ̄²`` equals it iff ``Σ_x̃x̃ = θ̄² Σ_xx`` (the covariance of
    the x̃'s); reading Σ_x̃x̃ as the data covariance Σ_xx is wrong by ``γ²(1 − θ̄²)/θ̄² Σ_xx``.
    """
    rec = _Recorder()
    theta, tb, s2 = sp.symbols("theta theta_bar sigma2", real=True)
    gamma2 = s2 + (1 - tb) ** 2
    # (1) generic entry
    aip, aiq, ajp, ajq, bik, bjk, S_pq, S_pp, C_pk = sp.symbols(
        "a_ip a_iq a_jp a_jq b_ik b_jk S_pq S_pp C_pk", real=True
    )

    def expect_j(expr: sp.Expr, rules: dict) -> sp.Expr:
        poly = sp.Poly(sp.expand(expr), *rules["vars"])
        out = 0
        for powers, coeff in poly.terms():
            out += coeff * rules["moment"](powers)
        return sp.expand(out)

    def delta(a_i, a_j):
        return (theta - tb) * a_i + (1 - theta) * a_j

    for label, (u_i, u_j, v_i, v_j, cov) in {
        "xx (p ≠ q)": (aip, ajp, aiq, ajq, S_pq),
        "xy": (aip, ajp, bik, bjk, C_pk),
    }.items():
        prod = _expect_theta(delta(u_i, u_j) * delta(v_i, v_j), theta, tb, s2)
        rules = {
            "vars": (u_j, v_j),
            "moment": lambda pw, cov=cov: {(0, 0): 1, (1, 0): 0, (0, 1): 0, (1, 1): cov}[pw],
        }
        rec.zero(
            expect_j(prod, rules) - (s2 * u_i * v_i + gamma2 * cov),
            f"entry {label}: E_{{θ,j}}[δ_p δ_q] = σ² a_ip a_iq + γ² Σ_pq  (E_j a_j = 0, E_j a_jp a_jq = "
            "Σ_pq)",
        )
    prod = _expect_theta(delta(aip, ajp) ** 2, theta, tb, s2)
    rules = {"vars": (ajp,), "moment": lambda pw: {(0,): 1, (1,): 0, (2,): S_pp}[pw]}
    rec.zero(
        expect_j(prod, rules) - (s2 * aip**2 + gamma2 * S_pp),
        "diagonal entry: E δ_p² = σ² a_ip² + γ² (Σ_xx)_pp",
    )
    rec.note(
        "the cross term 2E[(θ−θ̄)(1−θ)] a_i E_j a_jᵀ vanishes because E_j a_j = 0 — no symmetry of θ is used."
    )

    # (2) explicit data
    n, d, c = 3, 2, 2
    X = sp.Matrix(n, d, lambda i, p: sp.Symbol(f"x_{i}{p}", real=True))
    Y = sp.Matrix(n, c, lambda i, p: sp.Symbol(f"y_{i}{p}", real=True))
    x_bar = sum((X.row(j) for j in range(n)), sp.zeros(1, d)) / n
    y_bar = sum((Y.row(j) for j in range(n)), sp.zeros(1, c)) / n
    A = X - sp.ones(n, 1) * x_bar
    Bc = Y - sp.ones(n, 1) * y_bar
    cov_xx, cov_xy, cov_yy = A.T * A / n, A.T * Bc / n, Bc.T * Bc / n
    i = 0
    deltas = [((theta - tb) * X.row(i) + (1 - theta) * X.row(j) - (1 - tb) * x_bar).T for j in range(n)]
    epss = [((theta - tb) * Y.row(i) + (1 - theta) * Y.row(j) - (1 - tb) * y_bar).T for j in range(n)]

    def expect(outer_fn):
        total = sum((outer_fn(j) for j in range(n)), sp.zeros(*outer_fn(0).shape)) / n
        return total.applyfunc(lambda e: _expect_theta(e, theta, tb, s2))

    a_i, b_i = A.row(i).T, Bc.row(i).T
    rec.zero(
        expect(lambda j: deltas[j] * deltas[j].T) - (s2 * a_i * a_i.T + gamma2 * cov_xx),
        "explicit n=3, d=2: E δ_0 δ_0ᵀ = σ² a_0 a_0ᵀ + γ² Σ_xx",
    )
    rec.zero(
        expect(lambda j: deltas[j] * epss[j].T) - (s2 * a_i * b_i.T + gamma2 * cov_xy),
        "explicit: E δ_0 ε_0ᵀ = σ² a_0 b_0ᵀ + γ² Σ_xy",
    )
    rec.zero(
        expect(lambda j: epss[j] * epss[j].T) - (s2 * b_i * b_i.T + gamma2 * cov_yy),
        "explicit: E ε_0 ε_0ᵀ = σ² b_0 b_0ᵀ + γ² Σ_yy",
    )
    x_tilde_c = tb * a_i  # x̃_i − x̄
    cov_tilde = tb**2 * cov_xx  # covariance of the x̃'s
    paper = (s2 * x_tilde_c * x_tilde_c.T + gamma2 * cov_tilde) / tb**2
    rec.zero(
        paper - (s2 * a_i * a_i.T + gamma2 * cov_xx),
        "paper's form with Σ_x̃x̃ = Cov(x̃) = θ̄² Σ_xx is the same matrix",
    )
    misread = (s2 * x_tilde_c * x_tilde_c.T + gamma2 * cov_xx) / tb**2
    gap = sp.simplify(misread - (s2 * a_i * a_i.T + gamma2 * cov_xx) - gamma2 * (1 - tb**2) / tb**2 * cov_xx)
    rec.zero(gap, "reading Σ_x̃x̃ as the data covariance Σ_xx overstates the γ² term by the factor 1/θ̄²")
    return Proof(
        "lemma2-covariances",
        "E δ_iδ_iᵀ = σ² a_ia_iᵀ + γ² Σ_xx, E δ_iε_iᵀ = σ² a_ib_iᵀ + γ² Σ_xy, E ε_iε_iᵀ = σ² b_ib_iᵀ + γ² "
        "Σ_yy "
        "(γ² = σ² + (1−θ̄)²), for any law of θ and any n, d, c.",
        rec.steps,
        rec.verdict(),
        {"explicit_sizes": {"n": n, "d": d, "c": c}},
    )


# --------------------------------------------------------------------------------------------
# Cross-entropy, the softmax Hessian, Theorem 3
# --------------------------------------------------------------------------------------------
def cross_entropy_derivatives(num_classes: int = 3) -> Proof:
    r"""For ``ℓ(y, u) = logsumexp(u) − yᵀu`` (seed 001, "If we use Cross-entropy loss"):
    ``ℓ_y = −uᵀ``, ``ℓ_u = (S(u) − y)ᵀ``, ``ℓ_yy = 0``, ``ℓ_yu = −I``, ``ℓ_uu = H = diag(S) − SSᵀ``;
    ``H 1 = 0`` and ``vᵀHv = Σ_k S_k (v_k − Sᵀv)² ≥ 0`` (a variance under S), so H is PSD.

    Symbolic in c = ``num_classes`` generic logits and labels; the PSD identity is proved with
    generic probabilities s_1..s_{c−1}, s_c = 1 − Σ s_k, and holds for every c by the same
    expansion. Also records the derivatives of the other form ``−yᵀ log S(u)``: ``ℓ_y = −log S(u)ᵀ``,
    ``ℓ_yu = −I + 1S(u)ᵀ`` (they differ off the simplex, not on perturbations with 1ᵀε = 0).
    """
    rec = _Recorder()
    c = num_classes
    u = sp.Matrix(sp.symbols(f"u1:{c + 1}", real=True))
    y = sp.Matrix(sp.symbols(f"y1:{c + 1}", real=True))
    Z = sum(sp.exp(uk) for uk in u)
    S = sp.Matrix([sp.exp(uk) / Z for uk in u])
    loss = sp.log(Z) - (y.T * u)[0]
    grad_u = sp.Matrix([sp.diff(loss, uk) for uk in u])
    grad_y = sp.Matrix([sp.diff(loss, yk) for yk in y])
    H_expected = sp.diag(*S) - S * S.T
    rec.zero(grad_y + u, "ℓ_y = −u")
    rec.zero(grad_u - (S - y), "ℓ_u = S(u) − y")
    rec.zero(sp.hessian(loss, list(y)), "ℓ_yy = 0")
    rec.zero(sp.Matrix(c, c, lambda k, m: sp.diff(loss, y[k], u[m])) + sp.eye(c), "ℓ_yu = −I")
    rec.zero(sp.hessian(loss, list(u)) - H_expected, "ℓ_uu = diag(S) − S Sᵀ = H(u)")
    rec.zero(H_expected * sp.ones(c, 1), "H(u) 1 = 0 (rows sum to S_k − S_k ΣS = 0)")
    s = list(sp.symbols(f"s1:{c}", positive=True))
    s.append(1 - sum(s))
    sv = sp.Matrix(s)
    v = sp.Matrix(sp.symbols(f"v1:{c + 1}", real=True))
    Hs = sp.diag(*sv) - sv * sv.T
    mean_v = (sv.T * v)[0]
    rec.zero(
        (v.T * Hs * v)[0] - sum(s[k] * (v[k] - mean_v) ** 2 for k in range(c)),
        "vᵀHv = Σ_k S_k (v_k − Sᵀv)² ≥ 0: H is PSD (the variance of v under S)",
    )
    logS = sp.Matrix([uk - sp.log(Z) for uk in u])
    loss_log = -(y.T * logS)[0]
    rec.zero(
        sp.Matrix([sp.diff(loss_log, yk) for yk in y]) + logS,
        "for −yᵀ log S(u): ℓ_y = −log S(u) (≠ −u off the simplex)",
    )
    mixed = sp.Matrix(c, c, lambda k, m: sp.diff(loss_log, y[k], u[m]))
    rec.zero(
        mixed - (-sp.eye(c) + sp.ones(c, 1) * S.T),
        "for −yᵀ log S(u): ℓ_yu = −I + 1 S(u)ᵀ; equal to −I on ε with 1ᵀε = 0",
    )
    return Proof(
        "cross-entropy-derivatives",
        "ℓ = logsumexp(u) − yᵀu: ℓ_y = −u, ℓ_u = S − y, ℓ_yy = 0, ℓ_yu = −I, ℓ_uu = H = diag(S) − SSᵀ; H1 = "
        "0; H ⪰ 0.",
        rec.steps,
        rec.verdict(),
        {"num_classes": c},
    )


def softmax_hessian_singular(max_classes: int = 4, max_pinv_classes: int = 3) -> Proof:
    r"""``det H = Π_k s_k · (1 − Σ_k s_k) = 0`` on the simplex (matrix determinant lemma), so H⁻¹
    never exists; H⁺ on 1⊥ is ``P diag(1/S) P`` with ``P = I − 11ᵀ/c``.

    Checked symbolically for c = 2..``max_classes``; the lemma ``det(D − ssᵀ) = det D (1 − sᵀD⁻¹s)``
    gives every c. Decides ledger entry ``seed000-j-definition``.
    """
    rec = _Recorder()
    for c in range(2, max_classes + 1):
        s = sp.Matrix(sp.symbols(f"s1:{c + 1}", positive=True))
        H = sp.diag(*s) - s * s.T
        prod = sp.Mul(*s)
        rec.zero(H.det() - prod * (1 - sum(s)), f"c = {c}: det(diag(s) − ssᵀ) = Π s_k (1 − Σ s_k)")
        on_simplex = H.subs(s[-1], 1 - sum(s[:-1]))
        rec.zero(on_simplex.det(), f"c = {c}: det H = 0 when Σ s_k = 1")
        if c > max_pinv_classes:
            continue
        P = sp.eye(c) - sp.ones(c, c) / c
        Hp = P * sp.diag(*[1 / sk for sk in s]) * P
        Hp = Hp.subs(s[-1], 1 - sum(s[:-1]))
        rec.zero(on_simplex * Hp * on_simplex - on_simplex, f"c = {c}: H H⁺ H = H for H⁺ = P diag(1/s) P")
        rec.zero(Hp * on_simplex * Hp - Hp, f"c = {c}: H⁺ H H⁺ = H⁺ (and both symmetric: Moore–Penrose)")
    return Proof(
        "softmax-hessian-singular",
        "H(u) = diag(S) − SSᵀ is singular for every u and c (det H = 0); its pseudo-inverse is P diag(1/S) "
        "P.",
        rec.steps,
        rec.verdict(),
        {
            "det_classes": list(range(2, max_classes + 1)),
            "pinv_classes": list(range(2, max_pinv_classes + 1)),
        },
    )


def completed_square(sizes: tuple[tuple[int, int], ...] = ((2, 2), (1, 3))) -> Proof:
    r"""Theorem 3: ``R1 + R3 = Q`` for invertible ℓ_uu, where

    ``Q = ½ tr(Σ_xx ∇fᵀ L ∇f) + tr(ℓ_yu ∇f Σ_xy)``, ``J = −L⁻¹ B Σ_yx Σ_xx⁻¹`` (B = ℓ_uy, L = ℓ_uu),
    ``R1 = ½ tr(Σ_xx (∇f − J)ᵀ L (∇f − J))``, ``R3 = −½ tr(L⁻¹ B Σ_yx Σ_xx⁻¹ Σ_xy Bᵀ)``.

    Generic symbols (symmetric L, Σ_xx; arbitrary B, Σ_xy, ∇f) for (c, d) in ``sizes``. General
    argument: expand (∇f − J)ᵀL(∇f − J); ``½tr(Σ ∇fᵀLJ) + ½tr(Σ JᵀL∇f) = −tr(Bᵀ∇f Σ_xy)`` by
    cyclicity and Σ_xx Σ_xx⁻¹ = I, and ``½tr(Σ JᵀLJ) = −R3``; sizes enter only through traces.
    """
    rec = _Recorder()
    for c, d in sizes:
        L = sp.Matrix(c, c, lambda k, m: sp.Symbol(f"l_{min(k, m)}{max(k, m)}", real=True))
        B = sp.Matrix(c, c, lambda k, m: sp.Symbol(f"b_{k}{m}", real=True))
        Sxx = sp.Matrix(d, d, lambda p, q: sp.Symbol(f"p_{min(p, q)}{max(p, q)}", real=True))
        Sxy = sp.Matrix(d, c, lambda p, k: sp.Symbol(f"r_{p}{k}", real=True))
        F = sp.Matrix(c, d, lambda k, p: sp.Symbol(f"f_{k}{p}", real=True))
        Linv, Sinv = L.inv(), Sxx.inv()
        J = -Linv * B * Sxy.T * Sinv
        E = F - J
        R1 = (Sxx * E.T * L * E).trace() / 2
        R3 = -(Linv * B * Sxy.T * Sinv * Sxy * B.T).trace() / 2
        Q = (Sxx * F.T * L * F).trace() / 2 + (B.T * F * Sxy).trace()
        num, _ = sp.together(R1 + R3 - Q).as_numer_denom()
        rec.check(sp.expand(num) == 0, f"(c, d) = ({c}, {d}): R1 + R3 − Q = 0 identically (generic symbols)")
    rec.note(
        "consequence: for L ⪰ 0 (cross-entropy: H, proof cross-entropy-derivatives) and Σ_xx ⪰ 0, "
        "R1 = ½ tr(Σ^{1/2}(∇f−J)ᵀ L (∇f−J)Σ^{1/2}) ≥ 0 and R3 = −½ tr(L⁻¹ B K Bᵀ) ≤ 0 with "
        "K = Σ_yx Σ_xx⁻¹ Σ_xy ⪰ 0; for singular H the same algebra holds with H⁺ on 1⊥ because "
        "1ᵀΣ_yx = 0 when labels sum to 1."
    )
    return Proof(
        "completed-square",
        "For invertible ℓ_uu: R1 + R3 = ½⟨Σ_xx, ∇fᵀℓ_uu∇f⟩ + ⟨Σ_yx, ℓ_yu∇f⟩ (Theorem 3's completed square).",
        rec.steps,
        rec.verdict(),
        {"sizes_cd": [list(s) for s in sizes]},
    )


def gini_below_entropy() -> Proof:
    r"""``tr H(u) = 1 − ‖S‖² ≤ −Σ_k S_k log S_k`` (Gini impurity ≤ Shannon entropy in nats).

    ``g(p) = −log p − (1 − p)`` has g(1) = 0 and g'(p) = 1 − 1/p ≤ 0 on (0, 1], so g ≥ 0 there;
    weight by p_k and sum. Decides ledger entry ``seed001-gini-entropy``.
    """
    rec = _Recorder()
    p = sp.Symbol("p", positive=True)
    g = -sp.log(p) - (1 - p)
    rec.zero(g.subs(p, 1), "g(p) = −log p − (1 − p) vanishes at p = 1")
    rec.zero(sp.diff(g, p) - (1 - 1 / p), "g'(p) = 1 − 1/p ≤ 0 on (0, 1]: g decreasing, so g(p) ≥ g(1) = 0")
    c = 3
    s = sp.Matrix(sp.symbols(f"s1:{c + 1}", positive=True))
    H = sp.diag(*s) - s * s.T
    rec.zero(H.trace() - (sum(s) - sum(sk**2 for sk in s)), "tr H = Σ S_k − Σ S_k² = 1 − ‖S‖² on the simplex")
    rec.note("entropy − Gini = Σ_k S_k g(S_k) ≥ 0; equality only at a vertex of the simplex.")
    rng = np.random.default_rng(0)
    worst = np.inf
    for _ in range(2000):
        k = int(rng.integers(2, 12))
        q = rng.dirichlet(np.full(k, float(rng.choice([0.05, 0.3, 1.0, 5.0]))))
        q = q[q > 0]
        worst = min(worst, float(-(q * np.log(q)).sum() - (1 - (q * q).sum())))
    rec.check(
        worst >= -1e-15, f"2000 random Dirichlet points, c ∈ [2, 11]: min(entropy − Gini) = {worst:.3e}"
    )
    return Proof(
        "gini-below-entropy",
        "tr H(u) = 1 − ‖S(u)‖² ≤ 𝓗(S(u)) = −Σ S_k log S_k, for every u.",
        rec.steps,
        rec.verdict(),
        {"random_points": 2000, "min_gap": worst},
    )


# --------------------------------------------------------------------------------------------
# Other laws
# --------------------------------------------------------------------------------------------
def w_shaped_moments() -> Proof:
    r"""The W-shaped law (seed 001): λ = X/2 or (X+1)/2 with probability ½ each, X ~ Beta(α, α).

    θ = max(λ, 1−λ) = (1 + X)/2 on the upper branch and 1 − X/2 = (1 + (1−X))/2 on the lower one;
    1 − X ~ X, so θ = (1+X)/2 in law: ``θ̄ = 3/4``, ``σ² = Var X/4 = 1/(16(2α+1))``,
    ``γ² = σ² + 1/16``. Cross-checked against ``WShaped(α)`` (closed form and quadrature).
    """
    rec = _Recorder()
    a = _alpha
    X = sp.Symbol("X", real=True)
    rec.zero(
        sp.Max(X / 2, 1 - X / 2).subs(X, sp.Rational(1, 3)) - (1 + (1 - sp.Rational(1, 3))) / 2,
        "lower branch: θ = 1 − X/2 = (1 + (1−X))/2 (X ≤ 1)",
    )
    mean = (1 + _HALF) / 2
    var = (1 / (4 * (2 * a + 1))) / 4
    rec.zero(mean - sp.Rational(3, 4), "θ̄ = (1 + E X)/2 = 3/4")
    rec.zero(var - 1 / (16 * (2 * a + 1)), "σ² = Var X / 4 = 1/(16(2α+1))  (proof beta-variance)")
    g2 = var + (1 - mean) ** 2
    rec.zero(g2 - (1 / (16 * (2 * a + 1)) + sp.Rational(1, 16)), "γ² = σ² + (1/4)² = 1/(16(2α+1)) + 1/16")
    at_half = (sp.simplify(mean), sp.simplify(var.subs(a, _HALF)))
    rec.check(
        at_half == (sp.Rational(3, 4), sp.Rational(1, 32)), f"α = ½: θ̄ = {at_half[0]}, σ² = {at_half[1]}"
    )
    worst_closed, worst_quad = 0.0, 0.0
    for al in ALPHA_GRID[::2]:
        if al > 1e3:
            continue
        law = WShaped(al)
        target = (0.75, 1 / (16 * (2 * al + 1)), 1 / (16 * (2 * al + 1)) + 1 / 16)
        got = (law.theta_mean, law.theta_var, law.gamma2)
        worst_closed = max(worst_closed, *(_rel_err(g_, t_) for g_, t_ in zip(got, target)))
        rule = law.theta_rule(64)
        m1 = rule.expect(lambda th: th)
        v = rule.expect(lambda th, m1=m1: (th - m1) ** 2)
        worst_quad = max(worst_quad, _rel_err(m1, target[0]), _rel_err(v, target[1]))
    rec.check(worst_closed < 1e-14, f"WShaped(α) closed form: max rel. err {worst_closed:.2e}")
    rec.check(worst_quad < 1e-10, f"WShaped(α) quadrature of the folded law: max rel. err {worst_quad:.2e}")
    return Proof(
        "w-shaped-moments",
        "W-shaped law: θ = (1+X)/2 in law, θ̄ = 3/4, σ² = 1/(16(2α+1)), γ² = σ² + 1/16 (α = ½: 3/4, 1/32).",
        rec.steps,
        rec.verdict(),
        {"max_rel_err_closed_form": worst_closed, "max_rel_err_quadrature": worst_quad},
    )


def zhang_lambda_tilde_moments() -> Proof:
    r"""Zhang et al. (ICLR 2021) Lemma 3.1 as quoted in seed 000: with λ ~ Beta(α, β) and a loss
    linear in y, the mixup loss is ``(1/n²) Σ_ij E_λ̃ ℓ(λ̃x_i + (1−λ̃)x_j, y_i)`` with

    ``λ̃ ~ α/(α+β) Beta(α+1, β) + β/(α+β) Beta(β+1, α)``:

    ``λ p_{α,β}(λ) = α/(α+β) p_{α+1,β}(λ)`` (and the (1−λ) y_j part, relabelled i ↔ j, λ → 1−λ,
    gives ``β/(α+β) p_{β+1,α}``). Moments ``E λ̃ = [α(α+1) + β(β+1)]/((α+β)(α+β+1))``,
    ``E(1−λ̃)² = [α β(β+1) + β α(α+1)]/((α+β)(α+β+1)(α+β+2))``; for α = β, λ̃ ~ Beta(α+1, α),
    ``E(1−λ̃) = α/(2α+1)``, ``E(1−λ̃)² = α/(2(2α+1))``. Cross-checked against ``ZhangLambdaTilde``.
    """
    rec = _Recorder()
    a, b = sp.symbols("alpha beta", positive=True)
    lam = sp.Symbol("lambda", positive=True)

    def pdf(p, q):
        return sp.gamma(p + q) / (sp.gamma(p) * sp.gamma(q)) * lam ** (p - 1) * (1 - lam) ** (q - 1)

    rec.zero(
        sp.simplify(sp.gammasimp(lam * pdf(a, b) / pdf(a + 1, b)) - a / (a + b)),
        "λ p_{α,β}(λ) = α/(α+β) · p_{α+1,β}(λ)",
    )
    rec.zero(
        sp.simplify(sp.gammasimp((1 - lam) * pdf(a, b) / pdf(a, b + 1)) - b / (a + b)),
        "(1−λ) p_{α,β}(λ) = β/(α+β) · p_{α,β+1}(λ); relabelling λ → 1−λ gives p_{β+1,α}",
    )
    rec.note(
        "weights α/(α+β) + β/(α+β) = 1: λ̃ is a probability law; the identity uses only linearity of ℓ in y."
    )

    def beta_moment(p, q, k):  # E[Z^k], Z ~ Beta(p, q)
        return sp.gammasimp(sp.gamma(p + k) * sp.gamma(p + q) / (sp.gamma(p) * sp.gamma(p + q + k)))

    w1, w2 = a / (a + b), b / (a + b)
    mean = w1 * beta_moment(a + 1, b, 1) + w2 * beta_moment(b + 1, a, 1)
    rec.zero(
        sp.simplify(mean - (a * (a + 1) + b * (b + 1)) / ((a + b) * (a + b + 1))),
        "E λ̃ = [α(α+1) + β(β+1)]/((α+β)(α+β+1))",
    )
    # E(1 − Z)^2 with 1 − Z ~ Beta(q, p)
    m2 = w1 * beta_moment(b, a + 1, 2) + w2 * beta_moment(a, b + 1, 2)
    target_m2 = (a * b * (b + 1) + b * a * (a + 1)) / ((a + b) * (a + b + 1) * (a + b + 2))
    rec.zero(sp.simplify(m2 - target_m2), "E(1−λ̃)² = [αβ(β+1) + βα(α+1)]/((α+β)(α+β+1)(α+β+2))")
    al = sp.Symbol("alpha", positive=True)
    sym_mean = sp.simplify(mean.subs(b, a).subs(a, al))
    sym_m1c = sp.simplify(1 - sym_mean)
    sym_m2 = sp.simplify(target_m2.subs(b, a).subs(a, al))
    rec.zero(sym_mean - (al + 1) / (2 * al + 1), "α = β: λ̃ ~ Beta(α+1, α), E λ̃ = (α+1)/(2α+1)")
    rec.zero(sym_m1c - al / (2 * al + 1), "α = β: E(1−λ̃) = α/(2α+1)")
    rec.zero(sym_m2 - al / (2 * (2 * al + 1)), "α = β: E(1−λ̃)² = α/(2(2α+1))")
    worst = 0.0
    checked = []
    for alpha_v, beta_v in [(0.2, 0.2), (1.0, 1.0), (2.0, 2.0), (0.5, 3.0), (4.0, 0.7)]:
        law = ZhangLambdaTilde(alpha_v, beta_v)
        sub = {a: alpha_v, b: beta_v}
        targets = (float(mean.subs(sub)), float(target_m2.subs(sub)))
        got = (law.expect_lambda(lambda x: x), law.expect_lambda(lambda x: (1 - x) ** 2))
        worst = max(
            worst, _rel_err(law.lambda_mean, targets[0]), *(_rel_err(g_, t_) for g_, t_ in zip(got, targets))
        )
        checked.append([alpha_v, beta_v])
    rec.check(
        worst < 1e-10,
        "ZhangLambdaTilde(α, β).lambda_mean and expect_lambda (96-node Gauss–Jacobi): max rel. err "
        f"{worst:.2e}",
    )
    # θ moments of the λ̃ law (folded) against direct high-precision quadrature
    worst_theta = 0.0
    for alpha_v in (0.3, 1.0, 4.0):
        law = ZhangLambdaTilde(alpha_v)
        with mpmath.workdps(30):
            A = mpmath.mpf(alpha_v)
            norm = mpmath.beta(A + 1, A)
            # θ = max(Z, 1−Z), Z ~ Beta(α+1, α): density t^α(1−t)^{α−1}/B on the upper branch,
            # (1−t)^α t^{α−1}/B on the lower one (folded onto [½, 1])
            upper = _mp_integrate_upper(lambda t, A=A: t * t**A, A)
            lower = mpmath.quad(lambda t, A=A: t * (1 - t) ** A * t ** (A - 1), [0.5, 1])
            ref = (upper + lower) / norm
        worst_theta = max(worst_theta, _rel_err(law.theta_mean, float(ref)))
    rec.check(
        worst_theta < 1e-11,
        "ZhangLambdaTilde(α).theta_mean vs mpmath quadrature of the folded Beta(α+1, α): max rel. err "
        f"{worst_theta:.2e}",
    )
    return Proof(
        "zhang-lambda-tilde-moments",
        "λ̃ ~ α/(α+β)Beta(α+1, β) + β/(α+β)Beta(β+1, α) (Beta(α+1, α) when α = β), with the stated moments.",
        rec.steps,
        rec.verdict(),
        {"laws_checked": checked, "max_rel_err": worst, "max_rel_err_theta_mean": worst_theta},
    )


# --------------------------------------------------------------------------------------------
_ALL: tuple[Callable[[], Proof], ...] = (
    beta_variance,
    truncated_beta_moments,
    arcsine_moments,
    mixing_limits,
    theorem1_perturbations,
    lemma2_covariances,
    cross_entropy_derivatives,
    softmax_hessian_singular,
    completed_square,
    gini_below_entropy,
    w_shaped_moments,
    zhang_lambda_tilde_moments,
)

#: proof id → function
PROOFS: dict[str, Callable[[], Proof]] = {}


def _register() -> None:
    ids = {
        beta_variance: "beta-variance",
        truncated_beta_moments: "truncated-beta-moments",
        arcsine_moments: "arcsine-moments",
        mixing_limits: "mixing-limits",
        theorem1_perturbations: "theorem1-perturbations",
        lemma2_covariances: "lemma2-covariances",
        cross_entropy_derivatives: "cross-entropy-derivatives",
        softmax_hessian_singular: "softmax-hessian-singular",
        completed_square: "completed-square",
        gini_below_entropy: "gini-below-entropy",
        w_shaped_moments: "w-shaped-moments",
        zhang_lambda_tilde_moments: "zhang-lambda-tilde-moments",
    }
    for fn in _ALL:
        PROOFS[ids[fn]] = fn


_register()

_CACHE: dict[str, Proof] = {}


def get_proof(proof_id: str) -> Proof:
    """Run (once per process) and return the proof with this id."""
    if proof_id not in PROOFS:
        raise KeyError(f"unknown proof {proof_id!r}; known: {', '.join(PROOFS)}")
    if proof_id not in _CACHE:
        _CACHE[proof_id] = PROOFS[proof_id]()
    return _CACHE[proof_id]


def all_proofs() -> list[Proof]:
    """Run every proof (cached per process) and return them in a fixed order."""
    return [get_proof(pid) for pid in PROOFS]
