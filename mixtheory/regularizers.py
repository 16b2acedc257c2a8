r"""The Taylor regularizers R1–R4 of Theorem 3 / Corollary 4 (Carratino et al., JMLR 2022).

Expanding ``ℓ(ỹ_i + ε, f(x̃_i + δ))`` to second order and averaging (first-order terms vanish):

.. math::

    E_Q(f) = \frac1n \sum_i \Big[\ell(\tilde y_i, f(\tilde x_i)) + R_1 + R_2 + R_3 + R_4\Big],

per sample, at ``(ỹ_i, f(x̃_i))`` with ``Σ = Σ^{(i)}``:

- ``R1 = ½ tr(Σ_xx (∇f − J)ᵀ ℓ_uu (∇f − J))``, ``J = −ℓ_uu⁻¹ ℓ_uy Σ_yx Σ_xx⁺``
- ``R2 = ½ ⟨Σ_xx, Σ_k (ℓ_u)_k ∇²f_k⟩``
- ``R3 = −½ tr(ℓ_uu⁻¹ ℓ_uy Σ_yx Σ_xx⁺ Σ_xy ℓ_yu)``
- ``R4 = ½ ⟨Σ_yy, ℓ_yy⟩``

``R1 + R3`` is the completed square of ``R13 = ½⟨Σ_xx, ∇fᵀ ℓ_uu ∇f⟩ + ⟨Σ_yx, ℓ_yu ∇f⟩``. This
module computes ``R13`` and ``R3`` from the structured geometry (no d×d matrix per sample) and
returns both, with ``R1 = R13 − R3``.

**Read R13, not R1 + R3.** For cross-entropy ``ℓ_uu⁻¹ = H⁺ = P diag(1/S) P``, so R1 and −R3 each
grow like ``1/min_k S_k`` on a confident network (1e8 on a digits MLP trained for 300 steps, 1e19
when its logits are doubled) while R13 stays O(1): adding the two returned numbers loses every
digit. ``E_Q = erm + R13 + R2 + R4`` per sample. The result carries ``cancellation``
= ``max(|R1|, |R3|) / |R13|`` per sample (10^k: k digits lost by adding R1 and R3) and a
:class:`CancellationWarning` is raised once per call when that exceeds ``1/√eps`` of the working
dtype. The brute-force route that forms J and every Σ^(i) is :mod:`mixtheory.reference`; the
tests hold one against the other.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Literal

import torch

from ._types import Indices, Tensor
from ._validation import (
    check_labels_sum_to_one,
)
from .derivatives import derivatives_at
from .geometry import MixupGeometry
from .losses import Loss, get_loss

__all__ = [
    "CancellationWarning",
    "cancellation",
    "warn_if_cancelling",
    "regularizers_from_derivatives",
    "label_regularizers",
    "model_derivatives",
]


class CancellationWarning(UserWarning):
    """R1 and R3 are each so much larger than R1 + R3 that adding them loses over half the digits."""


def cancellation(R1: Tensor, R3: Tensor, R13: Tensor) -> Tensor:
    r"""Per-sample conditioning of the sum R1 + R3: ``max(|R1|, |R3|) / |R13|`` (1 where all
    three vanish). Adding the separately computed R1 and R3 loses about log10 of it in digits."""
    big = torch.maximum(R1.abs(), R3.abs())
    ratio = big / R13.abs()
    return torch.where(big == 0, torch.ones_like(ratio), ratio)


def warn_if_cancelling(ratio: Tensor, dtype: torch.dtype, stacklevel: int = 3) -> None:
    """One :class:`CancellationWarning` when some sample's ``cancellation`` exceeds 1/√eps."""
    limit = torch.finfo(dtype).eps ** -0.5
    bad = ratio > limit
    if bool(bad.any()):
        warnings.warn(
            f"R1 and −R3 exceed their sum R13 by up to {float(ratio.max()):.1e}× ({int(bad.sum())} of "
            f"{ratio.numel()} samples above 1/√eps = {limit:.1e} for {dtype}): the softmax is "
            "saturated and adding R1 and R3 loses more than half the digits. Use the 'R13' entry "
            "(computed directly) for R1 + R3 and E_Q = erm + R13 + R2 + R4; R1 and R3 are each "
            "right on their own but mostly cancel.",
            CancellationWarning,
            stacklevel=stacklevel,
        )


def check_regularizer_labels(geometry: MixupGeometry, loss: Loss) -> None:
    if loss.requires_normalized_labels:
        check_labels_sum_to_one("Y", geometry.Y, f"the {loss.name} regularizers")


