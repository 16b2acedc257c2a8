r"""The base class of the laws of λ, the check of their parameters, and Beta sampling."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .._types import Generator, Shape, Tensor
from .quadrature import DEFAULT_NODES, QuadratureRule

__all__ = ["MixingLaw", "as_shape", "check_positive", "sample_beta"]


def check_positive(name: str, value: float) -> float:
    """``value`` as a finite float > 0, or an error that names the parameter and its limits."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a positive number, got {value!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"{name} must be a finite number > 0, got {value!r}; "
            f"{name} -> 0 is ERM (use mixtheory.ERM()), large {name} concentrates λ at 1/2"
        )
    return value


class MixingLaw:
    r"""Base class: a law of λ on [0, 1]. Subclasses give ``theta_rule``, ``lambda_rule`` and
    ``sample_lambda``; moments default to high-order quadrature and are overridden by closed forms.
    """

    name: str = "law"

    # --- quadrature ---------------------------------------------------------------------------
    def theta_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        raise NotImplementedError

    def lambda_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        raise NotImplementedError

    def expect(self, g: Callable[[np.ndarray], np.ndarray], num_nodes: int = DEFAULT_NODES) -> float:
        r"""E_θ[g(θ)] by quadrature over the folded law (g takes and returns numpy arrays)."""
        return self.theta_rule(num_nodes).expect(g)

    def expect_lambda(self, g: Callable[[np.ndarray], np.ndarray], num_nodes: int = DEFAULT_NODES) -> float:
        r"""E_λ[g(λ)] by quadrature over the law of λ itself."""
        return self.lambda_rule(num_nodes).expect(g)

    # --- moments of θ --------------------------------------------------------------------------
    @property
    def theta_mean(self) -> float:
        return self.expect(lambda t: t)

    @property
    def gamma2(self) -> float:
        """γ² = E(1−θ)²."""
        return self.expect(lambda t: (1.0 - t) ** 2)

    @property
    def theta_var(self) -> float:
        """σ² = Var θ = γ² − (1−θ̄)², computed without the cancellation of E θ² − θ̄²."""
        centre = self.theta_mean
        return self.expect(lambda t: (t - centre) ** 2)

    def moments(self) -> dict[str, float]:
        """θ̄, σ², γ² and the ratios σ²/θ̄², γ²/θ̄² that scale the regularizers."""
        tm, tv, g2 = self.theta_mean, self.theta_var, self.gamma2
        return {
            "theta_mean": tm,
            "theta_var": tv,
            "gamma2": g2,
            "theta_var_over_theta_mean2": tv / tm**2,
            "gamma2_over_theta_mean2": g2 / tm**2,
        }

    # --- sampling ------------------------------------------------------------------------------
    def sample_lambda(self, shape: Shape, generator: Generator = None) -> Tensor:
        raise NotImplementedError

    def sample_theta(self, shape: Shape, generator: Generator = None) -> Tensor:
        lam = self.sample_lambda(shape, generator)
        return torch.maximum(lam, 1.0 - lam)

    def __repr__(self) -> str:
        return self.name


def as_shape(shape: Shape) -> tuple[int, ...]:
    return (shape,) if isinstance(shape, int) else tuple(shape)


def _log_gamma_variates(shape_param: float, shape: tuple[int, ...], generator: Generator) -> Tensor:
    """log of Gamma(shape_param, 1) variates, accurate for tiny shape parameters: for a < 1,
    G(a) = G(a + 1) · U^{1/a} (Marsaglia–Tsang's boost), kept in log space so nothing underflows."""
    base = shape_param + 1.0 if shape_param < 1.0 else shape_param
    g = torch._standard_gamma(torch.full(shape, base, dtype=torch.float64), generator=generator)
    log_g = torch.log(g)
    if shape_param < 1.0:
        u = torch.rand(shape, generator=generator, dtype=torch.float64)
        log_g = log_g + torch.log(u) / shape_param
    return log_g


def sample_beta(a: float, b: float, shape: Shape, generator: Generator) -> Tensor:
    """Beta(a, b) variates as G_a / (G_a + G_b) = sigmoid(log G_a − log G_b)."""
    shape = as_shape(shape)
    return torch.sigmoid(_log_gamma_variates(a, shape, generator) - _log_gamma_variates(b, shape, generator))
