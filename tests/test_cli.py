"""The command line: moments and check."""

from __future__ import annotations

import json

import pytest
from _schema import assert_records

from mixtheory import SymmetricBeta, WShaped
from mixtheory.cli import main


def test_moments_json(capsys):
    assert main(["moments", "--alpha", "0.5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    law = SymmetricBeta(0.5)
    assert out["theta_mean"] == law.theta_mean
    assert out["theta_var"] == law.theta_var
    assert out["gamma2"] == law.gamma2
    assert out["gamma2_over_theta_mean2"] == pytest.approx(law.gamma2 / law.theta_mean**2, rel=1e-15)


def test_moments_text_and_other_laws(capsys):
    assert main(["moments", "--alpha", "0.5", "--law", "w-shaped"]) == 0
    text = capsys.readouterr().out
    assert "WShaped(0.5)" in text and f"{WShaped(0.5).theta_var:.17g}" in text


@pytest.mark.parametrize(
    "argv,message",
    [
        (["moments", "--alpha", "0"], "alpha must be"),
        (["moments", "--alpha", "1", "--law", "cauchy"], "unknown law"),
    ],
)
def test_moments_bad_input_exits_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def _check_json(argv, capsys):
    code = main(["check", *argv, "--json"])
    captured = capsys.readouterr()
    assert captured.out, (code, captured.err[-2000:])
    report = json.loads(captured.out)
    failed = [c["name"] for c in report["checks"] if not c["passed"]]
    return code, report, failed


def test_check_quick_passes_every_row(capsys):
    """The quick variant (a few seconds on an idle machine): exits 0 and every row passes."""
    code, report, failed = _check_json(["--quick"], capsys)
    assert code == 0 and report["passed"], failed
    assert_records(report["checks"])  # the one result schema, shared with verify and reproduce
    assert {c["verdict"] for c in report["checks"]} <= {"holds", "reported"}
    assert {c["subject"] for c in report["checks"]} == {"check"}  # the runner yields the one result type
    assert all(c["id"] == c["name"] and c["provenance"]["seeds"] == [0] for c in report["checks"])
    names = " ".join(c["name"] for c in report["checks"])
    for needle in (
        "Theorem 1",
        "Lemma 2",
        "Completed square",
        "R13: structured",
        "cancellation",
        "sampled l_Q",
        "sampled mixup",
        "slope",
        "order",
        "R1 ≥ 0",
    ):
        assert needle in names


@pytest.mark.slow
def test_check_passes_on_digits(capsys):
    """The default suite on a small digits subset; exits 0 and every row passes."""
    code, report, failed = _check_json(["--samples", "80", "--draws", "100"], capsys)
    assert code == 0 and report["passed"], failed


@pytest.mark.slow
@pytest.mark.parametrize("samples", [20, 30, 50, 200])
def test_remainder_slope_at_several_sample_counts(samples, capsys):
    """The contraction scales follow the data: no sample count fails spuriously (30 and 50 did
    with fixed scales)."""
    code, report, failed = _check_json(["--samples", str(samples), "--only", "remainder-slope"], capsys)
    assert code == 0 and not failed, report["checks"]


def test_check_only_runs_one_check(capsys):
    code, report, failed = _check_json(["--quick", "--only", "moments"], capsys)
    assert code == 0 and not failed
    assert [c["name"][:2] for c in report["checks"]] == ["θ̄", "σ²", "γ²"]


def test_check_list(capsys):
    from mixtheory.checks import CHECKS

    assert main(["check", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in CHECKS)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--draws", "1"], "--draws must be at least 2"),
        (["--samples", "1"], "--samples must be between 20 and 1797"),
        (["--samples", "2"], "--samples must be between 20 and 1797"),
        (["--samples", "4"], "--samples must be between 20 and 1797"),
        (["--samples", "5000"], "--samples must be between 20 and 1797"),
        (["--law", "uniform", "--alpha", "1"], "the uniform law has no parameter"),
        (["--alpha", "-1"], "--alpha must be a positive number"),
        (["--law", "cauchy"], "unknown law"),
        (["--only", "nonsense"], "--only: unknown check 'nonsense'"),
    ],
)
def test_check_rejects_bad_options_before_computing(argv, message, capsys, monkeypatch):
    """Invalid options exit 2 with a message naming the option, before any computation."""
    from mixtheory import checks

    def no_computation(**kwargs):
        raise AssertionError("computation started")

    monkeypatch.setattr(checks, "iter_checks", no_computation)
    assert main(["check", *argv]) == 2
    assert message in capsys.readouterr().err


def test_check_fails_loudly_when_a_check_fails(monkeypatch, capsys):
    """A failing row makes the command exit 1 (the verdict is not decoration)."""
    from mixtheory import checks

    def fake(**kwargs):
        yield checks.CheckResult("forced failure", 1.0, 2.0, 0.5, 1e-10, "relative", False).to_result()

    monkeypatch.setattr(checks, "iter_checks", fake)
    assert main(["check", "--only", "moments"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out
    assert [line.split()[2] for line in out.splitlines() if line.startswith("forced failure")] == ["fails"]


def test_verify_is_wired_into_the_command_line(capsys, tmp_path):
    report = tmp_path / "report.md"
    assert main(["verify", "--select", "seed001-w-shaped", "--json", "--report", str(report)]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert_records(entries)
    assert [e["id"] for e in entries] == ["seed001-w-shaped-moments"]
    assert {"id", "source", "statement", "verdict", "evidence"} <= set(entries[0])
    assert "seed001-w-shaped-moments" in report.read_text()


def test_check_minimum_samples_is_the_runners():
    from mixtheory.checks.runner import MIN_SAMPLES
    from mixtheory.cli.check import MIN_SAMPLES as CLI_MIN

    assert MIN_SAMPLES == CLI_MIN
    from mixtheory.checks import run_checks

    with pytest.raises(ValueError, match=f"num_samples must be at least {MIN_SAMPLES}"):
        run_checks(preset="quick", num_samples=4, only=["moments"])


@pytest.mark.parametrize(
    "law,skipped",
    [
        ("uniform", set()),  # runs without an alpha (it used to demand one nobody passed)
        ("zhang", {"pairing-theorem1"}),  # λ̃'s law is not symmetric: the paired fold does not hold
        ("regmixup", {"pairing-theorem1"}),
        ("beta", set()),
    ],
)
def test_check_runs_what_holds_for_the_law_and_skips_the_rest(law, skipped, capsys):
    """Every law runs: checks that do not hold for it are skipped with a stated reason, the run
    ends with its summary and exit code 0."""
    code, report, failed = _check_json(
        ["--quick", "--law", law, "--only", "moments", "--only", "pairing-theorem1"], capsys
    )
    assert code == 0 and not failed, failed
    rows = {c["name"]: c for c in report["checks"] if c["kind"] == "skipped"}
    assert set(rows) == skipped
    for row in rows.values():
        assert row["detail"].startswith("skipped: ") and "symmetric" in row["detail"]
    assert main(["check", "--quick", "--law", law, "--only", "pairing-theorem1"]) == 0
    out = capsys.readouterr().out
    assert "all checks passed" in out and (("skipped" in out) == bool(skipped))
