"""mixtheory.training.Monitor: a user's own loop writes the tables `train` writes (bit for bit),
state_dict round trips, atomic outputs never overwrite foreign files, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from mixtheory import build_model
from mixtheory.data import load_digits
from mixtheory.datasets import IndexedDataset, split_batch
from mixtheory.training import (
    AccuracyRecorder,
    EL2NRecorder,
    ForgettingRecorder,
    GraNdRecorder,
    Monitor,
    RegularizerRecorder,
    TrainConfig,
    cross_entropy,
    train,
)

EPOCHS, BATCH, LR, SEED = 3, 32, 0.1, 5


@pytest.fixture(scope="module")
def digits():
    return load_digits(160, seed=0)


def _net():
    return build_model("mlp", 64, 10, hidden=(16,), dtype=torch.float64, seed=1)


def _recorders():
    return [
        RegularizerRecorder(12, num_probes=4, seed=3),
        EL2NRecorder(20, seed=4),
        GraNdRecorder(10, seed=5),
        ForgettingRecorder(None),
        AccuracyRecorder(),
    ]


def _user_loop(X, y, out, *, epochs=EPOCHS, stop_after=None, state=None):
    """A plain loop doing what `train` does for ERM with SGD and a cosine schedule, plus the monitor."""
    net = _net()
    labels = torch.nn.functional.one_hot(y, 10).to(torch.float64)
    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        monitor = Monitor(net, (X, y), _recorders(), out=out, seed=SEED)
        opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=0.9, weight_decay=5e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
        order_gen = torch.Generator().manual_seed(SEED)
        start = 0
        if state is None:
            monitor.epoch_end(0)
        else:
            net.load_state_dict(state["model"])
            opt.load_state_dict(state["opt"])
            sched.load_state_dict(state["sched"])
            order_gen.set_state(state["order"])
            monitor.load_state_dict(state["monitor"])
            start = state["epoch"]
        for epoch in range(start, epochs):
            net.train()
            order = torch.randperm(len(X), generator=order_gen)
            for b in range(0, len(X), BATCH):
                idx = order[b : b + BATCH]
                logits = net(X[idx])
                loss = cross_entropy(labels[idx], logits)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                monitor.observe(idx, logits, y[idx])
            sched.step()
            net.eval()
            monitor.epoch_end(epoch + 1)
            if stop_after == epoch + 1:
                return {
                    "model": net.state_dict(),
                    "opt": opt.state_dict(),
                    "sched": sched.state_dict(),
                    "order": order_gen.get_state(),
                    "monitor": monitor.state_dict(),
                    "epoch": epoch + 1,
                }
    return monitor


def _tables(directory):
    names = ("regularizers.csv", "el2n.csv", "grand.csv", "forgetting.csv", "accuracy.csv")
    tables = {name: (directory / name).read_bytes() for name in names}
    with np.load(directory / "forgetting.npz") as npz:
        tables["forgetting.npz"] = {k: npz[k].copy() for k in npz.files}
    return tables


def test_user_loop_tables_equal_train_bit_for_bit(digits, tmp_path):
    X, y = digits
    config = TrainConfig(epochs=EPOCHS, batch_size=BATCH, lr=LR, seed=SEED, progress=False)
    train(_net(), X, y, config=config, recorders=_recorders(), out=tmp_path / "train")
    _user_loop(X, y, tmp_path / "user")
    a, b = _tables(tmp_path / "train"), _tables(tmp_path / "user")
    for name in ("regularizers.csv", "el2n.csv", "grand.csv", "forgetting.csv", "accuracy.csv"):
        assert a[name] == b[name], name
    for key, value in a["forgetting.npz"].items():
        np.testing.assert_array_equal(value, b["forgetting.npz"][key])
    assert (tmp_path / "user" / "provenance.json").exists()
    assert not list((tmp_path / "user").glob("*.mixtheory-tmp"))


def test_state_dict_resume_equals_uninterrupted(digits, tmp_path):
    X, y = digits
    _user_loop(X, y, tmp_path / "whole")
    state = _user_loop(X, y, tmp_path / "split", stop_after=1)
    state = torch.load(_save(tmp_path / "ckpt.pt", state), weights_only=False)  # through a real file
    _user_loop(X, y, tmp_path / "split", state=state)
    a, b = _tables(tmp_path / "whole"), _tables(tmp_path / "split")
    for name in ("regularizers.csv", "el2n.csv", "forgetting.csv"):
        assert a[name] == b[name], name


def _save(path, obj):
    torch.save(obj, path)
    return path


def test_monitor_never_overwrites_a_file_it_did_not_write(digits, tmp_path):
    X, y = digits
    (tmp_path / "el2n.csv").write_text("someone else's\n")
    monitor = Monitor(_net(), (X, y), [EL2NRecorder(5)], out=tmp_path)
    with pytest.raises(FileExistsError, match="not written by this monitor"):
        monitor.epoch_end(0)
    assert (tmp_path / "el2n.csv").read_text() == "someone else's\n"


def test_monitor_errors_name_the_argument(digits):
    X, y = digits
    net = _net()
    monitor = Monitor(net, (X, y), [EL2NRecorder(5), ForgettingRecorder()])
    with pytest.raises(RuntimeError, match="epoch_end"):
        monitor.rows("el2n")
    with pytest.raises(IndexError, match=r"indices holds 160, outside the evaluation set \[0, 160\)"):
        monitor.observe(torch.tensor([0, 160]), torch.zeros(2, 10), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="logits must be"):
        monitor.observe(torch.tensor([0, 1]), torch.zeros(3, 10), None)
    with pytest.raises(ValueError, match="eval_data: a sample of shape \\(63,\\) does not fit"):
        Monitor(net, (X[:, :63], y), [EL2NRecorder(5)])
    with pytest.raises(ValueError, match="eval_data: the model maps a sample to \\(1, 10\\)"):
        Monitor(net, (X, y), [EL2NRecorder(5)], num_classes=12)
    loader = DataLoader(TensorDataset(X, y), batch_size=8)
    with pytest.raises(ValueError, match="batch carries no sample indices.*IndexedDataset"):
        split_batch(next(iter(loader)))
    with pytest.raises(KeyError, match="no recorder named 'r13'"):
        monitor.epoch_end(0)
        monitor.rows("r13")


def test_observe_counts_forgetting_from_the_given_logits(digits):
    """Toneva et al.'s count from the passed logits: correct, then wrong is one event."""
    X, y = digits
    monitor = Monitor(_net(), (X, y), [ForgettingRecorder()])
    right = torch.nn.functional.one_hot(y[:4], 10).double()
    monitor.observe(torch.arange(4), right, y[:4])
    monitor.observe(torch.arange(4), torch.roll(right, 1, dims=1), y[:4])
    monitor.epoch_end(1)
    events = {r["sample"]: r["events"] for r in monitor.rows("forgetting")}
    assert [events[i] for i in range(6)] == [1, 1, 1, 1, 0, 0]


def test_monitor_from_an_indexed_loader_with_augmentation(digits):
    """Training batches from an IndexedDataset (augmented), recorders on the evaluation view."""
    X, y = digits
    net = _net()
    noisy = TensorDataset(X + 0.1 * torch.randn(X.shape, generator=torch.Generator().manual_seed(0)), y)
    loader = DataLoader(IndexedDataset(noisy), batch_size=40, shuffle=True)
    monitor = Monitor(net, TensorDataset(X, y), [EL2NRecorder(16), ForgettingRecorder()])
    monitor.epoch_end(0)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for batch in loader:
        x, t, idx = split_batch(batch)
        logits = net(x)
        monitor.observe(idx, logits, t)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(logits, t).backward()
        opt.step()
    monitor.epoch_end(1)
    tensor_monitor = Monitor(net, (X, y), [EL2NRecorder(16)])
    tensor_monitor.epoch_end(1)
    from_dataset = [r for r in monitor.rows("el2n") if r["epoch"] == 1]
    assert from_dataset == tensor_monitor.rows("el2n")  # the same fixed subset, bit for bit
    assert monitor.tracker.presentations.sum() == len(X)
