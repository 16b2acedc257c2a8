r"""Recorders: callbacks that measure one quantity per epoch while :func:`mixtheory.training.train`
runs, and write it as a tidy table.

Each recorder evaluates the model in eval mode, after epoch t (t = 0 is the initial model), on a
**fixed** subset of the training samples drawn once from its own ``seed`` (``num_samples=None``:
all samples), so that per-sample trajectories are comparable across epochs. It keeps one row per
measurement — ``(epoch, sample, …)`` or ``(epoch, …)`` — written to ``<name>.csv``, and arrays that
do not fit a row (class matrices, per-sample vectors) to ``<name>.npz`` with an ``epochs`` array.
Its rows are part of each checkpoint, so a resumed run writes the same tables as an uninterrupted
one. Random estimates (probes, sampled losses) use a generator seeded afresh with ``seed`` at
every epoch: the same probes at every epoch (common random numbers), which makes the epoch-to-epoch
changes far less noisy than the values and lets a direct call with the same seed reproduce a row.

- :class:`RegularizerRecorder`: per-sample ``erm, R1, R2, R3, R4, R13`` and standard errors of
  Theorem 3 (Carratino et al., JMLR 2022; ``docs/theory.md §4, §7``) by
  :func:`mixtheory.estimators.estimate_from_geometry`, with the geometry of the **whole** training
  set and λ's law of the objective at that epoch. **Read R13**: R1 and R3 are each ~1e8 or more on
  a confident network and cancel (``docs/theory.md §5``); R13 = R1 + R3 is computed directly and
  stays O(1). Never add the R1 and R3 columns.
- :class:`MixupLossRecorder`: the mixup loss of the subset, exact (``docs/theory.md §6.1``) or
  sampled with a standard error (§6.2).
- :class:`EL2NRecorder`, :class:`GraNdRecorder`: data-valuation scores per sample (Paul, Ganguli,
  Dziugaite, NeurIPS 2021).
- :class:`ForgettingRecorder`: forgetting events per sample and the class matrix (Toneva et al.,
  ICLR 2019), from the tracker the trainer updates at every presentation.
- :class:`AccuracyRecorder`: train and test accuracy and mean confidence (max softmax), of the
  objective's predictor (the rescaled one for approximate mixup), on the full sets.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from torch import nn

from .._io import save_npz, write_csv
from .._types import Tensor
from ..estimators import EstimatorOptions, estimate_from_geometry
from ..geometry import MixupGeometry, make_geometry
from ..laws import MixingLaw, SymmetricBeta
from ..mixup_loss import exact_mixup_loss, sampled_mixup_loss
from ..scores import ForgettingTracker, el2n, grand
from .objectives import Objective, TrainingData

__all__ = [
    "RecordContext",
    "Recorder",
    "RegularizerRecorder",
    "MixupLossRecorder",
    "EL2NRecorder",
    "GraNdRecorder",
    "ForgettingRecorder",
    "AccuracyRecorder",
    "RECORDERS",
    "recorder_from_name",
]


@dataclass
class RecordContext:
    """What a recorder sees: the model (eval mode), the training set, the test set (or None), the
    objective, λ's law of the epoch just trained (None for ERM), the forgetting tracker (or None)."""

    model: nn.Module
    data: TrainingData
    test: TrainingData | None
    objective: Objective
    law: MixingLaw | None
    tracker: ForgettingTracker | None


