r"""The second-order loss, assembled once from a table of its terms.

Each expansion writes its second-order loss as a (weighted) mean over anchors of a sum of
per-anchor terms:

- Carratino et al. (JMLR 2022, Theorem 3), around the contracted points x̃_i:
  ``E_Q = Σ_i p_i (erm + R13 + R2 + R4)`` (:data:`CARRATINO_TERMS`), with ``R13 = R1 + R3``
  computed directly and ``p_i`` the geometry's anchor weights (1/n under uniform pairing;
  ``docs/theory.md`` §4, §8.1);
- Zhang et al. (ICLR 2021, Lemma 3.1), around the anchors x_i, and its masked form (Park et al.,
  NeurIPS 2022): ``(1/n) Σ_i (anchor_loss + first_order + second_order_output +
  second_order_input)`` (:data:`ZHANG_TERMS`: the paper's own R1, R2, R3 are other terms than
  Carratino's, so they have their own names here, :data:`~mixtheory.expansions.terms.TERM_NAMES`;
  ``docs/theory.md`` §8.2–8.3);
- MixupE (Zou et al., UAI 2023, Theorem 1): the mean over pairs of ``Σ_k E(1−λ̃)^k/k! D^k``
  (:data:`MIXUPE_TERMS`, up to the expansion's order; ``docs/theory.md`` §8.4).

:func:`second_order_from_terms` adds the terms in the table's order and averages them: a plain
mean without weights (so that uniform pairing gives exactly the mean), ``Σ_i w_i t_i`` with them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["CARRATINO_TERMS", "MIXUPE_TERMS", "ZHANG_TERMS", "second_order_from_terms"]

#: Theorem 3 of Carratino et al. (2022): ``E_Q = erm + R13 + R2 + R4`` per anchor
CARRATINO_TERMS: tuple[str, ...] = ("erm", "R13", "R2", "R4")
#: Zhang et al. (2021), Lemma 3.1 (and the masked form of Park et al., 2022), per anchor: the
#: loss at the anchor, the first-order term and the two second-order terms (the paper's R1, R2, R3)
ZHANG_TERMS: tuple[str, ...] = ("anchor_loss", "first_order", "second_order_output", "second_order_input")
#: MixupE (Zou et al., 2023), Theorem 1: the terms of orders 0–3 (an expansion of order K uses K + 1)
MIXUPE_TERMS: tuple[str, ...] = ("directional_0", "directional_1", "directional_2", "directional_3")


def second_order_from_terms(
    terms: Mapping[str, Any], table: Sequence[str] = CARRATINO_TERMS, *, weights: Any = None
) -> float:
    r"""``mean_i Σ_k terms[k]_i`` over the keys ``k`` of ``table`` (added in its order), or
    ``Σ_i w_i Σ_k terms[k]_i`` with anchor ``weights`` (e.g. :attr:`MixupGeometry.anchor_weights`).

    ``terms`` maps names to per-anchor tensors or numpy arrays of one shape (m,).

    >>> import torch
    >>> regs = {"erm": torch.tensor([1.0, 3.0]), "R13": torch.tensor([0.5, 0.5]),
    ...         "R2": torch.tensor([0.25, 0.25]), "R4": torch.tensor([0.0, 1.0])}
    >>> second_order_from_terms(regs)
    3.25
    >>> second_order_from_terms(regs, weights=torch.tensor([1.0, 0.0]))
    1.75
    """
    missing = [key for key in table if key not in terms]
    if missing or not table:
        raise KeyError(f"the terms {missing} of the table {tuple(table)} are missing; got {sorted(terms)}")
    total = terms[table[0]]
    for key in table[1:]:
        total = total + terms[key]
    if weights is None:
        return float(total.mean())
    return float((weights * total).sum())
