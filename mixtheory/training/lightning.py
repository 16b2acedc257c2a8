r"""A PyTorch Lightning callback that runs a :class:`~mixtheory.training.Monitor` (optional extra).

``pip install 'mixtheory[lightning]'`` (Lightning ≥ 2.0; it installs alongside the pinned torch).
The callback uses four hooks of ``lightning.pytorch.Callback``:

- ``on_train_start``: records the initial model (epoch 0) unless the monitor already has epochs
  (a resumed fit);
- ``on_train_batch_end(trainer, module, outputs, batch, batch_idx)``: ``outputs`` is what your
  ``training_step`` returned; it must be a dict with the batch's ``"logits"`` (the training
  forward pass, computed before the optimizer step, as Toneva et al. count forgetting) and the
  batch must carry sample indices (a loader over :class:`mixtheory.datasets.IndexedDataset`);
- ``on_train_epoch_end``: :meth:`Monitor.epoch_end` with ``trainer.current_epoch + 1``;
- ``state_dict`` / ``load_state_dict``: the monitor's state in Lightning's checkpoints.

Under Lightning's DDP strategy every rank runs the callback; the monitor shards and gathers by
itself (:mod:`mixtheory.training.monitor_dist`). Without Lightning installed the class still
imports (on a plain base) so that the hooks can be driven and tested directly.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..datasets import split_batch
from .monitor import Monitor

__all__ = ["MonitorCallback", "lightning_callback_base"]


def lightning_callback_base() -> type:
    """``lightning.pytorch.Callback`` (or ``pytorch_lightning.Callback``) when installed, else ``object``."""
    for name in ("lightning.pytorch", "pytorch_lightning"):
        try:
            return importlib.import_module(name).Callback
        except ImportError:
            continue
    return object


class MonitorCallback(lightning_callback_base()):  # type: ignore[misc]
    """Drive ``monitor`` from a Lightning ``Trainer`` (module docstring).

    >>> import torch
    >>> from mixtheory.training import EL2NRecorder
    >>> net = torch.nn.Linear(4, 3)
    >>> cb = MonitorCallback(Monitor(net, (torch.randn(8, 4), torch.arange(8) % 3), [EL2NRecorder(4)]))
    >>> cb.monitor.n
    8
    """

    def __init__(self, monitor: Monitor, *, logits_key: str = "logits"):
        if not isinstance(monitor, Monitor):
            raise TypeError(f"monitor must be a mixtheory Monitor, got {type(monitor).__name__}")
        super().__init__()
        self.monitor, self.logits_key = monitor, logits_key

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        if not self.monitor.epochs:
            self.monitor.epoch_end(0)

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.monitor.tracker is None:
            return
        if not isinstance(outputs, dict) or self.logits_key not in outputs:
            raise ValueError(
                f"outputs: training_step must return a dict with {self.logits_key!r} (the batch's logits) "
                "for the forgetting tracker, e.g. return {'loss': loss, 'logits': logits.detach()}"
            )
        _, targets, indices = split_batch(batch)
        self.monitor.observe(indices, outputs[self.logits_key], targets)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        self.monitor.epoch_end(int(trainer.current_epoch) + 1)

    def state_dict(self) -> dict[str, Any]:
        return self.monitor.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.monitor.load_state_dict(state_dict)
