r"""Zhang, Deng, Kawaguchi, Ghorbani, Zou, "How does mixup help with robustness and
generalization?" (ICLR 2021), Lemma 3.1, as quoted in the data-valuation slides: the λ̃ rewriting
of the mixup loss, and the second-order coefficient of its R3.

Toy problem: 8 bundled digits of classes 0 and 1 (:func:`mixtheory.data.load_digits`), binary
logistic loss, a tanh MLP with one logit (:func:`mixtheory.models.build_model`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..laws import Beta, SymmetricBeta, ZhangLambdaTilde
from . import _numerics as nm
from .claims import Evidence, Finding, claim
from .proofs import proof_evidence
from .sources import DATA_VALUATION as SRC


def _zhang_setup() -> tuple[torch.Tensor, torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]:
    """X (8, 64), binary labels y (8, 1) in float64, and a model x ↦ f(x) (B, 1)."""
    X, labels = nm.toy_data(8, 2, seed=21)
    model = nm.toy_model(X.shape[1], 1, seed=22, hidden=5)
    return X, labels.to(torch.float64)[:, None], model


def _zhang_terms(
    model: Callable[[torch.Tensor], torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    law_tilde: ZhangLambdaTilde,
) -> dict[str, float]:
    """L^std and Zhang's R1, R2, R3 (binary logistic, h = softplus), with E(1−λ̃), E(1−λ̃)², and the
    quoted E(1−λ̃²) for ``R3_typo``."""
    n = X.shape[0]

    def f(x: torch.Tensor) -> torch.Tensor:
        return model(x[None])[0, 0]

    u = model(X)[:, 0].detach()
    grads = torch.func.vmap(torch.func.grad(f))(X).detach()
    hess = torch.func.vmap(torch.func.hessian(f))(X).detach()
    h1 = torch.sigmoid(u)
    h2 = h1 * (1 - h1)
    yv = y[:, 0]
    diff = X.mean(0) - X  # E r_x − x_i
    cov = (X - X.mean(0)).T @ (X - X.mean(0)) / n
    second = cov[None] + diff[:, :, None] * diff[:, None, :]  # E (r−x_i)(r−x_i)ᵀ
    e1 = law_tilde.expect_lambda(lambda t: 1 - t)
    e2 = law_tilde.expect_lambda(lambda t: (1 - t) ** 2)
    e2_typo = law_tilde.expect_lambda(lambda t: 1 - t**2)
    std = float((torch.nn.functional.softplus(u) - yv * u).mean())
    r1 = e1 * float(((h1 - yv) * (grads * diff).sum(-1)).mean())
    r2_core = float((h2 * torch.einsum("nd,nde,ne->n", grads, second, grads)).mean()) / 2
    r3_core = float(((h1 - yv) * torch.einsum("nde,nde->n", hess, second)).mean()) / 2
    return {"std": std, "R1": r1, "R2": e2 * r2_core, "R3": e2 * r3_core, "R3_typo": e2_typo * r3_core}


def _lambda_tilde_loss(model: Callable, X: torch.Tensor, y: torch.Tensor, a: float, b: float) -> float:
    """(1/n²) Σ_ij E_λ̃ ℓ(λ̃x_i + (1−λ̃)x_j, y_i): labels y_i only, λ̃ from ZhangLambdaTilde(a, b)."""
    n = X.shape[0]
    rule = ZhangLambdaTilde(a, b).lambda_rule(64)
    total = 0.0
    with torch.no_grad():
        for t, w in zip(rule.nodes, rule.weights):
            xm = t * X[:, None, :] + (1 - t) * X[None, :, :]
            out = model(xm.reshape(n * n, -1))[:, 0]
            yi = y[:, 0][:, None].expand(n, n).reshape(-1)
            total += w * float((torch.nn.functional.softplus(out) - yi * out).mean())
    return total


@claim(
    "seed000-zhang-lambda-tilde",
    SRC,
    "Lemma 3.1 [Zhang et al., 2021]: for l(θ, (x, y)) = h(f_θ(x)) − y f_θ(x), with "
    "D̃_λ = α/(α+β) Beta(α+1, β) + β/(α+β) Beta(β+1, α), L^mix_n = L^std_n + Σ_{i=1}^3 R_i + "
    "E_{λ∼D̃}[(1−λ)²φ(1−λ)] (the λ̃ law and the rewriting of the mixup loss).",
    "holds",
)
def zhang_lambda_tilde() -> Finding:
    from ..mixup_loss import mixup_loss

    ok, ev = proof_evidence(
        "zhang-lambda-tilde-moments",
        text="Holds: for ℓ linear in y, λ p_{α,β}(λ) = α/(α+β) p_{α+1,β}(λ) and the (1−λ)y_j part "
        "relabels to β/(α+β) Beta(β+1, α), so L^mix = (1/n²)Σ_ij E_λ̃ ℓ(λ̃x_i + (1−λ̃)x_j, y_i) exactly",
    )
    X, y, model = _zhang_setup()
    gaps = {}
    for a, b in [(0.5, 0.5), (2.0, 2.0), (0.4, 1.5)]:
        lam_law = SymmetricBeta(a) if a == b else Beta(a, b)
        mix = mixup_loss(model, X, y, lam_law, "logistic", method="exact", form="unfolded", num_nodes=64)
        gaps[f"alpha={a}, beta={b}"] = abs(_lambda_tilde_loss(model, X, y, a, b) - mix) / abs(mix)
    ev.numbers["identity_relative_gaps"] = gaps
    ev.text += (
        f"; numerically (binary logistic, n = {X.shape[0]} digits, d = {X.shape[1]}, tanh network, core "
        "mixup_loss unfolded vs the λ̃ form with labels y_i only): relative gaps "
        + ", ".join(f"{k}: {v:.1e}" for k, v in gaps.items())
        + "."
    )
    ok = ok and max(gaps.values()) < 1e-9
    return Finding("holds" if ok else "fails", ev)


_SCALES = [0.05, 0.025, 0.0125, 0.00625]


@claim(
    "seed000-zhang-lemma31-r3",
    SRC,
    "Lemma 3.1 as quoted: R_3(θ, S) = E_{λ∼D̃}[(1 − λ²)]/(2n) Σ_i (h'(f(x_i)) − y_i) "
    "E_{r_x}[(r_x − x_i)∇²f(x_i)(r_x − x_i)ᵀ].",
    "fails",
    corrected="R_3 = E_{λ∼D̃}[(1 − λ)²]/(2n) Σ_i (h'(f(x_i)) − y_i) "
    "E_{r_x}[(r_x − x_i)ᵀ ∇²f(x_i)(r_x − x_i)].",
)
def zhang_lemma31_r3() -> Finding:
    from ..mixup_loss import mixup_loss

    X0, y, model = _zhang_setup()
    law, law_tilde = SymmetricBeta(1.0), ZhangLambdaTilde(1.0)
    rows, err_ok, err_typo = [], [], []
    for s in _SCALES:
        X = X0.mean(0) + s * (X0 - X0.mean(0))
        mix = mixup_loss(model, X, y, law, "logistic", method="exact", num_nodes=64)
        t = _zhang_terms(model, X, y, law_tilde)
        err_ok.append(abs(mix - (t["std"] + t["R1"] + t["R2"] + t["R3"])))
        err_typo.append(abs(mix - (t["std"] + t["R1"] + t["R2"] + t["R3_typo"])))
        rows.append({"scale": s, "mixup": mix, **t, "err_correct": err_ok[-1], "err_seed": err_typo[-1]})
    slope_ok, slope_typo = nm.loglog_slope(_SCALES, err_ok), nm.loglog_slope(_SCALES, err_typo)
    fails = 2.5 <= slope_ok <= 3.5 and slope_typo < 2.5
    e2, e2_typo = law_tilde.expect_lambda(lambda t: (1 - t) ** 2), law_tilde.expect_lambda(lambda t: 1 - t**2)
    text = (
        "Fails as quoted: the second-order coefficient must be E[(1 − λ̃)²] (as in R_2), not E[1 − λ̃²] "
        f"(for α = β = 1: {e2:.4g} vs {e2_typo:.4g}). Against the exact mixup loss (binary logistic, "
        f"n = {X0.shape[0]} digits, d = {X0.shape[1]}, tanh network, λ ~ Beta(1, 1)) with the data "
        "contracted by s toward its mean: the remainder |L^mix − L^std − R1 − R2 − R3| falls like "
        f"s^{slope_ok:.2f} with E(1−λ̃)² (third order, as the lemma's remainder requires) but like "
        f"s^{slope_typo:.2f} with E(1−λ̃²). (The quote also mixes row and column vectors: "
        "(r_x − x_i)∇²f(r_x − x_i)ᵀ should read (r_x − x_i)ᵀ∇²f(r_x − x_i).)"
    )
    numbers = {"rows": rows, "slope_correct": slope_ok, "slope_seed": slope_typo}
    return Finding("fails" if fails else "holds", Evidence("experiment", text, numbers))
