r"""Mixing masks for images of any height and width: CutMix, HMix and GMix, sampled and in
moments (exact in the mask positions; over a continuous λ law a quadrature, error below).

A mask ``M`` (H, W) with entries in [0, 1] weights the anchor: ``x̃ = M ⊙ x_i + (1 − M) ⊙ x_j``
(broadcast over channels), and the label weight is either the realised anchor area
``mean(M)`` (``correct_lambda=True``, as Yun et al. correct λ after clipping the box) or the drawn
λ itself. Every kind here writes the partner's share as

``1 − M = a(λ) · 1 + b(λ) · u_{cy} ⊗ v_{cx}``

with the centre ``(cy, cx)`` uniform on the pixel grid, independent of λ, and row and column
profiles ``u_{cy}`` (H,) and ``v_{cx}`` (W,). That one form serves both sampling and the exact
moments, which factor over rows and columns:

``E[1 − M | λ] = a 1 + b ū ⊗ v̄``,
``E[(1−M)(1−M)ᵀ | λ] = a² 11ᵀ + a b (ū⊗v̄ 1ᵀ + 1 (ū⊗v̄)ᵀ) + b² E[u uᵀ] ⊗ E[v vᵀ]``

(bars: averages over the H centres, resp. W), then a sum over λ's quadrature nodes
(``law.lambda_rule``). Positions are enumerated exactly; over λ the rule is exact for laws
with atoms only (PointMass, Empirical and their mixtures). Box sides are rounded to whole pixels,
so for a continuous law the box size is a step function of λ and Gauss quadrature converges
only like 1/num_nodes there (GMix is smooth in λ and converges fast). Measured (largest entry error
relative to the largest entry, CutMix on 8×8 images with clipping: E[M] 2.4e-2, 3.1e-3, 5.6e-4 and
E[(1−M)(1−M)ᵀ] 4.1e-2, 5.2e-3, 9.5e-4 at 16, 96, 400 nodes under λ ~ Beta(1, 1); 8.4e-3, 1.0e-3, 4.2e-4
and 1.4e-2, 1.8e-3, 7.0e-4 under Beta(0.4, 0.4), against the λ integral done exactly piece by piece of
the box size):
the moments are exact in the positions, not in λ.

Kinds (Yun et al., "CutMix", ICCV 2019; Park, Yun, Chun, "A Unified Analysis of Mixed Sample
Data Augmentation", NeurIPS 2022):

- ``CutMix``: a box of ``h = ⌊H√(1−λ) + ½⌋`` by ``w = ⌊W√(1−λ) + ½⌋`` pixels centred at
  ``(cy, cx)``, rows ``cy − ⌊h/2⌋ … cy − ⌊h/2⌋ + h − 1``, holds the partner (``a = 0, b = 1``,
  u and v indicators). ``border="clip"`` cuts it at the image border (the box shrinks near a
  border, so E[M] is larger there); ``border="wrap"`` wraps it around (a torus), so every
  pixel is equally likely covered and ``E[M] = E[mean(M)] · 1`` exactly.
- ``HMix(ratio r)``: a box of nominal area fraction ``r(1 − λ)`` holds the partner, and every
  other pixel is mixed with anchor weight ``μ = λ / (1 − r(1 − λ))`` (so the nominal anchor
  share is λ): ``a = 1 − μ, b = μ``. r = 1 is CutMix, r = 0 mixup.
- ``GMix``: a Gaussian hole ``1 − M = exp(−((r−cy)² + (c−cx)²) / (2s²))`` with
  ``2π s² = (1 − λ) H W``, so the untruncated hole has area (1 − λ)HW (``a = 0, b = 1``, u and v
  Gaussian profiles; ``border="wrap"`` measures distances on the torus).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from .._types import Generator, Tensor
from ..laws import DEFAULT_NODES, MixingLaw

__all__ = [
    "MaskKind",
    "CutMix",
    "HMix",
    "GMix",
    "mask_from_name",
    "sample_masks",
    "mask_atoms",
    "mask_mean",
    "mask_moments",
]

Border = Literal["clip", "wrap"]


def _check_size(height: int, width: int) -> tuple[int, int]:
    if int(height) != height or int(width) != width or height < 1 or width < 1:
        raise ValueError(f"height and width must be positive integers, got {height!r}, {width!r}")
    return int(height), int(width)


def _box_profiles(size: int, side: int, border: Border) -> Tensor:
    """Indicator rows (size, size): row c is the set covered by a segment of ``side`` pixels whose
    centre is c (start ``c − ⌊side/2⌋``), clipped or wrapped."""
    centre = torch.arange(size)[:, None]
    offset = torch.arange(side)[None, :] - side // 2
    pos = centre + offset  # (size, side)
    out = torch.zeros(size, size, dtype=torch.float64)
    if border == "wrap":
        out.scatter_(1, pos % size, 1.0)
    else:
        # out-of-image positions add 0 at the clamped index (scatter_add: no write races)
        keep = (pos >= 0) & (pos < size)
        out.scatter_add_(1, pos.clamp(0, size - 1), keep.to(torch.float64))
    return out


def _check_border(border: str) -> Border:
    if border not in ("clip", "wrap"):
        raise ValueError(f"border must be 'clip' or 'wrap', got {border!r}")
    return border  # type: ignore[return-value]


@dataclass(frozen=True)
class MaskKind:
    r"""Base: a mask law given λ, as ``(a, b, U, V)`` with ``1 − M = a + b U[cy] ⊗ V[cx]``
    (module docstring). ``correct_lambda``: label weight ``mean(M)`` instead of λ."""

    border: Border = "clip"
    correct_lambda: bool = True

    def __post_init__(self) -> None:
        _check_border(self.border)

    def profiles(self, lam: float, height: int, width: int) -> tuple[float, float, Tensor, Tensor]:
        """``(a, b, U (H, H), V (W, W))``: row cy of U is the row profile of centre cy."""
        raise NotImplementedError

    def name(self) -> str:
        return type(self).__name__


def _box_sides(fraction: float, height: int, width: int) -> tuple[int, int]:
    """Sides ``⌊H√f + ½⌋, ⌊W√f + ½⌋`` of a box of nominal area fraction f."""
    root = math.sqrt(min(max(fraction, 0.0), 1.0))
    return int(math.floor(height * root + 0.5)), int(math.floor(width * root + 0.5))


@dataclass(frozen=True)
class CutMix(MaskKind):
    r"""The CutMix box of area fraction ≈ 1 − λ (module docstring).

    >>> a, b, U, V = CutMix().profiles(0.75, 4, 6)     # a 2 × 3 box
    >>> (a, b, U[0].tolist(), V[5].tolist())            # clipped at the borders
    (0.0, 1.0, [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0, 1.0])
    """

    def profiles(self, lam: float, height: int, width: int) -> tuple[float, float, Tensor, Tensor]:
        h, w = _box_sides(1.0 - lam, height, width)
        return 0.0, 1.0, _box_profiles(height, h, self.border), _box_profiles(width, w, self.border)


@dataclass(frozen=True)
class HMix(MaskKind):
    r"""A box of nominal area fraction ``ratio·(1 − λ)`` plus mixup with anchor weight
    ``μ = λ / (1 − ratio (1 − λ))`` elsewhere (module docstring).

    >>> a, b, U, V = HMix(ratio=0.5).profiles(0.5, 4, 4)   # box 2 × 2 (area 1/4), μ = 2/3
    >>> round(a, 12), round(b, 12), int(U[1].sum()), int(V[1].sum())
    (0.333333333333, 0.666666666667, 2, 2)
    """

    ratio: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= float(self.ratio) <= 1.0:
            raise ValueError(f"ratio must lie in [0, 1], got {self.ratio!r}")

    def profiles(self, lam: float, height: int, width: int) -> tuple[float, float, Tensor, Tensor]:
        fraction = self.ratio * (1.0 - lam)
        mu = 1.0 if fraction >= 1.0 else lam / (1.0 - fraction)
        h, w = _box_sides(fraction, height, width)
        return (1.0 - mu, mu, _box_profiles(height, h, self.border), _box_profiles(width, w, self.border))


def _gauss_profiles(size: int, scale: float, border: Border) -> Tensor:
    pos = torch.arange(size, dtype=torch.float64)
    diff = (pos[None, :] - pos[:, None]).abs()
    if border == "wrap":
        diff = torch.minimum(diff, size - diff)
    if scale == 0.0:  # λ = 1: no hole
        return torch.zeros(size, size, dtype=torch.float64)
    return torch.exp(-(diff**2) / (2.0 * scale**2))


@dataclass(frozen=True)
class GMix(MaskKind):
    r"""A Gaussian hole of scale ``s = √((1 − λ) H W / (2π))`` (module docstring).

    >>> a, b, U, V = GMix().profiles(0.5, 3, 5)
    >>> float(U[1, 1]), bool(U[0, 2] < U[0, 1] < 1)
    (1.0, True)
    """

    def profiles(self, lam: float, height: int, width: int) -> tuple[float, float, Tensor, Tensor]:
        scale = math.sqrt(max(1.0 - lam, 0.0) * height * width / (2.0 * math.pi))
        rows, cols = _gauss_profiles(height, scale, self.border), _gauss_profiles(width, scale, self.border)
        return 0.0, 1.0, rows, cols


def mask_from_name(kind: str | MaskKind, **options) -> MaskKind:
    """``"cutmix"``, ``"hmix"`` or ``"gmix"`` with their options, or a :class:`MaskKind` as is."""
    if isinstance(kind, MaskKind):
        if options:
            raise TypeError("options are for a mask given by name; set them on the MaskKind instead")
        return kind
    kinds = {"cutmix": CutMix, "hmix": HMix, "gmix": GMix}
    if not isinstance(kind, str) or kind.lower() not in kinds:
        raise ValueError(f"kind must be one of {sorted(kinds)} or a MaskKind, got {kind!r}")
    return kinds[kind.lower()](**options)


def sample_masks(
    kind: MaskKind, lam: Tensor, height: int, width: int, generator: Generator = None
) -> tuple[Tensor, Tensor]:
    r"""One mask per λ: ``(M (m, H, W), label_weight (m,))`` with the centre uniform on the grid.

    ``lam``: (m,) values in [0, 1]. The label weight is ``mean(M)`` when ``kind.correct_lambda``,
    λ otherwise.

    >>> M, weight = sample_masks(CutMix(), torch.tensor([0.75]), 4, 6, torch.Generator().manual_seed(0))
    >>> M.shape, float(weight[0]) == 1 - float((1 - M).sum()) / 24
    (torch.Size([1, 4, 6]), True)
    """
    height, width = _check_size(height, width)
    lam = torch.as_tensor(lam, dtype=torch.float64).reshape(-1)
    cy = torch.randint(height, lam.shape, generator=generator)
    cx = torch.randint(width, lam.shape, generator=generator)
    masks = torch.empty(lam.numel(), height, width, dtype=torch.float64)
    for k, value in enumerate(lam.tolist()):
        a, b, U, V = kind.profiles(value, height, width)
        masks[k] = 1.0 - (a + b * U[cy[k], :, None] * V[cx[k], None, :])
    weight = masks.mean((1, 2)) if kind.correct_lambda else lam.clone()
    return masks, weight


def mask_atoms(
    kind: MaskKind, height: int, width: int, law: MixingLaw, num_nodes: int = DEFAULT_NODES
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Every mask with its probability: ``(weights (K,), masks (K, H, W), label_weights (K,))``
    over the λ nodes of ``law.lambda_rule(num_nodes)`` times the H·W centres (K = nodes · H · W).
    For exact losses on small images; :func:`mask_moments` needs none of this."""
    height, width = _check_size(height, width)
    rule = law.lambda_rule(num_nodes)
    weights, masks, labels = [], [], []
    for lam, w in zip(rule.nodes.tolist(), rule.weights.tolist()):
        a, b, U, V = kind.profiles(lam, height, width)
        hole = a + b * U[:, None, :, None] * V[None, :, None, :]  # (cy, cx, H, W)
        m = (1.0 - hole).reshape(height * width, height, width)
        masks.append(m)
        weights.append(torch.full((height * width,), w / (height * width), dtype=torch.float64))
        labels.append(m.mean((1, 2)) if kind.correct_lambda else torch.full((height * width,), lam).double())
    return torch.cat(weights), torch.cat(masks), torch.cat(labels).to(torch.float64)


