"""Data-valuation scores against per-sample brute-force loops (float64), and the forgetting tracker
against hand-written prediction sequences."""

from __future__ import annotations

import math

import pytest
import torch

from mixtheory.models import LayerOptions, build_model
from mixtheory.scores import (
    ForgettingTracker,
    el2n,
    entropy_from_logits,
    grand,
    margin,
    margin_from_logits,
    prediction_entropy,
)

RTOL = 1e-10


def _randomize_batchnorm(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Non-trivial running statistics, so eval-mode batch norm is not the identity."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g, dtype=torch.float64))
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g, dtype=torch.float64) + 0.5)
            with torch.no_grad():
                m.weight.copy_(torch.randn(m.weight.shape, generator=g, dtype=torch.float64))
                m.bias.copy_(torch.randn(m.bias.shape, generator=g, dtype=torch.float64))
    return model.eval()


def _case(name: str):
    """(models, X, y, num_classes) for a named case; float64, seeded."""
    g = torch.Generator().manual_seed(7)
    if name == "mlp":
        models = build_model("mlp", (5,), 3, "tanh", hidden=(8, 6), dtype=torch.float64, seed=1)
        X = torch.randn(13, 5, generator=g, dtype=torch.float64)
        return models, X, torch.randint(0, 3, (13,), generator=g), 3
    if name == "cnn-batchnorm":
        net = build_model("cnn", (1, 8, 8), 4, "gelu", channels=(3, 4), hidden=(6,),
                          dtype=torch.float64, seed=2, options=LayerOptions(batchnorm=True))  # fmt: skip
        X = torch.randn(11, 1, 8, 8, generator=g, dtype=torch.float64)
        return _randomize_batchnorm(net, 3), X, torch.randint(0, 4, (11,), generator=g), 4
    if name == "two-models":
        models = [
            build_model("mlp", (5,), 3, "softplus", hidden=(7,), dtype=torch.float64, seed=s) for s in (4, 5)
        ]
        X = torch.randn(9, 5, generator=g, dtype=torch.float64)
        return models, X, torch.randint(0, 3, (9,), generator=g), 3
    raise KeyError(name)


CASES = ["mlp", "cnn-batchnorm", "two-models"]


def _models(models) -> list:
    return models if isinstance(models, list) else [models]


def _brute_el2n(models, X, y, c) -> torch.Tensor:
    per_model = []
    for m in _models(models):
        rows = []
        for i in range(X.shape[0]):
            p = torch.softmax(m(X[i : i + 1]), -1)[0]
            rows.append((p - torch.nn.functional.one_hot(y[i], c).double()).norm())
        per_model.append(torch.stack(rows))
    return torch.stack(per_model).mean(0).detach()


def _brute_grand(models, X, Y) -> torch.Tensor:
    """One forward and one torch.autograd.grad per sample, over the trainable parameters."""
    per_model = []
    for m in _models(models):
        params = [p for p in m.parameters() if p.requires_grad]
        rows = []
        for i in range(X.shape[0]):
            logits = m(X[i : i + 1])[0]
            loss = torch.logsumexp(logits, -1) - (Y[i] * logits).sum()
            grads = torch.autograd.grad(loss, params)
            rows.append(torch.sqrt(sum(g.pow(2).sum() for g in grads)))
        per_model.append(torch.stack(rows))
    return torch.stack(per_model).mean(0).detach()


@pytest.mark.parametrize("case", CASES)
def test_el2n_matches_per_sample_loop(case):
    models, X, y, c = _case(case)
    scores = el2n(models, X, y, chunk_size=4)
    assert scores.shape == (X.shape[0],) and scores.dtype == torch.float64
    torch.testing.assert_close(scores, _brute_el2n(models, X, y, c), rtol=RTOL, atol=0)
    # (n, c) one-hot labels give the same numbers as class indices
    onehot = torch.nn.functional.one_hot(y, c).double()
    torch.testing.assert_close(el2n(models, X, onehot), scores, rtol=RTOL, atol=0)


@pytest.mark.parametrize("case", CASES)
def test_grand_matches_per_sample_autograd_loop(case):
    models, X, y, c = _case(case)
    onehot = torch.nn.functional.one_hot(y, c).double()
    scores = grand(models, X, y, chunk_size=4)
    assert scores.shape == (X.shape[0],) and scores.dtype == torch.float64
    torch.testing.assert_close(scores, _brute_grand(models, X, onehot), rtol=RTOL, atol=0)


