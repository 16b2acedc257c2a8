r"""Shared numerics of the ledger: numpy views of the core formulas, random instances, toy problems.

Conventions (Carratino et al., JMLR 2022, Lemma 2 and Corollary 4): Σ = Σ^{(i)} are the Lemma 2
perturbation covariances of one sample, ``K = Σ_yx Σ_xx⁺ Σ_xy`` (c×c), ``H = diag(S) − SSᵀ`` the
softmax Hessian, ``H⁺ = P diag(1/S) P`` its pseudo-inverse (``P = I − 11ᵀ/c``). The numpy helpers
are thin views of the one implementation of each formula (:mod:`mixtheory.losses`,
:mod:`mixtheory.geometry`): the ledger's searches work on numpy vectors.

>>> bool(np.allclose(softmax_hessian(np.zeros(2)), [[0.25, -0.25], [-0.25, 0.25]]))
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..data import load_digits
from ..geometry import MixupGeometry
from ..laws import SymmetricBeta
from ..losses import CrossEntropy
from ..models import build_model
from .claims import jsonable

__all__ = [
    "softmax",
    "softmax_hessian",
    "softmax_hessian_pinv",
    "lemma2_blocks",
    "random_instance",
    "instance_blocks",
    "store",
    "entropy",
    "bounded_logits",
    "order_decision",
    "toy_data",
    "toy_model",
    "ALPHAS",
]

_CE = CrossEntropy()


def softmax(u: np.ndarray) -> np.ndarray:
    """S(u) for a vector of logits."""
    return torch.softmax(torch.as_tensor(u, dtype=torch.float64), -1).numpy()


def softmax_hessian(u: np.ndarray) -> np.ndarray:
    """H(u) = diag(S) − S Sᵀ (core CrossEntropy.hess_uu, diagonal S_k Σ_{j≠k} S_j so that
    saturated outputs do not round H to an indefinite matrix)."""
    uu = torch.as_tensor(u, dtype=torch.float64)[None]
    return _CE.hess_uu(torch.zeros_like(uu), uu)[0].numpy()


def softmax_hessian_pinv(u: np.ndarray) -> np.ndarray:
    """H⁺ = P diag(1/S) P, P = I − 11ᵀ/c (core CrossEntropy.inverse_uu_apply; the exact
    Moore–Penrose inverse, proof softmax-hessian-singular)."""
    uu = torch.as_tensor(u, dtype=torch.float64)[None]
    eye = torch.eye(uu.shape[-1], dtype=torch.float64)[None]
    return _CE.inverse_uu_apply(torch.zeros_like(uu), uu, eye)[0].numpy()


_LOGIT_BOUND = 12.0


def bounded_logits(p: np.ndarray) -> np.ndarray:
    """Optimizer parameters → logits in (−12, 12): keeps S_k ≥ e^{−24}/c, away from underflow."""
    return _LOGIT_BOUND * np.tanh(np.asarray(p) / _LOGIT_BOUND)


def entropy(u: np.ndarray) -> float:
    """Shannon entropy (nats) of S(u)."""
    s = softmax(u)
    s = s[s > 0]
    return float(-(s * np.log(s)).sum())


def lemma2_blocks(
    X: np.ndarray, labels: np.ndarray, num_classes: int, alpha: float, i: int
) -> dict[str, np.ndarray]:
    r"""Σ^{(i)}_xx, Σ^{(i)}_xy, Σ^{(i)}_yy (Lemma 2), ỹ_i and K_i = Σ_yx Σ_xx⁺ Σ_xy for data X
    (n, d), integer ``labels`` (n,) one-hot encoded to ``num_classes``, λ ~ Beta(α, α), from the
    core :class:`~mixtheory.geometry.MixupGeometry`."""
    geo = MixupGeometry(
        np.asarray(X, dtype=np.float64),
        torch.as_tensor(np.asarray(labels, dtype=np.int64)),
        SymmetricBeta(alpha),
        num_classes=num_classes,
    )
    K = geo.projected_label_covariance([i])[0]
    return {
        "sigma_xx": geo.sigma_xx(i).numpy(),
        "sigma_xy": geo.sigma_xy(i).numpy(),
        "sigma_yy": geo.sigma_yy(i).numpy(),
        "K": (0.5 * (K + K.T)).numpy(),
        "y_tilde": geo.y_tilde[i].numpy(),
    }


#: the α values of random instances
ALPHAS = (0.2, 0.5, 1.0, 2.0, 8.0)


def random_instance(
    rng: np.random.Generator, *, c: int | None = None, d: int | None = None
) -> dict[str, Any]:
    """Small data set rounded to 2 decimals (so the stored instance is exactly what was tested):
    ``X`` (n, d), ``labels`` (n,), ``num_classes`` c, ``alpha``, a sample index ``i``, logits ``u`` (c,)."""
    c = int(rng.integers(2, 5)) if c is None else c
    d = int(rng.integers(2, 5)) if d is None else d
    n = int(rng.integers(d + 2, d + 8))
    scale = float(rng.choice([0.3, 1.0, 3.0]))
    X = np.round(rng.standard_normal((n, d)) * scale, 2)
    labels = rng.integers(0, c, size=n)
    labels[:c] = np.arange(c)  # every class present
    u = np.round(rng.standard_normal(c) * float(rng.choice([0.5, 2.0, 6.0])), 2)
    return {
        "X": X,
        "labels": labels,
        "num_classes": c,
        "alpha": float(rng.choice(ALPHAS)),
        "i": int(rng.integers(0, n)),
        "u": u,
    }


def instance_blocks(inst: dict[str, Any]) -> dict[str, np.ndarray]:
    """:func:`lemma2_blocks` of a :func:`random_instance`."""
    return lemma2_blocks(inst["X"], inst["labels"], inst["num_classes"], inst["alpha"], inst["i"])


def store(inst: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An instance (and extra numbers) as JSON-ready lists, for the evidence."""
    out = {k: jsonable(v) for k, v in inst.items()}
    out.update({k: jsonable(v) for k, v in extra.items()})
    return out


