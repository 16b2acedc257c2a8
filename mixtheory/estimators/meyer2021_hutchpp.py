r"""Hutch++ for R2 in the factor space of Σ^(i) (Meyer, Musco, Musco, Woodruff, "Hutch++: Optimal
Stochastic Trace Estimation", SOSA 2021).

``tr(Σ^(i) ∇²g) = tr(A)`` with ``A = Lᵀ ∇²g L`` ((1 + r) × (1 + r), ``Σ^(i) = L Lᵀ``). With
k = num_products // 3: sketch ``Y = A S`` (S: k factor-space probes), ``Q = orth(Y)``, and

.. math::

    \operatorname{tr}(A) \approx \operatorname{tr}(Q^\top A Q)
        + \frac{1}{k'} \sum_j g_j^\top (I - QQ^\top) A (I - QQ^\top) g_j

with k' = num_products − 2k further probes: the first term is exact given Q, the second is
Hutchinson (1989) on the deflated remainder (its standard error is reported). The sketch probes
``L S`` also serve the probe estimate of R13, which then rests on k probes only.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .._types import Tensor
from ..geometry import MixupGeometry
from ..monte_carlo import mean_and_stderr
from .evaluators import _DerivativeEvaluator
from .options import ProbeKind
from .probes import factor_space_coefficients, range_coordinates

__all__ = ["HutchPlusPlusTrace", "hutch_plus_plus"]


class HutchPlusPlusTrace(NamedTuple):
    """Per-sample ``tr(Lᵀ∇²g L)`` (m,) with its standard error (m,), the probes V (m, k, d) whose
    ``∇f V`` (m, k, c) came for free, their range coordinates ``Vᵀ v`` (m, k, r), and whether V are
    the exact factor columns."""

    trace: Tensor
    trace_se: Tensor
    probes: Tensor
    coords: Tensor
    jv: Tensor
    exact_columns: bool


def hutch_plus_plus(
    evaluator: _DerivativeEvaluator,
    geometry: MixupGeometry,
    idx: Tensor,
    xt: Tensor,
    w: Tensor,
    kind: ProbeKind,
    num_products: int,
    seeds: list[int],
) -> HutchPlusPlusTrace:
    r"""Hutch++ estimate of ``tr(Lᵀ ∇²g L)`` for the samples ``idx`` at x̃ = ``xt`` (m, d), with
    ``g = wᵀf`` (w: (m, c)), ``num_products`` Hessian-vector products per sample and factor-space
    probes of law ``kind`` (``"gaussian"`` or ``"rademacher"``) seeded per sample by ``seeds``.

    When the sketch would span the whole factor space (k ≥ 1 + r), the exact trace costs
    1 + r ≤ k products and is returned with zero standard error.
    """
    factor_dim = 1 + geometry.rank
    k = max(1, num_products // 3)
    if k >= factor_dim:
        eye = torch.eye(factor_dim, dtype=geometry.dtype, device=geometry.device)
        L = geometry.factor_apply(eye.expand(len(seeds), factor_dim, factor_dim), idx)
        jv, curv = evaluator(xt, w, L)
        trace = curv.to(geometry.dtype).sum(1)
        coords = range_coordinates(geometry, eye.expand(len(seeds), factor_dim, factor_dim), idx)
        return HutchPlusPlusTrace(trace, torch.zeros_like(trace), L, coords, jv, True)
    k_rest = max(1, num_products - 2 * k)
    coeffs = factor_space_coefficients(kind, seeds, k + k_rest, factor_dim, geometry.dtype)
    coeffs = coeffs.to(geometry.device)
    S, G = coeffs[:, :k], coeffs[:, k:]
    LS = geometry.factor_apply(S, idx)
    jv_sketch, hv = evaluator.hessian_vector_products(xt, w, LS)
    Y = geometry.factor_transpose_apply(hv.to(geometry.dtype), idx)  # (m, k, p) = (A S)ᵀ
    Q, _ = torch.linalg.qr(Y.transpose(1, 2))  # (m, p, k)
    Qt = Q.transpose(1, 2)
    _, top = evaluator(xt, w, geometry.factor_apply(Qt, idx))
    G = G - (G @ Q) @ Qt  # deflate: (I − QQᵀ) g
    _, rest = evaluator(xt, w, geometry.factor_apply(G, idx))
    rest_mean, rest_se = mean_and_stderr(rest.to(geometry.dtype), dim=1)
    trace = top.to(geometry.dtype).sum(1) + rest_mean
    return HutchPlusPlusTrace(trace, rest_se, LS, range_coordinates(geometry, S, idx), jv_sketch, False)
