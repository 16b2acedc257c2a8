r"""Monte Carlo means with their standard errors: one result type for every sampled quantity.

Sampled mixup losses, the Monte Carlo of the second-order polynomial and the probe estimators
all average independent replicates ``r_1, …, r_K``; the estimate is the mean and its standard
error ``s / √K`` (``s`` the sample standard deviation). Asking for ``checkpoints`` (a list of
replicate counts) also records the running estimate after each, so one run gives a convergence
curve (the estimate must settle within a few standard errors, and the standard error fall like
``1/√K``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from ._types import Tensor

__all__ = ["MonteCarloEstimate", "monte_carlo_estimate", "mean_and_stderr"]


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte Carlo mean with its standard error (std of replicates / √replicates).

    ``running`` holds ``(count, value, stderr)`` after each requested checkpoint count.
    """

    value: float
    stderr: float
    num_replicates: int
    running: tuple[tuple[int, float, float], ...] = field(default=())

    def __float__(self) -> float:
        return self.value

    def zscore(self, reference: float) -> float:
        """(value − reference) / stderr; ±inf when the standard error is 0 and they differ."""
        diff = self.value - reference
        if self.stderr > 0:
            return diff / self.stderr
        return 0.0 if diff == 0 else math.copysign(math.inf, diff)


def mean_and_stderr(values: Tensor, dim: int = -1) -> tuple[Tensor, Tensor]:
    """Mean over ``dim`` and its standard error; NaN standard error for a single replicate."""
    k = values.shape[dim]
    mean = values.mean(dim)
    if k < 2:
        return mean, torch.full_like(mean, math.nan)
    return mean, values.std(dim) / math.sqrt(k)


def monte_carlo_estimate(
    replicates: Sequence[float] | Tensor, checkpoints: Sequence[int] | None = None
) -> MonteCarloEstimate:
    """A :class:`MonteCarloEstimate` from independent replicates (at least two).

    >>> est = monte_carlo_estimate([1.0, 2.0, 3.0, 4.0], checkpoints=[2, 4])
    >>> est.value, round(est.stderr, 6), [c for c, _, _ in est.running]
    (2.5, 0.645497, [2, 4])
    """
    r = torch.as_tensor(replicates, dtype=torch.float64).reshape(-1)
    if r.numel() < 2:
        raise ValueError("num_draws must be >= 2 to estimate a standard error")
    running = []
    for count in checkpoints or ():
        if not 2 <= int(count) <= r.numel():
            raise ValueError(f"checkpoints must lie in [2, {r.numel()}] (the number of draws), got {count}")
        mean, se = mean_and_stderr(r[: int(count)])
        running.append((int(count), float(mean), float(se)))
    mean, se = mean_and_stderr(r)
    return MonteCarloEstimate(float(mean), float(se), r.numel(), tuple(running))
