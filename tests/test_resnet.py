"""The smooth ResNet-18 (:mod:`mixtheory.resnet`) runs in torch.fx Taylor mode and the estimators
match nested forward mode (``method="jvp"``) with exact probes, float64."""

from __future__ import annotations

import pytest
import torch

from mixtheory import MixupGeometry, SymmetricBeta
from mixtheory.estimators import EstimatorOptions, estimate_from_geometry, taylor_mode_supported
from mixtheory.resnet import smooth_resnet18

F64 = torch.float64


def test_shapes_and_refusals():
    net = smooth_resnet18(10, (3, 16, 16), "gelu", width=8)
    assert net(torch.zeros(2, 3, 16, 16)).shape == (2, 10) and not net.training
    assert sum(isinstance(m, torch.nn.Conv2d) for m in net.modules()) == 20  # 1 + 16 + 3 projections
    with pytest.raises(ValueError, match="unknown activation 'relu'"):
        smooth_resnet18(activation="relu")
    with pytest.raises(ValueError, match=r"in_shape \(C, H, W\)"):
        smooth_resnet18(in_shape=(3, 32))


# torch has no forward-mode rule for silu_backward inside vmap, so SiLU is checked against
# reverse-over-reverse products instead of jvp-of-jvp
@pytest.mark.parametrize(("activation", "reference"), [("gelu", "jvp"), ("silu", "double-backward")])
def test_taylor_mode_matches_jvp_with_exact_probes(activation, reference):
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(6, 3, 8, 8, generator=gen, dtype=F64)
    Y = torch.arange(6) % 3
    net = smooth_resnet18(3, (3, 8, 8), activation, width=4, dtype=F64, seed=1)
    assert taylor_mode_supported(net)
    geo = MixupGeometry(X, Y, SymmetricBeta(1.0))
    results = {
        method: estimate_from_geometry(
            net, geo, options=EstimatorOptions(probes="exact", method=method, r1="probes")
        )
        for method in ("auto", reference)
    }
    # exact columns: collapsed Taylor mode sums the second-order stream over all of them
    assert results["auto"].method == "taylor-collapsed" and "taylor_unsupported" not in results["auto"].info
    for key in ("R1", "R2", "R13"):
        torch.testing.assert_close(results["auto"][key], results[reference][key], rtol=1e-10, atol=1e-16)
