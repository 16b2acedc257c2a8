"""Ledger entries decided by reproduced figures: the links both ways, and reading stored results."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mixtheory import ledger
from mixtheory.cli import verify as _cli_verify
from mixtheory.provenance import write_provenance
from mixtheory.reproduce import FIGURES, run_figure

FIGURE_ENTRIES = [cid for cid, info in ledger.METADATA.items() if info.figure is not None]


def test_every_untested_entry_names_its_figure_or_why_none():
    for cid, info in ledger.METADATA.items():
        if info.expected == "untested":
            assert (info.figure is None) != (info.no_figure is None), cid
            assert info.decided_by, cid


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_claims_are_ledger_ids(name: str):
    assert set(FIGURES[name].claims) <= set(ledger.METADATA)


@pytest.mark.parametrize("claim_id", FIGURE_ENTRIES)
def test_entry_naming_a_figure_is_listed_by_it(claim_id: str):
    figure = ledger.METADATA[claim_id].figure
    assert figure in FIGURES, f"{claim_id} names figure {figure!r}, which is not registered"
    assert claim_id in FIGURES[figure].claims


def test_rules_record_their_quick_verdict():
    for cid in FIGURE_ENTRIES:
        info = ledger.METADATA[cid]
        if info.decide is not None:
            assert info.expected == "untested" and "quick" in info.expected_from_figure, cid


# Headlines in each figure's format (keys as its ``headline`` writes them, checked by calling the
# figure's ``checks``). Values: the quick runs' measurements as reported by the figures' authors and
# in their stored JSONs (implicit-bias-linear: GD ‖w‖ ×1.56 per decade, mixup angle gap 0.15–0.17 rad;
# hard-pool-sweep: accuracy changes ≤ 0.007 at η = 0.05, 2 seeds; mixupe-vs-mixup: digits, 3 seeds;
# forgetting-statistics: MNIST subset, 3 seeds), rounded.
def _ib_method(norm: float, growth: float, gap: float, drop: float, minimiser: dict | None = None) -> dict:
    out = {
        "final_iteration": 20_000,
        "final_norm": norm,
        "norm_growth_last_decade": growth,
        "final_angle_gap": gap,
        "final_angle_gap_std": gap / 10,
        "angle_gap_drop_last_decade": drop,
        "final_margin_gap": gap / 2,
    }
    return {**out, **(minimiser or {})}


def _implicit_bias(mixup_like_gd: bool) -> dict[str, Any]:
    gd = _ib_method(9.0, 1.56, 0.02, 1.4)
    if mixup_like_gd:
        mix = _ib_method(8.5, 1.5, 0.021, 1.35, {"minimiser_norm": 40.0, "minimiser_angle_gap": 0.02})
    else:
        mix = _ib_method(2.1, 1.0, 0.16, 1.0, {"minimiser_norm": 2.1, "minimiser_angle_gap": 0.16})
    return {"methods": {"GD": gd, "mixup α=1": mix}, "text": "fabricated"}


def _heatmaps(hard_wins: bool) -> dict[str, Any]:
    def cells(easy: float, hard: float) -> dict[str, Any]:
        out: dict[str, Any] = {
            f"{lam:g}": {
                "easy_x_easy": easy,
                "hard_x_hard": hard,
                "ratio_hard_over_easy": hard / easy,
                "diagonal_spearman": 0.9,
            }
            for lam in (0.0, 0.1, 0.5)
        }
        return {**out, "lam0_variance_partner_over_lam_sample": 100.0}

    hard = 0.8 if hard_wins else 0.1
    return {
        "scores": {"EL2N": cells(0.2, hard), "GraNd": cells(0.3, hard)},
        "el2n_vs_grand_cell_spearman": {"0": 0.9, "0.1": 0.9, "0.5": 0.9},
        "hard_x_hard_above_easy_x_easy": hard_wins,
        "lam0_follows_partner": True,
        "text": "fabricated",
    }


def _pool(drop: float) -> dict[str, Any]:
    def acc(mean: float) -> dict[str, list[float]]:
        return {"best": [mean, 0.01], "last": [mean - 0.005, 0.01]}

    by_eta = {"1": acc(0.91), "0.5": acc(0.91 - drop / 2), "0.05": acc(0.91 - drop)}
    shrink = {"trace_ratio": 0.91, "R2_ratio": 0.88, "R13_ratio": 0.5}
    return {
        "accuracy": {"el2n": by_eta, "forgetting": by_eta},
        "drop_eta1_minus_smallest": {s: {"best": drop, "last": drop} for s in ("el2n", "forgetting")},
        "shrinkage_at_smallest_eta": {"el2n": shrink, "forgetting": shrink},
        "smallest_eta": 0.05,
        "accuracy_degrades_at_smallest_eta": drop > 0,
        "max_abs_accuracy_change": abs(drop),
        "trace_shrinks_least": True,
        "text": "fabricated",
    }


def _mixupe(mixupe_wins: bool) -> dict[str, Any]:
    losses = {"erm": (0.116, 0.199), "mixup": (0.229, 0.281), "mixupe": (0.227, 0.279)}
    errors = {"erm": [4.67, 1.89], "mixup": [5.5, 2.18], "mixupe": [6.0, 1.8]}
    if mixupe_wins:
        losses["mixupe"], errors["mixupe"] = (0.25, 0.15), [3.0, 1.0]
    return {
        "test_error_pct": {"iris": dict(errors), "digits": errors},
        "best_method": {"iris": "erm", "digits": min(errors, key=lambda m: errors[m][0])},
        "mixupe_best_on": int(mixupe_wins),
        "datasets": 2,
        "image_set": "digits",
        "final_losses": {m: {"train_loss": a, "test_loss": b} for m, (a, b) in losses.items()},
        "text": "fabricated",
    }


def _forgetting(symmetric: bool) -> dict[str, Any]:
    return {
        "asymmetry_index": [0.70, 0.11] if symmetric else [1.1, 0.05],
        "null_asymmetry_mean": [1.10, 0.02],
        "pair_spearman": [0.53, 0.09] if symmetric else [-0.1, 0.1],
        "below_null_every_seed": symmetric,
        "positive_pair_correlation_every_seed": symmetric,
        "bowker_rejects_every_seed": False,
        "text": "fabricated",
    }


# (entry, headline, verdict): the quick measurement first, then the opposite outcome
CASES = [
    ("seed002-linear-implicit-bias", _implicit_bias(False), "fails"),
    ("seed002-linear-implicit-bias", _implicit_bias(True), "holds"),
    ("seed000-hard-mix-hard", _heatmaps(True), "holds"),
    ("seed000-hard-mix-hard", _heatmaps(False), "fails"),
    ("seed000-eta-pool", _pool(-0.003), "fails"),
    ("seed000-eta-pool", _pool(0.1), "holds"),
    ("seed000-hard-pairing-cifar10", _pool(0.003), "fails"),
    ("seed000-hard-pairing-cifar10", _pool(0.1), "holds"),
    ("seed002-mixupe-generalization", _mixupe(False), "fails"),
    ("seed002-mixupe-generalization", _mixupe(True), "holds"),
    ("seed000-forgetting-symmetric", _forgetting(True), "holds"),
    ("seed000-forgetting-symmetric", _forgetting(False), "fails"),
]


def _store(
    results: Path, figure: str, headline: dict[str, Any], mode: str = "quick", checks: bool = True
) -> Path:
    """A JSON in the runner's format (:func:`mixtheory.reproduce.run_figure`'s provenance fields);
    ``checks``: run the figure's own checks on the headline (which also proves it has their keys)."""
    checks = FIGURES[figure].checks(headline) if checks and figure in FIGURES else {}
    return write_provenance(
        ledger.figures.result_path(figure, results),
        seeds=[0, 1],
        device="cpu",
        wall_time_s=1.0,
        data=f"fabricated {figure} data",
        figure=figure,
        claims=[],
        mode=mode,
        configuration={},
        headline=headline,
        checks={k: bool(v) for k, v in checks.items()},
    )


