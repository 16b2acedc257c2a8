"""Each analysis runs small and asserts its headline claim."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "analyses" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mixing_law_design_runs_small(tmp_path):
    summary = _load("mixing_law_design").main(small=True, out_dir=tmp_path)
    assert (tmp_path / "mixing_law_design.png").stat().st_size > 10_000
    saved = json.loads((tmp_path / "mixing_law_design.json").read_text())
    assert saved["headline"] == summary["headline"]
    lo, hi = summary["headline"]["beta_gamma2_ratio_range"]
    assert lo < 1e-2 and hi > 0.95
