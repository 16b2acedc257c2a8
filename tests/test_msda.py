"""Masked mixing expanded around the anchor (Park, Yun, Chun, NeurIPS 2022; docs/theory.md §8.3):
reduction to Zhang et al.'s terms, the tilted hole moments, and the third-order remainder against
the exact masked loss (every partner × λ nodes × every box position on 4×5 images)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mixtheory import Beta, SymmetricBeta
from mixtheory.checks.tolerances import t_critical
from mixtheory.exact_loss import LossOptions
from mixtheory.expansions import ZHANG_TERMS, fit_remainder_order
from mixtheory.expansions.park2022 import (
    MaskHole,
    masked_expansion,
    pixel_pair_weights,
    tilted_hole_moments,
    weight_by_distance,
)
from mixtheory.expansions.zhang2021 import anchor_expansion, lambda_tilde_moment, zhang_expansion
from mixtheory.losses import get_loss
from mixtheory.mixing import CutMix, GMix, HMix
from mixtheory.msda import exact_masked_loss

N, H, W, C = 8, 4, 5, 3
MASKS = {"mixup": None, "cutmix": CutMix(), "hmix": HMix(ratio=0.5), "gmix": GMix()}


def _setup(seed=1):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(N, H, W, generator=g, dtype=torch.float64)
    Y = torch.arange(N) % C
    torch.manual_seed(seed + 2)
    model = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(H * W, 6), torch.nn.Tanh(), torch.nn.Linear(6, C)
    )
    return X, Y, model.double().eval()


def _close_to_rounding(ours, zhang, ulps: float) -> None:
    """Every term of ``ours`` equals Zhang's within ``ulps`` float64 epsilons of the term's scale."""
    eps = torch.finfo(torch.float64).eps
    for key in ZHANG_TERMS:
        scale = float(zhang[key].abs().max())
        assert float((ours[key] - zhang[key]).abs().max()) <= ulps * eps * scale, key


LAMBDA_MASKS = {"mixup": (None, 64), "hmix-without-box": (HMix(ratio=0.0), 1024)}


@pytest.mark.parametrize("mask", LAMBDA_MASKS)
@pytest.mark.parametrize("law", [SymmetricBeta(0.8), Beta(0.4, 1.5)], ids=["beta(0.8)", "beta(0.4,1.5)"])
def test_lambda_mask_reduces_to_zhang(law, mask):
    """Park et al.'s expansion with a mask M = λ·1 (w = λ) is Zhang et al.'s: its hole is (1 − λ̃)·1,
    so m̄ = E(1−λ̃)·1 and W = E(1−λ̃)²·11ᵀ. To rounding: Mixup's moments come from λ's quadrature
    rule, exact for these polynomials (64 ulps of each term's scale); HMix without its box enumerates
    mask atoms with Gauss–Jacobi rules per piece of λ (1024 ulps: the sums of many weights)."""
    kind, ulps = LAMBDA_MASKS[mask]
    X, Y, model = _setup()
    ours, zhang = masked_expansion(model, X, Y, law, mask=kind), zhang_expansion(model, X, Y, law)
    assert ours.paper == "park2022" and zhang.paper == "zhang2021" and set(ours) == set(zhang)
    assert ours["first_order"].shape == (N,)
    _close_to_rounding(ours, zhang, ulps)
    mean, pair = tilted_hole_moments(law, (H, W), kind)
    e1, e2 = lambda_tilde_moment(law, 1), lambda_tilde_moment(law, 2)
    assert float((mean - e1).abs().max()) <= ulps * torch.finfo(torch.float64).eps
    assert float((pair - e2).abs().max()) <= ulps * torch.finfo(torch.float64).eps
    assert ours.loss() == pytest.approx(zhang.loss(), rel=ulps * torch.finfo(torch.float64).eps, abs=0)


def test_the_mask_route_with_lambda_tilde_moments_is_zhangs_route():
    """The same four terms (anchor_expansion, written once) through a dense mask hole whose moments
    are exactly E(1−λ̃)·1 and E(1−λ̃)²·11ᵀ agree with Zhang's low-rank route to rounding: only the
    order of the contractions differs."""
    X, Y, model = _setup(seed=4)
    law = SymmetricBeta(0.3)
    zhang = zhang_expansion(model, X, Y, law)
    x = X.reshape(N, -1)
    e1, e2 = lambda_tilde_moment(law, 1), lambda_tilde_moment(law, 2)
    d = x.shape[1]
    a = x - x.mean(0)
    ones = torch.ones(d, dtype=torch.float64)
    pair = e2 * torch.ones(d, d, dtype=torch.float64)
    hole = MaskHole(e1 * ones, pair, a, pair * (a.T @ a / N))
    y = torch.nn.functional.one_hot(Y, C).to(torch.float64)
    ours = anchor_expansion(model, (x, y, (H, W), get_loss("ce")), hole, paper="park2022")
    _close_to_rounding(ours, zhang, 64)


def test_hmix_without_box_is_mixup():
    law = SymmetricBeta(0.5)
    mean0, W0 = tilted_hole_moments(law, (H, W))
    mean1, W1 = tilted_hole_moments(law, (H, W), HMix(ratio=0.0))
    assert torch.allclose(mean1, mean0, rtol=0, atol=1e-13) and torch.allclose(W1, W0, rtol=0, atol=1e-13)


@pytest.mark.parametrize("name", ["cutmix", "hmix", "gmix"])
def test_tilted_moments_are_a_second_moment(name):
    mean, Wm = tilted_hole_moments(SymmetricBeta(1.0), (1, H, W), MASKS[name], num_nodes=8)
    assert mean.shape == (H * W,) and Wm.shape == (H * W, H * W)
    assert torch.allclose(Wm, Wm.T, rtol=0, atol=1e-15)
    assert float(torch.linalg.eigvalsh(Wm).min()) >= -1e-13  # E H̃H̃ᵀ is PSD
    assert float((torch.diagonal(Wm) - mean).max()) <= 1e-13  # H̃ ∈ [0, 1]: H̃² ≤ H̃
    if name == "cutmix":  # binary hole: E H̃_p² = E H̃_p
        assert torch.allclose(torch.diagonal(Wm), mean, rtol=0, atol=1e-13)


def test_cutmix_weights_decay_with_distance_and_mixup_does_not():
    g = torch.Generator().manual_seed(4)
    X = torch.randn(30, 6, 6, generator=g, dtype=torch.float64)
    law = SymmetricBeta(1.0)
    _, mix = weight_by_distance(pixel_pair_weights(X, law, None, num_nodes=16)["mask"], 6, 6)
    _, cut = weight_by_distance(pixel_pair_weights(X, law, "cutmix", num_nodes=16)["mask"], 6, 6)
    assert float(mix.max() - mix.min()) <= 1e-14
    assert float(cut[0]) > float(cut[1]) > float(cut[3]) > float(cut[-1])


def _remainder_fit(mask, scales):
    X, Y, model = _setup()
    law = SymmetricBeta(0.8)
    x_bar = X.mean(0)
    gaps = []
    for s in scales:
        Xs = x_bar + s * (X - x_bar)  # inputs only: the label is exact in the re-anchored form
        exact = exact_masked_loss(model, Xs, Y, law, mask=mask, options=LossOptions(num_nodes=8))
        gaps.append(abs(exact - masked_expansion(model, Xs, Y, law, mask=mask, num_nodes=8).loss()))
    return fit_remainder_order(scales, gaps, correction=True)


def _check_third_order(name):
    fit = _remainder_fit(MASKS[name], 0.1 * 0.5 ** np.arange(6))
    assert abs(fit.slope - 3.0) <= t_critical(1e-3, fit.dof) * fit.stderr, fit


def test_cutmix_remainder_is_third_order():
    _check_third_order("cutmix")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mixup", "hmix", "gmix"])
def test_masked_remainder_is_third_order(name):
    _check_third_order(name)


def test_squared_error_is_refused():
    X, Y, model = _setup()
    with pytest.raises(ValueError, match="h\\(u\\)"):
        masked_expansion(model, X, Y, SymmetricBeta(1.0), "mse", mask="cutmix", num_nodes=4)


def test_masked_loss_is_exact_over_a_continuous_lambda_law():
    """exact_masked_loss integrates λ piecewise between the box-size breakpoints (mask_exact), so
    under Beta(1, 1) it equals, at any number of nodes, the λ integral done box size by box size by
    hand: with timm's rule the side is k = ⌊6√(1−λ)⌋, constant on (k/6)² ≤ 1−λ < ((k+1)/6)², and given
    the box the loss is affine in λ, so each piece contributes P(k)·loss at E[λ | k]."""
    from scipy import stats

    from mixtheory import PointMass
    from mixtheory.msda import exact_masked_loss as masked

    g = torch.Generator().manual_seed(0)
    X = torch.rand(6, 1, 6, 6, generator=g, dtype=torch.float64)
    Y = torch.tensor([0, 1, 2, 0, 1, 2])
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(36, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)
    ).double()
    dist, side = stats.beta(1.0, 1.0), 6
    reference = 0.0
    for k in range(side):
        lo, hi = (k / side) ** 2, min(((k + 1) / side) ** 2, 1.0)
        p = dist.cdf(1 - lo) - dist.cdf(1 - hi)
        lam = dist.expect(lambda t: t, lb=1 - hi, ub=1 - lo) / p
        reference += p * masked(net, X, Y, PointMass(lam), mask="cutmix")
    for nodes in (16, 96, 400):
        value = masked(net, X, Y, SymmetricBeta(1.0), mask="cutmix", options=LossOptions(num_nodes=nodes))
        assert abs(value - reference) / reference < 1e-12, (nodes, value, reference)
    # the rule before the conventions (rounded sides) is a different sampler, not a rounding error
    rounded = masked(net, X, Y, SymmetricBeta(1.0), mask=CutMix(convention="rounded"))
    assert abs(rounded - reference) / reference > 1e-4
