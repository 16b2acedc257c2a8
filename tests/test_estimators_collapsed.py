"""Collapsed Taylor mode as an estimator option (``method="taylor-collapsed"``): the same R2 and R13
as the uncollapsed pass (exact columns, and random probes seed for seed), and a standard error from
the group means that is finite and falls like 1/√K."""

from __future__ import annotations

import math

import pytest
import torch
from _stats import assert_within_standard_errors

from mixtheory import MixupGeometry, SymmetricBeta
from mixtheory.estimators import EstimatorOptions, estimate_from_geometry
from mixtheory.models import build_model

F64 = torch.float64


def _problem(kind: str):
    gen = torch.Generator().manual_seed(0)
    if kind == "mlp":
        X = torch.randn(30, 6, generator=gen, dtype=F64)
        model = build_model("mlp", 6, 3, "tanh", hidden=(7, 5), dtype=F64, seed=0)
    else:
        X = torch.rand(24, 1, 6, 6, generator=gen, dtype=F64)
        model = build_model("cnn", (1, 6, 6), 3, "gelu", channels=(3,), hidden=(5,), dtype=F64, seed=0)
    geometry = MixupGeometry(X, torch.arange(X.shape[0]) % 3, SymmetricBeta(1.0))
    return model, geometry


def _run(model, geometry, idx, seed=None, **settings):
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    return estimate_from_geometry(
        model, geometry, indices=idx, generator=gen, options=EstimatorOptions(**settings)
    )


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_collapsed_exact_columns_equal_uncollapsed(kind):
    model, geometry = _problem(kind)
    idx = torch.arange(6)
    ref = _run(model, geometry, idx, probes="exact", r1="probes", method="taylor")
    est = _run(model, geometry, idx, probes="exact", r1="probes", method="taylor-collapsed")
    assert est["R2"].shape == ref["R2"].shape == (6,)
    for key in ("R2", "R13", "R1"):
        torch.testing.assert_close(est[key], ref[key], rtol=1e-10, atol=1e-14)
    assert float(est["R2_se"].abs().max()) == 0.0


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
@pytest.mark.parametrize("groups", [2, 4, 8])
def test_collapsed_random_probes_equal_the_mean_of_group_sums(kind, groups):
    # the mean of the g group means is the mean over all probes: same seeds, same numbers
    model, geometry = _problem(kind)
    idx = torch.arange(5)
    ref = _run(model, geometry, idx, seed=3, num_probes=16, r1="probes", method="taylor")
    est = _run(
        model,
        geometry,
        idx,
        seed=3,
        num_probes=16,
        r1="probes",
        method="taylor-collapsed",
        collapse_groups=groups,
    )
    for key in ("R2", "R13"):
        torch.testing.assert_close(est[key], ref[key], rtol=1e-10, atol=1e-14)
    assert est.method == "taylor-collapsed"
    assert bool(torch.isfinite(est["R2_se"]).all()) and bool((est["R2_se"] > 0).all())


def test_collapsed_with_small_probe_chunks_keeps_groups_whole():
    model, geometry = _problem("mlp")
    idx = torch.arange(4)
    ref = _run(model, geometry, idx, seed=5, num_probes=32, r1="probes", method="taylor-collapsed")
    chunked = _run(
        model, geometry, idx, seed=5, num_probes=32, chunk_size=6, r1="probes", method="taylor-collapsed"
    )
    torch.testing.assert_close(chunked["R2"], ref["R2"], rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(chunked["R2_se"], ref["R2_se"], rtol=1e-10, atol=1e-14)


def test_collapsed_standard_errors_are_honest_and_shrink_like_one_over_sqrt_k():
    model, geometry = _problem("mlp")
    idx = torch.arange(30)
    exact = _run(model, geometry, idx, probes="exact", r1="probes")
    small = _run(model, geometry, idx, seed=1, num_probes=32, method="taylor-collapsed")
    large = _run(model, geometry, idx, seed=2, num_probes=512, method="taylor-collapsed")
    assert_within_standard_errors(large["R2"], large["R2_se"], exact["R2"], what="collapsed R2")
    # 8 group means: the SE has 7 degrees of freedom, so a single ratio is noisy; the median of
    # 30 ratios, expected √(512/32) = 4, is accepted within the spread of a ratio of two χ₇ SEs
    # (relative sd √(1/(2·7)) each, √2 of that for the ratio) at 4 sd / √30
    ratio = float((small["R2_se"] / large["R2_se"]).median())
    rel = 4 * math.sqrt(2) * math.sqrt(1 / 14) / math.sqrt(30)
    assert 4 * (1 - rel) < ratio < 4 * (1 + rel) / (1 - rel), ratio
