r"""Brute-force references, slow on purpose: ground truth for tests and the naive side of benchmarks.

Everything here forms the dense per-sample matrices the fast paths avoid: ``Σ^(i)`` as a d×d
matrix, its pseudo-inverse by ``torch.linalg.pinv``, ``J^(i)`` explicitly, and the full c×d×d input
Hessian of the model. Formulas are written exactly as in Theorem 3 of Carratino et al. (JMLR 2022),
with no algebraic shortcut (in particular R1 is computed from J, not from the completed square).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._validation import Tensor, check_eval_mode
from .geometry import MixupGeometry
from .losses import CrossEntropy, Loss, get_loss

__all__ = ["dense_regularizers", "dense_regularizers_from_derivatives", "dense_lemma2"]


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
    from u (c,), ∇f (c, d) and the c×d×d Hessian (or None). R1 + R3 = R13 is Theorem 3's completed
    square; R13 is formed here without ℓ_uu⁻¹, so it stays accurate on a saturated softmax.
    ``inverse_terms=False`` leaves out R1, R3 and J, which need ℓ_uu⁻¹: the dense inverse of
    H + 11ᵀ/c fails once the softmax saturates (condition number 1/min S beyond 1/eps)."""
    loss = get_loss(loss)
    y = geometry.y_tilde[i][None]
    u = u[None]
    S_xx, S_xy, S_yy = geometry.sigma_xx(i), geometry.sigma_xy(i), geometry.sigma_yy(i)
    S_xx_pinv = torch.linalg.pinv(S_xx, hermitian=True)
    L_u = loss.grad_u(y, u)[0]
    L_uu = loss.hess_uu(y, u)[0]
    L_uy = loss.hess_uy(y, u)[0]
    L_yy = loss.hess_yy(y, u)[0]
    # the uncompleted quadratic form: ½⟨Σ_xx, ∇fᵀ ℓ_uu ∇f⟩ + ⟨Σ_yx, ℓ_yu ∇f⟩, no ℓ_uu⁻¹ in it
    R13 = 0.5 * torch.trace(S_xx @ jac.T @ L_uu @ jac) + torch.trace(L_uy.T @ jac @ S_xy)
    R4 = 0.5 * (S_yy * L_yy).sum()
    if hessians is None:
        R2 = torch.tensor(float("nan"), dtype=u.dtype)
    else:
        R2 = 0.5 * (S_xx * torch.einsum("k,kde->de", L_u, hessians)).sum()
    out = {"erm": loss.value(y, u)[0], "R2": R2, "R4": R4, "R13": R13}
    if inverse_terms:
        L_uu_inv = _pinv_uu(loss, L_uu)
        J = -L_uu_inv @ L_uy @ S_xy.T @ S_xx_pinv
        E = jac - J
        out["R1"] = 0.5 * torch.trace(S_xx @ E.T @ L_uu @ E)
        out["R3"] = -0.5 * torch.trace(L_uu_inv @ L_uy @ S_xy.T @ S_xx_pinv @ S_xy @ L_uy.T)
        out["J"] = J
    return out


def dense_regularizers(
    model: Callable[[Tensor], Tensor],
    geometry: MixupGeometry,
    loss: str | Loss = "ce",
    indices=None,
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
