"""Exact mask moments for continuous laws of λ: every convention against an independent mpmath
enumeration (30 digits: the λ intervals on which each box side is constant, solved from the side
formulas, their Beta masses and partial moments, every centre's mask cut by slicing)."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import torch

from mixtheory import Beta, Mixture, PointMass, SymmetricBeta, Uniform, WShaped
from mixtheory.mixing import CutMix, GMix, HMix, mask_atoms, mask_moments

mp.mp.dps = 30
H, W = 5, 7


def _segment(convention: str, lam, size: int) -> tuple[int, int]:
    """(start offset, end offset) of the box along one axis, from the peers' formulas in mpmath."""
    root = mp.sqrt(1 - lam)
    if convention == "torchvision":
        half = int(mp.floor(root * size / 2))
        return -half, half
    if convention == "rounded":
        side = int(mp.floor(size * root + mp.mpf(1) / 2))
        return -(side // 2), side - side // 2
    if convention == "hmix":  # park2022, ratio 1/2
        side = int(mp.floor(size * root * mp.sqrt(mp.mpf(1) / 2)))
        return -(side // 2), side // 2
    side = int(mp.floor(size * root))
    return -(side // 2), ((side + 1) // 2 if convention == "timm" else side // 2)


def _breaks(convention: str) -> list:
    out = set()
    for size in (H, W):
        for k in range(0, 2 * size + 2):
            if convention == "torchvision":
                root = mp.mpf(2 * k) / size
            elif convention == "rounded":
                root = (k - mp.mpf(1) / 2) / size
            elif convention == "hmix":
                root = mp.mpf(k) / size / mp.sqrt(mp.mpf(1) / 2)
            else:
                root = mp.mpf(k) / size
            lam = 1 - root**2
            if 0 < lam < 1:
                out.add(lam)
    return [mp.mpf(0)] + sorted(out) + [mp.mpf(1)]


def _box(lam, convention: str, cy: int, cx: int) -> np.ndarray:
    hole = np.zeros((H, W))
    (r0, r1), (c0, c1) = _segment(convention, lam, H), _segment(convention, lam, W)
    hole[max(cy + r0, 0) : max(cy + r1, 0), max(cx + c0, 0) : max(cx + c1, 0)] = 1.0
    return hole


def _reference(convention: str, a: float, b: float):
    """E[1 − M] and E[(1−M)(1−M)ᵀ] for λ ~ Beta(a, b), as float64 of 30-digit sums."""
    pdf = lambda x: x ** (a - 1) * (1 - x) ** (b - 1) / mp.beta(a, b)  # noqa: E731
    mean, second = np.zeros(H * W), np.zeros((H * W, H * W))
    edges = _breaks(convention)
    for lo, hi in zip(edges[:-1], edges[1:]):
        mid = (lo + hi) / 2
        m = [mp.quad(lambda x, k=k: x**k * pdf(x), [lo, hi]) for k in range(3)]
        for cy in range(H):
            for cx in range(W):
                box = _box(mid, convention, cy, cx).reshape(-1)
                if convention == "hmix":  # 1 − M = 1 − μ + μ·box, μ = λ / (1 − |box|/HW)
                    c = 1 - mp.mpf(box.sum()) / (H * W)
                    e_a, e_b = m[0] - m[1] / c, m[1] / c
                    e_aa, e_ab, e_bb = m[0] - 2 * m[1] / c + m[2] / c**2, m[1] / c - m[2] / c**2, m[2] / c**2
                    mean += float(e_a) + float(e_b) * box
                    second += float(e_aa) + float(e_ab) * (box[:, None] + box[None, :])
                    second += float(e_bb) * np.outer(box, box)
                else:
                    mean += float(m[0]) * box
                    second += float(m[0]) * np.outer(box, box)
    return mean / (H * W), second / (H * W)


KINDS = {
    "timm": CutMix("timm"),
    "yun2019": CutMix("yun2019"),
    "torchvision": CutMix("torchvision"),
    "rounded": CutMix("rounded"),
    "hmix": HMix(ratio=0.5, convention="park2022"),
}


@pytest.mark.parametrize("convention", list(KINDS))
def test_moments_exact_against_mpmath_enumeration(convention):
    for a, b in ((0.7, 1.3), (2.0, 2.0)):
        ref_mean, ref_second = _reference(convention, a, b)
        mean, second = mask_moments(KINDS[convention], H, W, Beta(a, b))
        torch.testing.assert_close(1 - mean.reshape(-1), torch.from_numpy(ref_mean), rtol=0, atol=1e-12)
        torch.testing.assert_close(second, torch.from_numpy(ref_second), rtol=0, atol=1e-12)


def test_old_quadrature_was_not_exact_and_pieces_are():
    """Gauss quadrature over λ at 96 nodes (the method before the pieces) misses the exact mean
    mask of CutMix by more than 1e-6 (the pieces match the mpmath enumeration, tests above)."""
    law = Uniform()
    mean, _ = mask_moments(CutMix("timm"), H, W, law)
    rule = law.lambda_rule(96)
    quad = sum(
        w
        * torch.stack([CutMix("timm").mask(lam, cy, cx, H, W) for cy in range(H) for cx in range(W)]).mean(0)
        for lam, w in zip(rule.nodes.tolist(), rule.weights.tolist())
    )
    assert float((quad - mean).abs().max()) > 1e-6


def test_mixture_and_wshaped_laws_are_exact():
    """Atoms are evaluated where they sit; a Beta component integrates piecewise; WShaped is two
    scaled Betas. Checked against the sum of their parts' exact moments."""
    kind = CutMix("timm")
    law = Mixture([PointMass(0.5), Beta(0.7, 1.3)], [0.25, 0.75])
    mean, second = mask_moments(kind, H, W, law)
    m1, s1 = mask_moments(kind, H, W, PointMass(0.5))
    m2, s2 = mask_moments(kind, H, W, Beta(0.7, 1.3))
    torch.testing.assert_close(mean, 0.25 * m1 + 0.75 * m2, rtol=0, atol=1e-14)
    torch.testing.assert_close(second, 0.25 * s1 + 0.75 * s2, rtol=0, atol=1e-14)
    # WShaped(α): λ = X/2 or (1+X)/2; against a direct mpmath integration of E[M] at one pixel
    law = WShaped(0.8)
    mean, _ = mask_moments(kind, H, W, law)
    ref = 0.0
    pdf = lambda x: x ** (0.8 - 1) * (1 - x) ** (0.8 - 1) / mp.beta(0.8, 0.8)  # noqa: E731
    for shift in (0, mp.mpf(1) / 2):
        edges = [e for e in _breaks("timm") if shift <= e <= shift + mp.mpf(1) / 2]
        edges = sorted(set([shift] + edges + [shift + mp.mpf(1) / 2]))
        for lo, hi in zip(edges[:-1], edges[1:]):
            mass = mp.quad(lambda y, s=shift: pdf(2 * (y - s)) * 2, [lo, hi]) / 2
            mid = (lo + hi) / 2
            ref += float(mass) * np.mean(
                [_box(mid, "timm", cy, cx)[2, 3] for cy in range(H) for cx in range(W)]
            )
    assert abs(float(1 - mean[2, 3]) - ref) < 1e-12


@pytest.mark.slow
def test_gmix_moments_converge_to_mpmath():
    """GMix is smooth on each side of λ = 1/2 (park2022): Gauss–Jacobi per piece against mpmath."""
    kind = GMix()
    law = SymmetricBeta(0.6)
    mean, _ = mask_moments(kind, 4, 4, law)
    pdf = lambda x: x ** (0.6 - 1) * (1 - x) ** (0.6 - 1) / mp.beta(0.6, 0.6)  # noqa: E731

    def anchor_weight(lam, y, x, cy, cx):  # M at pixel (y, x), blob centred at (cy, cx)
        t = lam if lam < 0.5 else 1 - lam
        g = mp.exp(-mp.pi * ((y - cy) ** 2 + (x - cx) ** 2) / (t * 16))
        return g if lam < 0.5 else 1 - g

    for y, x in ((0, 0), (1, 2)):
        ref = (
            sum(
                mp.quad(
                    lambda lam, y=y, x=x, cy=cy, cx=cx: anchor_weight(lam, y, x, cy, cx) * pdf(lam),
                    [0, 0.5, 1],
                )
                for cy in range(4)
                for cx in range(4)
            )
            / 16
        )
        assert abs(float(mean[y, x]) - float(ref)) < 1e-12


def test_atoms_give_exact_losses_for_continuous_laws():
    """mask_atoms: one atom per λ piece and centre, label E[λ | piece] when uncorrected, so a loss
    linear in the label weight is exact; the atoms reproduce the exact mean mask."""
    law = Beta(0.7, 1.3)
    for kind in (CutMix("timm"), CutMix("yun2019", correct_lambda=False)):
        weights, masks, labels = mask_atoms(kind, H, W, law)
        mean, _ = mask_moments(kind, H, W, law)
        torch.testing.assert_close(torch.einsum("k,khw->hw", weights, masks), mean, rtol=0, atol=1e-14)
        assert abs(float(weights.sum()) - 1) < 1e-14
        if not kind.correct_lambda:  # E[label] = E λ = a/(a+b)
            assert abs(float((weights * labels).sum()) - 0.7 / 2.0) < 1e-14


def test_nominal_hmix_pieces_converge_to_mpmath():
    """HMix "nominal": μ = λ/(1 − r(1 − λ)) is not affine in λ; each piece is integrated by
    Gauss–Jacobi, against mpmath quadrature of μ on the same pieces (5×7, Beta(0.7, 1.3), r = ½)."""
    a, b, r = 0.7, 1.3, mp.mpf(1) / 2
    pdf = lambda x: x ** (a - 1) * (1 - x) ** (b - 1) / mp.beta(a, b)  # noqa: E731
    mu = lambda x: x / (1 - r * (1 - x))  # noqa: E731
    breaks = set()
    for size in (H, W):
        for k in range(1, size + 2):
            lam = 1 - ((k - mp.mpf(1) / 2) / size) ** 2 / r
            if 0 < lam < 1:
                breaks.add(lam)
    edges = [mp.mpf(0)] + sorted(breaks) + [mp.mpf(1)]
    ref = np.zeros(H * W)
    for lo, hi in zip(edges[:-1], edges[1:]):
        mid = (lo + hi) / 2
        mass, e_mu = mp.quad(pdf, [lo, hi]), mp.quad(lambda x: mu(x) * pdf(x), [lo, hi])
        sides = [int(mp.floor(d * mp.sqrt(r * (1 - mid)) + mp.mpf(1) / 2)) for d in (H, W)]
        for cy in range(H):
            for cx in range(W):
                box = np.zeros((H, W))
                rows = slice(max(cy - sides[0] // 2, 0), max(cy - sides[0] // 2 + sides[0], 0))
                cols = slice(max(cx - sides[1] // 2, 0), max(cx - sides[1] // 2 + sides[1], 0))
                box[rows, cols] = 1.0
                ref += float(mass - e_mu) + float(e_mu) * box.reshape(-1)
    mean, _ = mask_moments(HMix(ratio=0.5, convention="nominal"), H, W, Beta(a, b))
    torch.testing.assert_close(1 - mean.reshape(-1), torch.from_numpy(ref / (H * W)), rtol=0, atol=1e-12)


@pytest.mark.parametrize("convention", ["timm", "torchvision"])
def test_exact_masked_loss_is_exact_for_a_continuous_law(convention):
    """exact_masked_loss under λ ~ Beta(0.7, 1.3) with a CutMix mask equals the sum over the λ
    pieces (masses from the mpmath enumeration) of the loss at one atom inside each piece; the
    old 96-node quadrature over λ misses it."""
    from mixtheory.msda import exact_masked_loss

    g = torch.Generator().manual_seed(0)
    X = torch.randn(3, 1, H, W, generator=g, dtype=torch.float64)
    Y = torch.tensor([0, 1, 1])
    weight = torch.randn(H * W, 2, generator=g, dtype=torch.float64)

    def model(x):
        return 3 * torch.tanh(x.reshape(x.shape[0], -1) @ weight)

    a, b = 0.7, 1.3
    pdf = lambda x: x ** (a - 1) * (1 - x) ** (b - 1) / mp.beta(a, b)  # noqa: E731
    edges = _breaks(convention)
    masses = [float(mp.quad(pdf, [lo, hi])) for lo, hi in zip(edges[:-1], edges[1:])]
    mids = [float((lo + hi) / 2) for lo, hi in zip(edges[:-1], edges[1:])]
    kind = CutMix(convention)
    reference = sum(
        p * exact_masked_loss(model, X, Y, PointMass(lam), mask=kind) for p, lam in zip(masses, mids) if p > 0
    )
    exact = exact_masked_loss(model, X, Y, Beta(a, b), mask=kind)
    assert abs(exact - reference) < 1e-12
    rule = Beta(a, b).lambda_rule(96)
    quadrature = sum(
        w * exact_masked_loss(model, X, Y, PointMass(lam), mask=kind)
        for lam, w in zip(rule.nodes.tolist(), rule.weights.tolist())
    )
    assert abs(quadrature - reference) > 1e-9


def test_masked_regularizer_weights_are_exact_for_a_continuous_law():
    """The tilted-hole moments behind the masked expansion's terms (label weight λ uncorrected, so
    E[λ | piece] enters) against the sum over pieces with mpmath masses and conditional means."""
    from mixtheory.expansions.park2022 import tilted_hole_moments

    a, b = 0.7, 1.3
    pdf = lambda x: x ** (a - 1) * (1 - x) ** (b - 1) / mp.beta(a, b)  # noqa: E731
    kind = CutMix("timm", correct_lambda=False)
    mean, second = tilted_hole_moments(Beta(a, b), (H, W), kind)
    ref_mean, ref_second = torch.zeros_like(mean), torch.zeros_like(second)
    edges = _breaks("timm")
    for lo, hi in zip(edges[:-1], edges[1:]):
        mass = mp.quad(pdf, [lo, hi])
        if mass == 0:
            continue
        cond = float(mp.quad(lambda x: x * pdf(x), [lo, hi]) / mass)  # E[λ | piece]
        m, s = tilted_hole_moments(PointMass(cond), (H, W), CutMix("timm", correct_lambda=False))
        # the box at E[λ | piece] is the piece's box (it lies inside the piece)
        assert torch.equal(kind.mask(cond, 2, 3, H, W), kind.mask(float((lo + hi) / 2), 2, 3, H, W))
        ref_mean += float(mass) * m
        ref_second += float(mass) * s
    torch.testing.assert_close(mean, ref_mean, rtol=0, atol=1e-12)
    torch.testing.assert_close(second, ref_second, rtol=0, atol=1e-12)
