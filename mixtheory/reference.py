r"""Brute-force references, slow on purpose: ground truth for tests and the naive side of benchmarks.

Everything here forms the dense per-sample matrices the fast paths avoid: ``Σ^(i)`` as a d×d
matrix, its pseudo-inverse by ``torch.linalg.pinv``, ``J^(i)`` explicitly, and the full c×d×d input
Hessian of the model. Formulas are written exactly as in Theorem 3 of Carratino et al. (JMLR 2022),
with no algebraic shortcut (in particular R1 is computed from J, not from the completed square).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ._types import Indices, Tensor
from ._validation import check_eval_mode
from .geometry import MixupGeometry
from .losses import CrossEntropy, Loss, get_loss

#: a dense matrix: a torch tensor or a sympy matrix (theorem3_dense serves both)
Matrix = Any

__all__ = ["theorem3_dense", "dense_regularizers", "dense_regularizers_from_derivatives", "dense_lemma2"]


def _pinv_uu(loss: Loss, L_uu: Tensor) -> Tensor:
    if isinstance(loss, CrossEntropy):
        # H is symmetric with null space exactly span(1), so H + 11ᵀ/c is invertible and
        # H⁺ = (H + 11ᵀ/c)⁻¹ − 11ᵀ/c. (torch.linalg.pinv is not used: its cutoff decides
        # whether H's rounding-level null eigenvalue is inverted, and gives 1e-4 errors at
        # moderately saturated softmax outputs.)
        c = L_uu.shape[-1]
        ones = torch.full_like(L_uu, 1.0 / c)
        return torch.linalg.inv(L_uu + ones) - ones
    return torch.linalg.inv(L_uu)


def _trace(matrix):
    """Trace of a torch tensor or a sympy matrix."""
    return matrix.trace() if hasattr(matrix, "is_square") else torch.trace(matrix)


def theorem3_dense(
    sigma_xx: Matrix,
    sigma_xy: Matrix,
    jacobian: Matrix,
    loss_uu: Matrix,
    loss_uy: Matrix,
    *,
    loss_uu_inverse: Matrix | None = None,
    sigma_xx_pinv: Matrix | None = None,
    sigma_yy: Matrix | None = None,
    loss_yy: Matrix | None = None,
    hessian_contraction: Matrix | None = None,
) -> dict[str, Any]:
    r"""Theorem 3 (Carratino et al., JMLR 2022) for one sample, written once with dense matrices,
    for torch tensors and sympy matrices alike (only ``@``, ``.T`` and traces):

    - ``R13 = ½ tr(Σ_xx ∇fᵀ ℓ_uu ∇f) + tr(ℓ_uyᵀ ∇f Σ_xy)`` (the uncompleted form, no ℓ_uu⁻¹);
    - with ``loss_uu_inverse`` and ``sigma_xx_pinv``: ``J = −ℓ_uu⁻¹ ℓ_uy Σ_yx Σ_xx⁺``,
      ``R1 = ½ tr(Σ_xx (∇f − J)ᵀ ℓ_uu (∇f − J))``, ``R3 = −½ tr(ℓ_uu⁻¹ ℓ_uy Σ_yx Σ_xx⁺ Σ_xy ℓ_yu)``;
    - with ``sigma_yy`` and ``loss_yy``: ``R4 = ½⟨Σ_yy, ℓ_yy⟩``; with ``hessian_contraction``
      ``T = Σ_k (ℓ_u)_k ∇²f_k``: ``R2 = ½⟨Σ_xx, T⟩``.

    Shapes: Σ_xx (d, d), Σ_xy (d, c), ∇f (c, d), ℓ_uu, ℓ_uy, ℓ_yy, Σ_yy (c, c), T (d, d).
    The brute-force reference, the symbolic proof of the completed square and the tests all use
    this one function."""
    out = {
        "R13": _trace(sigma_xx @ jacobian.T @ loss_uu @ jacobian) / 2
        + _trace(loss_uy.T @ jacobian @ sigma_xy)
    }
    if loss_uu_inverse is not None and sigma_xx_pinv is not None:
        J = -(loss_uu_inverse @ loss_uy @ sigma_xy.T @ sigma_xx_pinv)
        E = jacobian - J
        out["J"] = J
        out["R1"] = _trace(sigma_xx @ E.T @ loss_uu @ E) / 2
        out["R3"] = -_trace(loss_uu_inverse @ loss_uy @ sigma_xy.T @ sigma_xx_pinv @ sigma_xy @ loss_uy.T) / 2
    if sigma_yy is not None and loss_yy is not None:
        out["R4"] = _trace(sigma_yy.T @ loss_yy) / 2
    if hessian_contraction is not None:
        out["R2"] = _trace(sigma_xx.T @ hessian_contraction) / 2
    return out


def dense_regularizers_from_derivatives(
    geometry: MixupGeometry,
    i: int,
    u: Tensor,
    jac: Tensor,
    hessians: Tensor | None,
    loss: str | Loss = "ce",
    *,
    inverse_terms: bool = True,
) -> dict[str, Tensor]:
    """R1–R4, J and the uncompleted ``R13 = ½⟨Σ_xx, ∇fᵀℓ_uu∇f⟩ + ⟨Σ_yx, ℓ_yu∇f⟩`` for one sample
    from u (c,), ∇f (c, d) and the c×d×d Hessian (or None), through :func:`theorem3_dense` with
    dense Σ^(i) and ``torch.linalg.pinv``. R13 needs no ℓ_uu⁻¹, so it stays accurate on a
    saturated softmax; ``inverse_terms=False`` leaves out R1, R3 and J, which need it (the dense
    inverse of H + 11ᵀ/c fails once the condition number 1/min S passes 1/eps)."""
    loss = get_loss(loss)
    y = geometry.y_tilde[i][None]
    u = u[None]
    S_xx, S_xy, S_yy = geometry.sigma_xx(i), geometry.sigma_xy(i), geometry.sigma_yy(i)
    L_u = loss.grad_u(y, u)[0]
    L_uu = loss.hess_uu(y, u)[0]
    hessian_contraction = None if hessians is None else torch.einsum("k,kde->de", L_u, hessians)
    terms = theorem3_dense(
        S_xx,
        S_xy,
        jac,
        L_uu,
        loss.hess_uy(y, u)[0],
        loss_uu_inverse=_pinv_uu(loss, L_uu) if inverse_terms else None,
        sigma_xx_pinv=torch.linalg.pinv(S_xx, hermitian=True) if inverse_terms else None,
        sigma_yy=S_yy,
        loss_yy=loss.hess_yy(y, u)[0],
        hessian_contraction=hessian_contraction,
    )
    if hessians is None:
        terms["R2"] = torch.tensor(float("nan"), dtype=u.dtype)
    return {"erm": loss.value(y, u)[0], **terms}


def dense_regularizers(
    model: Callable[[Tensor], Tensor],
    geometry: MixupGeometry,
    loss: str | Loss = "ce",
    indices: Indices = None,
    *,
    inverse_terms: bool = True,
) -> dict[str, Tensor]:
    """Per-sample R1–R4, R13 and J with dense Σ^(i), pinv and full torch.func Hessians (small d);
    ``inverse_terms=False`` skips R1, R3 and J (see :func:`dense_regularizers_from_derivatives`)."""
    check_eval_mode(model)
    idx = geometry.sample_indices(indices)

    def f(x_flat: Tensor) -> Tensor:
        return model(geometry.as_inputs(x_flat)[None])[0]

    rows = []
    with torch.no_grad():  # torch.func still differentiates w.r.t. the input
        for i in idx.tolist():
            xt = geometry.x_tilde[i]
            u = f(xt)
            jac = torch.func.jacrev(f)(xt)
            hess = torch.func.hessian(f)(xt)
            rows.append(
                dense_regularizers_from_derivatives(
                    geometry, i, u, jac, hess, loss, inverse_terms=inverse_terms
                )
            )
    return {k: torch.stack([r[k] for r in rows]) for k in rows[0]}


def dense_lemma2(geometry: MixupGeometry, i: int, num_nodes: int = 48) -> dict[str, Tensor]:
    r"""E[δ_i δ_iᵀ], E[δ_i ε_iᵀ], E[ε_i ε_iᵀ] by brute force: every partner j, quadrature over θ,
    with δ_i = (θ − θ̄) x_i + (1 − θ) x_j − (1 − θ̄) x̄ written from the raw data (not the centred
    form the geometry uses)."""
    nodes, weights = geometry.law.theta_rule(num_nodes).to_torch(geometry.dtype, geometry.device)
    X, Y = geometry.X, geometry.Y
    tb = geometry.theta_mean
    x_bar, y_bar = X.mean(0), Y.mean(0)
    t = nodes[:, None, None]
    delta = (t - tb) * X[i] + (1 - t) * X[None] - (1 - tb) * x_bar  # (K, n, d)
    eps = (t - tb) * Y[i] + (1 - t) * Y[None] - (1 - tb) * y_bar
    w = weights[:, None, None] / geometry.n
    return {
        "mean_delta": (w * delta).sum((0, 1)),
        "mean_epsilon": (w * eps).sum((0, 1)),
        "xx": torch.einsum("knd,kne->de", w * delta, delta),
        "xy": torch.einsum("knd,kne->de", w * delta, eps),
        "yy": torch.einsum("knd,kne->de", w * eps, eps),
    }
