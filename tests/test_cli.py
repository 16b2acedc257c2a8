"""The command line: moments and check."""

from __future__ import annotations

import json

import pytest

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


@pytest.mark.slow
def test_check_passes_on_digits(capsys):
    """The whole check suite on a small digits subset; exits 0 and every row passes."""
    code = main(["check", "--samples", "80", "--draws", "100", "--json"])
    report = json.loads(capsys.readouterr().out)
    failed = [c["name"] for c in report["checks"] if not c["passed"]]
    assert code == 0 and report["passed"], failed
    names = " ".join(c["name"] for c in report["checks"])
    for needle in (
        "Theorem 1",
        "Lemma 2",
        "Completed square",
        "sampled l_Q",
        "sampled mixup",
        "slope",
        "R1 ≥ 0",
    ):
        assert needle in names


def test_check_fails_loudly_when_a_check_fails(monkeypatch, capsys):
    """A failing row makes the command exit 1 (the verdict is not decoration)."""
    from mixtheory import checks

    def fake(**kwargs):
        row = checks.CheckResult("forced failure", 1.0, 2.0, 0.5, 1e-10, "relative", False)
        return [row], 0.0

    monkeypatch.setattr(checks, "timed_checks", fake)
    assert main(["check"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_verify_is_wired_into_the_command_line(capsys, tmp_path):
    report = tmp_path / "report.md"
    assert main(["verify", "--select", "seed001-w-shaped", "--json", "--report", str(report)]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["id"] for e in entries] == ["seed001-w-shaped-moments"]
    assert {"id", "source", "statement", "verdict", "evidence"} <= set(entries[0])
    assert "seed001-w-shaped-moments" in report.read_text()
