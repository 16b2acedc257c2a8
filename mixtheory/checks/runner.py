r"""Running the registered checks: one shared context, rows streamed as each check completes."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator

import torch

from ..laws import MixingLaw
from .context import PRESETS, CheckContext, Preset, Settings
from .registry import CheckResult, select_checks

#: the fewest samples the checks run on (see _settings)
MIN_SAMPLES = 20

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
    num_samples: int | None = None,
    alpha: float = 0.5,
    law: MixingLaw | None = None,
    seed: int = 0,
    num_draws: int | None = None,
    model: torch.nn.Module | None = None,
    data: tuple[torch.Tensor, torch.Tensor] | None = None,
    num_nodes: int | None = None,
    only: Iterable[str] | None = None,
    on_check: Callable[[str], None] | None = None,
) -> Iterator[CheckResult]:
    """Yield every row of the selected checks as it completes (``on_check(name)`` after each check).

    ``preset``: ``quick``, ``default`` or ``full`` (sizes in :mod:`mixtheory.checks.context`);
    ``num_samples``, ``num_draws``, ``num_nodes`` override it (``num_nodes`` fixes the nodes per
    piece of every exact loss)."""
    from ..laws import SymmetricBeta

    checks = select_checks(only)
    settings = _settings(preset, num_samples, num_draws, num_nodes)
    law = SymmetricBeta(alpha) if law is None else law
    ctx = CheckContext.prepare(settings, law=law, seed=seed, model=model, data=data)
    for chk in checks:
        reason = chk.skip_reason(law)
        if reason is None:
            yield from chk.run(ctx)
        else:
            yield chk.skipped_row(reason)
        if on_check is not None:
            on_check(chk.name)


def run_checks(**kwargs) -> list[CheckResult]:
    """Every row of :func:`iter_checks` as a list."""
    return list(iter_checks(**kwargs))


def timed_checks(**kwargs) -> tuple[list[CheckResult], float]:
    """:func:`run_checks` and its wall-clock seconds."""
    start = time.perf_counter()
    rows = run_checks(**kwargs)
    return rows, time.perf_counter() - start


def format_header() -> str:
    header = f"{'check':<46} {'closed form':>13} {'reference':>13} {'error':>10} {'tol':>8}  verdict"
    return header + "\n" + "-" * len(header)


def format_row(r: CheckResult) -> str:
    """One table row (and its detail line)."""
    if math.isinf(r.tolerance):
        tol = "—"
    elif r.kind == "relative":
        tol = f"{r.tolerance:.0e}"
    else:
        tol = f"{r.tolerance:.3g}"
    if r.kind == "skipped":
        err, tol = "", ""
    elif r.kind == "z-score":
        err = f"z={r.error:.2f}"
    elif r.kind == "count":
        err = f"{int(r.error)}"
    else:
        err = f"{r.error:.2e}"
    if r.kind == "skipped":
        verdict = "skip"
    else:
        verdict = "info" if math.isinf(r.tolerance) else ("PASS" if r.passed else "FAIL")
    cf = "" if math.isnan(r.closed_form) else f"{r.closed_form:.6g}"
    ref = "" if math.isnan(r.reference) else f"{r.reference:.6g}"
    line = f"{r.name:<46} {cf:>13} {ref:>13} {err:>10} {tol:>8}  {verdict}"
    return line + (f"\n{'':<4}{r.detail}" if r.detail else "")


def format_table(rows: list[CheckResult]) -> str:
    return "\n".join([format_header(), *(format_row(r) for r in rows)])
