r"""What the second-order expansions of the mixup loss share: the assembly of a second-order loss
from its table of terms (:mod:`~mixtheory.expansions.second_order`) and the order fit of a
remainder (:mod:`~mixtheory.expansions.remainder`).

The expansions themselves are :mod:`mixtheory.regularizers` (Carratino et al., JMLR 2022,
Theorem 3), :mod:`mixtheory.zhang2021` (Zhang et al., ICLR 2021), :mod:`mixtheory.msda` (Park et
al., NeurIPS 2022) and :mod:`mixtheory.mixupe` (Zou et al., UAI 2023); ``docs/theory.md`` §4, §8.
"""

from .remainder import SlopeFit, fit_remainder_order
from .second_order import CARRATINO_TERMS, ZHANG_TERMS, second_order_from_terms

__all__ = ["CARRATINO_TERMS", "ZHANG_TERMS", "second_order_from_terms", "SlopeFit", "fit_remainder_order"]