def test_grand_soft_labels_and_frozen_parameters():
    models, X, y, c = _case("mlp")
    g = torch.Generator().manual_seed(11)
    soft = torch.softmax(torch.randn(X.shape[0], c, generator=g, dtype=torch.float64), -1)
    torch.testing.assert_close(grand(models, X, soft), _brute_grand(models, X, soft), rtol=RTOL, atol=0)
    # freezing the first layer removes its gradient from the norm (all *trainable* parameters)
    full = grand(models, X, soft)
    for p in models[0].parameters():
        p.requires_grad_(False)
    frozen = grand(models, X, soft)
    torch.testing.assert_close(frozen, _brute_grand(models, X, soft), rtol=RTOL, atol=0)
    assert bool((frozen < full).all())


def test_grand_squared_error_loss():
    """GraNd with loss='mse' on a linear model: ∇ of ½‖u − y‖²-type losses, checked by autograd."""
    net = torch.nn.Linear(4, 3).double()
    g = torch.Generator().manual_seed(12)
    X = torch.randn(6, 4, generator=g, dtype=torch.float64)
    Y = torch.randn(6, 3, generator=g, dtype=torch.float64)
    from mixtheory.losses import get_loss

    loss = get_loss("mse")
    expected = []
    for i in range(6):
        grads = torch.autograd.grad(loss.value(Y[i : i + 1], net(X[i : i + 1])).sum(), list(net.parameters()))
        expected.append(torch.sqrt(sum(gr.pow(2).sum() for gr in grads)))
    torch.testing.assert_close(grand(net, X, Y, loss="mse"), torch.stack(expected), rtol=RTOL, atol=0)


def test_margin_and_entropy_match_definitions():
    models, X, y, c = _case("two-models")
    per_model_margin, per_model_entropy = [], []
    for m in models:
        logits = m(X).detach()
        rows_m, rows_h = [], []
        for i in range(X.shape[0]):
            others = [float(logits[i, k]) for k in range(c) if k != int(y[i])]
            rows_m.append(float(logits[i, y[i]]) - max(others))
            p = torch.softmax(logits[i], -1)
            rows_h.append(-float((p * p.log()).sum()))
        per_model_margin.append(rows_m)
        per_model_entropy.append(rows_h)
    expected_margin = torch.tensor(per_model_margin, dtype=torch.float64).mean(0)
    expected_entropy = torch.tensor(per_model_entropy, dtype=torch.float64).mean(0)
    torch.testing.assert_close(margin(models, X, y), expected_margin, rtol=RTOL, atol=1e-14)
    torch.testing.assert_close(prediction_entropy(models, X), expected_entropy, rtol=RTOL, atol=0)
    # the chunking bounds memory and changes the margins only by rounding
    torch.testing.assert_close(margin(models, X, y, chunk_size=3), expected_margin, rtol=RTOL, atol=1e-14)
    logits = models[0](X).detach()
    expected_first = torch.tensor(per_model_margin[0], dtype=torch.float64)
    torch.testing.assert_close(margin_from_logits(logits, y), expected_first)
    torch.testing.assert_close(
        entropy_from_logits(logits), torch.tensor(per_model_entropy[0], dtype=torch.float64)
    )
    # saturated logits: the entropy stays finite and tends to 0
    assert float(entropy_from_logits(torch.tensor([[1000.0, 0.0, 0.0]]))[0]) == 0.0
    assert bool((margin_from_logits(logits, y) > 0).eq(logits.argmax(-1) == y).all())


def test_margin_and_entropy_refuse_the_old_call_form():
    """The old ``margin(logits, Y)`` / ``margin(model, Y, X=X)`` forms fail with the fix named."""
    models, X, y, c = _case("two-models")
    logits = models[0](X).detach()
    with pytest.raises(TypeError, match=r"old call margin\(logits, ...\).*margin_from_logits\(logits, Y\)"):
        margin(logits, y, y)
    with pytest.raises(TypeError, match=r"margin\(\) missing 1 required positional argument: 'Y'"):
        margin(logits, y)
    with pytest.raises(TypeError, match="multiple values for argument 'X'"):
        margin(models, y, X=X)
    with pytest.raises(TypeError, match=r"entropy_from_logits\(logits\)"):
        prediction_entropy(logits, X)


# ---------------------------------------------------------------------------------------------
# forgetting tracker
# ---------------------------------------------------------------------------------------------

