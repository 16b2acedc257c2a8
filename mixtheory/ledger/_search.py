r"""The one counterexample search of the ledger: random draws, then a scipy optimizer.

A claim states an inequality or identity; its *margin* is a number that is positive exactly when
the claim is violated (or, for a bound, the ratio of the two sides). :func:`counterexample_search`
first evaluates ``draws`` random instances (``draw(rng, found)`` returns a :class:`Draw` with named
margins and, when the instance violates the claim, a record to store), then runs ``restarts``
local optimizations (``restart(rng)`` returns a :class:`Restart`: an objective to *maximise* and
its start point) with :func:`scipy.optimize.minimize`. A claim that survives records the budget.

>>> rng = np.random.default_rng(0)
>>> result = counterexample_search(
...     rng,
...     draw=lambda rng, found: Draw({"x": float(rng.uniform(-1, 0))}),
...     draws=100,
...     restart=lambda rng: Restart(lambda p: -float(p @ p), rng.standard_normal(2)),
...     restarts=2,
... )
>>> result.largest("x") <= 0 and abs(result.best_optimized) < 1e-6
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

__all__ = ["Draw", "Restart", "SearchResult", "counterexample_search"]


@dataclass
class Draw:
    """One random instance: named ``margins`` (the search reports every value and the largest of
    each) and ``violation``, the record to store when the instance violates the claim."""

    margins: dict[str, float]
    violation: dict[str, Any] | None = None


@dataclass
class Restart:
    """One optimizer start: the ``objective`` to maximise over a parameter vector, its start
    ``x0``, and any ``context`` the claim needs to interpret the optimum."""

    objective: Callable[[np.ndarray], float]
    x0: np.ndarray
    context: Any = None


@dataclass
class SearchResult:
    """Budgets and outcomes of :func:`counterexample_search`."""

    draws: int = 0
    margins: dict[str, list[float]] = field(default_factory=dict)
    violations: int = 0
    first_violation: dict[str, Any] | None = None
    restarts: int = 0
    optimized: list[float] = field(default_factory=list)
    optima: list[np.ndarray] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    def largest(self, name: str) -> float:
        """The largest value of margin ``name`` over the random draws (−inf if never given)."""
        return max(self.margins.get(name, []), default=-np.inf)

    @property
    def best_optimized(self) -> float:
        """The largest objective value any restart reached (−inf without restarts)."""
        return max(self.optimized, default=-np.inf)

    @property
    def best_x(self) -> np.ndarray | None:
        """The optimizer's point of :attr:`best_optimized` (the first such restart)."""
        return self.optima[int(np.argmax(self.optimized))] if self.optimized else None


def counterexample_search(
    rng: np.random.Generator,
    *,
    draw: Callable[[np.random.Generator, bool], Draw] | None = None,
    draws: int = 0,
    stop_at_first: bool = False,
    restart: Callable[[np.random.Generator], Restart] | None = None,
    restarts: int = 0,
    optimizer: str = "Nelder-Mead",
    maxiter: int = 600,
) -> SearchResult:
    """Random draws (``draw(rng, found)``, ``found`` telling whether a violation was already stored;
    stopping at the first violation when ``stop_at_first``), then ``restarts`` runs of
    ``scipy.optimize.minimize(−objective, x0, method=optimizer, maxiter)``; all randomness from ``rng``."""
    result = SearchResult()
    for _ in range(draws if draw is not None else 0):
        result.draws += 1
        outcome = draw(rng, result.first_violation is not None)
        for name, value in outcome.margins.items():
            result.margins.setdefault(name, []).append(float(value))
        if outcome.violation is not None:
            result.violations += 1
            if result.first_violation is None:
                result.first_violation = outcome.violation
            if stop_at_first:
                break
    for _ in range(restarts if restart is not None else 0):
        start = restart(rng)

        def negated(p: np.ndarray, f: Callable[[np.ndarray], float] = start.objective) -> float:
            return -f(p)

        res = optimize.minimize(negated, start.x0, method=optimizer, options={"maxiter": maxiter})
        result.restarts += 1
        result.optimized.append(-float(res.fun))
        result.optima.append(np.asarray(res.x))
        result.contexts.append(start.context)
    return result
