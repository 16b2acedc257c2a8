r"""The exact loss of masked mixing (Mixup, CutMix, HMix, GMix): :func:`exact_masked_loss`, the
setting of Park, Yun, Chun (NeurIPS 2022), ``docs/theory.md §8.3``. Its expansion around the
anchor, the moments of the re-anchored hole and the pixel-pair weights are
:mod:`mixtheory.expansions.park2022`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ._types import ArrayLike, Tensor
from .exact_loss import LossOptions, loss_options
from .laws import MixingLaw
from .losses import Loss

__all__ = ["exact_masked_loss"]


def exact_masked_loss(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    *,
    loss: str | Loss = "ce",
    mask: ArrayLike | None = None,
    num_classes: int | None = None,
    options: LossOptions | None = None,
) -> float:
    r"""``(1/n²) Σ_{i,j} E_{λ,M} ℓ(w y_i + (1−w) y_j, f(M ⊙ x_i + (1 − M) ⊙ x_j))``: every
    partner × λ's nodes × every mask position (:func:`mixtheory.mixing.exact_loss_for_rule`,
    brute force; small images). mask=None is Mixup (λ per pair).

    Exact over partners and positions, and over λ through
    :func:`mixtheory.mixing.mask_exact.mask_atoms`: for CutMix under atoms, Beta laws and their
    mixtures, one atom per piece of λ between the breakpoints where the box side changes, with the
    piece's mass and mean λ (regularized incomplete beta), exact to rounding; HMix and GMix under a
    continuous law by Gauss–Jacobi on each piece (agrees with an mpmath enumeration to 1e-12);
    other law types (``FromDensity``) fall back to λ's quadrature, not exact for box masks.
    ``options``: :class:`~mixtheory.exact_loss.LossOptions` (its route is always the sum over pairs;
    ``chunk_size`` counts whole mask atoms × n anchors, default 256 atoms)."""
    from .mixing.expected_loss import exact_loss_for_rule

    pairs = dataclasses.replace(loss_options(options), route="pairs")
    rule = {"partner": "uniform", "per": "pair", "mask": mask}
    return exact_loss_for_rule(model, X, Y, law, loss=loss, **rule, num_classes=num_classes, options=pairs)
