r"""The expansions of the mixup loss, one module per paper, sharing one result type.

- :mod:`~mixtheory.expansions.carratino2022`: around the contracted points x̃_i (Carratino et al.,
  JMLR 2022, Theorem 3; ``docs/theory.md`` §4, §8.1), whose algebra is :mod:`mixtheory.regularizers`
  and :mod:`mixtheory.closed_form`;
- :mod:`~mixtheory.expansions.zhang2021`: around the anchors x_i (Zhang et al., ICLR 2021, Lemma
  3.1; §8.2), the one implementation of the terms around the anchor;
- :mod:`~mixtheory.expansions.park2022`: masked mixing (Park et al., NeurIPS 2022; §8.3), Zhang
  et al.'s terms with the moments of a mask;
- :mod:`~mixtheory.expansions.mixupe`: MixupE's directional expansion and first-order term (Zou et
  al., UAI 2023; §8.4).

What they share is importable from here without the papers' modules (which sit in higher layers,
``docs/README.md``): the result type :class:`~mixtheory.expansions.terms.ExpansionTerms` and the
table of term names :data:`~mixtheory.expansions.terms.TERM_NAMES` (no key means two things), the
assembly of an expanded loss from its table of terms
(:func:`~mixtheory.expansions.second_order.second_order_from_terms`) and the order fit of a
remainder (:mod:`~mixtheory.expansions.remainder`, the one :class:`SlopeFit`).
"""

from .remainder import SlopeFit, fit_remainder_order
from .second_order import CARRATINO_TERMS, MIXUPE_TERMS, ZHANG_TERMS, second_order_from_terms
from .terms import PAPERS, TERM_NAMES, ExpansionTerms, terms_of

__all__ = [
    "CARRATINO_TERMS",
    "MIXUPE_TERMS",
    "ZHANG_TERMS",
    "PAPERS",
    "TERM_NAMES",
    "ExpansionTerms",
    "terms_of",
    "second_order_from_terms",
    "SlopeFit",
    "fit_remainder_order",
]
