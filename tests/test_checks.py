"""The check registry, derived tolerances and the exact-loss fast path."""

from __future__ import annotations

import math

import pytest
import torch

from mixtheory import SymmetricBeta
from mixtheory.checks import CHECKS, select_checks
from mixtheory.checks.tolerances import t_critical, z_critical
from mixtheory.exact_loss import LossOptions
from mixtheory.expansions import fit_remainder_order
from mixtheory.mixup_loss import exact_mixup_loss


def test_registry_names_and_selection():
    assert {"moments", "theorem1", "dense", "completed-square", "remainder-slope"} <= set(CHECKS)
    assert [c.name for c in select_checks(["dense", "moments"])] == ["moments", "dense"]
    with pytest.raises(ValueError, match="unknown check"):
        select_checks(["nope"])


def test_critical_values():
    assert z_critical(1e-3) == pytest.approx(3.2905, abs=1e-4)  # scipy.stats.norm.isf(5e-4)
    assert t_critical(1e-3, 10**6) == pytest.approx(z_critical(1e-3), rel=1e-4)


def test_slope_fit_standard_error_grows_with_noise():
    x = [0.0, 1.0, 2.0, 3.0, 4.0]
    exact = fit_remainder_order([math.exp(v) for v in x], [math.exp(3 * v) for v in x])
    noisy = fit_remainder_order(
        [math.exp(v) for v in x], [math.exp(3 * v + e) for v, e in zip(x, [0.1, -0.1, 0.05, 0.0, -0.05])]
    )
    assert exact.stderr < 1e-12 < noisy.stderr and abs(noisy.slope - 3) < 5 * noisy.stderr


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_affine_first_layer_fast_path_is_exact(arch):
    """Mixing after the first affine layer equals mixing inputs (a lambda takes the generic path)."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    if arch == "mlp":
        X = torch.randn(25, 6, generator=g, dtype=torch.float64)
        net = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    else:
        X = torch.randn(12, 1, 4, 4, generator=g, dtype=torch.float64)
        net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.Tanh(), torch.nn.Flatten(), torch.nn.Linear(32, 3)
        )
    net = net.double().eval()
    y = torch.arange(X.shape[0]) % 3
    fast = exact_mixup_loss(net, X, y, SymmetricBeta(0.5), options=LossOptions(num_nodes=8))
    generic = exact_mixup_loss(lambda x: net(x), X, y, SymmetricBeta(0.5), options=LossOptions(num_nodes=8))
    assert fast == pytest.approx(generic, rel=1e-14)
