r"""Probe laws for Hutchinson-type traces against the mixup covariance Σ^(i)_xx.

For any random probe ``v`` with ``E[v vᵀ] = Σ`` (Hutchinson 1989), ``E[vᵀ M v] = tr(Σ M)``. Write
``Σ^(i)_xx = L Lᵀ`` with the factor ``L = [σ a_i, γ V diag(√s)]`` (d × (1 + r), ``Σ_xx = V diag(s) Vᵀ``;
Lemma 2 of Carratino et al., JMLR 2022) and ``B = Lᵀ M L``. The probe laws, all unbiased:

- ``"gaussian"``: ``v = L ξ``, ξ ~ N(0, I): v ~ N(0, Σ). Variance of one probe ``2‖B‖_F²``.
- ``"rademacher"``: ``v = L ξ``, ξ uniform on {±1}^{1+r}. Variance ``2(‖B‖_F² − Σ_j B_jj²)``,
  never larger than Gaussian's (the diagonal of B in the eigenbasis of Σ_xx is free).
- ``"mixup"``: the mixup perturbations δ_i themselves (θ from the folded law, a uniform partner),
  ``E δδᵀ = Σ`` exactly; variance ``E(δᵀMδ)² − tr(ΣM)²`` is set by the data's fourth moments
  (heavier than Gaussian when a few partners dominate). These are the directions training sees.
- ``"exact"``: every column of L (1 + r probes, summed): ``tr(LᵀML) = tr(ΣM)``, zero variance;
  affordable for small n (r ≤ n − 1) and the reference the random probes are tested against.
- ``"spectral"``: the first 1 + k columns exactly (σ a_i and the top-k eigen-directions of Σ_xx,
  ``eigvals`` sorted decreasing) plus Rademacher probes of the remaining columns, ``v = L_T ξ``
  (:func:`draw_spectral_batches`). Since ``L Lᵀ = L_E L_Eᵀ + L_T L_Tᵀ`` for any split of the
  columns, ``Σ_{j≤k} l_jᵀ M l_j + vᵀ M v`` is unbiased for ``tr(ΣM)``, with the variance of
  Rademacher probes on the tail block only: ``2(‖B_TT‖_F² − Σ_{j∈T} B_jj²)`` instead of
  ``2(‖B‖_F² − Σ_j B_jj²)``. With ``B_jl = l_jᵀ M l_l`` and ``|B_jl| ≤ ‖M‖ ‖l_j‖ ‖l_l‖``,
  ``‖l_j‖² = γ² s_j``, the tail variance is at most ``2‖M‖² γ⁴ ((Σ_{j>k} s_j)² − Σ_{j>k} s_j²)``:
  the probes pay only for the spectrum's tail mass, which for images (fast-decaying s) is a small
  fraction of ``σ²‖a_i‖² + γ² tr Σ_xx``; the removed part — every entry of B in a row or column of
  the rank-one direction or of a top eigen-direction — is where almost all of ‖B‖_F sits.

In the hot path (:func:`draw_probe_batch`) only the coefficients ξ are drawn per sample (O(k·r));
the probes ``L ξ`` are formed in one batched product in the model's dtype on the model's device,
and their range coordinates ``Vᵀ v`` (r numbers each) come with them, so the R13 correction
(:func:`.hutchinson.r13_per_probe`) needs no d-dimensional work per probe (``docs/theory.md`` §7.3).

Randomness: a base seed is drawn from a generator once; sample i's probes come from a private
generator seeded by (base seed, i) (:func:`probe_seeds`), so they do not depend on batch size,
chunking, the order of the requested samples or how samples are sharded over processes.
"""

from __future__ import annotations

import math
import weakref
from typing import NamedTuple

import torch

from .._validation import Tensor
from ..geometry import MixupGeometry
from .options import ProbeKind

__all__ = [
    "probe_seeds",
    "factor_space_coefficients",
    "draw_probes",
    "ProbeBatch",
    "draw_probe_batch",
    "range_coordinates",
    "draw_spectral_batches",
]

_GOLDEN = 0x9E3779B97F4A7C15  # seed mixing constant (2^64 / golden ratio)


