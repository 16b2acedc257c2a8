r"""The exact closed form of Theorem 3 (Carratino et al., JMLR 2022) without a d × d matrix per sample.

With the factor ``Σ^(i)_xx = L_i L_iᵀ``, ``L_i = [σ a_i, γ V diag(√s)]`` (d × (1 + r), Lemma 2), every
term the closed form needs from the network is a contraction with the columns ``l_j`` of ``L_i``:

- ``R2 = ½⟨Σ^(i)_xx, ∇²g⟩ = ½ Σ_j l_jᵀ∇²g l_j`` (``g = wᵀf``, ``w = ℓ_u`` fixed);
- ``R13 = ½⟨Σ_xx, ∇fᵀℓ_uu∇f⟩ + ⟨Σ_yx, ℓ_yu∇f⟩ = Σ_j [½ (∇f l_j)ᵀ ℓ_uu (∇f l_j) + (∇f l_j)ᵀ ℓ_uy p_j]``
  with ``p_j = Σ_yx Σ_xx⁺ l_j`` (``Σ_j l_j p_jᵀ = Σ_xx Σ_xx⁺ Σ_xy = Σ_xy``; :mod:`.hutchinson`).

Both come from one second-order jet per column (``∇f l_j`` and ``l_jᵀ∇²f l_j``; collapsed Taylor
mode of Dangel et al. 2025 sums the second-order stream over the columns of a pass), so a sample
costs about ``1 + r`` first-order and one second-order direction, in passes of at most
``directions`` columns: memory is bounded by the pass, whatever d and n. The sums are exact (no
probes, zero variance), equal to the dense route to rounding.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .._types import Tensor
from .._validation import model_call_errors, model_dtype_device, model_outputs
from ..geometry import MixupGeometry
from ..losses import Loss
from ..regularizers import label_regularizers
from .evaluators import _DerivativeEvaluator
from .hutchinson import r13_per_probe
from .options import EstimatorOptions
from .probes import _factor_batch

__all__ = ["factor_regularizers"]


def factor_regularizers(
    model: Callable[[Tensor], Tensor],
    geometry: MixupGeometry,
    loss: Loss,
    idx: Tensor,
    samples: int,
    directions: int,
) -> tuple[dict[str, Tensor], bool]:
    r"""Per-sample ``erm, R2, R3, R4, R13`` (each (m,)) by contracting the network's first and second
    derivatives with the factor columns of Σ^(i), ``samples`` × ``directions`` columns per pass;
    also whether every curvature value was exactly 0 (a piecewise-linear network)."""
    model_dtype, _ = model_dtype_device(model)
    model_dtype = model_dtype or geometry.dtype
    options = EstimatorOptions(probes="exact", r1="probes", method="auto").resolved(model, geometry.c)
    if options.method == "taylor":
        options = EstimatorOptions(probes="exact", r1="probes", method="taylor-collapsed")
    evaluator = _DerivativeEvaluator(model, geometry, options, model_dtype, directions, need_jv=True)
    factor_dim = 1 + geometry.rank
    parts: list[dict[str, Tensor]] = []
    curvature_zero = True
    for start in range(0, idx.numel(), samples):
        chunk = idx[start : start + samples]
        with torch.no_grad(), model_call_errors():
            xt = geometry.x_tilde[chunk]
            u = model_outputs(
                model, geometry.as_inputs(xt.to(model_dtype)), geometry.c, out_dtype=geometry.dtype
            )
            w = loss.grad_u(geometry.y_tilde[chunk], u)
            R2 = torch.zeros(chunk.numel(), dtype=geometry.dtype, device=geometry.device)
            R13 = torch.zeros_like(R2)
            for col in range(0, factor_dim, directions):
                coeffs = _unit_rows(col, min(directions, factor_dim - col), factor_dim, geometry)
                coeffs = coeffs.expand(chunk.numel(), -1, -1)
                batch = _factor_batch(geometry, coeffs, chunk, model_dtype, evaluator.device, True)
                jv, curv = evaluator(xt, w, batch.vectors, 1)
                curv = curv.to(geometry.dtype)
                curvature_zero &= bool((curv == 0).all())
                R2 += 0.5 * curv.sum(1)
                R13 += r13_per_probe(geometry, loss, chunk, u, batch.coords, jv.to(geometry.dtype)).sum(1)
        labels = label_regularizers(geometry, u, loss, indices=chunk)
        parts.append(
            {"erm": labels["erm"], "R2": R2, "R3": labels["R3"], "R4": labels["R4"], "R13": R13, "outputs": u}
        )
    out = {key: torch.cat([p[key] for p in parts]) for key in parts[0]}
    return out, curvature_zero


def _unit_rows(start: int, count: int, dim: int, geometry: MixupGeometry) -> Tensor:
    """Rows ``start … start + count − 1`` of the identity of size ``dim`` (never the whole identity,
    which is (1 + r)² numbers: a d × d matrix when r = d)."""
    rows = torch.zeros(count, dim, dtype=geometry.dtype, device=geometry.device)
    rows[torch.arange(count), torch.arange(start, start + count)] = 1
    return rows
