r"""The perturbation geometry of mixup: Theorem 1 and Lemma 2 of Carratino et al. (JMLR 2022).

Folding the mixup loss gives a perturbed ERM around the contracted points

.. math::

    \tilde x_i = \bar x + \bar\theta (x_i - \bar x), \qquad \tilde y_i = \bar y + \bar\theta (y_i - \bar y),

with zero-mean perturbations ``δ_i = (θ − θ̄) a_i + (1 − θ) a_j`` (``a_i = x_i − x̄``, j uniform)
and label perturbations ``ε_i`` built the same way from ``b_i = y_i − ȳ``. Their covariances
(Lemma 2) are one shared matrix plus a rank-one term:

.. math::

    \Sigma^{(i)}_{xx} = \sigma^2 a_i a_i^\top + \gamma^2 \Sigma_{xx}, \quad
    \Sigma^{(i)}_{xy} = \sigma^2 a_i b_i^\top + \gamma^2 \Sigma_{xy}, \quad
    \Sigma^{(i)}_{yy} = \sigma^2 b_i b_i^\top + \gamma^2 \Sigma_{yy}.

(The paper writes ``(σ²(x̃_i − x̄)(x̃_i − x̄)ᵀ + γ² Σ_x̃x̃)/θ̄²`` with ``Σ_x̃x̃ = θ̄² Σ_xx``; the same.)

:class:`MixupGeometry` is one class for every partner law π(j | i) (``docs/theory.md §8.1``). Under
uniform pairing (the default, or ``pairing=UniformPartner(n)``) every anchor's partner covariance is
the one Σ_xx: the geometry factorizes ``Σ_xx = V diag(s) Vᵀ`` once (V: d×r, its range) and does
every per-sample operation in that r-dimensional basis with Sherman–Morrison
(:mod:`~mixtheory.geometry.shared`); it never forms a d×d matrix per sample. Every ``a_i`` and every
column of ``Σ_xy`` lies in the range of ``Σ_xx``, so the pseudo-inverse of ``Σ^{(i)}_xx`` is its
inverse on that range, exactly.

With partners drawn from another ``π(j | i)`` (an n×n row-stochastic tensor or a
:class:`~mixtheory.mixing.PartnerLaw`), the fold with the symmetrised pair law
``P(i, j) = (π(j|i) + π(i|j))/(2n)`` gives anchor weights ``p_i = (1 + c_i)/(2n)`` (``c = Πᵀ1``),
partner means ``μ_i`` and partner covariances ``C_i`` per anchor, and
``Σ^(i)_xx = σ² (x_i − μ_i)(x_i − μ_i)ᵀ + γ² C_i`` (the xy and yy blocks alike): the same class
then keeps one factor per anchor (:mod:`~mixtheory.geometry.anchored`). Uniform pairing is the
special case whose anchor weights are all equal (1/n) and whose partner means are all x̄; the
attributes and methods are the same for every law, and consumers never ask which law it is.

**Larger than memory.** :class:`StreamedMixupGeometry` builds the same Σ_xx factorisation from
streamed Gram blocks of a dataset read in batches (:mod:`mixtheory.geometry.streamed`).
"""

from ._common import as_partner_law, is_uniform_with_self, require_symmetric_lambda
from .mixup import MixupGeometry
from .streamed import StreamedMixupGeometry, make_geometry

__all__ = [
    "MixupGeometry",
    "StreamedMixupGeometry",
    "make_geometry",
    "as_partner_law",
    "is_uniform_with_self",
    "require_symmetric_lambda",
]
