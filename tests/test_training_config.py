"""The one training loop: TrainConfig's validation, the same numbers through every entry point
(train, models.train_model, the figures' Adam runs) and against a reference loop written out here,
the random-number schemes, the on_epoch callback, and the argument counts of the entry points."""

from __future__ import annotations

import inspect

import pytest
import torch

from mixtheory import build_model, estimate_from_geometry, estimate_regularizers, train_model
from mixtheory.data import load_digits
from mixtheory.laws import SymmetricBeta
from mixtheory.losses import CrossEntropy
from mixtheory.mixing.sampler import mix_batch
from mixtheory.models import LayerOptions
from mixtheory.reproduce._runner import Context
from mixtheory.reproduce._training import adam_config, adam_objective, at_epochs
from mixtheory.training import ERMObjective, Mixup, Monitor, RunNotes, TrainConfig, train


@pytest.fixture(scope="module")
def digits():
    return load_digits(150, seed=0)


def _net(dtype=torch.float64, dropout=0.0):
    return build_model(
        "mlp", 64, 10, hidden=(12,), dtype=dtype, seed=3, options=LayerOptions(dropout=dropout)
    )


def _params(net) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def _equal(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(_params(a), _params(b)))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("epochs", 0, "epochs must be a positive integer, got 0"),
        ("epochs", 2.5, "epochs must be a positive integer"),
        ("batch_size", 0, "batch_size must be a positive integer or None"),
        ("optimizer", "rmsprop", "optimizer must be one of sgd, adamw, adam"),
        ("lr", 0.0, "lr must be > 0"),
        ("lr", float("nan"), "lr must be a finite number"),
        ("weight_decay", -1e-4, "weight_decay must be >= 0"),
        ("lr_schedule", "linear", "lr_schedule must be one of cosine, step, constant"),
        ("rng", "global", "rng must be one of separate, shared"),
        ("seed", 1.5, "seed must be an integer"),
        ("checkpoint_every", -1, "checkpoint_every must be a positive integer"),
        ("num_classes", True, "num_classes must be a positive integer or None"),
        ("progress", "yes", "progress must be True, False or None"),
    ],
)
def test_config_refuses_bad_values_naming_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{field: value})


def test_config_is_frozen_and_replace_checks_names():
    config = TrainConfig(epochs=3, batch_size=None)
    assert config.replace(lr=0.2).lr == 0.2 and config.lr == 0.05
    with pytest.raises(AttributeError):
        config.lr = 0.3  # type: ignore[misc]
    with pytest.raises(ValueError, match="TrainConfig has no field lrate"):
        config.replace(lrate=0.1)
    with pytest.raises(ValueError, match="nesterov=True needs optimizer='sgd'"):
        TrainConfig(optimizer="adamw", nesterov=True)


