"""Probe laws of :mod:`mixtheory.estimators.probes`: the factor of Σ^(i) (Lemma 2 of Carratino et
al., JMLR 2022) and probes with ``E[v vᵀ] = Σ^(i)_xx``, float64."""

from __future__ import annotations

import pytest
import torch
from _stats import assert_within_standard_errors
from conftest import make_data

from mixtheory import MixupGeometry, SymmetricBeta
from mixtheory.estimators import draw_probes, probe_seeds

F64 = torch.float64
LAW = SymmetricBeta(1.0)


def test_factor_reproduces_lemma2_covariance():
    X, Y = make_data(9, 5, 3, seed=3, constant_features=1)
    geo = MixupGeometry(X, Y, LAW)
    p = 1 + geo.rank
    L = geo.factor_apply(torch.eye(p, dtype=F64).expand(geo.n, p, p)).transpose(1, 2)  # (n, d, p)
    assert L.shape == (9, 5, p)
    for i in range(geo.n):
        torch.testing.assert_close(L[i] @ L[i].T, geo.sigma_xx(i), rtol=1e-12, atol=1e-13)
    u = torch.randn(9, 2, 5, generator=torch.Generator().manual_seed(0), dtype=F64)
    torch.testing.assert_close(geo.factor_transpose_apply(u), u @ L, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kind", ["gaussian", "rademacher", "mixup"])
def test_probes_have_covariance_sigma(kind):
    X, Y = make_data(8, 3, 2, seed=4)
    geo = MixupGeometry(X, Y, LAW)
    idx = torch.tensor([0, 5])
    V = draw_probes(geo, kind, 40000, idx, probe_seeds(torch.Generator().manual_seed(1), idx))
    assert V.shape == (2, 40000, 3)
    outer = V[:, :, :, None] * V[:, :, None, :]
    mean, se = outer.mean(1), outer.std(1) / 40000**0.5
    truth = torch.stack([geo.sigma_xx(int(i)) for i in idx])
    assert_within_standard_errors(mean, se, truth, what=f"{kind} E[vvᵀ]")


def test_seeds_do_not_depend_on_the_other_samples():
    idx = torch.tensor([4, 1, 7])
    together = probe_seeds(torch.Generator().manual_seed(3), idx)
    alone = [probe_seeds(torch.Generator().manual_seed(3), idx[j : j + 1])[0] for j in range(3)]
    assert together == alone
    X, Y = make_data(8, 3, 2, seed=4)
    geo = MixupGeometry(X, Y, LAW)
    for kind in ("gaussian", "rademacher", "mixup"):
        joint = draw_probes(geo, kind, 5, idx, together)
        single = draw_probes(geo, kind, 5, idx[1:2], together[1:2])
        assert torch.equal(joint[1:2], single), kind
