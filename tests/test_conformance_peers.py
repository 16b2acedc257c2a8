"""Conformance against the installed timm and torchvision (the ``conformance`` extra; CI runs it in
its own virtual environment, .ci/run). Their random draws are patched to given values and their
own functions produce the box; mixtheory's public ``mask``/``label_weight`` must give the same
mask pixel for pixel, over a grid of λ, every centre, and 7×10, 8×8, 32×32 images. The exact
moments (``mask_mean``/``mask_moments``) must lie within z ≤ 4 of a 200,000-draw Monte Carlo of
each peer's own sampler."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

timm_mixup = pytest.importorskip("timm.data.mixup")
tv_augment = pytest.importorskip("torchvision.transforms.v2._augment")
from torchvision.transforms import v2  # noqa: E402

from mixtheory import Beta, SymmetricBeta  # noqa: E402
from mixtheory.mixing import CutMix, mask_mean, mask_moments  # noqa: E402

pytestmark = pytest.mark.conformance

SIZES = [(7, 10), (8, 8), (32, 32)]
LAMBDAS = np.concatenate([np.linspace(0.0, 0.98, 50), [0.365, 0.5, 0.75, 0.999]])


def _box_mask(height, width, yl, yh, xl, xh):
    mask = torch.ones(height, width, dtype=torch.float64)
    mask[int(yl) : int(yh), int(xl) : int(xh)] = 0.0
    return mask


class _Draws:
    """Stand-in for a random integer draw: returns the given values in order."""

    def __init__(self, values):
        self.values = list(values)

    def __call__(self, *args, **kwargs):
        value = self.values.pop(0)
        if "size" in kwargs and kwargs["size"] is not None and not isinstance(kwargs["size"], int):
            return torch.tensor([value])  # torch.randint(n, size=(1,))
        return value


def _timm_box(monkeypatch, lam, cy, cx, shape):
    monkeypatch.setattr(timm_mixup.np.random, "randint", _Draws([cy, cx]))
    (yl, yh, xl, xh), label = timm_mixup.cutmix_bbox_and_lam(shape, lam, correct_lam=True)
    return _box_mask(shape[-2], shape[-1], yl, yh, xl, xh), float(label)


@pytest.mark.parametrize("height,width", SIZES)
def test_timm_masks_equal_at_every_centre(monkeypatch, height, width):
    kind = CutMix("timm")
    for lam in LAMBDAS.tolist():
        for cy in range(height):
            for cx in range(width):
                theirs, label = _timm_box(monkeypatch, lam, cy, cx, (2, 3, height, width))
                ours = kind.mask(lam, cy, cx, height, width)
                assert torch.equal(ours, theirs), (lam, cy, cx, height, width)
                assert abs(kind.label_weight(lam, cy, cx, height, width) - label) <= 1e-15


def _torchvision_params(monkeypatch, lam, cy, cx, height, width):
    cutmix = v2.CutMix(alpha=1.0, num_classes=2)

    class _Fixed:
        def sample(self, shape=()):
            return torch.tensor(lam, dtype=torch.float64)

    cutmix._dist = _Fixed()
    monkeypatch.setattr(tv_augment.torch, "randint", _Draws([cx, cy]))  # r_x first, then r_y
    return cutmix, cutmix.make_params([torch.zeros(2, 1, height, width)])


@pytest.mark.parametrize("height,width", SIZES)
def test_torchvision_masks_equal_at_every_centre(monkeypatch, height, width):
    kind = CutMix("torchvision")
    for lam in LAMBDAS.tolist():
        for cy in range(height):
            for cx in range(width):
                _, params = _torchvision_params(monkeypatch, lam, cy, cx, height, width)
                x1, y1, x2, y2 = params["box"]
                theirs = _box_mask(height, width, y1, y2, x1, x2)
                assert torch.equal(kind.mask(lam, cy, cx, height, width), theirs), (lam, cy, cx)
                label = kind.label_weight(lam, cy, cx, height, width)
                assert abs(label - params["lam_adjusted"]) <= 1e-15


def test_torchvision_transform_applies_that_box(monkeypatch):
    """The whole v2.CutMix call: anchor 1, partner 0, so output[0] is the anchor's mask itself."""
    height, width, lam, cy, cx = 7, 10, 0.365, 2, 8
    cutmix, _ = _torchvision_params(monkeypatch, lam, cy, cx, height, width)
    monkeypatch.setattr(tv_augment.torch, "randint", _Draws([cx, cy]))
    images = torch.stack([torch.ones(1, height, width), torch.zeros(1, height, width)]).double()
    out, labels = cutmix(images, torch.tensor([0, 1]))
    mask = CutMix("torchvision").mask(lam, cy, cx, height, width)
    assert torch.equal(out[0, 0], mask)
    weight = CutMix("torchvision").label_weight(lam, cy, cx, height, width)
    torch.testing.assert_close(labels[0], torch.tensor([weight, 1 - weight], dtype=labels.dtype))


