"""Paired, interleaved timing for the benchmarks: ratios measured side by side, never cold.

Machines here are shared, so an absolute time is noise while the ratio of two routes timed in the
same round is a measurement. :func:`paired_rounds` warms every route first (so the reference
forward pass, like every other route, is timed warm), then runs ``rounds`` rounds in which each
route runs once, in an order rotated from round to round; :func:`ratio` gives the median and the
range of the per-round ratios. :func:`peak_memory_mib` runs one route in a fresh spawned process
and reports the growth of its peak resident memory (a separate process per route, so memory freed
by one route is never reused by the next and reported as 0).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable

import torch


def paired_rounds(
    routes: dict[str, Callable[[], object]], *, rounds: int = 7, warmup: int = 1
) -> dict[str, list[float]]:
    """Seconds per round for every route: warm-up calls first, then interleaved rotated rounds."""
    names = list(routes)
    for _ in range(warmup):
        for name in names:
            routes[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            start = time.perf_counter()
            routes[name]()
            times[name].append(time.perf_counter() - start)
    return times


def ratio(times: dict[str, list[float]], numerator: str, denominator: str) -> tuple[float, float, float]:
    """Median, min and max over rounds of time[numerator] / time[denominator] (same round)."""
    values = [a / b for a, b in zip(times[numerator], times[denominator])]
    return statistics.median(values), min(values), max(values)


def fmt_ratio(stats: tuple[float, float, float], unit: str = "×") -> str:
    med, lo, hi = stats
    return f"{med:.2f}{unit} [{lo:.2f}–{hi:.2f}]"


def _status_kib(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return float(line.split()[1])
    raise KeyError(field)


def _child(factory: Callable[[], Callable[[], object]], threads: int, queue) -> None:
    torch.set_num_threads(threads)
    run = factory()
    try:
        # reset the high-water mark (Linux): the peak then belongs to the route alone
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        before = _status_kib("VmRSS")
        run()
        queue.put((_status_kib("VmHWM") - before) / 1024)
    except OSError:  # not Linux: fall back to the lifetime peak, which can hide the route
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        run()
        queue.put((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)


def peak_memory_mib(factory: Callable[[], Callable[[], object]], threads: int = 1) -> float:
    """Growth of peak RSS (MiB) while one call of ``factory()`` runs in a fresh spawned process.
    ``factory`` must be a picklable module-level function that builds the inputs and returns the
    route (building happens before the baseline is read)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(factory, threads, queue))
    proc.start()
    value = queue.get()
    proc.join()
    return value


# --- load checks --------------------------------------------------------------------------------

MAX_LOAD = 1.5
ALLOW_LOAD_ENV = "MIXTHEORY_BENCH_ALLOW_LOAD"


def load_average() -> float:
    """The 1-minute load average (0 where the platform has none)."""
    try:
        return float(os.getloadavg()[0])
    except OSError:
        return 0.0


class LoadGuard:
    """Records the load average before and after every run and decides whether the numbers may be
    reported: before each run the load must be at most :data:`MAX_LOAD` (it waits up to ``wait``
    seconds for it to fall), and after it at most ``MAX_LOAD`` plus the run's own extra threads
    (a 1-thread run adds about 1 to the 1-minute average, which the limit already allows).

    ``allow=True`` (``--allow-load`` or ``$MIXTHEORY_BENCH_ALLOW_LOAD=1``) runs anyway for smoke
    tests; the record then says ``reportable: false`` and why."""

    def __init__(self, allow: bool = False, wait: float = 120.0) -> None:
        self.allow = allow or os.environ.get(ALLOW_LOAD_ENV, "") not in ("", "0")
        self.wait = float(wait)
        self.runs: list[dict] = []
        self.reasons: list[str] = []

    @property
    def reportable(self) -> bool:
        return not self.reasons

    def before(self, label: str) -> float:
        load = load_average()
        deadline = time.monotonic() + self.wait
        while load > MAX_LOAD and not self.allow and time.monotonic() < deadline:
            time.sleep(5)
            load = load_average()
        if load > MAX_LOAD:
            self._refuse(f"{label}: load average {load:.2f} > {MAX_LOAD} before the run")
        return load

    def after(self, label: str, before: float, threads: int = 1) -> None:
        load = load_average()
        limit = MAX_LOAD + max(0, threads - 1)
        self.runs.append(dict(run=label, load_before=round(before, 2), load_after=round(load, 2)))
        if load > limit:
            self._refuse(f"{label}: load average {load:.2f} > {limit} after the run ({threads} thread(s))")

    def _refuse(self, reason: str) -> None:
        self.reasons.append(reason)
        if self.allow:
            print(f"NOT REPORTABLE (load check overridden): {reason}", file=sys.stderr)
            return
        raise SystemExit(
            f"refusing to report: {reason}. Numbers measured on a loaded machine do not reproduce; "
            f"rerun on a quiet machine, or pass --allow-load (or {ALLOW_LOAD_ENV}=1) for a smoke run "
            "that is marked not reportable."
        )

    def record(self) -> dict:
        return dict(
            max_load=MAX_LOAD, runs=self.runs, reportable=self.reportable, not_reportable_because=self.reasons
        )
