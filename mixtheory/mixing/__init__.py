r"""Mixing as training does it, with the exact loss each rule converges to.

- :mod:`~mixtheory.mixing.sampler`: :func:`mix`, one sampler for λ per batch, per pair or per
  input element, with uniform, permutation, flip, roll or any partner law, and optional masks;
  its docstring derives the limit of each rule's average loss.
- :mod:`~mixtheory.mixing.expected_loss`: :func:`exact_loss_for_rule` (those limits, exactly) and
  :func:`sampled_loss_for_rule` (the sampler's average with its standard error).
- :mod:`~mixtheory.mixing.partners`: partner laws π(j | i) with their partner moments.
- :mod:`~mixtheory.mixing.masks`: CutMix, HMix, GMix masks under the conventions of timm,
  torchvision and the official codes, with ``mask(lam, cy, cx, H, W)``; their exact moments for
  any law of λ in :mod:`~mixtheory.mixing.mask_exact`.
- :mod:`~mixtheory.mixing.frontends`: timm's ``Mixup`` and torchvision's ``MixUp``/``CutMix``
  interfaces, same draws, with the exact expected loss of each setting.
- :mod:`~mixtheory.mixing.schedules`: λ and α schedules over epochs.
"""

from .expected_loss import (
    distinct_pairs_loss,
    erm_loss,
    exact_loss_for_rule,
    marginal_partner_law,
    mixing_atoms,
    sampled_loss_for_rule,
    self_pair_fraction,
)
from .frontends import TimmMixup, TorchvisionCutMix, TorchvisionMixUp
from .mask_exact import mask_atoms, mask_mean, mask_moments
from .masks import (
    CUTMIX_CONVENTIONS,
    CutMix,
    GMix,
    HMix,
    MaskKind,
    mask_from_name,
    sample_masks,
)
from .partners import (
    ClassConditional,
    DensePairing,
    FixedPairing,
    HardPool,
    KNearest,
    PartnerLaw,
    UniformPartner,
)
from .sampler import MixedBatch, PartnerRule, Per, mix, mix_batch, partner_indices
from .schedules import AlphaSchedule, LambdaSchedule, SineLambda, TanhLambda, schedule_moments

__all__ = [
    # the sampler
    "mix",
    "mix_batch",
    "MixedBatch",
    "Per",
    "PartnerRule",
    "partner_indices",
    # exact limits and sampled averages
    "exact_loss_for_rule",
    "sampled_loss_for_rule",
    "distinct_pairs_loss",
    "self_pair_fraction",
    "erm_loss",
    "marginal_partner_law",
    "mixing_atoms",
    # partner laws
    "PartnerLaw",
    "UniformPartner",
    "FixedPairing",
    "DensePairing",
    "ClassConditional",
    "HardPool",
    "KNearest",
    # masks
    "MaskKind",
    "CutMix",
    "HMix",
    "GMix",
    "mask_from_name",
    "sample_masks",
    "mask_atoms",
    "mask_mean",
    "mask_moments",
    "CUTMIX_CONVENTIONS",
    # front ends with timm's and torchvision's interfaces
    "TimmMixup",
    "TorchvisionMixUp",
    "TorchvisionCutMix",
    # schedules
    "LambdaSchedule",
    "SineLambda",
    "TanhLambda",
    "AlphaSchedule",
    "schedule_moments",
]