def order_decision(scales: list[float], errors: list[float], order: int) -> dict[str, Any]:
    r"""Accept or reject a remainder of order ``order`` from errors measured at several scales.

    Fit ``log|e| = b + p log s + c s`` (:func:`mixtheory.expansions.fit_remainder_order` with the
    first correction, ≥ 4 scales) and accept iff the fit's 99% interval ``p ± t_{0.995, dof} SE(p)``
    and every slope between consecutive scales (the error ratios as orders) lie inside
    ``(order − ½, order + ½)``. A fixed window on the plain slope alone let an O(s²) term pass as
    third order; the interval and the local slopes make the decision depend on how well the scales
    resolve the order.

    >>> s = [0.1 / 2**k for k in range(5)]
    >>> order_decision(s, [v**3 * (1 + 4 * v) for v in s], 3)["accepted"]
    True
    >>> order_decision(s, [v**3 + 0.05 * v**2 for v in s], 3)["accepted"]     # an s² term: rejected
    False
    """
    from scipy.stats import t as student_t

    from ..expansions.remainder import fit_remainder_order

    fit = fit_remainder_order(scales, errors, correction=True)
    half_width = float(student_t.ppf(0.995, fit.dof)) * fit.stderr
    low, high = fit.slope - half_width, fit.slope + half_width
    inside = [order - 0.5 < v < order + 0.5 for v in (low, high, *fit.local)]
    return {
        "order": order,
        "accepted": bool(all(inside)),
        "slope": fit.slope,
        "stderr": fit.stderr,
        "dof": fit.dof,
        "interval_99": [low, high],
        "local_slopes": list(fit.local),
        "scales": list(scales),
        "errors": list(errors),
    }


# --------------------------------------------------------------------------------------------
# Toy problems: the library's data and model builders
# --------------------------------------------------------------------------------------------
def toy_data(n: int, c: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` bundled digits (:func:`mixtheory.data.load_digits`, X: (n, 64) in float64) of the
    classes 0..c−1, drawn without replacement by ``seed``; every class present when n ≥ c."""
    X, y = load_digits()
    keep = torch.nonzero(y < c).flatten()
    order = keep[torch.randperm(keep.numel(), generator=torch.Generator().manual_seed(seed))]
    per_class = min(int((y[order] == k).sum()) for k in range(c))
    by_class = [order[y[order] == k][:per_class] for k in range(c)]
    picked = torch.stack(by_class, 1).flatten()[:n]  # round-robin over the classes
    if picked.numel() < n:
        raise ValueError(f"only {picked.numel()} digits of classes < {c}")
    return X[picked], y[picked]


def toy_model(
    d: int, c: int, seed: int, hidden: int = 6, weight_scale: float | None = None
) -> torch.nn.Module:
    """A one-hidden-layer tanh MLP d → hidden → c in float64 (:func:`mixtheory.models.build_model`).

    ``weight_scale`` rescales every weight matrix to standard deviation ``weight_scale/√fan_in``
    (the library's uniform initialization has ``1/√(3 fan_in)``): 2 makes the tanh units curve
    enough on the digits that third-order Taylor remainders dominate at moderate contractions.
    """
    model = build_model("mlp", d, c, "tanh", hidden=(hidden,), dtype=torch.float64, seed=seed)
    if weight_scale is not None:
        with torch.no_grad():
            for layer in model:
                if isinstance(layer, torch.nn.Linear):
                    layer.weight.mul_(weight_scale * math.sqrt(3.0))
    return model
