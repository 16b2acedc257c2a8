r"""``mixtheory check``: the claims of Carratino, Cissé, Jenatton and Vert ("On Mixup Regularization",
JMLR 2022) measured on a real data set and a trained network.

Each check is a small registered function (:func:`~mixtheory.checks.registry.check`) comparing a
closed form with an independent computation (brute force, quadrature, the exact or sampled mixup
loss) and returning rows: quantity, closed form, reference, error, derived tolerance, verdict. The
checks share one prepared :class:`~mixtheory.checks.context.CheckContext` (digits, a tanh MLP
trained here in float64 and seeded, the geometry, the regularizers, the exact losses).
"""

from __future__ import annotations

# registration order is table order
from . import expansions, mixup, moments, regularizers, remainder  # noqa: F401
from .context import PRESETS, CheckContext, Settings, converged_exact_loss, train_smooth_mlp
from .registry import CHECKS, Check, CheckResult, check, select_checks
from .runner import format_header, format_row, format_table, iter_checks, run_checks, timed_checks

# the expansions beyond Carratino et al.'s come last in the table
for _name in [name for name, chk in CHECKS.items() if chk.run.__module__.endswith(".expansions")]:
    CHECKS[_name] = CHECKS.pop(_name)

__all__ = [
    "CheckResult",
    "run_checks",
    "iter_checks",
    "timed_checks",
    "format_table",
    "format_header",
    "format_row",
    "train_smooth_mlp",
    "CHECKS",
    "Check",
    "check",
    "select_checks",
    "CheckContext",
    "Settings",
    "PRESETS",
    "converged_exact_loss",
]
