"""Second-order Taylor mode of :mod:`mixtheory.estimators.jets` against dense torch.func
Hessians and Jacobians (the brute-force reference), float64."""

from __future__ import annotations

import pytest
import torch

from mixtheory.estimators import second_order_jet, taylor_mode_supported
from mixtheory.models import ACTIVATIONS

F64 = torch.float64


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_jet_matches_dense_hessian(activation):
    torch.manual_seed(0)
    act = ACTIVATIONS[activation]()
    if activation == "softplus":
        act = torch.nn.Softplus(beta=2.0, threshold=1.5)  # exercises the linear branch too
    net = torch.nn.Sequential(torch.nn.Linear(3, 7), act, torch.nn.Linear(7, 2)).double()
    x = torch.randn(6, 3, dtype=F64) * 2
    v = torch.randn(4, 6, 3, dtype=F64)
    y, jv, curv = second_order_jet(net, x, v)
    assert (y.shape, jv.shape, curv.shape) == ((6, 2), (4, 6, 2), (4, 6, 2))
    for b in range(6):
        H = torch.func.hessian(lambda z: net(z[None])[0])(x[b])
        J = torch.func.jacrev(lambda z: net(z[None])[0])(x[b])
        torch.testing.assert_close(curv[:, b], torch.einsum("ki,cij,kj->kc", v[:, b], H, v[:, b]))
        torch.testing.assert_close(jv[:, b], v[:, b] @ J.T)


def test_supported_layers_and_refusals():
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Sequential(torch.nn.GELU()), torch.nn.Linear(4, 2)
    )
    assert taylor_mode_supported(net)
    assert not taylor_mode_supported(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.MaxPool1d(2)))
    assert not taylor_mode_supported(torch.nn.Sequential(torch.nn.Dropout(0.1)).train())
    with pytest.raises(TypeError, match="no Taylor-mode rule for MaxPool1d"):
        second_order_jet(torch.nn.MaxPool1d(2), torch.zeros(1, 1, 4), torch.zeros(1, 1, 1, 4))
