"""One verification protocol: checks, proofs, ledger claims and figures all report
:class:`mixtheory.verification.Result`, and ``check``, ``verify`` and ``reproduce`` print and store
records of one schema."""

from __future__ import annotations

import json
import math
import pickle

import jsonschema
import pytest
from _schema import DOCUMENT, RECORD, assert_records, load_document

from mixtheory import ledger, symbolic
from mixtheory.checks import CHECKS, CheckResult
from mixtheory.cli import main
from mixtheory.ledger.figures import DEFAULT_RESULTS, load_figure_result
from mixtheory.reproduce import FIGURES, figure_result, figure_verdict, run_figure
from mixtheory.verification import (
    DOCUMENT_SCHEMA,
    LEDGER_VERDICTS,
    RESULT_SCHEMA,
    SCHEMA_ID,
    VERDICTS,
    Evidence,
    Provenance,
    Result,
    check_results_file,
    dumps,
    format_row,
    format_table,
    write_results,
)


def test_schemas_are_valid_and_reject_a_broken_record():
    jsonschema.Draft202012Validator.check_schema(RESULT_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(DOCUMENT_SCHEMA)
    good = Result("x", "holds", Evidence("arithmetic", "1 + 1 = 2."), subject="claim").to_dict()
    assert_records([good])
    for broken in (
        {**good, "verdict": "maybe"},
        {**good, "subject": "rumour"},
        {k: v for k, v in good.items() if k != "provenance"},
        {**good, "evidence": {"kind": "arithmetic", "text": "no numbers"}},
    ):
        assert list(RECORD.iter_errors(broken))


def test_the_vocabulary_is_the_ledgers_plus_a_checks():
    assert ledger.VERDICTS == LEDGER_VERDICTS == VERDICTS[: len(LEDGER_VERDICTS)]
    assert set(VERDICTS) - set(LEDGER_VERDICTS) == {"reported", "skipped"}
    with pytest.raises(ValueError, match="verdict must be one of"):
        Result("x", "PASS", Evidence("relative", ""), subject="check")
    with pytest.raises(ValueError, match="subject must be one of"):
        Result("x", "holds", Evidence("relative", ""), subject="rumour")


@pytest.mark.parametrize(
    "row,verdict",
    [
        (CheckResult("a", 1.0, 1.0, 0.0, 1e-12, "relative", True), "holds"),
        (CheckResult("b", 1.0, 2.0, 0.5, 1e-12, "relative", False), "fails"),
        (CheckResult("c", 1.0, 2.0, 0.5, math.inf, "info", True), "reported"),
        (CheckResult("d", 1.0, 2.0, 0.5, math.inf, "info", False), "fails"),
        (next(iter(CHECKS.values())).skipped_row("not for this law"), "skipped"),
    ],
)
def test_a_check_row_maps_onto_the_one_vocabulary(row, verdict):
    result = row.to_result()
    assert isinstance(result, Result) and result.subject == "check" and result.record is row
    assert result.verdict == row.verdict == verdict
    assert result.passed == row.passed  # pass/fail survives the mapping (the exit code reads it)
    assert (result.id, result.closed_form, result.kind) == (row.name, row.closed_form, row.kind)
    record = result.to_dict()
    assert_records([record])
    assert {k: record[k] for k in ("name", "kind", "passed", "detail")} == {
        "name": row.name,
        "kind": row.kind,
        "passed": row.passed,
        "detail": row.detail,
    }
    assert record["tolerance"] == (None if math.isinf(row.tolerance) else row.tolerance)


def test_every_registry_returns_the_one_type(tmp_path):
    proof = symbolic.get_proof("beta-variance")
    claim = ledger.get_claim("seed001-w-shaped-moments")
    stored = load_figure_result("mixing-law-design", DEFAULT_RESULTS)
    run = run_figure(FIGURES["mixing-law-design"], "quick", tmp_path / "r", progress=False)
    for result, subject in ((proof, "proof"), (claim, "claim"), (stored, "figure"), (run, "figure")):
        assert type(result) is Result and result.subject == subject, (subject, type(result))
        assert_records([result.to_dict()])
    assert proof.steps == proof.record.steps and proof.evidence.kind == "proof"
    assert claim.condition is claim.record.condition and claim.source == "001_485ae1d53d6bcb3f.txt"
    assert stored.mode == "quick" and stored.provenance.commit == stored.commit
    assert stored.verdict == figure_verdict(stored.checks)
    assert run.provenance is not None and run.provenance.seeds == [0]
    assert run.verdict == ("holds" if all(run.checks.values()) else "fails")
    assert run.evidence.numbers["headline"] == run.headline and run.paths["csv"].is_file()


def test_figure_verdict():
    assert figure_verdict({}) == "reported"
    assert figure_verdict({"a": True, "b": True}) == "holds"
    assert figure_verdict({"a": True, "b": False}) == "fails"
    r = figure_result("f", {"text": "measured 3."}, {"a": False}, None)
    assert (r.verdict, r.one_line, r.evidence.kind) == ("fails", "measured 3.", "figure")


def test_the_sub_record_reads_through_and_a_missing_name_is_named():
    result = CheckResult("row", 1.0, 1.0, 0.0, 1.0, "relative", True, "why").to_result()
    assert result.detail == "why" and result.tolerance == 1.0
    with pytest.raises(AttributeError, match="'row' \\(check\\) has no 'nonsense'"):
        _ = result.nonsense
    bare = Result("x", "holds", Evidence("proof", "t"), subject="proof")
    with pytest.raises(AttributeError, match="no 'steps'"):
        _ = bare.steps
    with pytest.raises(AttributeError):  # frozen
        result.verdict = "fails"  # type: ignore[misc]


def test_a_result_survives_pickling_as_verify_jobs_hand_them_back():
    claim = ledger.get_claim("seed001-w-shaped-moments").stamped(Provenance.current(seeds=[0]))
    again = pickle.loads(pickle.dumps(claim))
    assert again == claim and again.to_dict() == claim.to_dict() and again.decided_by == claim.decided_by


def test_claims_keep_their_validation_and_replace_validates_again():
    ev = ledger.Evidence("arithmetic", "x")
    c = ledger.Claim("x", "s", "t", "holds", ev)
    assert type(c) is Result and c.subject == "claim" and c.condition is None
    with pytest.raises(ValueError, match="condition"):
        ledger.replace_claim(c, verdict="conditional")
    assert ledger.replace_claim(c, verdict="conditional", condition="n > 2").condition == "n > 2"
    with pytest.raises(TypeError, match="unknown field"):
        ledger.replace_claim(c, colour="red")


def test_provenance_is_the_packages_record():
    p = Provenance.current(seeds=[3])
    assert p.seeds == [3] and set(p.versions) == {"mixtheory", "numpy", "python", "torch"}
    assert p.created and p.created.endswith("+00:00")
    assert Provenance.from_record(p.to_dict()) == p


def test_the_one_printer():
    rows = [
        Result("short", "holds", Evidence("proof", "First. Second."), subject="proof"),
        Result("a-longer-id", "fails", Evidence("relative", "x" * 300), subject="check"),
    ]
    table = format_table(rows).splitlines()
    assert table[0].split() == ["id", "verdict", "evidence"]
    assert table[2].split() == ["short", "holds", "First."]
    assert table[3].startswith("a-longer-id  fails") and table[3].endswith("…")
    assert format_row(rows[0], width=8) == "short     holds         First."


def test_the_one_writer_stores_a_document_and_never_overwrites_a_foreign_file(tmp_path):
    rows = [CheckResult("a", 1.0, 1.0, 0.0, 1e-12, "relative", True).to_result()]
    path = write_results(tmp_path / "sub" / "r.json", "check", rows, Provenance.current(), preset="quick")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert not list(DOCUMENT.iter_errors(doc)) and doc["schema"] == SCHEMA_ID and doc["preset"] == "quick"
    write_results(path, "check", rows)  # its own document: rewritten
    foreign = tmp_path / "mine.json"
    foreign.write_text('{"mine": true}', encoding="utf-8")
    with pytest.raises(ValueError, match="--save .*mine.json exists and was not written by mixtheory"):
        check_results_file(foreign)
    with pytest.raises(ValueError, match="not written by mixtheory"):
        write_results(foreign, "check", rows)
    assert foreign.read_text(encoding="utf-8") == '{"mine": true}'
    assert json.loads(dumps({"rows": rows}))["rows"] == [rows[0].to_dict()]


def test_verify_prints_and_stores_the_schema(tmp_path, capsys):
    argv = ["verify", "--select", "moments", "--json", "--jobs", "1", "--no-results"]
    assert main([*argv, "--report", str(tmp_path / "r.md"), "--save", str(tmp_path / "v.json")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert_records(printed)
    assert {r["subject"] for r in printed} == {"proof", "claim"}
    assert load_document(tmp_path / "v.json", "verify")["results"] == printed


def test_reproduce_prints_and_stores_the_schema(tmp_path, capsys):
    argv = ["reproduce", "mixing-law-design", "--quick", "--out", str(tmp_path / "r"), "--json"]
    assert main([*argv, "--save", str(tmp_path / "f.json")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["mode"] == "quick" and [r["id"] for r in printed["figures"]] == ["mixing-law-design"]
    assert_records(printed["figures"])
    stored = load_document(tmp_path / "f.json", "reproduce")["results"]
    assert [(r["id"], r["verdict"]) for r in stored] == [(r["id"], r["verdict"]) for r in printed["figures"]]


def test_save_refuses_a_foreign_file_before_any_work(tmp_path, capsys):
    foreign = tmp_path / "mine.json"
    foreign.write_text("mine", encoding="utf-8")
    assert main(["check", "--quick", "--save", str(foreign)]) == 2
    assert "--save" in capsys.readouterr().err
    argv = ["verify", "--select", "moments", "--save", str(foreign), "--report", str(tmp_path / "r.md")]
    assert main(argv) == 2
    assert "--save" in capsys.readouterr().err
    assert foreign.read_text(encoding="utf-8") == "mine"
