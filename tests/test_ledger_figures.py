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
            assert "quick" in info.expected_from_figure, cid


def _ib_method(norm: float, growth: float, gap: float, drop: float, minimiser: dict | None = None) -> dict:
    """One method's entry of implicit-bias-linear's headline (the quick run's measurements, rounded)."""
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


COMMITTED = Path(__file__).resolve().parents[1] / "figures" / "reproduce"
RULED = [cid for cid in FIGURE_ENTRIES if ledger.METADATA[cid].decide is not None]


def _store_rows(results: Path, figure: str, rows: list[dict[str, Any]], mode: str, like: Path) -> Path:
    """A figure result in the runner's format from ``rows`` (CSV and JSON; the headline computed by the
    figure itself), with the configuration of the committed JSON ``like``."""
    from mixtheory.reproduce import get_figure
    from mixtheory.reproduce._runner import write_rows

    fig = get_figure(figure)
    rows = [{**r, "mode": mode} for r in rows]
    path = ledger.figures.result_path(figure, results)
    write_rows(path.with_suffix(".csv"), rows)
    config = json.loads(like.read_text(encoding="utf-8"))["configuration"]
    headline = fig.headline(rows)
    return write_provenance(
        path,
        seeds=sorted({int(r["seed"]) for r in rows}),
        device="cpu",
        wall_time_s=1.0,
        data=f"fabricated {figure} data",
        figure=figure,
        claims=[],
        mode=mode,
        configuration=config,
        headline=headline,
        checks={},
    )


def _reseeded(rows: list[dict[str, Any]], seeds: int, shift, noise: float) -> list[dict[str, Any]]:
    """``seeds`` copies of seed 0's rows, each value moved by ``shift(row)`` and a seeded N(0, noise²)
    per (seed, unit) so that paired differences vary across seeds."""
    import numpy as np

    base = [r for r in rows if int(r["seed"]) == 0]
    out = []
    for k in range(seeds):
        rng = np.random.default_rng(k)
        offsets: dict[str, float] = {}
        for r in base:
            o = offsets.setdefault(str(r["unit"]), float(rng.normal(0, noise)))
            out.append({**r, "seed": k, "value": float(r["value"]) + shift(r) + o})
    return out


@pytest.mark.parametrize("claim_id", RULED)
def test_committed_results_decide_every_rule_with_its_power(claim_id: str):
    claim = ledger.decide_from_results(ledger.get_claim(claim_id), COMMITTED)
    assert claim.figure_result is not None, claim.evidence.text
    assert claim.evidence.kind == "experiment" and claim.verdict in ledger.VERDICTS
    tests = claim.evidence.numbers["test"]
    for record in tests.values():
        for key in ("rule", "level", "estimate", "ci_two_sided", "n_seeds", "df", "mde_80"):
            assert key in record, (claim_id, key)
    info = ledger.METADATA[claim_id]
    scale = claim.figure_result["scale"]
    if scale in info.expected_from_figure:  # the record in the code matches the committed results
        assert claim.verdict == info.expected_from_figure[scale], (claim_id, claim.evidence.text)
    if info.stochastic:
        assert ledger.expected_verdict(claim) is None  # sampled: a rerun may move it; never pinned
    if claim.figure_result["scale"] == "quick" and ledger.METADATA[claim_id].stochastic:
        # the smoke test decides only where its power analysis says it can
        for record in tests.values():
            if record["verdict"] != "inconclusive":
                assert record["mde_80"] <= record["delta"], (claim_id, record)


def _flip(tmp_path: Path, claim_id: str, figure: str, mode: str, shift, noise: float, seeds: int = 10) -> str:
    from mixtheory.reproduce._runner import read_rows

    stem = figure.replace("-", "_")
    rows = read_rows(COMMITTED / f"{stem}.csv")
    _store_rows(tmp_path, figure, _reseeded(rows, seeds, shift, noise), mode, COMMITTED / f"{stem}.json")
    return ledger.decide_from_results(ledger.get_claim(claim_id), tmp_path).verdict


def _pool_drop(size: float):
    return lambda r: (
        -size if r["metric"] == "test_accuracy" and float(r["pool_eta"]) == 0.05 and r["epoch"] else 0.0
    )


def test_eta_pool_rule_holds_fails_and_stays_inconclusive_when_underpowered(tmp_path: Path):
    assert (
        _flip(tmp_path / "a", "seed000-eta-pool", "hard-pool-sweep", "standard", _pool_drop(0.05), 0.004)
        == "holds"
    )
    assert (
        _flip(tmp_path / "b", "seed000-eta-pool", "hard-pool-sweep", "standard", _pool_drop(0.0), 0.002)
        == "fails"
    )
    # two seeds, a large drop: the quick scale cannot detect 0.01, so it decides nothing
    assert _flip(
        tmp_path / "c", "seed000-eta-pool", "hard-pool-sweep", "quick", _pool_drop(0.05), 0.02, 2
    ) == ("inconclusive")


def test_sine_rule_reads_paired_seeds(tmp_path: Path):
    def gain(size: float):
        return lambda r: size if r["unit"] == "sine" and r["epoch"] else 0.0

    cid = "seed000-sine-scheduler-replicates"
    assert _flip(tmp_path / "a", cid, "lambda-schedules", "standard", gain(0.02), 0.002) == "holds"
    assert _flip(tmp_path / "b", cid, "lambda-schedules", "standard", gain(-0.02), 0.002) == "fails"


def _store(
    results: Path, figure: str, headline: dict[str, Any], mode: str = "quick", checks: bool = True
) -> Path:
    """A JSON in the runner's format (:func:`mixtheory.reproduce.run_figure`'s provenance fields);
    ``checks``: run the figure's own checks on the headline (which also proves it has their keys)."""
    checks = FIGURES[figure].checks(headline) if checks and figure in FIGURES else {}
    return write_provenance(
        ledger.figures.result_path(figure, results),
        seeds=[0, 1, 2],
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


@pytest.mark.parametrize(("mixup_like_gd", "verdict"), [(False, "fails"), (True, "holds")])
def test_implicit_bias_rule(tmp_path: Path, mixup_like_gd: bool, verdict: str):
    path = _store(tmp_path, "implicit-bias-linear", _implicit_bias(mixup_like_gd))
    claim = ledger.decide_from_results(ledger.get_claim("seed002-linear-implicit-bias"), tmp_path)
    assert claim.verdict == verdict and claim.evidence.kind == "experiment"
    assert claim.figure_result["path"] == path.as_posix() and claim.figure_result["scale"] == "quick"
    text = claim.evidence.text
    assert (
        "quick scale" in text and "fabricated implicit-bias-linear data" in text and path.as_posix() in text
    )
    assert "mde_80" in json.dumps(claim.evidence.numbers["test"])
    if verdict == "fails":
        assert ledger.expected_verdict(claim) == verdict  # deterministic: pinned


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


def test_every_registered_figure_names_ledger_claims_only():
    from mixtheory.ledger.figures import unknown_figure_claims
    from mixtheory.reproduce import FIGURES, Figure, register

    assert unknown_figure_claims() == {}
    fig = next(iter(FIGURES.values()))
    bogus = register(Figure(**{**fig.__dict__, "name": "bogus-figure", "claims": ("no-such-claim",)}))
    try:
        assert unknown_figure_claims() == {"bogus-figure": ["no-such-claim"]}
    finally:
        FIGURES.pop(bogus.name)
