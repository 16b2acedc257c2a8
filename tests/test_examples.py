"""Every script in examples/ runs at a tiny size (a plain loop, a timm-style loop, DDP under torchrun
with 2 CPU processes, the R13-vs-EL2N plot), and the README's peak-memory number is the measured one."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TINY = ["--samples", "120", "--epochs", "1", "--recorded", "6"]


def _run(args: list[str], timeout: int = 300) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _check_run(out: Path, recorded: int = 6) -> None:
    regs = _rows(out / "regularizers.csv")
    assert sorted({int(r["epoch"]) for r in regs}) == [0, 1]
    assert len(regs) == 2 * recorded
    assert all(float(r["R13_se"]) >= 0 for r in regs)
    assert json.loads((out / "provenance.json").read_text())["epochs_done"] == 1
    assert not list(out.glob("*.mixtheory-tmp"))


@pytest.mark.slow
def test_plain_loop_and_the_plot(tmp_path):
    pytest.importorskip("mlxtend")
    pytest.importorskip("matplotlib")
    out = tmp_path / "plain"
    text = _run([sys.executable, str(EXAMPLES / "plain_loop.py"), *TINY, "--out", str(out)])
    assert "epoch 1:" in text
    _check_run(out)
    assert len(_rows(out / "forgetting.csv")) == 2 * 120  # every sample, epochs 0 and 1
    text = _run([sys.executable, str(EXAMPLES / "plot_r13_vs_el2n.py"), str(out)])
    assert "6 samples, Spearman rank correlation" in text
    assert (out / "r13_vs_el2n.png").stat().st_size > 1000


@pytest.mark.slow
def test_timm_style_loop_with_cutmix(tmp_path):
    pytest.importorskip("mlxtend")
    out = tmp_path / "timm"
    text = _run(
        [sys.executable, str(EXAMPLES / "timm_style.py"), *TINY, "--out", str(out), "--mask", "cutmix"]
    )
    assert "mean R13" in text
    _check_run(out)
    assert len(_rows(out / "mixup_loss.csv")) == 2


@pytest.mark.slow
def test_ddp_example_under_torchrun_with_two_processes(tmp_path):
    pytest.importorskip("mlxtend")
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    text = _run([*cmd, str(EXAMPLES / "ddp_torchrun.py"), *TINY, "--out", str(out)])
    assert "rank-0 loss" in text
    _check_run(out)
    forgetting = _rows(out / "forgetting.csv")
    assert len(forgetting) == 2 * 120


def test_readme_states_the_measured_peak_memory():
    record = json.loads((ROOT / "benchmarks" / "results" / "streamed_memory.json").read_text())
    assert (record["n"], record["d"]) == (50_000, 3072)
    text = " ".join((ROOT / "README.md").read_text().split())
    assert f"{record['peak_rss_growth_mib']:.0f} MiB" in text
    assert f"{record['in_memory_data_float64_mib']:.0f} MiB" in text


def test_readme_own_loop_runs(tmp_path, monkeypatch):
    import re

    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    code = next(b for b in blocks if "Monitor(" in b)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README own loop", "exec"), {})
    regs = _rows(tmp_path / "runs" / "my-loop" / "regularizers.csv")
    assert sorted({int(r["epoch"]) for r in regs}) == [0, 1, 2] and len(regs) == 3 * 16
    assert len(_rows(tmp_path / "runs" / "my-loop" / "forgetting.csv")) == 3 * 300
