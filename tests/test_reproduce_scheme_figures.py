"""Quick runs of the scheme figures (hard-pool-sweep, lambda-schedules, mixupe-vs-mixup,
masked-mixing): each asserts its measured headline. Every quick run takes 25–60 s on one CPU
thread, hence the slow marker."""

from __future__ import annotations

import pytest

from mixtheory.reproduce import read_rows, run_figure
from mixtheory.reproduce.hard_pool_sweep import FIGURE as HARD_POOL
from mixtheory.reproduce.lambda_schedules import FIGURE as LAMBDA_SCHEDULES
from mixtheory.reproduce.masked_mixing import FIGURE as MASKED_MIXING
from mixtheory.reproduce.mixupe_vs_mixup import FIGURE as MIXUPE

pytestmark = pytest.mark.slow


def test_hard_pool_sweep_quick(tmp_path):
    """Measured (2 seeds, digits): |Δ accuracy| from η = 1 to η = 0.05 ≤ 0.007; at η = 0.05 tr Σ
    ×0.91, R13 ×0.50–0.57, R2 of either sign (its uniform value is small)."""
    result = run_figure(HARD_POOL, "quick", tmp_path, progress=False)
    assert all(result.checks.values()), result.checks
    h = result.headline
    assert set(h["accuracy"]) == {"el2n", "forgetting"}
    for score in h["accuracy"]:
        assert set(h["accuracy"][score]) == {"1", "0.5", "0.2", "0.1", "0.05"}
        assert 0.8 < h["accuracy"][score]["1"]["best"][0] <= 1.0
        assert 0.8 < h["shrinkage_at_smallest_eta"][score]["trace_ratio"] < 1.0
    rows = read_rows(result.paths["csv"])
    assert {r["metric"] for r in rows} == {"test_accuracy", "trace_ratio", "R2_ratio", "R13_ratio"}


def test_lambda_schedules_quick(tmp_path):
    """Measured (3 seeds, digits): sine − constant +0.009 ± 0.008 (best epoch), within noise."""
    result = run_figure(LAMBDA_SCHEDULES, "quick", tmp_path, progress=False)
    assert all(result.checks.values()), result.checks
    rows = read_rows(result.paths["csv"])
    theta = {r["epoch"]: r["value"] for r in rows if r["unit"] == "sine" and r["metric"] == "theta_mean"}
    assert theta[1] == 1.0 and abs(theta[max(theta)] - 0.5) < 1e-12  # λ from 1 (ERM) to ½
    assert all(
        r["value"] == 0.0 for r in rows if r["unit"] != "constant" and r["metric"] == "sigma2_over_theta2"
    )


def test_mixupe_vs_mixup_quick(tmp_path):
    """Measured (3 seeds): MixupE lowest on 0 of 4 sets; on digits its losses within 1% of mixup's,
    both above ERM's."""
    result = run_figure(MIXUPE, "quick", tmp_path, progress=False)
    assert all(result.checks.values()), result.checks
    h = result.headline
    assert set(h["test_error_pct"]) == {"iris", "wine", "breast_cancer", "digits"}
    assert h["image_set"] == "digits"


def test_masked_mixing_quick(tmp_path):
    """Measured (2 seeds, digits): Mixup's pair weight flat, CutMix's the most local of the four
    masks; the trained CNNs' gradient-product profiles nearly coincide."""
    result = run_figure(MASKED_MIXING, "quick", tmp_path, progress=False)
    assert all(result.checks.values()), result.checks
    h = result.headline
    assert h["theory"]["cutmix"]["near_over_far"] > h["theory"]["gmix"]["near_over_far"] > 1.0
    for method in ("erm", "mixup", "cutmix"):
        assert 0.5 < h["trained"][method]["near"] <= 1.0