class Recorder:
    """Base: a fixed seeded subset, rows and arrays, CSV/NPZ output, state for checkpoints."""

    name: ClassVar[str] = "recorder"
    needs_tracker: ClassVar[bool] = False

    def __init__(self, num_samples: int | None = 256, *, seed: int = 0):
        if num_samples is not None and (
            isinstance(num_samples, bool) or int(num_samples) != num_samples or num_samples < 1
        ):
            raise ValueError(f"num_samples must be a positive integer or None, got {num_samples!r}")
        self.num_samples, self.seed = num_samples, int(seed)
        self.indices: Tensor | None = None
        self.rows: list[dict[str, Any]] = []
        self.arrays: dict[str, list[np.ndarray]] = {}
        self.array_epochs: list[int] = []

    def setup(self, data: TrainingData) -> None:
        """Draw the fixed subset (sorted indices) once; a restored subset is kept."""
        if self.indices is not None:
            return
        n = data.n
        if self.num_samples is None or self.num_samples >= n:
            self.indices = torch.arange(n)
        else:
            g = torch.Generator().manual_seed(self.seed)
            self.indices = torch.sort(torch.randperm(n, generator=g)[: self.num_samples]).values

    def describe(self) -> dict[str, Any]:
        """The recorder's settings (name, subset size, seed, and its own options): a resumed run must
        record with the same ones (:func:`mixtheory.training.train` compares them)."""
        return {"name": self.name, "num_samples": self.num_samples, "seed": self.seed, **self.settings()}

    def settings(self) -> dict[str, Any]:
        """Options particular to a recorder class, JSON-ready (none here)."""
        return {}

    def generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed)

    def subset(self, data: TrainingData) -> tuple[Tensor, Tensor]:
        idx = self.indices.to(data.X.device)
        return data.X[idx], data.Y[idx]

    def record(self, ctx: RecordContext, epoch: int) -> None:
        raise NotImplementedError

    def add_per_sample(self, epoch: int, columns: dict[str, Tensor]) -> None:
        """One row per (epoch, sample) from (m,) tensors."""
        values = {k: v.detach().to("cpu", torch.float64).tolist() for k, v in columns.items()}
        for k, sample in enumerate(self.indices.tolist()):
            self.rows.append(
                {"epoch": epoch, "sample": sample, **{key: vals[k] for key, vals in values.items()}}
            )

    def add_arrays(self, epoch: int, arrays: dict[str, np.ndarray]) -> None:
        self.array_epochs.append(epoch)
        for key, value in arrays.items():
            self.arrays.setdefault(key, []).append(np.asarray(value))

    def write(self, directory: str | Path) -> list[Path]:
        """``<name>.csv`` (and ``<name>.npz`` when the recorder keeps arrays), each written atomically
        (:mod:`mixtheory._io`); returns the paths."""
        directory = Path(directory)
        paths = []
        if self.rows:
            names = list(self.rows[0])
            rows = [[row.get(k, "") for k in names] for row in self.rows]
            paths.append(write_csv(directory / f"{self.name}.csv", names, rows))
        if self.arrays:
            stacked = {k: np.stack(v) for k, v in self.arrays.items()}
            paths.append(
                save_npz(
                    directory / f"{self.name}.npz",
                    epochs=np.asarray(self.array_epochs),
                    indices=self.indices.numpy(),
                    **stacked,
                )
            )
        return paths

    def state_dict(self) -> dict:
        return {
            "indices": self.indices,
            "rows": list(self.rows),
            "arrays": dict(self.arrays),
            "array_epochs": list(self.array_epochs),
        }

    def load_state_dict(self, state: dict) -> None:
        self.indices = state["indices"]
        self.rows = list(state["rows"])
        self.arrays = {k: list(v) for k, v in state["arrays"].items()}
        self.array_epochs = list(state["array_epochs"])


def _law_for(own: MixingLaw | None, ctx: RecordContext) -> MixingLaw:
    """The recorder's own law, else the objective's, else Beta(1, 1) (ERM has none)."""
    if own is not None:
        return own
    return ctx.law if ctx.law is not None else SymmetricBeta(1.0)


