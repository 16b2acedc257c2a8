r"""Shared pieces of the training figures: the data of a run, the settings of their Adam runs and a
callback at chosen epochs. Every figure trains through :func:`mixtheory.training.train`; the Adam
runs (Adam on soft-label cross-entropy, one λ ~ Beta(α, α) per mixup batch and a random partner
permutation; Zhang et al., ICLR 2018) use its ``rng="shared"`` scheme, that of
:func:`mixtheory.models.train_model`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import torch
from torch import nn

from ..data import DataSplit, load_split
from ..training import ERMObjective, Mixup, Objective, TrainConfig
from ._runner import Context

__all__ = [
    "load_data",
    "split_and_model",
    "adam_config",
    "adamw_config",
    "adam_objective",
    "at_epochs",
    "accuracy",
]


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


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor, chunk_size: int = 1024) -> float:
    """Top-1 accuracy of ``model`` on (X, y) with integer labels, ``chunk_size`` inputs per call."""
    with torch.no_grad():
        correct = sum(
            int((model(X[i : i + chunk_size]).argmax(-1) == y[i : i + chunk_size]).sum())
            for i in range(0, len(y), chunk_size)
        )
    return correct / len(y)


def split_and_model(params: Mapping[str, Any], ctx: Context, seed: int) -> tuple[DataSplit, nn.Module]:
    """The seeded float32 split of ``params["data"]`` and the network of ``params`` (``arch``,
    ``activation``, ``hidden``, ``channels``) initialised with ``seed``: the setup the RegMixup
    figures share."""
    from ..models import build_model

    split = load_data(
        params["data"],
        ctx,
        num_samples=params["num_samples"],
        seed=seed,
        dtype=torch.float32,
        test_fraction=float(params.get("test_fraction", 0.25)),
    )
    model = build_model(
        params["arch"],
        split.input_shape,
        split.num_classes,
        params["activation"],
        hidden=tuple(params["hidden"]),
        channels=tuple(params.get("channels", (8, 16))),
        dtype=torch.float32,
        seed=seed,
    )
    return split, model


def adamw_config(
    params: Mapping[str, Any],
    ctx: Context,
    seed: int,
    *,
    epochs: int | None = None,
    progress: bool | None = False,
) -> TrainConfig:
    """The figures' AdamW runs as a :class:`~mixtheory.training.TrainConfig`: ``params``' ``epochs``
    (unless given), ``batch_size``, ``lr`` and ``weight_decay``, the cosine schedule, on
    ``ctx.device``."""
    return TrainConfig(
        epochs=int(params["epochs"]) if epochs is None else int(epochs),
        batch_size=int(params["batch_size"]),
        optimizer="adamw",
        lr=float(params["lr"]),
        weight_decay=float(params["weight_decay"]),
        lr_schedule="cosine",
        seed=seed,
        device=ctx.device,
        progress=progress,
    )


def adam_config(ctx: Context, *, epochs: int, lr: float, batch_size: int, seed: int) -> TrainConfig:
    """The figures' Adam runs as a :class:`~mixtheory.training.TrainConfig`: Adam at a constant
    rate without weight decay, shuffled minibatches of ``batch_size`` and one generator for the
    data order and the mixing (``rng="shared"``, the scheme the committed results were computed
    with)."""
    return TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        optimizer="adam",
        lr=lr,
        weight_decay=0.0,
        lr_schedule="constant",
        seed=seed,
        rng="shared",
        progress=ctx.progress if ctx.progress is not None else True,
    )


def at_epochs(epochs: Iterable[int], callback: Callable[[int], None]) -> Callable[[int], None]:
    """An ``on_epoch`` callback for :func:`mixtheory.training.train` that calls ``callback(t)`` only
    after the epochs t in ``epochs`` (0: before training)."""
    stops = {int(t) for t in epochs}

    def on_epoch(epoch: int) -> None:
        if epoch in stops:
            callback(epoch)

    return on_epoch


def adam_objective(mixup_alpha: float | None) -> Objective:
    """ERM, or mixup with one λ ~ Beta(α, α) per batch and partners by a random permutation of the
    batch (Zhang et al., ICLR 2018)."""
    return ERMObjective() if mixup_alpha is None else Mixup(float(mixup_alpha))
