r"""The recorders of :func:`mixtheory.training.train`, usable from any PyTorch training loop.

A :class:`Monitor` holds the recorders (R1–R4 and R13, the mixup loss, EL2N, GraNd, forgetting,
accuracy; :mod:`mixtheory.training.recorders`), the forgetting tracker and the evaluation set::

    monitor = Monitor(model, (X, Y), recorders=[RegularizerRecorder(256), EL2NRecorder(256)], out=DIR)
    monitor.epoch_end(0)                          # the initial model
    for epoch in range(epochs):
        for x, y, idx in loader:                  # loader over IndexedDataset(train_set)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            monitor.observe(idx, logits, y)       # the batch's own forward pass, before the step
            opt.zero_grad(); loss.backward(); opt.step()
        monitor.epoch_end(epoch + 1)              # recorders on the fixed, seeded subsets; tables

- :meth:`Monitor.observe` updates the forgetting tracker from the logits of the training forward
  pass, with no forward pass of its own. Toneva et al. (ICLR 2019) count a sample's correctness at
  each presentation from the forward pass that trains on it, before the optimizer step; pass the
  logits of the clean (unmixed) inputs. Under mixup the training forward sees mixed inputs: pass
  logits of the clean batch (``train`` runs one no-grad forward for this when its objective does
  not return clean logits).
- :meth:`Monitor.epoch_end` runs every recorder in eval mode on its fixed, seeded subset of the
  evaluation set and, with ``out``, writes ``<recorder>.csv`` / ``.npz`` and ``provenance.json``
  atomically (:mod:`mixtheory._io`).
- :meth:`Monitor.state_dict` / :meth:`Monitor.load_state_dict` go into the user's checkpoints; a
  run resumed from them writes the same tables as an uninterrupted one.
- Under ``torch.distributed`` (``torchrun``, DDP) each rank computes its shard of the per-sample
  recorders (:mod:`mixtheory.training.monitor_dist`), rank 0 gathers and writes; the forgetting
  tracker gathers each step's observations from all ranks.

The evaluation set is ``(X, Y)`` tensors, a map-style ``Dataset`` of ``(x, y)`` (its evaluation
transform) or a ``DataLoader`` over one (:func:`mixtheory.training.eval_data.eval_data_from`); see
:mod:`mixtheory.datasets` for the geometry that applies then.
"""

from __future__ import annotations

import contextlib
import csv
import io
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._io import save_npz, save_torch, write_json, write_text
from .._types import ArrayLike, DeviceLike, Tensor
from ..laws import MixingLaw
from ..provenance import provenance
from ..scores import ForgettingTracker
from . import monitor_dist
from .eval_data import eval_data_from
from .objectives import ERMObjective, Objective, TrainingData
from .recorders import RecordContext, Recorder

__all__ = ["Monitor", "write_rows"]


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """The model in eval mode inside the block, its previous mode restored after."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Rows (dicts) as a CSV with the union of their keys as header, written atomically."""
    buffer = io.StringIO(newline="")
    names = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(buffer, fieldnames=names)
    writer.writeheader()
    writer.writerows(rows)
    return write_text(path, buffer.getvalue())