class RegularizerRecorder(Recorder):
    r"""Per-sample ``erm, R1, R2, R3, R4, R13`` with ``R1_se, R2_se, R13_se`` and ``cancellation``
    (module docstring; R13 is the bounded, meaningful one). ``law``: λ's law for the geometry
    (default: the objective's at that epoch, Beta(1, 1) for ERM); ``options``: the estimator's
    :class:`~mixtheory.estimators.EstimatorOptions` (default: the estimator's defaults, with
    ``num_probes`` Gaussian probes when given)."""

    name = "regularizers"

    def __init__(
        self,
        num_samples: int | None = 256,
        *,
        num_probes: int | None = None,
        law: MixingLaw | None = None,
        options: EstimatorOptions | None = None,
        seed: int = 0,
    ):
        super().__init__(num_samples, seed=seed)
        self.law = law
        if options is None:
            options = EstimatorOptions() if num_probes is None else EstimatorOptions(num_probes=num_probes)
        self.options = options
        self._geometry: tuple[tuple, MixupGeometry] | None = None

    def settings(self) -> dict[str, Any]:
        # the progress bar does not change what is recorded
        return {"law": repr(self.law), "options": repr(dataclasses.replace(self.options, progress=None))}

    def geometry(self, data: TrainingData, law: MixingLaw) -> MixupGeometry:
        """The geometry of the whole training set, rebuilt only when λ's moments change."""
        key = tuple(law.moments().values())
        if self._geometry is None or self._geometry[0] != key:
            self._geometry = (key, make_geometry(data.X, data.Y, law, device=data.X.device))
        return self._geometry[1]

    def record(self, ctx: RecordContext, epoch: int) -> None:
        geometry = self.geometry(ctx.data, _law_for(self.law, ctx))
        est = estimate_from_geometry(
            ctx.model, geometry, indices=self.indices, generator=self.generator(), options=self.options
        )
        keys = ("erm", "R1", "R2", "R3", "R4", "R13", "R1_se", "R2_se", "R13_se", "cancellation")
        self.add_per_sample(epoch, {k: est[k] for k in keys})


class MixupLossRecorder(Recorder):
    """The mixup loss of the fixed subset: ``kind="exact"`` (quadrature × all pairs, m² model calls
    per node) or ``"sampled"`` (``num_draws`` replicates, with its standard error). One row per epoch."""

    name = "mixup_loss"

    def __init__(
        self,
        num_samples: int | None = 256,
        *,
        kind: Literal["exact", "sampled"] = "sampled",
        num_draws: int = 16,
        law: MixingLaw | None = None,
        seed: int = 0,
    ):
        super().__init__(num_samples, seed=seed)
        if kind not in ("exact", "sampled"):
            raise ValueError(f"kind must be 'exact' or 'sampled', got {kind!r}")
        self.kind, self.num_draws, self.law = kind, int(num_draws), law

    def settings(self) -> dict[str, Any]:
        return {"kind": self.kind, "num_draws": self.num_draws, "law": repr(self.law)}

    def record(self, ctx: RecordContext, epoch: int) -> None:
        X, Y = self.subset(ctx.data)
        law = _law_for(self.law, ctx)
        if self.kind == "exact":
            value, se = exact_mixup_loss(ctx.model, X, Y, law), 0.0
        else:
            est = sampled_mixup_loss(
                ctx.model, X, Y, law, num_draws=self.num_draws, generator=self.generator()
            )
            value, se = float(est.value), float(est.stderr)
        self.rows.append({"epoch": epoch, "kind": self.kind, "mixup_loss": value, "se": se})


class EL2NRecorder(Recorder):
    """``‖softmax(f(x)) − y‖₂`` per sample of the subset, every epoch."""

    name = "el2n"

    def record(self, ctx: RecordContext, epoch: int) -> None:
        X, Y = self.subset(ctx.data)
        self.add_per_sample(epoch, {"el2n": el2n(ctx.model, X, Y)})


class GraNdRecorder(Recorder):
    """``‖∇_w ℓ(f_w(x), y)‖₂`` over all trainable parameters, per sample of the subset."""

    name = "grand"

    def record(self, ctx: RecordContext, epoch: int) -> None:
        X, Y = self.subset(ctx.data)
        self.add_per_sample(epoch, {"grand": grand(ctx.model, X, Y)})


