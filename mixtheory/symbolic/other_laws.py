r"""Other mixing laws: the W-shaped law of the Carratino et al. summary, and the λ̃ law of Zhang, Deng,
Kawaguchi, Ghorbani, Zou, "How does mixup help with robustness and generalization?" (ICLR 2021),
Lemma 3.1."""

from __future__ import annotations

import mpmath
import sympy as sp

from ..laws import WShaped, ZhangLambdaTilde
from ._core import _HALF, ALPHA_GRID, Proof, _alpha, _mp_integrate_upper, _proof, _Recorder, _rel_err, proof


@proof
def w_shaped_moments() -> Proof:
    r"""The W-shaped law (the Carratino et al. summary):
    λ = X/2 or (X+1)/2 with probability ½ each, X ~ Beta(α, α).

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
    return _proof(
        "W-shaped law: θ = (1+X)/2 in law, θ̄ = 3/4, σ² = 1/(16(2α+1)), γ² = σ² + 1/16 (α = ½: 3/4, 1/32).",
        rec.steps,
        rec.verdict(),
        {"max_rel_err_closed_form": worst_closed, "max_rel_err_quadrature": worst_quad},
    )


def _lambda_tilde_cross_checks(
    rec: _Recorder, mean: sp.Expr, target_m2: sp.Expr, a: sp.Symbol, b: sp.Symbol
) -> dict:
    """Numerical cross-checks of :func:`zhang_lambda_tilde_moments`: ``ZhangLambdaTilde``'s mean and
    E(1−λ̃)² against the derived E λ̃ = ``mean`` and ``target_m2`` (symbols α = ``a``, β = ``b``), and its
    θ̄ against mpmath quadrature of the folded Beta(α+1, α). Records the checks; returns the details."""
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
    return {"laws_checked": checked, "max_rel_err": worst, "max_rel_err_theta_mean": worst_theta}


@proof
def zhang_lambda_tilde_moments() -> Proof:
    r"""Zhang et al. (ICLR 2021) Lemma 3.1 as quoted in the data-valuation slides: with
    λ ~ Beta(α, β) and a loss linear in y, the mixup loss is ``(1/n²) Σ_ij E_λ̃ ℓ(λ̃x_i + (1−λ̃)x_j, y_i)`` with

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
    details = _lambda_tilde_cross_checks(rec, mean, target_m2, a, b)
    return _proof(
        "λ̃ ~ α/(α+β)Beta(α+1, β) + β/(α+β)Beta(β+1, α) (Beta(α+1, α) when α = β), with the stated moments.",
        rec.steps,
        rec.verdict(),
        details,
    )
