"""``mixtheory moments``: --alpha only for laws with a parameter, labels aligned on screen."""

from __future__ import annotations

import json

import pytest

from mixtheory.cli import main
from mixtheory.cli.moments import display_width
from mixtheory.laws import Uniform


def test_uniform_needs_no_alpha(capsys):
    assert main(["moments", "--law", "uniform", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["alpha"] is None
    assert record["theta_mean"] == pytest.approx(Uniform().moments()["theta_mean"], rel=1e-12)  # 3/4


def test_uniform_refuses_an_alpha_it_would_ignore(capsys):
    assert main(["moments", "--law", "uniform", "--alpha", "2"]) == 2
    assert "--law uniform has no parameter; drop --alpha" in capsys.readouterr().err


@pytest.mark.parametrize("law", ["beta", "w-shaped", "zhang", "regmixup"])
def test_laws_with_a_parameter_need_alpha(law, capsys):
    assert main(["moments", "--law", law]) == 2
    assert f"--law {law} needs --alpha" in capsys.readouterr().err


def test_unknown_law_without_alpha_names_the_choices(capsys):
    assert main(["moments", "--law", "cauchy"]) == 2
    assert "unknown law 'cauchy'" in capsys.readouterr().err


def test_combining_macron_has_zero_width():
    assert len("θ̄") == 2 and display_width("θ̄") == 1
    assert display_width("σ²/θ̄²") == 5


@pytest.mark.parametrize("law", ["beta", "uniform"])
def test_values_start_in_one_display_column(law, capsys):
    argv = ["moments", "--law", law] + (["--alpha", "0.5"] if law != "uniform" else [])
    assert main(argv) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert len(rows) == 5
    columns = {display_width(row[: row.rindex(" ") + 1]) for row in rows}
    assert len(columns) == 1, rows
