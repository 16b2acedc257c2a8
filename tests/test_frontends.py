"""The timm- and torchvision-style front ends: the exact expected loss of each setting against the
Monte Carlo average of the front end's own batches (which tests/test_conformance_peers.py holds
equal to timm's and torchvision's), and clear errors for bad settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _stats import assert_within_standard_errors

from mixtheory.mixing.frontends import TimmMixup, TorchvisionCutMix, TorchvisionMixUp

N, C, H, W = 6, 3, 4, 5


def _setup():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(N, 1, H, W, generator=g, dtype=torch.float64)
    labels = torch.tensor([0, 1, 2, 1, 0, 2])
    weight = torch.randn(H * W, C, generator=g, dtype=torch.float64)

    def model(x):
        return 2 * torch.tanh(x.reshape(x.shape[0], -1) @ weight)

    return X, labels, model


def _soft_ce(targets, logits):
    return float(-(targets.double() * torch.log_softmax(logits, -1)).sum(-1).mean())


def _monte_carlo(mixer, X, labels, model, draws, seed_numpy):
    losses = np.empty(draws)
    np.random.seed(seed_numpy)  # noqa: NPY002 (timm's draws)
    torch.manual_seed(seed_numpy)
    for k in range(draws):
        x, targets = mixer(X.clone(), labels)
        losses[k] = _soft_ce(targets, model(x))
    return losses.mean(), losses.std(ddof=1) / draws**0.5


TIMM = [
    dict(mixup_alpha=0.8, cutmix_alpha=1.0, prob=0.8, switch_prob=0.5, mode="batch"),
    dict(mixup_alpha=0.8, cutmix_alpha=1.0, mode="elem", label_smoothing=0.0),
    dict(mixup_alpha=0.0, cutmix_alpha=0.5, mode="pair", correct_lam=False),
]


@pytest.mark.parametrize("setting", range(len(TIMM)))
def test_timm_front_end_expected_loss_is_its_average(setting):
    X, labels, model = _setup()
    mixer = TimmMixup(**TIMM[setting], num_classes=C)
    exact = mixer.expected_loss(model, X, labels)
    mean, se = _monte_carlo(mixer, X, labels, model, 3000, setting)
    assert_within_standard_errors(torch.tensor([mean]), torch.tensor([se]), torch.tensor([exact]))


@pytest.mark.parametrize("cls", [TorchvisionMixUp, TorchvisionCutMix])
def test_torchvision_front_end_expected_loss_is_its_average(cls):
    X, labels, model = _setup()
    mixer = cls(alpha=0.7, num_classes=C)
    exact = mixer.expected_loss(model, X, labels)
    mean, se = _monte_carlo(mixer, X, labels, model, 3000, 7)
    assert_within_standard_errors(torch.tensor([mean]), torch.tensor([se]), torch.tensor([exact]))


def test_components_describe_the_setting():
    mixer = TimmMixup(mixup_alpha=0.8, cutmix_alpha=1.0, prob=0.6, switch_prob=0.25)
    probs = [p for p, _, _ in mixer.components()]
    assert probs == pytest.approx([0.4, 0.6 * 0.25, 0.6 * 0.75])
    masks = [m for _, _, m in mixer.components()]
    assert masks[0] is None and masks[1].convention == "timm" and masks[2] is None


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="mode"):
        TimmMixup(mode="sample")
    with pytest.raises(ValueError, match="one of mixup_alpha"):
        TimmMixup(mixup_alpha=0.0, cutmix_alpha=0.0)
    with pytest.raises(ValueError, match="convention"):
        TimmMixup(convention="nearest")
    with pytest.raises(ValueError, match="even"):
        TimmMixup()(torch.zeros(3, 1, 2, 2), torch.tensor([0, 1, 0]))
