r"""Mixing masks for images of any height and width: CutMix, HMix and GMix under the conventions of
the codes people train with, sampled, pixel by pixel at a given (λ, centre), and in exact moments.

A mask ``M`` (H, W) with entries in [0, 1] weights the anchor: ``x̃ = M ⊙ x_i + (1 − M) ⊙ x_j``
(broadcast over channels), and the label weight is either the realised anchor area
``mean(M)`` (``correct_lambda=True``, as every peer code does after clipping the box) or the drawn
λ itself. Every kind here writes the partner's share as

``1 − M = a(λ, c) · 1 + b(λ, c) · u_{cy} ⊗ v_{cx}``

with the centre ``c = (cy, cx)`` uniform on the pixel grid, independent of λ, and row and column
profiles ``u_{cy}`` (H,) and ``v_{cx}`` (W,). ``a`` and ``b`` are numbers for most kinds and depend
on the centre only for HMix under ``"park2022"`` (its μ follows the realised, clipped box). The
exact moments (:mod:`~mixtheory.mixing.mask_exact`: ``mask_moments``, ``mask_mean``) factor over
rows and columns; over λ they are exact for atoms and, for Beta laws and their mixtures, piecewise
between the breakpoints where a box side changes (``kind.breakpoints``).

Kinds (Yun et al., "CutMix", ICCV 2019; Park, Yun, Chun, "A Unified Analysis of Mixed Sample
Data Augmentation", NeurIPS 2022). ``convention`` names the code a mask reproduces:

- ``CutMix``: the partner fills a box; side ``s = ⌊D√(1−λ)⌋`` along an axis of D pixels, centre c:

  - ``"timm"`` (default; timm 1.0.31, ``timm/data/mixup.py::rand_bbox``): rows ``c − s//2`` to
    ``c + (s+1)//2`` (exclusive), the full side;
  - ``"timm_legacy"`` and ``"yun2019"`` (timm's GitHub code at version 1.0.29.dev0, commit aa4b585;
    the official CutMix code, clovaai/CutMix-PyTorch ``train.py::rand_bbox``): ``c − s//2`` to
    ``c + s//2``, so an odd side loses a pixel;
  - ``"torchvision"`` (transforms v2 ``CutMix.make_params``): half side ``h = ⌊½√(1−λ)·D⌋``,
    rows ``c − h`` to ``c + h``;
  - ``"rounded"`` (mixtheory before these conventions): ``s = ⌊D√(1−λ) + ½⌋``, rows ``c − s//2`` to
    ``c − s//2 + s``.

  The box is cut at the image border (``border="clip"``, every peer) or wrapped around
  (``border="wrap"``, a torus: E[M] is then constant over pixels).
- ``HMix(ratio r)``: a box of nominal area fraction ``r(1 − λ)`` holds the partner and every other
  pixel is mixed with anchor weight μ. ``"park2022"`` (default; naver-ai/hmix-gmix ``mixup.py``,
  ``hmix_bbox_and_lam`` and the "bug fixed" branch of ``Mixup._mix_batch``): side
  ``⌊D√(1−λ)√r⌋``, the ``yun2019`` box, ``μ = λ / (1 − |box|/HW)`` with the realised clipped box,
  so the label weight is exactly λ. ``"nominal"``: the rounded box and ``μ = λ / (1 − r(1 − λ))``.
- ``GMix``: a Gaussian blob ``g(p) = exp(−π |p − c|² / (t H W))`` of untruncated area t·HW.
  ``"park2022"`` (default; hmix-gmix ``gmix_gaussian_kernel``): for λ < 1/2 the anchor keeps a
  blob of area λ (``M = g`` with t = λ), for λ ≥ 1/2 the partner fills one of area 1 − λ, so the
  blob always carries the minority share (the official code supports square images only; here
  H·W replaces H²). ``"hole"``: always a partner blob of area 1 − λ.
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
    "check_image_size",
    "CutMix",
    "HMix",
    "GMix",
    "CUTMIX_CONVENTIONS",
    "mask_from_name",
    "sample_masks",
]

Border = Literal["clip", "wrap"]
Coefficient = float | Tensor
CUTMIX_CONVENTIONS = ("timm", "timm_legacy", "yun2019", "torchvision", "rounded")


def check_image_size(height: int, width: int) -> tuple[int, int]:
    if int(height) != height or int(width) != width or height < 1 or width < 1:
        raise ValueError(f"height and width must be positive integers, got {height!r}, {width!r}")
    return int(height), int(width)


def _check_lam(lam: float) -> float:
    lam = float(lam)
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must lie in [0, 1], got {lam!r}")
    return lam


def _box_profiles(size: int, left: int, right: int, border: Border) -> Tensor:
    """Indicator rows (size, size): row c covers ``c − left … c + right − 1``, clipped or wrapped."""
    centre = torch.arange(size)[:, None]
    offset = torch.arange(-left, right)[None, :]
    pos = centre + offset
    out = torch.zeros(size, size, dtype=torch.float64)
    if offset.numel() == 0:
        return out
    if border == "wrap":
        out.scatter_(1, pos % size, 1.0)
    else:
        keep = (pos >= 0) & (pos < size)
        out.scatter_add_(1, pos.clamp(0, size - 1), keep.to(torch.float64))
    return out


def _check_border(border: str) -> Border:
    if border not in ("clip", "wrap"):
        raise ValueError(f"border must be 'clip' or 'wrap', got {border!r}")
    return border  # type: ignore[return-value]


def _check_convention(kind: str, convention: str, allowed: tuple[str, ...]) -> None:
    if convention not in allowed:
        raise ValueError(f"{kind}: convention must be one of {list(allowed)}, got {convention!r}")


def _floor_breaks(sizes: tuple[int, ...], shift: float, scale: float) -> np.ndarray:
    """λ in (0, 1) where ``⌊scale·D·√(1−λ) + shift⌋`` changes for some D in sizes (root ∈ (0, 1))."""
    roots = [(k - shift) / (scale * d) for d in sizes for k in range(1, int(scale * d + shift) + 2)]
    lam = 1.0 - np.square(np.asarray(roots, dtype=np.float64))
    return np.unique(lam[(lam > 0.0) & (lam < 1.0)])


@dataclass(frozen=True)
class MaskKind:
    r"""Base: a mask law given λ, as ``(a, b, U, V)`` with ``1 − M = a + b U[cy] ⊗ V[cx]``
    (module docstring). ``correct_lambda``: label weight ``mean(M)`` instead of λ."""

    border: Border = "clip"
    correct_lambda: bool = True

    def __post_init__(self) -> None:
        _check_border(self.border)

    def profiles(
        self, lam: float, height: int, width: int, *, at: float | None = None
    ) -> tuple[Coefficient, Coefficient, Tensor, Tensor]:
        """``(a, b, U (H, H), V (W, W))``: row cy of U is the row profile of centre cy; a and b
        are numbers or (H, W) tensors indexed by the centre. ``at``: take the box geometry from
        this λ instead (the coefficients still follow ``lam``; used within one λ piece)."""
        raise NotImplementedError

    def affine_profiles(
        self, lam: float, height: int, width: int
    ) -> tuple[Coefficient, Coefficient, Coefficient, Coefficient, Tensor, Tensor]:
        """``(a0, a1, b0, b1, U, V)`` with ``a = a0 + a1 λ``, ``b = b0 + b1 λ`` on the λ piece
        holding ``lam`` (between consecutive :meth:`breakpoints`); NotImplementedError where a or
        b is not affine in λ there."""
        raise NotImplementedError

    def breakpoints(self, height: int, width: int) -> np.ndarray:
        """The λ in (0, 1) where the geometry changes (sorted); between them it is constant."""
        return np.zeros(0)

    def mask(self, lam: float, cy: int, cx: int, height: int, width: int) -> Tensor:
        r"""The anchor's weight per pixel (H, W) at this λ and centre (row cy, column cx).

        >>> CutMix("timm").mask(0.75, 1, 1, 4, 4)      # a 2 × 2 partner box, rows and columns 0-1
        tensor([[0., 0., 1., 1.],
                [0., 0., 1., 1.],
                [1., 1., 1., 1.],
                [1., 1., 1., 1.]], dtype=torch.float64)
        """
        height, width = check_image_size(height, width)
        lam = _check_lam(lam)
        if not (int(cy) == cy and int(cx) == cx and 0 <= cy < height and 0 <= cx < width):
            raise ValueError(f"the centre (cy, cx) must be pixel indices in [0, {height}) × [0, {width})")
        a, b, U, V = self.profiles(lam, height, width)
        a = a[cy, cx] if isinstance(a, Tensor) else a
        b = b[cy, cx] if isinstance(b, Tensor) else b
        return 1.0 - (a + b * torch.outer(U[int(cy)], V[int(cx)]))

    def label_weight(self, lam: float, cy: int, cx: int, height: int, width: int) -> float:
        """The anchor's label weight that :meth:`mask` implies: ``mean(M)`` when
        ``correct_lambda`` (every peer code), λ otherwise."""
        mask = self.mask(lam, cy, cx, height, width)
        return float(mask.mean()) if self.correct_lambda else float(lam)

    def name(self) -> str:
        return type(self).__name__


@dataclass(frozen=True)
class CutMix(MaskKind):
    r"""The CutMix box of area fraction ≈ 1 − λ; ``convention`` one of :data:`CUTMIX_CONVENTIONS`
    (module docstring: which code each reproduces). Default ``"timm"``, the timm 1.0.31 release.

    >>> a, b, U, V = CutMix(convention="rounded").profiles(0.75, 4, 6)     # a 2 × 3 box
    >>> (a, b, U[0].tolist(), V[5].tolist())            # clipped at the borders
    (0.0, 1.0, [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0, 1.0])
    >>> [CutMix(c).label_weight(0.5, 16, 16, 32, 32) for c in ("timm", "yun2019", "rounded")]
    [0.52734375, 0.52734375, 0.4833984375]
    """

    convention: str = "timm"

    def __init__(self, convention: str = "timm", border: Border = "clip", correct_lambda: bool = True):
        object.__setattr__(self, "convention", convention)
        object.__setattr__(self, "border", border)
        object.__setattr__(self, "correct_lambda", correct_lambda)
        self.__post_init__()

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_convention("CutMix", self.convention, CUTMIX_CONVENTIONS)

    def segment(self, lam: float, size: int) -> tuple[int, int]:
        """``(left, right)``: a box centred at c covers ``c − left … c + right − 1`` along an axis
        of ``size`` pixels (before clipping), with the peer's own floating-point arithmetic."""
        conv = self.convention
        if conv == "torchvision":
            half = int(0.5 * math.sqrt(1.0 - lam) * size)
            return half, half
        root = np.sqrt(1 - lam)  # a float32 λ (timm's per-sample λ) stays float32, as in timm
        if conv == "rounded":
            side = int(math.floor(size * root + 0.5))
            return side // 2, side - side // 2
        side = int(size * root)
        return side // 2, ((side + 1) // 2 if conv == "timm" else side // 2)

    def _geometry(self, lam: float, height: int, width: int) -> tuple[Tensor, Tensor]:
        rows = _box_profiles(height, *self.segment(lam, height), self.border)
        return rows, _box_profiles(width, *self.segment(lam, width), self.border)

    def profiles(
        self, lam: float, height: int, width: int, *, at: float | None = None
    ) -> tuple[Coefficient, Coefficient, Tensor, Tensor]:
        U, V = self._geometry(lam if at is None else at, height, width)
        return 0.0, 1.0, U, V

    def affine_profiles(
        self, lam: float, height: int, width: int
    ) -> tuple[Coefficient, Coefficient, Coefficient, Coefficient, Tensor, Tensor]:
        U, V = self._geometry(lam, height, width)
        return 0.0, 0.0, 1.0, 0.0, U, V

    def breakpoints(self, height: int, width: int) -> np.ndarray:
        if self.convention == "torchvision":
            return _floor_breaks((height, width), 0.0, 0.5)
        return _floor_breaks((height, width), 0.5 if self.convention == "rounded" else 0.0, 1.0)


