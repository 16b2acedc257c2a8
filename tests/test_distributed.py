"""Sharding over processes gives the single-process numbers (same per-sample seeds on every rank)."""

from __future__ import annotations

import pytest
import torch
from conftest import make_data

from mixtheory import SymmetricBeta
from mixtheory.estimators import estimate_regularizers
from mixtheory.estimators.distributed import (
    estimate_regularizers_distributed,
    run_distributed,
    shard_bounds,
)
from mixtheory.models import build_model


@pytest.mark.parametrize(("n", "world"), [(10, 3), (2, 4), (7, 1), (8, 2)])
def test_shards_cover_every_sample_once(n, world):
    bounds = [shard_bounds(n, world, r) for r in range(world)]
    covered = [i for start, stop in bounds for i in range(start, stop)]
    assert covered == list(range(n))
    sizes = [stop - start for start, stop in bounds]
    assert max(sizes) - min(sizes) <= 1


def test_needs_an_initialized_group():
    X, Y = make_data(6, 3, 2, seed=0)
    model = build_model("mlp", 3, 2, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="not initialized"):
        estimate_regularizers_distributed(model, X, Y, SymmetricBeta(1.0))


@pytest.mark.slow
def test_two_processes_equal_one():
    X, Y = make_data(15, 4, 3, seed=2, soft=True)
    model = build_model("mlp", 4, 3, "gelu", hidden=(8,), dtype=torch.float64, seed=1)
    law = SymmetricBeta(0.5)
    indices = torch.tensor([14, 0, 3, 7, 9, 11, 2])
    kw = dict(probes="rademacher", num_probes=32, r1="probes")
    single = estimate_regularizers(
        model, X, Y, law, indices=indices, generator=torch.Generator().manual_seed(5), **kw
    )
    sharded = run_distributed(
        model, X, Y, law, indices, world_size=2, generator=torch.Generator().manual_seed(5), **kw
    )
    assert torch.equal(sharded["indices"], indices)
    for key in ("erm", "R1", "R2", "R3", "R1_se", "R2_se"):
        torch.testing.assert_close(sharded[key], single[key], rtol=1e-12, atol=1e-15, msg=key)
    assert sharded.probes == "rademacher" and sharded.num_probes == 32


def test_out_of_range_indices_are_rejected_before_spawning():
    X, Y = make_data(6, 3, 2, seed=0)
    model = build_model("mlp", 3, 2, "tanh", hidden=(4,), dtype=torch.float64)
    with pytest.raises(IndexError, match="indices must lie in"):
        run_distributed(model, X, Y, SymmetricBeta(1.0), indices=[6], world_size=2)
