r"""Exact mask moments for any law of λ, continuous included.

A box side is a step function of λ (``⌊D√(1−λ)⌋`` jumps where ``D√(1−λ)`` is an integer), so
Gauss quadrature over λ converges only like 1/nodes for CutMix. Instead, λ is split at the
breakpoints where the geometry changes (``MaskKind.breakpoints``); on each piece ``[l, r)``
the box is fixed and the coefficients of ``1 − M = a + b u ⊗ v`` are affine in λ (CutMix:
constant; HMix ``"park2022"``: ``μ = λ / c`` with c the realised anchor area), so the moments of
the mask need only the law's partial moments ``m_k = E[λ^k; l ≤ λ < r]``, k ≤ 2:

``E[a] = a0 m0 + a1 m1``,  ``E[ab] = a0 b0 m0 + (a0 b1 + a1 b0) m1 + a1 b1 m2``, …

For λ = s + t·X, X ~ Beta(p, q) (Beta, SymmetricBeta, Uniform, and WShaped's two halves), these
are differences of the regularized incomplete beta function,
``E[X^k; X ∈ [x_l, x_r)] = B(p+k, q)/B(p, q) · (I_{x_r}(p+k, q) − I_{x_l}(p+k, q))``;
mixtures add their components; PointMass and Empirical are atoms evaluated where they sit.
The result is exact up to rounding (tests: 1e-12 against an mpmath enumeration).

Kinds whose coefficients are not affine in λ (GMix, HMix ``"nominal"``) and exact losses with
an HMix mask (the loss is not affine in μ) integrate each piece with a Gauss–Jacobi rule of the
restricted law (``num_nodes`` per piece, endpoint singularities of the density in the weight):
smooth integrands on each piece, so the error falls geometrically with the nodes rather than
like 1/nodes. Laws of other types (``FromDensity``) fall back to their own ``lambda_rule``.

Over the centres (uniform, independent of λ), with ``Ā = Σ_c E[a](c)/HW`` and so on,

``E[1 − M] = Ā 1 + (Uᵀ E[b] V)/HW``,
``E[(1−M)(1−M)ᵀ] = Σ_c E[a²] 11ᵀ + E[ab] (w 1ᵀ + 1 wᵀ) + E[b²] (u uᵀ) ⊗ (v vᵀ)``,

the last sum grouped by the distinct rows of E[b²] (one group when b does not depend on c).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import special

from .._types import Tensor
from ..laws import DEFAULT_NODES, Beta, Empirical, MixingLaw, Mixture, PointMass, WShaped
from .masks import MaskKind, check_image_size, mask_from_name

__all__ = [
    "law_parts",
    "lambda_terms",
    "moments",
    "mask_atoms",
    "mask_moments",
    "mask_mean",
    "BetaPart",
    "Term",
]


@dataclass(frozen=True)
class BetaPart:
    """λ = shift + scale·X with X ~ Beta(p, q), with probability ``weight``."""

    weight: float
    shift: float
    scale: float
    p: float
    q: float


def law_parts(law: MixingLaw) -> tuple[list[tuple[float, float]], list[BetaPart]] | None:
    """``(atoms [(λ, weight)], beta parts)`` of a law, or None for a type without this form."""
    if isinstance(law, PointMass):
        return [(law.value, 1.0)], []
    if isinstance(law, Empirical):
        n = law.samples.size
        return [(float(v), 1.0 / n) for v in law.samples], []
    if isinstance(law, Beta):
        return [], [BetaPart(1.0, 0.0, 1.0, law.a, law.b)]
    if isinstance(law, WShaped):
        a = law.alpha
        return [], [BetaPart(0.5, 0.0, 0.5, a, a), BetaPart(0.5, 0.5, 0.5, a, a)]
    if isinstance(law, Mixture):
        atoms, betas = [], []
        for comp, w in zip(law.components, law.weights.tolist()):
            parts = law_parts(comp)
            if parts is None:
                return None
            atoms += [(lam, w * p) for lam, p in parts[0]]
            betas += [BetaPart(w * b.weight, b.shift, b.scale, b.p, b.q) for b in parts[1]]
        return atoms, betas
    return None


def _x_interval(part: BetaPart, lo: float, hi: float) -> tuple[float, float]:
    return min(max((lo - part.shift) / part.scale, 0.0), 1.0), min(
        max((hi - part.shift) / part.scale, 0.0), 1.0
    )


def _mass(p: float, q: float, xl: float, xr: float) -> float:
    """P(xl ≤ X < xr) for X ~ Beta(p, q), from the tail that keeps the difference accurate."""
    if xl >= 0.5:
        return float(special.betaincc(p, q, xl) - special.betaincc(p, q, xr))
    return float(special.betainc(p, q, xr) - special.betainc(p, q, xl))


def partial_moments(part: BetaPart, lo: float, hi: float) -> tuple[float, float, float]:
    """``(E[1], E[λ], E[λ²])`` restricted to ``lo ≤ λ < hi``, times the part's weight."""
    xl, xr = _x_interval(part, lo, hi)
    if xr <= xl:
        return 0.0, 0.0, 0.0
    p, q, s, t = part.p, part.q, part.shift, part.scale
    P0 = _mass(p, q, xl, xr)
    P1 = p / (p + q) * _mass(p + 1.0, q, xl, xr)
    P2 = p / (p + q) * (p + 1.0) / (p + q + 1.0) * _mass(p + 2.0, q, xl, xr)
    w = part.weight
    return w * P0, w * (s * P0 + t * P1), w * (s * s * P0 + 2 * s * t * P1 + t * t * P2)