class ForgettingRecorder(Recorder):
    """Forgetting events and first-learned presentation per sample of the subset (CSV), and the
    ``(c, c)`` class matrix ``[true, forgotten to]`` plus the events of every sample (NPZ), from the
    trainer's tracker (counts over all presentations so far)."""

    name = "forgetting"
    needs_tracker = True

    def __init__(self, num_samples: int | None = None, *, seed: int = 0, timing: str = "before_step"):
        """``timing``: when the trainer reads correctness, ``"before_step"`` (the training forward
        pass, as Toneva et al.) or ``"after_step"`` (:class:`~mixtheory.scores.ForgettingTracker`)."""
        super().__init__(num_samples, seed=seed)
        if timing not in ("before_step", "after_step"):
            raise ValueError(f"timing must be 'before_step' or 'after_step', got {timing!r}")
        self.timing = timing

    def record(self, ctx: RecordContext, epoch: int) -> None:
        if ctx.tracker is None:
            raise RuntimeError("ForgettingRecorder needs the trainer's ForgettingTracker")
        events, first = ctx.tracker.events, ctx.tracker.first_learned
        self.add_per_sample(epoch, {"events": events[self.indices], "first_learned": first[self.indices]})
        for row in self.rows[-len(self.indices) :]:
            row["events"], row["first_learned"] = int(row["events"]), int(row["first_learned"])
        self.add_arrays(epoch, {"class_matrix": ctx.tracker.class_matrix.numpy(), "events": events.numpy()})


def _accuracy_confidence(predictor, data: TrainingData, batch_size: int = 1024) -> tuple[float, float]:
    correct, confidence = 0.0, 0.0
    with torch.no_grad():
        for start in range(0, data.n, batch_size):
            out = predictor(data.X[start : start + batch_size])
            labels = data.labels[start : start + batch_size].to(out.device)
            correct += float((out.argmax(-1) == labels).sum())
            confidence += float(torch.softmax(out, -1).max(-1).values.sum())
    return correct / data.n, confidence / data.n


class AccuracyRecorder(Recorder):
    """Train and test accuracy and mean confidence (mean max softmax of the predictor's outputs)
    on the full sets; one row per epoch (test columns empty without a test set)."""

    name = "accuracy"

    def __init__(self, *, seed: int = 0):
        super().__init__(None, seed=seed)

    def record(self, ctx: RecordContext, epoch: int) -> None:
        predictor = ctx.objective.predictor(ctx.model)
        train_acc, train_conf = _accuracy_confidence(predictor, ctx.data)
        row = {
            "epoch": epoch,
            "train_accuracy": train_acc,
            "train_confidence": train_conf,
            "test_accuracy": None,
            "test_confidence": None,
        }
        if ctx.test is not None:
            row["test_accuracy"], row["test_confidence"] = _accuracy_confidence(predictor, ctx.test)
        self.rows.append(row)


RECORDERS: dict[str, type[Recorder]] = {
    "r": RegularizerRecorder,
    "mixup-loss": MixupLossRecorder,
    "el2n": EL2NRecorder,
    "grand": GraNdRecorder,
    "forgetting": ForgettingRecorder,
    "accuracy": AccuracyRecorder,
}


def recorder_from_name(name: str, *, seed: int = 0, num_samples: int | None = 256) -> Recorder:
    """A recorder by its command-line name (``r``, ``mixup-loss``, ``el2n``, ``grand``,
    ``forgetting``, ``accuracy``), with the package defaults."""
    if name not in RECORDERS:
        raise ValueError(f"unknown recorder {name!r}; choose from {', '.join(RECORDERS)}")
    cls = RECORDERS[name]
    if cls is AccuracyRecorder:
        return cls(seed=seed)
    if cls is ForgettingRecorder:
        return cls(None, seed=seed)
    return cls(num_samples, seed=seed)
