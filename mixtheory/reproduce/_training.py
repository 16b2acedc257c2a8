r"""Shared pieces of the training figures: the data of a run and a training loop with checkpoints.

The loop is :func:`mixtheory.models.train_model`'s (Adam on soft-label cross-entropy, one
λ ~ Beta(α, α) per mixup batch and a random partner permutation; Zhang et al., ICLR 2018) with a
persistent optimizer, a tqdm bar over epochs and a callback at chosen epochs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

import torch
from torch import nn

from ..data import DataSplit, load_split
from ..laws import SymmetricBeta
from ..losses import CrossEntropy
from ..mixup_loss import mix_batch
from ._runner import Context

__all__ = ["load_data", "train_with_checkpoints", "accuracy"]

_CE = CrossEntropy()


def load_data(
    name: Literal["digits", "mnist", "cifar10"],
    ctx: Context,
    *,
    num_samples: int | None,
    seed: int,
    dtype: torch.dtype,
    test_fraction: float = 0.25,
) -> DataSplit:
    """The bundled digits (quick), MNIST-5k (standard) or CIFAR-10 from ``ctx.data`` (full), as a
    seeded split with ``test_fraction`` held out."""
    if name == "cifar10":
        return load_split(
            "cifar10",
            path=ctx.data,
            num_samples=num_samples,
            seed=seed,
            dtype=dtype,
            test_fraction=test_fraction,
        )
    return load_split(name, num_samples=num_samples, seed=seed, dtype=dtype, test_fraction=test_fraction)


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> float:
    """Top-1 accuracy of ``model`` on (X, y) with integer labels."""
    with torch.no_grad():
        correct = sum(
            int((model(X[i : i + batch_size]).argmax(-1) == y[i : i + batch_size]).sum())
            for i in range(0, len(y), batch_size)
        )
    return correct / len(y)


def train_with_checkpoints(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    checkpoints: Iterable[int],
    callback: Callable[[int], None],
    ctx: Context,
    lr: float = 1e-2,
    batch_size: int | None = None,
    mixup_alpha: float | None = None,
    seed: int = 0,
    desc: str = "training",
) -> None:
    """Train ``model`` for ``epochs`` (Adam, cross-entropy, mixup batches when ``mixup_alpha``),
    calling ``callback(epoch)`` in eval mode after each epoch in ``checkpoints`` (0 = before
    training). ``X``, ``y`` (class indices) on the model's device."""
    stops = set(int(c) for c in checkpoints)
    num_classes = int(y.max()) + 1
    labels = torch.nn.functional.one_hot(y, num_classes).to(X.dtype)
    n = X.shape[0]
    size = n if batch_size is None else int(batch_size)
    gen = torch.Generator().manual_seed(seed)
    law = SymmetricBeta(float(mixup_alpha)) if mixup_alpha is not None else None
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.eval()
    if 0 in stops:
        callback(0)
    with ctx.bar(epochs, desc) as bar:
        for epoch in range(1, epochs + 1):
            model.train()
            order = torch.randperm(n, generator=gen).to(X.device)
            for start in range(0, n, size):
                batch = order[start : start + size]
                xb, yb = X[batch], labels[batch]
                if law is not None:
                    lam = law.sample_lambda((1, 1), gen).to(dtype=X.dtype, device=X.device)
                    perm = torch.randperm(batch.numel(), generator=gen).to(X.device)
                    xb, yb = mix_batch(xb, yb, lam.reshape((1,) * xb.ndim), perm, y_lam=lam)
                loss = _CE.value(yb, model(xb)).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
            model.eval()
            if epoch in stops:
                callback(epoch)
            bar.update(1)