def test_every_rule_has_cases():
    ruled = {cid for cid in FIGURE_ENTRIES if ledger.METADATA[cid].decide is not None}
    assert ruled == {cid for cid, _, _ in CASES}


@pytest.mark.parametrize(("claim_id", "headline", "verdict"), CASES, ids=[f"{c}-{v}" for c, _, v in CASES])
def test_stored_result_decides_the_entry(tmp_path: Path, claim_id: str, headline: dict, verdict: str):
    info = ledger.METADATA[claim_id]
    path = _store(tmp_path, info.figure, headline)
    claim = ledger.decide_from_results(ledger.get_claim(claim_id), tmp_path)
    assert claim.verdict == verdict and claim.evidence.kind == "experiment"
    assert claim.figure_result["path"] == path.as_posix() and claim.figure_result["scale"] == "quick"
    text = claim.evidence.text
    assert "quick scale" in text and f"fabricated {info.figure} data" in text and path.as_posix() in text
    if verdict == info.expected_from_figure["quick"]:
        assert ledger.expected_verdict(claim) == verdict


def test_without_results_the_entry_names_the_command(tmp_path: Path):
    for cid in FIGURE_ENTRIES:
        claim = ledger.decide_from_results(ledger.get_claim(cid), tmp_path)
        if ledger.METADATA[cid].expected == "untested":
            assert claim.verdict == "untested" and claim.figure_result is None
            command = ledger.reproduce_command(ledger.METADATA[cid].figure)
            assert command in claim.evidence.text and command in claim.one_line
            assert ledger.expected_verdict(claim) == "untested"


