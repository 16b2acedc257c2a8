r"""Per-sample R1, R2, R3 on trained networks: Hutchinson-type estimators.

For sample i, with ``u = f(x̃_i)``, ``H = ℓ_uu(ỹ_i, u)``, ``w = ℓ_u(ỹ_i, u)`` (``S(u) − ỹ_i`` for
cross-entropy) and ``Σ = Σ^(i)_xx`` (Lemma 2 of Carratino, Cissé, Jenatton, Vert, "On Mixup
Regularization", JMLR 2022), the regularizers of their Theorem 3 / Corollary 4 are

.. math::

    R_1 = \tfrac12 \operatorname{tr}\big(\Sigma (\nabla f - J)^\top H (\nabla f - J)\big),\qquad
    R_2 = \tfrac12 \operatorname{tr}(\Sigma\, \nabla^2 g),\quad g(x) = w^\top f(x)\ (w\ \text{fixed}),

and ``R3 = −½ tr(ℓ_uu⁻¹ ℓ_uy K_i ℓ_yu)`` with ``K_i = Σ_yx Σ_xx⁺ Σ_xy``, computed exactly. For any
random probe ``v`` with ``E[v vᵀ] = Σ`` (Hutchinson 1989) both traces are expectations of quadratic
forms in v; the derivation is written out in ``docs/theory.md``. One module per idea:

- :mod:`.options`: :class:`EstimatorOptions`, the typed and validated settings.
- :mod:`.probes`: the probe laws (gaussian, rademacher, mixup, exact, spectral) and per-sample seeds.
- :mod:`.jets`: second-order Taylor mode (Griewank & Walther 2008), collapsed over groups of probes
  (Dangel et al. 2025), through ``nn.Sequential`` stacks of known layers and any network ``torch.fx``
  traces into operations with a jet rule (residual sums, concatenation, norms, products, ...).
- :mod:`.evaluators`: the derivative passes (taylor, jvp-of-jvp, hvp, double-backward, secant).
- :mod:`.hutchinson`: probe averages, standard errors, per-probe R13 = R1 + R3.
- :mod:`.meyer2021_hutchpp`: Hutch++ for R2 (Meyer, Musco, Musco, Woodruff, SOSA 2021).
- :mod:`.results`: :class:`RegularizerEstimates`.
- :mod:`.core`: :func:`estimate_regularizers` and :func:`estimate_from_geometry`.
- :mod:`.distributed`: the same estimates sharded over processes (``torch.distributed``).
- :mod:`.factor_route`: the exact closed form by jets along the factor columns of Σ^(i) (no d × d
  matrix; :func:`mixtheory.taylor_regularizers` with ``route="factor"``).

Randomness: a base seed is drawn from ``generator`` once; sample i's probes come from a private
generator seeded by (base seed, i), so results do not depend on batch size, chunking, the order
of ``indices`` or how samples are sharded over processes (:mod:`mixtheory.estimators.distributed`).
"""

from .._validation import PiecewiseLinearWarning, piecewise_linear_modules
from .core import TrainModeWarning, estimate_from_geometry, estimate_regularizers
from .jets import second_order_jet, taylor_mode_supported
from .options import (
    CURVATURES,
    METHODS,
    PROBES,
    R1_MODES,
    TRAIN_MODES,
    Curvature,
    EstimatorOptions,
    Method,
    ProbeKind,
    R1Mode,
    TrainMode,
)
from .probes import draw_probes, probe_seeds
from .results import RegularizerEstimates

__all__ = [
    # entry points and their settings
    "estimate_regularizers",
    "estimate_from_geometry",
    "EstimatorOptions",
    "PROBES",
    "METHODS",
    "R1_MODES",
    "CURVATURES",
    "TRAIN_MODES",
    "ProbeKind",
    "Method",
    "R1Mode",
    "Curvature",
    "TrainMode",
    # results and warnings
    "RegularizerEstimates",
    "PiecewiseLinearWarning",
    "TrainModeWarning",
    # building blocks
    "draw_probes",
    "probe_seeds",
    "piecewise_linear_modules",
    "taylor_mode_supported",
    "second_order_jet",
]
