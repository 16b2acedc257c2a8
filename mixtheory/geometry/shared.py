r"""The partner covariance of uniform pairing (Theorem 1, Lemma 2 of Carratino et al., JMLR 2022):
one Σ_xx shared by every anchor, factorised once, and Sherman–Morrison per sample.

Under uniform partners (self included) every anchor has the same partner law, so its partner mean
is the data mean x̄ and its partner covariance the data covariance ``Σ_xx = V diag(s) Vᵀ`` (V: d×r,
its range). :class:`SharedCovariance` stores that factor once and broadcasts it; per sample it
keeps only ``a_i = x_i − x̄`` and ``z_i = Vᵀ a_i``. Every operator of
:class:`~mixtheory.geometry.MixupGeometry` is then O(d·r) per sample with no d×d matrix per sample.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .._types import Generator, Tensor
from ..laws import MixingLaw

__all__ = ["SharedCovariance", "factorize"]


def factorize(centered_x: Tensor, X: Tensor, rcond: float | None) -> tuple[Tensor, Tensor]:
    """Σ_xx = V diag(s) Vᵀ on its range, ``(s, V)``, from the thin SVD of the centred data
    (A/√n = U diag(√s) Vᵀ): V is orthonormal to machine precision whatever the conditioning
    (building V from the n×n Gram matrix, Aᵀ U / √(n s), loses orthogonality like eps·s_max/s)."""
    n, d = centered_x.shape
    eps = torch.finfo(centered_x.dtype).eps
    rcond = max(n, d) * eps if rcond is None else float(rcond)
    _, sing, vh = torch.linalg.svd(centered_x / math.sqrt(n), full_matrices=False)
    s = sing * sing
    # centring x − x̄ rounds each entry by ~eps·|x|, so rounding alone produces singular values
    # up to ~eps·max|x|·√d (of A/√n); only spread above that floor counts as rank
    floor = max(n, d) * eps * float(X.abs().max()) if X.numel() else 0.0
    keep = (s > rcond * s.max().clamp_min(0)) & (sing > floor) if s.numel() else s > 0
    return s[keep], vh[keep].T


class SharedCovariance:
    r"""``Σ^(i)_xx = σ² a_i a_iᵀ + γ² V diag(s) Vᵀ``, ``Σ^(i)_xy = σ² a_i b_iᵀ + γ² V C`` and
    ``Σ^(i)_yy = σ² b_i b_iᵀ + γ² Σ_yy`` (``C = Vᵀ Σ_xy``): the representation of
    :class:`~mixtheory.geometry.MixupGeometry` under uniform pairing. Its methods take validated
    sample indices (a long tensor) and validated arguments.

    ``centered_x`` and ``coords`` may be any row-indexable object (the streamed geometry reads them
    from disk on demand, and overrides :meth:`cov_xx` and :meth:`cov_xy`)."""

    def __init__(
        self,
        law: MixingLaw,
        means: tuple[Tensor, Tensor],
        centered: tuple[Any, Tensor],
        factor: tuple[Tensor, Tensor, Any, Tensor],
        cov_yy: Tensor,
    ):
        """``means`` (x̄, ȳ); ``centered`` (a_i rows, b_i (n, c)); ``factor`` (s, V, z_i rows, C = Vᵀ Σ_xy)."""
        centered_x, centered_y = centered
        eigvals, basis, coords, cross = factor
        # every anchor's partner mean is the data mean (unbroadcast: (d,) and (c,))
        self.partner_mean_x, self.partner_mean_y = means
        self.n, self.d, self.c = int(centered_y.shape[0]), int(basis.shape[0]), int(centered_y.shape[1])
        self.dtype, self.device = centered_y.dtype, centered_y.device
        self.law = law
        self.theta_mean, self.theta_var, self.gamma2 = (
            float(law.theta_mean),
            float(law.theta_var),
            float(law.gamma2),
        )
        self.centered_x, self.centered_y = centered_x, centered_y
        self.eigvals, self.basis, self.coords, self.cross, self.cov_yy = eigvals, basis, coords, cross, cov_yy
        self.rank = int(eigvals.numel())

    @classmethod
    def from_data(
        cls, law: MixingLaw, x: Tensor, y: Tensor, means: tuple[Tensor, Tensor], rcond: float | None
    ) -> SharedCovariance:
        """The shared factor of in-memory data x (n, d), y (n, c) with their means (x̄, ȳ)."""
        n = x.shape[0]
        centered_x, centered_y = x - means[0], y - means[1]
        eigvals, basis = factorize(centered_x, x, rcond)
        cross = basis.T @ (centered_x.T @ centered_y) / n  # C = Vᵀ Σ_xy, (r, c)
        cov_yy = centered_y.T @ centered_y / n
        coords = centered_x @ basis  # z_i = Vᵀ a_i, (n, r)
        return cls(law, means, (centered_x, centered_y), (eigvals, basis, coords, cross), cov_yy)

    # --- weights and data covariances ------------------------------------------------------------
    def anchor_weights(self) -> Tensor:
        return torch.full((self.n,), 1.0 / self.n, dtype=self.dtype, device=self.device)

    mean_weights = None  # the plain mean: every anchor weighs 1/n

    def cov_xx(self) -> Tensor:
        return self.centered_x.T @ self.centered_x / self.n

    def cov_xy(self) -> Tensor:
        return self.centered_x.T @ self.centered_y / self.n

    # --- dense blocks, one sample -------------------------------------------------------------
    def sigma_xx(self, i: int) -> Tensor:
        a = self.centered_x[i]
        return self.theta_var * torch.outer(a, a) + self.gamma2 * self.cov_xx()

    def sigma_xy(self, i: int) -> Tensor:
        return self.theta_var * torch.outer(self.centered_x[i], self.centered_y[i]) + (
            self.gamma2 * self.cov_xy()
        )

    def sigma_yy(self, i: int) -> Tensor:
        b = self.centered_y[i]
        return self.theta_var * torch.outer(b, b) + self.gamma2 * self.cov_yy

    # --- operators ------------------------------------------------------------------------------
    def trace_xx(self, idx: Tensor) -> Tensor:
        a = self.centered_x[idx]
        return self.theta_var * (a * a).sum(-1) + self.gamma2 * self.eigvals.sum()

    def _rows(self, idx: Tensor, V: Tensor) -> Tensor:
        return self.centered_x[idx].reshape(idx.numel(), *([1] * (V.ndim - 2)), self.d)

    def matvec_xx(self, V: Tensor, idx: Tensor) -> Tensor:
        a = self._rows(idx, V)
        shared = ((V @ self.basis) * self.eigvals) @ self.basis.T
        return self.theta_var * (V * a).sum(-1, keepdim=True) * a + self.gamma2 * shared

    def quad_xx(self, V: Tensor, idx: Tensor) -> Tensor:
        a = self._rows(idx, V)
        w = V @ self.basis
        return self.theta_var * (V * a).sum(-1) ** 2 + self.gamma2 * (w * w * self.eigvals).sum(-1)

    def sherman_morrison(self, idx: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """z_i, u_i = D⁻¹ z_i and β_i with (σ² z zᵀ + γ² D)⁻¹ = D⁻¹/γ² − β u uᵀ."""
        z = self.coords[idx]
        u = z / self.eigvals
        q = (z * u).sum(-1)
        beta = self.theta_var / (self.gamma2 * (self.gamma2 + self.theta_var * q))
        return z, u, beta

    def solve_xx(self, V: Tensor, idx: Tensor) -> Tensor:
        if self.gamma2 == 0.0 or self.rank == 0:
            return torch.zeros_like(V)
        _, u, beta = self.sherman_morrison(idx)
        shape = (idx.numel(), *([1] * (V.ndim - 2)))
        w = V @ self.basis  # (m, ..., r)
        u_b = u.reshape(*shape, self.rank)
        coef = (w * u_b).sum(-1, keepdim=True) * beta.reshape(*shape, 1)
        return (w / self.eigvals / self.gamma2 - coef * u_b) @ self.basis.T

    def frobenius_xx(self, T: Tensor, idx: Tensor) -> Tensor:
        a = self.centered_x[idx]
        rank_one = torch.einsum("md,mde,me->m", a, T, a)
        shared = torch.einsum("dr,mde,er->m", self.basis * self.eigvals, T, self.basis)
        return self.theta_var * rank_one + self.gamma2 * shared

    def frobenius_yy(self, T: Tensor, idx: Tensor) -> Tensor:
        b = self.centered_y[idx]
        return self.theta_var * torch.einsum("mk,mkl,ml->m", b, T, b) + self.gamma2 * torch.einsum(
            "kl,mkl->m", self.cov_yy, T
        )

    def jacobian_contraction(self, J: Tensor, A: Tensor, B: Tensor, idx: Tensor) -> Tensor:
        """½⟨Σ_xx, Jᵀ A J⟩ + ⟨Σ_xy, Jᵀ B⟩ through Σ = σ² a aᵀ + γ² V diag(s) Vᵀ (completed square)."""
        s2, g2 = self.theta_var, self.gamma2
        a, b = self.centered_x[idx], self.centered_y[idx]
        Ja = (J @ a[:, :, None]).squeeze(-1)  # (m, c)
        JV = J @ self.basis  # (m, c, r)
        JVs = JV * self.eigvals.sqrt()
        quad = s2 * torch.einsum("mk,mkl,ml->m", Ja, A, Ja) + g2 * torch.einsum("mkr,mkl,mlr->m", JVs, A, JVs)
        JS_xy = s2 * Ja[:, :, None] * b[:, None, :] + g2 * (JV @ self.cross)  # J Σ_xy, (m, c, c)
        # ⟨Σ_xy, Jᵀ B⟩ = tr(Bᵀ J Σ_xy) = Σ_kl B_kl (J Σ_xy)_kl
        return 0.5 * quad + torch.einsum("mkl,mkl->m", B, JS_xy)

    def projected_label_covariance(self, idx: Tensor) -> Tensor:
        """K_i = P_iᵀ D⁻¹ P_i / γ² − β_i (P_iᵀ D⁻¹ z_i)(P_iᵀ D⁻¹ z_i)ᵀ, P_i = σ² z_i b_iᵀ + γ² C."""
        m = idx.numel()
        if self.gamma2 == 0.0 or self.rank == 0:
            return torch.zeros(m, self.c, self.c, dtype=self.dtype, device=self.device)
        z, u, beta = self.sherman_morrison(idx)
        b = self.centered_y[idx]
        s2, g2 = self.theta_var, self.gamma2
        q = (z * u).sum(-1)  # zᵀD⁻¹z
        h = u @ self.cross  # Cᵀ D⁻¹ z, (m, c)
        G = self.cross.T @ (self.cross / self.eigvals[:, None])  # Cᵀ D⁻¹ C
        bb = b[:, :, None] * b[:, None, :]
        bh = b[:, :, None] * h[:, None, :]
        first = (s2 * s2 * q[:, None, None] * bb + s2 * g2 * (bh + bh.transpose(1, 2)) + g2 * g2 * G) / g2
        p = s2 * q[:, None] * b + g2 * h  # P_iᵀ D⁻¹ z_i
        return first - beta[:, None, None] * p[:, :, None] * p[:, None, :]

    def cross_columns(self, idx: Tensor) -> Tensor:
        """The columns of Σ^(i)_xy as (m, c, d) vectors."""
        a, b = self.centered_x[idx], self.centered_y[idx]
        return self.theta_var * b[:, :, None] * a[:, None, :] + self.gamma2 * (self.basis @ self.cross).T

    # --- the factor L_i = [σ a_i, γ V diag(√s)] ---------------------------------------------------
    def factor_apply(self, coeffs: Tensor, idx: Tensor) -> Tensor:
        a = self.centered_x[idx][:, None, :]
        shared = (coeffs[..., 1:] * self.eigvals.sqrt()) @ self.basis.T
        return math.sqrt(self.theta_var) * coeffs[..., :1] * a + math.sqrt(self.gamma2) * shared

    def factor_transpose_apply(self, vectors: Tensor, idx: Tensor) -> Tensor:
        a = self.centered_x[idx][:, None, :]
        first = math.sqrt(self.theta_var) * (vectors * a).sum(-1, keepdim=True)
        rest = math.sqrt(self.gamma2) * (vectors @ self.basis) * self.eigvals.sqrt()
        return torch.cat([first, rest], -1)

    def cross_factor(self, idx: Tensor) -> Tensor:
        first = math.sqrt(self.theta_var) * self.centered_y[idx][:, :, None]
        shared = math.sqrt(self.gamma2) * (self.cross / self.eigvals.sqrt()[:, None]).T
        return torch.cat([first, shared.expand(idx.numel(), -1, -1)], -1)

    def range_coordinates(self, coeffs: Tensor, idx: Tensor) -> Tensor:
        """``Vᵀ L_i ξ = σ ξ₀ z_i + γ √s ⊙ ξ₁:`` (m, k, r)."""
        z = self.coords[idx][:, None, :]
        shared = coeffs[..., 1:] * (math.sqrt(self.gamma2) * self.eigvals.sqrt())
        return math.sqrt(self.theta_var) * coeffs[..., :1] * z + shared

    def pinv_cross_coordinates(self, idx: Tensor) -> Tensor:
        """``Q_i = D⁻¹P_i/γ² − β_i u_i (u_iᵀ P_i)`` (m, r, c), ``P_i = σ² z_i b_iᵀ + γ² C``."""
        m, r = idx.numel(), self.rank
        if self.gamma2 == 0.0 or r == 0:
            return torch.zeros(m, r, self.c, dtype=self.dtype, device=self.device)
        z, u, beta = self.sherman_morrison(idx)
        b = self.centered_y[idx]
        P = self.theta_var * z[:, :, None] * b[:, None, :] + self.gamma2 * self.cross  # (m, r, c)
        uP = torch.einsum("mr,mrc->mc", u, P)
        return (
            P / (self.gamma2 * self.eigvals[:, None]) - beta[:, None, None] * u[:, :, None] * uP[:, None, :]
        )

    def probe_vectors(self, coeffs: Tensor, idx: Tensor, dtype: torch.dtype, device: torch.device) -> Tensor:
        xi = coeffs.to(device=device, dtype=dtype)
        a = self.centered_x[idx].to(device=device, dtype=dtype)
        own = math.sqrt(self.theta_var) * xi[..., :1]  # (m, k, 1)
        if not self.rank:
            return own * a[:, None, :]
        cache = self.__dict__.setdefault("_scaled_basis", {})
        key = (dtype, str(device))
        if key not in cache:
            scaled = (math.sqrt(self.gamma2) * self.eigvals.sqrt())[:, None] * self.basis.T
            cache[key] = scaled.to(device=device, dtype=dtype).contiguous()
        # one product for the shared part, the rank-one part added in place (no (m, k, d) temporaries)
        vectors = xi[..., 1:] @ cache[key]
        return vectors.baddbmm_(own, a[:, None, :])

    # --- partners ---------------------------------------------------------------------------------
    def draw_partners(self, anchor: int, num_draws: int, generator: torch.Generator) -> Tensor:
        return torch.randint(self.n, (1, num_draws), generator=generator)

    def mixup_directions(self, idx: Tensor, theta: Tensor, partners: Tensor) -> tuple[Tensor, Tensor]:
        """``δ = (θ − θ̄) a_i + (1 − θ) a_j`` and ``Vᵀδ = (θ − θ̄) z_i + (1 − θ) z_j``."""
        own, partner = theta - self.theta_mean, 1 - theta
        vectors = own * self.centered_x[idx][:, None, :] + partner * self.centered_x[partners]
        coords = own * self.coords[idx][:, None, :] + partner * self.coords[partners]
        return vectors, coords

    def sample_perturbations(
        self, num_draws: int, idx: Tensor, generator: Generator, x_tilde: Any, y_tilde: Tensor
    ) -> tuple[Tensor, Tensor]:
        """θ from the folded law and j uniform: ``δ = (θ − θ̄) a_i + (1 − θ) a_j``, ε alike (the
        contracted points cancel in closed form)."""
        m = idx.numel()
        theta = self.law.sample_theta((m, num_draws), generator).to(self.dtype).to(self.device)
        j = torch.randint(self.n, (m, num_draws), generator=generator).to(self.device)
        tb = self.theta_mean
        t = theta[..., None]
        delta = (t - tb) * self.centered_x[idx][:, None, :] + (1 - t) * self.centered_x[j]
        eps = (t - tb) * self.centered_y[idx][:, None, :] + (1 - t) * self.centered_y[j]
        return delta, eps
