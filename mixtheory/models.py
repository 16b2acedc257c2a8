r"""Small model builders and a deterministic training helper, shared by the CLI, analyses and tests.

``build_model("mlp" | "cnn", in_shape, num_classes, activation=...)`` returns an
``nn.Sequential`` (so the Taylor-mode estimator of :mod:`mixtheory.estimators` applies) with a
smooth activation by default. The second-order theory of Carratino et al. (JMLR 2022) assumes a
twice-differentiable network: ``tanh``, ``gelu``, ``softplus``, ``silu``, ``sigmoid`` and ``elu``
qualify; ``relu`` (and ``pool="max"``) build piecewise-linear networks whose input Hessian is 0
almost everywhere, kept for comparison.

``train_model`` fits a model by Adam on full batches or minibatches, optionally on mixup batches
(one λ ~ Beta(α, α) per batch and a random partner permutation, as training code does), and is
deterministic given its seed: a shorthand for :func:`mixtheory.training.train`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from ._types import ArrayLike
from .training import ERMObjective, Mixup, TrainConfig, train

__all__ = ["ACTIVATIONS", "ARCHITECTURES", "LayerOptions", "build_model", "parse_arch", "train_model"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "softplus": nn.Softplus,
    "silu": nn.SiLU,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
    "relu": nn.ReLU,
}
ARCHITECTURES = ("mlp", "cnn", "resnet18")
Pool = Literal["avg", "max"]


def parse_arch(name: str) -> tuple[str, str | None]:
    """``"mlp"`` → ("mlp", None); ``"cnn-gelu"`` / ``"cnn:gelu"`` → ("cnn", "gelu")."""
    for sep in ("-", ":", "_"):
        if sep in name:
            arch, act = name.split(sep, 1)
            break
    else:
        arch, act = name, None
    arch = arch.lower()
    if arch not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {name!r}; choose one of {', '.join(ARCHITECTURES)} "
            f"(optionally with an activation, e.g. 'cnn-gelu')"
        )
    if act is not None and act.lower() not in ACTIVATIONS:
        raise ValueError(f"unknown activation {act!r}; choose one of {', '.join(ACTIVATIONS)}")
    return arch, None if act is None else act.lower()


@dataclass(frozen=True)
class LayerOptions:
    """The rarer layer choices of :func:`build_model`: ``pool`` ``"avg"`` (linear, the default) or
    ``"max"`` (piecewise linear) after each convolution; ``batchnorm``: batch norm after each
    conv/hidden linear layer; ``dropout``: its probability before the last layer (for testing mode
    handling)."""

    pool: Pool = "avg"
    batchnorm: bool = False
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.pool not in ("avg", "max"):
            raise ValueError(f"LayerOptions.pool must be 'avg' or 'max', got {self.pool!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"LayerOptions.dropout must be in [0, 1), got {self.dropout!r}")


def build_model(
    arch: str,
    in_shape: Sequence[int] | int,
    num_classes: int,
    activation: str = "tanh",
    *,
    hidden: Sequence[int] = (64, 64),
    channels: Sequence[int] = (8, 16),
    dtype: torch.dtype = torch.float32,
    seed: int = 0,
    options: LayerOptions | None = None,
) -> nn.Module:
    r"""A small MLP or CNN, or a smooth ResNet-18, mapping ``(B, *in_shape)`` to ``(B, num_classes)``
    logits, in eval mode.

    Args:
        arch: ``"mlp"``, ``"cnn"`` or ``"resnet18"`` (``"cnn-gelu"`` also sets the activation;
            ``"resnet18"`` is :func:`mixtheory.resnet.smooth_resnet18`, CIFAR stem, and uses only
            ``activation``, ``dtype`` and ``seed``).
        in_shape: input shape without the batch dimension: ``(d,)`` or ``(C, H, W)`` for a CNN
            (an MLP flattens any shape).
        num_classes: c, the number of logits.
        activation: one of :data:`ACTIVATIONS` (smooth ones for the second-order theory).
        hidden: widths of the MLP's hidden layers (the CNN's head uses ``hidden[-1]``).
        channels: the CNN's conv widths, each conv (3×3, padding 1) followed by a 2×2 pooling.
        dtype: parameter dtype; seed: initialization seed (the global RNG is left untouched).
        options: the rarer layer choices (:class:`LayerOptions`: max pooling, batch norm, dropout);
            default: average pooling, neither batch norm nor dropout.

    >>> net = build_model("cnn", (1, 8, 8), 10, "gelu")
    >>> net(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    """
    options = LayerOptions() if options is None else options
    pool, batchnorm, dropout = options.pool, options.batchnorm, options.dropout
    arch_name, act_from_name = parse_arch(arch)
    activation = (act_from_name or activation).lower()
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    shape = (int(in_shape),) if isinstance(in_shape, int) else tuple(int(s) for s in in_shape)
    if isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer (the logits), got {num_classes!r}")
    if not shape or any(s < 1 for s in shape):
        raise ValueError(f"in_shape must be positive sizes, (d,) or (C, H, W), got {in_shape!r}")
    if arch_name == "resnet18":
        from .resnet import smooth_resnet18

        return smooth_resnet18(num_classes, shape, activation, dtype=dtype, seed=seed)
    act = ACTIVATIONS[activation]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if arch_name == "mlp":
            layers, width = _mlp_layers(shape, hidden, act, batchnorm)
        else:
            layers, width = _cnn_layers(shape, channels, hidden, act, pool, batchnorm)
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(width, num_classes))
        model = nn.Sequential(*layers).to(dtype)
    return model.eval()


def _mlp_layers(
    shape: tuple[int, ...], hidden: Sequence[int], act: type[nn.Module], batchnorm: bool
) -> tuple[list[nn.Module], int]:
    """The MLP's layers up to the last hidden activation, and the width they end with."""
    layers: list[nn.Module] = []
    width = 1
    for s in shape:
        width *= s
    if len(shape) > 1:
        layers.append(nn.Flatten())
    for h in hidden:
        layers.append(nn.Linear(width, h))
        if batchnorm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(act())
        width = h
    return layers, width


def _cnn_layers(
    shape: tuple[int, ...],
    channels: Sequence[int],
    hidden: Sequence[int],
    act: type[nn.Module],
    pool: Pool,
    batchnorm: bool,
) -> tuple[list[nn.Module], int]:
    """The CNN's convolutions, pooling and hidden head layer, and the width they end with."""
    if len(shape) != 3:
        raise ValueError(f"a CNN needs in_shape (C, H, W), got {shape}")
    layers: list[nn.Module] = []
    c_in, height, width_px = shape
    for c_out in channels:
        layers.append(nn.Conv2d(c_in, c_out, 3, padding=1))
        if batchnorm:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(act())
        if height >= 2 and width_px >= 2:
            layers.append(nn.AvgPool2d(2) if pool == "avg" else nn.MaxPool2d(2))
            height, width_px = height // 2, width_px // 2
        c_in = c_out
    layers.append(nn.Flatten())
    layers.append(nn.Linear(c_in * height * width_px, hidden[-1]))
    layers.append(act())
    return layers, hidden[-1]


def train_model(
    model: nn.Module,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    epochs: int = 100,
    lr: float = 1e-2,
    batch_size: int | None = None,
    mixup_alpha: float | None = None,
    weight_decay: float = 0.0,
    num_classes: int | None = None,
    seed: int = 0,
) -> list[float]:
    r"""Fit ``model`` by Adam on soft-label cross-entropy; returns the loss of each epoch.

    A shorthand for :func:`mixtheory.training.train` with ``ERMObjective()`` (or
    ``Mixup(mixup_alpha)``: one λ per batch, partners by a random permutation of the batch) and
    ``TrainConfig(optimizer="adam", lr_schedule="constant", rng="shared", ...)``: one generator
    seeded with ``seed`` draws the data order and the mixing (:mod:`mixtheory.training.config`).

    Args:
        model: maps ``(B, *input_shape)`` to ``(B, c)`` logits; trained in place, left in eval.
        X: ``(n, *input_shape)``; Y: class indices ``(n,)`` or label vectors ``(n, c)``.
        epochs, lr, weight_decay: Adam settings.
        batch_size: ``None`` (or ``>= n``) for full-batch steps in the data's order, else shuffled
            minibatches.
        mixup_alpha: train on mixup batches, ``λ ~ Beta(α, α)`` per batch, partners by a random
            permutation of the batch (Zhang et al., ICLR 2018).
        seed: seeds shuffling and λ; the run is deterministic given it (same device and threads).

    >>> g = torch.Generator().manual_seed(0)
    >>> X = torch.randn(40, 2, generator=g); y = (X[:, 0] > 0).long()
    >>> net = build_model("mlp", 2, 2, hidden=(8,))
    >>> losses = train_model(net, X, y, epochs=50, lr=0.05)
    >>> losses[-1] < 0.5 * losses[0]
    True
    """
    if mixup_alpha is not None and not mixup_alpha > 0:
        raise ValueError(f"mixup_alpha must be positive, got {mixup_alpha}")
    objective = ERMObjective() if mixup_alpha is None else Mixup(float(mixup_alpha))
    n = len(X)
    config = TrainConfig(
        epochs=epochs,
        batch_size=None if batch_size is None or batch_size >= n else batch_size,
        optimizer="adam",
        lr=lr,
        weight_decay=weight_decay,
        lr_schedule="constant",
        seed=seed,
        rng="shared",
        num_classes=num_classes,
        progress=False,
    )
    return train(model, X, Y, objective, config).column("loss")
