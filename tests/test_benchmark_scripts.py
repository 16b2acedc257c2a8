"""The benchmark scripts run end to end at tiny sizes (their numbers are not checked here: timing
on a test machine means nothing; what is checked is that they produce complete, honest records)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))


def test_gpu_script_smoke_runs_on_cpu(tmp_path, capsys):
    import gpu_resnet18_cifar

    out = tmp_path / "gpu.json"
    record = gpu_resnet18_cifar.main(["--smoke", "--out", str(out)])
    printed = capsys.readouterr().out
    assert record["readme_line"] in printed and "forward units per probe" in record["readme_line"]
    stored = json.loads(out.read_text())
    assert stored["smoke"] is True and stored["units_per_probe"] > 0 and stored["samples"] == 8
    assert stored["method"] == "taylor-collapsed" and stored["r1"] == "probes"  # the default route


@pytest.mark.slow
def test_scaling_benchmark_quick(tmp_path):
    import bench_scaling

    record = bench_scaling.main(["--quick", "--allow-load", "--ns", "200", "--out", str(tmp_path / "s.json")])
    point = record["rows"][0]["routes"]
    assert set(point) == {"geometry", "closed form", "estimator"}
    assert all(p["peak_mib"] > 0 and p["seconds"] >= 0 for p in point.values())
    assert record["reportable"] is False  # --quick never reaches the README


@pytest.mark.slow
def test_estimator_benchmark_quick(tmp_path):
    import bench_estimators

    out = tmp_path / "e.json"
    argv = ["--quick", "--no-memory", "--allow-load", "--threads", "1", "--models", "cnn", "--out", str(out)]
    record = bench_estimators.main(argv)
    units = record["results"][0]["units"]
    assert {"library default", "competent double-backward loop", "forward in passes"} <= set(units)
    assert record["reportable"] is False and record["load"]["runs"][0]["load_before"] >= 0


def test_profile_script_shares_cover_one_call():
    import profile_estimator

    shares = profile_estimator.main(["--quick", "--models", "cnn", "--calls", "1"])["cnn"]
    assert shares["jet: convolutions"] > 0 and shares["probes"] > 0 and shares["jet: pooling"] > 0
    assert all(v >= 0 for v in shares.values())
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-9)  # "other" is the rest, never negative
