"""``mixtheory estimate`` end to end on the bundled digits, and the messages a new user meets."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from mixtheory import SymmetricBeta
from mixtheory.cli import build_parser, main
from mixtheory.cli import estimate as _cli_estimate
from mixtheory.estimators import estimate_regularizers
from mixtheory.models import LayerOptions, build_model

# the tests write TorchScript files; torch deprecates TorchScript, the command still reads it
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.:FutureWarning")


def parse(argv):
    parser = argparse.ArgumentParser(prog="mixtheory")
    _cli_estimate.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_state_dict_on_digits_matches_the_library(tmp_path, capsys):
    model = build_model("mlp", 64, 10, "gelu", hidden=(16,), seed=3)
    path = tmp_path / "mlp.pt"
    torch.save(model.state_dict(), path)
    out = tmp_path / "r.json"
    args = parse(
        [
            "estimate",
            "--model",
            str(path),
            "--arch",
            "mlp-gelu",
            "--hidden",
            "16",
            "--data",
            "digits",
            "--alpha",
            "0.4",
            "--num-probes",
            "8",
            "--samples",
            "6",
            "--seed",
            "1",
            "--out",
            str(out),
        ]
    )
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
    est = estimate_regularizers(
        model,
        torch.tensor(digits.data / 16.0, dtype=torch.float32),
        torch.tensor(digits.target),
        SymmetricBeta(0.4),
        indices=idx,
        num_probes=8,
        generator=gen,
    )
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
    args = parse(
        ["estimate", "--model", str(ts), "--data", str(data), "--alpha", "1", "--num-probes", "4", "--json"]
    )
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
    args = parse(["estimate", "--model", str(path), "--arch", "mlp", "--data", "nope.npz", "--alpha", "1"])
    assert args.func(args) == 2
    assert "no data file at nope.npz" in capsys.readouterr().err
    args = parse(
        [
            "estimate",
            "--model",
            str(path),
            "--arch",
            "mlp",
            "--data",
            "digits",
            "--alpha",
            "1",
            "--samples",
            "-5",
        ]
    )
    assert args.func(args) == 2
    assert "--samples must be a positive" in capsys.readouterr().err
    args = parse(["estimate", "--model", str(path), "--arch", "cnn", "--data", "digits", "--alpha", "1"])
    assert args.func(args) == 2
    assert "does not fit" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["estimate", "--model", str(path), "--data", "digits"])  # --alpha missing


# ---------------------------------------------------------------------------------------------
# what a new user meets
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A small MLP for the digits as a state dict, a whole pickled module and TorchScript, and a
    CNN for (1, 8, 8) digits as TorchScript."""
    d = tmp_path_factory.mktemp("models")
    mlp = build_model("mlp", 64, 10, "tanh", hidden=(8,), seed=0)
    cnn = build_model("cnn", (1, 8, 8), 10, "tanh", channels=(2,), hidden=(4,), seed=0)
    paths = {
        "state": d / "mlp_state.pt",
        "whole": d / "mlp_whole.pt",
        "cnn_ts": d / "cnn.ts",
        "empty": d / "empty.pt",
        "corrupt": d / "corrupt.pt",
    }
    torch.save(mlp.state_dict(), paths["state"])
    torch.save(mlp, paths["whole"])
    torch.jit.save(torch.jit.script(cnn), paths["cnn_ts"])
    paths["empty"].write_bytes(b"")
    paths["corrupt"].write_bytes(b"this is not a torch file\x00\x01\x02")
    return {k: str(v) for k, v in paths.items()}