@dataclass(frozen=True)
class HMix(MaskKind):
    r"""A box of nominal area fraction ``ratio·(1 − λ)`` plus mixup with anchor weight μ elsewhere
    (module docstring). ``convention``: ``"park2022"`` (default, the official code) or ``"nominal"``.

    >>> a, b, U, V = HMix(ratio=0.5, convention="nominal").profiles(0.5, 4, 4)   # box 2 × 2, μ = 2/3
    >>> round(a, 12), round(b, 12), int(U[1].sum()), int(V[1].sum())
    (0.333333333333, 0.666666666667, 2, 2)
    >>> round(HMix(ratio=0.5).label_weight(0.3, 0, 0, 8, 8), 15)   # park2022: exactly λ
    0.3
    """

    ratio: float = 0.5
    convention: str = "park2022"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= float(self.ratio) <= 1.0:
            raise ValueError(f"ratio must lie in [0, 1], got {self.ratio!r}")
        _check_convention("HMix", self.convention, ("park2022", "nominal"))

    def _geometry(self, lam: float, height: int, width: int) -> tuple[Tensor, Tensor]:
        if self.convention == "nominal":
            root = math.sqrt(min(max(self.ratio * (1.0 - lam), 0.0), 1.0))
            sides = [int(math.floor(d * root + 0.5)) for d in (height, width)]
            segs = [(s // 2, s - s // 2) for s in sides]
        else:
            root = float(np.sqrt(1 - lam) * np.sqrt(self.ratio))
            segs = [(int(d * root) // 2, int(d * root) // 2) for d in (height, width)]
        return _box_profiles(height, *segs[0], self.border), _box_profiles(width, *segs[1], self.border)

    def _inverse_share(self, U: Tensor, V: Tensor, height: int, width: int) -> Tensor:
        """1 / (1 − |box|/HW) per centre (H, W), the realised box; 0 where the box fills the image."""
        keep = 1.0 - torch.outer(U.sum(1), V.sum(1)) / float(height * width)
        return torch.where(keep > 0, 1.0 / keep.clamp_min(1e-300), torch.zeros_like(keep))

    def profiles(
        self, lam: float, height: int, width: int, *, at: float | None = None
    ) -> tuple[Coefficient, Coefficient, Tensor, Tensor]:
        U, V = self._geometry(lam if at is None else at, height, width)
        if self.convention == "nominal":
            fraction = self.ratio * (1.0 - lam)
            mu = 1.0 if fraction >= 1.0 else lam / (1.0 - fraction)
            return 1.0 - mu, mu, U, V
        inv = self._inverse_share(U, V, height, width)
        mu = torch.where(inv > 0, lam * inv, torch.ones_like(inv))
        return 1.0 - mu, mu, U, V

    def affine_profiles(
        self, lam: float, height: int, width: int
    ) -> tuple[Coefficient, Coefficient, Coefficient, Coefficient, Tensor, Tensor]:
        if self.convention == "nominal":
            raise NotImplementedError("HMix 'nominal': μ = λ/(1 − r(1 − λ)) is not affine in λ")
        U, V = self._geometry(lam, height, width)
        inv = self._inverse_share(U, V, height, width)
        full = (inv == 0).to(torch.float64)
        return 1.0 - full, -inv, full, inv, U, V

    def breakpoints(self, height: int, width: int) -> np.ndarray:
        if self.ratio == 0.0:
            return np.zeros(0)
        shift = 0.5 if self.convention == "nominal" else 0.0
        lam = 1.0 - (1.0 - _floor_breaks((height, width), shift, 1.0)) / self.ratio
        return lam[(lam > 0.0) & (lam < 1.0)]


def _gauss_profiles(size: int, area: float, border: Border) -> Tensor:
    """Rows ``exp(−π (p − c)² / area)`` (size, size); area → 0 leaves the centre pixel alone."""
    pos = torch.arange(size, dtype=torch.float64)
    diff = (pos[None, :] - pos[:, None]).abs()
    if border == "wrap":
        diff = torch.minimum(diff, size - diff)
    if area <= 0.0:
        return (diff == 0).to(torch.float64)
    return torch.exp(-(diff**2) * math.pi / area)


@dataclass(frozen=True)
class GMix(MaskKind):
    r"""A Gaussian blob of untruncated area t·HW (module docstring). ``convention``:
    ``"park2022"`` (default, the official code: the blob carries the minority share) or ``"hole"``
    (always a partner blob of area 1 − λ).

    >>> a, b, U, V = GMix(convention="hole").profiles(0.5, 3, 5)
    >>> float(U[1, 1]), bool(U[0, 2] < U[0, 1] < 1)
    (1.0, True)
    >>> a, b, _, _ = GMix().profiles(0.3, 4, 4)        # λ < 1/2: the anchor keeps a blob
    >>> a, b
    (1.0, -1.0)
    """

    convention: str = "park2022"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_convention("GMix", self.convention, ("park2022", "hole"))

    def profiles(
        self, lam: float, height: int, width: int, *, at: float | None = None
    ) -> tuple[Coefficient, Coefficient, Tensor, Tensor]:
        anchor_blob = self.convention == "park2022" and (lam if at is None else at) < 0.5
        t = lam if anchor_blob else 1.0 - lam
        if self.convention == "hole" and t <= 0.0:  # λ = 1: no hole
            zeros = torch.zeros(height, height, dtype=torch.float64)
            return 0.0, 1.0, zeros, torch.zeros(width, width, dtype=torch.float64)
        area = t * height * width
        rows, cols = _gauss_profiles(height, area, self.border), _gauss_profiles(width, area, self.border)
        return (1.0, -1.0, rows, cols) if anchor_blob else (0.0, 1.0, rows, cols)

    def breakpoints(self, height: int, width: int) -> np.ndarray:
        return np.array([0.5]) if self.convention == "park2022" else np.zeros(0)


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
    height, width = check_image_size(height, width)
    lam = torch.as_tensor(lam, dtype=torch.float64).reshape(-1)
    cy = torch.randint(height, lam.shape, generator=generator)
    cx = torch.randint(width, lam.shape, generator=generator)
    masks = torch.empty(lam.numel(), height, width, dtype=torch.float64)
    for k, value in enumerate(lam.tolist()):
        masks[k] = kind.mask(value, int(cy[k]), int(cx[k]), height, width)
    weight = masks.mean((1, 2)) if kind.correct_lambda else lam.clone()
    return masks, weight


def lambda_mean(law: MixingLaw, num_nodes: int = DEFAULT_NODES) -> float:
    """E λ under ``law`` (what E[M] equals pixel by pixel when there is no clipping and no rounding)."""
    rule = law.lambda_rule(num_nodes)
    return float(np.sum(rule.weights * rule.nodes))
