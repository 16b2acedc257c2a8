r"""Masked mixing (Mixup, CutMix, HMix, GMix) expanded around the anchor: the unified analysis of
Park, Yun, Chun (NeurIPS 2022) in the λ̃ form of Zhang et al. (ICLR 2021), ``docs/theory.md §8.2–8.3``.
The terms are Zhang et al.'s (:func:`~mixtheory.expansions.zhang2021.anchor_expansion`, written
once); this module gives them the moments of a mask (:class:`MaskHole`).

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
``H̃ = (1 − λ̃)1`` with Zhang's λ̃ (:mod:`mixtheory.expansions.zhang2021`). The exact loss is
:func:`mixtheory.msda.exact_masked_loss`.

**Expansion.** Zhang et al.'s, with the hole's moments

- ``m̄ = E H̃ = E[w(1 − M) + (1 − w) M]`` (d,), the per-pixel mixing rate,
- ``W = E H̃H̃ᵀ = E[w (1−M)(1−M)ᵀ + (1−w) M Mᵀ]`` (d, d), the pixel-pair weights,

so that, per anchor (M_i = Σ_xx + a_i a_iᵀ, a_i = x_i − x̄),

- ``first_order = ℓ_uᵀ ∇f(x_i) (m̄ ⊙ (x̄ − x_i))``,
- ``second_order_output = ½ ⟨W ⊙ M_i, ∇fᵀ ℓ_uu ∇f⟩``,
- ``second_order_input = ½ ⟨W ⊙ M_i, T_i⟩``, ``T_i = Σ_k (ℓ_u)_k ∇²f_k(x_i)``,

with ``E_msda = (1/n) Σ_i (anchor_loss + first_order + second_order_output + second_order_input) +
O(s³)`` under a contraction of the inputs toward x̄ by s (labels are not perturbed in this form).
Mixup gives ``m̄ = E(1−λ̃) 1``, ``W = E(1−λ̃)² 11ᵀ``: Zhang's moments. The moments are computed
*jointly* over (λ, M) by enumerating :func:`mixtheory.mixing.mask_atoms` (λ nodes × every centre):
``mask_moments`` gives the untilted ``E[(1−M)(1−M)ᵀ]``, which is the weight only when w ≡ 1.

Anchor-averaged pixel-pair weights: ``(1/n) Σ_i W ⊙ M_i = 2 W ⊙ Σ_xx``
(:func:`pixel_pair_weights`); :func:`weight_by_distance` reduces a (d, d) weight to its mean
per pixel distance ("CutMix regularises nearby pixels more", as numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .._types import ArrayLike, Indices, Tensor
from .._validation import prepare_flat_inputs
from ..laws import DEFAULT_NODES, MixingLaw
from ..losses import Loss
from ..mixing.mask_exact import mask_atoms
from ..mixing.masks import mask_from_name
from .terms import ExpansionTerms
from .zhang2021 import anchor_expansion

__all__ = [
    "MaskHole",
    "masked_expansion",
    "pixel_pair_weights",
    "tilted_hole_moments",
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
    :func:`~mixtheory.mixing.mask_exact.mask_atoms`: exact as
    :func:`~mixtheory.msda.exact_masked_loss` is). ``mask``: None (Mixup, M = λ1), a name
    (``"cutmix"``, ``"hmix"``, ``"gmix"``) or a :class:`~mixtheory.mixing.MaskKind`; the mask is
    broadcast over channels. ``input_shape``: (d,) for Mixup, ([C,] H, W) for masks; d its product.

    >>> from mixtheory import SymmetricBeta
    >>> mean, W = tilted_hole_moments(SymmetricBeta(1.0), (2, 3))          # Mixup: λ̃ moments
    >>> round(float(mean[0]), 12), round(float(W[0, 5]), 12)             # E(1−λ̃) = 1/3, E(1−λ̃)² = 1/6
    (0.333333333333, 0.166666666667)
    """
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


