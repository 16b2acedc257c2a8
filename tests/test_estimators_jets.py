"""Second-order Taylor mode of :mod:`mixtheory.estimators.jets` against dense torch.func
Hessians and Jacobians (the brute-force reference), float64."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

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
    with pytest.raises(TypeError, match="no Taylor-mode rule for function torch.nn.functional.max_pool1d"):
        second_order_jet(torch.nn.MaxPool1d(2), torch.zeros(1, 1, 4), torch.zeros(1, 1, 1, 4))


# --- torch.fx Taylor mode: residual sums, concatenation, reshapes, norms, functional activations ---
class _GraphNet(torch.nn.Module):
    """Every graph rule once: residual sum, product of jets, concatenation, view with a size read off
    the input, average and adaptive pooling, zero padding, layer and group norm, eval batch norm,
    functional activations, constants added, multiplied and divided."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.ln = torch.nn.LayerNorm([4, 5, 5])
        self.gn = torch.nn.GroupNorm(2, 4)
        self.head = torch.nn.Linear(8 * 25, 3)

    def forward(self, x):
        h = torch.nn.functional.gelu(self.bn(self.conv(x)))
        h = self.ln(h) * torch.sigmoid(h) + 2.0
        g = torch.nn.functional.silu(self.gn(torch.tanh(h))) - h / 3
        z = torch.cat([g, torch.nn.functional.softplus(h, beta=2.0)], dim=1)
        pooled = torch.nn.functional.avg_pool2d(torch.nn.functional.pad(z, (1, 1, 1, 1)), 3, stride=1)
        z = torch.nn.functional.adaptive_avg_pool2d(z, 5) + pooled
        z = z.view(z.size(0), -1)
        return self.head(torch.add(z, z, alpha=0.5)).mul(2)


def _seeded(model):
    gen = torch.Generator().manual_seed(7)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.copy_(torch.randn(module.num_features, generator=gen, dtype=F64))
            module.running_var.copy_(torch.rand(module.num_features, generator=gen, dtype=F64) + 0.5)
        if isinstance(module, (torch.nn.BatchNorm2d, torch.nn.LayerNorm, torch.nn.GroupNorm)):
            module.weight.data.copy_(torch.randn(module.weight.shape, generator=gen, dtype=F64))
            module.bias.data.copy_(torch.randn(module.bias.shape, generator=gen, dtype=F64))
    return model.eval()


def _graph_models():
    from mixtheory.resnet import smooth_resnet18

    return {
        "graph-rules": (_seeded(_GraphNet().double()), (2, 5, 5)),
        "resnet18-silu": (_seeded(smooth_resnet18(4, (3, 8, 8), "silu", width=4, dtype=F64)), (3, 8, 8)),
    }


@pytest.mark.parametrize("name", ["graph-rules", "resnet18-silu"])
def test_fx_jet_matches_nested_jvp(name):
    from mixtheory.derivatives import directional_derivatives

    model, shape = _graph_models()[name]
    assert not isinstance(model, torch.nn.Sequential) and taylor_mode_supported(model)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(3, *shape, generator=gen, dtype=F64)
    v = torch.randn(4, 3, *shape, generator=gen, dtype=F64)
    y, jv, curv = second_order_jet(model, x, v)
    assert (y.shape, jv.shape, curv.shape) == ((3, y.shape[1]), (4, 3, y.shape[1]), (4, 3, y.shape[1]))
    torch.testing.assert_close(y, model(x), rtol=1e-12, atol=1e-14)
    for j in range(4):
        ref_jv, ref_curv = directional_derivatives(model, x, v[j])
        torch.testing.assert_close(jv[j], ref_jv.detach(), rtol=1e-10, atol=1e-14)
        torch.testing.assert_close(curv[j], ref_curv.detach(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["graph-rules", "resnet18-silu"])
def test_collapsed_jet_is_the_group_sum(name):
    model, shape = _graph_models()[name]
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(2, *shape, generator=gen, dtype=F64)
    v = torch.randn(6, 2, *shape, generator=gen, dtype=F64)
    _, jv, curv = second_order_jet(model, x, v)
    _, jv3, curv3 = second_order_jet(model, x, v, groups=3)
    assert curv3.shape == (3, *curv.shape[1:])
    torch.testing.assert_close(jv3, jv, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(curv3, curv.reshape(3, 2, *curv.shape[1:]).sum(1), rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="groups must divide"):
        second_order_jet(model, x, v, groups=4)


class _MaxNet(torch.nn.Module):
    def forward(self, x):
        return torch.max(x, dim=1).values[:, None]


class _BranchNet(torch.nn.Module):
    def forward(self, x):
        return x if x.sum() > 0 else -x


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (_MaxNet(), r"function torch.max \(node 'max_1'\)"),
        (_BranchNet(), "torch.fx cannot trace _BranchNet"),
        (
            torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2).train()),
            "BatchNorm1d in train mode",
        ),
    ],
    ids=["unsupported-op", "untraceable", "train-batchnorm"],
)
def test_unsupported_operation_is_named(model, message):
    from mixtheory.estimators.jets import taylor_mode_unsupported

    assert re.search(message, taylor_mode_unsupported(model))
    with pytest.raises(TypeError, match="no Taylor-mode rule for"):
        second_order_jet(model, torch.zeros(2, 2), torch.zeros(1, 2, 2))


@pytest.mark.parametrize("first_layer", ["flatten", "tanh"])
def test_jets_never_overwrite_the_callers_tangents(first_layer):
    """Elementwise layers overwrite streams in place only where the jet owns them: the caller's
    tangent (or a view of it, after Flatten) comes back untouched, in a Sequential and in a graph."""
    torch.manual_seed(0)
    head = nn.Flatten() if first_layer == "flatten" else nn.Tanh()
    seq = nn.Sequential(head, nn.Tanh(), nn.Flatten(), nn.Linear(6, 4), nn.GELU(), nn.Linear(4, 2)).double()

    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.act, self.lin = nn.Tanh(), nn.Linear(6, 6)

        def forward(self, x):
            h = self.act(x.flatten(1))
            return self.act(self.lin(h)) + h

    for model in (seq, Residual().double()):
        x = torch.randn(3, 2, 3, dtype=torch.float64)
        v = torch.randn(4, 3, 2, 3, dtype=torch.float64)
        kept = v.clone()
        _, first, second = second_order_jet(model, x, v)
        assert torch.equal(v, kept)
        _, first_c, _ = second_order_jet(model, x, v, groups=2)
        assert torch.equal(v, kept) and torch.allclose(first, first_c)
        _, ref = torch.func.jvp(model, (x,), (v[0],))
        assert torch.allclose(first[0], ref)


@pytest.mark.parametrize("shape", [(3, 2, 6, 8), (3, 2, 5, 8)])
def test_pooling_fast_path_is_the_same_linear_map(shape):
    """2 × 2 average pooling of the tangent streams by strided adds equals avg_pool2d (odd sides
    fall back to avg_pool2d itself)."""
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten()).double()
    x = torch.randn(*shape, dtype=torch.float64)
    v = torch.randn(4, *shape, dtype=torch.float64)
    _, first, second = second_order_jet(net, x, v)
    for k in range(4):
        (_, jv), (_, vhv) = torch.func.jvp(lambda z, k=k: torch.func.jvp(net, (z,), (v[k],)), (x,), (v[k],))
        torch.testing.assert_close(first[k], jv, rtol=1e-13, atol=1e-15)
        torch.testing.assert_close(second[k], vhv, rtol=1e-12, atol=1e-14)
