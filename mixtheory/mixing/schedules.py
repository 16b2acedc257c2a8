r"""Schedules over training epochs: of λ itself, and of the mixing law through α.

A λ schedule fixes λ(t) at epoch t (RegMixup-style schedulers anneal a fixed mixing weight); its
law at epoch t is the point mass at λ(t), so by Theorem 1 of Carratino et al. (JMLR 2022)
``θ̄(t) = max(λ(t), 1 − λ(t))``, ``σ²(t) = 0`` and ``γ²(t) = (1 − θ̄(t))²``. Over a whole run
with the epoch uniform, λ follows the empirical law of the λ(t), whose θ̄, σ², γ² are the
time-averaged geometry (:func:`schedule_moments` reports both, through :mod:`mixtheory.laws`).

The sources name a sine and a tanh scheduler without a formula; the definitions here, on epochs
t = 0, …, T − 1 with u = t/(T − 1) (u = 1 when T = 1), all start at λ = 1 (ERM) and end at
``end`` (1/2 by default: the strongest symmetric mixing) at the last epoch:

- :class:`SineLambda`: ``λ(t) = 1 − (1 − end) sin(π u / 2)``;
- :class:`TanhLambda`: ``λ(t) = 1 − (1 − end) tanh(ζ u) / tanh(ζ)``, sharpness ζ > 0: ζ → 0 is
  the linear ramp, large ζ drops to ``end`` early and stays there.

An α schedule is a function epoch → law (:class:`AlphaSchedule`): ``SymmetricBeta(α(t))``, and
ERM where α(t) = 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..laws import ERM, Empirical, MixingLaw, PointMass, SymmetricBeta

__all__ = ["LambdaSchedule", "SineLambda", "TanhLambda", "AlphaSchedule", "schedule_moments"]


def _progress(epoch: int, num_epochs: int) -> float:
    if int(num_epochs) != num_epochs or num_epochs < 1:
        raise ValueError(f"num_epochs must be a positive integer, got {num_epochs!r}")
    if int(epoch) != epoch or not 0 <= epoch < num_epochs:
        raise ValueError(f"epoch must be an integer in [0, {num_epochs}), got {epoch!r}")
    return 1.0 if num_epochs == 1 else epoch / (num_epochs - 1)


@dataclass(frozen=True)
class LambdaSchedule:
    """Base: λ(t) on epochs 0 … num_epochs − 1, ending at ``end``; ``law(t)`` is PointMass(λ(t))."""

    num_epochs: int
    end: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.end) <= 1.0:
            raise ValueError(f"end must lie in [0, 1], got {self.end!r}")
        _progress(0, self.num_epochs)

    def shape(self, u: float) -> float:
        """The ramp on u ∈ [0, 1], from 0 to 1."""
        raise NotImplementedError

    def value(self, epoch: int) -> float:
        return 1.0 - (1.0 - self.end) * self.shape(_progress(epoch, self.num_epochs))

    def law(self, epoch: int) -> MixingLaw:
        return PointMass(self.value(epoch))

    def training_law(self) -> MixingLaw:
        """The law of λ over the run, the epoch uniform: the empirical law of λ(0 … T − 1)."""
        return Empirical([self.value(t) for t in range(self.num_epochs)])


@dataclass(frozen=True)
class SineLambda(LambdaSchedule):
    r"""``λ(t) = 1 − (1 − end) sin(π u/2)`` (module docstring).

    >>> s = SineLambda(num_epochs=5)
    >>> s.value(0), s.value(4)
    (1.0, 0.5)
    """

    def shape(self, u: float) -> float:
        return math.sin(0.5 * math.pi * u)


@dataclass(frozen=True)
class TanhLambda(LambdaSchedule):
    r"""``λ(t) = 1 − (1 − end) tanh(ζ u)/tanh(ζ)`` with sharpness ``zeta`` = ζ > 0.

    >>> s = TanhLambda(num_epochs=11, zeta=4.0)
    >>> s.value(10), round(s.value(5), 6)     # half-way it is already near 1/2
    (0.5, 0.517663)
    """

    zeta: float = 3.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (math.isfinite(self.zeta) and self.zeta > 0):
            raise ValueError(f"zeta must be a finite number > 0, got {self.zeta!r}")

    def shape(self, u: float) -> float:
        return math.tanh(self.zeta * u) / math.tanh(self.zeta)


Ramp = Literal["constant", "linear", "cosine"]


@dataclass(frozen=True)
class AlphaSchedule:
    r"""α(t) from ``start`` to ``end`` over ``num_epochs`` epochs; ``law(t)`` is
    ``SymmetricBeta(α(t))`` (ERM for α(t) = 0). ``ramp``: ``"constant"`` (α = start),
    ``"linear"`` or ``"cosine"`` (``end + (start − end)(1 + cos π u)/2``). Calling the schedule
    with an epoch returns its law.

    >>> sched = AlphaSchedule(num_epochs=3, start=0.0, end=1.0, ramp="linear")
    >>> [sched.alpha(t) for t in range(3)], sched(0).theta_mean, sched(2).theta_mean
    ([0.0, 0.5, 1.0], 1.0, 0.75)
    """

    num_epochs: int
    start: float
    end: float
    ramp: Ramp = "linear"
    family: Callable[[float], MixingLaw] = SymmetricBeta

    def __post_init__(self) -> None:
        _progress(0, self.num_epochs)
        if self.ramp not in ("constant", "linear", "cosine"):
            raise ValueError(f"ramp must be 'constant', 'linear' or 'cosine', got {self.ramp!r}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite α >= 0, got {value!r}")

    def alpha(self, epoch: int) -> float:
        u = _progress(epoch, self.num_epochs)
        if self.ramp == "constant":
            return float(self.start)
        if self.ramp == "linear":
            return float(self.start + (self.end - self.start) * u)
        return float(self.end + (self.start - self.end) * 0.5 * (1.0 + math.cos(math.pi * u)))

    def law(self, epoch: int) -> MixingLaw:
        a = self.alpha(epoch)
        return ERM() if a == 0.0 else self.family(a)

    def __call__(self, epoch: int) -> MixingLaw:
        return self.law(epoch)


def schedule_moments(schedule: LambdaSchedule | AlphaSchedule) -> dict[str, np.ndarray | dict[str, float]]:
    r"""``θ̄(t), σ²(t), γ²(t)`` for every epoch, from ``schedule.law(t).moments()``, and for a λ
    schedule the time-averaged moments of its ``training_law()`` under ``"overall"``.

    >>> m = schedule_moments(SineLambda(num_epochs=3))
    >>> m["theta_mean"].round(6).tolist(), m["theta_var"].tolist()
    ([1.0, 0.646447, 0.5], [0.0, 0.0, 0.0])
    """
    laws = [schedule.law(t) for t in range(schedule.num_epochs)]
    moments = [law.moments() for law in laws]
    out: dict[str, np.ndarray | dict[str, float]] = {
        key: np.array([m[key] for m in moments]) for key in ("theta_mean", "theta_var", "gamma2")
    }
    if isinstance(schedule, LambdaSchedule):
        out["overall"] = schedule.training_law().moments()
    return out
