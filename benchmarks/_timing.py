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
import resource
import statistics
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
