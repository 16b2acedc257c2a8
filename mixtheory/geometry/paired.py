r"""The geometry of a non-uniform pairing π(j | i) (``docs/theory.md §8.1``): per-anchor partner
covariances, each factored once."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from .._types import ArrayLike, DeviceLike, Generator, Indices, Tensor
from ..laws import MixingLaw
from ._common import as_partner_law, load_inputs, require_symmetric_lambda
from .uniform import MixupGeometry

if TYPE_CHECKING:
    from ..mixing.partners import PartnerLaw

__all__ = ["PairedMixupGeometry"]

_SHARED_ONLY = ("basis", "eigvals", "coords", "cross", "cov_xx", "cov_xy", "cov_yy")


class PairedMixupGeometry(MixupGeometry):
    r"""The mixup geometry of partners drawn from ``π(j | i)`` (``docs/theory.md §8.1``); built by
    ``MixupGeometry(X, Y, law, pairing=π)``.

    **Fold.** With λ symmetric about ½, the triple (anchor, partner, θ) has the law
    ``P(i, j) × (folded θ)`` with ``P(i, j) = (π(j|i) + π(i|j))/(2n)``. Per anchor:

    - weight ``p_i = Σ_j P(i, j) = (1 + c_i)/(2n)``, ``c = Πᵀ 1`` (``anchor_weights``);
    - partner law ``Q(j|i) = P(i, j)/p_i = (π(j|i) + π(i|j))/(1 + c_i)``, partner means
      ``μ_i = (Π X + Πᵀ X)_i/(1 + c_i)`` and ``ν_i`` (labels), joint partner covariance
      ``C_i = Σ_j Q(j|i)(z_j − ζ_i)(z_j − ζ_i)ᵀ`` of ``z = (x, y)``;
    - ``x̃_i = θ̄ x_i + (1 − θ̄) μ_i``, ``a_i = x_i − μ_i`` (``centered_x``), ``b_i = y_i − ν_i``,
      ``Σ^(i)_xx = σ² a_i a_iᵀ + γ² C^xx_i``, ``Σ^(i)_xy = σ² a_i b_iᵀ + γ² C^xy_i``,
      ``Σ^(i)_yy = σ² b_i b_iᵀ + γ² C^yy_i``.

    **Representation.** ``C_i`` is factored once: its (d + c)² second moment is formed per anchor
    from the law's structured ``partner_second_moment`` and ``apply_transpose`` (memory
    ``n (d + c)²`` transiently), centred, and eigen-decomposed; the eigenvalues above
    ``(d + c)·eps·tr S_i`` (rounding of the uncentred moment) give ``F_i = [F^x_i; F^y_i]``, k
    columns, k ≤ min(d + c, support of Q(·|i)). The per-anchor factors
    ``L_i = [σ a_i, γ F^x_i]`` (d × (1 + k)) and ``L^y_i = [σ b_i, γ F^y_i]`` give
    ``Σ_xx = L Lᵀ``, ``Σ_xy = L L^yᵀ``, ``Σ_yy = L^y L^yᵀ`` exactly; a thin SVD of each ``L_i``
    (``O(n d (1 + k)²)`` once) gives the range, the pseudo-inverse and
    ``K_i = L^y_i W_i W_iᵀ L^y_iᵀ`` (W_i: right singular vectors kept). Storage ``O(n d k)``; no
    d×d matrix per sample is kept. ``rank`` is k, so ``1 + rank`` columns of coefficients go to
    :meth:`factor_apply` as in the uniform case. The shared-matrix attributes (``basis``,
    ``eigvals``, ``coords``, ``cross``, ``cov_yy``) do not exist here and say so.

    ``sample_perturbations`` draws j from the dense ``Q`` (n² memory, small n).

    >>> import torch
    >>> from mixtheory import SymmetricBeta
    >>> from mixtheory.mixing import UniformPartner
    >>> g = torch.Generator().manual_seed(0)
    >>> X, Y = torch.randn(6, 3, generator=g, dtype=torch.float64), torch.arange(6) % 2
    >>> geo = MixupGeometry(X, Y, SymmetricBeta(1.0), pairing=UniformPartner(6, include_self=False))
    >>> type(geo).__name__, round(float(geo.anchor_weights.sum()), 12)
    ('PairedMixupGeometry', 1.0)
    >>> bool(torch.allclose(geo.solve_xx(geo.matvec_xx(geo.centered_x)), geo.centered_x))
    True
    """

    def __init__(
        self,
        X: ArrayLike,
        Y: ArrayLike,
        law: MixingLaw,
        *,
        pairing: PartnerLaw | ArrayLike,
        num_classes: int | None = None,
        dtype: torch.dtype = torch.float64,
        device: DeviceLike = None,
        rcond: float | None = None,
        chunk_size: int = 512,
    ):
        x, y, self.input_shape = load_inputs(X, Y, law, num_classes, dtype, device)
        require_symmetric_lambda(law)
        n = x.shape[0]
        self.pairing = as_partner_law(pairing, n)
        self.law = law
        self.n, self.d, self.c = n, x.shape[1], y.shape[1]
        self.dtype, self.device = x.dtype, x.device
        self.X, self.Y = x, y
        self.theta_mean = float(law.theta_mean)
        self.theta_var = float(law.theta_var)
        self.gamma2 = float(law.gamma2)
        self.x_mean, self.y_mean = x.mean(0), y.mean(0)

        law_pi = self.pairing
        counts = law_pi.column_sums().to(self.dtype).to(self.device)  # c_i = Σ_j π(i|j)
        self._anchor_weights = (1.0 + counts) / (2 * n)
        # moments of z = (x, y) centred at the global mean, which keeps the cancellation in
        # S_i − ζ_i ζ_iᵀ at the scale of the data's spread
        z = torch.cat([x - self.x_mean, y - self.y_mean], 1)
        denom = (1.0 + counts)[:, None]
        zeta = (law_pi.apply(z) + law_pi.apply_transpose(z)) / denom  # (n, d + c)
        backward = law_pi.apply_transpose(z[:, :, None] * z[:, None, :])  # Σ_j π(i|j) z_j z_jᵀ
        self.partner_mean_x = self.x_mean + zeta[:, : self.d]  # μ_i
        self.partner_mean_y = self.y_mean + zeta[:, self.d :]  # ν_i
        self.centered_x = x - self.partner_mean_x  # a_i = x_i − μ_i
        self.centered_y = y - self.partner_mean_y  # b_i = y_i − ν_i
        self.x_tilde = self.partner_mean_x + self.theta_mean * self.centered_x
        self.y_tilde = self.partner_mean_y + self.theta_mean * self.centered_y

        size = z.shape[1]
        eps = torch.finfo(self.dtype).eps
        factors, widths = [], []
        for start in range(0, n, chunk_size):
            anchors = torch.arange(start, min(start + chunk_size, n))
            second = law_pi.partner_second_moment(z, anchors).to(self.dtype) + backward[anchors]
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
        partner = torch.cat([f[:, :, size - k :].flip(-1) for f in factors])  # (n, d + c, k)
        self.rank = k
        sigma, gamma = math.sqrt(self.theta_var), math.sqrt(self.gamma2)
        self._factor = torch.cat([sigma * self.centered_x[:, :, None], gamma * partner[:, : self.d]], -1)
        self._factor_y = torch.cat([sigma * self.centered_y[:, :, None], gamma * partner[:, self.d :]], -1)

        # range of each L_i, as the base class decides rank (docs/theory.md §3.4)
        width = self._factor.shape[-1]
        rcond = max(n, self.d, width) * eps if rcond is None else float(rcond)
        u, sing, vh = torch.linalg.svd(self._factor, full_matrices=False)
        floor = max(n, self.d) * eps * float(x.abs().max()) if x.numel() else 0.0
        top = sing[:, :1] if sing.shape[1] else sing
        kept = (sing * sing > rcond * top * top) & (sing > floor)
        self._range_u = u * kept[:, None, :]
        self._range_sing = torch.where(kept, sing, 0.0)
        self._inv_sing = torch.where(kept, 1.0 / torch.where(kept, sing, torch.ones_like(sing)), 0.0)
        self._range_vh = vh * kept[:, :, None]

    def __getattr__(self, name: str) -> object:
        if name in _SHARED_ONLY:
            raise AttributeError(
                f"{name!r} is the shared Σ_xx structure of uniform pairing; with pairing={self.pairing!r} "
                "every anchor has its own partner covariance C_i (docs/theory.md §8.1): use the "
                "geometry's methods (factor_apply, factor_transpose_apply, cross_factor, solve_xx, …)"
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    #: per-anchor factors: no shared Σ_xx (the attributes of the shared eigenbasis do not exist)
    shared_covariance: bool = False

    @property
    def anchor_weights(self) -> Tensor:
        """``p_i = (1 + Σ_j π(i|j))/(2n)`` (n,), summing to 1."""
        return self._anchor_weights

    @property
    def mean_weights(self) -> Tensor | None:
        """The weights of the average over anchors in ``E_Q``: the anchor weights ``p_i``."""
        return self._anchor_weights

    def _no_shared(self, what: str) -> AttributeError:
        return AttributeError(
            f"{what} is shared by all anchors only under uniform pairing; here use sigma_xx(i)/sigma_xy(i)"
        )

    @property
    def cov_xx(self) -> Tensor:
        raise self._no_shared("Σ_xx")

    @property
    def cov_xy(self) -> Tensor:
        raise self._no_shared("Σ_xy")

    def _sherman_morrison(self, idx: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        raise self._no_shared("the Sherman–Morrison form σ² a aᵀ + γ² Σ_xx")

    # --- dense blocks, one sample --------------------------------------------------------------
    def sigma_xx(self, i: int) -> Tensor:
        """Σ^(i)_xx = σ² a_i a_iᵀ + γ² C^xx_i = L_i L_iᵀ, dense (d, d)."""
        return self._factor[i] @ self._factor[i].T

    def sigma_xy(self, i: int) -> Tensor:
        """Σ^(i)_xy = L_i L^y_iᵀ (d, c)."""
        return self._factor[i] @ self._factor_y[i].T

    def sigma_yy(self, i: int) -> Tensor:
        """Σ^(i)_yy = L^y_i L^y_iᵀ (c, c)."""
        return self._factor_y[i] @ self._factor_y[i].T

    # --- structured operators ------------------------------------------------------------------
    def _per_sample(self, tensor: Tensor, idx: Tensor, ndim: int) -> Tensor:
        """Rows of a per-anchor tensor broadcast over the middle axes of (m, ..., ·) arguments."""
        rows = tensor[idx]
        return rows.reshape(rows.shape[0], *([1] * (ndim - 2)), *rows.shape[1:])

    def trace_xx(self, indices: Indices = None) -> Tensor:
        """tr Σ^(i)_xx = ‖L_i‖²_F = σ²‖a_i‖² + γ² tr C^xx_i, shape (m,)."""
        L = self._factor[self.sample_indices(indices)]
        return (L * L).sum((-2, -1))

    def matvec_xx(self, V: ArrayLike, indices: Indices = None) -> Tensor:
        idx = self.sample_indices(indices)
        V = self._vectors("V", V, idx.numel())
        L = self._per_sample(self._factor, idx, V.ndim)
        return ((V[..., None, :] @ L) @ L.transpose(-1, -2))[..., 0, :]

    def quad_xx(self, V: ArrayLike, indices: Indices = None) -> Tensor:
        w = self._transpose_any(V, indices)
        return (w * w).sum(-1)

    def _transpose_any(self, V: ArrayLike, indices: Indices = None) -> Tensor:
        """``L_iᵀ v`` for V of shape (m, ..., d): (m, ..., 1 + rank); vᵀ Σ v = ‖L_iᵀ v‖²."""
        idx = self.sample_indices(indices)
        V = self._vectors("V", V, idx.numel())
        L = self._per_sample(self._factor, idx, V.ndim)
        return (V[..., None, :] @ L)[..., 0, :]

    def solve_xx(self, V: ArrayLike, indices: Indices = None) -> Tensor:
        """(Σ^(i)_xx)⁺ v = U_i S_i⁻² U_iᵀ v on the range of L_i, for V (m, ..., d)."""
        idx = self.sample_indices(indices)
        V = self._vectors("V", V, idx.numel())
        U = self._per_sample(self._range_u, idx, V.ndim)
        inv = self._per_sample(self._inv_sing, idx, V.ndim)
        coeff = (V[..., None, :] @ U)[..., 0, :] * inv * inv
        return (coeff[..., None, :] @ U.transpose(-1, -2))[..., 0, :]

    def frobenius_xx(self, T: ArrayLike, indices: Indices = None) -> Tensor:
        """⟨Σ^(i)_xx, T_i⟩_F = tr(L_iᵀ T_i L_i) for T (m, d, d)."""
        idx = self.sample_indices(indices)
        T = torch.as_tensor(T, dtype=self.dtype, device=self.device)
        if T.shape != (idx.numel(), self.d, self.d):
            raise ValueError(f"T must have shape ({idx.numel()}, {self.d}, {self.d}), got {tuple(T.shape)}")
        L = self._factor[idx]
        return torch.einsum("mdw,mde,mew->m", L, T, L)

    def frobenius_yy(self, T: ArrayLike, indices: Indices = None) -> Tensor:
        """⟨Σ^(i)_yy, T_i⟩_F for T (m, c, c)."""
        idx = self.sample_indices(indices)
        T = torch.as_tensor(T, dtype=self.dtype, device=self.device)
        if T.shape != (idx.numel(), self.c, self.c):
            raise ValueError(f"T must have shape ({idx.numel()}, {self.c}, {self.c}), got {tuple(T.shape)}")
        L = self._factor_y[idx]
        return torch.einsum("mkw,mkl,mlw->m", L, T, L)

    def projected_label_covariance(self, indices: Indices = None) -> Tensor:
        r"""K_i = Σ_yx Σ_xx⁺ Σ_xy = L^y_i W_i W_iᵀ L^y_iᵀ, W_i the kept right singular vectors of
        L_i (the projection onto the row space of L_i), shape (m, c, c)."""
        idx = self.sample_indices(indices)
        G = self._factor_y[idx] @ self._range_vh[idx].transpose(1, 2)  # (m, c, q)
        return G @ G.transpose(1, 2)

    def pinv_sigma_xy(self, indices: Indices = None) -> Tensor:
        """(Σ^(i)_xx)⁺ Σ^(i)_xy, shape (m, d, c)."""
        idx = self.sample_indices(indices)
        cols = self._factor_y[idx] @ self._factor[idx].transpose(1, 2)  # columns of Σ_xy, (m, c, d)
        return self.solve_xx(cols, idx).transpose(1, 2)

    def cross_factor(self, indices: Indices = None) -> Tensor:
        """``L^y_i = [σ b_i, γ F^y_i]`` (m, c, 1 + rank), ``Σ^(i)_xy = L_i L^y_iᵀ``."""
        return self._factor_y[self.sample_indices(indices)]

    def factor_apply(self, coeffs: ArrayLike, indices: Indices = None) -> Tensor:
        r"""``L_i ξ`` for ξ of shape (m, k, 1 + rank) (or (1, k, 1 + rank)): (m, k, d)."""
        idx = self.sample_indices(indices)
        coeffs = torch.as_tensor(coeffs, dtype=self.dtype, device=self.device)
        if coeffs.shape[-1] != 1 + self.rank or coeffs.shape[0] not in (1, idx.numel()):
            raise ValueError(
                f"coeffs must have shape ({idx.numel()}, k, {1 + self.rank}), got {tuple(coeffs.shape)}"
            )
        return coeffs @ self._factor[idx].transpose(1, 2)

    def factor_transpose_apply(self, vectors: ArrayLike, indices: Indices = None) -> Tensor:
        """``L_iᵀ v`` for vectors of shape (m, k, d): (m, k, 1 + rank)."""
        idx = self.sample_indices(indices)
        vectors = self._vectors("vectors", vectors, idx.numel())
        return vectors @ self._factor[idx]

    # --- probe coordinates (the estimators' interface of the base class) -------------------------
    def range_coordinates(self, coeffs: Tensor, indices: Indices = None) -> Tensor:
        """Coordinates ``U_iᵀ L_i ξ = S_i W_iᵀ ξ`` (m, k, 1 + rank) of the probes ``L_i ξ`` in the
        anchor's own range frame U_i (left singular vectors of ``L_i = U_i S_i W_iᵀ``, dropped
        directions zero)."""
        idx = self.sample_indices(indices)
        coeffs = coeffs.to(dtype=self.dtype, device=self.device)
        frame = self._range_sing[idx][:, :, None] * self._range_vh[idx]  # S_i W_iᵀ, (m, q, 1 + rank)
        return coeffs @ frame.transpose(1, 2)

    def pinv_cross_coordinates(self, indices: Indices = None) -> Tensor:
        """``Q_i = U_iᵀ (Σ^(i)_xx)⁺ Σ^(i)_xy = S_i⁻¹ W_iᵀ L^y_iᵀ`` (m, 1 + rank, c), so that
        ``Σ_yx Σ_xx⁺ v = Q_iᵀ (U_iᵀ v)`` (for v = L_i ξ: ``L^y_i W_i W_iᵀ ξ``)."""
        idx = self.sample_indices(indices)
        return self._inv_sing[idx][:, :, None] * (self._range_vh[idx] @ self._factor_y[idx].transpose(1, 2))

    def probe_vectors(
        self, coeffs: Tensor, indices: Tensor, dtype: torch.dtype, device: torch.device
    ) -> Tensor:
        """The probes ``L_i ξ`` (m, k, d) in ``dtype`` on ``device``."""
        return self.factor_apply(coeffs, indices).to(device=device, dtype=dtype)

    def draw_partners(self, anchor: int, num_draws: int, generator: torch.Generator) -> Tensor:
        """Partners j of one anchor for mixup probes, (1, num_draws): drawn from ``Q(· | i)``."""
        row = self._partner_rows()[anchor]
        return torch.multinomial(row, num_draws, replacement=True, generator=generator)[None]

    def mixup_directions(self, indices: Tensor, theta: Tensor, partners: Tensor) -> tuple[Tensor, Tensor]:
        """``δ = θ x_i + (1 − θ) x_j − x̃_i = (θ − θ̄) a_i + (1 − θ)(x_j − μ_i)`` for θ (m, k, 1) and
        partners (m, k), with their coordinates ``U_iᵀ δ`` (m, k, 1 + rank)."""
        own, partner = theta - self.theta_mean, 1 - theta
        mu = self.partner_mean_x[indices][:, None, :]
        vectors = own * self.centered_x[indices][:, None, :] + partner * (self.X[partners] - mu)
        return vectors, vectors @ self._range_u[indices]

    # --- sampling ------------------------------------------------------------------------------
    def partner_matrix(self) -> Tensor:
        """The dense folded partner law ``Q[i, j] = (π(j|i) + π(i|j))/(1 + c_i)`` (n, n); small n."""
        Pi = self.pairing.dense().to(self.dtype).to(self.device)
        return (Pi + Pi.T) / (2 * self.n * self._anchor_weights[:, None])

    def _partner_rows(self) -> Tensor:
        """:meth:`partner_matrix` in float64 on the CPU (for ``torch.multinomial``), built once."""
        if "_partner_cpu" not in self.__dict__:
            self._partner_cpu = self.partner_matrix().to(torch.float64).cpu()
        return self._partner_cpu

    def sample_perturbations(
        self, num_draws: int, indices: Indices = None, generator: Generator = None
    ) -> tuple[Tensor, Tensor]:
        r"""θ from the folded law and j from ``Q(· | i)``: ``(delta (m, k, d), epsilon (m, k, c))``
        with ``x̃_i + δ = θ x_i + (1 − θ) x_j`` and ``E δ δᵀ = Σ^(i)_xx``."""
        idx = self.sample_indices(indices)
        m = idx.numel()
        theta = self.law.sample_theta((m, num_draws), generator).to(self.dtype).to(self.device)
        rows = self._partner_rows()[idx.cpu()]
        j = torch.multinomial(rows, num_draws, replacement=True, generator=generator).to(self.device)
        t = theta[..., None]
        delta = t * self.X[idx][:, None, :] + (1 - t) * self.X[j] - self.x_tilde[idx][:, None, :]
        eps = t * self.Y[idx][:, None, :] + (1 - t) * self.Y[j] - self.y_tilde[idx][:, None, :]
        return delta, eps

    def contracted(self, scale: float) -> PairedMixupGeometry:
        """The geometry of the data contracted toward its global means, same pairing (a k-NN law
        is unchanged by the contraction, since it scales every distance alike)."""
        x = self.x_mean + scale * (self.X - self.x_mean)
        y = self.y_mean + scale * (self.Y - self.y_mean)
        return MixupGeometry(
            self.as_inputs(x), y, self.law, pairing=self.pairing, dtype=self.dtype, device=self.device
        )

    def __repr__(self) -> str:
        return (
            f"PairedMixupGeometry(n={self.n}, d={self.d}, c={self.c}, pairing={self.pairing!r}, "
            f"partner_rank={self.rank}, law={self.law!r}, theta_mean={self.theta_mean:.6g})"
        )
