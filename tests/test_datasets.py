"""mixtheory.datasets: indices travel with samples, lazy rows equal the tensor rows, a DataLoader
or Dataset gives the recorders the tensors' evaluation set, CIFAR-10 through torchvision never
downloads (a stand-in module: torchvision does not import beside torch 2.13 here)."""

from __future__ import annotations

import sys
import types

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from mixtheory.datasets import DatasetRows, IndexedDataset, cifar10_torchvision, split_batch
from mixtheory.training.eval_data import eval_data_from


def _data(n=13):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 2, 3, generator=g, dtype=torch.float64), torch.randint(4, (n,), generator=g)


def test_indexed_dataset_batches_carry_their_indices():
    X, y = _data()
    loader = DataLoader(IndexedDataset(TensorDataset(X, y)), batch_size=5, shuffle=True)
    seen = []
    for batch in loader:
        x, t, idx = split_batch(batch)
        assert torch.equal(x, X[idx]) and torch.equal(t, y[idx])
        seen += idx.tolist()
    assert sorted(seen) == list(range(len(X)))
    with pytest.raises(ValueError, match="batch carries no sample indices"):
        split_batch(next(iter(DataLoader(TensorDataset(X, y), batch_size=5))))
    with pytest.raises(ValueError, match="integer index tensor"):
        split_batch((X[:2], y[:2], torch.zeros(2)))
    with pytest.raises(TypeError, match="map-style Dataset"):
        IndexedDataset(iter([1, 2]))


def test_dataset_rows_index_like_the_tensor():
    X, y = _data()
    rows = DatasetRows(TensorDataset(X, y), chunk_size=4)
    assert rows.shape == X.shape and len(rows) == 13
    k = torch.tensor([[3, 0], [12, -1]])
    assert torch.equal(rows[k], X[k])
    assert torch.equal(rows[2:7], X[2:7])
    assert torch.equal(rows[torch.arange(13) % 2 == 0], X[::2])
    assert torch.equal(torch.cat([b for _, b in rows.blocks()]), X)
    with pytest.raises(IndexError, match="out of range for 13 samples"):
        rows[torch.tensor([13])]


@pytest.mark.parametrize("kind", ["dataset", "loader", "tensors"])
def test_eval_data_from_every_form_gives_the_same_labels_and_rows(kind):
    X, y = _data()
    ds = TensorDataset(X, y)
    given = {"dataset": ds, "loader": DataLoader(ds, batch_size=3), "tensors": (X, y)}[kind]
    data = eval_data_from(given, num_classes=None, dtype=torch.float64, device="cpu")
    assert data.n == 13 and data.num_classes == 4
    assert torch.equal(data.labels, y)
    assert torch.equal(data.X[torch.tensor([5, 1])], X[[5, 1]])
    if kind == "loader":
        assert data.X.chunk_size == 3


def test_eval_data_errors_name_the_argument():
    with pytest.raises(TypeError, match="eval_data must be"):
        eval_data_from(42, num_classes=None, dtype=torch.float64, device="cpu")
    with pytest.raises(ValueError, match="eval_data as tensors must be"):
        eval_data_from((1, 2, 3), num_classes=None, dtype=torch.float64, device="cpu")
    with pytest.raises(ValueError, match="each sample must be \\(x, y"):
        eval_data_from(_InputsOnly(), num_classes=None, dtype=torch.float64, device="cpu")


class _InputsOnly(torch.utils.data.Dataset):
    def __len__(self):
        return 3

    def __getitem__(self, i):
        return torch.zeros(2)


def test_cifar10_through_a_torchvision_stand_in_never_downloads(monkeypatch):
    calls = []

    class CIFAR10:
        def __init__(self, root, train, transform, download):
            calls.append((root, train, transform, download))
            if root == "missing":
                raise RuntimeError("Dataset not found or corrupted.")

    datasets = types.ModuleType("torchvision.datasets")
    datasets.CIFAR10 = CIFAR10
    package = types.ModuleType("torchvision")
    package.datasets = datasets
    monkeypatch.setitem(sys.modules, "torchvision", package)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", datasets)
    cifar10_torchvision("/data", "test", transform="T")
    assert calls == [("/data", False, "T", False)]
    with pytest.raises(FileNotFoundError, match="root='missing' holds no CIFAR-10.*nothing is downloaded"):
        cifar10_torchvision("missing")
    with pytest.raises(ValueError, match="split must be"):
        cifar10_torchvision("/data", "val")


def test_cifar10_without_torchvision_points_to_the_pickle_reader(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", None)
    with pytest.raises(ImportError, match="needs torchvision.*mixtheory.data.load_cifar10"):
        cifar10_torchvision("/data")
