r"""Running the registered checks: one shared context, results streamed as each check completes.

Each row a check returns (:class:`~.registry.CheckResult`) is reported as the one result type,
:class:`mixtheory.verification.Result`, stamped with the run's provenance (seed, commit, versions);
the table is the one printer's (:func:`mixtheory.verification.format_row`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

import torch

from ..laws import MixingLaw
from ..verification import Provenance, Result
from ..verification import format_header as _format_header
from ..verification import format_row as _format_row
from ..verification import format_table as _format_table
from .context import PRESETS, CheckContext, Preset, Settings
from .registry import select_checks

#: the fewest samples the checks run on (see _settings)
MIN_SAMPLES = 20
#: the preset sizes a caller of :func:`iter_checks` may override, in this order
SIZE_OVERRIDES = ("num_samples", "num_draws", "num_nodes")

__all__ = [
    "MIN_SAMPLES",
    "iter_checks",
    "run_checks",
    "timed_checks",
    "format_table",
    "format_header",
    "format_row",
]


def _settings(
    preset: Preset, num_samples: int | None, num_draws: int | None, num_nodes: int | None
) -> Settings:
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    base = PRESETS[preset]
    if num_samples is not None and num_samples < MIN_SAMPLES:
        raise ValueError(
            f"num_samples must be at least {MIN_SAMPLES}: with fewer digits the third-order term of the "
            "remainder can vanish or nearly cancel (n = 2 exactly, by symmetry; n = 8 measured order 3.9 "
            "instead of 3; Zhang et al.'s fit failed for 1 of 6 seeds at n = 16, none at 20 or 24), so "
            f"the remainder-order fits cannot tell; got {num_samples}"
        )
    changes = {
        k: v
        for k, v in (("num_samples", num_samples), ("num_draws", num_draws), ("fixed_nodes", num_nodes))
        if v is not None
    }
    return Settings(**{**base.__dict__, **changes})


def iter_checks(
    *,
    preset: Preset = "default",
    law: MixingLaw | None = None,
    seed: int = 0,
    model: torch.nn.Module | None = None,
    data: tuple[torch.Tensor, torch.Tensor] | None = None,
    only: Iterable[str] | None = None,
    on_check: Callable[[str], None] | None = None,
    provenance: Provenance | None = None,
    **sizes: int | None,
) -> Iterator[Result]:
    """Yield every row of the selected checks, as a :class:`~mixtheory.verification.Result`, as it
    completes (``on_check(name)`` after each check); each is stamped with ``provenance`` (default:
    this process's, with ``seed``).

    ``preset``: ``quick``, ``default`` or ``full`` (sizes in :mod:`mixtheory.checks.context`);
    ``law``: the law of λ (default ``SymmetricBeta(0.5)``); ``sizes`` override the preset's:
    ``num_samples``, ``num_draws``, ``num_nodes`` (the nodes per piece of every exact loss); None
    keeps the preset's."""
    from ..laws import SymmetricBeta

    unknown = sorted(set(sizes) - set(SIZE_OVERRIDES))
    if unknown:
        raise TypeError(f"iter_checks: unknown size(s) {unknown}; the preset's are {list(SIZE_OVERRIDES)}")
    num_samples, num_draws, num_nodes = (sizes.get(name) for name in SIZE_OVERRIDES)
    checks = select_checks(only)
    settings = _settings(preset, num_samples, num_draws, num_nodes)
    law = SymmetricBeta(0.5) if law is None else law
    ctx = CheckContext.prepare(settings, law=law, seed=seed, model=model, data=data)
    stamp = provenance if provenance is not None else Provenance.current(seeds=[seed])
    for chk in checks:
        reason = chk.skip_reason(law)
        rows = chk.run(ctx) if reason is None else [chk.skipped_row(reason)]
        for row in rows:
            yield row.to_result().stamped(stamp)
        if on_check is not None:
            on_check(chk.name)


def run_checks(**kwargs) -> list[Result]:
    """Every row of :func:`iter_checks` as a list."""
    return list(iter_checks(**kwargs))


def timed_checks(**kwargs) -> tuple[list[Result], float]:
    """:func:`run_checks` and its wall-clock seconds."""
    start = time.perf_counter()
    rows = run_checks(**kwargs)
    return rows, time.perf_counter() - start


#: the width of the check column (the longest check name, 46 characters, fits)
WIDTH = 46


def format_header() -> str:
    """The table's header (:func:`mixtheory.verification.format_header`)."""
    return _format_header(WIDTH)


def format_row(r: Result) -> str:
    """One table row (:func:`mixtheory.verification.format_row`)."""
    return _format_row(r, WIDTH)


def format_table(rows: list[Result]) -> str:
    """Every row (:func:`mixtheory.verification.format_table`)."""
    return _format_table(rows, evidence_width=None)
