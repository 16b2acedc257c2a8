r"""The geometry of uniform pairing (Theorem 1, Lemma 2): one shared Σ_xx, factorised once, and
Sherman–Morrison per sample."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from .._types import ArrayLike, DeviceLike, Generator, Indices, Tensor
from .._validation import check_indices
from ..laws import MixingLaw
from ._common import is_uniform_with_self, load_inputs

if TYPE_CHECKING:
    from ..mixing.partners import PartnerLaw

__all__ = ["MixupGeometry"]


class MixupGeometry:
    r"""Contracted points and perturbation covariances of mixup for a data set and a law of λ.

    Args:
        X: inputs, ``(n, d)`` or ``(n, *input_shape)`` (images are flattened to d features; the
            shape is kept in ``input_shape`` so models see what they expect).
        Y: labels, ``(n, c)`` one-hot or soft, or ``(n,)`` integer class indices.
        law: the law of λ (:mod:`mixtheory.laws`).
        num_classes: number of classes when Y holds class indices (default: max + 1).
        dtype, device: where the geometry lives (float64 by default, for verification).
        rcond: eigenvalues of Σ_xx below ``rcond · s_max`` are treated as zero (default
            ``max(n, d) · eps``, the convention of ``torch.linalg.pinv``). An absolute floor scaled
            to the data applies as well: singular values of the centred data below
            ``max(n, d) · eps · max|x|`` are rounding, not spread (data whose rows are all equal
            have rank 0 however their values round).

    >>> import torch
    >>> from mixtheory.laws import SymmetricBeta
    >>> g = torch.Generator().manual_seed(0)
    >>> X, Y = torch.randn(6, 3, generator=g, dtype=torch.float64), torch.arange(6) % 2
    >>> geo = MixupGeometry(X, Y, SymmetricBeta(1.0))
    >>> torch.allclose(geo.x_tilde.mean(0), X.mean(0))     # contraction keeps the mean
    True
    >>> bool(torch.allclose(geo.solve_xx(geo.matvec_xx(geo.centered_x)), geo.centered_x))
    True
    """

    def __new__(
        cls, *args: object, pairing: PartnerLaw | ArrayLike | None = None, **kwargs: object
    ) -> MixupGeometry:
        # a non-uniform pairing has per-anchor partner covariances: its own class (docs/theory.md §8.1)
        if cls is MixupGeometry and pairing is not None and not is_uniform_with_self(pairing):
            from .paired import PairedMixupGeometry  # lazy: the paired geometry subclasses this one

            cls = PairedMixupGeometry
        return super().__new__(cls)

    def __init__(
        self,
        X: ArrayLike,
        Y: ArrayLike,
        law: MixingLaw,
        *,
        pairing: PartnerLaw | ArrayLike | None = None,
        num_classes: int | None = None,
        dtype: torch.dtype = torch.float64,
        device: DeviceLike = None,
        rcond: float | None = None,
    ):
        x, y, self.input_shape = load_inputs(X, Y, law, num_classes, dtype, device)
        n = x.shape[0]
        if pairing is not None and getattr(pairing, "n", n) != n:
            raise ValueError(f"the pairing is on {pairing.n} samples but X has {n}")
        self.pairing = None  # uniform partners, self included: the paper's geometry
        self.law = law
        self.n, self.d, self.c = n, x.shape[1], y.shape[1]
        self.dtype, self.device = x.dtype, x.device
        self.X, self.Y = x, y

        self.theta_mean = float(law.theta_mean)
        self.theta_var = float(law.theta_var)
        self.gamma2 = float(law.gamma2)

        self.x_mean = x.mean(0)
        self.y_mean = y.mean(0)
        self.centered_x = x - self.x_mean  # a_i, (n, d)
        self.centered_y = y - self.y_mean  # b_i, (n, c)
        self.x_tilde = self.x_mean + self.theta_mean * self.centered_x
        self.y_tilde = self.y_mean + self.theta_mean * self.centered_y

        self.cov_yy = self.centered_y.T @ self.centered_y / n  # Σ_yy, (c, c)
        self._factorize(rcond)

    #: Σ^(i)_xx = σ² a_i a_iᵀ + γ² Σ_xx with one Σ_xx for every anchor (uniform partners, self
    #: included): its eigenbasis ``basis``, ``eigvals``, ``cross`` and ``cov_yy`` exist, and the
    #: regularizers use them (completed square, Sherman–Morrison). False for per-anchor factors.
    shared_covariance: bool = True

    @property
    def anchor_weights(self) -> Tensor:
        """``p_i``, the weight of anchor i in ``E_Q = Σ_i p_i (erm + R13 + R2 + R4)``: 1/n here (n,)."""
        return torch.full((self.n,), 1.0 / self.n, dtype=self.dtype, device=self.device)

    @property
    def mean_weights(self) -> Tensor | None:
        """The weights of the average over anchors in ``E_Q``
        (:func:`mixtheory.expansions.second_order_from_terms`): None, a plain mean, as the anchor
        weights are all 1/n."""
        return None

    @property
    def factor_dim(self) -> int:
        """Columns of the factor ``L_i`` of :meth:`factor_apply`: ``1 + rank``."""
        return 1 + self.rank

    # ----------------------------------------------------------------------------------------
    def _factorize(self, rcond: float | None) -> None:
        """Σ_xx = V diag(s) Vᵀ on its range, from the thin SVD of the centred data
        (A/√n = U diag(√s) Vᵀ): V is orthonormal to machine precision whatever the conditioning
        (building V from the n×n Gram matrix, Aᵀ U / √(n s), loses orthogonality like eps·s_max/s)."""
        n, d = self.n, self.d
        eps = torch.finfo(self.dtype).eps
        rcond = max(n, d) * eps if rcond is None else float(rcond)
        _, sing, vh = torch.linalg.svd(self.centered_x / math.sqrt(n), full_matrices=False)
        s = sing * sing
        # centring x − x̄ rounds each entry by ~eps·|x|, so rounding alone produces singular values
        # up to ~eps·max|x|·√d (of A/√n); only spread above that floor counts as rank
        floor = max(n, d) * eps * float(self.X.abs().max()) if self.X.numel() else 0.0
        keep = (s > rcond * s.max().clamp_min(0)) & (sing > floor) if s.numel() else s > 0
        self.eigvals, self.basis = s[keep], vh[keep].T
        self.rank = int(self.eigvals.numel())
        self.coords = self.centered_x @ self.basis  # z_i = Vᵀ a_i, (n, r)
        self.cross = self.basis.T @ (self.centered_x.T @ self.centered_y) / n  # C = Vᵀ Σ_xy, (r, c)

    # --- dense blocks, one sample (small d, checks) ---------------------------------------------
    @property
    def cov_xx(self) -> Tensor:
        """Σ_xx (d, d), dense. Shared by all samples; formed only when asked for."""
        return self.centered_x.T @ self.centered_x / self.n

    @property
    def cov_xy(self) -> Tensor:
        """Σ_xy (d, c)."""
        return self.centered_x.T @ self.centered_y / self.n

    def sigma_xx(self, i: int) -> Tensor:
        """Σ^(i)_xx = σ² a_i a_iᵀ + γ² Σ_xx, dense (d, d)."""
        a = self.centered_x[i]
        return self.theta_var * torch.outer(a, a) + self.gamma2 * self.cov_xx

    def sigma_xy(self, i: int) -> Tensor:
        """Σ^(i)_xy = σ² a_i b_iᵀ + γ² Σ_xy, dense (d, c)."""
        return self.theta_var * torch.outer(self.centered_x[i], self.centered_y[i]) + (
            self.gamma2 * self.cov_xy
        )

    def sigma_yy(self, i: int) -> Tensor:
        """Σ^(i)_yy = σ² b_i b_iᵀ + γ² Σ_yy, dense (c, c)."""
        b = self.centered_y[i]
        return self.theta_var * torch.outer(b, b) + self.gamma2 * self.cov_yy

    # --- structured operators over samples -------------------------------------------------------
    def sample_indices(self, indices: Indices = None) -> Tensor:
        """The requested samples as a long tensor on the geometry's device: None for all n,
        integer indices, or a boolean mask of length n; an empty request is an error."""
        return check_indices(indices, self.n, self.device)

    def _vectors(self, name: str, V: Tensor, m: int) -> Tensor:
        V = torch.as_tensor(V, dtype=self.dtype, device=self.device)
        if V.ndim < 2 or V.shape[0] != m or V.shape[-1] != self.d:
            raise ValueError(f"{name} must have shape ({m}, ..., {self.d}), got {tuple(V.shape)}")
        return V

    def trace_xx(self, indices: Indices = None) -> Tensor:
        """tr Σ^(i)_xx = σ²‖a_i‖² + γ² tr Σ_xx, shape (m,)."""
        a = self.centered_x[self.sample_indices(indices)]
        return self.theta_var * (a * a).sum(-1) + self.gamma2 * self.eigvals.sum()

    def matvec_xx(self, V: ArrayLike, indices: Indices = None) -> Tensor:
        """Σ^(i)_xx v for per-sample vectors V of shape (m, ..., d); same shape out."""
        idx = self.sample_indices(indices)
        V = self._vectors("V", V, idx.numel())
        a = self.centered_x[idx].reshape(idx.numel(), *([1] * (V.ndim - 2)), self.d)
        shared = ((V @ self.basis) * self.eigvals) @ self.basis.T
        return self.theta_var * (V * a).sum(-1, keepdim=True) * a + self.gamma2 * shared

    def quad_xx(self, V: ArrayLike, indices: Indices = None) -> Tensor:
        """vᵀ Σ^(i)_xx v for V of shape (m, ..., d); shape (m, ...)."""
        idx = self.sample_indices(indices)
        V = self._vectors("V", V, idx.numel())
        a = self.centered_x[idx].reshape(idx.numel(), *([1] * (V.ndim - 2)), self.d)
        w = V @ self.basis
        return self.theta_var * (V * a).sum(-1) ** 2 + self.gamma2 * (w * w * self.eigvals).sum(-1)

    def _sherman_morrison(self, idx: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """z_i, u_i = D⁻¹ z_i and β_i with (σ² z zᵀ + γ² D)⁻¹ = D⁻¹/γ² − β u uᵀ."""
        z = self.coords[idx]
        u = z / self.eigvals
        q = (z * u).sum(-1)
        beta = self.theta_var / (self.gamma2 * (self.gamma2 + self.theta_var * q))
        return z, u, beta

    def solve_xx(self, V: ArrayLike, indices: Indices = None) -> Tensor:
        """(Σ^(i)_xx)⁺ v for V of shape (m, ..., d), through Sherman–Morrison in the range basis."""
        idx = self.sample_indices(indices)
        V = self._vectors("V", V, idx.numel())
        if self.gamma2 == 0.0 or self.rank == 0:
            return torch.zeros_like(V)
        _, u, beta = self._sherman_morrison(idx)
        shape = (idx.numel(), *([1] * (V.ndim - 2)))
        w = V @ self.basis  # (m, ..., r)
        u_b = u.reshape(*shape, self.rank)
        coef = (w * u_b).sum(-1, keepdim=True) * beta.reshape(*shape, 1)
        return (w / self.eigvals / self.gamma2 - coef * u_b) @ self.basis.T

    def frobenius_xx(self, T: ArrayLike, indices: Indices = None) -> Tensor:
        """⟨Σ^(i)_xx, T_i⟩_F for per-sample d×d matrices T (m, d, d) (dense; small d only)."""
        idx = self.sample_indices(indices)
        T = torch.as_tensor(T, dtype=self.dtype, device=self.device)
        if T.shape != (idx.numel(), self.d, self.d):
            raise ValueError(f"T must have shape ({idx.numel()}, {self.d}, {self.d}), got {tuple(T.shape)}")
        a = self.centered_x[idx]
        rank_one = torch.einsum("md,mde,me->m", a, T, a)
        shared = torch.einsum("dr,mde,er->m", self.basis * self.eigvals, T, self.basis)
        return self.theta_var * rank_one + self.gamma2 * shared

    def projected_label_covariance(self, indices: Indices = None) -> Tensor:
        r"""K_i = Σ^(i)_yx (Σ^(i)_xx)⁺ Σ^(i)_xy, shape (m, c, c): the label covariance explained by
        the inputs, the matrix in R3. Closed form per sample from Sherman–Morrison:

        with P_i = σ² z_i b_iᵀ + γ² C (range coordinates of Σ^(i)_xy),
        K_i = P_iᵀ D⁻¹ P_i / γ² − β_i (P_iᵀ D⁻¹ z_i)(P_iᵀ D⁻¹ z_i)ᵀ.
        """
        idx = self.sample_indices(indices)
        m = idx.numel()
        if self.gamma2 == 0.0 or self.rank == 0:
            return torch.zeros(m, self.c, self.c, dtype=self.dtype, device=self.device)
        z, u, beta = self._sherman_morrison(idx)
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

    def pinv_sigma_xy(self, indices: Indices = None) -> Tensor:
        """(Σ^(i)_xx)⁺ Σ^(i)_xy, shape (m, d, c); used for J^(i) (m·d·c memory)."""
        idx = self.sample_indices(indices)
        a, b = self.centered_x[idx], self.centered_y[idx]
        # columns of Σ^(i)_xy, as (m, c, d) vectors
        cols = self.theta_var * b[:, :, None] * a[:, None, :] + self.gamma2 * (self.basis @ self.cross).T
        return self.solve_xx(cols, idx).transpose(1, 2)

    # --- sampling -------------------------------------------------------------------------------
    def sample_perturbations(
        self, num_draws: int, indices: Indices = None, generator: Generator = None
    ) -> tuple[Tensor, Tensor]:
        r"""Draw the mixup perturbations themselves: θ from the folded law, j uniform.

        Returns ``(delta, epsilon)`` of shapes (m, num_draws, d) and (m, num_draws, c), with
        ``x̃_i + δ = θ x_i + (1−θ) x_j`` exactly and ``E δ δᵀ = Σ^(i)_xx``.
        """
        idx = self.sample_indices(indices)
        m = idx.numel()
        theta = self.law.sample_theta((m, num_draws), generator).to(self.dtype).to(self.device)
        j = torch.randint(self.n, (m, num_draws), generator=generator).to(self.device)
        tb = self.theta_mean
        t = theta[..., None]
        delta = (t - tb) * self.centered_x[idx][:, None, :] + (1 - t) * self.centered_x[j]
        eps = (t - tb) * self.centered_y[idx][:, None, :] + (1 - t) * self.centered_y[j]
        return delta, eps

    def factor_apply(self, coeffs: ArrayLike, indices: Indices = None) -> Tensor:
        r"""``L_i ξ`` for coefficients ξ of shape (m, k, 1 + r), with the factor of Lemma 2
        ``Σ^(i)_xx = L_i L_iᵀ``, ``L_i = [σ a_i, γ V diag(√s)]`` (d × (1 + r)). Returns (m, k, d).

        >>> import torch
        >>> from mixtheory import SymmetricBeta
        >>> g = torch.Generator().manual_seed(0)
        >>> geo = MixupGeometry(torch.randn(7, 4, generator=g, dtype=torch.float64),
        ...                     torch.arange(7) % 2, SymmetricBeta(1.0))
        >>> L = geo.factor_apply(torch.eye(1 + geo.rank, dtype=torch.float64)[None], [3])[0].T
        >>> bool(torch.allclose(L @ L.T, geo.sigma_xx(3)))
        True
        """
        idx = self.sample_indices(indices)
        coeffs = torch.as_tensor(coeffs, dtype=self.dtype, device=self.device)
        if coeffs.shape[-1] != 1 + self.rank or coeffs.shape[0] not in (1, idx.numel()):
            raise ValueError(
                f"coeffs must have shape ({idx.numel()}, k, {1 + self.rank}), got {tuple(coeffs.shape)}"
            )
        a = self.centered_x[idx][:, None, :]
        shared = (coeffs[..., 1:] * self.eigvals.sqrt()) @ self.basis.T
        return math.sqrt(self.theta_var) * coeffs[..., :1] * a + math.sqrt(self.gamma2) * shared

    def factor_transpose_apply(self, vectors: ArrayLike, indices: Indices = None) -> Tensor:
        """``L_iᵀ v`` for vectors of shape (m, k, d): (m, k, 1 + r)."""
        idx = self.sample_indices(indices)
        vectors = self._vectors("vectors", vectors, idx.numel())
        a = self.centered_x[idx][:, None, :]
        first = math.sqrt(self.theta_var) * (vectors * a).sum(-1, keepdim=True)
        rest = math.sqrt(self.gamma2) * (vectors @ self.basis) * self.eigvals.sqrt()
        return torch.cat([first, rest], -1)

    def cross_factor(self, indices: Indices = None) -> Tensor:
        r"""``L^y_i`` (m, c, 1 + r) with ``Σ^(i)_xy = L_i (L^y_i)ᵀ`` for the factor ``L_i`` of
        :meth:`factor_apply`: ``L^y_i = [σ b_i, γ (D^{-1/2} C)ᵀ]`` (``C = Vᵀ Σ_xy``; the columns of
        Σ_xy lie in range V, ``docs/theory.md §3.4``). ``∇f Σ_xy = (∇f L_i)(L^y_i)ᵀ``, the cross
        term of R13, without the shared basis."""
        idx = self.sample_indices(indices)
        first = math.sqrt(self.theta_var) * self.centered_y[idx][:, :, None]
        shared = math.sqrt(self.gamma2) * (self.cross / self.eigvals.sqrt()[:, None]).T
        return torch.cat([first, shared.expand(idx.numel(), -1, -1)], -1)

    def frobenius_yy(self, T: ArrayLike, indices: Indices = None) -> Tensor:
        """``⟨Σ^(i)_yy, T_i⟩_F`` for per-sample c×c matrices T (m, c, c): ``2 R4`` for T = ℓ_yy."""
        idx = self.sample_indices(indices)
        T = torch.as_tensor(T, dtype=self.dtype, device=self.device)
        if T.shape != (idx.numel(), self.c, self.c):
            raise ValueError(f"T must have shape ({idx.numel()}, {self.c}, {self.c}), got {tuple(T.shape)}")
        b = self.centered_y[idx]
        return self.theta_var * torch.einsum("mk,mkl,ml->m", b, T, b) + self.gamma2 * torch.einsum(
            "kl,mkl->m", self.cov_yy, T
        )

    # --- probe coordinates (the estimators' interface; docs/theory.md §7.3) -----------------------
    def range_coordinates(self, coeffs: Tensor, indices: Indices = None) -> Tensor:
        """Coordinates of the probes ``L_i ξ`` in the range frame of Σ^(i)_xx, for factor coefficients
        ξ (m, k, 1 + r): here ``Vᵀ L_i ξ = σ ξ₀ z_i + γ √s ⊙ ξ₁:`` (m, k, r), ``z_i = Vᵀ a_i``, O(r)
        each. With :meth:`pinv_cross_coordinates` they give ``Σ_yx Σ_xx⁺ v`` without d-vectors."""
        idx = self.sample_indices(indices)
        coeffs = coeffs.to(dtype=self.dtype, device=self.device)
        z = self.coords[idx][:, None, :]
        shared = coeffs[..., 1:] * (math.sqrt(self.gamma2) * self.eigvals.sqrt())
        return math.sqrt(self.theta_var) * coeffs[..., :1] * z + shared

    def pinv_cross_coordinates(self, indices: Indices = None) -> Tensor:
        """``Q_i = Vᵀ (Σ^(i)_xx)⁺ Σ^(i)_xy`` (m, r, c) in the frame of :meth:`range_coordinates`, so
        that ``Σ_yx Σ_xx⁺ v = Q_iᵀ (Vᵀ v)``; by Sherman–Morrison, O(r·c) per sample:
        ``Q_i = D⁻¹P_i/γ² − β_i u_i (u_iᵀ P_i)`` with ``P_i = σ² z_i b_iᵀ + γ² C``, ``u_i = D⁻¹ z_i``."""
        idx = self.sample_indices(indices)
        m, r = idx.numel(), self.rank
        if self.gamma2 == 0.0 or r == 0:
            return torch.zeros(m, r, self.c, dtype=self.dtype, device=self.device)
        z, u, beta = self._sherman_morrison(idx)
        b = self.centered_y[idx]
        P = self.theta_var * z[:, :, None] * b[:, None, :] + self.gamma2 * self.cross  # (m, r, c)
        uP = torch.einsum("mr,mrc->mc", u, P)
        return (
            P / (self.gamma2 * self.eigvals[:, None]) - beta[:, None, None] * u[:, :, None] * uP[:, None, :]
        )

    def probe_vectors(
        self, coeffs: Tensor, indices: Tensor, dtype: torch.dtype, device: torch.device
    ) -> Tensor:
        """The probes ``L_i ξ`` (m, k, d) formed directly in ``dtype`` on ``device`` (the network's):
        ``σ ξ₀ a_i + ξ₁: (γ diag(√s) Vᵀ)``, the scaled basis cached per (dtype, device)."""
        xi = coeffs.to(device=device, dtype=dtype)
        a = self.centered_x[indices].to(device=device, dtype=dtype)
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

    def draw_partners(self, anchor: int, num_draws: int, generator: torch.Generator) -> Tensor:
        """Partners j of one anchor for mixup probes, (1, num_draws): uniform over the n samples."""
        return torch.randint(self.n, (1, num_draws), generator=generator)

    def mixup_directions(self, indices: Tensor, theta: Tensor, partners: Tensor) -> tuple[Tensor, Tensor]:
        """The mixup perturbations ``δ = θ x_i + (1 − θ) x_j − x̃_i`` for θ (m, k, 1) and partners j
        (m, k), with their coordinates in the frame of :meth:`range_coordinates`: here
        ``δ = (θ − θ̄) a_i + (1 − θ) a_j`` and ``Vᵀδ = (θ − θ̄) z_i + (1 − θ) z_j``."""
        own, partner = theta - self.theta_mean, 1 - theta
        vectors = own * self.centered_x[indices][:, None, :] + partner * self.centered_x[partners]
        coords = own * self.coords[indices][:, None, :] + partner * self.coords[partners]
        return vectors, coords

    # --- helpers -------------------------------------------------------------------------------
    def as_inputs(self, flat: Tensor) -> Tensor:
        """Reshape flat (..., d) vectors to the model's input shape (..., *input_shape)."""
        return flat.reshape(*flat.shape[:-1], *self.input_shape)

    def contracted(self, scale: float) -> MixupGeometry:
        """The geometry of the data contracted toward its means: x → x̄ + s(x − x̄), same for y."""
        x = self.x_mean + scale * self.centered_x
        y = self.y_mean + scale * self.centered_y
        return MixupGeometry(self.as_inputs(x), y, self.law, dtype=self.dtype, device=self.device)

    def __repr__(self) -> str:
        return (
            f"MixupGeometry(n={self.n}, d={self.d}, c={self.c}, rank={self.rank}, law={self.law!r}, "
            f"theta_mean={self.theta_mean:.6g})"
        )
