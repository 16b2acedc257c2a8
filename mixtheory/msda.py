r"""Masked mixing (Mixup, CutMix, HMix, GMix) expanded around the anchor: the unified analysis of
Park, Yun, Chun (NeurIPS 2022) in the λ̃ form of Zhang et al. (ICLR 2021), ``docs/theory.md §8.2–8.3``.

**Setting.** ``x_mix = M ⊙ x_i + (1 − M) ⊙ x_j``, label ``w y_i + (1 − w) y_j`` with w = λ or the
realised area mean(M) (the mask's ``correct_lambda``), anchors and partners uniform (self included),
the pair independent of (λ, M); (w, M) may be dependent (they are: the box size is a function of λ).

**Re-anchoring (the λ̃ step, with a mask).** For ``ℓ(y, u) = h(u) − yᵀu`` the mixed label splits:
``ℓ(w y_i + (1−w) y_j, u) = w ℓ(y_i, u) + (1−w) ℓ(y_j, u)``. In the second part rename (i, j) → (j, i):
its point becomes ``M ⊙ x_j + (1 − M) ⊙ x_i = x_i + M ⊙ (x_j − x_i)``. Hence, exactly,

.. math::

    E_{msda}(f) = \frac1{n^2}\sum_{i,j} E_{H̃}\, ℓ\big(y_i, f(x_i + H̃ ⊙ (x_j − x_i))\big),

where the *hole* ``H̃`` (the partner's share) has the tilted law
``E g(H̃) = E_{λ,M}[w\, g(1 − M) + (1 − w)\, g(M)]``. For ``M = λ1``, w = λ this is
``H̃ = (1 − λ̃)1`` with Zhang's λ̃ (:mod:`mixtheory.zhang2021`).

**Expansion.** With ``v = x_j − x_i``, ``Δ = H̃ ⊙ v`` and derivatives at (y_i, f(x_i)),
``ℓ(y_i, f(x_i + Δ)) = ℓ + ℓ_uᵀ∇fΔ + ½[(∇fΔ)ᵀℓ_uu(∇fΔ) + Σ_k (ℓ_u)_k Δᵀ∇²f_kΔ] + O(‖Δ‖³)``. The pair
is independent of H̃, so ``E Δ = m̄ ⊙ (x̄ − x_i)`` and ``E ΔΔᵀ = W ⊙ M_i`` with

- ``m̄ = E H̃ = E[w(1 − M) + (1 − w) M]`` (d,), the per-pixel mixing rate,
- ``W = E H̃H̃ᵀ = E[w (1−M)(1−M)ᵀ + (1−w) M Mᵀ]`` (d, d), the pixel-pair weights,
- ``M_i = E_j v vᵀ = Σ_xx + a_i a_iᵀ`` (uncentred; a_i = x_i − x̄),

and per anchor

- ``R1 = ℓ_uᵀ ∇f(x_i) (m̄ ⊙ (x̄ − x_i))``,
- ``R2 = ½ ⟨W ⊙ M_i, ∇fᵀ ℓ_uu ∇f⟩``,
- ``R3 = ½ ⟨W ⊙ M_i, T_i⟩``, ``T_i = Σ_k (ℓ_u)_k ∇²f_k(x_i)``,

with ``E_msda = (1/n) Σ_i (ℓ(y_i, f(x_i)) + R1 + R2 + R3) + O(s³)`` under a contraction of the
inputs toward x̄ by s (labels are not perturbed in this form). Mixup gives ``m̄ = E(1−λ̃) 1``,
``W = E(1−λ̃)² 11ᵀ``: Zhang's terms. The moments are computed *jointly* over (λ, M) by enumerating
:func:`mixtheory.mixing.mask_atoms` (λ nodes × every centre): ``mask_moments`` gives the untilted
``E[(1−M)(1−M)ᵀ]``, which is the weight only when w ≡ 1.

Anchor-averaged pixel-pair weights: ``(1/n) Σ_i W ⊙ M_i = 2 W ⊙ Σ_xx``
(:func:`pixel_pair_weights`); :func:`weight_by_distance` reduces a (d, d) weight to its mean
per pixel distance ("CutMix regularises nearby pixels more", as numbers).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import torch

from ._types import ArrayLike, Indices, Tensor
from ._validation import prepare_flat_inputs
from .exact_loss import LossOptions, loss_options
from .expansions.second_order import ZHANG_TERMS, second_order_from_terms
from .laws import DEFAULT_NODES, MixingLaw
from .losses import Loss
from .regularizers import derivatives_at
from .zhang2021 import check_linear_in_label

__all__ = [
    "tilted_hole_moments",
    "masked_regularizers",
    "masked_second_order_loss",
    "exact_masked_loss",
    "pixel_pair_weights",
    "weight_by_distance",
]


def _image_shape(input_shape: tuple[int, ...]) -> tuple[int, int]:
    if len(input_shape) < 2:
        raise ValueError(f"masks need inputs (n, [C,] H, W); got input shape {tuple(input_shape)}")
    return input_shape[-2], input_shape[-1]


def tilted_hole_moments(
    law: MixingLaw,
    input_shape: tuple[int, ...],
    mask: ArrayLike | None = None,
    *,
    num_nodes: int = DEFAULT_NODES,
) -> tuple[Tensor, Tensor]:
    r"""``(m̄ (d,), W (d, d))``: the first two moments of the re-anchored hole H̃ (module docstring),
    ``m̄ = E[w(1−M) + (1−w)M]``, ``W = E[w(1−M)(1−M)ᵀ + (1−w)MMᵀ]``, over the joint law of (λ, M)
    (every mask centre × λ piecewise between the box-size breakpoints,
    :func:`~mixtheory.mixing.mask_exact.mask_atoms`: exact as :func:`exact_masked_loss` is). ``mask``: None
    (Mixup, M = λ1), a name
    (``"cutmix"``, ``"hmix"``, ``"gmix"``) or a :class:`~mixtheory.mixing.MaskKind`; the mask is
    broadcast over channels. ``input_shape``: (d,) for Mixup, ([C,] H, W) for masks; d its product.

    >>> from mixtheory import SymmetricBeta
    >>> mean, W = tilted_hole_moments(SymmetricBeta(1.0), (2, 3))          # Mixup: λ̃ moments
    >>> round(float(mean[0]), 12), round(float(W[0, 5]), 12)             # E(1−λ̃) = 1/3, E(1−λ̃)² = 1/6
    (0.333333333333, 0.166666666667)
    """
    from .mixing.mask_exact import mask_atoms
    from .mixing.masks import mask_from_name

    d = math.prod(input_shape)
    if mask is None:
        rule = law.lambda_rule(num_nodes)
        prob = torch.as_tensor(rule.weights, dtype=torch.float64)
        lam = torch.as_tensor(rule.nodes, dtype=torch.float64)
        masks, label = lam[:, None].expand(-1, d), lam
    else:
        height, width = _image_shape(input_shape)
        prob, masks, label = mask_atoms(mask_from_name(mask), height, width, law, num_nodes)
        masks = masks.reshape(-1, *([1] * (len(input_shape) - 2)), height, width)
        masks = masks.expand(-1, *input_shape).reshape(-1, d)
    hole = 1.0 - masks
    keep, swap = prob * label, prob * (1.0 - label)
    mean = keep @ hole + swap @ masks
    second = (hole * keep[:, None]).T @ hole + (masks * swap[:, None]).T @ masks
    return mean, second


def masked_regularizers(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    loss: str | Loss = "ce",
    *,
    mask: ArrayLike | None = None,
    indices: Indices = None,
    num_nodes: int = DEFAULT_NODES,
    num_classes: int | None = None,
) -> dict[str, Tensor]:
    r"""Per-anchor ``erm, R1, R2, R3`` (m,) of the masked-mixing expansion around x_i (module
    docstring). X: (n, [C,] H, W) for a mask, (n, d) or any shape for Mixup (mask=None);
    Y: (n, c) or (n,) class indices; loss affine in the label (cross-entropy, logistic).
    Dense d×d per anchor (the input Hessian): small images."""
    x, y, shape, loss = prepare_flat_inputs(model, X, Y, loss, num_classes)
    n, d = x.shape
    idx = torch.arange(n) if indices is None else torch.as_tensor(indices).long().reshape(-1)
    hole_mean, W = tilted_hole_moments(law, shape, mask, num_nodes=num_nodes)
    u, jac, T = derivatives_at(model, x[idx], y[idx], loss, input_shape=shape, hessian=True)
    check_linear_in_label(loss, y[idx], u)
    x_bar = x.mean(0)
    a = x - x_bar
    cov = a.T @ a / n
    shared = W * cov  # W ⊙ Σ_xx
    ai = a[idx]
    grad_u, hess_uu = loss.grad_u(y[idx], u), loss.hess_uu(y[idx], u)
    A = jac.transpose(1, 2) @ hess_uu @ jac  # ∇fᵀ ℓ_uu ∇f, (m, d, d)

    def pair_weighted(B: Tensor) -> Tensor:  # ⟨W ⊙ (Σ_xx + a aᵀ), B⟩ = ⟨W ⊙ Σ_xx, B⟩ + aᵀ (W ⊙ B) a
        return torch.einsum("de,mde->m", shared, B) + torch.einsum("md,mde,me->m", ai, W * B, ai)

    return {
        "erm": loss.value(y[idx], u),
        "R1": -(grad_u * (jac @ (hole_mean * ai)[:, :, None])[..., 0]).sum(-1),
        "R2": 0.5 * pair_weighted(A),
        "R3": 0.5 * pair_weighted(T),
    }


def masked_second_order_loss(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    loss: str | Loss = "ce",
    **options,
) -> float:
    r"""``(1/n) Σ_i (erm + R1 + R2 + R3)`` of :func:`masked_regularizers` (options are theirs)."""
    regs = masked_regularizers(model, X, Y, law, loss, **options)
    return second_order_from_terms(regs, ZHANG_TERMS)  # as zhang_second_order_loss


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


def pixel_pair_weights(
    X: ArrayLike, law: MixingLaw, mask: ArrayLike | None = None, *, num_nodes: int = DEFAULT_NODES
) -> dict[str, Tensor]:
    r"""Pixel-pair weight matrices of the second-order terms, averaged over anchors, as arrays a
    figure can draw. X: (n, [C,] H, W). Returns (d, d) tensors:

    - ``"mask"``: ``W = E[H̃H̃ᵀ]`` (the mask's own pair weights),
    - ``"data"``: ``(1/n) Σ_i M_i = 2 Σ_xx``,
    - ``"weights"``: ``(1/n) Σ_i W ⊙ M_i = 2 W ⊙ Σ_xx``, the matrix R2 and R3 contract with
      ∇fᵀℓ_uu∇f and T_i (on average over anchors);

    and ``"mean"``: ``m̄`` reshaped to the image (H, W)."""
    x = torch.as_tensor(X, dtype=torch.float64)
    shape = tuple(x.shape[1:])
    flat = x.reshape(x.shape[0], -1)
    a = flat - flat.mean(0)
    data = 2 * a.T @ a / flat.shape[0]
    mean, W = tilted_hole_moments(law, shape, mask, num_nodes=num_nodes)
    return {"mask": W, "data": data, "weights": W * data, "mean": mean.reshape(shape)}


def weight_by_distance(weights: Tensor, height: int, width: int) -> tuple[Tensor, Tensor]:
    r"""Mean of a (HW, HW) pixel-pair matrix over the pairs at each Euclidean pixel distance:
    ``(distances (K,), means (K,))``, distances ascending (0 is the diagonal). Single channel.

    >>> d, m = weight_by_distance(torch.ones(4, 4, dtype=torch.float64), 2, 2)
    >>> [round(float(v), 6) for v in d], m.tolist()
    ([0.0, 1.0, 1.414214], [1.0, 1.0, 1.0])
    """
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    pos = torch.stack([rows.reshape(-1), cols.reshape(-1)], 1).to(torch.float64)
    dist2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1).round().long()
    levels = torch.unique(dist2)
    means = torch.stack([weights[dist2 == k].mean() for k in levels])
    return levels.to(torch.float64).sqrt(), means