def probe_seeds(generator: torch.Generator | None, indices: Tensor) -> list[int]:
    """One seed per sample from one draw of ``generator``: probes of sample i do not depend on
    which other samples are processed with it.

    >>> a = probe_seeds(torch.Generator().manual_seed(0), torch.tensor([3, 5]))
    >>> b = probe_seeds(torch.Generator().manual_seed(0), torch.tensor([5]))
    >>> a[1] == b[0]
    True
    """
    base = int(torch.randint(0, 2**62, (1,), generator=generator))
    return [(base + (int(i) + 1) * _GOLDEN) % 2**63 for i in indices.tolist()]


def factor_space_coefficients(
    kind: ProbeKind, seeds: list[int], num_probes: int, factor_dim: int, dtype: torch.dtype
) -> Tensor:
    """Coefficients ξ in the factor's coordinates, (m, num_probes, factor_dim), one seeded stream
    per sample: standard normal for ``"gaussian"``, uniform on {±1} for ``"rademacher"``."""
    rows = []
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        if kind == "gaussian":
            rows.append(torch.randn(num_probes, factor_dim, generator=gen, dtype=dtype))
        elif kind == "rademacher":
            rows.append(torch.randint(0, 2, (num_probes, factor_dim), generator=gen).to(dtype) * 2 - 1)
        else:
            raise ValueError(f"no factor-space coefficients for probes={kind!r}")
    return torch.stack(rows)


def draw_probes(
    geometry: MixupGeometry,
    kind: ProbeKind,
    num_probes: int,
    indices: Tensor | list[int] | None,
    seeds: list[int] | None,
) -> Tensor:
    r"""Probes v with ``E[v vᵀ] = Σ^(i)_xx`` for each requested sample: (m, k, d).

    ``kind``: ``gaussian``/``rademacher`` (``L ξ`` through the factor), ``mixup`` (the perturbations
    δ_i of :meth:`MixupGeometry.sample_perturbations`), ``exact`` (the 1 + r columns of the factor;
    ``num_probes`` and ``seeds`` are ignored). ``seeds``: one per sample (:func:`probe_seeds`).
    This is the one sampler of N(0, Σ^(i)_xx) in the package.

    >>> from mixtheory import SymmetricBeta
    >>> g = torch.Generator().manual_seed(0)
    >>> geo = MixupGeometry(torch.randn(6, 3, generator=g, dtype=torch.float64),
    ...                     torch.arange(6) % 2, SymmetricBeta(1.0))
    >>> L = draw_probes(geo, "exact", 0, [2], None)[0]          # (1 + r, d): the factor's columns
    >>> bool(torch.allclose(L.T @ L, geo.sigma_xx(2)))
    True
    >>> draw_probes(geo, "rademacher", 5, [0, 2], probe_seeds(g, torch.tensor([0, 2]))).shape
    torch.Size([2, 5, 3])
    """
    idx = geometry.sample_indices(indices)
    factor_dim = 1 + geometry.rank
    if kind == "exact":
        eye = torch.eye(factor_dim, dtype=geometry.dtype, device=geometry.device)
        return geometry.factor_apply(eye.expand(idx.numel(), factor_dim, factor_dim), idx)
    if seeds is None or len(seeds) != idx.numel():
        raise ValueError("draw_probes needs one seed per sample")
    if kind == "mixup":
        draws = []
        for i, seed in zip(idx.tolist(), seeds):
            gen = torch.Generator().manual_seed(seed)
            draws.append(geometry.sample_perturbations(num_probes, [i], gen)[0])
        return torch.cat(draws)
    coeffs = factor_space_coefficients(kind, seeds, num_probes, factor_dim, geometry.dtype)
    return geometry.factor_apply(coeffs.to(geometry.device), idx)


class ProbeBatch(NamedTuple):
    """Probes for m samples: ``vectors`` v (m, k, d) in the network's dtype and device, their range
    coordinates ``Vᵀ v`` (m, k, r) in the geometry's dtype, and whether they are the exact factor
    columns (summed, zero variance)."""

    vectors: Tensor
    coords: Tensor
    exact: bool