# Hand-written predictions: 5 samples, 3 classes, 6 epochs (one presentation of each per epoch).
LABELS = [0, 1, 2, 1, 0]
PREDICTIONS = [
    # s0: learned at epoch 0, forgotten to 2 (epoch 1), relearned (2), forgotten to 1 (4)
    # s1: never learned; s2: learned at epoch 3, never forgotten
    # s3: learned at 1, forgotten to 0 at 2, relearned at 5; s4: always correct
    [0, 0, 1, 0, 0],
    [2, 2, 0, 1, 0],
    [0, 0, 1, 0, 0],
    [0, 2, 2, 0, 0],
    [1, 0, 2, 0, 0],
    [1, 2, 2, 1, 0],
]
EXPECTED_EVENTS = [2, 0, 0, 1, 0]
EXPECTED_FIRST = [0, -1, 3, 1, 0]


def _run_tracker(never_learned="inf") -> ForgettingTracker:
    tracker = ForgettingTracker(5, 3, never_learned=never_learned)
    labels = torch.tensor(LABELS)
    for predicted in PREDICTIONS:
        tracker.update(torch.arange(5), torch.tensor(predicted), labels)
    return tracker


def test_tracker_counts_hand_written_sequences():
    tracker = _run_tracker()
    assert tracker.events.tolist() == EXPECTED_EVENTS
    assert tracker.first_learned.tolist() == EXPECTED_FIRST
    assert tracker.presentations.tolist() == [6] * 5
    assert tracker.never_learned_mask.tolist() == [False, True, False, False, False]
    assert tracker.last_correct.tolist() == [False, False, True, True, True]
    expected_matrix = torch.zeros(3, 3, dtype=torch.long)
    expected_matrix[0, 2] = 1  # s0 forgotten to class 2
    expected_matrix[0, 1] = 1  # s0 forgotten to class 1
    expected_matrix[1, 0] = 1  # s3 (class 1) forgotten to class 0
    assert torch.equal(tracker.class_matrix, expected_matrix)
    assert int(tracker.class_matrix.sum()) == sum(EXPECTED_EVENTS)


def test_tracker_never_learned_conventions():
    inf_scores = _run_tracker("inf").scores()
    assert inf_scores.tolist() == [2.0, math.inf, 0.0, 1.0, 0.0]
    epochs = _run_tracker("epochs")
    assert epochs.scores().tolist() == [2.0, 6.0, 0.0, 1.0, 0.0]  # default: presentations so far
    assert epochs.scores(num_epochs=10).tolist() == [2.0, 10.0, 0.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="num_epochs=2 would not rank never-learned"):
        epochs.scores(num_epochs=2)


def test_tracker_minibatches_in_shuffled_order_match_full_batches():
    """The same presentations given as shuffled minibatches give the same statistics."""
    g = torch.Generator().manual_seed(0)
    tracker = ForgettingTracker(5, 3)
    labels = torch.tensor(LABELS)
    for predicted in PREDICTIONS:
        order = torch.randperm(5, generator=g)
        for batch in order.split(2):
            tracker.update(batch, torch.tensor(predicted)[batch], labels[batch])
    reference = _run_tracker()
    assert tracker.events.tolist() == reference.events.tolist()
    assert tracker.first_learned.tolist() == reference.first_learned.tolist()
    assert torch.equal(tracker.class_matrix, reference.class_matrix)


def test_tracker_state_dict_resumes_exactly():
    labels = torch.tensor(LABELS)
    first = ForgettingTracker(5, 3, never_learned="epochs")
    for predicted in PREDICTIONS[:3]:
        first.update(torch.arange(5), torch.tensor(predicted), labels)
    resumed = ForgettingTracker(5, 3)
    resumed.load_state_dict(first.state_dict())
    assert resumed.never_learned == "epochs"
    for predicted in PREDICTIONS[3:]:
        resumed.update(torch.arange(5), torch.tensor(predicted), labels)
    reference = _run_tracker("epochs")
    assert resumed.state_dict().keys() == reference.state_dict().keys()
    for key, value in reference.state_dict().items():
        other = resumed.state_dict()[key]
        assert torch.equal(other, value) if isinstance(value, torch.Tensor) else other == value, key
    with pytest.raises(ValueError, match="state is for 5 samples and 3 classes"):
        ForgettingTracker(4, 3).load_state_dict(first.state_dict())


