"""Data sets that need no download: scikit-learn's bundled digits, and arrays from a local .npz."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

__all__ = ["load_digits", "load_npz", "load_dataset"]


def load_digits(
    num_samples: int | None = None, *, seed: int = 0, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled 8×8 digits (1797 images, 10 classes), pixels scaled to [0, 1].

    Returns ``X`` (n, 64) and integer labels ``y`` (n,). ``num_samples`` draws a class-stratified
    random subset (reproducible through ``seed``). Several border pixels are always 0, so Σ_xx is
    singular: a real test of the pseudo-inverses.
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    X = torch.as_tensor(bunch.data / 16.0, dtype=dtype)
    y = torch.as_tensor(bunch.target, dtype=torch.long)
    if num_samples is not None:
        if not 2 <= num_samples <= len(y):
            raise ValueError(f"num_samples must lie in [2, {len(y)}], got {num_samples}")
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(y))
        # round-robin over classes so small subsets stay balanced
        by_class = [order[bunch.target[order] == k] for k in range(10)]
        picked = [idx for group in zip(*by_class) for idx in group]
        taken = set(picked)
        rest = [i for i in order if i not in taken]
        chosen = np.array((picked + rest)[:num_samples])
        X, y = X[chosen], y[chosen]
    return X, y


def load_npz(path: str | Path, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Arrays ``X`` (n, ...) and ``y`` ((n,) class indices or (n, c) labels) from a local .npz."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no data file at {path}; give a local .npz with arrays X and y")
    with np.load(path) as archive:
        missing = {"X", "y"} - set(archive.files)
        if missing:
            raise ValueError(f"{path} lacks array(s) {sorted(missing)}; it has {archive.files}")
        X = torch.as_tensor(archive["X"], dtype=dtype)
        y_raw = archive["y"]
    y = torch.as_tensor(y_raw)
    y = y.long() if not y.is_floating_point() else y.to(dtype)
    return X, y


def load_dataset(spec: str, num_samples: int | None = None, seed: int = 0):
    """``digits`` (bundled) or a path to a local .npz."""
    if spec == "digits":
        return load_digits(num_samples, seed=seed)
    X, y = load_npz(spec)
    if num_samples is not None:
        g = torch.Generator().manual_seed(seed)
        keep = torch.randperm(X.shape[0], generator=g)[:num_samples]
        X, y = X[keep], y[keep]
    return X, y
