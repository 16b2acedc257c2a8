r"""The cross-entropy loss and its softmax Hessian H = diag(S) − SSᵀ: derivatives, singularity and
pseudo-inverse, Theorem 3's completed square (Carratino et al., JMLR 2022), and Gini ≤ entropy."""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..reference import theorem3_dense
from ._core import Proof, _proof, _Recorder, proof


@proof
def cross_entropy_derivatives(num_classes: int = 3) -> Proof:
    r"""For ``ℓ(y, u) = logsumexp(u) − yᵀu`` (the Carratino et al. summary, "If we use Cross-entropy loss"):
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
    return _proof(
        "ℓ = logsumexp(u) − yᵀu: ℓ_y = −u, ℓ_u = S − y, ℓ_yy = 0, ℓ_yu = −I, ℓ_uu = H = diag(S) − SSᵀ; H1 = "
        "0; H ⪰ 0.",
        rec.steps,
        rec.verdict(),
        {"num_classes": c},
    )


@proof
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
    return _proof(
        "H(u) = diag(S) − SSᵀ is singular for every u and c (det H = 0); its pseudo-inverse is P diag(1/S) "
        "P.",
        rec.steps,
        rec.verdict(),
        {
            "det_classes": list(range(2, max_classes + 1)),
            "pinv_classes": list(range(2, max_pinv_classes + 1)),
        },
    )


@proof
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
        # the library's one dense Theorem 3 (mixtheory.reference.theorem3_dense), on sympy matrices
        terms = theorem3_dense(Sxx, Sxy, F, L, B, loss_uu_inverse=L.inv(), sigma_xx_pinv=Sxx.inv())
        num, _ = sp.together(terms["R1"] + terms["R3"] - terms["R13"]).as_numer_denom()
        rec.check(sp.expand(num) == 0, f"(c, d) = ({c}, {d}): R1 + R3 − Q = 0 identically (generic symbols)")
    rec.note(
        "consequence: for L ⪰ 0 (cross-entropy: H, proof cross-entropy-derivatives) and Σ_xx ⪰ 0, "
        "R1 = ½ tr(Σ^{1/2}(∇f−J)ᵀ L (∇f−J)Σ^{1/2}) ≥ 0 and R3 = −½ tr(L⁻¹ B K Bᵀ) ≤ 0 with "
        "K = Σ_yx Σ_xx⁻¹ Σ_xy ⪰ 0; for singular H the same algebra holds with H⁺ on 1⊥ because "
        "1ᵀΣ_yx = 0 when labels sum to 1."
    )
    return _proof(
        "For invertible ℓ_uu: R1 + R3 = ½⟨Σ_xx, ∇fᵀℓ_uu∇f⟩ + ⟨Σ_yx, ℓ_yu∇f⟩ (Theorem 3's completed square).",
        rec.steps,
        rec.verdict(),
        {"sizes_cd": [list(s) for s in sizes]},
    )


@proof
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
    return _proof(
        "tr H(u) = 1 − ‖S(u)‖² ≤ 𝓗(S(u)) = −Σ S_k log S_k, for every u.",
        rec.steps,
        rec.verdict(),
        {"random_points": 2000, "min_gap": worst},
    )