def test_tracker_partial_presentations_and_unseen_samples():
    tracker = ForgettingTracker(4, 2)
    tracker.update([1, 3], [1, 0], [1, 1])
    tracker.update([1], [0], [1])
    assert tracker.presentations.tolist() == [0, 2, 0, 1]
    assert tracker.events.tolist() == [0, 1, 0, 0]
    assert tracker.first_learned.tolist() == [-1, 0, -1, -1]
    assert tracker.scores().tolist() == [math.inf, 1.0, math.inf, math.inf]
    tracker.update([], [], [])  # an empty update changes nothing
    assert tracker.presentations.tolist() == [0, 2, 0, 1]


def test_tracker_bad_inputs_name_the_argument():
    tracker = ForgettingTracker(4, 3)
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 4\)"):
        tracker.update([4], [0], [0])
    with pytest.raises(ValueError, match="indices repeats a sample"):
        tracker.update([1, 1], [0, 0], [0, 0])
    with pytest.raises(ValueError, match="predicted has 1 entries but indices has 2"):
        tracker.update([0, 1], [0], [0, 0])
    with pytest.raises(ValueError, match=r"predicted has shape \(2, 3\).*argmax"):
        tracker.update([0, 1], torch.zeros(2, 3), [0, 0])
    with pytest.raises(ValueError, match=r"labels holds class 3, outside \[0, 3\)"):
        tracker.update([0], [0], [3])
    with pytest.raises(TypeError, match="predicted must hold integers"):
        tracker.update([0], [0.0], [0])
    with pytest.raises(ValueError, match="never_learned must be 'inf' or 'epochs'"):
        ForgettingTracker(3, 2, never_learned="max")
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        ForgettingTracker(3, 1)
    assert tracker.presentations.tolist() == [0, 0, 0, 0]  # failed updates left no trace


# ---------------------------------------------------------------------------------------------
# bad inputs
# ---------------------------------------------------------------------------------------------


def test_train_mode_batchnorm_is_refused():
    net, X, y, _ = _case("cnn-batchnorm")
    net.train()
    with pytest.raises(ValueError, match=r"model is in train mode with batch norm.*\.eval\(\)"):
        grand(net, X, y)
    with pytest.raises(ValueError, match=r"model is in train mode"):
        el2n(net, X, y)
    other = _case("cnn-batchnorm")[0]
    with pytest.raises(ValueError, match=r"model\[1\] is in train mode"):
        grand([other, net], X, y)


@pytest.mark.parametrize("score", [el2n, grand], ids=["el2n", "grand"])
def test_bad_inputs_name_the_argument(score):
    models, X, y, c = _case("mlp")
    with pytest.raises(ValueError, match="X is empty"):
        score(models, X[:0], y[:0])
    with pytest.raises(ValueError, match="Y has 12 labels but X has 13 samples"):
        score(models, X, y[:-1])
    with pytest.raises(ValueError, match="Y has 4 label columns but the model has 3 outputs"):
        score(models, X, torch.zeros(13, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"Y\[0\] = 5 but the model has 3 outputs"):
        score(models, X, torch.full((13,), 5))
    with pytest.raises(TypeError, match="Y is a 1-D torch.float64 tensor"):
        score(models, X, y.double())
    with pytest.raises(ValueError, match="model is an empty list"):
        score([], X, y)
    with pytest.raises(ValueError, match="X contains 5 NaN"):
        score(models, torch.where(torch.arange(13)[:, None] == 0, float("nan"), X), y)
    with pytest.raises(ValueError, match=r"model cannot be evaluated on inputs of shape \(4,\)"):
        score(models, X[:, :4], y)  # wrong input width: named, with torch's own reason


def test_other_bad_inputs():
    models, X, y, c = _case("mlp")
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        grand(models, X, y, chunk_size=0)
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        el2n(models, X, y, chunk_size=0)
    with pytest.raises(TypeError, match=r"model must be a torch.nn.Module"):
        grand(lambda x: x, X, y)
    with pytest.raises(ValueError, match="model has no trainable parameters"):
        frozen = build_model("mlp", (5,), 3, dtype=torch.float64).requires_grad_(False)
        grand(frozen, X, y)
    with pytest.raises(ValueError, match="unknown loss"):
        grand(models, X, y, loss="hinge")
    with pytest.raises(ValueError, match="margin needs the inputs X"):
        margin(models, None, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        margin_from_logits(torch.zeros(3, 1), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"logits must be a non-empty \(n, c\) array"):
        entropy_from_logits(torch.zeros(3))
    with pytest.raises(ValueError, match="device='gpu7'"):
        el2n(models, X, y, device="gpu7")
