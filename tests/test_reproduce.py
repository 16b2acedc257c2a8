"""The reproduce registry and runner: tidy rows, resumable units, CSV-only drawing, requirements, CLI."""

from __future__ import annotations

import argparse
import json
import sys

import pytest
import torch

from mixtheory.reproduce import FIGURES, Config, Figure, Unit, aggregate, read_rows, redraw_figure, run_figure
from mixtheory.reproduce._runner import check_requirements, write_rows


def _cli(argv: list[str]) -> int:
    """``mixtheory reproduce ARGV`` through the command module's own parser (works before and after
    the command is listed in ``mixtheory.cli.COMMANDS``)."""
    from mixtheory.cli import reproduce

    parser = argparse.ArgumentParser(prog="mixtheory")
    reproduce.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["reproduce", *argv])
    return args.func(args)


CALLS: list[tuple[str, int]] = []


def _toy_compute(unit, seed, params, ctx):
    CALLS.append((unit.key, seed))
    g = torch.Generator().manual_seed(seed)
    return [
        {
            "method": unit.key,
            "step": t,
            "metric": "loss",
            "value": float(params["scale"] * torch.rand(1, generator=g)),
        }
        for t in range(3)
    ]


def _toy_draw(rows, info):
    from mixtheory.reproduce._plotting import errorbar_line, pyplot

    plt = pyplot()
    fig, ax = plt.subplots()
    for method in ("a", "b"):
        agg = [r for r in aggregate(rows) if r["method"] == method]
        errorbar_line(
            ax, [r["step"] for r in agg], [r["mean"] for r in agg], [r["std"] for r in agg], label=method
        )
    ax.legend()
    ax.set_title(info.title)
    return fig


TOY = Figure(
    name="toy-figure",
    title="A toy",
    claims=(),
    quick=Config("toy data", {"scale": 1.0}, seeds=2),
    full=Config("toy data at scale", {"scale": 2.0}, seeds=3, requires=("gpu", "cifar10")),
    units=lambda params: [Unit("a"), Unit("b")],
    compute=_toy_compute,
    draw=_toy_draw,
    headline=lambda rows: {"text": f"{len(rows)} rows", "rows": len(rows)},
    checks=lambda h: {"six rows per seed": h["rows"] % 6 == 0},
)


def test_rows_round_trip_and_aggregate(tmp_path):
    rows = [
        {"figure": "f", "seed": s, "x": 0.1, "name": "Beta(α, α)", "metric": "m", "value": v}
        for s, v in enumerate([1.0, 2.0, 4.0])
    ]
    rows.append({"figure": "f", "seed": 0, "x": None, "name": "n", "metric": "m", "value": 1e-300})
    path = write_rows(tmp_path / "t.csv", rows)
    back = read_rows(path)
    assert back == rows  # floats round-trip exactly (repr), empty cells come back as None
    agg = aggregate(back)
    assert len(agg) == 2
    assert agg[0]["mean"] == pytest.approx(7 / 3) and agg[0]["std"] == pytest.approx(1.5275252316519468)
    assert agg[1]["std"] == 0.0 and agg[1]["count"] == 1


def test_run_writes_every_output_and_resumes_per_unit_and_seed(tmp_path):
    CALLS.clear()
    result = run_figure(TOY, "quick", tmp_path, progress=False)
    assert sorted(CALLS) == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    for ext in ("csv", "json", "png", "pdf"):
        assert result.paths[ext].is_file() and result.paths[ext].stat().st_size > 0
    rows = read_rows(result.paths["csv"])
    assert len(rows) == 12 and list(rows[0])[:4] == ["figure", "mode", "unit", "seed"]
    assert list(rows[0])[-2:] == ["metric", "value"]
    saved = json.loads(result.paths["json"].read_text())
    for key in ("commit", "versions", "seeds", "device", "wall_time_s", "data", "configuration", "headline"):
        assert key in saved
    assert saved["seeds"] == [0, 1] and saved["configuration"] == {"scale": 1.0} and saved["checks"]

    # a third seed computes only the new units; an interrupted unit (its cache file gone) is redone
    CALLS.clear()
    next(iter(sorted((tmp_path / ".cache" / "toy_figure").glob("b-seed1-*.csv")))).unlink()
    again = run_figure(TOY, "quick", tmp_path, seeds=3, progress=False)
    assert sorted(CALLS) == [("a", 2), ("b", 1), ("b", 2)]
    assert (again.units_computed, again.units_cached) == (3, 3)
    assert read_rows(again.paths["csv"])[:6] == rows[:6]  # cached rows come back unchanged


