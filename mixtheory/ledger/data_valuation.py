r"""Claims of the data-valuation slides about the Taylor regularizers R1–R3 of Carratino et al.
(JMLR 2022, Theorem 3 and Corollary 4): their signs, three Frobenius bounds, the printed R3 and J.

Random instances are searched with the one helper :func:`~mixtheory.ledger._search.counterexample_search`;
network samples come from the core ``taylor_regularizers`` on tanh MLPs
(:func:`mixtheory.models.build_model`) and bundled digits (:func:`mixtheory.data.load_digits`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..geometry import MixupGeometry
from ..laws import SymmetricBeta
from . import _numerics as nm
from ._search import Draw, Restart, counterexample_search
from .claims import Evidence, Finding, claim
from .sources import DATA_VALUATION as SRC

_NETWORK_CACHE: dict[str, Any] = {}
_NETWORKS, _NET_N, _NET_C = 8, 24, 3


def network_regularizers() -> dict[str, Any]:
    """R1, R2, R3 (Corollary 4, core ``taylor_regularizers``) for 8 tanh networks on 24 digits of
    3 classes each, α ∈ {0.2, 1, 4}: one value per sample."""
    if "regs" in _NETWORK_CACHE:
        return _NETWORK_CACHE["regs"]
    from ..closed_form import taylor_regularizers

    rows: dict[str, list[np.ndarray]] = {"R1": [], "R2": [], "R3": []}
    runs = []
    for seed in range(_NETWORKS):
        alpha = (0.2, 1.0, 4.0)[seed % 3]
        X, labels = nm.toy_data(_NET_N, _NET_C, seed)
        model = nm.toy_model(X.shape[1], _NET_C, 100 + seed, weight_scale=2.0)
        regs = taylor_regularizers(model, MixupGeometry(X, labels, SymmetricBeta(alpha)), "ce")
        for k in rows:
            rows[k].append(regs[k].detach().numpy())
        runs.append({"seed": seed, "alpha": alpha})
    out: dict[str, Any] = {k: np.concatenate(v) for k, v in rows.items()}
    out["runs"] = runs
    out["about"] = f"{out['R1'].size} samples of {_NETWORKS} random tanh networks (core taylor_regularizers)"
    _NETWORK_CACHE["regs"] = out
    return out


@claim(
    "seed000-r1-nonnegative",
    SRC,
    'Remark: R_1^{CE}(f) is positive "with high probability in practice".',
    "holds",
    corrected="R_1^{CE}(f) ≥ 0 for every f and every data set (deterministically).",
)
def r1_nonnegative() -> Finding:
    rng = np.random.default_rng(1000)

    def draw(rng: np.random.Generator, found: bool) -> Draw:
        inst = nm.random_instance(rng)
        bl = nm.instance_blocks(inst)
        A = rng.standard_normal((inst["num_classes"], inst["X"].shape[1])) * 3
        H = nm.softmax_hessian(inst["u"])
        r1 = 0.5 * np.trace(bl["sigma_xx"] @ A.T @ H @ A)
        scale = np.linalg.norm(bl["sigma_xx"]) * np.linalg.norm(H) * np.linalg.norm(A) ** 2
        return Draw({"negative_r1": -r1 / scale})

    def restart(rng: np.random.Generator) -> Restart:
        S = nm.instance_blocks(nm.random_instance(rng, c=3, d=3))["sigma_xx"]

        def negative_r1(p: np.ndarray) -> float:  # −R1/(‖Σ‖‖H‖‖A‖²) over (A, u) for fixed Σ
            A, u = p[:9].reshape(3, 3), nm.bounded_logits(p[9:])
            A = A / np.linalg.norm(A)
            H = nm.softmax_hessian(u)
            return -0.5 * np.trace(S @ A.T @ H @ A) / (np.linalg.norm(S) * np.linalg.norm(H))

        return Restart(negative_r1, rng.standard_normal(12))

    found = counterexample_search(rng, draw=draw, draws=2000, restart=restart, restarts=12, maxiter=600)
    worst, worst_opt = -found.largest("negative_r1"), -found.best_optimized
    net = network_regularizers()
    ok = worst >= -1e-14 and worst_opt >= -1e-14 and bool((net["R1"] >= -1e-12).all())
    text = (
        "Holds always, not just with high probability: R1 = ½ tr(Σ^{1/2}(∇f−J)ᵀ H (∇f−J)Σ^{1/2}) with "
        "Σ^{(i)}_xx ⪰ 0 (a covariance) and H ⪰ 0 (proof cross-entropy-derivatives), so R1 ≥ 0 for "
        f"every f. Search: {found.draws} random instances (Lemma 2 Σ from random data, n ≤ 11, d ≤ 4, "
        f"c ≤ 4, α ∈ {list(nm.ALPHAS)}, random A and logits) and {found.restarts} Nelder–Mead restarts "
        f"minimising R1/(‖Σ‖‖H‖‖A‖²) found no negative value; {net['about']} all have R1 ≥ 0. R1 can "
        "be exactly 0 (∇f = J)."
    )
    numbers = {
        "random_draws": found.draws,
        "min_normalised_r1_random": worst,
        "optimizer_restarts": found.restarts,
        "min_normalised_r1_optimizer": worst_opt,
        "network_samples": int(net["R1"].size),
        "network_min_r1": float(net["R1"].min()),
        "seed": 1000,
    }
    return Finding("holds" if ok else "fails", Evidence("search", text, numbers))


@claim(
    "seed000-r3-nonpositive",
    SRC,
    'Remark: −R_3^{CE}(f) is positive "with high probability in practice".',
    "holds",
    corrected="R_3^{CE}(f) ≤ 0 for every f (deterministically).",
)
def r3_nonpositive() -> Finding:
    rng = np.random.default_rng(1001)

    def draw(rng: np.random.Generator, found: bool) -> Draw:
        inst = nm.random_instance(rng)
        K = nm.instance_blocks(inst)["K"]
        Hp = nm.softmax_hessian_pinv(inst["u"])
        r3 = -0.5 * np.trace(Hp @ K)
        return Draw({"r3": r3 / (np.linalg.norm(Hp) * np.linalg.norm(K) + 1e-300)})

    def restart(rng: np.random.Generator) -> Restart:
        K = nm.instance_blocks(nm.random_instance(rng, c=3))["K"]

        def r3(p: np.ndarray) -> float:  # R3/(‖H⁺‖‖K‖) over the logits
            Hp = nm.softmax_hessian_pinv(nm.bounded_logits(p))
            return -(0.5 * np.trace(Hp @ K) / (np.linalg.norm(Hp) * np.linalg.norm(K)))

        return Restart(r3, rng.standard_normal(3) * 3)

    found = counterexample_search(rng, draw=draw, draws=2000, restart=restart, restarts=12, maxiter=400)
    worst, worst_opt = found.largest("r3"), found.best_optimized
    net = network_regularizers()
    ok = worst <= 1e-14 and worst_opt <= 1e-14 and bool((net["R3"] <= 1e-12).all())
    text = (
        "Holds always: R3 = −½ tr(H⁺ K) with K = Σ_yx Σ_xx⁺ Σ_xy ⪰ 0 and H⁺ ⪰ 0, so −R3 ≥ 0 "
        "for every f (it is 0 only when K = 0, e.g. labels uncorrelated with inputs). "
        f"Search: {found.draws} random instances and {found.restarts} Nelder–Mead restarts over the logits "
        f"maximising R3/(‖H⁺‖‖K‖) found no positive value; {net['about']} all have R3 ≤ 0."
    )
    numbers = {
        "random_draws": found.draws,
        "max_normalised_r3_random": worst,
        "optimizer_restarts": found.restarts,
        "max_normalised_r3_optimizer": worst_opt,
        "network_samples": int(net["R3"].size),
        "network_max_r3": float(net["R3"].max()),
        "seed": 1001,
    }
    return Finding("holds" if ok else "fails", Evidence("search", text, numbers))


def _r2_quadratic_draw(rng: np.random.Generator, found: bool) -> Draw:
    """d = c = 2, quadratic logits f_k(x) = ½ xᵀT_k x + …: R2 = ½⟨Σ_xx, Σ_k (S − ỹ)_k T_k⟩."""
    inst = nm.random_instance(rng, c=2, d=2)
    bl = nm.instance_blocks(inst)
    T = np.round(rng.standard_normal((2, 2, 2)), 1)
    T = 0.5 * (T + T.transpose(0, 2, 1))
    w = nm.softmax(inst["u"]) - bl["y_tilde"]
    r2 = 0.5 * float(np.einsum("de,k,kde->", bl["sigma_xx"], w, T))
    return Draw({"negative_r2": -r2}, nm.store(inst, hessians=T, r2=r2) if r2 < 0 else None)


@claim("seed000-r2-sign", SRC, 'Remark: R_2^{CE}(f) is "not yet verified" and "can be negative".', "holds")
def r2_sign() -> Finding:
    net = network_regularizers()
    negative = int((net["R2"] < 0).sum())
    found = counterexample_search(
        np.random.default_rng(1002), draw=_r2_quadratic_draw, draws=500, stop_at_first=True
    )
    ok = negative > 0 and found.first_violation is not None
    text = (
        f"R2 takes both signs: {negative} of {net['R2'].size} samples of {net['about'].split(' of ', 1)[1]} "
        f"have R2 < 0 (min {net['R2'].min():.3g}, max {net['R2'].max():.3g}). A small explicit instance "
        f"(random search, {found.draws} draws): data X, labels, α, sample i, logits u and symmetric logit "
        "Hessians T_k (a quadratic model); R2 = ½⟨Σ^(i)_xx, Σ_k (S(u) − ỹ_i)_k T_k⟩ < 0."
    )
    numbers = {
        "network_negative": negative,
        "network_samples": int(net["R2"].size),
        "instance": found.first_violation,
        "search_draws": found.draws,
    }
    return Finding("holds" if ok else "fails", Evidence("counterexample", text, numbers))


_A_SCALE_DECADES = 2  # A scaled by t ∈ [10^−2, 10^2]


def _r1_bound_draw(rng: np.random.Generator, found: bool) -> Draw:
    inst = nm.random_instance(rng) if found else nm.random_instance(rng, c=2, d=2)
    bl = nm.instance_blocks(inst)
    S, H = bl["sigma_xx"], nm.softmax_hessian(inst["u"])
    t = float(10 ** rng.uniform(-_A_SCALE_DECADES, _A_SCALE_DECADES))
    A = np.round(rng.standard_normal((inst["num_classes"], inst["X"].shape[1])) * t, 2)
    lhs = abs(np.trace(S @ A.T @ H @ A))
    rhs = np.linalg.norm(S) * np.linalg.norm(H) * np.linalg.norm(A)
    return Draw({"lhs_minus_rhs": lhs - rhs}, nm.store(inst, A=A, lhs=lhs, rhs=rhs) if lhs > rhs else None)


def _r1_corrected_restart(rng: np.random.Generator) -> Restart:
    S = nm.instance_blocks(nm.random_instance(rng, c=2, d=2))["sigma_xx"]

    def ratio(p: np.ndarray) -> float:  # |⟨Σ, AᵀHA⟩| / (‖Σ‖‖H‖‖A‖²)
        A, u = p[:4].reshape(2, 2), nm.bounded_logits(p[4:])
        A = A / np.linalg.norm(A)
        H = nm.softmax_hessian(u)
        return abs(np.trace(S @ A.T @ H @ A)) / (np.linalg.norm(S) * np.linalg.norm(H))

    return Restart(ratio, rng.standard_normal(6))


@claim(
    "seed000-r1-bound",
    SRC,
    "|⟨Σ^{(i)}_x̃x̃, (∇f(x̃_i) − J^{(i)})ᵀ H(f(x̃_i)) (∇f(x̃_i) − J^{(i)})⟩_F| ≤ "
    "‖Σ^{(i)}_x̃x̃‖_F ‖H(f(x̃_i))‖_F ‖∇f(x̃_i) − J^{(i)}‖_F.",
    "fails",
    corrected="|⟨Σ, (∇f−J)ᵀH(∇f−J)⟩_F| ≤ ‖Σ‖_F ‖H‖_F ‖∇f − J‖_F² (squared).",
)
def r1_bound() -> Finding:
    found = counterexample_search(
        np.random.default_rng(1003),
        draw=_r1_bound_draw,
        draws=2000,
        restart=_r1_corrected_restart,
        restarts=12,
        maxiter=600,
    )
    best = max(0.0, found.best_optimized)
    ok_fail = found.violations > 0 and best <= 1 + 1e-12
    text = (
        "Fails: the left side is quadratic in A = ∇f − J and the right side linear, so scaling A by t "
        f"multiplies the ratio by t (the bound is not homogeneous). {found.violations} of {found.draws} "
        f"random instances with A scaled by t ∈ [1e-{_A_SCALE_DECADES}, 1e{_A_SCALE_DECADES}] violate "
        f"it; the first (d = c = 2) is stored. The corrected bound with ‖A‖²_F survived {found.restarts} "
        f"Nelder–Mead restarts maximising the ratio (max {best:.6f} ≤ 1): |⟨Σ, AᵀHA⟩| ≤ ‖Σ‖_F ‖AᵀHA‖_F ≤ "
        "‖Σ‖_F ‖H‖_F ‖A‖²_F."
    )
    numbers = {
        "violations": found.violations,
        "draws": found.draws,
        "counterexample": found.first_violation,
        "corrected_max_ratio": best,
        "seed": 1003,
    }
    return Finding("fails" if ok_fail else "holds", Evidence("counterexample", text, numbers))


def _r2_bound_draw(rng: np.random.Generator, found: bool) -> Draw:
    inst = nm.random_instance(rng)
    bl = nm.instance_blocks(inst)
    d, c = inst["X"].shape[1], inst["num_classes"]
    T = rng.standard_normal((c, d, d)) * float(10 ** rng.uniform(-2, 2))
    T = 0.5 * (T + T.transpose(0, 2, 1))
    w = nm.softmax(inst["u"]) - bl["y_tilde"]
    lhs = abs(np.einsum("de,k,kde->", bl["sigma_xx"], w, T))
    rhs = np.linalg.norm(bl["sigma_xx"]) * np.linalg.norm(w) * np.linalg.norm(T)
    return Draw({"ratio": lhs / rhs})


def _r2_bound_restart(rng: np.random.Generator, d: int = 3, c: int = 3) -> Restart:
    def ratio(p: np.ndarray) -> float:  # |⟨Σ, Σ_k w_k T_k⟩| over unit (Σ = LLᵀ, w, T)
        L = p[: d * d].reshape(d, d)
        S = L @ L.T
        w = p[d * d : d * d + c]
        T = p[d * d + c :].reshape(c, d, d)
        T = 0.5 * (T + T.transpose(0, 2, 1))
        S, w, T = S / np.linalg.norm(S), w / np.linalg.norm(w), T / np.linalg.norm(T)
        return abs(np.einsum("de,k,kde->", S, w, T))

    return Restart(ratio, rng.standard_normal(d * d + c + c * d * d))


@claim(
    "seed000-r2-bound",
    SRC,
    "|⟨Σ^{(i)}_x̃x̃, (S(f(x̃_i)) − ỹ_i)ᵀ ∇²f(x̃_i)⟩_F| ≤ ‖Σ^{(i)}_x̃x̃‖_F ‖S(f(x̃_i)) − ỹ_i‖_2 "
    "‖∇²f(x̃_i)‖_F (‖∇²f‖_F the Frobenius norm of the c×d×d tensor).",
    "holds",
)
def r2_bound() -> Finding:
    found = counterexample_search(
        np.random.default_rng(1004),
        draw=_r2_bound_draw,
        draws=2000,
        restart=_r2_bound_restart,
        restarts=4,
        optimizer="L-BFGS-B",
        maxiter=300,
    )
    worst, best = max(0.0, found.largest("ratio")), max(0.0, found.best_optimized)
    ok = worst <= 1 + 1e-12 and best <= 1 + 1e-9
    text = (
        "Holds (Cauchy–Schwarz twice): |⟨Σ, Σ_k w_k T_k⟩| ≤ ‖Σ‖_F ‖Σ_k w_k T_k‖_F ≤ ‖Σ‖_F ‖w‖_2 "
        "(Σ_k ‖T_k‖²_F)^{1/2}; both sides are homogeneous of degree 1 in each factor. "
        f"Search: {found.draws} random instances (max ratio {worst:.4f}) and {found.restarts} L-BFGS "
        f"restarts over (Σ = LLᵀ, w, T) maximising the ratio (max {best:.9f}); the sup 1 is approached, "
        "never exceeded."
    )
    numbers = {
        "random_draws": found.draws,
        "max_ratio_random": worst,
        "optimizer_restarts": found.restarts,
        "max_ratio_optimizer": best,
        "seed": 1004,
    }
    return Finding("holds" if ok else "fails", Evidence("search", text, numbers))


def _r3_bound_draw(rng: np.random.Generator, found: bool) -> Draw:
    inst = nm.random_instance(rng)
    bl = nm.instance_blocks(inst)
    H, K = nm.softmax_hessian(inst["u"]), bl["K"]
    margins = {"reordered": abs(np.sum(K * H)) / (np.linalg.norm(K) * np.linalg.norm(H))}
    if inst["X"].shape[1] == inst["num_classes"]:  # the literal Σ_xy Σ_xx⁻¹ Σ_yx needs c = d
        M = bl["sigma_xy"] @ np.linalg.pinv(bl["sigma_xx"]) @ bl["sigma_xy"].T
        margins["literal"] = abs(np.sum(M * H)) / (np.linalg.norm(M) * np.linalg.norm(H) + 1e-300)
    return Draw(margins)


@claim(
    "seed000-r3-bound",
    SRC,
    "|⟨Σ^{(i)}_x̃ỹ (Σ^{(i)}_x̃x̃)⁻¹ Σ^{(i)}_ỹx̃, H(f(x̃_i))⟩_F| ≤ "
    "‖Σ^{(i)}_x̃ỹ (Σ^{(i)}_x̃x̃)⁻¹ Σ^{(i)}_ỹx̃‖_F ‖H(f(x̃_i))‖_F.",
    "conditional",
    condition="holds (as Cauchy–Schwarz) once the product is re-ordered to the c×c matrix "
    "Σ_ỹx̃(Σ_x̃x̃)⁻¹Σ_x̃ỹ, or literally when c = d; as written it is undefined for c ≠ d.",
    corrected="|⟨Σ_ỹx̃ (Σ_x̃x̃)⁺ Σ_x̃ỹ, H⟩_F| ≤ ‖Σ_ỹx̃ (Σ_x̃x̃)⁺ Σ_x̃ỹ‖_F ‖H‖_F; for R3 itself "
    "|R3| = ½⟨K, H⁺⟩ ≤ ½‖K‖_F ‖H⁺‖_F.",
)
def r3_bound() -> Finding:
    found = counterexample_search(np.random.default_rng(1005), draw=_r3_bound_draw, draws=2000)
    worst_fixed, worst_square = max(0.0, found.largest("reordered")), max(0.0, found.largest("literal"))
    ok = worst_fixed <= 1 + 1e-12 and worst_square <= 1 + 1e-12
    text = (
        "Does not type-check as written: Σ_x̃ỹ = E δεᵀ is d×c and (Σ_x̃x̃)⁻¹ is d×d, so the "
        "product Σ_x̃ỹ(Σ_x̃x̃)⁻¹ is undefined unless c = d, and even then Σ_xyΣ_xx⁻¹Σ_yx is a "
        "product of mismatched blocks that pairs with the c×c matrix H only by accident. With the "
        "product re-ordered to K = Σ_ỹx̃(Σ_x̃x̃)⁻¹Σ_x̃ỹ (c×c) the bound is Cauchy–Schwarz and holds "
        f"(max ratio {worst_fixed:.4f} over {found.draws} random instances; also ≤ 1 for the literal "
        f"product in the c = d cases, max {worst_square:.4f}). Note that it bounds ⟨K, H⟩, which is "
        "not R3: Corollary 4's R3 pairs K with H⁺ (see seed000-r3-formula)."
    )
    numbers = {
        "draws": found.draws,
        "max_ratio_corrected": worst_fixed,
        "max_ratio_literal_c_eq_d": worst_square,
        "seed": 1005,
    }
    return Finding("conditional" if ok else "fails", Evidence("search", text, numbers))
