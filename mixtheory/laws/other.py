r"""The other laws of λ: Uniform, point masses (ERM), mixtures (RegMixup), the W-shaped law, a law
from a density, the empirical law of samples, Zhang et al.'s λ̃, and the command-line names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from scipy import integrate

from .._types import ArrayLike, Generator, Shape, Tensor
from .base import MixingLaw, as_shape, check_positive, sample_beta
from .beta import Beta, SymmetricBeta
from .quadrature import DEFAULT_NODES, QuadratureRule, beta_rule, check_num_nodes, tanh_sinh

__all__ = [
    "ERM",
    "Empirical",
    "FromDensity",
    "Mixture",
    "PointMass",
    "Uniform",
    "WShaped",
    "ZhangLambdaTilde",
    "law_from_name",
]


class Uniform(SymmetricBeta):
    """λ ~ U[0, 1] = Beta(1, 1): θ uniform on [1/2, 1], θ̄ = 3/4, σ² = 1/48, γ² = 1/12."""

    def __init__(self) -> None:
        super().__init__(1.0)
        self.name = "Uniform()"


class PointMass(MixingLaw):
    """λ = value with probability one (θ = max(value, 1 − value)). ``PointMass(1.0)`` is ERM."""

    def __init__(self, value: float):
        value = float(value)
        if not (0.0 <= value <= 1.0):
            raise ValueError(f"value must lie in [0, 1], got {value!r}")
        self.value = value
        self.name = f"PointMass({value:g})"

    def theta_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        return QuadratureRule(np.array([max(self.value, 1.0 - self.value)]), np.ones(1))

    def lambda_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        return QuadratureRule(np.array([self.value]), np.ones(1))

    def sample_lambda(self, shape: Shape, generator: Generator = None) -> Tensor:
        return torch.full(as_shape(shape), self.value, dtype=torch.float64)


def ERM() -> PointMass:
    """The α → 0 limit of mixup: θ = 1, no perturbation, the regularizers vanish."""
    return PointMass(1.0)


class Mixture(MixingLaw):
    r"""λ drawn from ``components[k]`` with probability ``weights[k]``.

    RegMixup (clean plus mixed samples) is ``Mixture([PointMass(1.0), SymmetricBeta(α)], [w, 1−w])``.
    Moments are exact mixtures of the components' (closed-form where they have one):
    ``θ̄ = Σ w_k θ̄_k``, ``γ² = Σ w_k γ²_k``, ``σ² = γ² − (1 − θ̄)²``.

    >>> reg = Mixture([PointMass(1.0), Uniform()], [0.5, 0.5])
    >>> reg.theta_mean
    0.875
    """

    def __init__(self, components: Sequence[MixingLaw], weights: Sequence[float]):
        components = list(components)
        weights = np.asarray(weights, dtype=np.float64)
        if len(components) == 0 or weights.shape != (len(components),):
            raise ValueError("components and weights must be non-empty and of the same length")
        if not all(isinstance(c, MixingLaw) for c in components):
            raise TypeError("every component must be a MixingLaw")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError(f"weights must be finite, non-negative, not all zero; got {weights}")
        if abs(weights.sum() - 1.0) > 1e-12:
            raise ValueError(f"weights must sum to 1 (they sum to {weights.sum():.17g}); divide by their sum")
        self.components = components
        self.weights = weights
        self.name = "Mixture([" + ", ".join(f"{w:g}·{c!r}" for c, w in zip(components, weights)) + "])"

    def theta_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        return QuadratureRule.concatenate(
            [c.theta_rule(num_nodes).scaled(w) for c, w in zip(self.components, self.weights)]
        )

    def lambda_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        return QuadratureRule.concatenate(
            [c.lambda_rule(num_nodes).scaled(w) for c, w in zip(self.components, self.weights)]
        )

    @property
    def theta_mean(self) -> float:
        return float(sum(w * c.theta_mean for c, w in zip(self.components, self.weights)))

    @property
    def gamma2(self) -> float:
        return float(sum(w * c.gamma2 for c, w in zip(self.components, self.weights)))

    @property
    def theta_var(self) -> float:
        # Law of total variance: no E θ² − θ̄² cancellation when components are concentrated.
        tm = self.theta_mean
        return float(
            sum(w * (c.theta_var + (c.theta_mean - tm) ** 2) for c, w in zip(self.components, self.weights))
        )

    def sample_lambda(self, shape: Shape, generator: Generator = None) -> Tensor:
        shape = as_shape(shape)
        probs = torch.as_tensor(self.weights, dtype=torch.float64)
        which = torch.multinomial(probs, max(1, math.prod(shape)), replacement=True, generator=generator)
        which = which[: math.prod(shape)].reshape(shape)
        out = torch.empty(shape, dtype=torch.float64)
        for k, comp in enumerate(self.components):
            mask = which == k
            count = int(mask.sum())
            if count:
                out[mask] = comp.sample_lambda(count, generator)
        return out


class WShaped(MixingLaw):
    r"""The W-shaped law from the summary slides of the sources: λ = X/2 or (X+1)/2 with probability
    1/2 each, X ~ Beta(α, α).

    Folding gives θ = (1+X)/2 (X is symmetric), so ``θ̄ = 3/4``, ``σ² = 1/(16(2α+1))``,
    ``γ² = σ² + 1/16``.

    >>> law = WShaped(0.5)
    >>> law.theta_mean, law.theta_var == 1 / 32
    (0.75, True)
    """

    def __init__(self, alpha: float):
        self.alpha = check_positive("alpha", alpha)
        self.name = f"WShaped({self.alpha:g})"

    def theta_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        base = beta_rule(self.alpha, self.alpha, check_num_nodes(num_nodes), 0.0)
        return QuadratureRule(0.5 * (1.0 + base.nodes), base.weights)

    def lambda_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        base = beta_rule(self.alpha, self.alpha, check_num_nodes(num_nodes), 0.0)
        return QuadratureRule(
            np.concatenate([0.5 * base.nodes, 0.5 * (1.0 + base.nodes)]),
            np.concatenate([0.5 * base.weights, 0.5 * base.weights]),
        )

    @property
    def theta_mean(self) -> float:
        return 0.75

    @property
    def theta_var(self) -> float:
        return 1.0 / (16.0 * (2.0 * self.alpha + 1.0))

    @property
    def gamma2(self) -> float:
        return self.theta_var + 1.0 / 16.0

    def sample_lambda(self, shape: Shape, generator: Generator = None) -> Tensor:
        shape = as_shape(shape)
        x = sample_beta(self.alpha, self.alpha, shape, generator)
        upper = torch.rand(shape, generator=generator, dtype=torch.float64) < 0.5
        return torch.where(upper, 0.5 * (x + 1.0), 0.5 * x)


class FromDensity(MixingLaw):
    r"""λ with density ``pdf`` on [0, 1] (normalized numerically; need not integrate to 1).

    ``pdf`` maps a numpy array of points in (0, 1) to non-negative values. Quadrature is
    tanh–sinh (double exponential) on [1/2, 1] for the folded density ``pdf(θ) + pdf(1−θ)``,
    robust to integrable endpoint singularities; sampling is by inverse CDF on a fine grid.

    >>> law = FromDensity(lambda x: 6 * x * (1 - x))    # Beta(2, 2)
    >>> abs(law.theta_mean - SymmetricBeta(2.0).theta_mean) < 1e-12
    True
    """

    def __init__(self, pdf: Callable[[np.ndarray], np.ndarray], name: str = "FromDensity"):
        if not callable(pdf):
            raise TypeError("pdf must be callable: numpy array of points in (0, 1) -> densities")
        self._raw_pdf = pdf
        probe = np.asarray(pdf(np.linspace(0.01, 0.99, 99)), dtype=np.float64)
        if probe.shape != (99,):
            raise ValueError("pdf must be vectorized: an array of points in, an array of values out")
        if not np.all(np.isfinite(probe)) or np.any(probe < 0):
            raise ValueError("pdf must return finite, non-negative values on (0, 1)")
        self.name = name
        total = sum(
            integrate.quad(self._raw, lo, hi, limit=200, epsabs=0.0, epsrel=1e-13)[0]
            for lo, hi in ((0.0, 0.5), (0.5, 1.0))
        )
        if not total > 0:
            raise ValueError("pdf integrates to 0 on [0, 1]")
        self._total = total

    def _raw(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self._raw_pdf(x), dtype=np.float64)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return self._raw(x) / self._total

    def theta_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        nodes, w = tanh_sinh(0.5, 1.0)
        weights = w * (self.pdf(nodes) + self.pdf(1.0 - nodes))
        return QuadratureRule(nodes, weights / weights.sum())

    def lambda_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        nodes, w = tanh_sinh(0.0, 1.0)
        weights = w * self.pdf(nodes)
        return QuadratureRule(nodes, weights / weights.sum())

    def expect(self, g: Callable[[np.ndarray], np.ndarray], num_nodes: int = DEFAULT_NODES) -> float:
        folded = lambda t: (self.pdf(t) + self.pdf(1.0 - t)) * g(t)  # noqa: E731
        value, _ = integrate.quad(folded, 0.5, 1.0, limit=200, epsabs=1e-14, epsrel=1e-13)
        return float(value)

    def sample_lambda(self, shape: Shape, generator: Generator = None) -> Tensor:
        shape = as_shape(shape)
        nodes, w = tanh_sinh(0.0, 1.0, level=9)
        cdf = np.cumsum(w * self.pdf(nodes))
        cdf /= cdf[-1]
        u = torch.rand(shape, generator=generator, dtype=torch.float64).numpy()
        return torch.from_numpy(np.interp(u, cdf, nodes)).to(torch.float64)


class Empirical(MixingLaw):
    r"""The empirical law of observed λ samples (e.g. a learned λ distribution); exact atoms.

    >>> round(Empirical([0.2, 0.9]).theta_mean, 15)   # atoms θ = 0.8 and 0.9
    0.85
    """

    def __init__(self, samples: ArrayLike):
        lam = np.asarray(torch.as_tensor(samples, dtype=torch.float64).reshape(-1))
        if lam.size == 0:
            raise ValueError("samples is empty: give at least one λ")
        if not np.all(np.isfinite(lam)) or np.any((lam < 0) | (lam > 1)):
            raise ValueError("samples must be finite and lie in [0, 1]")
        self.samples = lam
        self.name = f"Empirical({lam.size} samples)"

    def theta_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        th = np.maximum(self.samples, 1.0 - self.samples)
        return QuadratureRule(th, np.full(th.size, 1.0 / th.size))

    def lambda_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        return QuadratureRule(self.samples.copy(), np.full(self.samples.size, 1.0 / self.samples.size))

    def sample_lambda(self, shape: Shape, generator: Generator = None) -> Tensor:
        shape = as_shape(shape)
        idx = torch.randint(self.samples.size, shape, generator=generator)
        return torch.as_tensor(self.samples, dtype=torch.float64)[idx]


class ZhangLambdaTilde(Mixture):
    r"""Zhang, Deng, Kawaguchi, Ghorbani, Zou (ICLR 2021), Lemma 3.1: the law of λ̃ in the
    expansion of the mixup loss around x_i,

    ``λ̃ ~ α/(α+β) · Beta(α+1, β) + β/(α+β) · Beta(β+1, α)``; for α = β this is Beta(α+1, α).

    >>> law = ZhangLambdaTilde(1.0, 1.0)
    >>> abs(law.expect_lambda(lambda x: x) - 2 / 3) < 1e-13
    True
    """

    def __init__(self, alpha: float, beta: float | None = None):
        alpha = check_positive("alpha", alpha)
        beta = alpha if beta is None else check_positive("beta", beta)
        w = alpha / (alpha + beta)
        super().__init__([Beta(alpha + 1.0, beta), Beta(beta + 1.0, alpha)], [w, 1.0 - w])
        self.alpha, self.beta = alpha, beta
        self.name = f"ZhangLambdaTilde({alpha:g}, {beta:g})"

    @property
    def lambda_mean(self) -> float:
        """E λ̃ = Σ_k w_k a_k/(a_k+b_k)."""
        a, b = self.alpha, self.beta
        s = a + b
        return float(a / s * (a + 1) / (s + 1) + b / s * (b + 1) / (s + 1))


_LAW_NAMES = {
    "beta": SymmetricBeta,
    "symmetric-beta": SymmetricBeta,
    "w-shaped": WShaped,
    "zhang": ZhangLambdaTilde,
}


def law_from_name(name: str, alpha: float | None = None) -> MixingLaw:
    """Build a law from a command-line name: ``beta`` (default), ``w-shaped``, ``zhang``,
    ``regmixup`` (half clean, half Beta(α, α)), each needing ``alpha``; ``uniform`` takes none."""
    key = name.lower()
    if key == "uniform":
        if alpha is not None:
            raise ValueError("the uniform law has no parameter: leave alpha out")
        return Uniform()
    if alpha is None:
        raise ValueError(f"the {name!r} law needs alpha (its parameter α > 0)")
    alpha = check_positive("alpha", alpha)
    if key == "regmixup":
        return Mixture([PointMass(1.0), SymmetricBeta(alpha)], [0.5, 0.5])
    if key not in _LAW_NAMES:
        choices = ", ".join(sorted([*_LAW_NAMES, "uniform", "regmixup"]))
        raise ValueError(f"unknown law {name!r}; choose one of {choices}")
    return _LAW_NAMES[key](alpha)
