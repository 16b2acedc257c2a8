r"""Shared drawing helpers. Matplotlib is imported here, inside the functions, never at import
time of the library: ``import mixtheory.reproduce`` works without it."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["pyplot", "save", "errorbar_line", "aggregate_line", "COLORS"]

#: a colour-blind-safe cycle (Okabe–Ito)
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")


def pyplot() -> ModuleType:
    """``matplotlib.pyplot`` on the Agg backend (unless pyplot was already imported elsewhere)."""
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("drawing figures needs matplotlib: pip install 'mixtheory[plot]'") from exc
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"axes.grid": True, "grid.alpha": 0.3, "legend.framealpha": 0.85})
    return plt


def errorbar_line(
    ax: Any, x: Sequence[float], mean: Sequence[float], std: Sequence[float], **style: Any
) -> Any:
    """A line with ± std error bars (caps), sorted by x; the bars vanish for a single seed."""
    order = np.argsort(np.asarray(x, dtype=float))
    x, mean, std = (np.asarray(a, dtype=float)[order] for a in (x, mean, std))
    style.setdefault("capsize", 3)
    style.setdefault("marker", "o")
    style.setdefault("markersize", 4)
    return ax.errorbar(x, mean, yerr=std, **style)


def aggregate_line(ax: Any, agg: Sequence[dict[str, Any]], x: str = "epoch", **style: Any) -> Any:
    """:func:`errorbar_line` of aggregated rows (``aggregate``'s ``mean`` ± ``std`` over seeds)
    against their column ``x``."""
    return errorbar_line(ax, [r[x] for r in agg], [r["mean"] for r in agg], [r["std"] for r in agg], **style)


def save(fig: Any, png: Path, pdf: Path, dpi: int = 130) -> None:
    """Write ``fig`` as PNG and PDF, each atomically (:mod:`mixtheory._io`), and close it."""
    from .._io import save_with

    plt = pyplot()
    try:
        save_with(png, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
        save_with(pdf, lambda tmp: fig.savefig(tmp, format="pdf"))
    finally:
        plt.close(fig)
