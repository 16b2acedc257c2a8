r"""One mixup sampler: λ at three granularities, five kinds of partner rule, optional masks.

Notation: ``L(i, j) = E_λ ℓ(λ y_i + (1−λ) y_j, f(λ x_i + (1−λ) x_j))`` (for a mask, M and its label
weight replace λ), ``L(i, i) = ℓ(y_i, f(x_i))`` (a sample mixed with itself is itself, for every
λ and mask), ``E_mix = (1/n²) Σ_i Σ_j L(i, j)`` (Carratino et al., JMLR 2022, eq. (1)),
``E_ERM = (1/n) Σ_i L(i, i)``, and the mixup loss over distinct pairs

``E_≠ = (1/(n(n−1))) Σ_{i≠j} L(i, j) = (n E_mix − E_ERM) / (n − 1)``

(``Σ_{i≠j} = n² E_mix − n E_ERM``). The batch loss ``(1/n) Σ_i ℓ(ỹ_i, f(x̃_i))`` has, by
linearity, expectation ``(1/n) Σ_i Σ_j P(partner_i = j) L(i, j)``: only each anchor's marginal
partner law matters, not the joint law of the partners, and one λ per batch or one per pair
gives the same expectation (the variance differs). So on a batch of n samples in a given order:

- ``partner="uniform"``: j uniform over all n, self included ⇒ ``E_mix`` exactly.
- ``partner="permutation"``: a uniformly random permutation σ has ``P(σ(i) = j) = 1/n`` for
  every j, the fixed point j = i included ⇒ ``E_mix`` exactly as well (fixed points occur with
  probability 1/n each, precisely as often as uniform self-pairs).
- ``partner="flip"`` (timm: the reversed batch, ``j = n − 1 − i``) and ``partner="roll"``
  (torchvision: the batch shifted by one, ``j = i − 1 mod n``) are deterministic pairings:
  ``(1/n) Σ_i L(i, σ(i))``, which depends on the batch order.
- a :class:`~mixtheory.mixing.partners.PartnerLaw` ``π`` ⇒ ``(1/n) Σ_i Σ_j π(j|i) L(i, j)``.

In training the batch is a uniformly random ordered draw of b samples out of n without
replacement. The pair (anchor, partner) is then either a sample with itself (an ERM term) or a
uniformly random ordered pair of distinct samples, so every rule averages to

``s_b E_ERM + (1 − s_b) E_≠``,

with ``s_b`` the fraction of anchors paired with themselves: 1/b for uniform and permutation,
``(b mod 2)/b`` for flip (the middle of an odd batch), 0 for roll (1 when b = 1). For b = n the
uniform and permutation rules give ``E_mix`` again, and flip (even n) and roll give ``E_≠``,
not ``E_mix``: ``E_mix = E_≠ − (E_≠ − E_ERM)/n``, an O(1/n) bias that the correction
``(n E_mix − E_ERM)/(n − 1)`` removes. :func:`~mixtheory.mixing.expected_loss.exact_loss_for_rule`
computes each of these limits.

``per="element"`` draws one λ per input element (every pixel and channel, i.i.d. from the law),
``x̃ = Λ ⊙ x_i + (1 − Λ) ⊙ x_j``, with label weight the mean of Λ over the elements: a mask of
independent entries. Its limit is the same partner average of
``L_el(i, j) = E_Λ ℓ(Λ̄ y_i + (1 − Λ̄) y_j, f(Λ ⊙ x_i + (1 − Λ) ⊙ x_j))``, which is not ``E_mix``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from .._types import ArrayLike, Generator, Tensor
from .._validation import as_labels, as_tensor
from ..laws import MixingLaw
from .masks import MaskKind, mask_from_name, sample_masks
from .partners import PartnerLaw

__all__ = ["Per", "PartnerRule", "MixedBatch", "partner_indices", "mix", "mix_batch", "broadcast_mask"]

Per = Literal["batch", "pair", "element"]
PartnerRule = Literal["uniform", "permutation", "flip", "roll"]
PARTNER_RULES: tuple[str, ...] = ("uniform", "permutation", "flip", "roll")


@dataclass(frozen=True)
class MixedBatch:
    r"""A mixed batch. ``inputs``: (n, *input_shape); ``targets``: (n, c) soft labels;
    ``lam``: the λ drawn, () for ``per="batch"``, (n,) for ``"pair"``, (n, *input_shape) for
    ``"element"``; ``label_weight``: (n,) the weight of each anchor's own label (λ, the mean of
    Λ, or a mask's area); ``partner``: (n,) partner indices; ``mask``: (1 or n, H, W) or None."""

    inputs: Tensor
    targets: Tensor
    lam: Tensor
    label_weight: Tensor
    partner: Tensor
    mask: Tensor | None = None


