"""MonitorCallback: driven by a stand-in of the four Lightning hooks it uses (always) and by a real
``lightning.Trainer`` when Lightning is installed (CI: a venv beside the pinned torch); both write the
tables of a plain loop with the monitor, bit for bit."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from mixtheory import build_model
from mixtheory.data import load_digits
from mixtheory.datasets import IndexedDataset, split_batch
from mixtheory.training import EL2NRecorder, ForgettingRecorder, Monitor, RegularizerRecorder
from mixtheory.training.lightning import MonitorCallback

EPOCHS, BATCH, LR = 2, 20, 0.1


def _setup():
    X, y = load_digits(80, seed=0)
    X = X.float()
    net = build_model("mlp", 64, 10, hidden=(16,), dtype=torch.float32, seed=3)
    loader = DataLoader(
        IndexedDataset(TensorDataset(X, y)),
        batch_size=BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    monitor = Monitor(
        net, (X, y), [RegularizerRecorder(6, num_probes=4), EL2NRecorder(10), ForgettingRecorder()]
    )
    return net, loader, monitor


def _step(net, batch):
    x, y, _ = split_batch(batch)
    logits = net(x)
    return {"loss": torch.nn.functional.cross_entropy(logits, y), "logits": logits.detach()}


def _plain_loop(batches=None):
    """The loop by hand; ``batches`` (one list per epoch) replays the batches a trainer drew."""
    net, loader, monitor = _setup()
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    monitor.epoch_end(0)
    for epoch in range(EPOCHS):
        for batch in loader if batches is None else batches[epoch]:
            out = _step(net, batch)
            opt.zero_grad()
            out["loss"].backward()
            opt.step()
            x, y, idx = split_batch(batch)
            monitor.observe(idx, out["logits"], y)
        monitor.epoch_end(epoch + 1)
    return monitor


class StandInTrainer:
    """The hook order of Lightning's fit loop for the four hooks the callback uses."""

    def __init__(self, callbacks, max_epochs):
        self.callbacks, self.max_epochs, self.current_epoch = callbacks, max_epochs, 0

    def fit(self, net, loader):
        opt = torch.optim.SGD(net.parameters(), lr=LR)
        for cb in self.callbacks:
            cb.on_train_start(self, net)
        for epoch in range(self.max_epochs):
            self.current_epoch = epoch
            for i, batch in enumerate(loader):
                out = _step(net, batch)
                opt.zero_grad()
                out["loss"].backward()
                opt.step()
                for cb in self.callbacks:
                    cb.on_train_batch_end(self, net, out, batch, i)
            for cb in self.callbacks:
                cb.on_train_epoch_end(self, net)


def _same(a: Monitor, b: Monitor):
    for name in ("regularizers", "el2n", "forgetting"):
        assert a.rows(name) == b.rows(name), name


def test_callback_through_the_stand_in_hooks_equals_the_plain_loop():
    net, loader, monitor = _setup()
    callback = MonitorCallback(monitor)
    StandInTrainer([callback], EPOCHS).fit(net, loader)
    _same(_plain_loop(), monitor)
    state = callback.state_dict()
    fresh = MonitorCallback(_setup()[2])
    fresh.load_state_dict(state)
    assert fresh.monitor.epochs == [0, 1, 2]
    _same(fresh.monitor, monitor)


def test_callback_errors_name_what_is_missing():
    net, loader, monitor = _setup()
    callback = MonitorCallback(monitor)
    batch = next(iter(loader))
    with pytest.raises(ValueError, match="outputs: training_step must return a dict with 'logits'"):
        callback.on_train_batch_end(None, net, torch.tensor(1.0), batch, 0)
    with pytest.raises(ValueError, match="batch carries no sample indices"):
        callback.on_train_batch_end(None, net, {"logits": torch.zeros(BATCH, 10)}, batch[:2], 0)
    with pytest.raises(TypeError, match="monitor must be a mixtheory Monitor"):
        MonitorCallback(object())


def test_real_lightning_trainer_equals_the_plain_loop():
    pl = pytest.importorskip("lightning.pytorch")

    class Module(pl.LightningModule):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def training_step(self, batch, batch_idx):
            return _step(self.net, batch)

        def configure_optimizers(self):
            return torch.optim.SGD(self.net.parameters(), lr=LR)

    class Recording(MonitorCallback):  # keeps the batches Lightning drew, to replay them by hand
        seen: list = []

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if batch_idx == 0:
                self.seen.append([])
            self.seen[-1].append(batch)
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    net, loader, monitor = _setup()
    callback = Recording(monitor)
    trainer = pl.Trainer(
        max_epochs=EPOCHS,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[callback],
    )
    trainer.fit(Module(net), loader)
    assert len(callback.seen) == EPOCHS and monitor.epochs == [0, 1, 2]
    _same(_plain_loop(callback.seen), monitor)
