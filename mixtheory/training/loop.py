r"""The training loop: any objective, SGD or AdamW, cosine or step learning-rate schedules, recorders,
checkpoints and bit-for-bit resumption on the CPU.

Randomness has three sources, each seeded from ``seed`` and each saved in every checkpoint: the
data order (a CPU ``torch.Generator``: one ``randperm`` per epoch), the mixing (a second CPU
generator: λ, partners, masks), and torch's global generators (dropout), forked so that the
caller's global state is left as it was. Together with the model, optimizer and scheduler states,
the forgetting tracker, the objective's state (a hard-pairing pool) and the recorders' rows, they
make a run resumed from its last checkpoint equal to the uninterrupted run, bit for bit on the CPU
(``tests/test_training.py`` compares the parameters with ``torch.equal``). On a GPU, reductions can
be non-deterministic; the run is then reproducible only to rounding.

Files under ``out``: ``.mixtheory.json`` (the marker that makes it a run, written first),
``history.csv`` (one row per epoch: loss, learning rate, the objective's parts, seconds), one
``<recorder>.csv`` (and ``.npz``) per recorder, ``model.pt`` (the state dict), ``checkpoint.pt``
(the last checkpoint; the first is written before the first epoch) and ``provenance.json``
(:func:`mixtheory.provenance.write_provenance`), each written atomically (:mod:`mixtheory._io`), so
that an interrupt at any instant leaves a run that ``resume=True`` continues. A checkpoint records
the model's layers, a SHA-256 of the data and the recorders' settings with the other settings; a
resumed run must match them all.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from .._io import check_output_dir, output_dir, save_torch
from .._progress import progress_bar
from .._types import ArrayLike, DeviceLike, Tensor
from .._validation import module_device
from ..scores import ForgettingTracker
from .forgetting import record_forgetting
from .monitor import Monitor, eval_mode
from .objectives import ERMObjective, Objective, TrainingData
from .recorders import Recorder

__all__ = ["train", "TrainingResult", "OptimizerName", "LRSchedule", "check_out_dir", "CHECKPOINT"]

OptimizerName = Literal["sgd", "adamw"]
LRSchedule = Literal["cosine", "step", "constant"]
CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainingResult:
    """``model`` (trained, eval mode), ``history`` (one dict per epoch), ``recorders``, ``out`` (the
    output directory or None) and ``paths`` (name → file written), ``resumed_from`` (epoch or None)."""

    model: nn.Module
    history: list[dict[str, Any]]
    recorders: list[Recorder]
    out: Path | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    resumed_from: int | None = None

    def column(self, name: str) -> list[Any]:
        """One column of the history table, e.g. ``result.column("loss")``."""
        return [row.get(name) for row in self.history]


def check_out_dir(out: str | Path, resume: bool, option: str = "out") -> Path:
    """Check ``out`` before any training, creating nothing: a directory that is absent (and
    creatable), empty, or a mixtheory training run (marked by :data:`mixtheory._io.MARKER`, or
    holding ``checkpoint.pt``); holding a checkpoint exactly when ``resume`` is set. A directory
    holding anything else is refused: a run never overwrites files it did not write. ``option`` names
    the argument in the messages (``--out`` on the command line)."""
    path = check_output_dir(
        out, "train", option, recognise=lambda p: (p / CHECKPOINT).is_file(), what="mixtheory training run"
    )
    has_run = (path / CHECKPOINT).is_file()
    if resume and not has_run:
        raise ValueError(
            f"resume: {option} {path} holds no {CHECKPOINT} to resume from (a run interrupted before its "
            "first checkpoint saved nothing); start it without resume"
        )
    if not resume and has_run:
        raise ValueError(
            f"{option} {path} already holds a run ({CHECKPOINT}); resume it or choose another directory"
        )
    return path


def _optimizer(
    model: nn.Module, name: OptimizerName, lr: float, momentum: float, nesterov: bool, weight_decay: float
) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(
            model.parameters(), lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay
        )
    if name == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be 'sgd' or 'adamw', got {name!r}")


def _scheduler(
    opt: torch.optim.Optimizer, schedule: LRSchedule, epochs: int, step_size: int | None, gamma: float
) -> torch.optim.lr_scheduler.LRScheduler | None:
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    if schedule == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=step_size or max(1, epochs // 3), gamma=gamma)
    if schedule == "constant":
        return None
    raise ValueError(f"lr_schedule must be 'cosine', 'step' or 'constant', got {schedule!r}")


@dataclass
class _Run:
    """Everything that changes during training and goes into a checkpoint."""

    model: nn.Module
    objective: Objective
    optimizer: torch.optim.Optimizer
    scheduler: Any
    data_gen: torch.Generator
    mix_gen: torch.Generator
    monitor: Monitor
    history: list[dict[str, Any]]
    config: dict[str, Any]

    @property
    def tracker(self) -> ForgettingTracker | None:
        return self.monitor.tracker

    @property
    def recorders(self) -> list[Recorder]:
        return self.monitor.recorders

    def state_dict(self, epoch: int) -> dict:
        return {
            "epoch": epoch,
            "config": self.config,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "data_gen": self.data_gen.get_state(),
            "mix_gen": self.mix_gen.get_state(),
            **self.monitor.state_dict(),
            "objective": self.objective.state_dict(),
            "history": self.history,
        }

    def load_state_dict(self, state: dict) -> int:
        saved = state.get("config", {})
        differ = [_difference(k, saved.get(k), v) for k, v in self.config.items() if saved.get(k) != v]
        if differ:
            raise ValueError(
                f"the checkpoint was made with other settings ({'; '.join(differ)}); resume with the same "
                "model, data, recorders and options, or start a new run in another directory"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.data_gen.set_state(state["data_gen"])
        self.mix_gen.set_state(state["mix_gen"])
        self.monitor.load_state_dict(state)
        self.objective.load_state_dict(state["objective"])
        self.history = list(state["history"])
        return int(state["epoch"])


def _difference(key: str, saved: Any, now: Any) -> str:
    """``key: checkpoint …, now …`` for the first entry where two (nested) settings differ."""
    if isinstance(saved, dict) and isinstance(now, dict):
        for k in dict.fromkeys([*saved, *now]):
            if saved.get(k) != now.get(k):
                return _difference(f"{key}.{k}", saved.get(k), now.get(k))
    if isinstance(saved, list) and isinstance(now, list) and len(saved) == len(now):
        i = next(i for i, (a, b) in enumerate(zip(saved, now)) if a != b)
        return _difference(f"{key}[{i}]", saved[i], now[i])
    return f"{key}: checkpoint {saved!r}, now {now!r}"


def _model_summary(model: nn.Module) -> list[str]:
    """One line per leaf module (``name: Linear(in_features=64, …)``): tells widths and activations
    apart, which parameter shapes alone cannot."""
    return [f"{name}: {module!r}" for name, module in model.named_modules() if not list(module.children())]


def _data_summary(data: TrainingData | None) -> dict[str, Any] | None:
    """Size, shapes, classes and a SHA-256 of the inputs and labels: a resumed run must see the same data."""
    if data is None:
        return None
    digest = hashlib.sha256()
    for tensor in (data.X, data.Y):
        digest.update(tensor.detach().cpu().contiguous().numpy())  # the buffer itself, no copy
    return {
        "n": data.n,
        "input_shape": list(data.X.shape[1:]),
        "num_classes": data.num_classes,
        "dtype": str(data.X.dtype),
        "sha256": digest.hexdigest(),
    }


_eval_mode = eval_mode


def _run_epoch(run: _Run, data: TrainingData, epoch: int, batch_size: int) -> dict[str, Any]:
    """One pass over the data in a seeded order; returns the history row."""
    start_time = time.perf_counter()
    model, objective = run.model, run.objective
    with _eval_mode(model):
        objective.begin_epoch(model, data, epoch, run.tracker)
    lr = run.optimizer.param_groups[0]["lr"]
    model.train()
    order = torch.randperm(data.n, generator=run.data_gen)
    sums: dict[str, float] = {"loss": 0.0}
    for start in range(0, data.n, batch_size):
        idx = order[start : start + batch_size]
        out = objective.batch_loss(model, data, idx, epoch, run.mix_gen)
        if not bool(torch.isfinite(out.loss)):
            raise RuntimeError(
                f"the {objective.name} loss became {float(out.loss)} at epoch {epoch + 1}; "
                "lower the learning rate"
            )
        run.optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        # forgetting: read at the tracker's timing (before the step, as Toneva et al., or after it)
        record_forgetting(run.monitor, "before_step", objective, model, data, idx, out.clean_logits)
        run.optimizer.step()
        record_forgetting(run.monitor, "after_step", objective, model, data, idx, None)
        sums["loss"] += float(out.loss.detach()) * idx.numel()
        for key, value in out.parts.items():
            sums[key] = sums.get(key, 0.0) + value * idx.numel()
    if run.scheduler is not None:
        run.scheduler.step()
    model.eval()
    row = {"epoch": epoch + 1, "lr": lr, **{k: v / data.n for k, v in sums.items()}}
    row["seconds"] = time.perf_counter() - start_time
    return row


def _record(run: _Run, data: TrainingData, test: TrainingData | None, epoch: int) -> None:
    run.monitor.epoch_end(epoch, write=False)


def _write_outputs(
    run: _Run, out: Path, epoch: int, seed: int, device: torch.device, started: float, data_note: str | None
) -> dict[str, Path]:
    """The tables, ``history.csv``, ``model.pt`` and ``provenance.json``, through the monitor."""
    return run.monitor.write(run.history, save_model=True, objective=run.objective.describe())


def train(
    model: nn.Module,
    X: ArrayLike,
    Y: ArrayLike,
    objective: Objective | None = None,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    optimizer: OptimizerName = "sgd",
    lr: float = 0.05,
    momentum: float = 0.9,
    nesterov: bool = False,
    weight_decay: float = 5e-4,
    lr_schedule: LRSchedule = "cosine",
    step_size: int | None = None,
    gamma: float = 0.1,
    recorders: Sequence[Recorder] = (),
    test: tuple[Tensor, Tensor] | None = None,
    out: str | Path | None = None,
    checkpoint_every: int = 1,
    resume: bool = False,
    seed: int = 0,
    device: DeviceLike = None,
    num_classes: int | None = None,
    progress: bool | None = None,
    data_description: str | None = None,
    marker: dict[str, Any] | None = None,
) -> TrainingResult:
    r"""Train ``model`` with ``objective`` (default ERM), recording as it goes (module docstring).

    Args:
        model: maps (B, *input_shape) to (B, c) logits; trained in place on ``device`` (default:
            where its parameters are), left in eval mode.
        X: (n, *input_shape) training inputs; Y: (n,) class indices or (n, c) label vectors.
        objective: an :class:`~mixtheory.training.Objective` (``ERMObjective``, ``Mixup``,
            ``RegMixup``, ``ApproximateMixup``, ``HardPairing``, ``ForgettingPartners``, ``MixupE``).
        epochs, batch_size: passes over the data and minibatch size (the last batch may be smaller).
        optimizer: ``"sgd"`` (with ``momentum``, ``nesterov``) or ``"adamw"``; lr, weight_decay.
        lr_schedule: ``"cosine"`` (to 0 over ``epochs``), ``"step"`` (× ``gamma`` every ``step_size``
            epochs, default epochs // 3) or ``"constant"``; stepped once per epoch.
        recorders: measured after every epoch (and on the initial model, epoch 0), each name once.
        test: (X_test, Y_test) for the accuracy recorder.
        out: directory for the outputs: absent, empty or a run of this package (anything else is
            refused, never overwritten); created and marked (``.mixtheory.json``) when training
            starts; every file written atomically (:mod:`mixtheory._io`).
        checkpoint_every: save ``checkpoint.pt`` every k epochs (and before the first, after the last).
        resume: continue the run in ``out`` from its checkpoint; the model (layers, widths,
            activations), the data (SHA-256), the recorders and every setting must be the same, else
            a ValueError names the first difference.
        seed: seeds the data order, the mixing and torch's global generators (forked).
        progress: a bar over epochs, drawn only on a terminal (False: never).
        marker: entries for the run's marker file (the command line keeps its options there).

    Returns a :class:`TrainingResult`.
    """
    objective = ERMObjective() if objective is None else objective
    _check_arguments(
        objective, recorders, epochs=epochs, batch_size=batch_size, checkpoint_every=checkpoint_every
    )
    out_dir = None if out is None else check_out_dir(out, resume)
    if resume and out_dir is None:
        raise ValueError("resume needs out (the directory holding the checkpoint)")
    dev = module_device(model, device)
    model.to(dev)
    data, test_data = _training_data(model, X, Y, test, num_classes, dev)
    config = {
        "objective": objective.describe(),
        **dict(epochs=epochs, batch_size=batch_size, seed=seed, optimizer=optimizer, lr=lr),
        **dict(momentum=momentum, nesterov=nesterov, weight_decay=weight_decay, lr_schedule=lr_schedule),
        **dict(step_size=step_size, gamma=gamma, model=_model_summary(model)),
        **dict(data=_data_summary(data), test=_data_summary(test_data)),
        "recorders": [r.describe() for r in recorders],
    }
    fork_devices = [dev.index or 0] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=fork_devices):
        torch.manual_seed(seed)
        run = _new_run(model, objective, recorders, data, config)
        return _train_loop(
            run, data, test_data, out_dir, resume, checkpoint_every, progress, dev, data_description, marker
        )


def _check_arguments(objective: Objective, recorders: Sequence[Recorder], **positive: int) -> None:
    """Reject a non-objective, a non-positive count (``positive``: name → value) or a repeated recorder."""
    if not isinstance(objective, Objective):
        raise TypeError(f"objective must be a mixtheory.training Objective, got {type(objective).__name__}")
    for name, value in positive.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    names = [r.name for r in recorders]
    if len(set(names)) != len(names):
        raise ValueError(f"each recorder may appear once, got {names}")


def _training_data(
    model: nn.Module,
    X: ArrayLike,
    Y: ArrayLike,
    test: tuple[Tensor, Tensor] | None,
    num_classes: int | None,
    dev: torch.device,
) -> tuple[TrainingData, TrainingData | None]:
    """The training set and the optional test set, in the model's dtype on ``dev``."""
    dtype = next(model.parameters()).dtype
    data = TrainingData.from_arrays(X, Y, num_classes=num_classes, dtype=dtype, device=dev, model=model)
    test_data = (
        None
        if test is None
        else TrainingData.from_arrays(*test, num_classes=None, dtype=dtype, device=dev, model=model)
    )
    return data, test_data


def _new_run(
    model: nn.Module,
    objective: Objective,
    recorders: Sequence[Recorder],
    data: TrainingData,
    config: dict[str, Any],
) -> _Run:
    """A fresh run: optimizer, schedule, the two seeded generators and the monitor (recorders, tracker).

    Called with torch's global generators already seeded, as the initial state of a run."""
    seed = config["seed"]
    opt = _optimizer(
        model,
        config["optimizer"],
        config["lr"],
        config["momentum"],
        config["nesterov"],
        config["weight_decay"],
    )
    return _Run(
        model,
        objective,
        opt,
        _scheduler(opt, config["lr_schedule"], config["epochs"], config["step_size"], config["gamma"]),
        torch.Generator().manual_seed(seed),
        torch.Generator().manual_seed(seed + 1),
        Monitor(model, data, recorders, objective=objective, seed=seed, config=config),
        [],
        config,
    )


def _save_checkpoint(run: _Run, out_dir: Path, epoch: int) -> None:
    """Write ``checkpoint.pt`` (atomically: an interrupt leaves the previous one): the run's whole
    state after ``epoch`` epochs."""
    save_torch(out_dir / CHECKPOINT, run.state_dict(epoch))


def _load_checkpoint(run: _Run, out_dir: Path, dev: torch.device) -> int:
    """Restore the run from ``out_dir/checkpoint.pt``; returns the number of epochs it had done."""
    return run.load_state_dict(torch.load(out_dir / CHECKPOINT, weights_only=False, map_location=dev))


def _train_loop(
    run: _Run,
    data: TrainingData,
    test_data: TrainingData | None,
    out_dir: Path | None,
    resume: bool,
    checkpoint_every: int,
    progress: bool | None,
    dev: torch.device,
    data_note: str | None,
    marker: dict[str, Any] | None = None,
) -> TrainingResult:
    """Epochs from the start (or the checkpoint), recording after each and checkpointing every
    ``checkpoint_every``; writes the outputs at the end."""
    started = time.perf_counter()
    epochs, seed = run.config["epochs"], run.config["seed"]
    run.monitor.out, run.monitor.test, run.monitor.data_description = out_dir, test_data, data_note
    start = 0
    if resume:
        start = _load_checkpoint(run, out_dir, dev)
    else:
        _record(run, data, test_data, 0)
    paths: dict[str, Path] = {}
    directory = (
        contextlib.nullcontext()
        if out_dir is None
        else output_dir(out_dir, "train", rewrite=not resume, **(marker or {}))
    )
    with directory:
        try:
            if out_dir is not None and not resume:
                _save_checkpoint(run, out_dir, 0)
            bar = progress_bar(
                epochs - start,
                f"train {run.objective.name}",
                progress,
                iterable=range(start, epochs),
                long=True,
            )
            for epoch in bar:
                row = _run_epoch(run, data, epoch, run.config["batch_size"])
                run.history.append(row)
                bar.set_postfix(loss=f"{row['loss']:.4f}")
                _record(run, data, test_data, epoch + 1)
                if out_dir is not None and ((epoch + 1) % checkpoint_every == 0 or epoch + 1 == epochs):
                    _save_checkpoint(run, out_dir, epoch + 1)
                    paths = _write_outputs(run, out_dir, epoch + 1, seed, dev, started, data_note)
            if out_dir is not None:
                paths = _write_outputs(run, out_dir, epochs, seed, dev, started, data_note)
                paths["checkpoint"] = out_dir / CHECKPOINT
        finally:
            run.model.eval()
    return TrainingResult(run.model, run.history, run.recorders, out_dir, paths, start if resume else None)
