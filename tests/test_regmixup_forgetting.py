"""RegMixup's two scales against their definitions (the paper's CE_clean + η·CE_mixed; the official
code's one mean over the concatenated batch), and the timing of forgetting (Toneva et al.: the
training forward pass before the step; the post-step forward as an option)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mixtheory.training import (
    ApproximateMixup,
    ERMObjective,
    ForgettingRecorder,
    Mixup,
    RegMixup,
    TrainConfig,
    train,
)
from mixtheory.training.forgetting import forgetting_logits
from mixtheory.training.objectives import TrainingData


def _data(n=12, d=5, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    labels = torch.arange(n) % c
    return TrainingData.from_arrays(X, labels, num_classes=c, dtype=torch.float64, device=None), g


def _model(d=5, c=3, seed=1):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(d, 7), torch.nn.Tanh(), torch.nn.Linear(7, c)).double()


@pytest.mark.parametrize("scale", ["paper", "official"])
def test_regmixup_scales_match_their_definitions(scale):
    data, _ = _data()
    model = _model()
    objective = RegMixup(alpha=2.0, scale=scale)
    idx = torch.arange(8)
    inputs, targets = objective.mixed(data, idx, 0, torch.Generator().manual_seed(5))
    out = objective.batch_loss(model, data, idx, 0, torch.Generator().manual_seed(5))
    logits = model(torch.cat([data.X[idx], inputs]))
    clean = F.cross_entropy(logits[:8], data.labels[idx])
    mixed = F.cross_entropy(logits[8:], targets)  # soft targets: λ CE(y_a) + (1 − λ) CE(y_b), averaged
    if scale == "paper":  # Pinto et al., Eq. 4 with η = 1
        expected = clean + mixed
    else:  # the released code: criterion(net(cat([x, mixup_x])), cat targets), one mean over 2b rows
        expected = F.cross_entropy(logits, torch.cat([F.one_hot(data.labels[idx], 3).double(), targets]))
        torch.testing.assert_close(expected, (clean + mixed) / 2, rtol=1e-14, atol=0)
    torch.testing.assert_close(out.loss, expected, rtol=1e-13, atol=0)


def test_regmixup_official_is_half_the_paper_loss_and_has_no_eta():
    data, _ = _data()
    model, idx = _model(), torch.arange(10)
    paper = RegMixup(alpha=2.0).batch_loss(model, data, idx, 0, torch.Generator().manual_seed(2)).loss
    official = RegMixup(alpha=2.0, scale="official").batch_loss(
        model, data, idx, 0, torch.Generator().manual_seed(2)
    )
    torch.testing.assert_close(official.loss, paper / 2, rtol=1e-14, atol=0)
    with pytest.raises(ValueError, match="no η"):
        RegMixup(alpha=2.0, eta=0.5, scale="official")
    with pytest.raises(ValueError, match="scale"):
        RegMixup(scale="mean")


def _toneva_events(X, labels, epochs, lr, seed):
    """Toneva et al.'s count, written out: full-batch SGD, correctness from each step's forward."""
    model = _model(seed=seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    last = torch.zeros(len(labels), dtype=torch.bool)
    events = torch.zeros(len(labels), dtype=torch.long)
    for _ in range(epochs):
        logits = model(X)
        correct = logits.argmax(-1) == labels
        events += (last & ~correct).long()
        last = correct
        opt.zero_grad()
        F.cross_entropy(logits, labels).backward()
        opt.step()
    return events


def test_forgetting_before_the_step_is_tonevas_count():
    data, _ = _data(n=24, seed=3)
    config = TrainConfig(
        epochs=12, batch_size=24, optimizer="sgd", lr=2.0, momentum=0.0, weight_decay=0.0
    ).replace(lr_schedule="constant", seed=0, progress=False)
    counts = {}
    for timing in ("before_step", "after_step"):
        recorder = ForgettingRecorder(timing=timing)
        train(
            _model(seed=4),
            data.X,
            data.labels,
            ERMObjective(),
            config,
            recorders=[recorder],
        )
        last = recorder.rows[-data.n :]
        counts[timing] = torch.tensor([row["events"] for row in sorted(last, key=lambda r: r["sample"])])
    expected = _toneva_events(data.X, data.labels, 12, 2.0, seed=4)
    assert int(expected.sum()) > 0  # the large step makes samples flip
    torch.testing.assert_close(counts["before_step"], expected)
    assert not torch.equal(counts["after_step"], expected)


def test_forgetting_logits_use_the_predictor_and_leave_buffers():
    data, _ = _data()
    model = torch.nn.Sequential(
        torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 3)
    ).double()
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    logits = forgetting_logits(Mixup(alpha=1.0), model, data.X, None)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key  # running statistics restored
    with torch.no_grad():
        torch.testing.assert_close(logits, model(data.X))
    # ERM hands over its training logits as they are
    given = torch.randn(12, 3, dtype=torch.float64)
    assert forgetting_logits(ERMObjective(), model, data.X, given) is given
    # approximate mixup: the rescaled predictor, not the raw model
    approx = ApproximateMixup(alpha=1.0)
    plain = _model()
    approx.begin_epoch(plain, data, 0, None)
    ours = forgetting_logits(approx, plain, data.X, None)
    with torch.no_grad():
        torch.testing.assert_close(ours, approx.predictor(plain)(data.X))
        assert not torch.allclose(ours, plain(data.X))
