r"""Theorem 1 (the perturbations δ_i, ε_i and the folding) and Lemma 2 (their covariances) of Carratino,
Cissé, Jenatton, Vert, "On Mixup Regularization" (JMLR 2022)."""

from __future__ import annotations

import sympy as sp

from ._core import Proof, _proof, _Recorder, proof


def _expect_theta(expr: sp.Expr, theta: sp.Symbol, theta_mean: sp.Symbol, sigma2: sp.Symbol) -> sp.Expr:
    """E_θ of a polynomial of degree ≤ 2 in θ: θ → θ̄, θ² → σ² + θ̄²."""
    poly = sp.Poly(sp.expand(expr), theta)
    if poly.degree() > 2:
        raise ValueError("only polynomials of degree <= 2 in θ")
    moments = {0: 1, 1: theta_mean, 2: sigma2 + theta_mean**2}
    return sp.expand(sum(coeff * moments[k[0]] for k, coeff in poly.terms()))


@proof
def theorem1_perturbations() -> Proof:
    r"""Theorem 1 (Carratino et al., JMLR 2022): ``E_{θ,j} δ_i = E_{θ,j} ε_i = 0`` and
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
    return _proof(
        "E_{θ,j} δ_i = E_{θ,j} ε_i = 0, x̃_i = x̄ + θ̄(x_i − x̄), ỹ_i = ȳ + θ̄(y_i − ȳ), and mixup folds "
        "onto θ = max(λ, 1−λ).",
        rec.steps,
        rec.verdict(),
        {"n": n, "d": d, "c": 2},
    )


def _lemma2_explicit_check(rec: _Recorder, theta: sp.Symbol, tb: sp.Symbol, s2: sp.Symbol) -> dict[str, int]:
    """Cross-check of :func:`lemma2_covariances` on explicit symbolic data (n = 3, d = 2, c = 2, raw
    uncentred δ, explicit average over j), and the paper's x̃-form with both readings of Σ_x̃x̃.
    Records the checks; returns the sizes."""
    gamma2 = s2 + (1 - tb) ** 2
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
    return {"n": n, "d": d, "c": c}


@proof
def lemma2_covariances() -> Proof:
    r"""Lemma 2 (Carratino et al., JMLR 2022):
    ``E δδᵀ = σ² a_i a_iᵀ + γ² Σ_xx``, ``E δεᵀ = σ² a_i b_iᵀ + γ² Σ_xy``,
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

    sizes = _lemma2_explicit_check(rec, theta, tb, s2)
    return _proof(
        "E δ_iδ_iᵀ = σ² a_ia_iᵀ + γ² Σ_xx, E δ_iε_iᵀ = σ² a_ib_iᵀ + γ² Σ_xy, E ε_iε_iᵀ = σ² b_ib_iᵀ + γ² "
        "Σ_yy "
        "(γ² = σ² + (1−θ̄)²), for any law of θ and any n, d, c.",
        rec.steps,
        rec.verdict(),
        {"explicit_sizes": sizes},
    )
