"""Bundled and local data sets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mixtheory.data import load_dataset, load_digits, load_npz


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
