r"""Symbolic proofs (sympy) of the identities mixtheory rests on, each cross-checked numerically.

Every proof is a function returning a :class:`Proof`: an ``id`` (the function's name with ``-``
for ``_``, stamped by the :func:`~._core.proof` decorator that registers it), the ``statement``
proved, the ``steps`` of the argument as text, a ``verdict`` (``"holds"`` when every symbolic
simplification reduced to zero and every numerical cross-check passed, ``"fails"`` otherwise) and
``details`` (the numbers of the cross-checks). :func:`get_proof` and :func:`all_proofs` run them
and report each as the package's one result type, :class:`mixtheory.verification.Result`
(:func:`proof_result`); ``mixtheory verify`` prints them.

Sources: Carratino, Cissé, Jenatton, Vert, "On Mixup Regularization" (JMLR 2022): Theorem 1,
Lemma 2, Theorem 3, Corollary 4 (:mod:`.moments`, :mod:`.perturbations`, :mod:`.cross_entropy`);
Zhang, Deng, Kawaguchi, Ghorbani, Zou (ICLR 2021) Lemma 3.1 and the W-shaped law of the slide
summary of Carratino et al. (:mod:`.other_laws`).

Where a statement is proved for small sizes (n, d, c), the proof says why that covers every size:
either the identity is entrywise and involves two coordinates at a time, or the symbolic data
are the generic coordinates of one entry (p, q) of a matrix of any size.

>>> proof = beta_variance()
>>> proof.id, proof.verdict
('beta-variance', 'holds')
"""

from ._core import (
    ALPHA_GRID,
    PROOFS,
    SOURCE,
    Proof,
    _is_zero,
    _Recorder,
    _symbolic_truncated_moments,
    all_proofs,
    get_proof,
    proof,
    proof_result,
)

# isort: off
# registration order = import order: moments, perturbations, cross-entropy, other laws
from .moments import arcsine_moments, beta_variance, mixing_limits, truncated_beta_moments
from .perturbations import lemma2_covariances, theorem1_perturbations
from .cross_entropy import (
    completed_square,
    cross_entropy_derivatives,
    gini_below_entropy,
    softmax_hessian_singular,
)
from .other_laws import w_shaped_moments, zhang_lambda_tilde_moments

# isort: on

__all__ = [
    "Proof",
    "proof",
    "PROOFS",
    "SOURCE",
    "get_proof",
    "proof_result",
    "truncated_beta_moments",
    "beta_variance",
    "theorem1_perturbations",
    "lemma2_covariances",
    "cross_entropy_derivatives",
    "completed_square",
    "w_shaped_moments",
    "zhang_lambda_tilde_moments",
    "arcsine_moments",
    "mixing_limits",
    "gini_below_entropy",
    "softmax_hessian_singular",
    "all_proofs",
    "ALPHA_GRID",
    "_is_zero",
    "_Recorder",
    "_symbolic_truncated_moments",
]