def _z(samples: np.ndarray, truth: float) -> float:
    se = samples.std(ddof=1) / math.sqrt(samples.size)
    return abs(samples.mean() - truth) / se


DRAWS = 200_000


def test_timm_sampler_monte_carlo_matches_exact_moments():
    """timm's own sampler (np.random.beta then rand_bbox with its randint), 7×10, Beta(1, 1)."""
    height, width = 7, 10
    np.random.seed(0)  # noqa: NPY002 (timm draws from numpy's global generator)
    labels = np.empty(DRAWS)
    corner, centre = np.empty(DRAWS), np.empty(DRAWS)
    for k in range(DRAWS):
        lam = np.random.beta(1.0, 1.0)  # noqa: NPY002 (as timm's Mixup draws it)
        (yl, yh, xl, xh), labels[k] = timm_mixup.cutmix_bbox_and_lam((height, width), lam)
        corner[k] = not (yl <= 0 < yh and xl <= 0 < xh)
        centre[k] = not (yl <= 3 < yh and xl <= 5 < xh)
    mean, second = mask_moments(CutMix("timm"), height, width, SymmetricBeta(1.0))
    zs = [
        _z(labels, float(mean.mean())),
        _z((1 - labels) ** 2, float(second.mean())),
        _z(corner, float(mean[0, 0])),
        _z(centre, float(mean[3, 5])),
    ]
    assert max(zs) <= 4, zs
    # the rounded rule (mixtheory before conventions) is far off this sampler
    assert _z(labels, float(mask_mean(CutMix("rounded"), height, width, SymmetricBeta(1.0)).mean())) > 10


def test_timm_sampler_monte_carlo_32x32_label_weight():
    """The issue's headline case: 32×32, Beta(1, 1), timm's own sampler; E w and E M exact."""
    np.random.seed(1)  # noqa: NPY002 (timm draws from numpy's global generator)
    labels, corner = np.empty(DRAWS), np.empty(DRAWS)
    for k in range(DRAWS):
        lam = np.random.beta(1.0, 1.0)  # noqa: NPY002 (as timm's Mixup draws it)
        (yl, yh, xl, xh), labels[k] = timm_mixup.cutmix_bbox_and_lam((32, 32), lam)
        corner[k] = not (yl <= 0 < yh and xl <= 0 < xh)
    mean = mask_mean(CutMix("timm"), 32, 32, SymmetricBeta(1.0))
    zs = [_z(labels, float(mean.mean())), _z(corner, float(mean[0, 0]))]
    assert max(zs) <= 4, zs
    assert _z(labels, float(mask_mean(CutMix("rounded"), 32, 32, SymmetricBeta(1.0)).mean())) > 10


