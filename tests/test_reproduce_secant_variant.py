"""The full runs of regularizer-trajectories and hard-vs-easy add a ReLU network whose R2 is measured
by secant curvature (autograd's R2 of a ReLU network is 0), beside the smooth network with autograd."""

from __future__ import annotations

import pytest
import torch

from mixtheory.estimators import estimate_from_geometry
from mixtheory.geometry import MixupGeometry
from mixtheory.laws import SymmetricBeta
from mixtheory.reproduce import hard_vs_easy, regularizer_trajectories
from mixtheory.reproduce.regularizer_trajectories import VARIANTS, build_network, variant_setup


def test_full_configs_list_relu_secant_and_smooth_autograd():
    for module in (regularizer_trajectories, hard_vs_easy):
        figure = module.FIGURE
        full = figure.full.params
        assert set(full["variants"]) == {"relu-secant", "gelu-autograd"}
        assert full["arch"] == "resnet18"
        units = figure.units(full)
        assert {u.params["variant"] for u in units} == {"relu-secant", "gelu-autograd"}
        for variant, (activation, curvature) in {
            "relu-secant": ("relu", "secant"),
            "gelu-autograd": ("gelu", "autograd"),
        }.items():
            act, options = variant_setup(full, variant)
            assert (act, options.curvature) == (activation, curvature)
        assert "secant" in figure.full.describe and "autograd" in figure.full.describe
        # the quick configuration keeps a single unnamed network
        assert "variants" not in figure.quick.params
        assert all("variant" not in u.params for u in figure.units(figure.quick.params))
    assert VARIANTS["relu-secant"]["label"] == "ReLU ResNet-18, R2 by secant curvature"
    assert VARIANTS["gelu-autograd"]["label"] == "smooth (GELU) ResNet-18, R2 by autograd"


def test_relu_resnet_variant_is_relu_only():
    params = {"arch": "resnet18", "hidden": (8,)}
    model = build_network(params, (3, 8, 8), 4, "relu", torch.float32, 0)
    kinds = {type(m) for m in model.modules()}
    assert torch.nn.ReLU in kinds and torch.nn.GELU not in kinds


def test_secant_variant_gives_nonzero_r2_where_autograd_gives_zero():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(12, 5, generator=g, dtype=torch.float64)
    Y = torch.nn.functional.one_hot(torch.arange(12) % 3, 3).to(torch.float64)
    params = {"arch": "mlp", "hidden": (16, 16), "num_probes": 8, "activation": "tanh"}
    activation, secant = variant_setup(params, "relu-secant")
    _, autograd = variant_setup(params, "gelu-autograd")
    model = build_network(params, (5,), 3, activation, torch.float64, 0)
    geometry = MixupGeometry(X, Y, SymmetricBeta(0.5))

    def r2(options):
        est = estimate_from_geometry(
            model,
            geometry,
            indices=torch.arange(6),
            generator=torch.Generator().manual_seed(1),
            options=options,
        )
        return torch.as_tensor(est["R2"])

    with pytest.warns(Warning, match="piecewise linear"):
        r2_autograd = r2(autograd)
    assert torch.all(r2_autograd == 0)  # ReLU: ∇²f = 0 almost everywhere
    r2_secant = r2(secant)
    assert torch.all(torch.isfinite(r2_secant)) and torch.any(r2_secant != 0)
