r"""The partner covariances of a non-uniform pairing π(j | i) (``docs/theory.md §8.1``): one factor
per anchor, computed once.

**Fold.** With λ symmetric about ½, the triple (anchor, partner, θ) has the law
``P(i, j) × (folded θ)`` with ``P(i, j) = (π(j|i) + π(i|j))/(2n)``. Per anchor:

- weight ``p_i = Σ_j P(i, j) = (1 + c_i)/(2n)``, ``c = Πᵀ 1``;
- partner law ``Q(j|i) = P(i, j)/p_i = (π(j|i) + π(i|j))/(1 + c_i)``, partner means
  ``μ_i = (Π X + Πᵀ X)_i/(1 + c_i)`` and ``ν_i`` (labels), joint partner covariance
  ``C_i = Σ_j Q(j|i)(z_j − ζ_i)(z_j − ζ_i)ᵀ`` of ``z = (x, y)``;
- ``a_i = x_i − μ_i``, ``b_i = y_i − ν_i``, ``Σ^(i)_xx = σ² a_i a_iᵀ + γ² C^xx_i`` and the xy, yy
  blocks alike.

**Representation.** ``C_i`` is factored once: its (d + c)² second moment is formed per anchor from
the law's structured ``partner_second_moment`` and ``apply_transpose`` (memory ``n (d + c)²``
transiently, in chunks of anchors), centred, and eigen-decomposed; the eigenvalues above
``(d + c)·eps·tr S_i`` (rounding of the uncentred moment) give ``F_i = [F^x_i; F^y_i]``, k columns,
k ≤ min(d + c, support of Q(·|i)). The per-anchor factors ``L_i = [σ a_i, γ F^x_i]`` (d × (1 + k))
and ``L^y_i = [σ b_i, γ F^y_i]`` give ``Σ_xx = L Lᵀ``, ``Σ_xy = L L^yᵀ``, ``Σ_yy = L^y L^yᵀ``
exactly; a thin SVD of each ``L_i`` (``O(n d (1 + k)²)`` once) gives the range, the
pseudo-inverse and ``K_i = L^y_i W_i W_iᵀ L^y_iᵀ`` (W_i: right singular vectors kept). Storage
``O(n d k)``; no d×d matrix per sample is kept.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from .._types import Generator, Tensor
from ..laws import MixingLaw

if TYPE_CHECKING:
    from ..mixing.partners import PartnerLaw

__all__ = ["AnchorCovariances"]


class AnchorCovariances:
    """The per-anchor factors of a non-uniform pairing (module docstring): the representation of
    :class:`~mixtheory.geometry.MixupGeometry` when partners are not uniform. Its methods take
    validated sample indices (a long tensor) and validated arguments."""

    def __init__(
        self,
        x: Tensor,
        y: Tensor,
        law: MixingLaw,
        pairing: PartnerLaw,
        rcond: float | None,
        chunk_size: int,
    ):
        n, self.d, self.c = x.shape[0], x.shape[1], y.shape[1]
        self.n, self.law, self.pairing, self.X, self.Y = n, law, pairing, x, y
        self.dtype, self.device = x.dtype, x.device
        self.theta_mean, self.theta_var, self.gamma2 = (
            float(law.theta_mean),
            float(law.theta_var),
            float(law.gamma2),
        )
        x_mean, y_mean = x.mean(0), y.mean(0)
        counts = pairing.column_sums().to(self.dtype).to(self.device)  # c_i = Σ_j π(i|j)
        self.mean_weights = (1.0 + counts) / (2 * n)
        # moments of z = (x, y) centred at the global mean, which keeps the cancellation in
        # S_i − ζ_i ζ_iᵀ at the scale of the data's spread
        z = torch.cat([x - x_mean, y - y_mean], 1)
        denom = (1.0 + counts)[:, None]
        zeta = (pairing.apply(z) + pairing.apply_transpose(z)) / denom  # (n, d + c)
        self.partner_mean_x = x_mean + zeta[:, : self.d]  # μ_i
        self.partner_mean_y = y_mean + zeta[:, self.d :]  # ν_i
        self.centered_x = x - self.partner_mean_x  # a_i = x_i − μ_i
        self.centered_y = y - self.partner_mean_y  # b_i = y_i − ν_i
        partner = self._partner_factors(z, zeta, denom, chunk_size)  # (n, d + c, k)
        self.rank = partner.shape[-1]
        sigma, gamma = math.sqrt(self.theta_var), math.sqrt(self.gamma2)
        self._factor = torch.cat([sigma * self.centered_x[:, :, None], gamma * partner[:, : self.d]], -1)
        self._factor_y = torch.cat([sigma * self.centered_y[:, :, None], gamma * partner[:, self.d :]], -1)
        self._range(rcond)

    def _partner_factors(self, z: Tensor, zeta: Tensor, denom: Tensor, chunk_size: int) -> Tensor:
        """``F_i`` (n, d + c, k) with ``C_i = F_i F_iᵀ``, the k largest eigen-directions kept."""
        backward = self.pairing.apply_transpose(z[:, :, None] * z[:, None, :])  # Σ_j π(i|j) z_j z_jᵀ
        size = z.shape[1]
        eps = torch.finfo(self.dtype).eps
        factors, widths = [], []
        for start in range(0, self.n, chunk_size):
            anchors = torch.arange(start, min(start + chunk_size, self.n))
            second = self.pairing.partner_second_moment(z, anchors).to(self.dtype) + backward[anchors]
            second = second / denom[anchors, :, None]
            zc = zeta[anchors]
            cov = second - zc[:, :, None] * zc[:, None, :]
            cov = 0.5 * (cov + cov.transpose(1, 2))
            evals, evecs = torch.linalg.eigh(cov)
            tol = size * eps * torch.diagonal(second, dim1=1, dim2=2).sum(-1, keepdim=True)
            keep = evals > tol
            widths.append(int(keep.sum(1).max()) if keep.numel() else 0)
            factors.append(
                evecs * torch.where(keep, evals, torch.zeros_like(evals)).clamp_min(0).sqrt()[:, None]
            )
        k = max(widths)
        # the k largest eigen-directions (eigh sorts ascending; dropped ones are zero columns)
        return torch.cat([f[:, :, size - k :].flip(-1) for f in factors])

    def _range(self, rcond: float | None) -> None:
        """The range of each L_i from its thin SVD, with the rank rule of the shared factor
        (``docs/theory.md §3.4``)."""
        n, eps = self.n, torch.finfo(self.dtype).eps
        width = self._factor.shape[-1]
        rcond = max(n, self.d, width) * eps if rcond is None else float(rcond)
        u, sing, vh = torch.linalg.svd(self._factor, full_matrices=False)
        floor = max(n, self.d) * eps * float(self.X.abs().max()) if self.X.numel() else 0.0
        top = sing[:, :1] if sing.shape[1] else sing
        kept = (sing * sing > rcond * top * top) & (sing > floor)
        self._range_u = u * kept[:, None, :]
        self._range_sing = torch.where(kept, sing, 0.0)
        self._inv_sing = torch.where(kept, 1.0 / torch.where(kept, sing, torch.ones_like(sing)), 0.0)
        self._range_vh = vh * kept[:, :, None]

    # --- weights and data covariances ------------------------------------------------------------
    def anchor_weights(self) -> Tensor:
        return self.mean_weights

    def cov_xx(self) -> Tensor:
        A = self.X - self.X.mean(0)
        return A.T @ A / self.n

    def cov_xy(self) -> Tensor:
        return (self.X - self.X.mean(0)).T @ (self.Y - self.Y.mean(0)) / self.n

    @property
    def cov_yy(self) -> Tensor:
        B = self.Y - self.Y.mean(0)
        return B.T @ B / self.n

    def _no_shared_factor(self, name: str) -> AttributeError:
        return AttributeError(
            f"{name!r} belongs to the Σ_xx that every anchor shares under uniform pairing; with "
            f"pairing={self.pairing!r} each anchor has its own partner covariance C_i (docs/theory.md "
            "§8.1): use the geometry's operators (factor_apply, factor_transpose_apply, cross_factor, "
            "solve_xx, range_coordinates, …), or MixupGeometry(X, Y, law) for the data's own eigenbasis"
        )

    @property
    def basis(self) -> Tensor:
        raise self._no_shared_factor("basis")

    @property
    def eigvals(self) -> Tensor:
        raise self._no_shared_factor("eigvals")

    @property
    def coords(self) -> Tensor:
        raise self._no_shared_factor("coords")

    @property
    def cross(self) -> Tensor:
        raise self._no_shared_factor("cross")

    # --- dense blocks, one sample -------------------------------------------------------------
    def sigma_xx(self, i: int) -> Tensor:
        return self._factor[i] @ self._factor[i].T

    def sigma_xy(self, i: int) -> Tensor:
        return self._factor[i] @ self._factor_y[i].T

    def sigma_yy(self, i: int) -> Tensor:
        return self._factor_y[i] @ self._factor_y[i].T

    # --- operators ------------------------------------------------------------------------------
    @staticmethod
    def _per_sample(tensor: Tensor, idx: Tensor, ndim: int) -> Tensor:
        """Rows of a per-anchor tensor broadcast over the middle axes of (m, ..., ·) arguments."""
        rows = tensor[idx]
        return rows.reshape(rows.shape[0], *([1] * (ndim - 2)), *rows.shape[1:])

    def trace_xx(self, idx: Tensor) -> Tensor:
        L = self._factor[idx]
        return (L * L).sum((-2, -1))

    def matvec_xx(self, V: Tensor, idx: Tensor) -> Tensor:
        L = self._per_sample(self._factor, idx, V.ndim)
        return ((V[..., None, :] @ L) @ L.transpose(-1, -2))[..., 0, :]

    def quad_xx(self, V: Tensor, idx: Tensor) -> Tensor:
        L = self._per_sample(self._factor, idx, V.ndim)
        w = (V[..., None, :] @ L)[..., 0, :]  # L_iᵀ v; vᵀ Σ v = ‖L_iᵀ v‖²
        return (w * w).sum(-1)

    def solve_xx(self, V: Tensor, idx: Tensor) -> Tensor:
        """U_i S_i⁻² U_iᵀ v on the range of L_i."""
        U = self._per_sample(self._range_u, idx, V.ndim)
        inv = self._per_sample(self._inv_sing, idx, V.ndim)
        coeff = (V[..., None, :] @ U)[..., 0, :] * inv * inv
        return (coeff[..., None, :] @ U.transpose(-1, -2))[..., 0, :]

    def frobenius_xx(self, T: Tensor, idx: Tensor) -> Tensor:
        L = self._factor[idx]
        return torch.einsum("mdw,mde,mew->m", L, T, L)

    def frobenius_yy(self, T: Tensor, idx: Tensor) -> Tensor:
        L = self._factor_y[idx]
        return torch.einsum("mkw,mkl,mlw->m", L, T, L)

    def jacobian_contraction(self, J: Tensor, A: Tensor, B: Tensor, idx: Tensor) -> Tensor:
        """½ ‖A^{1/2} J L‖²_F + ⟨B, (J L)(L^y)ᵀ⟩ through the per-anchor factors."""
        JL = J @ self._factor[idx]  # J L_i, (m, c, w)
        quad = torch.einsum("mkw,mkl,mlw->m", JL, A, JL)
        JS_xy = JL @ self._factor_y[idx].transpose(1, 2)  # J Σ_xy, (m, c, c)
        return 0.5 * quad + torch.einsum("mkl,mkl->m", B, JS_xy)

    def projected_label_covariance(self, idx: Tensor) -> Tensor:
        """K_i = L^y_i W_i W_iᵀ L^y_iᵀ (W_i the kept right singular vectors of L_i)."""
        G = self._factor_y[idx] @ self._range_vh[idx].transpose(1, 2)  # (m, c, q)
        return G @ G.transpose(1, 2)

    def cross_columns(self, idx: Tensor) -> Tensor:
        """The columns of Σ^(i)_xy = L_i L^y_iᵀ as (m, c, d) vectors."""
        return self._factor_y[idx] @ self._factor[idx].transpose(1, 2)

    # --- the factor L_i = [σ a_i, γ F^x_i] --------------------------------------------------------
    def factor_apply(self, coeffs: Tensor, idx: Tensor) -> Tensor:
        return coeffs @ self._factor[idx].transpose(1, 2)

    def factor_transpose_apply(self, vectors: Tensor, idx: Tensor) -> Tensor:
        return vectors @ self._factor[idx]

    def cross_factor(self, idx: Tensor) -> Tensor:
        return self._factor_y[idx]

    def range_coordinates(self, coeffs: Tensor, idx: Tensor) -> Tensor:
        """``U_iᵀ L_i ξ = S_i W_iᵀ ξ`` in the anchor's own range frame U_i (dropped directions zero)."""
        frame = self._range_sing[idx][:, :, None] * self._range_vh[idx]  # S_i W_iᵀ, (m, q, 1 + rank)
        return coeffs @ frame.transpose(1, 2)

    def pinv_cross_coordinates(self, idx: Tensor) -> Tensor:
        """``Q_i = U_iᵀ (Σ^(i)_xx)⁺ Σ^(i)_xy = S_i⁻¹ W_iᵀ L^y_iᵀ`` (m, 1 + rank, c)."""
        return self._inv_sing[idx][:, :, None] * (self._range_vh[idx] @ self._factor_y[idx].transpose(1, 2))

    def probe_vectors(self, coeffs: Tensor, idx: Tensor, dtype: torch.dtype, device: torch.device) -> Tensor:
        coeffs = coeffs.to(dtype=self.dtype, device=self.device)
        return self.factor_apply(coeffs, idx).to(device=device, dtype=dtype)

    # --- partners ---------------------------------------------------------------------------------
    def partner_rows(self) -> Tensor:
        """The folded partner law ``Q`` (n, n) in float64 on the CPU (for ``torch.multinomial``)."""
        if "_partner_cpu" not in self.__dict__:
            Pi = self.pairing.dense().to(self.dtype).to(self.device)
            Q = (Pi + Pi.T) / (2 * self.n * self.mean_weights[:, None])
            self._partner_cpu = Q.to(torch.float64).cpu()
        return self._partner_cpu

    def draw_partners(self, anchor: int, num_draws: int, generator: torch.Generator) -> Tensor:
        row = self.partner_rows()[anchor]
        return torch.multinomial(row, num_draws, replacement=True, generator=generator)[None]

    def mixup_directions(self, idx: Tensor, theta: Tensor, partners: Tensor) -> tuple[Tensor, Tensor]:
        """``δ = (θ − θ̄) a_i + (1 − θ)(x_j − μ_i)`` and its coordinates ``U_iᵀ δ``."""
        own, partner = theta - self.theta_mean, 1 - theta
        mu = self.partner_mean_x[idx][:, None, :]
        vectors = own * self.centered_x[idx][:, None, :] + partner * (self.X[partners] - mu)
        return vectors, vectors @ self._range_u[idx]

    def sample_perturbations(
        self, num_draws: int, idx: Tensor, generator: Generator, x_tilde: Tensor, y_tilde: Tensor
    ) -> tuple[Tensor, Tensor]:
        """θ from the folded law and j from ``Q(· | i)``: ``δ = θ x_i + (1 − θ) x_j − x̃_i``, ε alike."""
        m = idx.numel()
        theta = self.law.sample_theta((m, num_draws), generator).to(self.dtype).to(self.device)
        rows = self.partner_rows()[idx.cpu()]
        j = torch.multinomial(rows, num_draws, replacement=True, generator=generator).to(self.device)
        t = theta[..., None]
        delta = t * self.X[idx][:, None, :] + (1 - t) * self.X[j] - x_tilde[idx][:, None, :]
        eps = t * self.Y[idx][:, None, :] + (1 - t) * self.Y[j] - y_tilde[idx][:, None, :]
        return delta, eps
