r"""The perturbation geometry of mixup: Theorem 1 and Lemma 2 of Carratino et al. (JMLR 2022).

Folding the mixup loss gives a perturbed ERM around the contracted points

.. math::

    \tilde x_i = \bar x + \bar\theta (x_i - \bar x), \qquad \tilde y_i = \bar y + \bar\theta (y_i - \bar y),

with zero-mean perturbations ``δ_i = (θ − θ̄) a_i + (1 − θ) a_j`` (``a_i = x_i − x̄``, j uniform)
and label perturbations ``ε_i`` built the same way from ``b_i = y_i − ȳ``. Their covariances
(Lemma 2) are one shared matrix plus a rank-one term:

.. math::

    \Sigma^{(i)}_{xx} = \sigma^2 a_i a_i^\top + \gamma^2 \Sigma_{xx}, \quad
    \Sigma^{(i)}_{xy} = \sigma^2 a_i b_i^\top + \gamma^2 \Sigma_{xy}, \quad
    \Sigma^{(i)}_{yy} = \sigma^2 b_i b_i^\top + \gamma^2 \Sigma_{yy}.

(The paper writes ``(σ²(x̃_i − x̄)(x̃_i − x̄)ᵀ + γ² Σ_x̃x̃)/θ̄²`` with ``Σ_x̃x̃ = θ̄² Σ_xx``; the same.)

:class:`MixupGeometry` factorizes ``Σ_xx = V diag(s) Vᵀ`` once (V: d×r, its range) and does every
per-sample operation in that r-dimensional basis with Sherman–Morrison; it never forms a d×d
matrix per sample. Every ``a_i`` and every column of ``Σ_xy`` lies in the range of ``Σ_xx``, so
the pseudo-inverse of ``Σ^{(i)}_xx`` is its inverse on that range, exactly.

**Non-uniform pairing** (``docs/theory.md §8.1``). ``MixupGeometry(X, Y, law, pairing=π)`` with
partners drawn from ``π(j | i)`` (an n×n row-stochastic tensor or a
:class:`~mixtheory.mixing.PartnerLaw`) returns a :class:`PairedMixupGeometry`: the fold with the
symmetrised pair law ``P(i, j) = (π(j|i) + π(i|j))/(2n)`` gives anchor weights
``p_i = (1 + c_i)/(2n)`` (``c = Πᵀ1``), partner means ``μ_i`` and partner covariances ``C_i`` per
anchor, and ``Σ^{(i)}_xx = σ² (x_i − μ_i)(x_i − μ_i)ᵀ + γ² C_i`` (the xy and yy blocks alike). The
shared factorisation is lost; every operator goes through a per-anchor factor (class docstring).
``pairing=None`` (or ``UniformPartner(n)``, self included) is the paper's geometry, computed by
exactly the code above.
"""

from __future__ import annotations

import math

import torch

from ._validation import Tensor, as_labels, as_tensor, check_indices
from .laws import MixingLaw

__all__ = ["MixupGeometry", "PairedMixupGeometry"]


def _load(X, Y, law, num_classes, dtype, device) -> tuple[Tensor, Tensor, tuple[int, ...]]:
    """Validated flat inputs (n, d), labels (n, c) and the input shape."""
    if not isinstance(law, MixingLaw):
        raise TypeError(f"law must be a mixtheory law (e.g. SymmetricBeta(alpha)), got {type(law).__name__}")
    x = as_tensor("X", X, dtype=dtype, device=device)
    if x.ndim < 2:
        raise ValueError(f"X must be (n, d) or (n, *input_shape), got shape {tuple(x.shape)}")
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"too few samples for a covariance: X has n={n}; need n >= 2")
    input_shape = tuple(x.shape[1:])
    x = x.reshape(n, -1)
    y = as_labels("Y", Y, n, num_classes, x.dtype, x.device)
    return x, y, input_shape