def test_train_refuses_keywords_and_other_config_types(digits):
    X, y = digits
    with pytest.raises(TypeError, match="epochs"):
        train(_net(), X, y, epochs=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"config=TrainConfig\(epochs=\.\.\., lr=\.\.\.\)"):
        train(_net(), X, y, None, {"epochs": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="notes must be a mixtheory.training.RunNotes"):
        train(_net(), X, y, config=TrainConfig(epochs=1), notes="digits")  # type: ignore[arg-type]


def _reference_loop(model, X, y, *, epochs, lr, batch_size, alpha, seed) -> list[float]:
    """The loop of Zhang et al.'s reference code as the package's earlier train_model wrote it: Adam,
    one generator for the order (skipped for a full batch) and then λ and the partner permutation."""
    labels = torch.nn.functional.one_hot(y, 10).to(X.dtype)
    n = X.shape[0]
    size = n if batch_size is None else batch_size
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen) if size < n else torch.arange(n)
        total = 0.0
        for start in range(0, n, size):
            batch = order[start : start + size]
            xb, yb = X[batch], labels[batch]
            if alpha is not None:
                lam = SymmetricBeta(alpha).sample_lambda((1, 1), gen).to(X.dtype)
                perm = torch.randperm(batch.numel(), generator=gen)
                xb, yb = mix_batch(xb, yb, lam.reshape((1,) * xb.ndim), perm, y_lam=lam)
            loss = CrossEntropy().value(yb, model(xb)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * batch.numel()
        history.append(total / n)
    model.eval()
    return history


@pytest.mark.parametrize(
    ("batch_size", "alpha", "dtype"),
    [
        (None, None, torch.float64),
        (None, 1.0, torch.float32),
        (32, 0.5, torch.float64),
        (40, None, torch.float32),
    ],
)
def test_train_model_train_and_reference_loop_bit_identical(digits, batch_size, alpha, dtype):
    X, y = digits
    X = X.to(dtype)
    kwargs = dict(epochs=3, lr=0.01, batch_size=batch_size, seed=7)
    reference, via_model, via_train = _net(dtype), _net(dtype), _net(dtype)
    expected = _reference_loop(reference, X, y, alpha=alpha, **kwargs)
    losses = train_model(via_model, X, y, mixup_alpha=alpha, **kwargs)
    config = TrainConfig(
        epochs=3, batch_size=batch_size, optimizer="adam", lr=0.01, weight_decay=0.0, lr_schedule="constant"
    ).replace(seed=7, rng="shared", progress=False)
    result = train(via_train, X, y, adam_objective(alpha), config)
    assert losses == expected == result.column("loss")
    assert _equal(reference, via_model) and _equal(reference, via_train)


def test_figure_path_equals_train_and_calls_back_at_its_epochs(digits):
    """The figures' Adam runs (reproduce/_training) are train with rng='shared': the same parameters
    as train_model with an explicit minibatch size, and the callback sees exactly its epochs."""
    X, y = digits
    ctx = Context(device=torch.device("cpu"), mode="quick", progress=False)
    config = adam_config(ctx, epochs=4, lr=0.01, batch_size=50, seed=2)
    seen: list[tuple[int, bool]] = []
    figure_net, model_net = _net(), _net()
    callback = at_epochs([0, 2, 4], lambda t: seen.append((t, figure_net.training)))
    train(figure_net, X, y, adam_objective(1.0), config, on_epoch=callback)
    train_model(model_net, X, y, epochs=4, lr=0.01, batch_size=50, mixup_alpha=1.0, seed=2)
    assert _equal(figure_net, model_net)
    assert seen == [(0, False), (2, False), (4, False)]


def test_shared_scheme_leaves_the_global_stream_to_dropout(digits):
    """rng='shared' neither seeds nor forks torch's global generator: dropout draws from the caller's
    stream (as the earlier loops did); rng='separate' forks it and leaves it as it was."""
    X, y = digits
    config = TrainConfig(epochs=1, batch_size=50, optimizer="adam", lr=0.01, progress=False)
    for rng, dropout in (("shared", 0.0), ("shared", 0.2), ("separate", 0.2)):
        torch.manual_seed(11)
        before = torch.get_rng_state()
        train(_net(dropout=dropout), X, y, Mixup(1.0), config.replace(rng=rng))
        unchanged = torch.equal(torch.get_rng_state(), before)
        assert unchanged == (rng == "separate" or dropout == 0.0), (rng, dropout)


def test_separate_and_shared_schemes_differ_and_full_batch_draws_no_order(digits):
    X, y = digits
    base = TrainConfig(epochs=2, batch_size=50, lr=0.05, progress=False)
    nets = [_net() for _ in range(4)]
    train(nets[0], X, y, Mixup(1.0), base)
    train(nets[1], X, y, Mixup(1.0), base.replace(rng="shared"))
    assert not _equal(nets[0], nets[1])
    # full batch, ERM: no random number is drawn, so the two schemes agree exactly
    full = base.replace(batch_size=None)
    train(nets[2], X, y, ERMObjective(), full)
    train(nets[3], X, y, ERMObjective(), full.replace(rng="shared"))
    assert _equal(nets[2], nets[3])


def test_run_notes_reach_the_marker_and_provenance(digits, tmp_path):
    import json

    X, y = digits
    notes = RunNotes(data="150 digits", marker={"command": "test"})
    train(_net(), X, y, config=TrainConfig(epochs=1, progress=False), out=tmp_path / "run", notes=notes)
    assert json.loads((tmp_path / "run" / ".mixtheory.json").read_text())["command"] == "test"
    assert json.loads((tmp_path / "run" / "provenance.json").read_text())["data"] == "150 digits"


def _arguments(function, options: str) -> int:
    """Parameters besides the options object (``**overrides`` counted as one)."""
    return sum(1 for name in inspect.signature(function).parameters if name != options)


@pytest.mark.parametrize(
    ("function", "options"),
    [
        (train, "config"),
        (train_model, ""),
        (estimate_regularizers, "options"),
        (estimate_from_geometry, "options"),
        (Monitor.__init__, "self"),
    ],
)
def test_entry_points_take_at_most_ten_arguments_besides_their_options(function, options):
    assert _arguments(function, options) <= 10