def run_cli(argv, capsys):
    rc = main(["estimate", *argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return rc, captured.out, captured.err


SMALL = ["--data", "digits", "--alpha", "1", "--samples", "3", "--num-probes", "4"]


def test_whole_pickled_module_needs_trust_pickle(saved, capsys):
    rc, _, err = run_cli(["--model", saved["whole"], *SMALL], capsys)
    assert rc == 2
    assert "pass --trust-pickle if you trust this file, or save a state dict and pass --arch" in err
    rc, out, _ = run_cli(["--model", saved["whole"], "--trust-pickle", *SMALL], capsys)
    assert rc == 0 and "R13" in out


def test_trust_pickle_help_says_why():
    text = " ".join(
        _cli_estimate.add_parser(argparse.ArgumentParser().add_subparsers()).format_help().split()
    )
    assert "--trust-pickle" in text and "arbitrary code" in text and "weights_only=False" in text


@pytest.mark.parametrize(
    "which, message",
    [
        ("missing", "no model file at"),
        ("empty", "is empty (0 bytes)"),
        ("corrupt", "neither a TorchScript file nor a file saved by torch.save"),
        ("directory", "is a directory"),
    ],
    ids=["missing", "empty", "corrupt", "directory"],
)
def test_unreadable_model_files(saved, tmp_path, which, message, capsys):
    path = {"missing": str(tmp_path / "nope.pt"), "directory": str(tmp_path)}.get(which) or saved[which]
    rc, _, err = run_cli(["--model", path, "--arch", "mlp", *SMALL], capsys)
    assert rc == 2 and message in err


def test_corrupt_file_with_trust_pickle_is_still_clear(saved, capsys):
    rc, _, err = run_cli(["--model", saved["corrupt"], "--trust-pickle", *SMALL], capsys)
    assert rc == 2 and "neither a TorchScript file" in err


def test_torchscript_cnn_gets_digits_as_images(saved, capsys):
    rc, out, _ = run_cli(["--model", saved["cnn_ts"], *SMALL], capsys)
    assert rc == 0
    assert "3 samples of shape (1, 8, 8)" in out


def test_model_that_accepts_no_shape_names_the_shape(tmp_path, capsys):
    cnn3 = build_model("cnn", (3, 4, 4), 10, "tanh", channels=(2,), hidden=(4,))
    path = tmp_path / "rgb.ts"
    torch.jit.save(torch.jit.script(cnn3), path)
    rc, _, err = run_cli(["--model", str(path), *SMALL], capsys)
    assert rc == 2
    assert "got samples of shape (64,)" in err and "(1, 8, 8)" in err and "(n, C, H, W)" in err


@pytest.fixture()
def three_class_npz(tmp_path):
    """Digits-shaped data whose labels show only classes 0, 1, 2 of a 10-class model."""
    g = np.random.default_rng(0)
    path = tmp_path / "three.npz"
    np.savez(path, X=g.uniform(size=(12, 64)), y=np.arange(12) % 3)
    return str(path)


def test_num_classes_for_data_missing_classes(saved, three_class_npz, capsys):
    common = [
        "--model",
        saved["state"],
        "--arch",
        "mlp-tanh",
        "--hidden",
        "8",
        "--data",
        three_class_npz,
        "--alpha",
        "1",
        "--num-probes",
        "4",
    ]
    rc, out, _ = run_cli([*common, "--num-classes", "10"], capsys)
    assert rc == 0 and "10 classes" in out
    rc, out, _ = run_cli(common, capsys)  # default: the model's own number of outputs
    assert rc == 0 and "10 classes" in out
    rc, _, err = run_cli([*common, "--num-classes", "4"], capsys)
    assert rc == 2 and "--num-classes 4, but the network in" in err and saved["state"] in err
    rc, _, err = run_cli(
        ["--model", saved["whole"], "--trust-pickle", *common[4:], "--num-classes", "4"], capsys
    )
    assert rc == 2 and "--num-classes 4, but the model has 10 outputs" in err


@pytest.mark.parametrize(
    "out, message",
    [
        ("{tmp}/no/such/dir/r.json", "does not exist"),
        ("{tmp}", "is a directory"),
        ("/sys/mixtheory_results.json", "cannot write there"),
    ],
    ids=["missing-parent", "directory", "unwritable"],
)
def test_out_is_checked_before_the_computation(saved, tmp_path, monkeypatch, out, message, capsys):
    def must_not_run(*args, **kwargs):
        raise AssertionError("the computation started before --out was checked")

    monkeypatch.setattr(_cli_estimate, "estimate_regularizers", must_not_run)
    rc, _, err = run_cli(
        [
            "--model",
            saved["state"],
            "--arch",
            "mlp",
            "--hidden",
            "8",
            *SMALL,
            "--out",
            out.format(tmp=tmp_path),
        ],
        capsys,
    )
    assert rc == 2 and message in err


def test_out_check_leaves_no_file_behind(saved, tmp_path, capsys):
    out = tmp_path / "r.json"
    rc, _, _ = run_cli(
        [
            "--model",
            saved["state"],
            "--arch",
            "mlp",
            "--hidden",
            "8",
            *SMALL,
            "--out",
            str(out),
            "--num-probes",
            "1",
        ],
        capsys,
    )
    assert rc == 2 and not out.exists()


def test_one_probe_is_refused(saved, capsys):
    rc, _, err = run_cli(
        [
            "--model",
            saved["state"],
            "--arch",
            "mlp",
            "--hidden",
            "8",
            "--data",
            "digits",
            "--alpha",
            "1",
            "--num-probes",
            "1",
        ],
        capsys,
    )
    assert rc == 2 and "--num-probes must be at least 2" in err
    rc, out, _ = run_cli(
        [
            "--model",
            saved["state"],
            "--arch",
            "mlp",
            "--hidden",
            "8",
            "--data",
            "digits",
            "--alpha",
            "1",
            "--samples",
            "2",
            "--num-probes",
            "1",
            "--probes",
            "exact",
        ],
        capsys,
    )
    assert rc == 0 and "nan" not in out


def test_exact_terms_say_exact(saved, capsys):
    rc, out, _ = run_cli(
        [
            "--model",
            saved["state"],
            "--arch",
            "mlp",
            "--hidden",
            "8",
            "--data",
            "digits",
            "--alpha",
            "1",
            "--samples",
            "1",
            "--probes",
            "exact",
        ],
        capsys,
    )
    assert rc == 0
    rows = {
        line.split()[0]: line.split()
        for line in out.splitlines()
        if len(line.split()) == 7 and line.split()[0] in ("erm", "R1", "R2", "R3", "R13")
    }
    assert set(rows) == {"erm", "R1", "R2", "R3", "R13"}
    assert all(row[-1] == "exact" for row in rows.values())
    assert all(row[2] == "n/a" for row in rows.values())  # one sample: no spread over samples
    assert "nan" not in out.lower()


def test_r13_and_cancellation_are_reported(saved, tmp_path, capsys):
    out = tmp_path / "r.json"
    rc, printed, _ = run_cli(
        ["--model", saved["state"], "--arch", "mlp", "--hidden", "8", *SMALL, "--out", str(out)], capsys
    )
    assert rc == 0
    assert re.search(r"^R13\s", printed, re.M)
    assert "never add R1 and R3 by hand" in printed and "max(|R1|, |R3|)/|R13|" in printed
    record = json.loads(out.read_text())
    per = record["per_sample"]
    assert len(per["R13"]) == len(per["R13_se"]) == len(per["cancellation"]) == 3
    np.testing.assert_allclose(record["summary"]["R13"]["mean"], np.mean(per["R13"]), rtol=1e-12)
    # on a small untrained net R1 + R3 loses few digits: the direct R13 agrees with the sum
    np.testing.assert_allclose(per["R13"], np.add(per["R1"], per["R3"]), rtol=1e-6, atol=1e-12)
    assert record["cancellation"]["max"] == pytest.approx(max(per["cancellation"]))
    rc, printed, _ = run_cli(
        ["--model", saved["state"], "--arch", "mlp", "--hidden", "8", *SMALL, "--json"], capsys
    )
    summary = json.loads(printed)
    # the default estimates R13 from the probes (with a standard error); --r1 exact computes it
    assert summary["summary"]["R13"]["exact"] is False and summary["summary"]["R13"]["mean_se"] >= 0
    rc, printed, _ = run_cli(
        ["--model", saved["state"], "--arch", "mlp", "--hidden", "8", *SMALL, "--r1", "exact", "--json"],
        capsys,
    )
    summary = json.loads(printed)
    assert summary["summary"]["R13"]["exact"] is True and summary["summary"]["R13"]["mean_se"] is None
    assert summary["summary"]["R2"]["mean_se"] > 0 and set(summary["cancellation"]) == {"median", "max"}


def test_out_schema_in_the_epilog_names_every_key(saved, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert (
        run_cli(
            ["--model", saved["state"], "--arch", "mlp", "--hidden", "8", *SMALL, "--out", str(out)], capsys
        )[0]
        == 0
    )
    record = json.loads(out.read_text())
    schema = _cli_estimate.EPILOG.split("--out JSON schema:")[1]
    keys = (
        set(record) | set(record["summary"]["R2"]) | set(record["per_sample"]) | set(record["cancellation"])
    )
    assert {k for k in keys if f'"{k}"' not in schema and k not in schema} == set()


def test_device_names_are_checked(saved, capsys):
    rc, _, err = run_cli(
        ["--model", saved["state"], "--arch", "mlp", "--hidden", "8", *SMALL, "--device", "gpu"], capsys
    )
    assert rc == 2 and "not a device torch knows" in err
    if not torch.cuda.is_available():
        rc, _, err = run_cli(
            ["--model", saved["state"], "--arch", "mlp", "--hidden", "8", *SMALL, "--device", "cuda"], capsys
        )
        assert rc == 2 and "CUDA is not available" in err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu(saved, capsys):
    runs = []
    for device in ("cpu", "cuda"):
        rc, printed, _ = run_cli(
            [
                "--model",
                saved["state"],
                "--arch",
                "mlp",
                "--hidden",
                "8",
                *SMALL,
                "--device",
                device,
                "--json",
            ],
            capsys,
        )
        assert rc == 0
        runs.append(json.loads(printed)["summary"])
    for key in ("erm", "R13", "R3"):
        assert runs[1][key]["mean"] == pytest.approx(runs[0][key]["mean"], rel=1e-4, abs=1e-6)


def test_only_mixtheory_warnings_once_each(tmp_path):
    """A ReLU TorchScript model: one PiecewiseLinearWarning, none of torch's deprecation notices."""
    relu = build_model("cnn", (1, 8, 8), 10, "relu", channels=(2,), hidden=(4,))
    path = tmp_path / "relu.ts"
    torch.jit.save(torch.jit.script(relu), path)
    code = "import sys; from mixtheory.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run(
        [sys.executable, "-c", code, "estimate", "--model", str(path), *SMALL, "--batch-size", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("PiecewiseLinearWarning") == 1
    assert "deprecated" not in proc.stderr and "FutureWarning" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert all(line.startswith("mixtheory estimate: warning: ") for line in lines), proc.stderr
    categories = [line.split(": ")[2] for line in lines]
    assert len(categories) == len(set(categories))  # once each (here also a CancellationWarning)


def _all_actions(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_actions(sub)
        elif not isinstance(action, argparse._HelpAction):
            yield action


def test_every_option_has_help_and_no_internal_references():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in ("estimate", "moments"):
        missing = [a.option_strings for a in _all_actions(sub.choices[name]) if not a.help]
        assert missing == [], f"{name}: options without help: {missing}"
        text = sub.choices[name].format_help()
        assert not re.search(r"issue \d|§", text), name
    from mixtheory.cli import moments as _cli_moments

    for module in (_cli_estimate, _cli_moments):
        assert not re.search(r"issue \d|§", module.__doc__ or "")


def test_epilog_says_how_to_get_a_model():
    assert "torch.save(model.state_dict()" in _cli_estimate.EPILOG
    assert "--arch mlp-tanh" in _cli_estimate.EPILOG


@pytest.mark.slow
def test_the_training_lines_make_a_model_estimate_reads(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(_cli_estimate.TRAINING_SNIPPET, "training snippet", "exec"), {})
    rc = main(
        [
            "estimate",
            "--model",
            "mlp.pt",
            "--arch",
            "mlp-tanh",
            "--data",
            "digits",
            "--alpha",
            "1",
            "--samples",
            "5",
        ]
    )
    assert rc == 0 and "5 samples" in capsys.readouterr().out


def test_mlp_state_dict_reads_image_shaped_npz_and_junk_npz_is_refused(saved, tmp_path, capsys):
    images = tmp_path / "images.npz"
    np.savez(images, X=np.random.default_rng(0).uniform(size=(6, 8, 8)), y=np.arange(6))
    rc, out, _ = run_cli(
        [
            "--model",
            saved["state"],
            "--arch",
            "mlp",
            "--hidden",
            "8",
            "--data",
            str(images),
            "--alpha",
            "1",
            "--num-probes",
            "2",
        ],
        capsys,
    )
    assert rc == 0 and "6 samples of shape (64,)" in out
    junk = tmp_path / "junk.npz"
    junk.write_text("not an archive")
    rc, _, err = run_cli(
        ["--model", saved["state"], "--arch", "mlp", "--data", str(junk), "--alpha", "1"], capsys
    )
    assert rc == 2 and "is not an .npz archive" in err


# --- issue 15: model.json, the train-mode warning, R4, and data files named with the fix ------------
def _trained_run(tmp_path, activation="tanh", hidden=(8,)):
    """A run directory as `mixtheory train` leaves it: model.pt (a state dict) and model.json."""
    run = tmp_path / "run"
    run.mkdir()
    model = build_model("mlp", 64, 10, activation, hidden=hidden, seed=0)
    torch.save(model.state_dict(), run / "model.pt")
    spec = {"arch": f"mlp-{activation}", "hidden": list(hidden), "channels": [8, 16], "input_shape": [64]}
    (run / "model.json").write_text(json.dumps(spec))
    return model, str(run / "model.pt")


@pytest.mark.parametrize(
    "option,message",
    [
        (["--arch", "mlp-relu"], "--arch mlp-relu conflicts with"),
        (["--arch", "mlp-gelu"], "--arch mlp-gelu conflicts with"),
        (["--arch", "mlp", "--activation", "relu"], "--arch mlp-relu conflicts with"),
        (["--activation", "gelu"], "--activation gelu conflicts with"),
        (["--hidden", "16"], "--hidden 16 conflicts with"),
    ],
)
def test_model_json_is_read_and_a_conflicting_option_is_refused(tmp_path, option, message, capsys):
    """Shapes cannot tell tanh from ReLU: a tanh-trained state dict estimated with --arch mlp-relu
    gave R13 −0.885 instead of −0.817 without a word. model.json (written by `train`) decides."""
    _, path = _trained_run(tmp_path)
    rc, _, err = run_cli(["--model", path, *option, *SMALL], capsys)
    assert rc == 2 and message in err and "model.json" in err and "mlp-tanh" in err, err


def test_model_json_supplies_the_arch_and_gives_the_tanh_numbers(tmp_path, capsys):
    model, path = _trained_run(tmp_path)
    out = tmp_path / "r.json"
    rc, _, err = run_cli(["--model", path, *SMALL, "--seed", "2", "--r1", "exact", "--out", str(out)], capsys)
    assert rc == 0, err
    rc2, _, _ = run_cli(["--model", path, "--arch", "mlp-tanh", *SMALL, "--seed", "2", "--json"], capsys)
    assert rc2 == 0  # the same builder named explicitly agrees
    record = json.loads(out.read_text())
    X = torch.tensor(__import__("sklearn.datasets").datasets.load_digits().data / 16.0, dtype=torch.float32)
    y = torch.tensor(__import__("sklearn.datasets").datasets.load_digits().target)
    idx = torch.tensor(record["per_sample"]["indices"])
    reference = estimate_regularizers(model, X, y, SymmetricBeta(1.0), indices=idx, r1="exact", num_probes=4)
    np.testing.assert_allclose(record["per_sample"]["R13"], reference["R13"].numpy(), rtol=1e-5)
    (tmp_path / "run" / "model.json").unlink()
    rc, _, err = run_cli(["--model", path, *SMALL], capsys)
    assert rc == 2 and "--arch" in err and "model.json" in err


def test_a_train_mode_batchnorm_model_gets_the_promised_warning(tmp_path, capsys):
    """The README promises a train-mode warning; estimate used to call model.eval() silently."""
    net = build_model(
        "mlp", 64, 10, "tanh", hidden=(8,), seed=0, options=LayerOptions(batchnorm=True)
    ).train()
    path = tmp_path / "bn.ts"
    torch.jit.save(torch.jit.script(net), path)
    rc, out, err = run_cli(["--model", str(path), *SMALL], capsys)
    assert rc == 0 and "TrainModeWarning" in err and "BatchNorm1d" in err and "eval mode" in err, err


def test_the_summary_table_shows_r4(saved, tmp_path, capsys):
    out = tmp_path / "r.json"
    rc, printed, _ = run_cli(
        ["--model", saved["state"], "--arch", "mlp-tanh", "--hidden", "8", *SMALL, "--out", str(out)], capsys
    )
    assert rc == 0 and re.search(r"^R4 ", printed, re.M)
    record = json.loads(out.read_text())
    assert record["summary"]["R4"]["exact"] is True
    np.testing.assert_allclose(
        record["summary"]["R4"]["mean"], np.mean(record["per_sample"]["R4"]), rtol=1e-12
    )


def _npz(tmp_path, name, **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return str(path)


DATA_CASES = {
    "corrupt": (
        lambda t: (t / "c.npz").write_bytes(b"PK\x03\x04garbage") and str(t / "c.npz"),
        [],
        "not an .npz archive",
    ),
    "text y": (
        lambda t: _npz(t, "s.npz", X=np.ones((6, 64)), y=np.array(["a", "b"] * 3)),
        [],
        "array y has dtype <U1 (text)",
    ),
    "overflow": (
        lambda t: _npz(t, "o.npz", X=np.full((6, 64), 1e39), y=np.arange(6)),
        [],
        "array X has values up to 1e+39, beyond the largest torch.float32",
    ),
    "features": (
        lambda t: _npz(t, "f.npz", X=np.ones((6, 10)), y=np.arange(6)),
        [],
        "X has samples of shape (10,), but the network in",
    ),
    "num-classes": (lambda t: "digits", ["--num-classes", "3"], "--num-classes 3, but the network in"),
    "label 12": (
        lambda t: _npz(t, "b.npz", X=np.ones((6, 64)), y=np.array([0, 1, 2, 12, 3, 4])),
        [],
        "y[3] = 12 but the model has 10 outputs",
    ),
}


@pytest.mark.parametrize("case", DATA_CASES)
def test_data_problems_get_one_line_naming_the_file_and_array(saved, tmp_path, case, capsys):
    make, extra, message = DATA_CASES[case]
    data = make(tmp_path)
    argv = ["--model", saved["state"], "--arch", "mlp-tanh", "--hidden", "8", "--data", data, "--alpha", "1"]
    rc, _, err = run_cli([*argv, "--num-probes", "2", *extra], capsys)
    assert rc == 2 and message in err, err
    assert data in err or case == "num-classes"
    assert err.count("\n") == 1 and "state_dict" not in err and "size mismatch" not in err, err
