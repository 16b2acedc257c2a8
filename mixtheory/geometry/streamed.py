r"""The uniform-pairing geometry of a data set larger than memory: Σ_xx from streamed Gram blocks.

:class:`~mixtheory.geometry.MixupGeometry` factorises Σ_xx = AᵀA/n (A the centred n×d data) by one
thin SVD of A, which holds A, x̃ and the data in memory (about 5·n·d numbers). Theorem 1 and
Lemma 2 (Carratino et al., JMLR 2022) need of the whole set only its means, Σ_xx, Σ_xy and Σ_yy; a
sample's own vectors a_i = x_i − x̄ enter per sample. :class:`StreamedMixupGeometry` therefore reads
the inputs once, block by block (:class:`mixtheory.datasets.DatasetRows`), accumulating

    s = Σ_i (x_i − x₀),  G = Σ_i (x_i − x₀)(x_i − x₀)ᵀ,  H = Σ_i (x_i − x₀) y_iᵀ

about a shift x₀ (the first row: the sums stay of the data's spread, not of its offset), then
Σ_xx = (G − s sᵀ/n)/n and Σ_xy = (H − s ȳᵀ)/n, and takes Σ_xx = V diag(s) Vᵀ from ``eigh`` of the
d×d matrix. Peak memory is O(d² + b·d + n·c) for blocks of b rows, instead of O(n·d). The rows a
sample's estimate needs (its own and its partners') are fetched from the dataset on demand.

Accuracy: the eigenvalues agree with the squared singular values of the SVD route to
~d·eps·s_max, so directions with s ≳ eps·s_max (all that the default rank cut ``max(n, d)·eps·s_max``
keeps) agree to machine precision (tests compare every operator to 1e-10). The basis vectors can
differ in sign from the SVD's: everything the estimators compute is sign-invariant in distribution,
and exactly so for deterministic (spectral, exact) probes; Gaussian probes drawn in factor
coordinates are then other draws of the same law.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .._types import DeviceLike, Tensor
from .._validation import as_labels
from ..laws import MixingLaw
from ._common import is_uniform_with_self
from .mixup import MixupGeometry
from .shared import SharedCovariance

__all__ = ["StreamedMixupGeometry", "make_geometry"]


class _LazyRows:
    """``rows[k]`` = ``transform(source[k])`` flattened to (…, d), for any integer index tensor k."""

    def __init__(self, source: Any, transform: Any, n: int, d: int, dtype: torch.dtype, device: torch.device):
        self.source, self.transform = source, transform
        self.shape, self.dtype, self.device = (n, d), dtype, device

    def __getitem__(self, key: Any) -> Tensor:
        k = torch.as_tensor(key) if not isinstance(key, slice) else torch.arange(self.shape[0])[key]
        raw = self.source[k.cpu()].to(device=self.device, dtype=self.dtype)
        return self.transform(raw.reshape(*k.shape, self.shape[1]))

    def __len__(self) -> int:
        return self.shape[0]


class _StreamedCovariance(SharedCovariance):
    """The shared factor of a streamed data set: Σ_xx and Σ_xy from the accumulated moments (the
    centred data are not in memory)."""

    def __init__(self, *args: Any, cov_xy: Tensor):
        super().__init__(*args)
        self._cov_xy = cov_xy

    def cov_xx(self) -> Tensor:
        return (self.basis * self.eigvals) @ self.basis.T

    def cov_xy(self) -> Tensor:
        return self._cov_xy


class StreamedMixupGeometry(MixupGeometry):
    r"""The geometry of :class:`MixupGeometry` (uniform pairing) from inputs streamed in blocks
    (module docstring): only the constructor differs; every attribute and operator is the same.

    Args:
        rows: a :class:`mixtheory.datasets.DatasetRows` (or any object with ``n``, ``input_shape``,
            ``blocks()`` yielding ``(start, (b, *input_shape) tensor)`` and ``rows[k]``).
        Y: (n, c) labels or (n,) class indices, in memory.
        law, num_classes, dtype, device, rcond: as for :class:`MixupGeometry`.
        pairing: None or ``UniformPartner(n)``; another partner law needs per-anchor partner moments
            of the data in memory and is refused (use :class:`MixupGeometry` on the loaded rows).
    """

    def __init__(
        self,
        rows: Any,
        Y: Any,
        law: MixingLaw,
        *,
        pairing: Any = None,
        num_classes: int | None = None,
        dtype: torch.dtype = torch.float64,
        device: DeviceLike = None,
        rcond: float | None = None,
    ):
        from ..mixing.partners import UniformPartner  # lazy: mixing imports this package

        if pairing is not None and not is_uniform_with_self(pairing):
            raise ValueError(
                f"a streamed geometry has uniform pairing only, got pairing={pairing!r}: a non-uniform "
                "partner law needs every anchor's partner moments of the data in memory; load the rows "
                "and use MixupGeometry(X, Y, law, pairing=...)"
            )

        if not isinstance(law, MixingLaw):
            raise TypeError(
                f"law must be a mixtheory law (e.g. SymmetricBeta(alpha)), got {type(law).__name__}"
            )
        device = torch.device("cpu") if device is None else torch.device(device)
        n, input_shape = int(rows.n), tuple(rows.input_shape)
        if n < 2:
            raise ValueError(f"too few samples for a covariance: n={n}; need n >= 2")
        d = math.prod(input_shape)
        y = as_labels("Y", Y, n, num_classes, dtype, device)
        self.pairing, self.law, self.input_shape = UniformPartner(n), law, input_shape
        self.n, self.d, self.c = n, d, y.shape[1]
        self.dtype, self.device = dtype, device
        self.theta_mean, self.theta_var, self.gamma2 = (
            float(law.theta_mean),
            float(law.theta_var),
            float(law.gamma2),
        )
        self.Y, self.y_mean = y, y.mean(0)
        self.centered_y = y - self.y_mean
        self.y_tilde = self.y_mean + self.theta_mean * self.centered_y
        cov_yy = self.centered_y.T @ self.centered_y / n
        cov_xx, cov_xy, max_abs = self._stream(rows, y)
        eigvals, basis = self._eigen(cov_xx, max_abs, rcond)
        mean, theta = self.x_mean, self.theta_mean
        self.X = _LazyRows(rows, lambda x: x, n, d, dtype, device)
        self.centered_x = _LazyRows(rows, lambda x: x - mean, n, d, dtype, device)
        self.x_tilde = _LazyRows(rows, lambda x: mean + theta * (x - mean), n, d, dtype, device)
        coords = _LazyRows(rows, lambda x: (x - mean) @ basis, n, d, dtype, device)
        factor = (eigvals, basis, coords, basis.T @ cov_xy)
        self._cov = _StreamedCovariance(
            law, (self.x_mean, self.y_mean), (self.centered_x, self.centered_y), factor, cov_yy, cov_xy=cov_xy
        )

    def _stream(self, rows: Any, y: Tensor) -> tuple[Tensor, Tensor, float]:
        """One pass: shifted sums → (Σ_xx, Σ_xy, max|x|); sets ``x_mean``."""
        n, d = self.n, self.d
        s = torch.zeros(d, dtype=self.dtype, device=self.device)
        G = torch.zeros(d, d, dtype=self.dtype, device=self.device)
        H = torch.zeros(d, self.c, dtype=self.dtype, device=self.device)
        shift, seen, max_abs = None, 0, 0.0
        for start, block in rows.blocks():
            x = block.to(device=self.device, dtype=self.dtype).reshape(block.shape[0], d)
            if start != seen:
                raise ValueError(f"rows.blocks() skipped rows {seen}..{start}; it must cover 0..n in order")
            shift = x[0].clone() if shift is None else shift
            xs = x - shift
            s += xs.sum(0)
            G.addmm_(xs.T, xs)
            H.addmm_(xs.T, y[start : start + x.shape[0]])
            max_abs = max(max_abs, float(x.abs().max()))
            seen += x.shape[0]
        if seen != n:
            raise ValueError(f"the data streamed {seen} rows but has n={n}")
        delta = s / n  # x̄ − x₀
        self.x_mean = shift + delta
        G.div_(n).addr_(delta, delta, alpha=-1.0)  # Σ_xx in place (eigh reads its lower triangle)
        cov_xy = H / n - torch.outer(delta, self.y_mean)
        return G, cov_xy, max_abs

    def _eigen(self, cov_xx: Tensor, max_abs: float, rcond: float | None) -> tuple[Tensor, Tensor]:
        """Range of Σ_xx, ``(s, V)``, with the rank rule of :func:`~mixtheory.geometry.shared.factorize`
        (consumes ``cov_xx``)."""
        n, d = self.n, self.d
        eps = torch.finfo(self.dtype).eps
        rcond = max(n, d) * eps if rcond is None else float(rcond)
        evals, evecs = torch.linalg.eigh(cov_xx, UPLO="L")
        del cov_xx
        floor = max(n, d) * eps * max_abs
        keep = (evals > rcond * evals.max().clamp_min(0)) & (evals.clamp_min(0).sqrt() > floor)
        order = keep.nonzero().flatten().flip(0)  # kept eigenpairs, largest first
        return evals[order], evecs[:, order]

    def contracted(self, scale: float) -> MixupGeometry:
        raise NotImplementedError(
            "contracted() needs the data in memory: build MixupGeometry(X, Y, law) from the loaded data"
        )


def make_geometry(X: Any, Y: Any, law: MixingLaw, **kwargs: Any) -> MixupGeometry:
    """:class:`StreamedMixupGeometry` for lazily read rows (``DatasetRows``), else :class:`MixupGeometry`."""
    from ..datasets import DatasetRows

    if isinstance(X, DatasetRows):
        kwargs.setdefault("dtype", torch.float64)
        return StreamedMixupGeometry(X, Y, law, **kwargs)
    return MixupGeometry(X, Y, law, **kwargs)
