r"""Mixing with the interfaces of timm and torchvision, drawing the same random numbers in the same
order, so that a seeded run gives the same batches and targets as those libraries.

- :class:`TimmMixup`: the arguments and behaviour of ``timm.data.Mixup`` (timm 1.0.31,
  ``timm/data/mixup.py``): ``mixup_alpha``, ``cutmix_alpha``, ``cutmix_minmax``, ``prob``,
  ``switch_prob``, ``mode`` (``"batch"``: one λ and one box for the batch; ``"pair"``: one λ and
  one box shared by samples i and n−1−i, each mixed with the other; ``"elem"``: one λ per
  sample), ``correct_lam``, ``label_smoothing``, ``num_classes``. Partners are the flipped batch
  (sample i with n−1−i); the random numbers come from numpy's global generator (``np.random``),
  as timm's do, so ``np.random.seed(s)`` before either gives the same result. The box is
  :class:`~mixtheory.mixing.CutMix` under ``convention`` (default ``"timm"``).
- :class:`TorchvisionMixUp`, :class:`TorchvisionCutMix`: ``transforms.v2.MixUp`` / ``CutMix``
  (torchvision 0.29): called on ``(images (n, C, H, W), labels (n,))``, partner the batch rolled by
  one, λ from ``torch.distributions.Beta`` and the box centre from ``torch.randint`` on torch's
  global generator, in torchvision's order.

Each object states the law it trains on (:meth:`TimmMixup.components`): a list of
``(probability, λ law, mask or None)`` whose exact losses (:func:`exact_loss_for_rule` per
component, weighted) give the expected loss of the setting.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .._types import Tensor
from ..laws import Beta, MixingLaw, PointMass
from .masks import CutMix

__all__ = ["TimmMixup", "TorchvisionMixUp", "TorchvisionCutMix", "smoothed_one_hot"]


def smoothed_one_hot(
    labels: Tensor, num_classes: int, smoothing: float, dtype: torch.dtype = torch.float32
) -> Tensor:
    """One-hot rows with label smoothing as timm: ``off = s/c`` everywhere, ``1 − s + off`` on the label."""
    off = smoothing / num_classes
    out = torch.full((labels.numel(), num_classes), off, dtype=dtype, device=labels.device)
    return out.scatter_(1, labels.long().view(-1, 1), 1.0 - smoothing + off)


def _box(shape, lam, minmax, correct_lam, convention):
    """(yl, yh, xl, xh), label weight: timm's box draws (centre row, then column) on np.random."""
    height, width = shape[-2:]
    if minmax is not None:
        cut_h = np.random.randint(int(height * minmax[0]), int(height * minmax[1]))  # noqa: NPY002
        cut_w = np.random.randint(int(width * minmax[0]), int(width * minmax[1]))  # noqa: NPY002
        yl = np.random.randint(0, height - cut_h + 1)  # noqa: NPY002
        xl = np.random.randint(0, width - cut_w + 1)  # noqa: NPY002
        yh, xh = yl + cut_h, xl + cut_w
    else:
        kind = CutMix(convention)
        cy, cx = np.random.randint(0, height), np.random.randint(0, width)  # noqa: NPY002
        (top, bottom), (left, right) = kind.segment(lam, height), kind.segment(lam, width)
        yl, yh = max(cy - top, 0), min(cy + bottom, height)
        xl, xh = max(cx - left, 0), min(cx + right, width)
    if correct_lam or minmax is not None:
        lam = 1.0 - (yh - yl) * (xh - xl) / float(height * width)
    return (yl, yh, xl, xh), lam