def mask_moments(
    kind: str | MaskKind,
    height: int,
    width: int,
    law: MixingLaw,
    *,
    num_nodes: int = DEFAULT_NODES,
    **options,
) -> tuple[Tensor, Tensor]:
    r"""``(E[M] (H, W), E[(1−M)(1−M)ᵀ] (HW, HW))`` of the mask, M flattened row-major: the centres
    enumerated exactly, λ by ``law.lambda_rule(num_nodes)``, exact for laws with atoms and a
    quadrature with error ~1/num_nodes for box masks under a continuous law (module docstring for
    the factored formula and the measured error). Cost ``num_nodes · H²W²``.

    ``kind``: ``"cutmix"``, ``"hmix"``, ``"gmix"`` (``options`` go to its constructor, e.g.
    ``border="wrap"``, ``ratio=0.5``) or a :class:`MaskKind`.

    >>> from mixtheory import PointMass
    >>> mean, second = mask_moments("cutmix", 4, 6, PointMass(0.75), border="wrap")
    >>> bool(torch.allclose(mean, torch.full((4, 6), 0.75, dtype=torch.float64)))   # a 2 × 3 box on a torus
    True
    >>> bool(torch.allclose(torch.diagonal(second), 1 - mean.reshape(-1)))  # (1 − M)² = 1 − M
    True
    """
    kind = mask_from_name(kind, **options)
    height, width = _check_size(height, width)
    rule = law.lambda_rule(num_nodes)
    size = height * width
    hole_mean = torch.zeros(size, dtype=torch.float64)
    hole_second = torch.zeros(size, size, dtype=torch.float64)
    ones = torch.ones(size, dtype=torch.float64)
    for lam, w in zip(rule.nodes.tolist(), rule.weights.tolist()):
        a, b, U, V = kind.profiles(lam, height, width)
        outer_mean = torch.outer(U.mean(0), V.mean(0)).reshape(-1)
        second = torch.kron(U.T @ U / height, V.T @ V / width)
        hole_mean += w * (a * ones + b * outer_mean)
        hole_second += w * (
            a * a * torch.outer(ones, ones)
            + a * b * (torch.outer(outer_mean, ones) + torch.outer(ones, outer_mean))
            + b * b * second
        )
    return (1.0 - hole_mean).reshape(height, width), hole_second


