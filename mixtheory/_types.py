"""Type aliases shared by the package's signatures (one place, imported where used)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import numpy as np
import torch

Tensor: TypeAlias = torch.Tensor
"""A torch tensor."""

ArrayLike: TypeAlias = torch.Tensor | np.ndarray | Sequence[Any] | float
"""Anything ``torch.as_tensor`` accepts: a tensor, a numpy array, a (nested) sequence of numbers."""

Indices: TypeAlias = Sequence[int] | np.ndarray | torch.Tensor | None
"""Samples to use: None for all n, integer indices, or a boolean mask of length n."""

DeviceLike: TypeAlias = torch.device | str | None
"""A device or its name (``'cpu'``, ``'cuda:0'``); None for the default."""

Model: TypeAlias = Callable[[torch.Tensor], torch.Tensor]
"""A network or any callable mapping a batch of inputs (m, *input_shape) to outputs (m, c)."""

Generator: TypeAlias = torch.Generator | None
"""A seeded ``torch.Generator``, or None for torch's global generator."""

Shape: TypeAlias = int | Sequence[int]
"""The shape of a batch of draws: one size or a sequence of sizes."""

__all__ = ["ArrayLike", "DeviceLike", "Generator", "Indices", "Model", "Shape", "Tensor"]