def label_regularizers(
    geometry: MixupGeometry, outputs: Tensor, loss: str | Loss = "ce", *, indices: Indices = None
) -> dict[str, Tensor]:
    r"""The terms that need only the outputs ``u_i = f(x̃_i)`` (m, c), no derivative of f:
    ``erm = ℓ(ỹ_i, u_i)``, ``R3 = −½ tr(ℓ_uu⁻¹ ℓ_uy K_i ℓ_yu)`` with
    ``K_i = Σ^(i)_yx (Σ^(i)_xx)⁺ Σ^(i)_xy``, and ``R4 = ½⟨Σ^(i)_yy, ℓ_yy⟩``; each (m,)."""
    loss = get_loss(loss)
    check_regularizer_labels(geometry, loss)
    idx = geometry.sample_indices(indices)
    u = torch.as_tensor(outputs).to(dtype=geometry.dtype, device=geometry.device)
    if u.shape != (idx.numel(), geometry.c):
        raise ValueError(f"outputs must have shape ({idx.numel()}, {geometry.c}), got {tuple(u.shape)}")
    y = geometry.y_tilde[idx]
    L_uy, L_yy = loss.hess_uy(y, u), loss.hess_yy(y, u)
    K = geometry.projected_label_covariance(idx)
    inner = L_uy @ K @ L_uy.transpose(1, 2)
    R3 = -0.5 * torch.diagonal(loss.inverse_uu_apply(y, u, inner), dim1=-2, dim2=-1).sum(-1)
    R4 = 0.5 * geometry.frobenius_yy(L_yy, idx)
    return {"erm": loss.value(y, u), "R3": R3, "R4": R4}


def regularizers_from_derivatives(
    geometry: MixupGeometry,
    outputs: Tensor,
    jacobians: Tensor,
    loss: str | Loss = "ce",
    *,
    indices: Indices = None,
    r2: Tensor | None = None,
    hessian_contraction: Tensor | None = None,
    return_j: bool = False,
    warn: bool = True,
    r13_through: Literal["geometry", "factor"] = "geometry",
) -> dict[str, Tensor]:
    r"""R1–R4, the combined R13 = R1 + R3 and its ``cancellation`` from the network's derivatives
    at the contracted points, for a geometry of any partner law.

    Args:
        geometry: the mixup geometry.
        outputs: ``f(x̃_i)``, (m, c).
        jacobians: ``∇f(x̃_i)``, (m, c, d) (input flattened).
        loss: ``"ce"``, ``"mse"``, ``"logistic"``, a Loss or a callable.
        indices: the samples the rows refer to (default: all n, in order).
        r2: precomputed ``R2`` values (m,), e.g. from a probe estimator; or
        hessian_contraction: ``T_i = Σ_k (ℓ_u)_k ∇²f_k(x̃_i)``, (m, d, d), giving
            ``R2 = ½(σ² a_iᵀ T_i a_i + γ² ⟨Σ_xx, T_i⟩)``. With neither, R2 is NaN.
        return_j: also return ``J`` (m, c, d).
        warn: raise a :class:`CancellationWarning` when R1 + R3 cancels badly.
        r13_through: ``"geometry"`` (default) computes
            ``R13 = ½⟨Σ_xx, ∇fᵀ ℓ_uu ∇f⟩ + ⟨Σ_yx, ℓ_yu ∇f⟩`` by
            :meth:`~mixtheory.MixupGeometry.jacobian_contraction` (the shared basis under uniform
            pairing, the per-anchor factors otherwise); ``"factor"`` through the factor only,
            ``½ ‖ℓ_uu^{1/2} ∇f L_i‖²_F + ⟨ℓ_uy, (∇f L_i)(L^y_i)ᵀ⟩``
            (:meth:`~MixupGeometry.factor_transpose_apply`, :meth:`~MixupGeometry.cross_factor`),
            for every law the same arithmetic. Equal to rounding.

    Returns a dict of (m,) tensors ``erm, R1, R2, R3, R4, R13, cancellation`` (and ``J``).
    """
    loss = get_loss(loss)
    check_regularizer_labels(geometry, loss)
    idx = geometry.sample_indices(indices)
    m = idx.numel()
    u, Jf = _checked_derivatives(geometry, outputs, jacobians, m)
    y = geometry.y_tilde[idx]
    L_uy = loss.hess_uy(y, u)
    if r13_through == "geometry":
        R13 = geometry.jacobian_contraction(Jf, loss.hess_uu(y, u), L_uy, idx)
    elif r13_through == "factor":
        R13 = _r13_through_factor(geometry, idx, Jf, loss.hess_uu(y, u), L_uy)
    else:
        raise ValueError(f"r13_through must be 'geometry' or 'factor', got {r13_through!r}")
    labels = label_regularizers(geometry, u, loss, indices=idx)
    R2 = _curvature_term(geometry, idx, r2, hessian_contraction)

    R3 = labels["R3"]
    R1 = R13 - R3
    out = {"erm": labels["erm"], "R1": R1, "R2": R2, "R3": R3, "R4": labels["R4"], "R13": R13}
    out["cancellation"] = cancellation(R1, R3, R13)
    if warn:
        warn_if_cancelling(out["cancellation"], geometry.dtype)
    if return_j:
        # J = −ℓ_uu⁻¹ ℓ_uy Σ_yx Σ_xx⁺ = −ℓ_uu⁻¹ ℓ_uy (Σ_xx⁺ Σ_xy)ᵀ
        pinv_xy = geometry.pinv_sigma_xy(idx)  # (m, d, c)
        out["J"] = -loss.inverse_uu_apply(y, u, L_uy @ pinv_xy.transpose(1, 2))
    return out


