r"""Data as a ``torch.utils.data.Dataset`` or ``DataLoader``: each sample's index travels with it,
and the evaluation set is read row by row, never held whole in memory.

- :class:`IndexedDataset` wraps any map-style dataset so that ``ds[i]`` is ``(x, y, i)``: per-sample
  tables and forgetting counts are then keyed by the dataset index, whatever order and
  augmentation the training loader uses. :func:`split_batch` takes such a batch apart and refuses a
  batch that carries no indices.
- :class:`DatasetRows` reads the inputs of a dataset (the **evaluation** transform: no augmentation)
  as an ``(n, *input_shape)`` array that is fetched on indexing (``rows[idx]``, ``rows[a:b]``) and
  streamed in blocks (:meth:`DatasetRows.blocks`);
  :func:`mixtheory.training.eval_data.eval_data_from` builds the recorders'
  :class:`~mixtheory.training.TrainingData` from tensors, a dataset or a loader.
- :func:`cifar10_torchvision`: CIFAR-10 through ``torchvision.datasets.CIFAR10(root,
  download=False)`` when torchvision is installed (the pickle reader :func:`mixtheory.data.load_cifar10`
  needs no torchvision). Nothing downloads.

**Which geometry then applies.** The recorders evaluate the model and build the mixup geometry of
Theorem 1 (Carratino et al., JMLR 2022) on the evaluation-transformed data: x̃ and Σ come from the
inputs as the evaluation transform returns them (e.g. normalised, not cropped or flipped). Training
with augmentation draws other inputs; the regularizers are then those of mixup on the evaluation
view of the training set, the set the per-sample scores (EL2N, GraNd; Paul et al., NeurIPS 2021)
are also computed on.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from ._types import ArrayLike, DeviceLike, Tensor

__all__ = ["IndexedDataset", "DatasetRows", "split_batch", "labels_of", "cifar10_torchvision"]


class IndexedDataset(Dataset):
    """``dataset[i]`` as ``(*dataset[i], i)``: the sample and its index (a map-style dataset).

    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> ds = IndexedDataset(TensorDataset(torch.zeros(3, 2), torch.tensor([0, 1, 0])))
    >>> x, y, i = ds[2]
    >>> int(y), int(i)
    (0, 2)
    """

    def __init__(self, dataset: Dataset):
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(
                "dataset must be a map-style Dataset (with __getitem__ and __len__), "
                f"got {type(dataset).__name__}"
            )
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple:
        item = self.dataset[index]
        if not isinstance(item, (tuple, list)):
            item = (item,)
        return (*item, index)


def split_batch(batch: Sequence[Any], name: str = "batch") -> tuple[Any, Any, Tensor]:
    """``(inputs, targets, indices)`` of a batch from a loader over an :class:`IndexedDataset`."""
    if not isinstance(batch, (tuple, list)) or len(batch) != 3:
        size = len(batch) if isinstance(batch, (tuple, list)) else type(batch).__name__
        raise ValueError(
            f"{name} carries no sample indices (got {size} items, need (x, y, index)): wrap the "
            "dataset in mixtheory.datasets.IndexedDataset so that each sample returns its index"
        )
    x, y, idx = batch
    idx = torch.as_tensor(idx)
    if idx.dtype.is_floating_point or idx.ndim != 1:
        raise ValueError(
            f"{name}: the third item must be a (b,) integer index tensor, got {tuple(idx.shape)}"
        )
    return x, y, idx.long()


class DatasetRows:
    """The inputs of a map-style dataset as a lazy ``(n, *input_shape)`` array.

    ``rows[k]`` for an integer tensor ``k`` of any shape returns ``(*k.shape, *input_shape)``;
    ``rows[a:b]`` a block; :meth:`blocks` streams the whole set through a ``DataLoader`` in order.
    Values are cast to ``dtype`` on ``device``. ``chunk_size`` (samples per loaded block; bounds memory)
    and ``num_workers`` set the streaming.
    """

    def __init__(
        self,
        dataset: Dataset,
        *,
        dtype: torch.dtype = torch.float64,
        device: DeviceLike = None,
        chunk_size: int = 512,
        num_workers: int = 0,
    ):
        self.dataset = dataset
        self.n = len(dataset)
        if self.n < 1:
            raise ValueError("eval_data: the dataset is empty")
        first = torch.as_tensor(_inputs_of(dataset[0]))
        self.input_shape = tuple(first.shape)
        self.dtype = dtype
        self.device = torch.device("cpu") if device is None else torch.device(device)
        self.chunk_size, self.num_workers = int(chunk_size), int(num_workers)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.n, *self.input_shape)

    @property
    def ndim(self) -> int:
        return 1 + len(self.input_shape)

    def __len__(self) -> int:
        return self.n

    def numel(self) -> int:
        return self.n * int(torch.tensor(self.input_shape).prod())

    def _fetch(self, flat: list[int]) -> Tensor:
        rows = [torch.as_tensor(_inputs_of(self.dataset[i])) for i in flat]
        if not rows:
            return torch.zeros(0, *self.input_shape, dtype=self.dtype, device=self.device)
        return torch.stack(rows).to(device=self.device, dtype=self.dtype)

    def __getitem__(self, key: Any) -> Tensor:
        if isinstance(key, slice):
            return self._fetch(list(range(self.n))[key])
        k = torch.as_tensor(key).cpu()
        if k.dtype == torch.bool:
            k = k.nonzero().flatten()
        k = k.long()
        if k.numel() and (int(k.min()) < -self.n or int(k.max()) >= self.n):
            raise IndexError(f"index out of range for {self.n} samples: [{int(k.min())}, {int(k.max())}]")
        flat = (k % self.n).flatten().tolist()
        return self._fetch(flat).reshape(*k.shape, *self.input_shape)

    def blocks(self) -> Iterator[tuple[int, Tensor]]:
        """``(start, block)`` pairs covering the n rows in order, ``block`` of shape (b, *input_shape)."""
        loader = DataLoader(
            self.dataset, batch_size=self.chunk_size, shuffle=False, num_workers=self.num_workers
        )
        start = 0
        for batch in loader:
            x = torch.as_tensor(_inputs_of(batch)).to(device=self.device, dtype=self.dtype)
            yield start, x
            start += x.shape[0]

    def to(self, device: DeviceLike = None, dtype: torch.dtype | None = None) -> DatasetRows:
        out = DatasetRows.__new__(DatasetRows)
        out.__dict__.update(self.__dict__)
        out.device = self.device if device is None else torch.device(device)
        out.dtype = self.dtype if dtype is None else dtype
        return out


def _inputs_of(item: Any) -> Any:
    return item[0] if isinstance(item, (tuple, list)) else item


def labels_of(dataset: Dataset) -> Tensor:
    """Every label of the dataset: its ``targets`` attribute if it has one, else read item by item."""
    targets = getattr(dataset, "targets", None)
    if targets is None and isinstance(getattr(dataset, "dataset", None), Dataset):
        inner = getattr(dataset.dataset, "targets", None)  # an IndexedDataset over a torchvision set
        targets = inner if len(dataset.dataset) == len(dataset) else None
    if targets is not None:
        return torch.as_tensor(targets)
    labels = []
    for i in range(len(dataset)):
        item = dataset[i]
        if not isinstance(item, (tuple, list)) or len(item) < 2:
            raise ValueError("eval_data: each sample must be (x, y, ...) so that its label can be read")
        labels.append(torch.as_tensor(item[1]))
    return torch.stack(labels)


def cifar10_torchvision(root: str, split: str = "train", transform: Any = None) -> Dataset:
    """``torchvision.datasets.CIFAR10(root, train=…, transform=transform, download=False)``.

    Needs torchvision (an optional extra); reads the extracted ``cifar-10-batches-py`` under ``root``
    and never downloads. Without torchvision use :func:`mixtheory.data.load_cifar10` (tensors).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    try:
        datasets = importlib.import_module("torchvision.datasets")
    except Exception as exc:  # not installed, or built for another torch
        raise ImportError(
            "cifar10_torchvision needs torchvision (pip install torchvision matching your torch); "
            f"it could not be imported ({type(exc).__name__}: {exc}). Without it, read the same files "
            "with mixtheory.data.load_cifar10(directory)"
        ) from exc
    try:
        return datasets.CIFAR10(root, train=split == "train", transform=transform, download=False)
    except RuntimeError as exc:
        raise FileNotFoundError(
            f"root={root!r} holds no CIFAR-10 ({exc}); put the extracted 'cifar-10-batches-py' folder "
            "there (nothing is downloaded)"
        ) from exc


def as_dataset(X: ArrayLike, Y: ArrayLike) -> Dataset:
    """``(X, Y)`` tensors as an :class:`IndexedDataset` over a ``TensorDataset``."""
    from torch.utils.data import TensorDataset

    return IndexedDataset(TensorDataset(torch.as_tensor(X), torch.as_tensor(Y)))