def _is_uniform_with_self(pairing) -> bool:
    from .mixing.partners import UniformPartner  # lazy: mixing imports this module

    return isinstance(pairing, UniformPartner) and pairing.include_self


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

    def __new__(cls, *args, pairing=None, **kwargs):
        # a non-uniform pairing has per-anchor partner covariances: its own class (docs/theory.md §8.1)
        if cls is MixupGeometry and pairing is not None and not _is_uniform_with_self(pairing):
            cls = PairedMixupGeometry
        return super().__new__(cls)

    def __init__(
        self,
        X,
        Y,
        law: MixingLaw,
        *,
        pairing=None,
        num_classes: int | None = None,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str | None = None,
        rcond: float | None = None,
    ):
        x, y, self.input_shape = _load(X, Y, law, num_classes, dtype, device)
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

    @property
    def anchor_weights(self) -> Tensor:
        """``p_i``, the weight of anchor i in ``E_Q = Σ_i p_i (erm + R13 + R2 + R4)``: 1/n here (n,)."""
        return torch.full((self.n,), 1.0 / self.n, dtype=self.dtype, device=self.device)

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
    def sample_indices(self, indices=None) -> Tensor:
        """The requested samples as a long tensor on the geometry's device: None for all n,
        integer indices, or a boolean mask of length n; an empty request is an error."""
        return check_indices(indices, self.n, self.device)

    def _vectors(self, name: str, V: Tensor, m: int) -> Tensor:
        V = torch.as_tensor(V, dtype=self.dtype, device=self.device)
        if V.ndim < 2 or V.shape[0] != m or V.shape[-1] != self.d:
            raise ValueError(f"{name} must have shape ({m}, ..., {self.d}), got {tuple(V.shape)}")
        return V

    def trace_xx(self, indices=None) -> Tensor:
        """tr Σ^(i)_xx = σ²‖a_i‖² + γ² tr Σ_xx, shape (m,)."""
        a = self.centered_x[self.sample_indices(indices)]
        return self.theta_var * (a * a).sum(-1) + self.gamma2 * self.eigvals.sum()

    def matvec_xx(self, V, indices=None) -> Tensor:
        """Σ^(i)_xx v for per-sample vectors V of shape (m, ..., d); same shape out."""
        idx = self.sample_indices(indices)
        V = self._vectors("V", V, idx.numel())
        a = self.centered_x[idx].reshape(idx.numel(), *([1] * (V.ndim - 2)), self.d)
        shared = ((V @ self.basis) * self.eigvals) @ self.basis.T
        return self.theta_var * (V * a).sum(-1, keepdim=True) * a + self.gamma2 * shared

    def quad_xx(self, V, indices=None) -> Tensor:
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

    def solve_xx(self, V, indices=None) -> Tensor:
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

    def frobenius_xx(self, T, indices=None) -> Tensor:
        """⟨Σ^(i)_xx, T_i⟩_F for per-sample d×d matrices T (m, d, d) (dense; small d only)."""
        idx = self.sample_indices(indices)
        T = torch.as_tensor(T, dtype=self.dtype, device=self.device)
        if T.shape != (idx.numel(), self.d, self.d):
            raise ValueError(f"T must have shape ({idx.numel()}, {self.d}, {self.d}), got {tuple(T.shape)}")
        a = self.centered_x[idx]
        rank_one = torch.einsum("md,mde,me->m", a, T, a)
        shared = torch.einsum("dr,mde,er->m", self.basis * self.eigvals, T, self.basis)
        return self.theta_var * rank_one + self.gamma2 * shared

    def projected_label_covariance(self, indices=None) -> Tensor:
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

    def pinv_sigma_xy(self, indices=None) -> Tensor:
        """(Σ^(i)_xx)⁺ Σ^(i)_xy, shape (m, d, c); used for J^(i) (m·d·c memory)."""
        idx = self.sample_indices(indices)
        a, b = self.centered_x[idx], self.centered_y[idx]
        # columns of Σ^(i)_xy, as (m, c, d) vectors
        cols = self.theta_var * b[:, :, None] * a[:, None, :] + self.gamma2 * (self.basis @ self.cross).T
        return self.solve_xx(cols, idx).transpose(1, 2)

    # --- sampling -------------------------------------------------------------------------------
    def sample_perturbations(
        self, num_draws: int, indices=None, generator: torch.Generator | None = None
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

    def factor_apply(self, coeffs, indices=None) -> Tensor:
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

    def factor_transpose_apply(self, vectors, indices=None) -> Tensor:
        """``L_iᵀ v`` for vectors of shape (m, k, d): (m, k, 1 + r)."""
        idx = self.sample_indices(indices)
        vectors = self._vectors("vectors", vectors, idx.numel())
        a = self.centered_x[idx][:, None, :]
        first = math.sqrt(self.theta_var) * (vectors * a).sum(-1, keepdim=True)
        rest = math.sqrt(self.gamma2) * (vectors @ self.basis) * self.eigvals.sqrt()
        return torch.cat([first, rest], -1)

    def cross_factor(self, indices=None) -> Tensor:
        r"""``L^y_i`` (m, c, 1 + r) with ``Σ^(i)_xy = L_i (L^y_i)ᵀ`` for the factor ``L_i`` of
        :meth:`factor_apply`: ``L^y_i = [σ b_i, γ (D^{-1/2} C)ᵀ]`` (``C = Vᵀ Σ_xy``; the columns of
        Σ_xy lie in range V, ``docs/theory.md §3.4``). ``∇f Σ_xy = (∇f L_i)(L^y_i)ᵀ``, the cross
        term of R13, without the shared basis."""
        idx = self.sample_indices(indices)
        first = math.sqrt(self.theta_var) * self.centered_y[idx][:, :, None]
        shared = math.sqrt(self.gamma2) * (self.cross / self.eigvals.sqrt()[:, None]).T
        return torch.cat([first, shared.expand(idx.numel(), -1, -1)], -1)

    def frobenius_yy(self, T, indices=None) -> Tensor:
        """``⟨Σ^(i)_yy, T_i⟩_F`` for per-sample c×c matrices T (m, c, c): ``2 R4`` for T = ℓ_yy."""
        idx = self.sample_indices(indices)
        T = torch.as_tensor(T, dtype=self.dtype, device=self.device)
        if T.shape != (idx.numel(), self.c, self.c):
            raise ValueError(f"T must have shape ({idx.numel()}, {self.c}, {self.c}), got {tuple(T.shape)}")
        b = self.centered_y[idx]
        return self.theta_var * torch.einsum("mk,mkl,ml->m", b, T, b) + self.gamma2 * torch.einsum(
            "kl,mkl->m", self.cov_yy, T
        )

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


# ----------------------------------------------------------------------------------------------
# Non-uniform pairing (docs/theory.md §8.1)
# ----------------------------------------------------------------------------------------------
def require_symmetric_lambda(law: MixingLaw, what: str = "a non-uniform pairing") -> None:
    r"""Refuse a law of λ that is not symmetric about ½: the fold with the symmetrised pair law
    ``P(i, j) = (π(j|i) + π(i|j))/(2n)`` needs ``p(θ) = p(1 − θ)`` (``docs/theory.md §8.1``;
    otherwise θ and the partner are dependent given the anchor). Checked on λ's quadrature rule:
    ``|E(λ − ½)^k| ≤ 1e-12 · E|λ − ½|^k`` for k = 1, 3, 5."""
    rule = law.lambda_rule()
    centred = torch.as_tensor(rule.nodes, dtype=torch.float64) - 0.5
    weights = torch.as_tensor(rule.weights, dtype=torch.float64)
    for k in (1, 3, 5):
        odd = float((weights * centred**k).sum())
        scale = float((weights * centred.abs() ** k).sum())
        if abs(odd) > 1e-12 * scale + 1e-300:
            raise ValueError(
                f"{what} folds with the symmetrised pair law only when λ's law is symmetric about 1/2 "
                f"(docs/theory.md §8.1); {law!r} has E(λ − 1/2)^{k} = {odd:.3g}. Use a symmetric law "
                "(SymmetricBeta, Uniform, WShaped, PointMass(0.5)) or uniform pairing (pairing=None), "
                "which folds for any law; the unfolded exact loss needs no symmetry."
            )


def as_partner_law(pairing, n: int):
    """A :class:`~mixtheory.mixing.PartnerLaw` on n samples from a law or an n×n row-stochastic
    tensor (:class:`~mixtheory.mixing.DensePairing`); None stays None."""
    from .mixing.partners import DensePairing, PartnerLaw

    if pairing is None:
        return None
    if not isinstance(pairing, PartnerLaw):
        pairing = DensePairing(pairing)
    if pairing.n != n:
        raise ValueError(f"the pairing is on {pairing.n} samples but X has {n}")
    return pairing


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
        X,
        Y,
        law: MixingLaw,
        *,
        pairing,
        num_classes: int | None = None,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str | None = None,
        rcond: float | None = None,
        chunk_size: int = 512,
    ):
        x, y, self.input_shape = _load(X, Y, law, num_classes, dtype, device)
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
        self._inv_sing = torch.where(kept, 1.0 / torch.where(kept, sing, torch.ones_like(sing)), 0.0)
        self._range_vh = vh * kept[:, :, None]

    def __getattr__(self, name: str):
        if name in _SHARED_ONLY:
            raise AttributeError(
                f"{name!r} is the shared Σ_xx structure of uniform pairing; with pairing={self.pairing!r} "
                "every anchor has its own partner covariance C_i (docs/theory.md §8.1): use the "
                "geometry's methods (factor_apply, factor_transpose_apply, cross_factor, solve_xx, …)"
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def anchor_weights(self) -> Tensor:
        """``p_i = (1 + Σ_j π(i|j))/(2n)`` (n,), summing to 1."""
        return self._anchor_weights

    def _no_shared(self, what: str):
        return AttributeError(
            f"{what} is shared by all anchors only under uniform pairing; here use sigma_xx(i)/sigma_xy(i)"
        )

    @property
    def cov_xx(self) -> Tensor:
        raise self._no_shared("Σ_xx")

    @property
    def cov_xy(self) -> Tensor:
        raise self._no_shared("Σ_xy")

    def _sherman_morrison(self, idx):
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

    def trace_xx(self, indices=None) -> Tensor:
        """tr Σ^(i)_xx = ‖L_i‖²_F = σ²‖a_i‖² + γ² tr C^xx_i, shape (m,)."""
        L = self._factor[self.sample_indices(indices)]
        return (L * L).sum((-2, -1))

    def matvec_xx(self, V, indices=None) -> Tensor:
        idx = self.sample_indices(indices)
        V = self._vectors("V", V, idx.numel())
        L = self._per_sample(self._factor, idx, V.ndim)
        return ((V[..., None, :] @ L) @ L.transpose(-1, -2))[..., 0, :]

    def quad_xx(self, V, indices=None) -> Tensor:
        w = self._transpose_any(V, indices)
        return (w * w).sum(-1)

    def _transpose_any(self, V, indices=None) -> Tensor:
        """``L_iᵀ v`` for V of shape (m, ..., d): (m, ..., 1 + rank); vᵀ Σ v = ‖L_iᵀ v‖²."""
        idx = self.sample_indices(indices)
        V = self._vectors("V", V, idx.numel())
        L = self._per_sample(self._factor, idx, V.ndim)
        return (V[..., None, :] @ L)[..., 0, :]

    def solve_xx(self, V, indices=None) -> Tensor:
        """(Σ^(i)_xx)⁺ v = U_i S_i⁻² U_iᵀ v on the range of L_i, for V (m, ..., d)."""
        idx = self.sample_indices(indices)
        V = self._vectors("V", V, idx.numel())
        U = self._per_sample(self._range_u, idx, V.ndim)
        inv = self._per_sample(self._inv_sing, idx, V.ndim)
        coeff = (V[..., None, :] @ U)[..., 0, :] * inv * inv
        return (coeff[..., None, :] @ U.transpose(-1, -2))[..., 0, :]

    def frobenius_xx(self, T, indices=None) -> Tensor:
        """⟨Σ^(i)_xx, T_i⟩_F = tr(L_iᵀ T_i L_i) for T (m, d, d)."""
        idx = self.sample_indices(indices)
        T = torch.as_tensor(T, dtype=self.dtype, device=self.device)
        if T.shape != (idx.numel(), self.d, self.d):
            raise ValueError(f"T must have shape ({idx.numel()}, {self.d}, {self.d}), got {tuple(T.shape)}")
        L = self._factor[idx]
        return torch.einsum("mdw,mde,mew->m", L, T, L)

    def frobenius_yy(self, T, indices=None) -> Tensor:
        """⟨Σ^(i)_yy, T_i⟩_F for T (m, c, c)."""
        idx = self.sample_indices(indices)
        T = torch.as_tensor(T, dtype=self.dtype, device=self.device)
        if T.shape != (idx.numel(), self.c, self.c):
            raise ValueError(f"T must have shape ({idx.numel()}, {self.c}, {self.c}), got {tuple(T.shape)}")
        L = self._factor_y[idx]
        return torch.einsum("mkw,mkl,mlw->m", L, T, L)

    def projected_label_covariance(self, indices=None) -> Tensor:
        r"""K_i = Σ_yx Σ_xx⁺ Σ_xy = L^y_i W_i W_iᵀ L^y_iᵀ, W_i the kept right singular vectors of
        L_i (the projection onto the row space of L_i), shape (m, c, c)."""
        idx = self.sample_indices(indices)
        G = self._factor_y[idx] @ self._range_vh[idx].transpose(1, 2)  # (m, c, q)
        return G @ G.transpose(1, 2)

    def pinv_sigma_xy(self, indices=None) -> Tensor:
        """(Σ^(i)_xx)⁺ Σ^(i)_xy, shape (m, d, c)."""
        idx = self.sample_indices(indices)
        cols = self._factor_y[idx] @ self._factor[idx].transpose(1, 2)  # columns of Σ_xy, (m, c, d)
        return self.solve_xx(cols, idx).transpose(1, 2)

    def cross_factor(self, indices=None) -> Tensor:
        """``L^y_i = [σ b_i, γ F^y_i]`` (m, c, 1 + rank), ``Σ^(i)_xy = L_i L^y_iᵀ``."""
        return self._factor_y[self.sample_indices(indices)]

    def factor_apply(self, coeffs, indices=None) -> Tensor:
        r"""``L_i ξ`` for ξ of shape (m, k, 1 + rank) (or (1, k, 1 + rank)): (m, k, d)."""
        idx = self.sample_indices(indices)
        coeffs = torch.as_tensor(coeffs, dtype=self.dtype, device=self.device)
        if coeffs.shape[-1] != 1 + self.rank or coeffs.shape[0] not in (1, idx.numel()):
            raise ValueError(
                f"coeffs must have shape ({idx.numel()}, k, {1 + self.rank}), got {tuple(coeffs.shape)}"
            )
        return coeffs @ self._factor[idx].transpose(1, 2)

    def factor_transpose_apply(self, vectors, indices=None) -> Tensor:
        """``L_iᵀ v`` for vectors of shape (m, k, d): (m, k, 1 + rank)."""
        idx = self.sample_indices(indices)
        vectors = self._vectors("vectors", vectors, idx.numel())
        return vectors @ self._factor[idx]

    # --- sampling ------------------------------------------------------------------------------
    def partner_matrix(self) -> Tensor:
        """The dense folded partner law ``Q[i, j] = (π(j|i) + π(i|j))/(1 + c_i)`` (n, n); small n."""
        Pi = self.pairing.dense().to(self.dtype).to(self.device)
        return (Pi + Pi.T) / (2 * self.n * self._anchor_weights[:, None])

    def sample_perturbations(
        self, num_draws: int, indices=None, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        r"""θ from the folded law and j from ``Q(· | i)``: ``(delta (m, k, d), epsilon (m, k, c))``
        with ``x̃_i + δ = θ x_i + (1 − θ) x_j`` and ``E δ δᵀ = Σ^(i)_xx``."""
        idx = self.sample_indices(indices)
        m = idx.numel()
        theta = self.law.sample_theta((m, num_draws), generator).to(self.dtype).to(self.device)
        rows = self.partner_matrix()[idx].to(torch.float64).cpu()
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
            f"MixupGeometry(n={self.n}, d={self.d}, c={self.c}, pairing={self.pairing!r}, "
            f"partner_rank={self.rank}, law={self.law!r}, theta_mean={self.theta_mean:.6g})"
        )
