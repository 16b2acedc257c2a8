r"""``mixtheory reproduce``: the figures of the sources, recomputed, with their data and provenance.

Each figure is one public module of this package that registers a
:class:`~mixtheory.reproduce._registry.Figure` (name, title, the ledger claims it decides, quick
and full configurations, ``compute`` → tidy rows, ``draw`` from the CSV, the measured headline and
its checks). Importing the package imports every public module, so adding a figure is adding one
module. :func:`run_figure` computes (resumably, per unit and seed), writes the CSV, the provenance
JSON, the PNG and the PDF; :func:`redraw_figure` redraws from the CSV alone. Both report the
package's one result type, :class:`mixtheory.verification.Result` (:func:`figure_result`).

>>> FIGURES['hard-pool-sweep'].claims  # the ledger entries whose rule reads its results
('seed000-eta-pool',)
"""

from __future__ import annotations

import importlib
import pkgutil

from ._registry import (
    FIGURES,
    Config,
    DrawInfo,
    Figure,
    Mode,
    Unit,
    figure_result,
    figure_verdict,
    get_figure,
    register,
)
from ._runner import Context, RunResult, aggregate, check_requirements, read_rows, redraw_figure, run_figure

__all__ = [
    "FIGURES",
    "Config",
    "Context",
    "DrawInfo",
    "Figure",
    "Mode",
    "RunResult",
    "Unit",
    "aggregate",
    "check_requirements",
    "figure_result",
    "figure_verdict",
    "get_figure",
    "read_rows",
    "redraw_figure",
    "register",
    "run_figure",
]

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
