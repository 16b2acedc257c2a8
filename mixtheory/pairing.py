r"""Mixup with non-uniform partners ``π(j | i)``: the exact loss in both forms and how much a
restricted partner pool shrinks the regularizers. The second-order side needs nothing here: the one
:class:`~mixtheory.geometry.MixupGeometry` takes ``pairing=π``, and :func:`mixtheory.taylor_regularizers`,
the estimators and :func:`mixtheory.second_order_loss` (anchor weights ``p_i``) take that geometry.

**Theorem 1 for a pairing** (``docs/theory.md §8.1``). With anchors uniform and partners from
``π(j | i)``, the mixup loss is, by definition (the *unfolded* form),

.. math::

    E_π(f) = \frac1n \sum_{i,j} π(j|i)\, E_λ\, m_{ij}(λ), \qquad
    m_{ij}(λ) = ℓ(λ y_i + (1−λ) y_j, f(λ x_i + (1−λ) x_j)).

Since ``m_ij(λ) = m_ji(1 − λ)``, split λ at ½ and rename (i, j) → (j, i) on {λ < ½}. When λ's law
is symmetric about ½ (density p(θ) = p(1 − θ)) both halves carry the folded θ law, and

.. math::

    E_π(f) = \sum_{i,j} P(i, j)\, E_θ\, m_{ij}(θ), \qquad P(i, j) = \frac{π(j|i) + π(i|j)}{2n},

the *folded* form (θ = max(λ, 1 − λ)). Writing ``P(i, j) = p_i Q(j|i)`` with
``p_i = Σ_j P(i, j) = (1 + Σ_j π(i|j))/(2n)`` and centring at
``x̃_i = E_{θ, j∼Q}[θ x_i + (1−θ) x_j] = θ̄ x_i + (1 − θ̄) μ_i`` gives

.. math::

    E_π(f) = \sum_i p_i\, E_{θ, j∼Q(·|i)}\, ℓ(ỹ_i + ε_i, f(x̃_i + δ_i)),

``δ_i = (θ − θ̄)(x_i − μ_i) + (1 − θ)(x_j − μ_i)``; θ ⊥ j and ``E_j(x_j − μ_i) = 0`` give
``Σ^(i)_xx = σ²(x_i − μ_i)(x_i − μ_i)ᵀ + γ² C_i`` (``MixupGeometry(X, Y, law, pairing=π)``).
Expanding to second order exactly as in ``docs/theory.md §4`` (the expansion point does not depend on
(θ, j), so first-order terms vanish) gives

.. math::

    E_Q(f) = \sum_i p_i \big[ℓ(ỹ_i, f(x̃_i)) + R_{13} + R_2 + R_4\big]

with ``R`` the formulas of Theorem 3 at the per-anchor ``Σ^(i)``; the remainder is O(s³) under a
joint contraction (``docs/theory.md §6.3``, tested in ``tests/test_pairing.py``).

For an asymmetric λ law the weight of (i, j, θ) is ``P'(i,j) p(θ) + P'(j,i) p(1 − θ)`` with
``P'(i, j) = π(j|i)/n``, which does not factor: the folded functions here refuse such laws
(the unfolded form needs no symmetry).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Literal

import torch

from ._types import ArrayLike, Tensor
from ._validation import (
    as_labels,
    as_tensor,
    labels_for_model,
)
from .exact_loss import LossOptions, chunk_units, exact_mixup_loss, exact_sum, loss_options, pair_list_blocks
from .expansions.second_order import CARRATINO_TERMS, second_order_from_terms
from .geometry import MixupGeometry, as_partner_law, is_uniform_with_self, require_symmetric_lambda
from .laws import MixingLaw
from .losses import Loss, get_loss
from .mixing.expected_loss import exact_loss_for_rule
from .mixing.partners import HardPool, PartnerLaw
from .regularizers import CancellationWarning, model_derivatives, regularizers_from_derivatives

__all__ = [
    "symmetrised_pair_law",
    "exact_mixup_loss_with_pairing",
    "pool_shrinkage",
]

Form = Literal["folded", "unfolded"]


def symmetrised_pair_law(pairing: PartnerLaw | ArrayLike, n: int) -> Tensor:
    r"""``P(i, j) = (π(j|i) + π(i|j))/(2n)`` (n, n), float64: the folded pair law (sums to 1).

    ``pairing``: a :class:`~mixtheory.mixing.PartnerLaw` or an n×n row-stochastic tensor.

    >>> P = symmetrised_pair_law(torch.tensor([[0.0, 1.0], [0.5, 0.5]]), 2)
    >>> P.tolist(), float(P.sum())
    ([[0.0, 0.375], [0.375, 0.25]], 1.0)
    """
    law = as_partner_law(pairing, n)
    Pi = law.dense().to(torch.float64)
    return (Pi + Pi.T) / (2 * n)


def exact_mixup_loss_with_pairing(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    *,
    pairing: PartnerLaw | ArrayLike | None,
    loss: str | Loss = "ce",
    form: Form = "folded",
    num_classes: int | None = None,
    options: LossOptions | None = None,
) -> float:
    r"""The exact mixup loss with partners from ``π(j | i)`` (module docstring).

    - ``form="unfolded"``: ``(1/n) Σ_i Σ_j π(j|i) E_λ m_ij(λ)``, the definition, by
      :func:`mixtheory.mixing.exact_loss_for_rule` (λ's own quadrature rule, any law).
    - ``form="folded"``: ``Σ_{i,j} P(i, j) E_θ m_ij(θ)`` with the symmetrised pair law and θ's
      rule (λ must be symmetric about ½), by :func:`mixtheory.exact_loss.exact_sum` over
      :func:`mixtheory.exact_loss.pair_list_blocks`. Cost: (pairs with P > 0) × nodes model calls.

    ``pairing=None`` or ``UniformPartner(n)`` (self included) is
    :func:`mixtheory.exact_loss.exact_mixup_loss` itself.

    Args:
        model: (batch, *input_shape) → (batch, c). X: (n, d) or (n, *input_shape);
            Y: (n, c) labels or (n,) class indices. law: λ's law. pairing: a PartnerLaw or an n×n
            row-stochastic tensor. options: :class:`~mixtheory.exact_loss.LossOptions`; its
            ``chunk_size`` counts pairs in the folded form (default 4096), and is the functions'
            above otherwise.

    >>> import torch
    >>> from mixtheory import SymmetricBeta
    >>> from mixtheory.mixing import KNearest
    >>> g = torch.Generator().manual_seed(0)
    >>> X, Y = torch.randn(8, 2, generator=g, dtype=torch.float64), torch.arange(8) % 2
    >>> W = torch.randn(2, 2, generator=g, dtype=torch.float64)
    >>> model = lambda x: torch.tanh(x @ W)
    >>> knn = KNearest(X, 2)
    >>> law = SymmetricBeta(0.5)
    >>> folded = exact_mixup_loss_with_pairing(model, X, Y, law, pairing=knn)
    >>> unfolded = exact_mixup_loss_with_pairing(model, X, Y, law, pairing=knn, form="unfolded")
    >>> abs(folded - unfolded) / folded < 1e-10
    True
    """
    if form not in ("folded", "unfolded"):
        raise ValueError(f"form must be 'folded' or 'unfolded', got {form!r}")
    options = loss_options(options)
    x = as_tensor("X", X, dtype=options.dtype, device=options.device)
    y = labels_for_model(model, x, Y, num_classes, x.dtype, x.device)
    n = x.shape[0]
    loss = get_loss(loss)
    if pairing is None or is_uniform_with_self(pairing):
        if pairing is not None and pairing.n != n:
            raise ValueError(f"the pairing is on {pairing.n} samples but X has {n}")
        return exact_mixup_loss(model, x, y, law, loss=loss, form=form, options=options)
    partner_law = as_partner_law(pairing, n)
    if form == "unfolded":
        pairs_options = dataclasses.replace(options, route="pairs")
        return exact_loss_for_rule(model, x, y, law, loss=loss, partner=partner_law, options=pairs_options)
    require_symmetric_lambda(law, "the folded form")
    P = symmetrised_pair_law(partner_law, n).to(x.device)
    anchor, partner = (P > 0).nonzero(as_tuple=True)
    pairs = (anchor, partner, P[anchor, partner])
    nodes, weights = law.theta_rule(options.num_nodes).to_torch(x.dtype, x.device)
    size = chunk_units(options.chunk_size, 1, 4096)
    blocks = pair_list_blocks(x, y, pairs, nodes, weights, size=size)
    steps = nodes.numel() * math.ceil(anchor.numel() / size)
    desc = "exact mixup loss (pairing)"
    total = exact_sum(
        model, blocks, loss, dtype=x.dtype, device=x.device, steps=steps, desc=desc, progress=options.progress
    )
    return float(total)


def _factor_form_regularizers(
    model: Callable[[Tensor], Tensor], geometry: MixupGeometry, loss: str | Loss, chunk_size: int = 256
) -> dict[str, Tensor]:
    """Per-anchor ``erm, R1, R2, R3, R4, R13`` with R13 through the factor of Σ^(i) for every row of
    the table (``r13_through="factor"``: the uniform row and the pools by the same arithmetic), from
    dense ``torch.func`` derivatives (small d)."""
    idx = geometry.sample_indices()
    parts = []
    for start in range(0, idx.numel(), chunk_size):
        chunk = idx[start : start + chunk_size]
        u, jac, T = model_derivatives(model, geometry, loss, chunk)
        parts.append(
            regularizers_from_derivatives(
                geometry, u, jac, loss, indices=chunk, hessian_contraction=T, warn=False, r13_through="factor"
            )
        )
    return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}


def pool_shrinkage(
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    scores: ArrayLike,
    *,
    etas: Sequence[float] = (1, 0.5, 0.2, 0.1, 0.05),
    model: Callable[[Tensor], Tensor] | None = None,
    loss: str | Loss = "ce",
    num_classes: int | None = None,
) -> list[dict[str, float]]:
    r"""How much a hard pool (partners uniform over the top-η fraction by ``scores``,
    :class:`~mixtheory.mixing.HardPool`) shrinks the mixup perturbations and regularizers.

    One row per η: ``eta``, ``pool_size``, ``trace`` = ``Σ_i p_i tr Σ^(i)_xx`` and ``trace_ratio``
    (to the uniform geometry, whose ``Σ_i tr Σ^(i)_xx / n = (σ² + γ²) tr Σ_xx``), ``trace_pool`` and
    ``trace_rest`` (the p-weighted mean over anchors in / outside the pool), ``weight_pool`` (their
    total weight Σ_{i∈pool} p_i); with a model also the p-weighted ``R1, R2, R3, R13`` and
    ``E_Q − erm`` (with ratios ``*_ratio`` to uniform). A first row ``eta = "uniform"`` is the
    paper's geometry. η = 1 is the uniform law computed through the paired route.

    Args:
        X: (n, d) or (n, *input_shape); Y: (n, c) or (n,) class indices; law: symmetric λ law;
        scores: (n,) (e.g. per-sample losses); etas: pool fractions in (0, 1];
        model: optional, for the regularizers (dense input Hessians: small d).
    """
    x = as_tensor("X", X, dtype=torch.float64)
    if model is None:
        y = as_labels("Y", Y, x.shape[0], num_classes, x.dtype, x.device)
    else:
        y = labels_for_model(model, x, Y, num_classes, x.dtype, x.device)
    scores = torch.as_tensor(scores, dtype=torch.float64).reshape(-1)
    rows: list[dict[str, float]] = []
    geometries: list[tuple[object, MixupGeometry, Tensor | None]] = [
        ("uniform", MixupGeometry(x, y, law), None)
    ]
    for eta in etas:
        pool = HardPool(scores, float(eta))
        geometries.append((float(eta), MixupGeometry(x, y, law, pairing=pool), pool.in_pool))
    base: dict[str, float] = {}
    for eta, geo, in_pool in geometries:
        p = geo.anchor_weights
        traces = geo.trace_xx()
        row: dict[str, float] = {
            "eta": eta,
            "pool_size": int(in_pool.sum()) if in_pool is not None else geo.n,
        }
        row["trace"] = float((p * traces).sum())
        if in_pool is not None:
            w_pool = float(p[in_pool].sum())
            row["weight_pool"] = w_pool
            row["trace_pool"] = float((p * traces)[in_pool].sum() / w_pool) if w_pool > 0 else float("nan")
            rest = ~in_pool
            w_rest = float(p[rest].sum())
            row["trace_rest"] = float((p * traces)[rest].sum() / w_rest) if w_rest > 0 else float("nan")
        if model is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CancellationWarning)
                regs = _factor_form_regularizers(model, geo, loss)
            for key in ("R1", "R2", "R3", "R13"):
                row[key] = float((p * regs[key]).sum())
            row["E_Q-erm"] = second_order_from_terms(regs, CARRATINO_TERMS[1:], weights=p)
        if not base:
            base = dict(row)
        for key in ("trace", "R1", "R2", "R3", "R13", "E_Q-erm"):
            if key in row:
                row[f"{key}_ratio"] = row[key] / base[key] if base[key] != 0 else float("nan")
        rows.append(row)
    return rows
