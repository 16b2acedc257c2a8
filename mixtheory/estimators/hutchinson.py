r"""Hutchinson averages of per-probe values: R2 and R13 = R1 + R3 from probes with ``E[v vᵀ] = Σ^(i)``.

For any probe law with ``E[v vᵀ] = Σ`` (Hutchinson 1989; :mod:`.probes`),
``E[vᵀ M v] = tr(Σ M)``. With ``u = f(x̃_i)``, ``H = ℓ_uu(ỹ_i, u)``, ``w = ℓ_u(ỹ_i, u)`` and
``Σ = Σ^(i)_xx`` (Lemma 2 of Carratino et al., JMLR 2022), Theorem 3's

.. math::

    R_2 = \tfrac12 \operatorname{tr}(\Sigma\, \nabla^2 g),\quad g(x) = w^\top f(x)\ (w\ \text{fixed}),

is the mean of ``½ vᵀ∇²g v``, and R13 = R1 + R3 the mean of :func:`r13_per_probe`. Standard errors
are the sample standard deviation of the per-probe values over √K. The values are right-skewed
quadratic forms, so for small K the studentized error is heavier-tailed than normal (measured on a
softplus MLP: z-score variance 1.3 for Gaussian and 1.65 for mixup probes on R1 at K = 64,
1.13/1.21 at K = 256, 1.0/1.06 at K = 1024): trust ±2 SE from K ≈ 256 on.
"""

from __future__ import annotations

import torch

from .._types import Tensor
from ..geometry import MixupGeometry
from ..losses import Loss
from ..monte_carlo import mean_and_stderr

__all__ = ["probe_average", "r13_per_probe"]


def probe_average(values: Tensor, exact: bool) -> tuple[Tensor, Tensor]:
    """Hutchinson average of per-probe values (m, k) and its standard error, (m,) each; the sum
    with zero error for exact (factor-column) probes.

    >>> probe_average(torch.tensor([[1.0, 3.0]]), exact=False)
    (tensor([2.]), tensor([1.]))
    >>> probe_average(torch.tensor([[1.0, 3.0]]), exact=True)
    (tensor([4.]), tensor([0.]))
    """
    if exact:
        return values.sum(1), torch.zeros_like(values[:, 0])
    return mean_and_stderr(values, dim=1)


def r13_per_probe(
    geometry: MixupGeometry, loss: Loss, idx: Tensor, u: Tensor, coords: Tensor, jv: Tensor
) -> Tensor:
    r"""Per-probe values of R13 = R1 + R3, (m, k): ``½ (∇f v)ᵀ ℓ_uu (∇f v) + (∇f v)ᵀ ℓ_uy p`` with
    ``p = Σ_yx Σ_xx⁺ v``, for outputs u (m, c), probes given by their range coordinates ``coords``
    (m, k, r) in the frame of :meth:`~mixtheory.MixupGeometry.range_coordinates` and ``∇f v`` = jv
    (m, k, c) (``docs/theory.md`` §7.3).

    Since ``E[v pᵀ] = Σ_xx Σ_xx⁺ Σ_xy = Σ_xy`` their mean is ``½⟨Σ_xx, ∇fᵀℓ_uu∇f⟩ + ⟨Σ_yx, ℓ_yu∇f⟩``
    = R13 (Theorem 3 with R3's completed square undone); no ℓ_uu⁻¹ enters, so nothing cancels however
    saturated the softmax is (R1 = R13 − R3 with the exact R3).

    p in O(r·c) per probe from the geometry's public
    :meth:`~mixtheory.MixupGeometry.pinv_cross_coordinates` (``p = Q_iᵀ coords``), for any partner
    law: every probe and every column of ``Σ_xy`` lie in the range of ``Σ^(i)_xx``, whose frame the
    coordinates are given in (Sherman–Morrison in the shared basis under uniform pairing, the
    anchor's own factor otherwise): an (r × c) matrix per sample, never a d-vector per probe.
    """
    y = geometry.y_tilde[idx]
    proj = torch.einsum("mkr,mrc->mkc", coords, geometry.pinv_cross_coordinates(idx))
    quad = torch.einsum("mkc,mcl,mkl->mk", jv, loss.hess_uu(y, u), jv)
    cross = torch.einsum("mkc,mcl,mkl->mk", jv, loss.hess_uy(y, u), proj)
    return 0.5 * quad + cross
