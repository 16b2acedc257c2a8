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


def test_mixing_law_design_every_legend_entry_is_visible():
    """Zhang's λ̃ folds to Beta(α, α)'s θ law: its curve lies exactly on Beta's, so it is drawn on
    top, dashed with markers, and its label says so; the vertical line carries a label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    module = _load("mixing_law_design")
    alphas = np.logspace(-2, 2, 9)
    table = module.compute(alphas)
    fig = module.draw(alphas, table, peak=4)
    try:
        for ax in fig.axes:
            lines = {line.get_label(): line for line in ax.lines}
            zhang = next(line for label, line in lines.items() if label.startswith("Zhang"))
            beta = lines["Beta(α, α)"]
            np.testing.assert_allclose(zhang.get_ydata(), beta.get_ydata(), rtol=1e-9)
            assert "coincides with Beta(α, α)" in zhang.get_label()
            assert zhang.get_zorder() > beta.get_zorder()
            assert zhang.get_marker() not in (None, "None", "") and zhang.get_linestyle() == "--"
        vertical = [line for line in fig.axes[1].lines if line.get_label().startswith("peak")]
        assert len(vertical) == 1 and vertical[0].get_label() in [
            t.get_text() for t in fig.axes[1].get_legend().get_texts()]
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert len(legend) == len(module.LAWS)
    finally:
        plt.close(fig)
