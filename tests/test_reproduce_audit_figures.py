"""Quick runs of the figures added for the audit's entries: approximate-mixup and alpha-schedules."""

from __future__ import annotations

import numpy as np
import pytest

from mixtheory.mixing import AlphaSchedule, SineLambda
from mixtheory.reproduce import run_figure
from mixtheory.reproduce.alpha_schedules import FIGURE as ALPHA_SCHEDULES
from mixtheory.reproduce.alpha_schedules import schedule_of
from mixtheory.reproduce.approximate_mixup import FIGURE as APPROXIMATE_MIXUP


def test_schedules_of_the_two_arms_start_at_erm_and_end_hard():
    params = {"epochs": 11, "alpha": 20.0}
    sine, alpha = schedule_of("sine-lambda", params), schedule_of("alpha-linear", params)
    assert isinstance(sine, SineLambda) and isinstance(alpha, AlphaSchedule)
    assert sine.law(0).theta_mean == 1.0 and alpha.law(0).theta_mean == 1.0  # both start at ERM
    assert sine.value(10) == 0.5 and alpha.alpha(10) == 20.0
    with pytest.raises(ValueError, match="arm must be one of"):
        schedule_of("cosine", params)


@pytest.mark.slow
def test_approximate_mixup_quick(tmp_path):
    """Measured on the quick configuration (3 seeds): R1 of ERM ~1e6, approximate mixup 1.05, mixup
    4.3; one seed here."""
    result = run_figure(APPROXIMATE_MIXUP, "quick", tmp_path, seeds=1, progress=False)
    h = result.headline
    assert all(result.checks.values()), result.checks
    assert h["erm"]["R1"][0] > 100 * h["mixup"]["R1"][0]
    assert np.isfinite([h[k]["R13"][0] for k in ("erm", "approx", "mixup")]).all()
    assert (tmp_path / "approximate_mixup.png").is_file()


def test_alpha_schedules_quick(tmp_path):
    result = run_figure(ALPHA_SCHEDULES, "quick", tmp_path, seeds=1, progress=False)
    assert all(result.checks.values()), result.checks
    assert set(result.headline["accuracy"]) == {"sine-lambda", "alpha-linear"}
