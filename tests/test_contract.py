"""One contract for model, data and labels (issue 15 §2), checked before any work: every public
entry point that takes (model, X, Y) applies the same label rule, names the label value and its
index (never an internal batch size), and refuses a model that is not callable, naming the argument.

The rule (``mixtheory._validation.check_class_indices``): the number of classes is the model's number
of outputs when there is a model, else ``num_classes``, else the largest label + 1; a label that is
negative or ≥ that number is an error; without a model a class in range that never occurs warns.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch

from mixtheory import (
    MixupGeometry,
    SymmetricBeta,
    estimate_regularizers,
    mixup_loss,
    sampled_second_order_loss,
    second_order_loss,
    taylor_regularizers,
)
from mixtheory._validation import MissingClassWarning, check_class_indices
from mixtheory.data import load_digits, load_split
from mixtheory.estimators import estimate_from_geometry
from mixtheory.exact_loss import LossOptions
from mixtheory.expansions.mixupe import first_order_term
from mixtheory.expansions.zhang2021 import zhang_expansion
from mixtheory.mixing.expected_loss import exact_loss_for_rule
from mixtheory.models import build_model
from mixtheory.pairing import exact_mixup_loss_with_pairing
from mixtheory.scores import el2n, grand
from mixtheory.training import TrainConfig, train
from mixtheory.zhang2021 import zhang_exact_loss

LAW = SymmetricBeta(1.0)
N = 60


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(N, seed=0)
    net = build_model("mlp", 64, 10, "tanh", hidden=(8,), dtype=torch.float64)
    return X, y, net


# every public entry point that takes (model, X, Y), as data
ENTRY_POINTS = {
    "mixup_loss exact": lambda m, X, Y: mixup_loss(m, X, Y, LAW, options=LossOptions(num_nodes=4)),
    "mixup_loss sampled": lambda m, X, Y: mixup_loss(m, X, Y, LAW, evaluation="sampled", num_draws=2),
    "estimate_regularizers": lambda m, X, Y: estimate_regularizers(m, X, Y, LAW, num_probes=2),
    "train": lambda m, X, Y: train(m, X, Y, config=TrainConfig(epochs=1, progress=False)),
    "el2n": lambda m, X, Y: el2n(m, X, Y),
    "grand": lambda m, X, Y: grand(m, X, Y),
    "zhang_expansion": lambda m, X, Y: zhang_expansion(m, X, Y, LAW),
    "zhang_exact_loss": lambda m, X, Y: zhang_exact_loss(m, X, Y, LAW, options=LossOptions(num_nodes=4)),
    "first_order_term": lambda m, X, Y: first_order_term(m, X, Y),
    "exact_mixup_loss_with_pairing": lambda m, X, Y: exact_mixup_loss_with_pairing(
        m, X, Y, LAW, pairing=None
    ),
    "exact_loss_for_rule": lambda m, X, Y: exact_loss_for_rule(m, X, Y, LAW),
}

# bad labels for a 10-output model: (name, change to y, message)
BAD_LABELS = [
    ("a 12", lambda y: y.index_fill(0, torch.tensor([7]), 12), r"Y\[7\] = 12 but the model has 10 outputs"),
    ("a 15", lambda y: y.index_fill(0, torch.tensor([3]), 15), r"Y\[3\] = 15 but the model has 10 outputs"),
    ("a -1", lambda y: y.index_fill(0, torch.tensor([5]), -1), r"Y\[5\] = -1 is negative"),
    ("floats", lambda y: y.double(), r"Y is a 1-D torch.float64 tensor: that is ambiguous"),
]


@pytest.mark.parametrize("case", BAD_LABELS, ids=[c[0] for c in BAD_LABELS])
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_bad_labels_name_the_label_and_its_index_everywhere(digits, entry, case):
    X, y, net = digits
    _, change, message = case
    with pytest.raises((ValueError, TypeError)) as info:
        ENTRY_POINTS[entry](net, X, change(y))
    text = str(info.value)
    assert re.search(message, text), text
    assert str(N) not in re.findall(r"\d+", text), f"the message names an internal size: {text}"


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_model_that_is_not_callable_is_named(digits, entry):
    X, y, _ = digits
    with pytest.raises(TypeError, match=r"^model must be a torch.nn.Module"):
        ENTRY_POINTS[entry]("model", X, y)


GEOMETRY_ENTRY_POINTS = {
    "taylor_regularizers": lambda m, g: taylor_regularizers(m, g),
    "estimate_from_geometry": lambda m, g: estimate_from_geometry(m, g, num_probes=2),
    "sampled_second_order_loss": lambda m, g: sampled_second_order_loss(m, g, num_draws=2),
    "second_order_loss": lambda m, g: second_order_loss(m, g),
}


@pytest.mark.parametrize("entry", GEOMETRY_ENTRY_POINTS)
def test_model_and_geometry_entry_points(digits, entry):
    """A string model is named; a 10-output model on a geometry whose labels make 13 classes is
    told so in classes, not in batch shapes."""
    X, y, net = digits
    geo = MixupGeometry(X, y, LAW, num_classes=10)
    with pytest.raises(TypeError, match=r"^model must be a torch.nn.Module or a callable.*got str"):
        GEOMETRY_ENTRY_POINTS[entry]("model", geo)
    with pytest.warns(MissingClassWarning, match=r"class\(es\) 10, 11 of 0..12 never occur"):
        wide = MixupGeometry(X, y.index_fill(0, torch.tensor([7]), 12), LAW)
    with pytest.raises(ValueError, match="the model has 10 outputs but the labels have 13 classes") as info:
        GEOMETRY_ENTRY_POINTS[entry](net, wide)
    assert str(N) not in re.findall(r"\d+", str(info.value))


def test_classes_come_from_the_model(digits):
    """Two samples of one class, a class-3-only batch: the model's 10 outputs are the classes, and the
    result equals the one with explicit 10-column one-hot labels."""
    X, y, net = digits
    Xs, ys = X[:4], torch.tensor([3, 3, 3, 3])
    one_hot = torch.nn.functional.one_hot(ys, 10).double()
    assert mixup_loss(net, Xs, ys, LAW, options=LossOptions(num_nodes=4)) == mixup_loss(
        net, Xs, one_hot, LAW, options=LossOptions(num_nodes=4)
    )
    torch.testing.assert_close(el2n(net, Xs, ys), el2n(net, Xs, one_hot), rtol=0, atol=0)
    net2 = build_model("mlp", 64, 10, "tanh", hidden=(8,), dtype=torch.float64, seed=1)
    result = train(
        net2, X[:2], torch.tensor([3, 3]), config=TrainConfig(epochs=1, batch_size=2, progress=False)
    )
    assert result.history and net2(X[:2]).shape == (2, 10)


def test_a_model_with_fewer_outputs_than_classes_is_refused(digits):
    X, y, _ = digits
    five = build_model("mlp", 64, 5, "tanh", hidden=(8,), dtype=torch.float64)
    first = int((y >= 5).nonzero()[0, 0])
    with pytest.raises(ValueError, match=rf"Y\[{first}\] = {int(y[first])} but the model has 5 outputs"):
        train(five, X, y, config=TrainConfig(epochs=1, progress=False))


def test_num_classes_against_the_model_and_without_a_model(digits):
    X, y, net = digits
    with pytest.raises(ValueError, match="num_classes=12 but the model has 10 outputs"):
        mixup_loss(net, X, y, LAW, num_classes=12, options=LossOptions(num_nodes=4))
    with pytest.raises(ValueError, match=r"Y\[\d+\] = \d+ but num_classes=5"):
        MixupGeometry(X, y, LAW, num_classes=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_class_indices("y", torch.tensor([0, 1, 2])) == 3
        assert check_class_indices("y", torch.tensor([3, 3]), num_outputs=10) == 10  # model: silent


def test_model_arguments_and_sizes():
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        build_model("mlp", 64, 0)
    net = build_model("mlp", 4, 3, "tanh", hidden=(4,), dtype=torch.float64)
    X = torch.randn(1, 4, dtype=torch.float64)
    with pytest.raises(
        ValueError, match="X has one sample: mixup mixes pairs of samples, so the mixup loss needs at least 2"
    ):
        mixup_loss(net, X, torch.tensor([0]), LAW)
    with pytest.raises(
        TypeError, match="model must be a torch.nn.Module .its parameters are trained.; got function"
    ):
        train(lambda x: x, X, torch.tensor([0]), config=TrainConfig(epochs=1))


# --- data files: one line naming the file, the array and the fix ------------------------------
def _write(path, **arrays):
    np.savez(path, **arrays)
    return path


NPZ_CASES = {
    "corrupt": (
        lambda p: p.write_bytes(b"PK\x03\x04 this is not a zip archive"),
        r"not an .npz archive numpy can read",
    ),
    "text X": (
        lambda p: _write(p, X=np.array([["a", "b"]] * 6), y=np.arange(6) % 2),
        r"array X has dtype <U1 \(text\)",
    ),
    "text y": (
        lambda p: _write(p, X=np.ones((6, 2)), y=np.array(["cat", "dog"] * 3)),
        r"array y has dtype <U3 \(text\)",
    ),
    "objects": (lambda p: _write(p, X=np.ones((6, 2)), y=np.arange(6) % 2) and None, None),
    "overflow": (
        lambda p: _write(p, X=np.full((6, 2), 1e39), y=np.arange(6) % 2),
        r"array X has values up to 1e\+39, beyond the largest torch.float32",
    ),
    "nan": (
        lambda p: _write(p, X=np.array([[np.nan, 1.0]] * 6), y=np.arange(6) % 2),
        r"array X contains 6 NaN",
    ),
    "float y": (
        lambda p: _write(p, X=np.ones((6, 2)), y=np.arange(6) % 2 * 1.0),
        r"array y is 1-D with floating-point values",
    ),
    "label 12": (
        lambda p: _write(p, X=np.random.default_rng(0).normal(size=(40, 2)), y=np.r_[np.arange(39) % 10, 12]),
        None,
    ),
}


@pytest.mark.parametrize("case", [k for k, v in NPZ_CASES.items() if v[1] is not None])
def test_bad_npz_files_are_named_with_the_array_and_the_fix(tmp_path, case):
    make, message = NPZ_CASES[case]
    path = tmp_path / "data.npz"
    make(path)
    with pytest.raises(ValueError) as info:
        load_split("npz", path=path, dtype=torch.float32)
    text = str(info.value)
    assert str(path) in text and re.search(message, text), text
    assert "\n" not in text


def test_a_label_beyond_the_classes_in_an_npz_warns_about_the_missing_ones(tmp_path):
    """Chosen behaviour (README): without a model the classes come from the labels, 13 here, and the
    never-seen classes 10 and 11 are named in a warning."""
    path = tmp_path / "ybig.npz"
    NPZ_CASES["label 12"][0](path)
    with pytest.warns(MissingClassWarning, match=r"class\(es\) 10, 11 of 0..12 never occur"):
        split = load_split("npz", path=path, test_fraction=0.25)
    assert split.num_classes == 13


# --- the command line: `train` on data that do not fit the architecture, or labels beyond the classes
def _train_cli(tmp_path, *argv):
    from mixtheory.cli import main

    return main(
        ["train", "--epochs", "1", "--batch-size", "20", "--out", str(tmp_path / "run"), "--quiet", *argv]
    )


@pytest.mark.parametrize("data", ["iris", "wine", "blobs"])
def test_train_refuses_a_cnn_on_tabular_features(tmp_path, data, capsys):
    """iris's 4 features used to be reshaped into a 1×2×2 'image'."""
    assert _train_cli(tmp_path, "--data", data, "--arch", "cnn") == 2
    err = capsys.readouterr().err
    assert f"--arch cnn needs images; --data {data} holds flat vectors" in err and "Traceback" not in err


def test_train_on_labels_with_missing_classes_warns_and_says_how_many(tmp_path, capsys):
    """`train --data ybig.npz` (one label set to 12) builds a 13-class model: chosen and documented,
    with a warning that names the classes 10 and 11 that never occur."""
    path = tmp_path / "ybig.npz"
    NPZ_CASES["label 12"][0](path)
    with pytest.warns(MissingClassWarning, match=r"class\(es\) 10, 11 of 0..12 never occur"):
        assert _train_cli(tmp_path, "--data", str(path)) == 0
    spec = __import__("json").loads((tmp_path / "run" / "model.json").read_text())
    assert spec["num_classes"] == 13


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_x_with_the_wrong_number_of_features_is_named(digits, entry):
    """X of 63 features for a 64-input network: the shape is named, not a torch traceback."""
    X, y, net = digits
    with pytest.raises(ValueError, match=r"model cannot be evaluated on inputs of shape \(63,\)"):
        ENTRY_POINTS[entry](net, X[:, :63], y)
