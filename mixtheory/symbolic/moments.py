r"""Moments of Beta(α, α) and of its fold θ = max(λ, 1−λ) (Carratino et al., JMLR 2022, Theorem 1 and the
moments θ̄, σ², γ² of its perturbations), the arcsine case α = ½, and the limits α → 0, ∞."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp
from scipy import special

from ..laws import SymmetricBeta
from ._core import (
    _HALF,
    _MPMATH_BETAINC_MAX_ALPHA,
    ALPHA_GRID,
    Proof,
    _alpha,
    _mp_integrate_upper,
    _mp_truncated_moments,
    _proof,
    _Recorder,
    _rel_err,
    _symbolic_m,
    _symbolic_truncated_moments,
    proof,
)


@proof
def beta_variance() -> Proof:
    r"""Var X = 1/(4(2α+1)) for X ~ Beta(α, α) (the Carratino et al.
    summary, slide "Towards stronger regularization").

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
    return _proof(
        "X ~ Beta(α, α) ⇒ Var X = 1/(4(2α+1)), for every α > 0.",
        rec.steps,
        rec.verdict(),
        {"max_rel_err_vs_scipy": worst, "alpha_grid": [ALPHA_GRID[0], ALPHA_GRID[-1], len(ALPHA_GRID)]},
    )


def _scipy_beta_var(alpha: float) -> float:
    from scipy import stats

    return float(stats.beta(alpha, alpha).var())


def _check_fold_identity(rec: _Recorder) -> None:
    """θ = max(X, 1 − X) = ½ + |X − ½|, at three points and symbolically on both sides of ½."""
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


def _truncated_beta_cross_checks(rec: _Recorder) -> dict:
    """Numerical cross-checks of :func:`truncated_beta_moments` on :data:`ALPHA_GRID`: the package's
    ``SymmetricBeta`` and θ̄ = 1 − I_½(α+1, α) (mpmath, scipy) against the derived forms in 40-digit
    mpmath, and m(α) against direct quadrature. Records the checks; returns the proof's details."""
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
    return {
        "max_rel_err_package": errs,
        "max_rel_err_betainc_scipy": err_betainc_scipy,
        "max_rel_err_betainc_mpmath": err_betainc_mp,
        "max_rel_err_direct_quadrature": err_quad,
        "alpha_grid": {"min": ALPHA_GRID[0], "max": ALPHA_GRID[-1], "points": len(ALPHA_GRID)},
    }


@proof
def truncated_beta_moments() -> Proof:
    r"""Moments of θ = max(λ, 1−λ), λ ~ Beta(α, α), from the antiderivative identity d/dx[xᵅ(1−x)ᵅ].

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
    _check_fold_identity(rec)
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

    details = _truncated_beta_cross_checks(rec)
    return _proof(
        "For λ ~ Beta(α, α) and θ = max(λ, 1−λ): m(α) = E|λ−½| = 1/(α 4^α B(α, α)), θ̄ = ½ + m, "
        "σ² = 1/(4(2α+1)) − m², γ² = (α+1)/(2(2α+1)) − m, θ̄ = 1 − I_{1/2}(α+1, α).",
        rec.steps,
        rec.verdict(),
        details,
    )


@proof
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
    return _proof(
        "λ ~ Beta(½, ½) ⇒ θ̄ = ½ + 1/π ≈ 0.8183, σ² = 1/8 − 1/π² ≈ 0.02368, γ² = 3/8 − 1/π ≈ 0.05669.",
        rec.steps,
        rec.verdict(),
        {**numeric, "sigma2_over_theta_mean2": numeric["theta_var"] / numeric["theta_mean"] ** 2},
    )


@proof
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
    return _proof(
        "As α → 0 the folded law concentrates at θ = 1 (θ̄ → 1, σ², γ² → 0: mixup becomes ERM), "
        "with 1 − θ̄ ~ α ln 2; as α → ∞ it concentrates at θ = ½.",
        rec.steps,
        rec.verdict(),
        {"one_minus_theta_mean": {str(k): v for k, v in numeric.items()}},
    )