def _checked_derivatives(
    geometry: MixupGeometry, outputs: Tensor, jacobians: Tensor, m: int
) -> tuple[Tensor, Tensor]:
    """Outputs (m, c) and Jacobians (m, c, d) in the geometry's dtype and device, shapes checked."""
    u = torch.as_tensor(outputs).to(dtype=geometry.dtype, device=geometry.device)
    Jf = torch.as_tensor(jacobians).to(dtype=geometry.dtype, device=geometry.device)
    if u.shape != (m, geometry.c):
        raise ValueError(f"outputs must have shape ({m}, {geometry.c}), got {tuple(u.shape)}")
    if Jf.shape != (m, geometry.c, geometry.d):
        raise ValueError(
            f"jacobians must have shape ({m}, {geometry.c}, {geometry.d}), got {tuple(Jf.shape)}"
        )
    return u, Jf


def _r13_through_factor(
    geometry: MixupGeometry, idx: Tensor, Jf: Tensor, L_uu: Tensor, L_uy: Tensor
) -> Tensor:
    """R13 = ½ ‖ℓ_uu^{1/2} ∇f L‖²_F + ⟨ℓ_uy, (∇f L)(L^y)ᵀ⟩ per sample (m,), with Σ_xx = L Lᵀ and
    Σ_xy = L L^yᵀ (the uncompleted form, no ℓ_uu⁻¹)."""
    JL = geometry.factor_transpose_apply(Jf, idx)  # ∇f L_i, (m, c, w)
    quad = torch.einsum("mkw,mkl,mlw->m", JL, L_uu, JL)
    JS_xy = JL @ geometry.cross_factor(idx).transpose(1, 2)  # ∇f Σ_xy, (m, c, c)
    return 0.5 * quad + torch.einsum("mkl,mkl->m", L_uy, JS_xy)


def _curvature_term(
    geometry: MixupGeometry, idx: Tensor, r2: Tensor | None, hessian_contraction: Tensor | None
) -> Tensor:
    """R2 (m,): the given values, ``½⟨Σ^(i)_xx, T_i⟩`` from the Hessian contraction, or NaN."""
    m = idx.numel()
    if r2 is not None:
        return torch.as_tensor(r2, dtype=geometry.dtype, device=geometry.device).reshape(m)
    if hessian_contraction is not None:
        return 0.5 * geometry.frobenius_xx(hessian_contraction, idx)
    return torch.full((m,), float("nan"), dtype=geometry.dtype, device=geometry.device)


def model_derivatives(
    model: Callable[[Tensor], Tensor],
    geometry: MixupGeometry,
    loss: str | Loss = "ce",
    indices: Indices = None,
    *,
    hessian: bool = True,
) -> tuple[Tensor, Tensor, Tensor | None]:
    r""":func:`~mixtheory.derivatives.derivatives_at` the contracted points ``(x̃_i, ỹ_i)`` of the
    requested samples: outputs (m, c), Jacobians (m, c, d) and ``T_i`` (m, d, d), in the geometry's dtype."""
    idx = geometry.sample_indices(indices)
    return derivatives_at(
        model,
        geometry.x_tilde[idx],
        geometry.y_tilde[idx],
        loss,
        input_shape=geometry.input_shape,
        hessian=hessian,
    )
