r"""The mixup loss expanded around the contracted points x̃_i: Carratino, Cissé, Jenatton, Vert, "On
Mixup Regularization" (JMLR 2022), Theorem 3 and Corollary 4 (``docs/theory.md`` §4, §5, §8.1).

``E_Q = Σ_i p_i (erm + R13 + R2 + R4)`` with ``erm = ℓ(ỹ_i, f(x̃_i))`` (the loss at the contracted
point, not at x_i), ``R13 = R1 + R3`` computed directly, and ``p_i`` the geometry's anchor weights
(1/n under uniform pairing). Their algebra is :mod:`mixtheory.regularizers`, the derivatives of a
network under a memory budget :mod:`mixtheory.closed_form`, their estimates by probes
:mod:`mixtheory.estimators`; this module gives Theorem 3's terms as the expansions' one result
type, next to Zhang et al.'s (:mod:`~mixtheory.expansions.zhang2021`), whose own R1, R2, R3 are other
terms (:data:`~mixtheory.expansions.terms.TERM_NAMES`).
"""

from __future__ import annotations

from collections.abc import Callable

from .._types import Indices, Tensor
from ..closed_form import taylor_regularizers
from ..geometry import MixupGeometry
from ..losses import Loss
from .terms import ExpansionTerms, terms_of

__all__ = ["carratino_expansion"]


def carratino_expansion(
    model: Callable[[Tensor], Tensor],
    geometry: MixupGeometry,
    loss: str | Loss = "ce",
    *,
    indices: Indices = None,
) -> ExpansionTerms:
    r"""Theorem 3's per-anchor ``erm``, ``R1``, ``R2``, ``R3``, ``R4`` and ``R13`` in closed form
    (:func:`~mixtheory.closed_form.taylor_regularizers`, whose ``cancellation`` and ``J`` are not
    terms and stay there); ``.loss()`` is ``E_Q = Σ_i p_i (erm + R13 + R2 + R4)`` with the
    geometry's anchor weights (all anchors; with ``indices`` a plain mean over the requested ones).

    >>> import torch
    >>> from mixtheory import MixupGeometry, SymmetricBeta, second_order_loss
    >>> g = torch.Generator().manual_seed(0)
    >>> X, Y = torch.randn(10, 3, generator=g, dtype=torch.float64), torch.arange(10) % 2
    >>> W = torch.randn(3, 2, generator=g, dtype=torch.float64)
    >>> geo = MixupGeometry(X, Y, SymmetricBeta(0.5))
    >>> terms = carratino_expansion(lambda x: torch.tanh(x @ W), geo)
    >>> terms.table, terms.loss() == second_order_loss(lambda x: torch.tanh(x @ W), geo)
    (('erm', 'R13', 'R2', 'R4'), True)
    """
    regs = taylor_regularizers(model, geometry, loss, indices=indices)
    names = terms_of("carratino2022")
    weights = geometry.mean_weights if indices is None else None
    return ExpansionTerms("carratino2022", {k: regs[k] for k in names if k in regs}, weights=weights)
