r"""One geometry for every partner law: :class:`MixupGeometry` (Theorem 1 and Lemma 2 of Carratino
et al., JMLR 2022, and their form for a partner law π(j | i), ``docs/theory.md §8.1``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .._types import ArrayLike, DeviceLike, Generator, Indices, Tensor
from .._validation import check_indices
from ..laws import MixingLaw
from ._common import as_partner_law, is_uniform_with_self, load_inputs, require_symmetric_lambda
from .anchored import AnchorCovariances
from .shared import SharedCovariance

if TYPE_CHECKING:
    from ..mixing.partners import PartnerLaw

__all__ = ["MixupGeometry"]


class MixupGeometry:
    r"""Contracted points and perturbation covariances of mixup for a data set, a law of λ and a
    partner law.

    Per anchor i, with partner mean ``μ_i``, weight ``p_i`` and partner covariance ``C_i``:
    ``x̃_i = μ_i + θ̄ (x_i − μ_i)``, ``a_i = x_i − μ_i`` (``centered_x``; labels alike) and
    ``Σ^(i)_xx = σ² a_i a_iᵀ + γ² C^xx_i``, ``Σ^(i)_xy``, ``Σ^(i)_yy`` alike. Uniform pairing (the
    default, the paper's) is the case in which every anchor has the same partner law: ``μ_i = x̄``,
    ``C_i = Σ`` (the data covariance) and ``p_i = 1/n``. The geometry stores that shared factor once
    (:class:`~mixtheory.geometry.shared.SharedCovariance`, Sherman–Morrison per sample); any other
    law stores one factor per anchor (:class:`~mixtheory.geometry.anchored.AnchorCovariances`).
    Either way no d×d matrix is kept per sample, and every method below means the same thing.

    Args:
        X: inputs, ``(n, d)`` or ``(n, *input_shape)`` (images are flattened to d features; the
            shape is kept in ``input_shape`` so models see what they expect).
        Y: labels, ``(n, c)`` one-hot or soft, or ``(n,)`` integer class indices.
        law: the law of λ (:mod:`mixtheory.laws`).
        pairing: the partner law π(j | i): None or ``UniformPartner(n)`` (uniform, self included:
            the paper's), another :class:`~mixtheory.mixing.PartnerLaw`, or an n×n row-stochastic
            tensor. A non-uniform law folds only for a λ law symmetric about ½.
        num_classes: number of classes when Y holds class indices (default: max + 1).
        dtype, device: where the geometry lives (float64 by default, for verification).
        rcond: eigenvalues of Σ_xx below ``rcond · s_max`` are treated as zero (default
            ``max(n, d) · eps``, the convention of ``torch.linalg.pinv``). An absolute floor scaled
            to the data applies as well: singular values of the centred data below
            ``max(n, d) · eps · max|x|`` are rounding, not spread (data whose rows are all equal
            have rank 0 however their values round).
        chunk_size: anchors per block when the per-anchor factors are built (non-uniform laws).

    >>> import torch
    >>> from mixtheory.laws import SymmetricBeta
    >>> from mixtheory.mixing import UniformPartner
    >>> g = torch.Generator().manual_seed(0)
    >>> X, Y = torch.randn(6, 3, generator=g, dtype=torch.float64), torch.arange(6) % 2
    >>> geo = MixupGeometry(X, Y, SymmetricBeta(1.0))
    >>> torch.allclose(geo.x_tilde.mean(0), X.mean(0))     # contraction keeps the mean
    True
    >>> bool(torch.allclose(geo.solve_xx(geo.matvec_xx(geo.centered_x)), geo.centered_x))
    True
    >>> other = MixupGeometry(X, Y, SymmetricBeta(1.0), pairing=UniformPartner(6, include_self=False))
    >>> type(other) is MixupGeometry, round(float(other.anchor_weights.sum()), 12)
    (True, 1.0)
    """

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
        chunk_size: int = 512,
    ):
        from ..mixing.partners import UniformPartner  # lazy: mixing imports this package

        x, y, self.input_shape = load_inputs(X, Y, law, num_classes, dtype, device)
        n = x.shape[0]
        partners = as_partner_law(pairing, n)
        self.pairing: PartnerLaw = UniformPartner(n) if partners is None else partners
        self._set_law(law, x, y)
        if is_uniform_with_self(self.pairing):
            means = (self.x_mean, self.y_mean)
            self._cov: SharedCovariance | AnchorCovariances = SharedCovariance.from_data(
                law, x, y, means, rcond
            )
        else:
            require_symmetric_lambda(law)
            self._cov = AnchorCovariances(x, y, law, self.pairing, rcond, chunk_size)
        self._set_points()

    def _set_law(self, law: MixingLaw, x: Tensor, y: Tensor) -> None:
        """Sizes, data, means and λ's moments (everything that does not depend on the partners)."""
        self.law = law
        self.n, self.d, self.c = x.shape[0], x.shape[1], y.shape[1]
        self.dtype, self.device = x.dtype, x.device
        self.X, self.Y = x, y
        self.theta_mean = float(law.theta_mean)
        self.theta_var = float(law.theta_var)
        self.gamma2 = float(law.gamma2)
        self.x_mean, self.y_mean = x.mean(0), y.mean(0)

    def _set_points(self) -> None:
        """``a_i``, ``b_i`` and the contracted points ``x̃_i = μ_i + θ̄ a_i``, ``ỹ_i = ν_i + θ̄ b_i``."""
        self.centered_x, self.centered_y = self._cov.centered_x, self._cov.centered_y
        # μ_i: (n, d) per anchor, or under uniform pairing the data mean x̄ (d,), broadcast
        self.x_tilde = self._cov.partner_mean_x + self.theta_mean * self.centered_x
        self.y_tilde = self._cov.partner_mean_y + self.theta_mean * self.centered_y

    # --- the partner law's weights and moments ----------------------------------------------------
    @property
    def anchor_weights(self) -> Tensor:
        """``p_i`` (n,), summing to 1: the weight of anchor i in ``E_Q = Σ_i p_i (erm + R13 + R2 + R4)``;
        ``(1 + Σ_j π(i|j))/(2n)`` (``docs/theory.md §8.1``), all 1/n under uniform pairing."""
        return self._cov.anchor_weights()

    @property
    def mean_weights(self) -> Tensor | None:
        """The ``weights`` of the average over anchors in ``E_Q``
        (:func:`mixtheory.expansions.second_order_from_terms`): None (the plain mean, exactly) when
        the anchor weights are all 1/n, else :attr:`anchor_weights`."""
        return self._cov.mean_weights

    @property
    def partner_mean_x(self) -> Tensor:
        """μ_i (n, d), the mean partner of anchor i; under uniform pairing x̄ for every anchor (a
        broadcast view, no copy)."""
        return self._cov.partner_mean_x.expand(self.n, self.d)

    @property
    def partner_mean_y(self) -> Tensor:
        """ν_i (n, c), the mean partner label of anchor i (:attr:`partner_mean_x`)."""
        return self._cov.partner_mean_y.expand(self.n, self.c)

    def partner_matrix(self) -> Tensor:
        """The dense folded partner law ``Q[i, j] = (π(j|i) + π(i|j))/(2 n p_i)`` (n, n); small n."""
        Pi = self.pairing.dense().to(self.dtype).to(self.device)
        return (Pi + Pi.T) / (2 * self.n * self.anchor_weights[:, None])

    @property
    def rank(self) -> int:
        """Columns of the factor ``L_i`` of :meth:`factor_apply` beyond the anchor's own: rank Σ_xx
        under uniform pairing, the width of the per-anchor partner factors otherwise."""
        return self._cov.rank

    @property
    def factor_dim(self) -> int:
        """Columns of the factor ``L_i`` of :meth:`factor_apply`: ``1 + rank``."""
        return 1 + self.rank

    # --- the data's covariances and the shared factor of uniform pairing -------------------------
    @property
    def cov_xx(self) -> Tensor:
        """Σ_xx (d, d), the covariance of the inputs about their mean, dense (formed when asked for).
        Under uniform pairing it is every anchor's partner covariance; otherwise the partner
        covariances are per anchor (:meth:`sigma_xx`)."""
        return self._cov.cov_xx()

    @property
    def cov_xy(self) -> Tensor:
        """Σ_xy (d, c), the covariance of inputs and labels about their means (:attr:`cov_xx`)."""
        return self._cov.cov_xy()

    @property
    def cov_yy(self) -> Tensor:
        """Σ_yy (c, c), the covariance of the labels about their mean (:attr:`cov_xx`)."""
        return self._cov.cov_yy

    @property
    def basis(self) -> Tensor:
        """V (d, r): the range of Σ_xx shared by every anchor under uniform pairing (``Σ_xx =
        V diag(s) Vᵀ``). Refused (AttributeError naming the fix) under a non-uniform pairing."""
        return self._cov.basis

    @property
    def eigvals(self) -> Tensor:
        """s (r,), the nonzero eigenvalues of the shared Σ_xx (:attr:`basis`)."""
        return self._cov.eigvals

    @property
    def coords(self) -> Tensor:
        """``z_i = Vᵀ a_i`` (n, r) in the shared basis (:attr:`basis`)."""
        return self._cov.coords

    @property
    def cross(self) -> Tensor:
        """``C = Vᵀ Σ_xy`` (r, c) in the shared basis (:attr:`basis`)."""
        return self._cov.cross

    # --- dense blocks, one sample (small d, checks) ---------------------------------------------
    def sigma_xx(self, i: int) -> Tensor:
        """Σ^(i)_xx = σ² a_i a_iᵀ + γ² C^xx_i, dense (d, d)."""
        return self._cov.sigma_xx(i)

    def sigma_xy(self, i: int) -> Tensor:
        """Σ^(i)_xy = σ² a_i b_iᵀ + γ² C^xy_i, dense (d, c)."""
        return self._cov.sigma_xy(i)

    def sigma_yy(self, i: int) -> Tensor:
        """Σ^(i)_yy = σ² b_i b_iᵀ + γ² C^yy_i, dense (c, c)."""
        return self._cov.sigma_yy(i)

    # --- structured operators over samples -------------------------------------------------------
    def sample_indices(self, indices: Indices = None) -> Tensor:
        """The requested samples as a long tensor on the geometry's device: None for all n,
        integer indices, or a boolean mask of length n; an empty request is an error."""
        return check_indices(indices, self.n, self.device)

    def _vectors(self, name: str, V: ArrayLike, m: int) -> Tensor:
        V = torch.as_tensor(V, dtype=self.dtype, device=self.device)
        if V.ndim < 2 or V.shape[0] != m or V.shape[-1] != self.d:
            raise ValueError(f"{name} must have shape ({m}, ..., {self.d}), got {tuple(V.shape)}")
        return V

    def _square(self, name: str, T: ArrayLike, m: int, size: int) -> Tensor:
        T = torch.as_tensor(T, dtype=self.dtype, device=self.device)
        if T.shape != (m, size, size):
            raise ValueError(f"{name} must have shape ({m}, {size}, {size}), got {tuple(T.shape)}")
        return T

    def trace_xx(self, indices: Indices = None) -> Tensor:
        """tr Σ^(i)_xx = σ²‖a_i‖² + γ² tr C^xx_i, shape (m,)."""
        return self._cov.trace_xx(self.sample_indices(indices))

    def matvec_xx(self, V: ArrayLike, indices: Indices = None) -> Tensor:
        """Σ^(i)_xx v for per-sample vectors V of shape (m, ..., d); same shape out."""
        idx = self.sample_indices(indices)
        return self._cov.matvec_xx(self._vectors("V", V, idx.numel()), idx)

    def quad_xx(self, V: ArrayLike, indices: Indices = None) -> Tensor:
        """vᵀ Σ^(i)_xx v for V of shape (m, ..., d); shape (m, ...)."""
        idx = self.sample_indices(indices)
        return self._cov.quad_xx(self._vectors("V", V, idx.numel()), idx)

    def solve_xx(self, V: ArrayLike, indices: Indices = None) -> Tensor:
        """(Σ^(i)_xx)⁺ v for V of shape (m, ..., d): Sherman–Morrison in the shared range basis
        under uniform pairing, the thin SVD of the anchor's factor otherwise."""
        idx = self.sample_indices(indices)
        return self._cov.solve_xx(self._vectors("V", V, idx.numel()), idx)

    def frobenius_xx(self, T: ArrayLike, indices: Indices = None) -> Tensor:
        """⟨Σ^(i)_xx, T_i⟩_F for per-sample d×d matrices T (m, d, d) (dense; small d only)."""
        idx = self.sample_indices(indices)
        return self._cov.frobenius_xx(self._square("T", T, idx.numel(), self.d), idx)

    def frobenius_yy(self, T: ArrayLike, indices: Indices = None) -> Tensor:
        """``⟨Σ^(i)_yy, T_i⟩_F`` for per-sample c×c matrices T (m, c, c): ``2 R4`` for T = ℓ_yy."""
        idx = self.sample_indices(indices)
        return self._cov.frobenius_yy(self._square("T", T, idx.numel(), self.c), idx)

    def jacobian_contraction(
        self, jacobians: ArrayLike, A: ArrayLike, B: ArrayLike, indices: Indices = None
    ) -> Tensor:
        r"""``½⟨Σ^(i)_xx, J_iᵀ A_i J_i⟩ + ⟨Σ^(i)_xy, J_iᵀ B_i⟩`` (m,) for Jacobians J (m, c, d) and
        c×c matrices A, B (m, c, c): R13 of Theorem 3 for ``A = ℓ_uu``, ``B = ℓ_uy``
        (:mod:`mixtheory.regularizers`). Through ``Σ = σ² a aᵀ + γ² V diag(s) Vᵀ`` under uniform
        pairing, through ``J L_i`` and ``L^y_i`` otherwise; no d×d matrix."""
        idx = self.sample_indices(indices)
        m = idx.numel()
        J = torch.as_tensor(jacobians, dtype=self.dtype, device=self.device)
        if J.shape != (m, self.c, self.d):
            raise ValueError(f"jacobians must have shape ({m}, {self.c}, {self.d}), got {tuple(J.shape)}")
        A, B = self._square("A", A, m, self.c), self._square("B", B, m, self.c)
        return self._cov.jacobian_contraction(J, A, B, idx)

    def projected_label_covariance(self, indices: Indices = None) -> Tensor:
        r"""K_i = Σ^(i)_yx (Σ^(i)_xx)⁺ Σ^(i)_xy, shape (m, c, c): the label covariance explained by
        the inputs, the matrix in R3 (Sherman–Morrison under uniform pairing, with
        ``P_i = σ² z_i b_iᵀ + γ² C``: ``K_i = P_iᵀ D⁻¹ P_i / γ² − β_i (P_iᵀ D⁻¹ z_i)(P_iᵀ D⁻¹ z_i)ᵀ``;
        ``L^y_i W_i W_iᵀ L^y_iᵀ`` from the anchor's factor otherwise)."""
        return self._cov.projected_label_covariance(self.sample_indices(indices))

    def pinv_sigma_xy(self, indices: Indices = None) -> Tensor:
        """(Σ^(i)_xx)⁺ Σ^(i)_xy, shape (m, d, c); used for J^(i) (m·d·c memory)."""
        idx = self.sample_indices(indices)
        return self.solve_xx(self._cov.cross_columns(idx), idx).transpose(1, 2)

    # --- sampling -------------------------------------------------------------------------------
    def sample_perturbations(
        self, num_draws: int, indices: Indices = None, generator: Generator = None
    ) -> tuple[Tensor, Tensor]:
        r"""Draw the mixup perturbations themselves: θ from the folded law, j from the folded partner
        law ``Q(· | i)`` (uniform under uniform pairing; dense ``Q``, n² memory, otherwise).

        Returns ``(delta, epsilon)`` of shapes (m, num_draws, d) and (m, num_draws, c), with
        ``x̃_i + δ = θ x_i + (1−θ) x_j`` exactly and ``E δ δᵀ = Σ^(i)_xx``.
        """
        idx = self.sample_indices(indices)
        return self._cov.sample_perturbations(num_draws, idx, generator, self.x_tilde, self.y_tilde)

    def factor_apply(self, coeffs: ArrayLike, indices: Indices = None) -> Tensor:
        r"""``L_i ξ`` for coefficients ξ of shape (m, k, 1 + rank) (or (1, k, 1 + rank)), with the factor
        ``Σ^(i)_xx = L_i L_iᵀ``: ``L_i = [σ a_i, γ V diag(√s)]`` under uniform pairing (Lemma 2),
        ``[σ a_i, γ F^x_i]`` otherwise. Returns (m, k, d).

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
        return self._cov.factor_apply(coeffs, idx)

    def factor_transpose_apply(self, vectors: ArrayLike, indices: Indices = None) -> Tensor:
        """``L_iᵀ v`` for vectors of shape (m, k, d): (m, k, 1 + rank)."""
        idx = self.sample_indices(indices)
        return self._cov.factor_transpose_apply(self._vectors("vectors", vectors, idx.numel()), idx)

    def cross_factor(self, indices: Indices = None) -> Tensor:
        r"""``L^y_i`` (m, c, 1 + rank) with ``Σ^(i)_xy = L_i (L^y_i)ᵀ`` for the factor ``L_i`` of
        :meth:`factor_apply`: ``[σ b_i, γ (D^{-1/2} C)ᵀ]`` under uniform pairing (the columns of Σ_xy
        lie in range V, ``docs/theory.md §3.4``), ``[σ b_i, γ F^y_i]`` otherwise."""
        return self._cov.cross_factor(self.sample_indices(indices))

    # --- probe coordinates (the estimators' interface; docs/theory.md §7.3) -----------------------
    def range_coordinates(self, coeffs: Tensor, indices: Indices = None) -> Tensor:
        """Coordinates of the probes ``L_i ξ`` in a frame of the range of Σ^(i)_xx, for factor
        coefficients ξ (m, k, 1 + rank): ``Vᵀ L_i ξ = σ ξ₀ z_i + γ √s ⊙ ξ₁:`` (m, k, r) in the shared
        basis, ``U_iᵀ L_i ξ = S_i W_iᵀ ξ`` in the anchor's own frame otherwise. With
        :meth:`pinv_cross_coordinates` they give ``Σ_yx Σ_xx⁺ v`` without d-vectors."""
        idx = self.sample_indices(indices)
        return self._cov.range_coordinates(coeffs.to(dtype=self.dtype, device=self.device), idx)

    def pinv_cross_coordinates(self, indices: Indices = None) -> Tensor:
        """``Q_i`` with ``Σ_yx Σ_xx⁺ v = Q_iᵀ (coordinates of v)`` in the frame of
        :meth:`range_coordinates`: by Sherman–Morrison, O(r·c) per sample, under uniform pairing
        (``Q_i = D⁻¹P_i/γ² − β_i u_i (u_iᵀ P_i)``, ``P_i = σ² z_i b_iᵀ + γ² C``, ``u_i = D⁻¹ z_i``);
        ``S_i⁻¹ W_iᵀ L^y_iᵀ`` otherwise."""
        return self._cov.pinv_cross_coordinates(self.sample_indices(indices))

    def probe_vectors(
        self, coeffs: Tensor, indices: Tensor, dtype: torch.dtype, device: torch.device
    ) -> Tensor:
        """The probes ``L_i ξ`` (m, k, d) formed in ``dtype`` on ``device`` (the network's); under
        uniform pairing directly, the scaled shared basis cached per (dtype, device)."""
        return self._cov.probe_vectors(coeffs, indices, dtype, device)

    def draw_partners(self, anchor: int, num_draws: int, generator: torch.Generator) -> Tensor:
        """Partners j of one anchor for mixup probes, (1, num_draws), from ``Q(· | anchor)``."""
        return self._cov.draw_partners(anchor, num_draws, generator)

    def mixup_directions(self, indices: Tensor, theta: Tensor, partners: Tensor) -> tuple[Tensor, Tensor]:
        """The mixup perturbations ``δ = θ x_i + (1 − θ) x_j − x̃_i = (θ − θ̄) a_i + (1 − θ)(x_j − μ_i)``
        for θ (m, k, 1) and partners j (m, k), with their coordinates in the frame of
        :meth:`range_coordinates`."""
        return self._cov.mixup_directions(indices, theta, partners)

    # --- helpers -------------------------------------------------------------------------------
    def as_inputs(self, flat: Tensor) -> Tensor:
        """Reshape flat (..., d) vectors to the model's input shape (..., *input_shape)."""
        return flat.reshape(*flat.shape[:-1], *self.input_shape)

    def contracted(self, scale: float) -> MixupGeometry:
        """The geometry of the data contracted toward its global means, x → x̄ + s(x − x̄) (y alike),
        same pairing (a k-NN law is unchanged by the contraction, which scales every distance alike)."""
        x = self.x_mean + scale * (self.X - self.x_mean)
        y = self.y_mean + scale * (self.Y - self.y_mean)
        return MixupGeometry(
            self.as_inputs(x), y, self.law, pairing=self.pairing, dtype=self.dtype, device=self.device
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n={self.n}, d={self.d}, c={self.c}, pairing={self.pairing!r}, "
            f"rank={self.rank}, law={self.law!r}, theta_mean={self.theta_mean:.6g})"
        )
