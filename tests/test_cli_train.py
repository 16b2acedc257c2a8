"""``mixtheory train``: options and help, --out checked before training, resume, and a saved model
that ``mixtheory estimate --model DIR/model.pt --arch NAME`` reads."""

from __future__ import annotations

import argparse
import csv
import json

import pytest

from mixtheory.cli import estimate
from mixtheory.cli import train as train_cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mixtheory")
    sub = parser.add_subparsers(dest="command", required=True)
    train_cli.add_parser(sub)
    estimate.add_parser(sub)
    return parser


def _run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    return args.func(args)


def _train_args(out, *extra: str) -> list[str]:
    return [
        "train",
        "--data",
        "digits",
        "--num-samples",
        "200",
        "--epochs",
        "2",
        "--batch-size",
        "50",
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]


def test_every_option_has_help():
    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for action in sub.choices["train"]._actions:
        assert action.help, action.dest


@pytest.mark.slow
def test_train_records_and_saves_a_model_estimate_reads(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        _run(
            _train_args(
                out,
                "--objective",
                "regmixup",
                "--record",
                "r,el2n,forgetting,accuracy",
                "--record-samples",
                "16",
            )
        )
        == 0
    )
    spec = json.loads((out / "model.json").read_text())
    assert spec["arch"] == "mlp-tanh" and spec["num_classes"] == 10
    with (out / "regularizers.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 * 16 and {"R1", "R2", "R3", "R13", "R13_se"} <= set(rows[0])
    assert (out / "forgetting.npz").exists() and (out / "provenance.json").exists()
    assert (
        _run(
            [
                "estimate",
                "--model",
                str(out / "model.pt"),
                "--arch",
                spec["arch"],
                "--data",
                "digits",
                "--alpha",
                "1",
                "--samples",
                "10",
                "--json",
            ]
        )
        == 0
    )
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["num_classes"] == 10 and "R13" in record["summary"]


def test_out_is_checked_before_training(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert _run(_train_args(tmp_path / "file")) == 2
    assert "not a directory" in capsys.readouterr().err
    assert _run(_train_args(tmp_path / "nothing", "--resume")) == 2
    assert "holds no checkpoint.pt" in capsys.readouterr().err


def test_resume_and_refusal_to_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    assert _run(_train_args(out)) == 0
    assert _run(_train_args(out)) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert _run(_train_args(out, "--resume")) == 0  # already complete: rewrites the outputs


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--objective", "cutmixup"], "invalid choice: 'cutmixup'"),
        (["--alpha", "-1"], "expected a finite number > 0"),
        (["--epochs", "0"], "expected a positive integer"),
    ],
    ids=["unknown-objective", "negative-alpha", "zero-epochs"],
)
def test_bad_options_exit_with_usage(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(_train_args(tmp_path / "x", *argv))
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_values_get_one_line_errors(tmp_path, capsys):
    assert _run(_train_args(tmp_path / "a", "--record", "r,loss")) == 2
    assert "unknown recorder 'loss'" in capsys.readouterr().err
    assert _run(_train_args(tmp_path / "b", "--data", "nowhere.npz")) == 2
    assert "neither a bundled data set" in capsys.readouterr().err
    assert _run(_train_args(tmp_path / "c", "--arch", "transformer")) == 2
    assert "unknown architecture" in capsys.readouterr().err


def test_bad_training_settings_are_refused_before_any_work(tmp_path, capsys):
    out = tmp_path / "run"
    assert _run(_train_args(out, "--weight-decay", "-0.1")) == 2
    assert "weight_decay must be >= 0" in capsys.readouterr().err
    assert _run(_train_args(out, "--optimizer", "adamw", "--nesterov")) == 2
    assert "nesterov=True needs optimizer='sgd'" in capsys.readouterr().err
    assert not out.exists()
