r"""What the geometry's constructors share: validated inputs, and the checks of a pairing and of λ's law."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .._types import ArrayLike, DeviceLike, Tensor
from .._validation import as_labels, as_tensor
from ..laws import MixingLaw

if TYPE_CHECKING:
    from ..mixing.partners import PartnerLaw

__all__ = ["as_partner_law", "is_uniform_with_self", "load_inputs", "require_symmetric_lambda"]


def load_inputs(
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    num_classes: int | None,
    dtype: torch.dtype,
    device: DeviceLike,
) -> tuple[Tensor, Tensor, tuple[int, ...]]:
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


def is_uniform_with_self(pairing: object) -> bool:
    """True for :class:`~mixtheory.mixing.UniformPartner` with self-pairs: the paper's geometry."""
    from ..mixing.partners import UniformPartner  # lazy: mixing imports this package

    return isinstance(pairing, UniformPartner) and pairing.include_self


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


def as_partner_law(pairing: PartnerLaw | ArrayLike | None, n: int) -> PartnerLaw | None:
    """A :class:`~mixtheory.mixing.PartnerLaw` on n samples from a law or an n×n row-stochastic
    tensor (:class:`~mixtheory.mixing.DensePairing`); None stays None."""
    from ..mixing.partners import DensePairing, PartnerLaw

    if pairing is None:
        return None
    if not isinstance(pairing, PartnerLaw):
        pairing = DensePairing(pairing)
    if pairing.n != n:
        raise ValueError(f"the pairing is on {pairing.n} samples but X has {n}")
    return pairing
