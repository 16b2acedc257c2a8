"""The mixing-law-design figure: quick run asserts its headline; every legend entry is visible."""

from __future__ import annotations

import numpy as np

from mixtheory.reproduce import read_rows, run_figure
from mixtheory.reproduce.mixing_law_design import FIGURE, LAWS


def test_quick_run_headline(tmp_path):
    result = run_figure(FIGURE, "quick", tmp_path, progress=False)
    assert all(result.checks.values()), result.checks
    h = result.headline
    assert 0.3 < h["beta_sigma2_ratio_peak_alpha"] < 3  # the peak of σ²/θ̄² lies near α = 1
    assert result.paths["png"].stat().st_size > 10_000


def test_every_legend_entry_is_visible(tmp_path):
    """Zhang's λ̃ folds to Beta(α, α)'s θ law: its curve lies exactly on Beta's, so it is drawn on
    top, dashed with markers, and its label says so; the vertical line carries a label."""
    from mixtheory.reproduce._plotting import pyplot
    from mixtheory.reproduce._registry import DrawInfo

    result = run_figure(FIGURE, "quick", tmp_path, progress=False)
    rows = read_rows(result.paths["csv"])
    plt = pyplot()
    fig = FIGURE.draw(rows, DrawInfo(FIGURE, "quick", FIGURE.quick, (0,)))
    try:
        for ax in fig.axes:
            lines = {line.get_label(): line for line in ax.lines}
            zhang = next(line for label, line in lines.items() if label.startswith("Zhang"))
            beta = lines["Beta(α, α)"]
            np.testing.assert_allclose(zhang.get_ydata(), beta.get_ydata(), rtol=1e-9)
            assert "coincides with Beta(α, α)" in zhang.get_label()
            assert zhang.get_zorder() > beta.get_zorder()
            assert zhang.get_marker() not in (None, "None", "") and zhang.get_linestyle() == "--"
            assert ax.get_xlabel() and ax.get_ylabel()
        vertical = [line for line in fig.axes[1].lines if line.get_label().startswith("peak")]
        assert len(vertical) == 1 and vertical[0].get_label() in [
            t.get_text() for t in fig.axes[1].get_legend().get_texts()
        ]
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert len(legend) == len(LAWS)
    finally:
        plt.close(fig)