def test_other_scale_stale_or_foreign_results_leave_the_entry_untested(tmp_path: Path):
    cid = "seed002-linear-implicit-bias"
    _store(tmp_path, "implicit-bias-linear", _implicit_bias(False), mode="full")
    claim = ledger.decide_from_results(ledger.get_claim(cid), tmp_path, "quick")
    assert claim.verdict == "untested" and "full scale" in claim.evidence.text
    decided = ledger.decide_from_results(ledger.get_claim(cid), tmp_path, "full")
    assert decided.verdict == "fails" and decided.figure_result["scale"] == "full"
    assert ledger.expected_verdict(decided) is None  # no verdict recorded for the full scale
    assert ledger.decide_from_results(ledger.get_claim(cid), tmp_path, "any").verdict == "fails"
    # a headline from an older version of the figure, without the keys the rule reads
    _store(tmp_path, "implicit-bias-linear", {"text": "old"}, checks=False)
    stale = ledger.decide_from_results(ledger.get_claim(cid), tmp_path)
    assert stale.verdict == "untested" and "KeyError" in stale.evidence.text
    assert ledger.expected_verdict(stale) == "untested"
    # a JSON of another figure under this stem is not read
    path = ledger.figures.result_path("implicit-bias-linear", tmp_path)
    path.write_text(json.dumps({"figure": "other", "headline": {}}), encoding="utf-8")
    assert ledger.load_figure_result("implicit-bias-linear", tmp_path) is None


def test_reads_a_real_run_of_the_cheapest_figure(tmp_path: Path):
    figure = FIGURES["mixing-law-design"]
    run = run_figure(figure, "quick", tmp_path, progress=False)
    result = ledger.load_figure_result(figure.name, tmp_path)
    assert result is not None and result.path == run.paths["json"]
    assert result.mode == "quick" and result.data == figure.quick.describe
    assert dict(result.headline) == json.loads(json.dumps(run.headline, default=str))
    assert result.checks == run.checks and result.seeds == (0,)
    assert result.commit is None or len(result.commit.split("+")[0]) == 40


def _verify(argv: list[str], capsys) -> tuple[int, list[dict[str, Any]]]:
    import argparse

    parser = argparse.ArgumentParser(prog="mixtheory")
    _cli_verify.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["verify", "--json", "--jobs", "1", *argv])
    code = args.func(args)
    captured = capsys.readouterr()
    print(captured.err, end="", file=sys.stderr)  # kept for the caller
    return code, json.loads(captured.out)


def test_verify_reads_the_results_directory(tmp_path: Path, capsys):
    results, report = tmp_path / "results", tmp_path / "r.md"
    path = _store(results, "implicit-bias-linear", _implicit_bias(False))
    argv = ["--select", "seed002-linear", "--report", str(report)]
    code, records = _verify([*argv, "--results", str(results)], capsys)
    assert code == 0
    (record,) = records
    assert record["verdict"] == "fails" and record["figure"] == "implicit-bias-linear"
    assert record["figure_result"]["path"] == path.as_posix() and record["figure_result"]["scale"] == "quick"
    text = report.read_text(encoding="utf-8")
    assert (
        "**Decided by figure:** `implicit-bias-linear` at **quick** scale" in text and path.as_posix() in text
    )
    code, records = _verify([*argv, "--results", str(results), "--no-results"], capsys)
    assert code == 0 and records[0]["verdict"] == "untested"
    (tmp_path / "empty").mkdir()
    code, records = _verify([*argv, "--results", str(tmp_path / "empty")], capsys)
    assert code == 0 and records[0]["verdict"] == "untested"
    assert "mixtheory reproduce implicit-bias-linear --quick" in records[0]["evidence"]["text"]


def test_verify_flags_a_figure_verdict_that_changed(tmp_path: Path, capsys):
    results = tmp_path / "results"
    _store(results, "implicit-bias-linear", _implicit_bias(True))  # quick run recorded as "fails"
    argv = ["--select", "seed002-linear", "--report", str(tmp_path / "r.md"), "--results", str(results)]
    code, records = _verify(argv, capsys)
    assert code == 1 and records[0]["verdict"] == "holds"
    assert "verdict holds at quick scale, expected fails" in capsys.readouterr().err
