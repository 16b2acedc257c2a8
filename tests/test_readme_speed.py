"""The README's speed sections equal what benchmarks/readme_speed.py renders from the stored
results, smoke runs never reach the README, and the benchmarks' load check refuses loaded runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import _timing  # noqa: E402
import readme_speed  # noqa: E402


def test_readme_speed_sections_equal_the_stored_results():
    text = readme_speed.README.read_text()
    assert readme_speed.rendered_readme(text) == text, "run python benchmarks/readme_speed.py"


def _record(reportable=True, quick=False):
    stats = (1.23, 1.1, 1.4)
    units = {key: stats for key, _ in readme_speed.ROWS}
    speedups = {f"library default vs {b}": (2.5, 2.4, 2.6) for b in readme_speed_bases()}
    result = dict(kind="cnn", threads=1, units=units, speedups=speedups)
    load = dict(runs=[dict(run="cnn", load_before=0.9, load_after=1.1)], reportable=reportable)
    return dict(
        results=[result],
        rounds=7,
        probes=16,
        machine="m",
        date="d",
        load=load,
        reportable=reportable,
        quick=quick,
    )


def readme_speed_bases():
    return ("competent double-backward loop", "double-backward loop")


def test_render_shows_the_stored_numbers_and_the_load():
    text = readme_speed.render_estimators(_record())
    assert "1.23 [1.10–1.40]" in text and "2.50× [2.40–2.60]" in text and "at most 1.10" in text


@pytest.mark.parametrize("record", [None, _record(reportable=False), _record(quick=True)])
def test_unreportable_runs_never_reach_the_readme(record):
    assert readme_speed.render_estimators(record).startswith("_Not yet measured")


def test_load_guard_refuses_a_loaded_machine(monkeypatch):
    monkeypatch.delenv(_timing.ALLOW_LOAD_ENV, raising=False)
    monkeypatch.setattr(_timing, "load_average", lambda: 3.0)
    guard = _timing.LoadGuard(wait=0)
    with pytest.raises(SystemExit, match="refusing to report: cnn: load average 3.00 > 1.5"):
        guard.before("cnn")
    smoke = _timing.LoadGuard(allow=True, wait=0)
    smoke.after("cnn", smoke.before("cnn"), threads=1)
    assert not smoke.reportable and smoke.record()["runs"][0]["load_before"] == 3.0
    monkeypatch.setattr(_timing, "load_average", lambda: 1.2)
    quiet = _timing.LoadGuard(wait=0)
    quiet.after("cnn", quiet.before("cnn"), threads=1)
    assert quiet.reportable
    monkeypatch.setattr(_timing, "load_average", lambda: 2.2)  # a 2-thread run adds its own thread
    two = _timing.LoadGuard(wait=0)
    two.after("cnn", 1.0, threads=2)
    assert two.reportable