def test_torchvision_sampler_monte_carlo_matches_exact_moments():
    """torchvision's own v2.CutMix.make_params (its Beta and randint draws), 8×8, Beta(0.5, 0.5)."""
    height, width = 8, 8
    torch.manual_seed(0)
    cutmix = v2.CutMix(alpha=0.5, num_classes=2)
    images = [torch.zeros(2, 1, height, width)]
    labels = np.empty(DRAWS)
    corner = np.empty(DRAWS)
    for k in range(DRAWS):
        params = cutmix.make_params(images)
        x1, y1, x2, y2 = params["box"]
        labels[k] = params["lam_adjusted"]
        corner[k] = not (y1 <= 7 < y2 and x1 <= 7 < x2)
    mean, second = mask_moments(CutMix("torchvision"), height, width, Beta(0.5, 0.5))
    zs = [
        _z(labels, float(mean.mean())),
        _z((1 - labels) ** 2, float(second.mean())),
        _z(corner, float(mean[7, 7])),
    ]
    assert max(zs) <= 4, zs


# --- the timm- and torchvision-style front ends reproduce the peers' batches and targets ----------
from mixtheory.mixing.frontends import TimmMixup, TorchvisionCutMix, TorchvisionMixUp  # noqa: E402

TIMM_SETTINGS = [
    dict(mixup_alpha=0.8, cutmix_alpha=1.0, mode="batch"),
    dict(mixup_alpha=0.8, cutmix_alpha=1.0, mode="pair", prob=0.7, switch_prob=0.3),
    dict(mixup_alpha=0.8, cutmix_alpha=1.0, mode="elem", label_smoothing=0.0),
    dict(mixup_alpha=0.0, cutmix_alpha=1.0, mode="elem", correct_lam=False),
    dict(mixup_alpha=0.4, cutmix_alpha=0.0, mode="pair"),
    dict(mixup_alpha=0.0, cutmix_alpha=0.0, cutmix_minmax=(0.2, 0.8), mode="batch"),
    dict(mixup_alpha=0.0, cutmix_alpha=0.0, cutmix_minmax=(0.3, 0.9), mode="elem"),
]


@pytest.mark.parametrize("setting", range(len(TIMM_SETTINGS)))
@pytest.mark.parametrize("height,width", [(7, 10), (32, 32)])
def test_timm_front_end_reproduces_timm_batches(setting, height, width):
    options = dict(TIMM_SETTINGS[setting], num_classes=5)
    theirs_obj, ours_obj = timm_mixup.Mixup(**options), TimmMixup(**options)
    g = torch.Generator().manual_seed(setting)
    for trial in range(20):
        x = torch.randn(8, 3, height, width, generator=g)
        target = torch.randint(5, (8,), generator=g)
        np.random.seed(100 * setting + trial)  # noqa: NPY002 (timm draws from numpy's global generator)
        theirs = theirs_obj(x.clone(), target)
        np.random.seed(100 * setting + trial)  # noqa: NPY002
        ours = ours_obj(x.clone(), target)
        assert torch.equal(ours[0], theirs[0]), (setting, trial)
        assert torch.equal(ours[1], theirs[1]), (setting, trial)


@pytest.mark.parametrize("cls,peer", [(TorchvisionMixUp, v2.MixUp), (TorchvisionCutMix, v2.CutMix)])
def test_torchvision_front_end_reproduces_torchvision(cls, peer):
    ours_obj, theirs_obj = cls(alpha=0.7, num_classes=4), peer(alpha=0.7, num_classes=4)
    g = torch.Generator().manual_seed(0)
    for trial in range(30):
        images = torch.randn(6, 3, 7, 10, generator=g)
        labels = torch.randint(4, (6,), generator=g)
        torch.manual_seed(trial)
        theirs = theirs_obj(images.clone(), labels)
        torch.manual_seed(trial)
        ours = ours_obj(images.clone(), labels)
        assert torch.equal(ours[0], theirs[0]) and torch.equal(ours[1], theirs[1]), trial