_SCALED_BASIS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _scaled_basis(geometry: MixupGeometry, dtype: torch.dtype, device: torch.device) -> Tensor:
    """``γ diag(√s) Vᵀ`` (r, d) in the network's dtype and device, cached per geometry."""
    per_geometry = _SCALED_BASIS.setdefault(geometry, {})
    key = (dtype, str(device))
    if key not in per_geometry:
        scaled = (math.sqrt(geometry.gamma2) * geometry.eigvals.sqrt())[:, None] * geometry.basis.T
        per_geometry[key] = scaled.to(device=device, dtype=dtype).contiguous()
    return per_geometry[key]


def range_coordinates(geometry: MixupGeometry, coeffs: Tensor, idx: Tensor) -> Tensor:
    """``Vᵀ L_i ξ = σ ξ₀ z_i + γ √s ⊙ ξ₁:`` (m, k, r) for factor coefficients ξ (m, k, 1 + r),
    ``z_i = Vᵀ a_i``: the range coordinates of the probes ``L_i ξ`` in O(r) each."""
    coeffs = coeffs.to(dtype=geometry.dtype, device=geometry.device)
    z = geometry.coords[idx][:, None, :]
    shared = coeffs[..., 1:] * (math.sqrt(geometry.gamma2) * geometry.eigvals.sqrt())
    return math.sqrt(geometry.theta_var) * coeffs[..., :1] * z + shared


def draw_probe_batch(
    geometry: MixupGeometry,
    kind: ProbeKind,
    num_probes: int,
    idx: Tensor,
    seeds: list[int],
    dtype: torch.dtype,
    device: torch.device | str | None = None,
) -> ProbeBatch:
    r"""The probes of :func:`draw_probes` (the same draws, seed for seed) for the samples ``idx``,
    formed for the network: ``L_i ξ`` as one batched product ``σ ξ₀ a_i + ξ₁: (γ diag(√s) Vᵀ)`` in
    ``dtype`` on ``device`` (the coefficients ξ, O(k·r) per sample, come from the per-sample
    streams), with their range coordinates. Mixup probes ``δ = (θ − θ̄) a_i + (1 − θ) a_j`` have
    coordinates ``(θ − θ̄) z_i + (1 − θ) z_j``.

    >>> from mixtheory import SymmetricBeta
    >>> g = torch.Generator().manual_seed(0)
    >>> geo = MixupGeometry(torch.randn(6, 3, generator=g, dtype=torch.float64),
    ...                     torch.arange(6) % 2, SymmetricBeta(1.0))
    >>> idx = torch.tensor([1, 4]); seeds = probe_seeds(g, idx)
    >>> batch = draw_probe_batch(geo, "gaussian", 5, idx, seeds, torch.float64)
    >>> bool(torch.allclose(batch.vectors, draw_probes(geo, "gaussian", 5, idx, seeds)))
    True
    >>> bool(torch.allclose(batch.coords, batch.vectors @ geo.basis))
    True
    """
    device = geometry.device if device is None else torch.device(device)
    factor_dim = 1 + geometry.rank
    if kind == "spectral":
        raise ValueError("spectral probes come in two batches: use draw_spectral_batches")
    if kind == "mixup":
        return _mixup_batch(geometry, num_probes, idx, seeds, dtype, device)
    if kind == "exact":
        coeffs = torch.eye(factor_dim, dtype=geometry.dtype, device=geometry.device)
        coeffs = coeffs.expand(idx.numel(), factor_dim, factor_dim)
    else:
        if len(seeds) != idx.numel():
            raise ValueError("draw_probe_batch needs one seed per sample")
        coeffs = factor_space_coefficients(kind, seeds, num_probes, factor_dim, geometry.dtype)
    return _factor_batch(geometry, coeffs, idx, dtype, device, kind == "exact")


def _factor_batch(
    geometry: MixupGeometry,
    coeffs: Tensor,
    idx: Tensor,
    dtype: torch.dtype,
    device: torch.device,
    exact: bool,
) -> ProbeBatch:
    """The probes ``L_i ξ`` for factor coefficients ξ (m, k, 1 + r), formed in one batched product
    in the network's dtype and device, with their range coordinates."""
    coords = range_coordinates(geometry, coeffs, idx)
    xi = coeffs.to(device=device, dtype=dtype)
    a = geometry.centered_x[idx].to(device=device, dtype=dtype)
    own = math.sqrt(geometry.theta_var) * xi[..., :1]  # (m, k, 1)
    if not geometry.rank:
        return ProbeBatch(own * a[:, None, :], coords, exact)
    # one product for the shared part, the rank-one part added in place (no (m, k, d) temporaries)
    vectors = xi[..., 1:] @ _scaled_basis(geometry, dtype, device)
    vectors.baddbmm_(own, a[:, None, :])
    return ProbeBatch(vectors, coords, exact)