class TimmMixup:
    """timm's ``Mixup`` (module docstring); ``convention`` picks the CutMix box rule."""

    def __init__(
        self,
        mixup_alpha: float = 1.0,
        cutmix_alpha: float = 0.0,
        cutmix_minmax: tuple[float, float] | None = None,
        prob: float = 1.0,
        switch_prob: float = 0.5,
        mode: str = "batch",
        correct_lam: bool = True,
        label_smoothing: float = 0.1,
        num_classes: int = 1000,
        convention: str = "timm",
    ):
        if mode not in ("batch", "pair", "elem"):
            raise ValueError(f"mode must be 'batch', 'pair' or 'elem', got {mode!r}")
        if cutmix_minmax is not None and len(cutmix_minmax) != 2:
            raise ValueError("cutmix_minmax must be (min, max) fractions of the image side")
        if not (mixup_alpha > 0 or cutmix_alpha > 0 or cutmix_minmax is not None):
            raise ValueError("one of mixup_alpha > 0, cutmix_alpha > 0 or cutmix_minmax must be set")
        self.mixup_alpha, self.cutmix_alpha = float(mixup_alpha), float(cutmix_alpha)
        self.cutmix_minmax = cutmix_minmax
        if cutmix_minmax is not None:
            self.cutmix_alpha = 1.0  # as timm: minmax forces cutmix on
        self.mix_prob, self.switch_prob, self.mode = float(prob), float(switch_prob), mode
        self.correct_lam, self.label_smoothing = correct_lam, float(label_smoothing)
        self.num_classes, self.convention = int(num_classes), convention
        CutMix(convention)  # checks the name

    def _params_per_elem(self, n: int):
        both = self.mixup_alpha > 0 and self.cutmix_alpha > 0
        if both:
            use_cutmix = np.random.rand(n) < self.switch_prob  # noqa: NPY002
            lam_mix = np.where(
                use_cutmix,
                np.random.beta(self.cutmix_alpha, self.cutmix_alpha, size=n),  # noqa: NPY002
                np.random.beta(self.mixup_alpha, self.mixup_alpha, size=n),  # noqa: NPY002
            )
        else:
            alpha = self.mixup_alpha if self.mixup_alpha > 0 else self.cutmix_alpha
            use_cutmix = np.full(n, self.mixup_alpha <= 0, dtype=bool)
            lam_mix = np.random.beta(alpha, alpha, size=n)  # noqa: NPY002
        keep = np.random.rand(n) < self.mix_prob  # noqa: NPY002
        return np.where(keep, lam_mix.astype(np.float32), np.ones(n, dtype=np.float32)), use_cutmix

    def _params_per_batch(self):
        if not np.random.rand() < self.mix_prob:  # noqa: NPY002
            return 1.0, False
        if self.mixup_alpha > 0 and self.cutmix_alpha > 0:
            use_cutmix = bool(np.random.rand() < self.switch_prob)  # noqa: NPY002
            alpha = self.cutmix_alpha if use_cutmix else self.mixup_alpha
        else:
            use_cutmix = self.mixup_alpha <= 0
            alpha = self.cutmix_alpha if use_cutmix else self.mixup_alpha
        return float(np.random.beta(alpha, alpha)), use_cutmix  # noqa: NPY002

    def _mix_each(self, x: Tensor, count: int, both_ways: bool) -> np.ndarray:
        n = len(x)
        lam_batch, use_cutmix = self._params_per_elem(count)
        orig = x.clone()
        for i in range(count):
            j, lam = n - i - 1, lam_batch[i]
            if lam == 1.0:
                continue
            if use_cutmix[i]:
                (yl, yh, xl, xh), lam = _box(
                    x[i].shape, lam, self.cutmix_minmax, self.correct_lam, self.convention
                )
                x[i][:, yl:yh, xl:xh] = orig[j][:, yl:yh, xl:xh]
                if both_ways:
                    x[j][:, yl:yh, xl:xh] = orig[i][:, yl:yh, xl:xh]
                lam_batch[i] = lam
            else:
                x[i] = x[i] * lam + orig[j] * (1 - lam)
                if both_ways:
                    x[j] = x[j] * lam + orig[i] * (1 - lam)
        return np.concatenate((lam_batch, lam_batch[::-1])) if both_ways else lam_batch

    def __call__(self, x: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """Mix ``x`` (n, C, H, W) in place (as timm) and return it with the soft targets (n, c)."""
        if len(x) % 2 != 0:
            raise ValueError(f"the batch size must be even (timm's Mixup), got {len(x)}")
        if self.mode == "batch":
            lam, use_cutmix = self._params_per_batch()
            if lam != 1.0 and use_cutmix:
                (yl, yh, xl, xh), lam = _box(
                    x.shape, lam, self.cutmix_minmax, self.correct_lam, self.convention
                )
                x[:, :, yl:yh, xl:xh] = x.flip(0)[:, :, yl:yh, xl:xh]
            elif lam != 1.0:
                flipped = x.flip(0).mul_(1.0 - lam)
                x.mul_(lam).add_(flipped)
        else:
            lam_np = self._mix_each(x, len(x) // 2 if self.mode == "pair" else len(x), self.mode == "pair")
            lam = torch.tensor(lam_np, device=x.device, dtype=x.dtype).unsqueeze(1)
        y1 = smoothed_one_hot(target, self.num_classes, self.label_smoothing)
        return x, y1 * lam + y1.flip(0) * (1.0 - lam)

    def components(self) -> list[tuple[float, MixingLaw, CutMix | None]]:
        """``(probability, λ law, mask or None)`` of one mixed sample: no mixing with probability
        1 − prob, else CutMix (``switch_prob``) or mixup. ``cutmix_minmax`` draws no λ and is
        not covered (NotImplementedError)."""
        if self.cutmix_minmax is not None:
            raise NotImplementedError("cutmix_minmax boxes are not a CutMix(λ) mask law")
        p_cut = (
            self.switch_prob
            if self.mixup_alpha > 0 and self.cutmix_alpha > 0
            else float(self.mixup_alpha <= 0)
        )
        out: list[tuple[float, MixingLaw, CutMix | None]] = [(1.0 - self.mix_prob, PointMass(1.0), None)]
        if p_cut > 0:
            kind = CutMix(self.convention, correct_lambda=self.correct_lam)
            out.append((self.mix_prob * p_cut, Beta(self.cutmix_alpha, self.cutmix_alpha), kind))
        if p_cut < 1:
            out.append((self.mix_prob * (1 - p_cut), Beta(self.mixup_alpha, self.mixup_alpha), None))
        return [c for c in out if c[0] > 0]

    def expected_loss(
        self,
        model: Callable[[Tensor], Tensor],
        X: Tensor,
        labels: Tensor,
        *,
        batch_size: int | None = None,
        num_nodes: int = 96,
    ) -> float:
        r"""The exact expected cross-entropy this mixer trains on, ``Σ_k p_k L_k``: each component's
        exact limit (:func:`exact_loss_for_rule`, flipped partners, one λ per pair — the
        expectation is the same for timm's batch, pair and elem modes, which differ only in
        which draws are shared) on the label-smoothed targets. ``batch_size``: None for the batch
        (X, labels) in this order, b for uniformly random ordered batches of b."""
        from ..exact_loss import LossOptions
        from .expected_loss import exact_loss_for_rule

        Y = smoothed_one_hot(torch.as_tensor(labels), self.num_classes, self.label_smoothing, torch.float64)
        options = LossOptions(num_nodes=num_nodes)
        total = 0.0
        for prob, law, mask in self.components():
            rule = dict(partner="flip", per="batch", mask=mask, batch_size=batch_size)
            total += prob * exact_loss_for_rule(model, X, Y, law, **rule, options=options)
        return total


class _TorchvisionBase:
    def __init__(self, *, alpha: float = 1.0, num_classes: int):
        self.alpha, self.num_classes = float(alpha), int(num_classes)
        self._dist = torch.distributions.Beta(torch.tensor([alpha]), torch.tensor([alpha]))

    def components(self) -> list[tuple[float, MixingLaw, CutMix | None]]:
        """``[(1, Beta(α, α), mask or None)]``: always mixed, partner the batch rolled by one."""
        return [(1.0, Beta(self.alpha, self.alpha), CutMix("torchvision") if self._mask else None)]

    def expected_loss(
        self,
        model: Callable[[Tensor], Tensor],
        X: Tensor,
        labels: Tensor,
        *,
        batch_size: int | None = None,
        num_nodes: int = 96,
    ) -> float:
        """The exact expected cross-entropy this callable trains on (rolled partners)."""
        from ..exact_loss import LossOptions
        from .expected_loss import exact_loss_for_rule

        Y = smoothed_one_hot(torch.as_tensor(labels), self.num_classes, 0.0, torch.float64)
        _, law, mask = self.components()[0]
        rule = dict(partner="roll", per="batch", mask=mask, batch_size=batch_size)
        return exact_loss_for_rule(model, X, Y, law, **rule, options=LossOptions(num_nodes=num_nodes))

    def _labels(self, labels: Tensor, lam: float) -> Tensor:
        y = torch.nn.functional.one_hot(labels, num_classes=self.num_classes).float()
        return y.roll(1, 0).mul_(1.0 - lam).add_(y.mul(lam))


class TorchvisionMixUp(_TorchvisionBase):
    """``transforms.v2.MixUp(alpha, num_classes)`` (module docstring)."""

    _mask = False

    def __call__(self, images: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        lam = float(self._dist.sample(()))
        return images.roll(1, 0).mul_(1.0 - lam).add_(images.mul(lam)), self._labels(labels, lam)


class TorchvisionCutMix(_TorchvisionBase):
    """``transforms.v2.CutMix(alpha, num_classes)``: the ``"torchvision"`` box (module docstring)."""

    _mask = True

    def __call__(self, images: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        lam = float(self._dist.sample(()))
        height, width = images.shape[-2:]
        cx, cy = int(torch.randint(width, size=(1,))), int(torch.randint(height, size=(1,)))
        kind = CutMix("torchvision")
        mask = kind.mask(lam, cy, cx, height, width).to(images.dtype)
        out = images * mask + images.roll(1, 0) * (1 - mask)
        weight = float(1.0 - (1.0 - mask.double()).sum() / (width * height))
        if not math.isfinite(weight):
            raise RuntimeError("non-finite label weight")
        return out, self._labels(labels, weight)
