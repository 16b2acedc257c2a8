"""Model builders and the training helper (issue 4 §4)."""

from __future__ import annotations

import pytest
import torch

from mixtheory.estimators import piecewise_linear_modules, taylor_mode_supported
from mixtheory.models import ACTIVATIONS, LayerOptions, build_model, parse_arch, train_model


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize(("arch", "shape"), [("mlp", (5,)), ("mlp", (1, 3, 3)), ("cnn", (2, 6, 6))])
def test_shapes_activation_and_taylor_support(arch, shape, activation):
    model = build_model(arch, shape, 4, activation, hidden=(7,), channels=(3, 4), seed=1)
    assert not model.training
    out = model(torch.randn(3, *shape))
    assert out.shape == (3, 4)
    assert any(isinstance(m, ACTIVATIONS[activation]) for m in model.modules())
    assert taylor_mode_supported(model)
    assert (piecewise_linear_modules(model) == ["ReLU"]) == (activation == "relu")


def test_seeded_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = build_model("cnn-gelu", (1, 8, 8), 10, seed=4)
    after = torch.rand(1)
    b = build_model("cnn", (1, 8, 8), 10, "gelu", seed=4)
    c = build_model("cnn", (1, 8, 8), 10, "gelu", seed=5)
    assert torch.equal(before, after)
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(pa, pb), name
    assert not all(torch.equal(pb, pc) for pb, pc in zip(b.parameters(), c.parameters()))


def test_max_pool_and_batchnorm_options():
    model = build_model(
        "cnn", (1, 8, 8), 3, "tanh", options=LayerOptions(pool="max", batchnorm=True, dropout=0.1)
    )
    assert piecewise_linear_modules(model) == ["MaxPool2d"]
    assert not taylor_mode_supported(model)  # max-pool has no jet rule
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def test_bad_names():
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("transformer", 4, 2)
    with pytest.raises(ValueError, match="unknown activation"):
        build_model("mlp", 4, 2, "swish2")
    with pytest.raises(ValueError, match="unknown activation"):
        parse_arch("mlp-wiggle")
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        build_model("cnn", 4, 2)
    assert parse_arch("cnn:softplus") == ("cnn", "softplus")


@pytest.mark.parametrize("mixup_alpha", [None, 0.5])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_training_is_deterministic_and_learns(mixup_alpha, batch_size):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 3, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long()
    runs = []
    for _ in range(2):
        model = build_model("mlp", 3, 2, "tanh", hidden=(8,), seed=2)
        losses = train_model(
            model, X, y, epochs=40, lr=0.05, batch_size=batch_size, mixup_alpha=mixup_alpha, seed=9
        )
        runs.append((losses, [p.detach().clone() for p in model.parameters()]))
        assert not model.training
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))
    assert runs[0][0][-1] < 0.6 * runs[0][0][0]
    with pytest.raises(ValueError, match="mixup_alpha"):
        train_model(model, X, y, epochs=1, mixup_alpha=0.0)
