r"""The shared context every check reads: data, a trained smooth network, the geometry, the
regularizers and the exact mixup losses, each computed once (lazily, so a check run alone by
name computes only what it needs).

Presets: ``quick`` (a few seconds: 40 digits, a network trained for 100 steps), ``default``
(200 digits, quadrature sized to the accuracy each check needs) and ``full`` (200 digits, 96
nodes per piece everywhere and Theorem 1 on every sample: the size of the original suite).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import torch

from .._types import ArrayLike, Model
from ..closed_form import taylor_regularizers
from ..data import load_digits
from ..exact_loss import LossOptions, exact_mixup_loss
from ..expansions.second_order import CARRATINO_TERMS, second_order_from_terms
from ..geometry import MixupGeometry
from ..laws import MixingLaw, SymmetricBeta
from ..models import build_model, train_model
from ..reference import dense_regularizers
from ..regularizers import CancellationWarning
from .tolerances import EPS64

__all__ = [
    "Preset",
    "PRESETS",
    "Settings",
    "ExactLoss",
    "CheckContext",
    "train_smooth_mlp",
    "converged_exact_loss",
]

Preset = Literal["quick", "default", "full"]
Form = Literal["folded", "unfolded"]


@dataclass(frozen=True)
class Settings:
    """Sizes of one run. ``fixed_nodes``: nodes per piece for every exact loss (None: doubled from
    ``start_nodes`` until the |Q_n − Q_2n| estimate meets each check's target)."""

    num_samples: int = 200
    num_draws: int = 200
    train_steps: int = 300
    theorem1_samples: int = 50
    fixed_nodes: int | None = None
    start_nodes: int = 8
    max_nodes: int = 256
    significance: float = 1e-3
    dense_samples: int = 10
    num_scales: int = 4


PRESETS: dict[str, Settings] = {
    "quick": Settings(num_samples=40, num_draws=100, train_steps=100, theorem1_samples=20),
    "default": Settings(),
    "full": Settings(theorem1_samples=10**9, fixed_nodes=96),
}


def train_smooth_mlp(
    X: torch.Tensor, y: torch.Tensor, *, hidden: int = 32, steps: int = 300, seed: int = 0, lr: float = 0.02
) -> torch.nn.Module:
    """A float64 tanh MLP trained full-batch with Adam on cross-entropy (deterministic, seeded)."""
    model = build_model(
        "mlp", X.shape[1], int(y.max()) + 1, "tanh", hidden=(hidden,), dtype=torch.float64, seed=seed
    )
    train_model(model, X, y, epochs=steps, lr=lr, seed=seed)
    return model.eval()


@dataclass(frozen=True)
class ExactLoss:
    """An exact mixup loss ``value`` (the 2n-node rule) with its quadrature error estimate
    ``error = |Q_n − Q_2n|`` (a bound for Q_2n where Gauss rules converge geometrically)."""

    value: float
    error: float
    nodes: int


def converged_exact_loss(
    model: Model,
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    *,
    form: Form = "folded",
    relative: float = 0.0,
    start: int = 8,
    max_nodes: int = 256,
    fixed: int | None = None,
) -> ExactLoss:
    """Exact mixup loss with nodes per piece doubled from ``start`` until
    ``|Q_n − Q_2n| ≤ relative·|Q_2n|`` or ``4n > max_nodes``; with ``fixed``, Q_fixed and its
    estimate against Q_{fixed/2}."""

    def q(nodes: int) -> float:
        return exact_mixup_loss(
            model, X, Y, law, form=form, options=LossOptions(num_nodes=nodes, progress=False)
        )

    if fixed is not None:
        value = q(fixed)
        return ExactLoss(value, abs(q(max(1, fixed // 2)) - value), fixed)
    nodes, previous = start, q(start)
    while True:
        value = q(2 * nodes)
        error = abs(value - previous)
        if error <= relative * abs(value) or 4 * nodes > max_nodes:
            return ExactLoss(value, error, 2 * nodes)
        nodes, previous = 2 * nodes, value


@dataclass
class CheckContext:
    """Everything the checks share. Build it with :meth:`prepare`; the expensive parts are
    computed on first use and cached."""

    law: MixingLaw
    X: torch.Tensor
    Y: torch.Tensor
    model: torch.nn.Module
    settings: Settings
    seed: int = 0
    cache: dict = field(default_factory=dict)

    @classmethod
    def prepare(
        cls,
        settings: Settings,
        *,
        law: MixingLaw | None = None,
        seed: int = 0,
        model: torch.nn.Module | None = None,
        data: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> CheckContext:
        """Digits (or ``data``), the first ``num_samples`` of a stratified draw, and a tanh MLP
        trained on all of them (or ``model``)."""
        law = SymmetricBeta(0.5) if law is None else law
        if data is None:
            X_all, y_all = load_digits()
            X, y = load_digits(settings.num_samples, seed=seed)
        else:
            X_all, y_all = data
            X, y = X_all[: settings.num_samples], y_all[: settings.num_samples]
        if model is None:
            model = train_smooth_mlp(X_all, y_all, seed=seed, steps=settings.train_steps)
        Y = torch.nn.functional.one_hot(y, int(y_all.max()) + 1).to(torch.float64)
        return cls(law, X, Y, model, settings, seed)

    def generator(self, salt: int) -> torch.Generator:
        """A generator per check (``salt``), so a check run alone draws the same numbers."""
        return torch.Generator().manual_seed(self.seed * 1_000_003 + salt)

    @cached_property
    def geometry(self) -> MixupGeometry:
        return MixupGeometry(self.X, self.Y, self.law)

    @cached_property
    def regularizers(self) -> dict[str, torch.Tensor]:
        """taylor_regularizers on the data; the cancellation warning is reported as a row."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CancellationWarning)
            return taylor_regularizers(self.model, self.geometry)

    @cached_property
    def second_order_loss(self) -> float:
        """``E_Q = mean(erm + R13 + R2 + R4)`` (Theorem 3, R13 = R1 + R3 computed directly)."""
        return e_q(self.regularizers)

    @cached_property
    def dense_indices(self) -> list[int]:
        n = self.geometry.n
        return list(range(0, n, max(1, n // self.settings.dense_samples)))

    @cached_property
    def dense(self) -> dict[str, torch.Tensor]:
        """The brute-force reference (dense Σ^(i), inverses, full Hessians) on ``dense_indices``."""
        return dense_regularizers(self.model, self.geometry, indices=self.dense_indices)

    @cached_property
    def kappa(self) -> float:
        """Softmax condition number max S / min S over the dense samples (the dense route's)."""
        geo = self.geometry
        with torch.no_grad():
            probs = torch.softmax(self.model(geo.as_inputs(geo.x_tilde[self.dense_indices])), -1)
        return float((probs.max(-1).values / probs.min(-1).values).max())

    def exact(self, X: torch.Tensor, Y: torch.Tensor, *, form: Form = "folded", relative: float) -> ExactLoss:
        """The exact mixup loss on (X, Y), sized to a ``relative`` quadrature error."""
        s = self.settings
        return converged_exact_loss(
            self.model,
            X,
            Y,
            self.law,
            form=form,
            relative=relative,
            start=s.start_nodes,
            max_nodes=s.max_nodes,
            fixed=s.fixed_nodes,
        )

    @cached_property
    def exact_loss(self) -> ExactLoss:
        """E_mix on the data, to 1e-5 relative: ≤ 1/100 of the sampled loss's standard error
        (≥ 1e-3 relative at these sizes) and of the E_mix − E_Q gap."""
        return self.exact(self.X, self.Y, relative=1e-5)


def e_q(regs: dict[str, torch.Tensor]) -> float:
    """``E_Q = mean(erm + R13 + R2 + R4)``."""
    return second_order_from_terms(regs, CARRATINO_TERMS)


def rounding_floor(value: float, terms: int) -> float:
    """Random-walk rounding of a ``terms``-term float64 sum of magnitude ``|value|``: √K·eps·|value|."""
    return math.sqrt(terms) * EPS64 * abs(value)
