"""Masks: the factored exact moments against brute enumeration, sampled masks against them in
standard errors, E[M] = E[area]·1 on a torus, the border-clipping deviation, and masked mixing's
average loss against its exact limit."""

from __future__ import annotations

import pytest
import torch
from _stats import assert_within_standard_errors

from mixtheory import Empirical, PointMass, SymmetricBeta, Uniform
from mixtheory.mixing import (
    CutMix,
    GMix,
    HMix,
    exact_loss_for_rule,
    mask_mean,
    mask_moments,
    sample_masks,
    sampled_loss_for_rule,
)
from mixtheory.mixing.mask_exact import mask_atoms

H, W = 5, 7  # not square
KINDS = {
    "cutmix-clip": CutMix(),
    "cutmix-wrap": CutMix(border="wrap"),
    "cutmix-uncorrected": CutMix(correct_lambda=False),
    "hmix": HMix(ratio=0.5),
    "gmix": GMix(),
    "gmix-wrap": GMix(border="wrap"),
}
ATOM_LAW = Empirical([0.15, 0.4, 0.62, 0.9])  # atoms: the λ rule is exact


@pytest.mark.parametrize("name", list(KINDS))
def test_factored_moments_equal_enumeration(name):
    kind = KINDS[name]
    for law in (ATOM_LAW, SymmetricBeta(0.7)):
        mean, second = mask_moments(kind, H, W, law, num_nodes=12)
        assert mean.shape == (H, W) and second.shape == (H * W, H * W)
        weights, masks, _ = mask_atoms(kind, H, W, law, num_nodes=12)
        holes = (1 - masks).reshape(-1, H * W)
        torch.testing.assert_close(mean, torch.einsum("k,khw->hw", weights, masks), rtol=0, atol=1e-13)
        brute = torch.einsum("k,ka,kb->ab", weights, holes, holes)
        torch.testing.assert_close(second, brute, rtol=0, atol=1e-13)


@pytest.mark.parametrize("name", list(KINDS))
def test_sampled_masks_match_exact_moments(name):
    kind = KINDS[name]
    draws = 1500
    g = torch.Generator().manual_seed(3)
    lam = ATOM_LAW.sample_lambda(draws, g)
    masks, weight = sample_masks(kind, lam, H, W, g)
    assert masks.shape == (draws, H, W) and weight.shape == (draws,)
    mean, second = mask_moments(kind, H, W, ATOM_LAW)
    holes = (1 - masks).reshape(draws, -1)
    outer = (holes[:, :, None] * holes[:, None, :]).reshape(draws, -1)
    samples = torch.cat([masks.reshape(draws, -1), outer], 1)
    truth = torch.cat([mean.reshape(-1), second.reshape(-1)])
    se = samples.std(0) / draws**0.5
    assert_within_standard_errors(samples.mean(0), se, truth, atol=1e-12, what=f"{name} mask moments")


def test_label_weight_is_realised_area_or_lambda():
    g = torch.Generator().manual_seed(0)
    lam = torch.tensor([0.3, 0.8])
    masks, weight = sample_masks(CutMix(), lam, H, W, g)
    torch.testing.assert_close(weight, masks.mean((1, 2)))
    _, weight = sample_masks(CutMix(correct_lambda=False), lam, H, W, g)
    torch.testing.assert_close(weight, lam.double())


def test_wrap_gives_a_constant_mean_mask():
    """On a torus every pixel is equally likely covered: E[M] = E[area of M]·1 exactly."""
    for kind in (CutMix(border="wrap"), HMix(border="wrap"), GMix(border="wrap")):
        mean, _ = mask_moments(kind, H, W, ATOM_LAW)
        weights, masks, area = mask_atoms(kind, H, W, ATOM_LAW)
        expected_area = float((weights * masks.mean((1, 2))).sum())
        torch.testing.assert_close(mean, torch.full((H, W), expected_area, dtype=torch.float64))


def test_hmix_nominal_anchor_share_is_lambda_without_rounding():
    # 4×4 image, λ = 1/2, ratio 1/2: box 2×2 (area exactly 1/4), μ = 2/3, mean M = (3/4)(2/3) = 1/2
    mean, _ = mask_moments(HMix(ratio=0.5, border="wrap"), 4, 4, PointMass(0.5))
    torch.testing.assert_close(mean, torch.full((4, 4), 0.5, dtype=torch.float64))


def test_border_clipping_deviation():
    """Clipping breaks E[M] = E λ·1: boxes shrink at the border, so border pixels keep more of the
    anchor. Exact values (piecewise in λ; tests/test_mask_exact.py checks the method against an
    mpmath enumeration) for the "rounded" sides on 32×48, λ ~ U(0, 1), E λ = 1/2: centre pixel
    0.5013, corner 0.8616, image average 0.6790 (so an uncorrected label weight λ undercounts the
    anchor's pixels by 0.18 on average); wrap: 0.4999 everywhere, the rounding of the box sides.
    (With 96 Gauss–Jacobi nodes, the old method, the wrap value came out 0.4991: error 8e-4.)"""
    law = Uniform()
    clip = mask_mean("cutmix", 32, 48, law, convention="rounded")
    wrap = mask_mean("cutmix", 32, 48, law, border="wrap", convention="rounded")
    assert float(wrap.max() - wrap.min()) < 1e-12
    torch.testing.assert_close(float(wrap[0, 0]), 0.49988697193287024, rtol=0, atol=1e-12)
    torch.testing.assert_close(float(clip[16, 24]), 0.5012674861484101, rtol=0, atol=1e-12)
    torch.testing.assert_close(float(clip[0, 0]), 0.8615806191055864, rtol=0, atol=1e-12)
    torch.testing.assert_close(float(clip.mean()), 0.6790451054219847, rtol=0, atol=1e-12)
    mean, _ = mask_moments("cutmix", H, W, law)
    torch.testing.assert_close(mask_mean("cutmix", H, W, law), mean, rtol=0, atol=1e-14)


@pytest.mark.parametrize(
    "per,mask",
    [
        ("batch", "cutmix"),
        pytest.param("pair", "cutmix", marks=pytest.mark.slow),
        pytest.param("batch", "hmix", marks=pytest.mark.slow),
        pytest.param("pair", "hmix", marks=pytest.mark.slow),
    ],
)
def test_masked_mixing_average_loss(per, mask):
    g = torch.Generator().manual_seed(1)
    X = torch.randn(4, 1, 3, 4, generator=g, dtype=torch.float64)
    Y = torch.tensor([0, 1, 2, 1])
    weight = torch.randn(12, 3, generator=g, dtype=torch.float64)

    def model(x):
        return torch.tanh(x.reshape(x.shape[0], -1) @ weight)

    law = Empirical([0.3, 0.75])
    for partner, batch_size in (("uniform", None), ("flip", 3)):
        exact = exact_loss_for_rule(
            model, X, Y, law, per=per, mask=mask, partner=partner, batch_size=batch_size
        )
        est = sampled_loss_for_rule(
            model,
            X,
            Y,
            law,
            num_draws=400 if per == "batch" else 1500,
            per=per,
            mask=mask,
            partner=partner,
            batch_size=batch_size,
            generator=g,
        )
        assert_within_standard_errors(est.value, est.stderr, exact, what=f"{mask}/{per}/{partner}")
