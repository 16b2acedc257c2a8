r"""Laws of the mixing coefficient λ and the moments of the folded coefficient θ = max(λ, 1−λ).

Carratino, Cissé, Jenatton, Vert, "On Mixup Regularization" (JMLR 2022), Theorem 1: under uniform
pairing the mixup loss is a perturbed ERM whose geometry depends on λ's law only through

.. math::

    \bar\theta = E\,\theta,\qquad \sigma^2 = \operatorname{Var}\theta,\qquad
    \gamma^2 = \sigma^2 + (1-\bar\theta)^2 = E(1-\theta)^2 .

The folding uses only that the pair (i, j) is uniform, so any law of λ on [0, 1] folds: θ has
density ``p(θ) + p(1−θ)`` on [1/2, 1].

Every law here offers

- the moments ``theta_mean``, ``theta_var``, ``gamma2`` (closed form where one exists),
- ``theta_rule(num_nodes)`` and ``lambda_rule(num_nodes)``: quadrature nodes and weights with
  ``E g(θ) ≈ Σ_k w_k g(θ_k)`` (resp. for λ on [0, 1]); atoms (point masses, empirical samples)
  are represented exactly,
- ``expect(g)`` = E_θ[g(θ)] and ``expect_lambda(g)`` through those rules,
- ``sample_lambda(shape, generator)`` and ``sample_theta(shape, generator)`` from a
  ``torch.Generator``.

Quadrature: Beta densities use Gauss–Jacobi, whose weight absorbs the endpoint singularity for
α < 1, and Gauss–Legendre on the window carrying all but 1e-20 of the mass
when the exponents are large (there the Jacobi weight no longer resembles the density).
"""

from .base import MixingLaw
from .beta import Beta, SymmetricBeta
from .other import (
    ERM,
    Empirical,
    FromDensity,
    Mixture,
    PointMass,
    Uniform,
    WShaped,
    ZhangLambdaTilde,
    law_from_name,
)

# DEFAULT_NODES is imported by the modules that integrate over a law; it stays out of __all__ as before
from .quadrature import DEFAULT_NODES as DEFAULT_NODES
from .quadrature import QuadratureRule

__all__ = [
    "MixingLaw",
    "QuadratureRule",
    "SymmetricBeta",
    "Beta",
    "Uniform",
    "WShaped",
    "PointMass",
    "Mixture",
    "FromDensity",
    "Empirical",
    "ZhangLambdaTilde",
    "ERM",
    "law_from_name",
]