def test_changed_configuration_does_not_reuse_the_cache(tmp_path):
    CALLS.clear()
    run_figure(TOY, "quick", tmp_path, seeds=1, progress=False)
    other = Figure(**{**TOY.__dict__, "quick": Config("toy data", {"scale": 3.0}, seeds=1)})
    run_figure(other, "quick", tmp_path, progress=False)
    assert len(CALLS) == 4


def test_redraw_uses_the_csv_alone(tmp_path):
    result = run_figure(TOY, "quick", tmp_path, seeds=1, progress=False)
    for ext in ("png", "pdf"):
        result.paths[ext].unlink()
    CALLS.clear()
    redrawn = redraw_figure(TOY, tmp_path)
    assert not CALLS and redrawn.paths["png"].stat().st_size > 0 and redrawn.paths["pdf"].is_file()
    with pytest.raises(FileNotFoundError, match="run `mixtheory reproduce toy-figure --quick` first"):
        redraw_figure(TOY, tmp_path / "elsewhere")


def test_full_without_gpu_or_data_says_what_is_needed(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError) as info:
        check_requirements([TOY], "full", torch.device("cuda"), None)
    message = str(info.value)
    assert "toy-figure --full needs a CUDA GPU" in message and "--data PATH" in message
    check_requirements([TOY], "quick", torch.device("cpu"), None)  # quick needs nothing


def test_every_registered_figure_is_well_formed():
    from mixtheory.ledger import METADATA

    assert {"mixing-law-design", "second-order-accuracy", "implicit-bias-linear", "score-heatmaps"} <= set(
        FIGURES
    )
    for name, figure in FIGURES.items():
        assert figure.name == name and figure.title and figure.quick.describe and figure.full.describe
        assert all(c in METADATA for c in figure.claims)
        assert figure.quick.requires == ()  # --quick runs anywhere


def test_library_does_not_import_matplotlib():
    import subprocess

    code = (
        "import sys, mixtheory, mixtheory.reproduce, mixtheory.cli.reproduce; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_cli_list_and_errors(capsys, monkeypatch, tmp_path):
    assert _cli(["--list"]) == 0
    listed = capsys.readouterr().out
    for name in FIGURES:
        assert f"{name}: " in listed
    with pytest.raises(ValueError, match="unknown figure 'nope'"):
        _cli(["nope"])
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setitem(FIGURES, TOY.name, TOY)
    with pytest.raises(ValueError, match="toy-figure --full needs a CUDA GPU"):
        _cli(["--full", "--out", str(tmp_path)])
    assert not any(tmp_path.iterdir())  # nothing computed before the error


def test_cli_is_registered():
    import mixtheory.cli as cli

    assert any(m.__name__.endswith(".reproduce") for m in cli.COMMANDS)
    assert cli.main(["reproduce", "--list"]) == 0


@pytest.mark.slow
def test_quick_run_of_every_figure(tmp_path, capsys):
    """``mixtheory reproduce --quick`` for all registered figures: CSV, JSON, PNG and PDF of each."""
    assert _cli(["--quick", "--out", str(tmp_path)]) == 0
    for figure in FIGURES.values():
        for ext in ("csv", "json", "png", "pdf"):
            path = tmp_path / f"{figure.stem}.{ext}"
            assert path.is_file() and path.stat().st_size > 0, path
        saved = json.loads((tmp_path / f"{figure.stem}.json").read_text())
        assert all(saved["checks"].values()), (figure.name, saved["checks"])
