"""The standard scale: its configurations, the CLI flag, and how stored results of several scales
are read (the largest decides)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mixtheory import ledger
from mixtheory.reproduce import FIGURES

ROOT = Path(__file__).resolve().parents[1]
STANDARD = {name: f for name, f in FIGURES.items() if f.standard is not None}
#: figures whose readout is test accuracy: the power analysis asks for ≥ 2,000 test points
ACCURACY = {"hard-pool-sweep", "lambda-schedules", "mixupe-vs-mixup", "alpha-schedules"}
SIZES = {"mnist": 5000, "digits": 1797}


def test_standard_configs_have_ten_seeds_and_large_test_sets():
    assert ACCURACY <= set(STANDARD)
    for name, figure in STANDARD.items():
        cfg = figure.config("standard")
        assert cfg.seeds >= 10 and not cfg.requires, name
        assert set(figure.claims), f"{name} has a standard scale but decides no claim"
        if name in ACCURACY:
            params = cfg.params.get("image", cfg.params)
            total = params.get("num_samples") or SIZES[params.get("data", "mnist")]
            assert round(params.get("test_fraction", 0.25) * total) >= 2000, name


def test_figures_without_a_standard_scale_say_which_have_one():
    figure = FIGURES["mixing-law-design"]
    assert not figure.has("standard")
    with pytest.raises(ValueError, match="no --standard configuration.*hard-pool-sweep"):
        figure.config("standard")


def test_cli_standard_flag_and_list(capsys):
    import argparse

    from mixtheory.cli import reproduce as cli

    parser = argparse.ArgumentParser(prog="mixtheory")
    cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["reproduce", "--standard", "--list"])
    assert args.mode == "standard" and args.func(args) == 0
    listed = capsys.readouterr().out
    assert listed.count("--standard:") == len(STANDARD)
    args = parser.parse_args(["reproduce", "mixing-law-design", "--standard"])
    with pytest.raises(ValueError, match="no --standard configuration"):
        args.func(args)


def test_the_largest_stored_scale_decides(tmp_path: Path):
    committed = ROOT / "figures" / "reproduce"
    for ext in ("json", "csv"):
        shutil.copy(committed / f"lambda_schedules.{ext}", tmp_path / f"lambda_schedules.{ext}")
    (tmp_path / "standard").mkdir()
    record = json.loads((committed / "lambda_schedules.json").read_text(encoding="utf-8"))
    record["mode"] = "standard"
    (tmp_path / "standard" / "lambda_schedules.json").write_text(json.dumps(record), encoding="utf-8")
    shutil.copy(committed / "lambda_schedules.csv", tmp_path / "standard" / "lambda_schedules.csv")
    assert ledger.load_figure_result("lambda-schedules", tmp_path).mode == "standard"
    assert ledger.load_figure_result("lambda-schedules", tmp_path, "quick").mode == "quick"
    claim = ledger.decide_from_results(ledger.get_claim("seed000-sine-scheduler-replicates"), tmp_path)
    assert claim.figure_result["scale"] == "standard"
    assert claim.figure_result["path"].endswith("standard/lambda_schedules.json")
