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
    headline = _load("mixing_law_design").main(small=True, out_dir=tmp_path)
    for ext in ("csv", "json", "pdf"):
        assert (tmp_path / f"mixing_law_design.{ext}").is_file()
    assert (tmp_path / "mixing_law_design.png").stat().st_size > 10_000
    saved = json.loads((tmp_path / "mixing_law_design.json").read_text())
    assert saved["headline"] == headline
    assert saved["figure"] == "mixing-law-design" and all(saved["checks"].values())
    lo, hi = headline["beta_gamma2_ratio_range"]
    assert lo < 1e-2 and hi > 0.95


def test_committed_figure_is_the_full_configuration():
    """figures/mixing_law_design.* is the full (200 α) run of the registry figure."""
    saved = json.loads((ROOT / "figures" / "mixing_law_design.json").read_text())
    assert saved["mode"] == "full" and saved["configuration"] == {"num_alphas": 200}
    assert all(saved["checks"].values())
    for ext in ("csv", "png", "pdf"):
        assert (ROOT / "figures" / f"mixing_law_design.{ext}").stat().st_size > 10_000
