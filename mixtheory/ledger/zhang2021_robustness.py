r"""The robustness claim of Zhang, Deng, Kawaguchi, Ghorbani, Zou, "How does mixup help with robustness
and generalization?" (ICLR 2021) as both slide summaries state it: "given adversarial attack size, mix
up loss is the upper bound of adversarial loss".

The paper's Theorem 3.1 bounds a second-order approximation of the adversarial loss of logistic
regression and ReLU networks by the (approximate) mixup loss, with a radius ε_mix set by the data
and by E(1−λ̃); the slides give no radius. Here the inequality itself is measured on a small network
trained here, and the largest radius at which it holds is recorded:

    L_mix(f) ≥ L_adv(f, ε) := (1/n) Σ_i max_{‖δ‖₂ ≤ ε} ℓ(y_i, f(x_i + δ)),

with L_mix the exact mixup loss (:func:`mixtheory.mixup_loss.exact_mixup_loss`, λ ~ Beta(1, 1),
all partners). The data are two-dimensional blobs (:func:`mixtheory.data.load_blobs`, standardised),
so the inner maximum over the disc is found reliably: a polar grid (radii × angles) and projected
gradient ascent from the best grid point. L_adv(0) is the ERM loss and L_adv grows with ε, so the
inequality holds exactly on [0, ε*] when L_mix ≥ L_erm; ε* is found by bisection.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import torch

from ._decisions import Computation, computed
from .claims import Finding, claim
from .sources import CARRATINO_2022, DATA_VALUATION

__all__ = ["adversarial_loss", "largest_radius"]

_SETUP = {
    "data": "load_blobs(60, 2 classes, 2 features, cluster_std=1.5, seed=5), standardised (overlapping)",
    "model": "build_model('mlp', 2, 2, 'tanh', hidden=(16,), dtype=float64, seed=6)",
    "training": "train_model(epochs=200, lr=2e-2, full batch, seed=0), with mixup α = 1 or ERM",
    "mixup_law": "Beta(1, 1)",
}
_ANGLES, _RADII, _ASCENT_STEPS = 128, 6, 30


def adversarial_loss(model: torch.nn.Module, X: torch.Tensor, labels: torch.Tensor, radius: float) -> float:
    r"""``(1/n) Σ_i max_{‖δ‖₂ ≤ radius} ℓ(y_i, f(x_i + δ))`` for 2-D inputs X (n, 2), cross-entropy:
    the best of a polar grid (``_RADII`` radii × ``_ANGLES`` angles, the centre included), then
    ``_ASCENT_STEPS`` steps of normalised gradient ascent projected onto the disc (the best point
    visited is kept, so an oscillating step can only help)."""
    if radius == 0:
        with torch.no_grad():
            return float(torch.nn.functional.cross_entropy(model(X), labels))
    angle = torch.linspace(0, 2 * math.pi, _ANGLES + 1, dtype=X.dtype)[:-1]
    ring = torch.stack([torch.cos(angle), torch.sin(angle)], -1)  # (A, 2)
    grid = torch.cat([torch.zeros(1, 2, dtype=X.dtype)] + [r / _RADII * ring for r in range(1, _RADII + 1)])
    grid = radius * grid  # (G, 2)
    n = X.shape[0]
    with torch.no_grad():
        out = model((X[:, None, :] + grid[None]).reshape(-1, 2))
        per_point = torch.nn.functional.cross_entropy(
            out, labels[:, None].expand(n, grid.shape[0]).reshape(-1), reduction="none"
        ).reshape(n, -1)
    delta = grid[per_point.argmax(1)].clone()
    best = per_point.max(1).values
    step = radius  # a full-radius step then projection halves the angle to a linear maximiser
    for _ in range(_ASCENT_STEPS):
        delta.requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(model(X + delta), labels, reduction="none")
        (grad,) = torch.autograd.grad(loss.sum(), delta)
        with torch.no_grad():
            best = torch.maximum(best, loss.detach())
            delta = delta + step * grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-300)
            delta = delta * (radius / delta.norm(dim=1, keepdim=True).clamp_min(radius))
        step *= 0.9
    with torch.no_grad():
        final = torch.nn.functional.cross_entropy(model(X + delta), labels, reduction="none")
    return float(torch.maximum(best, final).mean())


def largest_radius(model: torch.nn.Module, X: torch.Tensor, labels: torch.Tensor, bound: float) -> float:
    """The largest ε with ``adversarial_loss(ε) ≤ bound`` (bisection to 1e-3 relative; 0 when the
    ERM loss already exceeds ``bound``)."""
    if adversarial_loss(model, X, labels, 0.0) > bound:
        return 0.0
    low, high = 0.0, 0.05
    while adversarial_loss(model, X, labels, high) <= bound:
        low, high = high, 2 * high
    while high - low > 1e-3 * high:
        mid = 0.5 * (low + high)
        low, high = (mid, high) if adversarial_loss(model, X, labels, mid) <= bound else (low, mid)
    return low


@functools.cache
def _measure() -> dict[str, Any]:
    from ..data import load_blobs
    from ..exact_loss import exact_mixup_loss
    from ..laws import SymmetricBeta
    from ..models import build_model, train_model

    X, labels = load_blobs(60, 2, num_features=2, cluster_std=1.5, seed=5)
    X = (X - X.mean(0)) / X.std(0)
    distances = torch.cdist(X, X)
    median_distance = float(distances[distances > 0].median())
    out: dict[str, Any] = {"setup": _SETUP, "median_pairwise_distance": median_distance}
    for name, alpha in (("mixup", 1.0), ("erm", None)):
        model = build_model("mlp", 2, 2, "tanh", hidden=(16,), dtype=torch.float64, seed=6)
        train_model(model, X, labels, epochs=200, lr=2e-2, mixup_alpha=alpha, seed=0)
        mix = exact_mixup_loss(model, X, labels, SymmetricBeta(1.0), loss="ce")
        erm = adversarial_loss(model, X, labels, 0.0)
        radius = largest_radius(model, X, labels, mix)
        with torch.no_grad():
            accuracy = float((model(X).argmax(-1) == labels).double().mean())
        out[name] = {
            "mixup_loss": mix,
            "erm_loss": erm,
            "train_accuracy": accuracy,
            "largest_radius": radius,
            "largest_radius_over_median_distance": radius / median_distance,
            "adversarial_loss_at_radius": adversarial_loss(model, X, labels, radius),
            "adversarial_loss_at_1.05_radius": adversarial_loss(model, X, labels, 1.05 * radius),
        }
    out["radius"] = out["mixup"]["largest_radius"]
    out["radius_erm"] = out["erm"]["largest_radius"]
    return out


_STATEMENT = (
    '[Zhang et al., ICLR 2021] ② "Given adversarial attack size, demonstrated mix up loss is the upper '
    'bound of adversarial loss."'
)
_CONDITION = (
    "for attack radii ε ≤ $radius (standardised 2-D blobs, mixup-trained tanh net; $radius_erm for the "
    "ERM-trained one): no radius is given, and beyond ε* the adversarial loss exceeds the mixup loss. "
    "Zhang et al.'s Theorem 3.1 bounds a second-order approximation of the adversarial loss, for a radius "
    "ε_mix set by the data and E(1−λ̃)."
)


def _finding() -> Finding:
    m = _measure()
    mix, erm = m["mixup"], m["erm"]
    holds_somewhere = mix["largest_radius"] > 0 and erm["largest_radius"] > 0
    breaks_beyond = all(r["adversarial_loss_at_1.05_radius"] > r["mixup_loss"] for r in (mix, erm))
    text = (
        "Holds up to a radius only (the slides give none). On 60 standardised 2-D blobs (2 classes) and a "
        "tanh MLP 2→16→2 trained here, with L_mix the exact mixup loss (λ ~ Beta(1, 1), all partners) and "
        "L_adv(ε) = mean_i max_{‖δ‖₂≤ε} ℓ (polar grid plus projected ascent: reliable in 2-D), the "
        f"inequality L_mix ≥ L_adv(ε) holds exactly for ε ≤ ε* = {mix['largest_radius']:.4f} for the "
        f"mixup-trained net (train accuracy {mix['train_accuracy']:.2f}, L_mix = {mix['mixup_loss']:.4f}, "
        f"ERM loss {mix['erm_loss']:.4f}; ε*/median pairwise distance = "
        f"{mix['largest_radius_over_median_distance']:.3f}) and ε* = {erm['largest_radius']:.4f} for the "
        f"ERM-trained net (train accuracy {erm['train_accuracy']:.2f}, L_mix = {erm['mixup_loss']:.4f}, "
        f"ERM loss {erm['erm_loss']:.4f}); at 1.05 ε* the "
        f"adversarial loss is {mix['adversarial_loss_at_1.05_radius']:.4f} and "
        f"{erm['adversarial_loss_at_1.05_radius']:.4f}, above L_mix. The maximum is found by search, so "
        "ε* is an upper estimate of the true largest radius (a missed maximiser can only enlarge it)."
    )
    verdict = "conditional" if holds_somewhere and breaks_beyond else "fails"
    comp = Computation(
        "relative width of the bisection for ε*",
        1e-3,
        1e-3,
        "one network per training rule, trained with fixed seeds; exact mixup loss by quadrature, the "
        "adversarial loss by projected ascent; the verdict needs L_adv ≤ L_mix at ε* and > at 1.05 ε*",
    )
    return Finding(verdict, computed(text, m, comp))


claim("seed000-mixup-adversarial-bound", DATA_VALUATION, _STATEMENT, "conditional", condition=_CONDITION)(
    _finding
)
claim("seed001-mixup-adversarial-bound", CARRATINO_2022, _STATEMENT, "conditional", condition=_CONDITION)(
    _finding
)
