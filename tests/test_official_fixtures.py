"""mixtheory's "yun2019" CutMix and "park2022" HMix/GMix against golden masks made by running the
official codes unchanged (tests/fixtures/make_official_masks.py; CutMix-PyTorch at 2d8eb68,
hmix-gmix at 0914f37): every centre on 7×10, 8×8, 32×32 (GMix: square only, as the official code)
over a grid of λ."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mixtheory.mixing import CutMix, GMix, HMix

FIXTURES = np.load(Path(__file__).parent / "fixtures" / "official_masks.npz")


def test_fixtures_name_their_commits():
    assert FIXTURES["commits"].tolist() == [
        "2d8eb68faff7fe4962776ad51d175c3b01a25734",
        "0914f3779afaa599c96d36fc0439b0dcd555d552",
    ]


@pytest.mark.parametrize("convention", ["yun2019", "timm_legacy"])
def test_cutmix_equals_the_official_code(convention):
    kind = CutMix(convention)
    rows = FIXTURES["cutmix"]
    assert len(rows) == 12 * (70 + 64 + 1024)
    for height, width, lam, cy, cx, r0, r1, c0, c1, label in rows.tolist():
        height, width, cy, cx = int(height), int(width), int(cy), int(cx)
        official = torch.ones(height, width, dtype=torch.float64)
        official[int(r0) : int(r1), int(c0) : int(c1)] = 0.0
        assert torch.equal(kind.mask(lam, cy, cx, height, width), official), (height, width, lam, cy, cx)
        assert abs(kind.label_weight(lam, cy, cx, height, width) - label) <= 1e-15


@pytest.mark.parametrize("ratio", [0.5, 1.0])
@pytest.mark.parametrize("height,width", [(7, 10), (8, 8), pytest.param(32, 32, marks=pytest.mark.slow)])
def test_hmix_equals_the_official_code(ratio, height, width):
    kind = HMix(ratio=ratio, convention="park2022")
    masks = FIXTURES[f"hmix_r{ratio:g}_{height}x{width}_masks"]
    meta = FIXTURES[f"hmix_r{ratio:g}_{height}x{width}_meta"]
    for official, (lam, cy, cx, label) in zip(masks, meta.tolist()):
        ours = kind.mask(lam, int(cy), int(cx), height, width)
        torch.testing.assert_close(ours.float(), torch.from_numpy(official), rtol=0, atol=1e-7)
        assert abs(kind.label_weight(lam, int(cy), int(cx), height, width) - label) <= 1e-14
        assert abs(label - lam) <= 1e-14  # the official label weight is λ itself


def test_nominal_hmix_differs_from_the_official_code():
    meta = FIXTURES["hmix_r0.5_32x32_meta"]
    kind = HMix(ratio=0.5, convention="nominal")
    labels = np.array([kind.label_weight(lam, int(cy), int(cx), 32, 32) for lam, cy, cx, _ in meta.tolist()])
    assert np.abs(labels - meta[:, 3]).max() > 0.01


@pytest.mark.parametrize("side", [8, 32])
def test_gmix_equals_the_official_code(side):
    kind = GMix(convention="park2022")
    masks, meta = FIXTURES[f"gmix_{side}x{side}_masks"], FIXTURES[f"gmix_{side}x{side}_meta"]
    for official, (lam, cy, cx, label) in zip(masks, meta.tolist()):
        ours = kind.mask(lam, int(cy), int(cx), side, side)
        # the official kernel is computed in float32
        torch.testing.assert_close(ours.float(), torch.from_numpy(official), rtol=0, atol=2e-6)
        assert abs(kind.label_weight(lam, int(cy), int(cx), side, side) - label) <= 2e-6
    hole = GMix(convention="hole")
    lam, cy, cx, label = meta[0].tolist()  # λ = 0.02 < 1/2: the official blob is the anchor's
    assert abs(hole.label_weight(lam, int(cy), int(cx), side, side) - label) > 0.1
