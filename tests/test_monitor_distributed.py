"""The Monitor under torch.distributed (gloo, 2 CPU processes) writes the single-process tables:
per-sample recorders sharded over ranks, forgetting observations gathered; rank mismatches stop."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mixtheory import build_model
from mixtheory.data import load_digits
from mixtheory.training import (
    AccuracyRecorder,
    EL2NRecorder,
    ForgettingRecorder,
    GraNdRecorder,
    Monitor,
    RegularizerRecorder,
)
from mixtheory.training.monitor_dist import gather_observations, world

N, BATCH, EPOCHS = 90, 16, 2


def _recorders():
    return [
        RegularizerRecorder(11, num_probes=4, seed=2),
        EL2NRecorder(13, seed=3),
        GraNdRecorder(7, seed=4),
        ForgettingRecorder(None),
        AccuracyRecorder(),
    ]


def _run(out, rank: int = 0, world_size: int = 1, n_eval: int = N) -> None:
    """ERM-free run: a fixed seeded walk of the parameters, observations of every global batch
    split over ranks as a DistributedSampler would, recorders after each epoch."""
    X, y = load_digits(N, seed=0)
    net = build_model("mlp", 64, 10, hidden=(12,), dtype=torch.float64, seed=1)
    monitor = Monitor(net, (X[:n_eval], y[:n_eval]), _recorders(), out=out, seed=0)
    monitor.epoch_end(0)
    for epoch in range(EPOCHS):
        g = torch.Generator().manual_seed(100 + epoch)
        order = torch.randperm(N, generator=g)
        for start in range(0, N, BATCH):
            local = order[start : start + BATCH][rank::world_size]
            with torch.no_grad():
                monitor.observe(local, net(X[local]), y[local])
                for p in net.parameters():
                    p.add_(0.3 * torch.randn(p.shape, generator=g, dtype=p.dtype))
        monitor.epoch_end(epoch + 1)


def _spawn(out: pathlib.Path, mismatch: bool) -> None:
    """Two gloo ranks rendezvous through a file (no TCP store whose host rank may leave first, no
    port to race for); each logs its phases, which a failure reports (a rank that dies in C++ leaves
    no Python traceback)."""
    store = out.parent / f"{out.name}.store"
    try:
        mp.spawn(_worker, args=(2, f"file://{store}", str(out), mismatch), nprocs=2, join=True)
    except Exception as exc:
        phases = {
            r: (out / f"phases{r}.txt").read_text() if (out / f"phases{r}.txt").exists() else ""
            for r in (0, 1)
        }
        raise AssertionError(f"a rank failed; phases reached: {phases}") from exc


def _worker(rank: int, world_size: int, init_method: str, out: str, mismatch: bool) -> None:
    def phase(name: str) -> None:
        with open(os.path.join(out, f"phases{rank}.txt"), "a") as fh:
            fh.write(name + " ")

    torch.set_num_threads(1)
    phase("init")
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world_size)
    phase("run")
    try:
        assert world() == (rank, world_size)
        if mismatch:
            try:
                _run(None, rank, world_size, n_eval=N - 10 * rank)
            except ValueError as exc:
                with open(os.path.join(out, f"error{rank}.txt"), "w") as fh:
                    fh.write(str(exc))
            # a DistributedSampler pads a shard with repeats: sample 1 on both ranks in one step
            X, y = load_digits(N, seed=0)
            net = build_model("mlp", 64, 10, hidden=(12,), dtype=torch.float64, seed=1)
            monitor = Monitor(net, (X, y), [ForgettingRecorder()])
            local = torch.tensor([[0, 1], [1, 2]][rank])
            monitor.observe(local, net(X[local]).detach(), y[local])
            torch.save(monitor.tracker.presentations, os.path.join(out, f"presentations{rank}.pt"))
        else:
            _run(out, rank, world_size)
        phase("barrier")
        dist.barrier()  # neither rank tears down while the other still communicates
    finally:
        phase("destroy")
        dist.destroy_process_group()
        phase("done")


@pytest.mark.slow
def test_two_ranks_write_the_single_process_tables(tmp_path):
    single, ddp = tmp_path / "single", tmp_path / "ddp"
    ddp.mkdir()
    _run(single)
    _spawn(ddp, mismatch=False)
    for name in ("el2n.csv", "forgetting.csv", "accuracy.csv"):
        assert (single / name).read_bytes() == (ddp / name).read_bytes(), name  # exact
    with np.load(single / "forgetting.npz") as a, np.load(ddp / "forgetting.npz") as b:
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key])
    a = np.genfromtxt(single / "regularizers.csv", delimiter=",", names=True)
    b = np.genfromtxt(ddp / "regularizers.csv", delimiter=",", names=True)
    np.testing.assert_array_equal(a["sample"], b["sample"])
    for key in ("erm", "R1", "R2", "R3", "R4", "R13", "R13_se"):  # same probes; rounding only
        np.testing.assert_allclose(b[key], a[key], rtol=1e-12, atol=1e-15, err_msg=key)
    # GraNd: per-sample gradients through batched matmuls, whose rounding depends on the batch
    ga = np.genfromtxt(single / "grand.csv", delimiter=",", names=True)
    gb = np.genfromtxt(ddp / "grand.csv", delimiter=",", names=True)
    np.testing.assert_array_equal(ga["sample"], gb["sample"])
    np.testing.assert_allclose(gb["grand"], ga["grand"], rtol=1e-13, atol=0)


@pytest.mark.slow
def test_a_rank_mismatch_is_named_and_padding_counts_once(tmp_path):
    out = tmp_path / "ranks"
    out.mkdir()
    _spawn(out, mismatch=True)
    for rank in (0, 1):
        text = (out / f"error{rank}.txt").read_text()
        assert "rank mismatch: eval_data samples" in text and "same eval_data and recorders" in text
        presentations = torch.load(out / f"presentations{rank}.pt")
        assert presentations[:4].tolist() == [1, 1, 1, 0]  # the padded repeat counted once


def test_without_a_process_group_observations_pass_through():
    idx, pred, lab = torch.tensor([3, 1]), torch.tensor([0, 2]), torch.tensor([0, 1])
    out = gather_observations(idx, pred, lab)
    assert all(o is t for o, t in zip(out, (idx, pred, lab), strict=True)) and world() == (0, 1)
