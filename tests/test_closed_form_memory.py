"""The closed form under a memory budget: the factor route equals the dense route to rounding,
passes are sized to the budget, runs that cannot fit are refused up front, and 500 CIFAR-shaped
samples run within the default budget (peak RSS measured in a fresh process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from conftest import make_data, make_mlp

from mixtheory import MixupGeometry, SymmetricBeta, taylor_regularizers
from mixtheory._memory import (
    DEFAULT_MEMORY_BUDGET,
    MemoryBudgetError,
    parse_memory_budget,
    plan_closed_form,
)
from mixtheory.models import build_model
from mixtheory.resnet import smooth_resnet18

KEYS = ("erm", "R1", "R2", "R3", "R4", "R13", "J")


def _rel(a, b):
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-300))


def _image_problem(n=24, shape=(3, 6, 6), c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, *shape, generator=g, dtype=torch.float64)
    return MixupGeometry(X, torch.randint(c, (n,), generator=g), SymmetricBeta(0.8))


def _models():
    cnn = build_model("cnn", (3, 6, 6), 3, "gelu", channels=(4, 4), hidden=(8,), dtype=torch.float64, seed=1)
    res = smooth_resnet18(3, (3, 6, 6), "gelu", width=2, seed=2).double()
    W = torch.randn(108, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64) / 10

    def plain(x):  # a callable, not a module: nested forward mode
        return torch.tanh(x.flatten(1) @ W) * 2

    return {"sequential cnn": cnn, "residual (torch.fx)": res, "plain callable": plain}


@pytest.mark.parametrize("name", ["sequential cnn", "residual (torch.fx)", "plain callable"])
def test_factor_route_equals_dense_route(name):
    model = _models()[name]
    geo = _image_problem()
    dense = taylor_regularizers(model, geo, route="dense", return_j=True)
    # a budget so small that every sample's 1 + r factor columns are split over several passes
    factor = taylor_regularizers(model, geo, route="factor", return_j=True, memory_budget="3MB")
    for key in KEYS:
        assert _rel(factor[key], dense[key]) <= 1e-10, key


def test_factor_route_mse_and_singular_geometry():
    X, Y = make_data(6, 8, 3, seed=20, soft=True)  # n <= d: singular Σ_xx
    model = make_mlp(8, 3, seed=21, scale=1.5)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.6))
    dense = taylor_regularizers(model, geo, "mse", route="dense")
    factor = taylor_regularizers(model, geo, "mse", route="factor")
    for key in ("erm", "R1", "R2", "R3", "R4", "R13"):
        assert _rel(factor[key], dense[key]) <= 1e-10, key


def test_factor_route_on_a_non_uniform_pairing():
    """The memory-bounded factor route runs on every partner law (the per-anchor factors of a k-NN
    pairing here), equal to the dense route, J included, even with passes split by a tiny budget."""
    from mixtheory.mixing import KNearest

    X, Y = make_data(14, 6, 3, seed=22)
    model = make_mlp(6, 3, seed=23, scale=1.5)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.6), pairing=KNearest(X, 3))
    dense = taylor_regularizers(model, geo, route="dense", return_j=True)
    factor = taylor_regularizers(model, geo, route="factor", return_j=True, memory_budget="20KB")
    for key in ("erm", "R1", "R2", "R3", "R4", "R13", "J"):
        assert _rel(factor[key], dense[key]) <= 1e-10, key


def test_budget_splits_passes():
    common = dict(d=3072, c=10, rank=499, act=35_000, model_bytes=4, geometry_bytes=8)
    big = plan_closed_form(route="auto", budget=DEFAULT_MEMORY_BUDGET, **common)
    assert big.route == "factor" and big.need <= DEFAULT_MEMORY_BUDGET and big.directions == 256
    small = plan_closed_form(route="factor", budget=parse_memory_budget("20MB"), **common)
    assert small.directions < 500 and small.samples == 1 and small.need <= 20e6
    tiny = plan_closed_form(route="dense", budget=10**12, **{**common, "d": 4, "rank": 3, "act": 50})
    assert tiny.route == "dense" and tiny.samples >= 1


def test_dense_route_that_cannot_fit_is_refused_up_front():
    common = dict(d=3072, c=10, rank=499, act=200_000, model_bytes=4, geometry_bytes=8)
    with pytest.raises(MemoryBudgetError, match=r"needs about .* per sample.*route='factor' fits"):
        plan_closed_form(route="dense", budget=DEFAULT_MEMORY_BUDGET, **common)
    with pytest.raises(MemoryBudgetError, match="raise memory_budget"):
        plan_closed_form(route="factor", budget=1000, **common)


def test_taylor_regularizers_refuses_before_computing():
    g = torch.Generator().manual_seed(0)
    geo = MixupGeometry(torch.rand(8, 3, 32, 32, generator=g), torch.arange(8) % 10, SymmetricBeta(1.0))
    model = build_model("cnn", (3, 32, 32), 10, "gelu", channels=(4, 8), hidden=(16,), seed=0)
    with pytest.raises(MemoryBudgetError, match="route='factor' fits"):
        taylor_regularizers(model, geo, route="dense", memory_budget="100MB")


@pytest.mark.parametrize(
    "text,expected", [("2GB", 2 * 10**9), ("512MiB", 512 * 2**20), ("1.5G", 1.5e9), (4096, 4096)]
)
def test_parse_memory_budget(text, expected):
    assert parse_memory_budget(text) == int(expected)


@pytest.mark.parametrize("bad", ["lots", -1, 0, "2 parsecs", True])
def test_parse_memory_budget_rejects(bad):
    with pytest.raises(ValueError, match="memory_budget"):
        parse_memory_budget(bad)


def test_bad_route_named():
    geo = _image_problem()
    with pytest.raises(ValueError, match="route must be"):
        taylor_regularizers(_models()["sequential cnn"], geo, route="sparse")


CHILD = textwrap.dedent(
    """
    import json, resource, torch
    torch.set_num_threads(1)
    from mixtheory import MixupGeometry, SymmetricBeta, taylor_regularizers
    from mixtheory.models import build_model
    g = torch.Generator().manual_seed(0)
    X = torch.rand(500, 3, 32, 32, generator=g)
    geo = MixupGeometry(X, torch.randint(10, (500,), generator=g), SymmetricBeta(1.0))
    model = build_model("cnn", (3, 32, 32), 10, "gelu", channels=(4, 8), hidden=(16,), seed=0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out = taylor_regularizers(model, geo)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    finite = all(bool(torch.isfinite(out[k]).all()) for k in ("R13", "R2", "R3"))
    print(json.dumps(dict(growth=after - before, finite=finite, m=int(out["R2"].numel()))))
    """
)


@pytest.mark.slow
def test_500_cifar_samples_within_default_budget():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("MIXTHEORY_MEMORY_BUDGET", None)
    command = [sys.executable, "-c", CHILD]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads(proc.stdout.strip().splitlines()[-1])
    assert record["m"] == 500 and record["finite"]
    # the dense route would need about 0.9 GB per sample here (450 GB for 500)
    assert record["growth"] <= DEFAULT_MEMORY_BUDGET, record


def test_automatic_pass_size_is_capped_and_does_not_change_results():
    from mixtheory._memory import MAX_PASS_INPUTS, auto_pass_inputs
    from mixtheory.estimators import estimate_from_geometry

    assert auto_pass_inputs(16 * 32 * 32, 4) == 64
    assert auto_pass_inputs(1, 4) == MAX_PASS_INPUTS  # a model whose insides the count cannot see
    assert auto_pass_inputs(16 * 32 * 32, 4, device="cuda") == 4096
    geo = _image_problem(n=20)
    model = _models()["residual (torch.fx)"]
    runs = [
        estimate_from_geometry(model, geo, chunk_size=size, generator=torch.Generator().manual_seed(0))
        for size in (None, 16, 48)
    ]
    for key in ("R13", "R2", "R13_se", "R2_se"):
        for other in runs[1:]:
            torch.testing.assert_close(runs[0][key], other[key], rtol=1e-10, atol=1e-15)
