r"""The training loop: any objective, SGD or AdamW, cosine or step learning-rate schedules, recorders,
checkpoints and bit-for-bit resumption on the CPU.

The settings are one :class:`~mixtheory.training.TrainConfig`. Randomness has three sources, each
seeded from its ``seed`` and each saved in every checkpoint: the data order (a CPU
``torch.Generator``: one ``randperm`` per epoch), the mixing (a second CPU generator: λ, partners,
masks), and torch's global generators (dropout), forked so that the caller's global state is left
as it was. ``rng="shared"`` draws the data order and the mixing from one generator and leaves the
global generators alone: the scheme of the earlier ``train_model`` and figure loops
(:mod:`mixtheory.training.config`). Together with the model, optimizer and scheduler states,
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._io import check_output_dir, output_dir, save_torch
from .._progress import progress_bar
from .._types import ArrayLike, Tensor
from .._validation import module_device
from ..scores import ForgettingTracker
from .config import LRSchedule, OptimizerName, RunNotes, TrainConfig
from .forgetting import record_forgetting
from .monitor import Monitor, eval_mode
from .objectives import ERMObjective, Objective, TrainingData
from .recorders import Recorder

__all__ = [
    "train",
    "TrainingResult",
    "TrainConfig",
    "RunNotes",
    "OptimizerName",
    "LRSchedule",
    "check_out_dir",
    "CHECKPOINT",
]

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


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=config.lr,
            momentum=config.momentum,
            nesterov=config.nesterov,
            weight_decay=config.weight_decay,
        )
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def _scheduler(
    opt: torch.optim.Optimizer, config: TrainConfig
) -> torch.optim.lr_scheduler.LRScheduler | None:
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs)
    if config.lr_schedule == "step":
        step = config.step_size or max(1, config.epochs // 3)
        return torch.optim.lr_scheduler.StepLR(opt, step_size=step, gamma=config.gamma)
    return None


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
    config: dict[str, Any]  # the checkpointed settings
    settings: TrainConfig
    on_epoch: Callable[[int], None] | None = None

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


def _run_epoch(run: _Run, data: TrainingData, epoch: int) -> dict[str, Any]:
    """One pass over the data in a seeded order (in the data's order, drawing nothing, for full
    batches: ``batch_size=None``); returns the history row."""
    start_time = time.perf_counter()
    model, objective = run.model, run.objective
    with _eval_mode(model):
        objective.begin_epoch(model, data, epoch, run.tracker)
    lr = run.optimizer.param_groups[0]["lr"]
    model.train()
    batch_size = run.settings.batch_size
    if batch_size is None:
        order, batch_size = torch.arange(data.n), data.n
    else:
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


def _record(run: _Run, epoch: int) -> None:
    """The recorders after ``epoch`` epochs, then the ``on_epoch`` callback in eval mode."""
    run.monitor.epoch_end(epoch, write=False)
    if run.on_epoch is not None:
        with _eval_mode(run.model):
            run.on_epoch(epoch)


def _write_outputs(run: _Run) -> dict[str, Path]:
    """The tables, ``history.csv``, ``model.pt`` and ``provenance.json``, through the monitor."""
    return run.monitor.write(run.history, save_model=True, objective=run.objective.describe())


def train(
    model: nn.Module,
    X: ArrayLike,
    Y: ArrayLike,
    objective: Objective | None = None,
    config: TrainConfig | None = None,
    *,
    recorders: Sequence[Recorder] = (),
    test: tuple[Tensor, Tensor] | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    on_epoch: Callable[[int], None] | None = None,
    notes: RunNotes | None = None,
) -> TrainingResult:
    r"""Train ``model`` with ``objective`` (default ERM) as ``config`` says, recording as it goes
    (module docstring).

    Args:
        model: maps (B, *input_shape) to (B, c) logits; trained in place on ``config.device``
            (default: where its parameters are), left in eval mode.
        X: (n, *input_shape) training inputs; Y: (n,) class indices or (n, c) label vectors.
        objective: an :class:`~mixtheory.training.Objective` (``ERMObjective``, ``Mixup``,
            ``RegMixup``, ``ApproximateMixup``, ``HardPairing``, ``ForgettingPartners``, ``MixupE``).
        config: a :class:`~mixtheory.training.TrainConfig` (epochs, batch size, optimizer, schedule,
            seed, random-number scheme, …; default ``TrainConfig()``).
        recorders: measured after every epoch (and on the initial model, epoch 0), each name once.
        test: (X_test, Y_test) for the accuracy recorder.
        out: directory for the outputs: absent, empty or a run of this package (anything else is
            refused, never overwritten); created and marked (``.mixtheory.json``) when training
            starts; every file written atomically (:mod:`mixtheory._io`).
        resume: continue the run in ``out`` from its checkpoint; the model (layers, widths,
            activations), the data (SHA-256), the recorders and every setting must be the same, else
            a ValueError names the first difference.
        on_epoch: called as ``on_epoch(t)`` with the model in eval mode after the recorders, after
            epoch t (t = 0: the initial model, not called again on resuming).
        notes: a :class:`~mixtheory.training.RunNotes` (the data's description, marker entries).

    Returns a :class:`TrainingResult`.

    >>> from mixtheory import build_model
    >>> from mixtheory.data import load_digits
    >>> X, y = load_digits(100, seed=0)
    >>> result = train(build_model("mlp", 64, 10, hidden=(16,)), X, y, config=TrainConfig(epochs=2))
    >>> len(result.column("loss"))
    2
    """
    objective = ERMObjective() if objective is None else objective
    config = TrainConfig() if config is None else config
    notes = RunNotes() if notes is None else notes
    _check_arguments(objective, config, recorders, notes)
    out_dir = None if out is None else check_out_dir(out, resume)
    if resume and out_dir is None:
        raise ValueError("resume needs out (the directory holding the checkpoint)")
    dev = module_device(model, config.device)
    model.to(dev)
    data, test_data = _training_data(model, X, Y, test, config.num_classes, dev)
    settings = {
        "objective": objective.describe(),
        **config.checkpointed(),
        **dict(model=_model_summary(model), data=_data_summary(data), test=_data_summary(test_data)),
        "recorders": [r.describe() for r in recorders],
    }
    fork_devices = [dev.index or 0] if dev.type == "cuda" else []
    forked = (
        torch.random.fork_rng(devices=fork_devices) if config.rng == "separate" else contextlib.nullcontext()
    )
    with forked:
        if config.rng == "separate":
            torch.manual_seed(config.seed)
        run = _new_run(model, objective, recorders, data, config, settings)
        run.on_epoch = on_epoch
        return _train_loop(run, data, test_data, out_dir, resume, dev, notes)


def _check_arguments(
    objective: Objective, config: TrainConfig, recorders: Sequence[Recorder], notes: RunNotes
) -> None:
    """Reject a non-objective, a configuration or notes of another type, or a repeated recorder."""
    if not isinstance(objective, Objective):
        raise TypeError(f"objective must be a mixtheory.training Objective, got {type(objective).__name__}")
    if not isinstance(config, TrainConfig):
        raise TypeError(
            f"config must be a mixtheory.training.TrainConfig, got {type(config).__name__}; "
            "write config=TrainConfig(epochs=..., lr=...)"
        )
    if not isinstance(notes, RunNotes):
        raise TypeError(f"notes must be a mixtheory.training.RunNotes, got {type(notes).__name__}")
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
    config: TrainConfig,
    settings: dict[str, Any],
) -> _Run:
    """A fresh run: optimizer, schedule, the seeded generators (one shared, or the data order's and
    the mixing's) and the monitor (recorders, tracker).

    Called with torch's global generators already seeded (``rng="separate"``), as the initial state
    of a run."""
    opt = _optimizer(model, config)
    data_gen = torch.Generator().manual_seed(config.seed)
    mix_gen = data_gen if config.rng == "shared" else torch.Generator().manual_seed(config.seed + 1)
    return _Run(
        model,
        objective,
        opt,
        _scheduler(opt, config),
        data_gen,
        mix_gen,
        _monitor(model, data, recorders, objective, config.seed, settings),
        [],
        settings,
        config,
    )


def _monitor(
    model: nn.Module,
    data: TrainingData,
    recorders: Sequence[Recorder],
    objective: Objective,
    seed: int,
    settings: dict[str, Any],
) -> Monitor:
    """The run's monitor, with its settings for ``provenance.json``."""
    monitor = Monitor(model, data, recorders, objective=objective, seed=seed)
    monitor.config = settings
    return monitor


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
    dev: torch.device,
    notes: RunNotes,
) -> TrainingResult:
    """Epochs from the start (or the checkpoint), recording after each and checkpointing every
    ``checkpoint_every``; writes the outputs at the end."""
    epochs, every = run.settings.epochs, run.settings.checkpoint_every
    run.monitor.out, run.monitor.test, run.monitor.data_description = out_dir, test_data, notes.data
    start = 0
    if resume:
        start = _load_checkpoint(run, out_dir, dev)
    else:
        _record(run, 0)
    paths: dict[str, Path] = {}
    directory = (
        contextlib.nullcontext()
        if out_dir is None
        else output_dir(out_dir, "train", rewrite=not resume, **notes.marker)
    )
    with directory:
        try:
            if out_dir is not None and not resume:
                _save_checkpoint(run, out_dir, 0)
            bar = progress_bar(
                epochs - start,
                f"train {run.objective.name}",
                run.settings.progress,
                iterable=range(start, epochs),
                long=True,
            )
            for epoch in bar:
                row = _run_epoch(run, data, epoch)
                run.history.append(row)
                bar.set_postfix(loss=f"{row['loss']:.4f}")
                _record(run, epoch + 1)
                if out_dir is not None and ((epoch + 1) % every == 0 or epoch + 1 == epochs):
                    _save_checkpoint(run, out_dir, epoch + 1)
                    paths = _write_outputs(run)
            if out_dir is not None:
                paths = _write_outputs(run)
                paths["checkpoint"] = out_dir / CHECKPOINT
        finally:
            run.model.eval()
    return TrainingResult(run.model, run.history, run.recorders, out_dir, paths, start if resume else None)
