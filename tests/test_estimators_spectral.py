"""Spectral probes (``probes="spectral"``): exact rank-one and top-k eigen-directions plus a Hutchinson
tail. Exact when k ≥ r, unbiased within standard errors otherwise, and of smaller variance than
plain Rademacher probes at equal probe count when Σ_xx's spectrum decays."""

from __future__ import annotations

import pytest
import torch
from _stats import assert_within_standard_errors

from mixtheory import MixupGeometry, SymmetricBeta
from mixtheory.estimators import EstimatorOptions, estimate_from_geometry
from mixtheory.models import build_model

F64 = torch.float64


def _problem():
    # data with a fast-decaying spectrum (scales 2^-j), like images
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(40, 8, generator=gen, dtype=F64) * 2.0 ** -torch.arange(8, dtype=F64)
    model = build_model("mlp", 8, 3, "tanh", hidden=(9,), dtype=F64, seed=0)
    return model, MixupGeometry(X, torch.arange(40) % 3, SymmetricBeta(1.0))


def _run(model, geometry, idx, seed=None, **settings):
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    return estimate_from_geometry(
        model, geometry, indices=idx, generator=gen, options=EstimatorOptions(**settings)
    )


@pytest.mark.parametrize("method", ["taylor", "taylor-collapsed", "jvp"])
def test_spectral_with_every_direction_exact_is_exact(method):
    model, geometry = _problem()
    idx = torch.arange(6)
    ref = _run(model, geometry, idx, probes="exact", r1="probes")
    est = _run(
        model, geometry, idx, probes="spectral", exact_directions=geometry.rank, r1="probes", method=method
    )
    for key in ("R2", "R13"):
        torch.testing.assert_close(est[key], ref[key], rtol=1e-10, atol=1e-14)
    assert est.num_probes == 1 + geometry.rank


@pytest.mark.parametrize("method", ["taylor", "taylor-collapsed"])
def test_spectral_is_unbiased_and_beats_rademacher(method):
    model, geometry = _problem()
    idx = torch.arange(40)
    ref = _run(model, geometry, idx, probes="exact", r1="probes")
    spectral = _run(
        model,
        geometry,
        idx,
        seed=1,
        probes="spectral",
        exact_directions=2,
        num_probes=64,
        r1="probes",
        method=method,
    )
    for key in ("R2", "R13"):
        assert_within_standard_errors(spectral[key], spectral[f"{key}_se"], ref[key], what=f"spectral {key}")
    plain = _run(model, geometry, idx, seed=1, probes="rademacher", num_probes=64, r1="probes", method=method)
    assert float(spectral["R2_se"].median()) < 0.5 * float(plain["R2_se"].median())