def piece_rule(part: BetaPart, lo: float, hi: float, num_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Jacobi nodes and weights of λ on ``[lo, hi)`` for one part: the density's endpoint
    factors ``x^{p−1}`` at x = 0 and ``(1−x)^{q−1}`` at x = 1 go into the Jacobi weight, the rest
    is smooth on the piece; the weights are rescaled to the exact mass of the piece."""
    xl, xr = _x_interval(part, lo, hi)
    if xr <= xl:
        return np.zeros(0), np.zeros(0)
    left = part.p - 1.0 if xl == 0.0 else 0.0
    right = part.q - 1.0 if xr == 1.0 else 0.0
    t, w = special.roots_jacobi(num_nodes, right, left)
    x = xl + (xr - xl) * 0.5 * (1.0 + t)
    log_rest = (0.0 if left else (part.p - 1.0) * np.log(x)) + (
        0.0 if right else (part.q - 1.0) * np.log1p(-x)
    )
    weights = w * np.exp(log_rest - np.max(log_rest))
    mass = part.weight * _mass(part.p, part.q, xl, xr)
    return part.shift + part.scale * x, weights * (mass / weights.sum())


@dataclass
class Term:
    """One λ piece (or atom): box geometry at ``at``, affine coefficients, λ's partial moments."""

    at: float
    a0: object
    a1: object
    b0: object
    b1: object
    U: Tensor
    V: Tensor
    m: tuple[float, float, float]


def _atom_term(kind: MaskKind, lam: float, weight: float, height: int, width: int, at: float | None = None):
    a, b, U, V = kind.profiles(lam, height, width, at=at)
    return Term(lam if at is None else at, a, 0.0, b, 0.0, U, V, (weight, weight * lam, weight * lam * lam))


def _affine(kind: MaskKind, at: float, height: int, width: int):
    try:
        return kind.affine_profiles(at, height, width)
    except NotImplementedError:
        return None


def lambda_terms(
    kind: MaskKind,
    height: int,
    width: int,
    law: MixingLaw,
    num_nodes: int = DEFAULT_NODES,
    *,
    constant_only=False,
) -> list[Term]:
    """The terms whose sum is the expectation over λ (module docstring). ``constant_only``:
    pieces whose coefficients vary with λ are integrated by :func:`piece_rule` (for exact losses)."""
    parts = law_parts(law)
    if parts is None:
        rule = law.lambda_rule(num_nodes)
        return [
            _atom_term(kind, lam, w, height, width)
            for lam, w in zip(rule.nodes.tolist(), rule.weights.tolist())
        ]
    atoms, betas = parts
    terms = [_atom_term(kind, lam, w, height, width) for lam, w in atoms if w > 0]
    if not betas:
        return terms
    edges = np.concatenate([[0.0], kind.breakpoints(height, width), [1.0]])
    for lo, hi in zip(edges[:-1].tolist(), edges[1:].tolist()):
        at = 0.5 * (lo + hi)
        affine = _affine(kind, at, height, width)
        if affine is not None and constant_only:
            a0, a1, b0, b1 = affine[:4]
            if not all(float(torch.as_tensor(c).abs().max()) == 0.0 for c in (a1, b1)):
                affine = None
        if affine is not None:
            m = np.sum([partial_moments(b, lo, hi) for b in betas], axis=0)
            if m[0] > 0:
                terms.append(Term(at, *affine, m=tuple(float(v) for v in m)))
            continue
        for part in betas:
            nodes, weights = piece_rule(part, lo, hi, num_nodes)
            terms += [
                _atom_term(kind, x, w, height, width, at) for x, w in zip(nodes.tolist(), weights.tolist())
            ]
    return terms


def _field(value, height: int, width: int) -> Tensor:
    return torch.as_tensor(value, dtype=torch.float64).expand(height, width)


def moments(
    kind: MaskKind,
    height: int,
    width: int,
    law: MixingLaw,
    num_nodes: int = DEFAULT_NODES,
    *,
    second: bool = True,
) -> tuple[Tensor, Tensor | None]:
    """``(E[M] (H, W), E[(1−M)(1−M)ᵀ] (HW, HW) or None)`` exactly (module docstring)."""
    size = height * width
    hole_mean = torch.zeros(height, width, dtype=torch.float64)
    hole_second = torch.zeros(size, size, dtype=torch.float64) if second else None
    for term in lambda_terms(kind, height, width, law, num_nodes):
        m0, m1, m2 = term.m
        a0, a1, b0, b1 = (_field(c, height, width) for c in (term.a0, term.a1, term.b0, term.b1))
        Ea, Eb = a0 * m0 + a1 * m1, b0 * m0 + b1 * m1
        hole_mean += Ea.mean() + term.U.T @ Eb @ term.V / size
        if not second:
            continue
        Eaa = a0 * a0 * m0 + 2 * a0 * a1 * m1 + a1 * a1 * m2
        Eab = a0 * b0 * m0 + (a0 * b1 + a1 * b0) * m1 + a1 * b1 * m2
        Ebb = b0 * b0 * m0 + 2 * b0 * b1 * m1 + b1 * b1 * m2
        cross = (term.U.T @ Eab @ term.V / size).reshape(-1)
        hole_second += Eaa.mean() + cross[:, None] + cross[None, :]
        hole_second += _box_second(term.U, term.V, Ebb) / size
    return 1.0 - hole_mean, hole_second


def _box_second(U: Tensor, V: Tensor, Ebb: Tensor) -> Tensor:
    """``Σ_c Ebb[c] (U_cy U_cyᵀ) ⊗ (V_cx V_cxᵀ)``, grouping centres' rows with equal Ebb rows."""
    rows, inverse = torch.unique(Ebb, dim=0, return_inverse=True)
    out = torch.zeros(U.shape[1] * V.shape[1], U.shape[1] * V.shape[1], dtype=torch.float64)
    for g in range(rows.shape[0]):
        Ug = U[inverse == g]
        out += torch.kron(Ug.T @ Ug, (V.T * rows[g]) @ V)
    return out


def mask_atoms(
    kind: MaskKind, height: int, width: int, law: MixingLaw, num_nodes: int = DEFAULT_NODES
) -> tuple[Tensor, Tensor, Tensor]:
    """``(weights (K,), masks (K, H, W), label_weights (K,))`` over λ terms × centres: masks
    constant on each term; uncorrected label weight E[λ | piece] (exact for losses linear in it)."""
    weights, masks, labels = [], [], []
    size = height * width
    for term in lambda_terms(kind, height, width, law, num_nodes, constant_only=True):
        m0, m1, _ = term.m
        a, b = _field(term.a0, height, width), _field(term.b0, height, width)
        hole = a[:, :, None, None] + b[:, :, None, None] * term.U[:, None, :, None] * term.V[None, :, None, :]
        m = (1.0 - hole).reshape(size, height, width)
        masks.append(m)
        weights.append(torch.full((size,), m0 / size, dtype=torch.float64))
        label = m.mean((1, 2)) if kind.correct_lambda else torch.full((size,), m1 / m0, dtype=torch.float64)
        labels.append(label)
    return torch.cat(weights), torch.cat(masks), torch.cat(labels)


def mask_moments(
    kind: str | MaskKind,
    height: int,
    width: int,
    law: MixingLaw,
    *,
    num_nodes: int = DEFAULT_NODES,
    **options,
) -> tuple[Tensor, Tensor]:
    r"""Exact ``(E[M] (H, W), E[(1−M)(1−M)ᵀ] (HW, HW))`` of the mask, M flattened row-major
    (centres enumerated, λ integrated piecewise: module docstring).

    ``kind``: ``"cutmix"``, ``"hmix"``, ``"gmix"`` (``options`` go to its constructor, e.g.
    ``border="wrap"``, ``convention="yun2019"``) or a :class:`MaskKind`.

    >>> from mixtheory import PointMass
    >>> mean, second = mask_moments("cutmix", 4, 6, PointMass(0.75), border="wrap")
    >>> bool(torch.allclose(mean, torch.full((4, 6), 0.75, dtype=torch.float64)))   # a 2 × 3 box on a torus
    True
    >>> bool(torch.allclose(torch.diagonal(second), 1 - mean.reshape(-1)))  # (1 − M)² = 1 − M
    True
    """
    kind = mask_from_name(kind, **options)
    height, width = check_image_size(height, width)
    return moments(kind, height, width, law, num_nodes, second=True)  # type: ignore[return-value]


def mask_mean(
    kind: str | MaskKind,
    height: int,
    width: int,
    law: MixingLaw,
    *,
    num_nodes: int = DEFAULT_NODES,
    **options,
) -> Tensor:
    r"""Exact ``E[M]`` (H, W) alone, for images too large for the (HW, HW) second moment of
    :func:`mask_moments`.

    >>> from mixtheory import Uniform
    >>> mean = mask_mean("cutmix", 32, 48, Uniform(), border="wrap")
    >>> float(mean.max() - mean.min()) < 1e-12         # on a torus E[M] is constant
    True
    """
    kind = mask_from_name(kind, **options)
    height, width = check_image_size(height, width)
    return moments(kind, height, width, law, num_nodes, second=False)[0]
