"""``mixtheory estimate`` end to end on the bundled digits (issue 4 §4)."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import torch

from mixtheory import SymmetricBeta
from mixtheory.cli import estimate as _cli_estimate
from mixtheory.estimators import estimate_regularizers
from mixtheory.models import build_model


def parse(argv):
    parser = argparse.ArgumentParser(prog="mixtheory")
    _cli_estimate.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_state_dict_on_digits_matches_the_library(tmp_path, capsys):
    model = build_model("mlp", 64, 10, "gelu", hidden=(16,), seed=3)
    path = tmp_path / "mlp.pt"
    torch.save(model.state_dict(), path)
    out = tmp_path / "r.json"
    args = parse(["estimate", "--model", str(path), "--arch", "mlp-gelu", "--hidden", "16",
                  "--data", "digits", "--alpha", "0.4", "--num-probes", "8", "--samples", "6",
                  "--seed", "1", "--out", str(out)])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "R2" in printed and "6 samples" in printed
    record = json.loads(out.read_text())
    assert len(record["per_sample"]["R2"]) == 6
    # the same numbers through the Python API with the same seeds
    from sklearn.datasets import load_digits

    digits = load_digits()
    gen = torch.Generator().manual_seed(1)
    idx = torch.randperm(len(digits.target), generator=gen)[:6].sort().values
    est = estimate_regularizers(model, torch.tensor(digits.data / 16.0, dtype=torch.float32),
                                torch.tensor(digits.target), SymmetricBeta(0.4), idx,
                                num_probes=8, generator=gen)
    assert record["per_sample"]["indices"] == idx.tolist()
    np.testing.assert_allclose(record["per_sample"]["R2"], est["R2"].numpy(), rtol=1e-12)
    np.testing.assert_allclose(record["per_sample"]["R1"], est["R1"].numpy(), rtol=1e-12)
    assert record["summary"]["R3"]["mean"] <= 0


def test_torchscript_cnn_and_npz(tmp_path, capsys):
    model = build_model("cnn", (1, 4, 4), 3, "tanh", channels=(2,), hidden=(5,), seed=0)
    ts = tmp_path / "cnn.ts"
    torch.jit.save(torch.jit.script(model), ts)
    g = np.random.default_rng(0)
    data = tmp_path / "d.npz"
    np.savez(data, X=g.normal(size=(30, 1, 4, 4)), y=np.arange(30) % 3)
    args = parse(["estimate", "--model", str(ts), "--data", str(data), "--alpha", "1",
                  "--num-probes", "4", "--json"])
    assert args.func(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["samples"] == 30 and summary["method"] == "double-backward"
    assert summary["summary"]["R1"]["mean"] > 0


def test_errors_are_reported(tmp_path, capsys):
    path = tmp_path / "sd.pt"
    torch.save(build_model("mlp", 64, 10).state_dict(), path)
    args = parse(["estimate", "--model", str(path), "--data", "digits", "--alpha", "1"])
    assert args.func(args) == 2
    assert "--arch" in capsys.readouterr().err
    args = parse(["estimate", "--model", str(path), "--arch", "mlp", "--data", "nope.npz",
                  "--alpha", "1"])
    assert args.func(args) == 2
    assert "no data file at nope.npz" in capsys.readouterr().err
    args = parse(["estimate", "--model", str(path), "--arch", "mlp", "--data", "digits",
                  "--alpha", "1", "--samples", "-5"])
    assert args.func(args) == 2
    assert "--samples must be a positive" in capsys.readouterr().err
    args = parse(["estimate", "--model", str(path), "--arch", "cnn", "--data", "digits",
                  "--alpha", "1"])
    assert args.func(args) == 2
    assert "does not fit" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["estimate", "--model", str(path), "--data", "digits"])  # --alpha missing
