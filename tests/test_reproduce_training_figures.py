"""The training figures of ``mixtheory reproduce`` (regularizer trajectories, hard vs easy, forgetting
statistics, blob decision boundaries): each quick run's measured headline, and the small helpers
they define."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mixtheory.reproduce import regularizer_trajectories as trajectories
from mixtheory.reproduce import run_figure

# each quick run trains networks for several seconds: kept out of the quick suite, run by CI's
# slow suite (the headline is still asserted there)
pytestmark = pytest.mark.slow


def test_r3_hessian_form_against_dense_trace():
    """R3_H = −½ tr(H K) for a random PSD K and random logits, against an explicit trace."""
    g = torch.Generator().manual_seed(0)
    A = torch.randn(4, 3, 3, generator=g, dtype=torch.float64)
    K = A @ A.transpose(1, 2)
    u = torch.randn(4, 3, generator=g, dtype=torch.float64)
    S = torch.softmax(u, -1)
    H = torch.diag_embed(S) - S[:, :, None] * S[:, None, :]
    expected = -0.5 * torch.einsum("mij,mji->m", H, K)
    got = trajectories.r3_hessian_form(K, u, S)
    assert got.shape == (4,)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=0)
    assert bool((got <= 0).all())


def test_regularizer_trajectories_quick(tmp_path):
    """Measured on the quick configuration (3 seeds, digits MLP, 60 epochs): mixup's −R3/R1 in the H⁺
    form 0.997–1.27, the slides' |R3_H|/R1 = 2.8e-4 at epoch 60 (1.6e-2 at epoch 1); R1 at epoch 60:
    ERM 9.9e4, mixup 5.3. One seed here (about 10 s)."""
    result = run_figure(trajectories.FIGURE, "quick", tmp_path, seeds=1, progress=False)
    assert all(result.checks.values()), result.checks
    h = result.headline
    assert h["mixup_abs_R3_H_over_R1_last"] < 1e-2 < h["mixup_minus_R3_over_R1_last"]
    assert h["final"]["erm"]["R1"] > 100 * h["final"]["mixup"]["R1"]


def test_partial_spearman_removes_a_shared_control():
    from mixtheory.reproduce.hard_vs_easy import partial_spearman, rank_deciles

    g = np.random.default_rng(1)
    control = g.normal(size=2000)
    a = control + 0.2 * g.normal(size=2000)
    b = control + 0.2 * g.normal(size=2000)
    c = a + 0.2 * g.normal(size=2000)
    # tolerance: 4 standard errors of a correlation near 0 on 2000 samples (1/sqrt(n))
    assert abs(partial_spearman(a, b, control)) < 4 / np.sqrt(2000)
    assert partial_spearman(a, c, control) > 0.3
    dec = rank_deciles(np.arange(50.0))
    assert dec.shape == (50,) and np.bincount(dec).tolist() == [5] * 10


def test_hard_vs_easy_quick(tmp_path):
    """Measured on the quick configuration (3 seeds, digits MLP, mixup α = 0.5): Spearman ρ(R1,
    hardness) raw → given confidence: forgetting −0.23 → −0.02, EL2N −0.16 → +0.22, GraNd −0.18 →
    +0.20; ρ(R1, max S(f(x̃))) = +0.49. About 16 s."""
    from mixtheory.reproduce.hard_vs_easy import FIGURE

    result = run_figure(FIGURE, "quick", tmp_path, progress=False)
    assert all(result.checks.values()), result.checks
    assert all(result.headline["spearman"][f"R1~{h}"][0] < 0 for h in ("forgetting", "EL2N", "GraNd"))


def test_symmetry_measures():
    from mixtheory.reproduce.forgetting_statistics import asymmetry_index, bowker_test, row_normalise

    counts = np.array([[0, 5, 1], [5, 0, 2], [1, 2, 0]], dtype=float)
    assert asymmetry_index(counts) == 0.0
    assert bowker_test(counts)[0] == 0.0 and bowker_test(counts)[2] == 1.0
    A = row_normalise(np.array([[0, 3, 1], [0, 0, 0], [2, 2, 0]], dtype=float))
    np.testing.assert_allclose(A.sum(1), [1, 0, 1], rtol=1e-15)
    # reference value: (9 − 1)²/(9 + 1) = 6.4 on one pair, chi2.sf(6.4, 1) = 0.01141 (scipy)
    stat, df, p = bowker_test(np.array([[0, 9], [1, 0]], dtype=float))
    assert (stat, df) == (6.4, 1) and abs(p - 0.011412036386001) < 1e-9


def test_forgetting_statistics_quick(tmp_path):
    """Measured on the quick configuration (MNIST 3,750 train, 3 seeds): asymmetry index 0.70 ± 0.11
    against 1.10 for randomly placed counts, Spearman(A_ab, A_ba) 0.53; Bowker p 0.09–0.48 (282
    events per run). Two seeds here (about 15 s)."""
    from mixtheory.reproduce.forgetting_statistics import FIGURE

    result = run_figure(FIGURE, "quick", tmp_path, seeds=2, progress=False)
    assert all(result.checks.values()), result.checks
    assert result.headline["asymmetry_index"][0] < result.headline["null_asymmetry_mean"][0] - 0.2


def test_top_hard_breaks_ties_by_el2n():
    from mixtheory.reproduce.decision_boundaries_blobs import top_hard

    events = np.array([2, 0, 2, 1, 5])
    el2n = np.array([0.1, 0.9, 0.3, 0.8, 0.0])
    assert top_hard(events, el2n, 3).tolist() == [4, 2, 0]


def test_decision_boundaries_blobs_quick(tmp_path):
    """Measured on the quick configuration (3 seeds): median distance to the boundary, top-50 hard /
    all: ERM 0.20 ± 0.04, mixup 0.19 ± 0.01, hard pairing 0.58 ± 0.32; test accuracy 0.79, 0.80,
    0.75. One seed here (about 15 s)."""
    from mixtheory.reproduce.decision_boundaries_blobs import FIGURE

    result = run_figure(FIGURE, "quick", tmp_path, seeds=1, progress=False)
    assert all(result.checks.values()), result.checks
    assert result.headline["erm"]["distance_ratio_hard_over_all"][0] < 0.5
    # quick run (3 seeds): hard samples +0.65 within-class SDs further toward the rival class than all;
    # hard pairing's mixed points at 0.6-0.7 of random pairing's distance to the boundary
    for key in ("erm", "mixup", "hard-pairing"):
        assert result.headline[key]["offset_hard_minus_all"][0] > 0.3
        assert result.headline[key]["mixed_distance_ratio_hard_over_random"][0] < 0.9
