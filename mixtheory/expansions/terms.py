r"""The one result type of every expansion of the mixup loss, and the one table of term names.

Each paper expands the mixup loss around other points and calls its terms by its own letters:
Carratino et al. (JMLR 2022, Theorem 3) around the contracted points x̃_i, with ``R1``–``R4`` and
``R13 = R1 + R3``; Zhang et al. (ICLR 2021, Lemma 3.1) around the anchors x_i, whose own ``R1``,
``R2``, ``R3`` are *other* terms (a first-order term and two second-order ones); Park et al.
(NeurIPS 2022) reuse Zhang et al.'s terms with the moments of a mask; MixupE (Zou et al., UAI 2023)
sums directional derivatives of every order. :data:`TERM_NAMES` gives each term one name across
the package, with the paper it belongs to and what it is, so that no key means two things:
Zhang et al.'s ``R1``, ``R2``, ``R3`` are ``first_order``, ``second_order_output`` and
``second_order_input`` here, and the loss at the anchor is ``anchor_loss`` (Carratino et al.'s
``erm`` is the loss at the contracted point x̃_i).

:class:`ExpansionTerms` holds an expansion's per-anchor terms (a read-only mapping from those
names to tensors), the paper, the table of the terms whose sum is the expanded loss, and the
anchor weights; :meth:`ExpansionTerms.loss` assembles the loss through
:func:`~mixtheory.expansions.second_order.second_order_from_terms`, the one place that does.
``docs/theory.md`` §4, §8.2–8.4.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .second_order import CARRATINO_TERMS, MIXUPE_TERMS, ZHANG_TERMS, second_order_from_terms

__all__ = ["PAPERS", "TERM_NAMES", "ExpansionTerms", "terms_of"]

#: paper key -> citation
PAPERS: dict[str, str] = {
    "carratino2022": "Carratino, Cissé, Jenatton, Vert, JMLR 2022, Theorem 3 / Corollary 4",
    "zhang2021": "Zhang, Deng, Kawaguchi, Ghorbani, Zou, ICLR 2021, Lemma 3.1 (multi-class form)",
    "park2022": "Park, Yun, Chun, NeurIPS 2022 (masked mixing in Zhang et al.'s λ̃ form)",
    "mixupe": "Zou, Verma, Mittal, Tang, Pham, Kannala, Bengio, Solin, Kawaguchi, UAI 2023, Theorem 1",
}

_ANCHOR = ("zhang2021", "park2022")
#: term name -> (the papers whose expansion has it, what it is); every name means one thing
TERM_NAMES: dict[str, tuple[tuple[str, ...], str]] = {
    "erm": (("carratino2022",), "ℓ(ỹ_i, f(x̃_i)): the loss at the contracted point (not at x_i)"),
    "R1": (("carratino2022",), "½ tr(Σ_xx (∇f − J)ᵀ ℓ_uu (∇f − J)) ≥ 0 (Theorem 3)"),
    "R2": (("carratino2022",), "½ ⟨Σ_xx, Σ_k (ℓ_u)_k ∇²f_k⟩ at x̃_i (Theorem 3)"),
    "R3": (("carratino2022",), "−½ tr(ℓ_uu⁻¹ ℓ_uy Σ_yx Σ_xx⁺ Σ_xy ℓ_yu) ≤ 0 (Theorem 3)"),
    "R4": (("carratino2022",), "½ ⟨Σ_yy, ℓ_yy⟩ (Theorem 3)"),
    "R13": (("carratino2022",), "R1 + R3, computed directly: ½⟨Σ_xx, ∇fᵀℓ_uu∇f⟩ + ⟨Σ_yx, ℓ_yu∇f⟩"),
    "anchor_loss": (_ANCHOR, "ℓ(y_i, f(x_i)): the loss at the anchor"),
    "first_order": (_ANCHOR, "ℓ_uᵀ ∇f(x_i) (m̄ ⊙ (x̄ − x_i)), m̄ = E H̃ (Zhang et al.'s R1)"),
    "second_order_output": (_ANCHOR, "½ ⟨W ⊙ M_i, ∇fᵀ ℓ_uu ∇f⟩, W = E H̃H̃ᵀ (Zhang et al.'s R2)"),
    "second_order_input": (_ANCHOR, "½ ⟨W ⊙ M_i, Σ_k (ℓ_u)_k ∇²f_k(x_i)⟩ (Zhang et al.'s R3)"),
    "directional_0": (("mixupe",), "mean_ij ℓ(y_i, f(x_i)): the order-0 term of Theorem 1"),
    "directional_1": (("mixupe",), "E(1−λ̃) mean_ij D¹_ij, D^k the k-th derivative along x_j − x_i"),
    "directional_2": (("mixupe",), "E(1−λ̃)²/2 mean_ij D²_ij"),
    "directional_3": (("mixupe",), "E(1−λ̃)³/6 mean_ij D³_ij"),
}

#: paper -> the table of the terms that sum to its expanded loss (in this order)
_TABLES: dict[str, tuple[str, ...]] = {
    "carratino2022": CARRATINO_TERMS,
    "zhang2021": ZHANG_TERMS,
    "park2022": ZHANG_TERMS,
    "mixupe": MIXUPE_TERMS,
}


def terms_of(paper: str) -> tuple[str, ...]:
    """The names of the terms an expansion of ``paper`` may hold (:data:`TERM_NAMES` order).

    >>> terms_of("zhang2021")
    ('anchor_loss', 'first_order', 'second_order_output', 'second_order_input')
    """
    if paper not in PAPERS:
        raise ValueError(f"paper must be one of {sorted(PAPERS)}, got {paper!r}")
    return tuple(name for name, (papers, _) in TERM_NAMES.items() if paper in papers)


@dataclass(frozen=True)
class ExpansionTerms(Mapping[str, Any]):
    r"""An expansion's terms: a read-only mapping from :data:`TERM_NAMES` to per-anchor tensors
    (m,) (or 0-d tensors of means), with

    - ``paper``: a key of :data:`PAPERS`; every term name must belong to it;
    - ``table``: the terms whose sum, averaged over anchors, is the expanded loss (default the
      paper's: ``erm + R13 + R2 + R4``; ``anchor_loss + first_order + second_order_output +
      second_order_input``; MixupE's gives its own, ``directional_0 + … + directional_K``);
    - ``weights``: anchor weights for :meth:`loss` (None: a plain mean over anchors);
    - ``details``: numbers behind the terms that are not terms themselves (MixupE: the mean
      directional derivatives and their coefficients).

    >>> import torch
    >>> t = ExpansionTerms("zhang2021", {"anchor_loss": torch.tensor([1.0, 2.0]),
    ...     "first_order": torch.tensor([0.5, 0.5]), "second_order_output": torch.tensor([0.25, 0.25]),
    ...     "second_order_input": torch.tensor([0.0, 0.5])})
    >>> sorted(t), t.loss()
    (['anchor_loss', 'first_order', 'second_order_input', 'second_order_output'], 2.5)
    >>> ExpansionTerms("zhang2021", {"R1": torch.zeros(2)})
    Traceback (most recent call last):
    ...
    KeyError: "the terms ['R1'] are not terms of zhang2021, whose terms are ('anchor_loss', ..."
    """

    paper: str
    terms: Mapping[str, Any]
    table: tuple[str, ...] = ()
    weights: Any = field(default=None, repr=False)
    details: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        allowed = terms_of(self.paper)
        wrong = [key for key in self.terms if key not in allowed]
        if wrong:
            raise KeyError(f"the terms {wrong} are not terms of {self.paper}, whose terms are {allowed}")
        table = tuple(self.table) or _TABLES[self.paper]
        missing = [key for key in table if key not in self.terms]
        if missing or not table:
            raise KeyError(f"table {table}: the terms {missing} are missing; got {sorted(self.terms)}")
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "terms", MappingProxyType(dict(self.terms)))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    def __getitem__(self, key: str) -> Any:
        if key not in self.terms and key in TERM_NAMES:
            papers = TERM_NAMES[key][0]
            raise KeyError(f"{key!r} is a term of {', '.join(papers)}, not of {self.paper}")
        return self.terms[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    def loss(self) -> float:
        """The expanded loss: the table's terms added in its order, averaged over anchors (or
        weighted by ``weights``), by :func:`~mixtheory.expansions.second_order.second_order_from_terms`."""
        return second_order_from_terms(self.terms, self.table, weights=self.weights)
