"""`mixtheory verify`: the table, the JSON, the markdown report and the exit code."""

from __future__ import annotations

import argparse
import json

import pytest

from mixtheory import ledger, symbolic
from mixtheory.cli import verify as _cli_verify


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mixtheory")
    sub = parser.add_subparsers(dest="command", required=True)
    _cli_verify.add_parser(sub)
    return parser


def _run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    assert args.func is _cli_verify.run
    return args.func(args)


def test_defaults():
    args = _parser().parse_args(["verify"])
    assert args.json is False and args.select is None
    assert str(args.report) == "results/verify_report.md"
    # None: the committed results of the checkout (ledger.DEFAULT_RESULTS), at the largest scale stored
    assert args.results is None and args.scale == "any" and not args.no_results


def test_table_and_report_for_a_selection(tmp_path, capsys):
    report = tmp_path / "sub" / "report.md"
    assert _run(["verify", "--select", "seed001-r", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    for cid in (
        "seed001-r1-trace-bound",
        "seed001-r2-trace-bound",
        "seed001-r3-trace-bound",
        "seed001-ratio",
    ):
        assert cid in out
    assert "seed000-r1-bound" not in out
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# mixtheory verify")
    assert "| claim | source | verdict | evidence |" in text
    assert '<a id="seed001-r2-trace-bound"></a>' in text
    assert "**Corrected:**" in text and "```json" in text
    # a statement containing "|" must not break the summary table
    row = next(line for line in text.splitlines() if line.startswith("| [seed001-r2-trace-bound]"))
    assert row.count(" | ") == 3


def test_json_lists_the_required_keys(tmp_path, capsys):
    assert _run(["verify", "--json", "--select", "moments", "--report", str(tmp_path / "r.md")]) == 0
    records = json.loads(capsys.readouterr().out)
    ids = {r["id"] for r in records}
    assert {"truncated-beta-moments", "arcsine-moments", "seed001-w-shaped-moments"} <= ids
    for r in records:
        assert {"id", "source", "statement", "verdict", "evidence"} <= set(r)
    claim = next(r for r in records if r["id"] == "seed001-truncated-arcsine-moments")
    assert claim["verdict"] == "fails" and claim["source"] == "001_485ae1d53d6bcb3f.txt"
    assert claim["evidence"]["numbers"]["claimed"] == [0.75, 1 / 32]


def test_unknown_selection_is_an_error(tmp_path, capsys):
    assert _run(["verify", "--select", "no-such-id", "--report", str(tmp_path / "r.md")]) == 2
    assert "no proof or claim" in capsys.readouterr().err


def test_exit_code_is_one_when_a_proof_fails_or_a_verdict_changes(tmp_path, monkeypatch, capsys):
    bad = symbolic.proof_result(symbolic.Proof("broken", "1 = 2", ["FAILED: 1 = 2"], "fails"))
    changed = ledger.Claim(
        "seed000-sample-count", "000_733ca9e95aa63fd6.txt", "s", "holds", ledger.Evidence("arithmetic", "t")
    )
    monkeypatch.setattr(_cli_verify, "collect", lambda select=None, jobs=1: ([bad], []))
    assert _run(["verify", "--report", str(tmp_path / "a.md")]) == 1
    assert "proof broken: fails" in capsys.readouterr().err
    monkeypatch.setattr(_cli_verify, "collect", lambda select=None, jobs=1: ([], [changed]))
    assert _run(["verify", "--report", str(tmp_path / "b.md")]) == 1
    assert "expected fails" in capsys.readouterr().err
    assert "PROBLEMS" in (tmp_path / "b.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_full_verify_passes_and_reports_every_entry(tmp_path, capsys):
    report = tmp_path / "verify_report.md"
    # stored figure results are read in tests/test_ledger_figures.py; here none, so the run is hermetic
    (tmp_path / "no-results").mkdir()  # an empty results directory (a missing one is an error)
    assert _run(["verify", "--report", str(report), "--results", str(tmp_path / "no-results")]) == 0
    out = capsys.readouterr().out
    text = report.read_text(encoding="utf-8")
    for pid in symbolic.PROOFS:
        assert pid in out and f'<a id="proof-{pid}"></a>' in text
    for cid in ledger.CLAIMS:
        assert cid in out and f'<a id="{cid}"></a>' in text
    assert "status: OK" in text


def test_parallel_collection_returns_the_sequential_results_in_order(monkeypatch):
    monkeypatch.setattr(_cli_verify, "_MIN_PARALLEL_ITEMS", 1)  # force two processes on a small selection
    proofs_1, claims_1 = _cli_verify.collect("seed004", jobs=1)
    monkeypatch.setattr(ledger.claims, "_CACHE", {})  # the forked workers must evaluate, not inherit
    proofs_2, claims_2 = _cli_verify.collect("seed004", jobs=2)
    assert proofs_1 == proofs_2 == []
    expected_ids = [c for c in ledger.CLAIMS if "seed004" in c]
    assert [c.id for c in claims_2] == [c.id for c in claims_1] == expected_ids
    assert [c.to_dict() for c in claims_2] == [c.to_dict() for c in claims_1]
    groups = _cli_verify._groups([("claim", c.id) for c in claims_1])
    assert [len(g) for g in groups] == [len(claims_1) - 1, 1]  # park2022 entries, one observation


def test_jobs_option_defaults_to_two():
    assert _parser().parse_args(["verify"]).jobs == 2
