"""score-heatmaps: deciles by rank; the quick run's measured headline (hard × hard mixes score above
easy × easy at every λ for EL2N and GraNd; at λ = 0 the score is the partner's own)."""

from __future__ import annotations

import torch

from mixtheory.reproduce import run_figure
from mixtheory.reproduce.score_heatmaps import FIGURE, deciles


def test_deciles_by_rank():
    scores = torch.tensor([5.0, 1.0, 3.0, 2.0, 4.0, 0.0, 9.0, 8.0, 7.0, 6.0] * 3)
    dec = deciles(scores)
    assert dec.shape == (30,) and torch.bincount(dec).tolist() == [3] * 10
    assert bool((dec[scores.argsort()].diff() >= 0).all())


def test_quick_run_headline(tmp_path):
    """Measured on the quick configuration (k = 3 MLPs on digits): at λ = 0.5 the hard × hard cell
    has EL2N 0.70 against 0.25 for easy × easy, GraNd 2.5 against 1.7."""
    result = run_figure(FIGURE, "quick", tmp_path, progress=False)
    assert all(result.checks.values()), result.checks
    for score in ("EL2N", "GraNd"):
        assert result.headline["scores"][score]["0.5"]["ratio_hard_over_easy"] > 1.2
