"""λ and α schedules: end points, shapes, and the per-epoch and time-averaged θ moments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mixtheory import ERM, Empirical, PointMass, SymmetricBeta
from mixtheory.mixing import AlphaSchedule, SineLambda, TanhLambda, schedule_moments

SCHEDULES = [SineLambda(10), TanhLambda(10, zeta=0.5), TanhLambda(10, zeta=6.0), SineLambda(1)]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_lambda_schedules_run_from_erm_to_half(schedule):
    values = [schedule.value(t) for t in range(schedule.num_epochs)]
    if schedule.num_epochs > 1:
        assert values[0] == 1.0
    assert values[-1] == 0.5
    assert all(a >= b for a, b in zip(values, values[1:]))  # monotone


def test_tanh_sharpness():
    """ζ → 0 is the linear ramp; large ζ reaches 1/2 early."""
    nearly_linear = TanhLambda(11, zeta=1e-6)
    for t in range(11):
        assert abs(nearly_linear.value(t) - (1 - 0.5 * t / 10)) < 1e-12
    sharp = TanhLambda(11, zeta=8.0)
    assert abs(sharp.value(5) - 0.5) < 1e-3  # 1 − ½·tanh(4)/tanh(8) = 0.50034


@pytest.mark.parametrize("schedule", SCHEDULES[:3], ids=repr)
def test_schedule_moments_through_the_laws(schedule):
    m = schedule_moments(schedule)
    lam = np.array([schedule.value(t) for t in range(schedule.num_epochs)])
    theta = np.maximum(lam, 1 - lam)
    np.testing.assert_allclose(m["theta_mean"], theta, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(m["theta_var"], 0.0)  # a point mass per epoch
    np.testing.assert_allclose(m["gamma2"], (1 - theta) ** 2, rtol=0, atol=1e-15)
    overall = m["overall"]
    assert abs(overall["theta_mean"] - theta.mean()) < 1e-14
    assert abs(overall["theta_var"] - theta.var()) < 1e-14
    assert overall == Empirical(lam).moments()


def test_alpha_schedule_laws():
    sched = AlphaSchedule(num_epochs=5, start=0.0, end=2.0, ramp="cosine")
    assert isinstance(sched(0), PointMass) and sched(0).theta_mean == ERM().theta_mean
    assert sched.alpha(4) == 2.0 and abs(sched.alpha(2) - 1.0) < 1e-15
    assert sched(4).theta_mean == SymmetricBeta(2.0).theta_mean
    m = schedule_moments(sched)
    assert m["theta_mean"][0] == 1.0 and math.isclose(m["gamma2"][4], SymmetricBeta(2.0).gamma2)
    assert AlphaSchedule(3, 0.4, 9.0, ramp="constant").alpha(2) == 0.4
    with pytest.raises(ValueError, match="ramp"):
        AlphaSchedule(3, 0.4, 1.0, ramp="step")
    with pytest.raises(ValueError, match="epoch"):
        sched.alpha(5)
