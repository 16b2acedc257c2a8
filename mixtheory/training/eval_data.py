"""The recorders' evaluation data from tensors, a ``Dataset`` or a ``DataLoader``.

It sits in ``training`` (not in :mod:`mixtheory.datasets`) because it builds a
:class:`~mixtheory.training.TrainingData`; :mod:`mixtheory.datasets` stays below the geometry.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from .._types import DeviceLike
from .._validation import as_labels
from ..datasets import DatasetRows, labels_of
from .objectives import TrainingData

__all__ = ["eval_data_from"]


def eval_data_from(
    eval_data: Any,
    *,
    num_classes: int | None,
    dtype: torch.dtype,
    device: DeviceLike,
    chunk_size: int = 512,
) -> Any:
    """The recorders' :class:`~mixtheory.training.TrainingData` from ``(X, Y)`` tensors (held in
    memory, as :func:`mixtheory.training.train` holds them), a map-style ``Dataset`` of ``(x, y, …)``
    or a ``DataLoader`` over one (its dataset is read in order; its batch size and workers stream it;
    ``chunk_size`` samples per block otherwise).
    A dataset's inputs stay on disk (:class:`DatasetRows`); only its labels, (n, c), are in memory."""
    if isinstance(eval_data, TrainingData):
        return eval_data
    if isinstance(eval_data, (tuple, list)):
        if len(eval_data) != 2:
            raise ValueError(f"eval_data as tensors must be (X, Y), got {len(eval_data)} items")
        return TrainingData.from_arrays(*eval_data, num_classes=num_classes, dtype=dtype, device=device)
    num_workers = 0
    if isinstance(eval_data, DataLoader):
        num_workers, chunk_size = eval_data.num_workers, eval_data.batch_size or chunk_size
        eval_data = eval_data.dataset
    if not isinstance(eval_data, Dataset) and not hasattr(eval_data, "__getitem__"):
        raise TypeError(
            "eval_data must be (X, Y) tensors, a map-style torch Dataset of (x, y) or a DataLoader over "
            f"one, got {type(eval_data).__name__}"
        )
    rows = DatasetRows(eval_data, dtype=dtype, device=device, chunk_size=chunk_size, num_workers=num_workers)
    y = as_labels("eval_data labels", labels_of(eval_data), rows.n, num_classes, dtype, device)
    return TrainingData(rows, y, y.argmax(-1).cpu())
