"""The one progress bar of the package: a tqdm bar on a terminal, nothing in a log.

Every loop that shows progress (training epochs, the exact mixup loss's quadrature, the estimators'
samples, the figures' units, ``mixtheory check``) goes through :func:`progress_bar`. A bar is drawn
only when standard error is a terminal: redirected to a file or a pipe, a bar's carriage-return
updates turn into fragments glued onto the next printed line, so there the bar is disabled (its
``update`` and ``close`` still work and cost nothing).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm.auto import tqdm

__all__ = ["progress_bar", "stderr_is_terminal"]


def stderr_is_terminal() -> bool:
    """Whether standard error is an interactive terminal (False when it is closed or replaced)."""
    try:
        return bool(sys.stderr is not None and sys.stderr.isatty())
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def progress_bar(
    total: int | None = None,
    desc: str = "",
    enabled: bool | None = None,
    *,
    iterable: Iterable[Any] | None = None,
    long: bool | None = None,
    **options: Any,
) -> tqdm:
    """A tqdm bar over ``total`` steps (or over ``iterable``), drawn only on a terminal.

    ``enabled``: False never shows it; True shows it on a terminal; None shows it on a terminal when
    the work is ``long`` (default: more than 50 steps). Outside a terminal it is always disabled.
    ``options`` are passed to tqdm (``unit``, ``leave``, …).
    """
    if long is None:
        long = total is None or total > 50
    show = stderr_is_terminal() and (enabled if enabled is not None else long)
    options.setdefault("leave", False)
    options.setdefault("mininterval", 0.1)
    return tqdm(iterable, total=total, desc=desc, disable=not show, **options)