def draw_spectral_batches(
    geometry: MixupGeometry,
    exact_directions: int,
    num_probes: int,
    idx: Tensor,
    seeds: list[int],
    dtype: torch.dtype,
    device: torch.device | str | None = None,
) -> tuple[ProbeBatch, ProbeBatch | None]:
    r"""Spectral probes: the exact columns ``σ a_i`` and ``γ √s_j v_j`` for the top
    ``k = exact_directions`` eigenvalues (m, 1 + k, d), and ``num_probes`` Rademacher probes
    ``L_T ξ`` of the remaining r − k columns (m, K, d), drawn in the tail's coordinates
    (ξ ∈ {±1}^{r−k} from each sample's stream); None for the tail when k ≥ r.

    ``Σ^(i)_xx = L_E L_Eᵀ + L_T L_Tᵀ`` (:mod:`.probes`), so the sum over the exact columns plus the
    mean over the tail probes is unbiased for ``tr(Σ^(i)_xx M)`` and for R13's quadratic form.

    >>> from mixtheory import SymmetricBeta
    >>> g = torch.Generator().manual_seed(0)
    >>> geo = MixupGeometry(torch.randn(8, 5, generator=g, dtype=torch.float64),
    ...                     torch.arange(8) % 2, SymmetricBeta(1.0))
    >>> idx = torch.tensor([1, 4])
    >>> head, tail = draw_spectral_batches(geo, 2, 4, idx, probe_seeds(g, idx), torch.float64)
    >>> head.vectors.shape, tail.vectors.shape                      # 1 + 2 columns; 4 tail probes
    (torch.Size([2, 3, 5]), torch.Size([2, 4, 5]))
    >>> S = head.vectors.mT @ head.vectors + tail.vectors.mT @ tail.vectors / 4
    >>> bool(torch.allclose(S[0].diagonal().sum(), geo.sigma_xx(1).trace()))   # Rademacher: exact trace
    True
    """
    device = geometry.device if device is None else torch.device(device)
    factor_dim = 1 + geometry.rank
    exact = 1 + min(int(exact_directions), geometry.rank)
    m = idx.numel()
    eye = torch.eye(factor_dim, dtype=geometry.dtype, device=geometry.device)[:exact]
    head = _factor_batch(geometry, eye.expand(m, exact, factor_dim), idx, dtype, device, True)
    if exact == factor_dim:
        return head, None
    if len(seeds) != m:
        raise ValueError("draw_spectral_batches needs one seed per sample")
    tail = factor_space_coefficients("rademacher", seeds, num_probes, factor_dim - exact, geometry.dtype)
    coeffs = torch.cat([tail.new_zeros(m, num_probes, exact), tail], -1)
    return head, _factor_batch(geometry, coeffs, idx, dtype, device, False)


def _mixup_batch(
    geometry: MixupGeometry,
    num_probes: int,
    idx: Tensor,
    seeds: list[int],
    dtype: torch.dtype,
    device: torch.device,
) -> ProbeBatch:
    """Mixup perturbations drawn as :meth:`MixupGeometry.sample_perturbations` draws them (θ, then
    the partners j, from each sample's stream), with their range coordinates."""
    thetas, partners = [], []
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        thetas.append(geometry.law.sample_theta((1, num_probes), gen).to(geometry.dtype))
        partners.append(torch.randint(geometry.n, (1, num_probes), generator=gen))
    theta = torch.cat(thetas).to(geometry.device)[..., None]  # (m, k, 1)
    j = torch.cat(partners).to(geometry.device)
    own, partner = theta - geometry.theta_mean, 1 - theta
    vectors = own * geometry.centered_x[idx][:, None, :] + partner * geometry.centered_x[j]
    coords = own * geometry.coords[idx][:, None, :] + partner * geometry.coords[j]
    return ProbeBatch(vectors.to(device=device, dtype=dtype), coords, False)