class Monitor:
    r"""Recorders, forgetting tracker and outputs of a training run (module docstring).

    Args:
        model: the network being trained (any ``nn.Module`` mapping (B, *input_shape) to (B, c)).
        eval_data: ``(X, Y)`` tensors, a ``Dataset`` of ``(x, y)`` with the evaluation transform, or
            a ``DataLoader`` over one. Sample i of it is the sample ``observe`` calls index i.
        recorders: :class:`~mixtheory.training.Recorder` instances, each name once.
        out: directory for the tables and ``provenance.json`` (None: keep them in memory only).
            A file there that this monitor did not write is never overwritten (after
            :meth:`load_state_dict`, its own earlier files may be rewritten).
        objective: the training objective (its λ law and test-time predictor); default ERM.
        law: λ's law for the recorders' geometry when there is no objective (default Beta(1, 1)).
        test: ``(X_test, Y_test)`` for the accuracy recorder.
        num_classes, device: of the labels and the evaluation data (default: the model's device).
        seed: written into ``provenance.json``.

    A forgetting tracker is kept when a recorder or the objective needs one. ``config`` and
    ``data_description`` (None by default) are written into ``provenance.json`` too;
    :func:`mixtheory.training.train` sets them to its settings and the data's description.
    """

    def __init__(
        self,
        model: nn.Module,
        eval_data: Any,
        recorders: Sequence[Recorder] = (),
        *,
        out: str | Path | None = None,
        objective: Objective | None = None,
        law: MixingLaw | None = None,
        test: tuple[ArrayLike, ArrayLike] | None = None,
        num_classes: int | None = None,
        device: DeviceLike = None,
        seed: int | None = None,
    ):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if isinstance(model, nn.parallel.DistributedDataParallel):
            model = model.module  # its forward would synchronise buffers across ranks per call
        params = list(model.parameters())
        if not params:
            raise ValueError("model has no parameters")
        self.objective = ERMObjective() if objective is None else objective
        if not isinstance(self.objective, Objective):
            raise TypeError(
                f"objective must be a mixtheory.training Objective, got {type(objective).__name__}"
            )
        if law is not None and not isinstance(law, MixingLaw):
            raise TypeError(f"law must be a mixtheory MixingLaw (e.g. SymmetricBeta(1.0)), got {law!r}")
        self.model, self.law = model, law
        dev = torch.device(device) if device is not None else params[0].device
        dtype = params[0].dtype
        self.data = eval_data_from(eval_data, num_classes=num_classes, dtype=dtype, device=dev)
        self.test = (
            test
            if test is None or isinstance(test, TrainingData)
            else TrainingData.from_arrays(*test, num_classes=self.data.num_classes, dtype=dtype, device=dev)
        )
        self.recorders = list(recorders)
        _check_recorders(self.recorders)
        self._check_model_input()
        needs = self.objective.needs_tracker or any(r.needs_tracker for r in self.recorders)
        timing = next((r.timing for r in self.recorders if getattr(r, "timing", None)), "before_step")
        self.tracker = ForgettingTracker(self.data.n, self.data.num_classes, timing=timing) if needs else None
        self.out = None if out is None else Path(out)
        self.seed = seed
        self.config: dict[str, Any] | None = None
        self.data_description: str | None = None
        self.device = dev
        self.epochs: list[int] = []
        self._written: set[str] = set()
        self._resume = False
        self._started = time.perf_counter()
        for recorder in self.recorders:
            recorder.setup(self.data)

    # --- checks ---------------------------------------------------------------------------------
    def _check_model_input(self) -> None:
        """One eval-mode forward of the first evaluation sample: the shapes must fit the model."""
        x = self.data.X[torch.tensor([0])]
        try:
            with torch.no_grad(), eval_mode(self.model):
                out = self.model(x)
        except Exception as exc:  # a shape error inside the user's model
            raise ValueError(
                f"eval_data: a sample of shape {tuple(x.shape[1:])} does not fit the model's input "
                f"({type(exc).__name__}: {exc}); give the evaluation set in the shape the model takes"
            ) from exc
        if not isinstance(out, Tensor) or out.ndim != 2 or out.shape[1] != self.data.num_classes:
            shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
            raise ValueError(
                f"eval_data: the model maps a sample to {shape}, but the labels have "
                f"{self.data.num_classes} classes; pass num_classes or labels of the model's width"
            )

    @property
    def n(self) -> int:
        """The number of evaluation samples (indices of ``observe`` lie in [0, n))."""
        return self.data.n

    # --- the training loop's calls --------------------------------------------------------------
    def observe(self, indices: ArrayLike, logits: Tensor, targets: ArrayLike | None = None) -> None:
        """One presentation of the samples ``indices`` (b,): the logits (b, c) of the training
        forward pass and their targets ((b,) classes or (b, c) label vectors; None: the evaluation
        set's labels). Updates the forgetting tracker (a no-op without one); under DDP every rank
        calls it with its own batch and the observations are gathered."""
        if self.tracker is None:
            return
        idx = torch.as_tensor(indices).detach().cpu()
        if idx.dtype.is_floating_point or idx.dtype == torch.bool or idx.ndim != 1:
            raise ValueError(
                f"indices must be a (b,) integer tensor of sample indices, got {idx.dtype} {tuple(idx.shape)}"
            )
        idx = idx.long()
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= self.n):
            raise IndexError(
                f"indices holds {int(idx.min()) if int(idx.min()) < 0 else int(idx.max())}, outside the "
                f"evaluation set [0, {self.n}); index the same dataset the monitor was given"
            )
        if not isinstance(logits, Tensor) or logits.ndim != 2 or logits.shape[0] != idx.numel():
            shape = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
            raise ValueError(f"logits must be ({idx.numel()}, c) for {idx.numel()} indices, got {shape}")
        predicted = logits.detach().argmax(-1).cpu()
        labels = self._labels(idx, targets)
        idx, predicted, labels = monitor_dist.gather_observations(idx, predicted, labels)
        self.tracker.update(idx, predicted, labels)

    def _labels(self, idx: Tensor, targets: ArrayLike | None) -> Tensor:
        if targets is None:
            return self.data.labels[idx]
        t = torch.as_tensor(targets).detach().cpu()
        if t.ndim == 2:
            t = t.argmax(-1)
        if t.ndim != 1 or t.shape[0] != idx.numel():
            raise ValueError(
                f"targets must be ({idx.numel()},) classes or ({idx.numel()}, c) labels, got {tuple(t.shape)}"
            )
        return t.long()

    def law_at(self, epoch: int) -> MixingLaw | None:
        """λ's law the recorders use after ``epoch`` epochs: ``law``, else the objective's law of
        the epoch just trained (the recorders' own default for ERM)."""
        return self.law if self.law is not None else self.objective.training_law(max(epoch - 1, 0))

    def epoch_end(self, epoch: int, *, write: bool = True) -> None:
        """Run the recorders after ``epoch`` epochs (0: the initial model) and, with ``out`` and
        ``write``, write the tables. Under DDP call it on every rank."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be an integer >= 0 (epochs done), got {epoch!r}")
        ctx = RecordContext(
            self.model, self.data, self.test, self.objective, self.law_at(epoch), self.tracker
        )
        monitor_dist.check_ranks(ctx, self.recorders)
        with eval_mode(self.model):
            for recorder in self.recorders:
                monitor_dist.record(recorder, ctx, epoch)
        self.epochs.append(epoch)
        if write and self.out is not None and monitor_dist.is_writer():
            self.write()

    # --- reading and writing --------------------------------------------------------------------
    def _require_epoch(self, what: str) -> None:
        if not self.epochs:
            raise RuntimeError(f"{what}: the monitor has recorded no epoch yet; call epoch_end(0) first")

    def rows(self, name: str) -> list[dict[str, Any]]:
        """The rows of recorder ``name`` so far (e.g. ``"regularizers"``, ``"el2n"``)."""
        self._require_epoch(f"rows({name!r})")
        for recorder in self.recorders:
            if recorder.name == name:
                return list(recorder.rows)
        raise KeyError(f"no recorder named {name!r}; the monitor has {[r.name for r in self.recorders]}")

    def _target(self, name: str) -> Path:
        path = self.out / name
        if path.exists() and name not in self._written and not self._resume:
            raise FileExistsError(
                f"{path} exists and was not written by this monitor; choose another out directory "
                "(or resume=True after load_state_dict to continue that run)"
            )
        self._written.add(name)
        return path

    def write(
        self,
        history: list[dict[str, Any]] | None = None,
        *,
        save_model: bool = False,
        **extra: Any,
    ) -> dict[str, Path]:
        """Write the tables (and ``history.csv``, ``model.pt`` when asked) and ``provenance.json``
        under ``out``, each atomically; returns name → path. ``extra`` goes into the provenance."""
        self._require_epoch("write")
        if self.out is None:
            raise ValueError("write: the monitor has no out directory; pass out= when creating it")
        self.out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        if history:
            paths["history"] = write_rows(self._target("history.csv"), history)
        for recorder in self.recorders:
            paths.update(_write_recorder(recorder, self._target))
        if save_model:
            paths["model"] = save_torch(self._target("model.pt"), self.model.state_dict())
        record = provenance(
            seeds={"seed": self.seed},
            device=self.device,
            wall_time_s=time.perf_counter() - self._started,
            data=self.data_description,
            **({"epochs_done": self.epochs[-1], "config": self.config} | extra),
            recorders=[r.name for r in self.recorders],
        )
        paths["provenance"] = write_json(self._target("provenance.json"), record)
        return paths

    # --- checkpoints ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The tracker, the recorders' rows and subsets and the epochs recorded: put it in a checkpoint."""
        return {
            "tracker": None if self.tracker is None else self.tracker.state_dict(),
            "recorders": {r.name: r.state_dict() for r in self.recorders},
            "monitor_epochs": list(self.epochs),
            "monitor_written": sorted(self._written),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; the monitor may then rewrite its own earlier files."""
        if (state.get("tracker") is None) != (self.tracker is None):
            raise ValueError("state: the checkpoint and this monitor differ in keeping a forgetting tracker")
        if self.tracker is not None:
            self.tracker.load_state_dict(state["tracker"])
        for r in self.recorders:
            if r.name in state["recorders"]:
                r.load_state_dict(state["recorders"][r.name])
        self.epochs = list(state.get("monitor_epochs", []))
        self._written |= set(state.get("monitor_written", []))
        self._resume = True


def _check_recorders(recorders: list[Recorder]) -> None:
    for r in recorders:
        if not isinstance(r, Recorder):
            raise TypeError(
                f"recorders must be mixtheory.training Recorder instances, got {type(r).__name__}"
            )
    names = [r.name for r in recorders]
    if len(set(names)) != len(names):
        raise ValueError(f"each recorder may appear once, got {names}")


def _write_recorder(recorder: Recorder, target) -> dict[str, Path]:
    """``<name>.csv`` (and ``<name>.npz``) of one recorder, atomically; ``target(name)`` gives the path."""
    paths: dict[str, Path] = {}
    if recorder.rows:
        path = target(f"{recorder.name}.csv")
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=list(recorder.rows[0]))
        writer.writeheader()
        writer.writerows(recorder.rows)
        paths[recorder.name] = write_text(path, buffer.getvalue())
    if recorder.arrays:
        stacked = {k: np.stack(v) for k, v in recorder.arrays.items()}
        paths[f"{recorder.name}_npz"] = save_npz(
            target(f"{recorder.name}.npz"),
            epochs=np.asarray(recorder.array_epochs),
            indices=recorder.indices.numpy(),
            **stacked,
        )
    return paths
