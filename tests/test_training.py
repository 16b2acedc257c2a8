"""mixtheory.training: determinism, resume == uninterrupted (bit for bit), recorders == direct calls,
every objective trains on digits, clear errors, and the README snippet."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from mixtheory import SymmetricBeta, build_model, estimate_regularizers
from mixtheory.data import load_digits
from mixtheory.mixing import AlphaSchedule, SineLambda
from mixtheory.scores import el2n
from mixtheory.training import (
    AccuracyRecorder,
    ApproximateMixup,
    EL2NRecorder,
    ERMObjective,
    ForgettingPartners,
    ForgettingRecorder,
    GraNdRecorder,
    HardPairing,
    Mixup,
    MixupE,
    MixupLossRecorder,
    RegMixup,
    RegularizerRecorder,
    TrainConfig,
    objective_from_name,
    train,
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(300, seed=0)
    return X, y


def _net(seed: int = 0, dtype=torch.float64):
    return build_model("mlp", 64, 10, hidden=(24,), dtype=dtype, seed=seed)


def _params(net) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


# objectives as data: (id, factory); every one must run and lower its loss on digits
OBJECTIVES = [
    ("erm", lambda: ERMObjective()),
    ("mixup-batch-permutation", lambda: Mixup(1.0)),
    ("mixup-pair-uniform", lambda: Mixup(0.5, per="pair", partner="uniform")),
    ("mixup-sine-schedule", lambda: Mixup(law=SineLambda(num_epochs=4))),
    ("mixup-alpha-schedule", lambda: Mixup(law=AlphaSchedule(num_epochs=4, start=0.2, end=1.0))),
    ("regmixup", lambda: RegMixup()),
    ("approx", lambda: ApproximateMixup(1.0)),
    ("hard-pairing-el2n", lambda: HardPairing(1.0, pool_fraction=0.3, refresh_every=2)),
    ("forgetting-partners", lambda: ForgettingPartners(1.0)),
    ("mixupe-paper", lambda: MixupE(1.0, eta=0.1)),
    ("mixupe-official-1", lambda: MixupE.official(1, 1.0, eta=0.1)),
    ("mixupe-official-3", lambda: MixupE.official(3, 1.0, eta=0.1)),
]


@pytest.mark.parametrize("factory", [f for _, f in OBJECTIVES], ids=[i for i, _ in OBJECTIVES])
def test_each_objective_trains_and_lowers_its_loss(digits, factory):
    X, y = digits
    result = train(_net(), X, y, factory(), TrainConfig(epochs=4, batch_size=64, lr=0.1, progress=False))
    losses = result.column("loss")
    assert len(losses) == 4 and all(np.isfinite(losses))
    assert losses[-1] < losses[0]


def test_training_is_deterministic_and_leaves_the_global_rng_alone(digits):
    X, y = digits
    state = torch.get_rng_state()
    nets = [_net(), _net()]
    for net in nets:
        train(net, X, y, Mixup(1.0, per="pair"), TrainConfig(epochs=2, batch_size=50, progress=False, seed=4))
    assert all(torch.equal(a, b) for a, b in zip(*map(_params, nets)))
    assert torch.equal(torch.get_rng_state(), state)
    other = _net()
    train(other, X, y, Mixup(1.0, per="pair"), TrainConfig(epochs=2, batch_size=50, progress=False, seed=5))
    assert not all(torch.equal(a, b) for a, b in zip(_params(nets[0]), _params(other)))


class _InterruptingEL2N(EL2NRecorder):
    """An EL2N recorder (same settings, so the checkpoint accepts it) that raises KeyboardInterrupt
    when recording epoch ``at``: after the checkpoint of epoch at − 1."""

    def __init__(self, num_samples: int, at: int):
        super().__init__(num_samples)
        self.at = at

    def record(self, ctx, epoch):
        if epoch == self.at:
            raise KeyboardInterrupt
        super().record(ctx, epoch)


@pytest.mark.parametrize("optimizer", ["sgd", pytest.param("adamw", marks=pytest.mark.slow)])
def test_resume_equals_uninterrupted_bit_for_bit(digits, tmp_path, optimizer):
    """4 epochs straight vs interrupted during epoch 3 (last checkpoint after epoch 2) + resumed:
    parameters, history losses and recorder tables identical (torch.equal, ==)."""
    X, y = digits

    def objective():  # forgetting partners: tracker, partner law and mixing RNG all in play
        return ForgettingPartners(1.0, per="pair")

    def recorders():
        return [EL2NRecorder(20), ForgettingRecorder(), RegularizerRecorder(8, num_probes=2)]

    config = TrainConfig(
        epochs=4,
        batch_size=64,
        lr=0.05,
        optimizer=optimizer,
        nesterov=optimizer == "sgd",
        checkpoint_every=1,
        progress=False,
        seed=1,
    )
    straight = train(_net(), X, y, objective(), config, recorders=recorders(), out=tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        train(
            _net(),
            X,
            y,
            objective(),
            config,
            recorders=[_InterruptingEL2N(20, at=3), *recorders()[1:]],
            out=tmp_path / "b",
        )
    resumed = train(
        _net(7), X, y, objective(), config, recorders=recorders(), out=tmp_path / "b", resume=True
    )
    assert resumed.resumed_from == 2
    assert all(torch.equal(a, b) for a, b in zip(_params(straight.model), _params(resumed.model)))
    assert straight.column("loss") == resumed.column("loss")
    for r_a, r_b in zip(straight.recorders, resumed.recorders):
        drop = {"seconds"}
        rows_a = [{k: v for k, v in row.items() if k not in drop} for row in r_a.rows]
        assert rows_a == [{k: v for k, v in row.items() if k not in drop} for row in r_b.rows]
    assert (tmp_path / "b" / "forgetting.npz").exists()
    np.testing.assert_array_equal(
        np.load(tmp_path / "a" / "forgetting.npz")["class_matrix"],
        np.load(tmp_path / "b" / "forgetting.npz")["class_matrix"],
    )


def test_regularizer_recorder_equals_a_direct_call(digits, tmp_path):
    """The epoch-2 rows equal estimate_regularizers on the epoch-2 checkpoint, same seed and subset."""
    X, y = digits
    rec = RegularizerRecorder(12, num_probes=4, seed=9)
    result = train(
        _net(),
        X,
        y,
        Mixup(0.5),
        TrainConfig(epochs=2, batch_size=64, lr=0.1, progress=False),
        recorders=[rec],
        out=tmp_path,
    )
    model = _net()
    model.load_state_dict(torch.load(tmp_path / "model.pt"))
    direct = estimate_regularizers(
        model,
        X,
        y,
        SymmetricBeta(0.5),
        indices=rec.indices,
        num_probes=4,
        generator=torch.Generator().manual_seed(9),
    )
    rows = [row for row in result.recorders[0].rows if row["epoch"] == 2]
    assert [row["sample"] for row in rows] == rec.indices.tolist()
    for key in ("erm", "R1", "R2", "R3", "R13", "R13_se", "R2_se"):
        assert [row[key] for row in rows] == direct[key].tolist(), key
    with (tmp_path / "regularizers.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 3 * 12 and float(table[-1]["R13"]) == rows[-1]["R13"]


def test_score_and_accuracy_recorders_and_files(digits, tmp_path):
    X, y = digits
    recorders = [
        EL2NRecorder(10, seed=2),
        GraNdRecorder(5),
        AccuracyRecorder(),
        ForgettingRecorder(),
        MixupLossRecorder(20, num_draws=3),
    ]
    result = train(
        _net(),
        X[:200],
        y[:200],
        RegMixup(),
        TrainConfig(epochs=2, batch_size=50, progress=False),
        recorders=recorders,
        test=(X[200:], y[200:]),
        out=tmp_path,
    )
    rows = [row for row in recorders[0].rows if row["epoch"] == 2]
    expected = el2n(result.model, X[:200][recorders[0].indices], y[:200][recorders[0].indices])
    assert [row["el2n"] for row in rows] == expected.tolist()
    acc = recorders[2].rows[-1]
    assert 0 <= acc["test_accuracy"] <= 1 and 0.1 <= acc["train_confidence"] <= 1
    npz = np.load(tmp_path / "forgetting.npz")
    assert npz["class_matrix"].shape == (3, 10, 10) and npz["events"].shape == (3, 200)
    for name in ("history", "el2n", "grand", "accuracy", "forgetting", "mixup_loss", "model", "provenance"):
        assert result.paths[name].exists(), name


def test_bad_input_gets_clear_errors(digits, tmp_path):
    X, y = digits
    with pytest.raises(ValueError, match="unknown objective 'cutmixup'"):
        objective_from_name("cutmixup")
    with pytest.raises(TypeError, match="Objective"):
        train(_net(), X, y, "mixup")
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="not a directory"):
        train(_net(), X, y, config=TrainConfig(epochs=1), out=tmp_path / "file")
    with pytest.raises(ValueError, match="holds no checkpoint.pt"):
        train(_net(), X, y, config=TrainConfig(epochs=1), out=tmp_path / "empty", resume=True)
    train(_net(), X, y, config=TrainConfig(epochs=1, progress=False), out=tmp_path / "run")
    with pytest.raises(ValueError, match="already holds a run"):
        train(_net(), X, y, config=TrainConfig(epochs=1), out=tmp_path / "run")
    with pytest.raises(ValueError, match="other settings"):
        train(_net(), X, y, config=TrainConfig(epochs=1, lr=0.5), out=tmp_path / "run", resume=True)
    with pytest.raises(ValueError, match="optimizer"):
        train(_net(), X, y, config=TrainConfig(optimizer="rmsprop", epochs=1))
    with pytest.raises(ValueError, match="each recorder"):
        train(_net(), X, y, config=TrainConfig(epochs=1), recorders=[EL2NRecorder(), EL2NRecorder()])


@pytest.mark.slow
def test_readme_snippet(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # --- README snippet (≤ 10 lines) ---
    from mixtheory import build_model
    from mixtheory.data import load_split
    from mixtheory.training import EL2NRecorder, Mixup, RegularizerRecorder, TrainConfig, train

    data = load_split("digits", seed=0)
    net = build_model("mlp", data.input_shape, data.num_classes, "tanh")
    result = train(
        net,
        data.X_train,
        data.y_train,
        Mixup(alpha=1.0),
        TrainConfig(epochs=3),
        recorders=[RegularizerRecorder(64), EL2NRecorder(64)],
        out="runs/mixup-digits",
    )
    print(result.paths["regularizers"])  # runs/mixup-digits/regularizers.csv: R1, R2, R3, R13 per sample
    # --- end snippet ---
    assert result.column("loss")[-1] < result.column("loss")[0]