def mix_batch(
    x: Tensor, y: Tensor, lam: Tensor, partner: Tensor, *, y_lam: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """``(λ x + (1 − λ) x[partner], λ y + (1 − λ) y[partner])``: the one mixup batch construction.

    ``lam`` broadcasts against ``x`` (e.g. (n, 1) for flat inputs, (1, 1, 1, 1) for one λ per
    image batch); ``y_lam`` (default ``lam``) against the (n, c) labels."""
    y_lam = lam if y_lam is None else y_lam
    return lam * x + (1 - lam) * x[partner], y_lam * y + (1 - y_lam) * y[partner]


def partner_indices(partner: PartnerRule | PartnerLaw, n: int, generator: Generator = None) -> Tensor:
    """Partner index per anchor (n,) under a rule or a partner law (module docstring).

    >>> partner_indices("flip", 4).tolist(), partner_indices("roll", 4).tolist()
    ([3, 2, 1, 0], [3, 0, 1, 2])
    """
    if isinstance(partner, PartnerLaw):
        if partner.n != n:
            raise ValueError(f"the partner law is on {partner.n} samples but the batch has {n}")
        return partner.sample(torch.arange(n), generator)
    if partner == "uniform":
        return torch.randint(n, (n,), generator=generator)
    if partner == "permutation":
        return torch.randperm(n, generator=generator)
    if partner == "flip":
        return torch.arange(n - 1, -1, -1)
    if partner == "roll":
        return (torch.arange(n) - 1) % n
    raise ValueError(f"partner must be one of {PARTNER_RULES} or a PartnerLaw, got {partner!r}")


def broadcast_mask(mask: Tensor, input_ndim: int) -> Tensor:
    """(m, H, W) masks reshaped to broadcast against (n, *input_shape) inputs whose last two
    dimensions are H and W: (m, 1, …, 1, H, W)."""
    if input_ndim < 3:
        raise ValueError("masks need inputs with at least two spatial dimensions: (n, [C,] H, W)")
    return mask.reshape(mask.shape[0], *([1] * (input_ndim - 3)), *mask.shape[1:])


def _draw_weights(law, per, shape, mask, generator, dtype, device):
    """(λ drawn, λ broadcast against the inputs, label weights (n,), masks or None)."""
    n, input_shape = shape[0], shape[1:]
    if per == "element":
        if mask is not None:
            raise ValueError("per='element' is itself a mask of independent entries; give no mask")
        lam = law.sample_lambda((n, *input_shape), generator).to(dtype).to(device)
        return lam, lam, lam.reshape(n, -1).mean(1), None
    if per not in ("batch", "pair"):
        raise ValueError(f"per must be 'batch', 'pair' or 'element', got {per!r}")
    count = 1 if per == "batch" else n
    lam = law.sample_lambda(count, generator).to(dtype).to(device)
    drawn = lam[0] if per == "batch" else lam
    if mask is None:
        return drawn, lam.reshape(count, *([1] * len(input_shape))), lam.expand(n), None
    if len(input_shape) < 2:
        raise ValueError(f"masks need inputs (n, [C,] H, W); got input shape {tuple(input_shape)}")
    masks, weight = sample_masks(mask, lam.cpu(), input_shape[-2], input_shape[-1], generator)
    masks = masks.to(dtype).to(device)
    return drawn, broadcast_mask(masks, len(shape)), weight.to(dtype).to(device).expand(n), masks


def mix(
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    *,
    per: Per = "batch",
    partner: PartnerRule | PartnerLaw = "uniform",
    generator: Generator = None,
    mask: MaskKind | str | None = None,
    num_classes: int | None = None,
) -> MixedBatch:
    r"""Mix a batch: ``x̃_i = λ x_i + (1 − λ) x_{j(i)}``, ``ỹ_i = λ y_i + (1 − λ) y_{j(i)}``
    through :func:`mix_batch` (module docstring for what each rule's average
    loss converges to).

    Args:
        X: (n, *input_shape) inputs (images (n, [C,] H, W) for masks, any H and W).
        Y: (n, c) label vectors or (n,) class indices (one-hot with ``num_classes`` columns).
        law: the law of λ.
        per: one λ for the batch, one per anchor (``"pair"``), or one per input element.
        partner: ``"uniform"`` (self included), ``"permutation"``, ``"flip"``, ``"roll"`` or a
            :class:`~mixtheory.mixing.partners.PartnerLaw` on the n samples.
        generator: the torch generator for λ, partners and mask positions.
        mask: ``"cutmix"``, ``"hmix"``, ``"gmix"`` or a :class:`~mixtheory.mixing.masks.MaskKind`:
            M replaces λ on the inputs and the mask's label weight replaces λ on the labels.

    >>> from mixtheory import PointMass
    >>> X, Y = torch.arange(4.0)[:, None], torch.arange(4)
    >>> out = mix(X, Y, PointMass(0.75), partner="flip")
    >>> out.inputs[:, 0].tolist(), out.targets[0].tolist()
    ([0.75, 1.25, 1.75, 2.25], [0.75, 0.0, 0.0, 0.25])
    """
    x = as_tensor("X", X)
    if not x.is_floating_point():
        x = x.to(torch.float64)
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"X must be (n, *input_shape) with n >= 1, got shape {tuple(x.shape)}")
    y = as_labels("Y", Y, x.shape[0], num_classes, x.dtype, x.device)
    if not isinstance(law, MixingLaw):
        raise TypeError(f"law must be a mixtheory law (e.g. SymmetricBeta(alpha)), got {type(law).__name__}")
    kind = None if mask is None else mask_from_name(mask)
    drawn, lam, label_weight, masks = _draw_weights(law, per, x.shape, kind, generator, x.dtype, x.device)
    j = partner_indices(partner, x.shape[0], generator).to(x.device)
    inputs, targets = mix_batch(x, y, lam, j, y_lam=label_weight[:, None])
    return MixedBatch(inputs, targets, drawn, label_weight, j, masks)