def mask_mean(
    kind: str | MaskKind,
    height: int,
    width: int,
    law: MixingLaw,
    *,
    num_nodes: int = DEFAULT_NODES,
    **options,
) -> Tensor:
    r"""``E[M]`` (H, W) alone, ``Σ_k w_k (1 − a_k − b_k ū_k ⊗ v̄_k)`` (exact in the positions, a
    quadrature over a continuous λ law as in :func:`mask_moments`): cost ``num_nodes · (H² + W²)``,
    for images too large for the (HW, HW) second moment of :func:`mask_moments`.

    >>> from mixtheory import Uniform
    >>> mean = mask_mean("cutmix", 32, 48, Uniform(), border="wrap")
    >>> float(mean.max() - mean.min()) < 1e-12         # on a torus E[M] is constant
    True
    """
    kind = mask_from_name(kind, **options)
    height, width = _check_size(height, width)
    rule = law.lambda_rule(num_nodes)
    hole = torch.zeros(height, width, dtype=torch.float64)
    for lam, w in zip(rule.nodes.tolist(), rule.weights.tolist()):
        a, b, U, V = kind.profiles(lam, height, width)
        hole += w * (a + b * torch.outer(U.mean(0), V.mean(0)))
    return 1.0 - hole


def lambda_mean(law: MixingLaw, num_nodes: int = DEFAULT_NODES) -> float:
    """E λ under ``law`` (what E[M] equals pixel by pixel when there is no clipping and no rounding)."""
    rule = law.lambda_rule(num_nodes)
    return float(np.sum(rule.weights * rule.nodes))
