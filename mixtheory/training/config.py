r"""The settings of a training run (:func:`mixtheory.training.train`) as one typed, validated,
immutable value, as :class:`~mixtheory.estimators.EstimatorOptions` is for the estimators.

Two random-number schemes (``rng``):

- ``"separate"`` (default): the data order comes from a CPU generator seeded with ``seed`` (one
  ``randperm`` per epoch), the mixing (λ, partners, masks) from a second one seeded with
  ``seed + 1``, and torch's global generators (dropout) are forked and seeded with ``seed``, so
  that the caller's global state is left as it was.
- ``"shared"``: one CPU generator seeded with ``seed`` draws the data order and then, batch by
  batch, the mixing, in that order; torch's global generators are neither seeded nor forked
  (dropout draws from the caller's stream, and an ``on_epoch`` callback sees it as it is). This is
  the loop of Zhang et al.'s reference mixup code (ICLR 2018) and of the package's earlier
  ``train_model`` and figure loops, whose committed results it reproduces bit for bit.

``batch_size=None`` trains on the whole training set in its given order at every step (full-batch
gradient descent: no permutation is drawn); an integer draws a fresh order every epoch and cuts it
into minibatches (the last one may be smaller).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any, Literal, get_args

from .._types import DeviceLike

__all__ = [
    "TrainConfig",
    "RunNotes",
    "OptimizerName",
    "LRSchedule",
    "RngScheme",
    "OPTIMIZERS",
    "LR_SCHEDULES",
    "RNG_SCHEMES",
]

OptimizerName = Literal["sgd", "adamw", "adam"]
LRSchedule = Literal["cosine", "step", "constant"]
RngScheme = Literal["separate", "shared"]

OPTIMIZERS: tuple[str, ...] = get_args(OptimizerName)
LR_SCHEDULES: tuple[str, ...] = get_args(LRSchedule)
RNG_SCHEMES: tuple[str, ...] = get_args(RngScheme)

# what a checkpoint records and a resumed run must match (display and placement settings excluded)
_CHECKPOINTED = (
    "epochs",
    "batch_size",
    "seed",
    "optimizer",
    "lr",
    "momentum",
    "nesterov",
    "weight_decay",
    "lr_schedule",
    "step_size",
    "gamma",
)


@dataclass(frozen=True)
class TrainConfig:
    r"""How :func:`~mixtheory.training.train` trains (module docstring for ``rng`` and ``batch_size``).

    Attributes:
        epochs: passes over the training set.
        batch_size: minibatch size, or None for full-batch steps in the data's order.
        optimizer: ``"sgd"`` (with ``momentum``, ``nesterov``), ``"adamw"`` or ``"adam"`` (L2
            ``weight_decay`` added to the gradient, as ``torch.optim.Adam``).
        lr, weight_decay: the optimizer's learning rate and weight decay.
        lr_schedule: ``"cosine"`` (to 0 over ``epochs``), ``"step"`` (× ``gamma`` every ``step_size``
            epochs, default epochs // 3) or ``"constant"``; stepped once per epoch.
        checkpoint_every: with an output directory, save ``checkpoint.pt`` every k epochs (and before
            the first, after the last).
        seed: seeds the data order, the mixing and (``rng="separate"``) torch's global generators.
        rng: ``"separate"`` or ``"shared"`` generators (module docstring).
        num_classes: the number of classes when the labels are class indices (default: the model's
            number of outputs).
        device: where to train (default: where the model's parameters are).
        progress: a bar over epochs, drawn only on a terminal (False: never).

    Invalid values raise ``ValueError`` naming the field:

    >>> TrainConfig(epochs=3, lr=0.1).lr
    0.1
    >>> TrainConfig(optimizer="rmsprop")
    Traceback (most recent call last):
    ...
    ValueError: optimizer must be one of sgd, adamw, adam; got 'rmsprop'
    """

    epochs: int = 10
    batch_size: int | None = 128
    optimizer: OptimizerName = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 5e-4
    lr_schedule: LRSchedule = "cosine"
    step_size: int | None = None
    gamma: float = 0.1
    checkpoint_every: int = 1
    seed: int = 0
    rng: RngScheme = "separate"
    num_classes: int | None = None
    device: DeviceLike = None
    progress: bool | None = None

    def __post_init__(self) -> None:
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        _check_choice("rng", self.rng, RNG_SCHEMES)
        for name in ("epochs", "checkpoint_every", "batch_size", "step_size", "num_classes"):
            value, required = getattr(self, name), name in ("epochs", "checkpoint_every")
            if value is not None or required:
                object.__setattr__(self, name, _count(name, value, "" if required else " or None"))
        for name in ("lr", "momentum", "weight_decay", "gamma"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            if value < 0 or (name == "lr" and value == 0):
                raise ValueError(f"{name} must be {'> 0' if name == 'lr' else '>= 0'}, got {value!r}")
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0):
            raise ValueError("nesterov=True needs optimizer='sgd' and a momentum > 0")
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        object.__setattr__(self, "seed", int(self.seed))
        if self.progress not in (None, True, False):
            raise ValueError(f"progress must be True, False or None (on a terminal), got {self.progress!r}")

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` (field → value), validated again; an unknown name is refused."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(
                f"TrainConfig has no field {', '.join(unknown)}; the fields are "
                f"{', '.join(f.name for f in dataclasses.fields(self))}"
            )
        return dataclasses.replace(self, **changes)

    def checkpointed(self) -> dict[str, Any]:
        """The settings a checkpoint records and a resumed run must match (``rng`` only when
        ``"shared"``, so that runs saved before it existed still resume)."""
        settings = {name: getattr(self, name) for name in _CHECKPOINTED}
        if self.rng != "separate":
            settings["rng"] = self.rng
        return settings


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _count(name: str, value: object, alternative: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer{alternative}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class RunNotes:
    """What a run says about itself, beyond its settings: ``data``, a description of the training
    data for ``provenance.json``, and ``marker``, entries for the run's marker file
    (``.mixtheory.json``; the command line keeps its options there)."""

    data: str | None = None
    marker: dict[str, Any] = dataclasses.field(default_factory=dict)