@dataclass(frozen=True)
class MaskHole:
    r"""A mask's hole H̃ for :func:`~mixtheory.expansions.zhang2021.anchor_expansion`: the moments
    ``m̄`` (d,) and ``W`` (d, d) of :func:`tilted_hole_moments` sit inside the contractions
    (coefficients 1), ``⟨W ⊙ M_i, B⟩ = ⟨W ⊙ Σ_xx, B⟩ + a_iᵀ (W ⊙ B) a_i``, with dense d × d
    ``∇fᵀ ℓ_uu ∇f`` per anchor (small images)."""

    mean: Tensor
    pair: Tensor
    centred_x: Tensor
    pair_cov: Tensor  # W ⊙ Σ_xx
    first: float = 1.0
    second: float = 1.0
    second_input: float = 1.0

    @classmethod
    def of(
        cls, x: Tensor, shape: tuple[int, ...], law: MixingLaw, mask: ArrayLike | None, num_nodes: int
    ) -> MaskHole:
        """The hole of (λ ~ ``law``, ``mask``) for flat inputs x (n, d) of per-sample ``shape``."""
        hole_mean, W = tilted_hole_moments(law, shape, mask, num_nodes=num_nodes)
        a = x - x.mean(0)
        cov = a.T @ a / x.shape[0]
        return cls(hole_mean, W, a, W * cov)

    def centred(self, idx: Tensor) -> Tensor:
        return self.centred_x[idx]

    def shifted_jacobian(self, jac: Tensor, a: Tensor) -> Tensor:
        return (jac @ (self.mean * a)[:, :, None])[..., 0]

    def _pair_weighted(self, B: Tensor, a: Tensor) -> Tensor:
        return torch.einsum("de,mde->m", self.pair_cov, B) + torch.einsum("md,mde,me->m", a, self.pair * B, a)

    def output_contraction(self, jac: Tensor, hess_uu: Tensor, a: Tensor) -> Tensor:
        return self._pair_weighted(jac.transpose(1, 2) @ hess_uu @ jac, a)  # ∇fᵀ ℓ_uu ∇f, (m, d, d)

    def input_contraction(self, T: Tensor, a: Tensor) -> Tensor:
        return self._pair_weighted(T, a)


def masked_expansion(
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
) -> ExpansionTerms:
    r"""Per-anchor ``anchor_loss``, ``first_order``, ``second_order_output``, ``second_order_input``
    (m,) of the masked-mixing expansion around x_i (module docstring); ``.loss()`` is the masked
    mixing loss to second order. X: (n, [C,] H, W) for a mask, (n, d) or any shape for Mixup
    (mask=None); Y: (n, c) or (n,) class indices; loss affine in the label (cross-entropy,
    logistic). Dense d×d per anchor (the input Hessian): small images."""
    inputs = prepare_flat_inputs(model, X, Y, loss, num_classes)
    hole = MaskHole.of(inputs[0], inputs[2], law, mask, num_nodes)
    return anchor_expansion(model, inputs, hole, indices, paper="park2022")


def pixel_pair_weights(
    X: ArrayLike, law: MixingLaw, mask: ArrayLike | None = None, *, num_nodes: int = DEFAULT_NODES
) -> dict[str, Tensor]:
    r"""Pixel-pair weight matrices of the second-order terms, averaged over anchors, as arrays a
    figure can draw. X: (n, [C,] H, W). Returns (d, d) tensors:

    - ``"mask"``: ``W = E[H̃H̃ᵀ]`` (the mask's own pair weights),
    - ``"data"``: ``(1/n) Σ_i M_i = 2 Σ_xx``,
    - ``"weights"``: ``(1/n) Σ_i W ⊙ M_i = 2 W ⊙ Σ_xx``, the matrix the second-order terms contract
      with ∇fᵀℓ_uu∇f and T_i (on average over anchors);

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
