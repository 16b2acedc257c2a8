"""Time and peak memory against n at CIFAR dimensions (d = 3,072): the geometry, the closed form
and the default estimator, each point in a fresh process.

Routes (float64 geometry, float32 GELU CNN with channels (8, 16), one thread):

- ``geometry``: :class:`~mixtheory.MixupGeometry` of n samples (one thin SVD of the centred data;
  no d × d matrix per sample);
- ``closed form``: :func:`~mixtheory.taylor_regularizers` under its default memory budget (2 GiB),
  exact, on the first ``--closed-form-samples`` samples of the n-sample geometry (its cost per
  sample grows with the rank r ≤ min(n − 1, d): one jet direction per factor column); the table
  gives the time for those samples and the projection to all n;
- ``estimator``: :func:`~mixtheory.estimate_from_geometry` with its defaults (32 probes), on the
  first ``--estimator-samples`` samples (default: all n).

Each point runs in a fresh subprocess (``--child``) and reports the time of the route alone, the
peak resident memory of the whole process (``resource.getrusage``: data, geometry and route) and
the resident memory before the route started. Points that exceed ``--timeout`` seconds are
recorded as such. The load average is checked as in ``bench_estimators.py``; results go to
``benchmarks/results/bench_scaling.json`` (``--quick``: ``bench_scaling.quick.json``), from which
``benchmarks/readme_speed.py`` writes the README's table.

    python benchmarks/bench_scaling.py [--quick] [--allow-load] [--ns 1000 2000 ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _timing import LoadGuard  # noqa: E402

ROUTES = ("geometry", "closed form", "estimator")
NS = (1000, 2000, 5000, 10000, 20000, 50000)
QUICK_NS = (200, 500)
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def _rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) / 1024
    return float("nan")


def child(route: str, n: int, samples: int | None) -> dict:
    """One point, in this (fresh) process: build the data, time the route, read the peak RSS."""
    import torch

    from mixtheory import MixupGeometry, SymmetricBeta, taylor_regularizers
    from mixtheory.estimators import estimate_from_geometry
    from mixtheory.models import build_model

    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(n, 3, 32, 32, generator=gen)
    Y = torch.randint(10, (n,), generator=gen)
    model = build_model("cnn", (3, 32, 32), 10, "gelu", channels=(8, 16), hidden=(32,), seed=0)
    before = _rss_mib()
    start = time.perf_counter()
    geo = MixupGeometry(X, Y, SymmetricBeta(1.0))
    geometry_seconds = time.perf_counter() - start
    m = n if samples is None else min(n, samples)
    idx = torch.arange(m)
    start = time.perf_counter()
    if route == "closed form":
        taylor_regularizers(model, geo, indices=idx)
    elif route == "estimator":
        estimate_from_geometry(
            model, geo, indices=idx, generator=torch.Generator().manual_seed(1), progress=False
        )
    seconds = geometry_seconds if route == "geometry" else time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(
        seconds=seconds,
        samples=m,
        projected_seconds=seconds * n / m,
        peak_mib=peak,
        before_mib=before,
        geometry_seconds=geometry_seconds,
        rank=geo.rank,
    )


def run_point(route: str, n: int, samples: int | None, timeout: float) -> dict | None:
    command = [sys.executable, __file__, "--child", route, str(n), str(samples or 0)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    try:
        proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return dict(timeout=timeout)
    if proc.returncode != 0:
        return dict(
            error=proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"rc {proc.returncode}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--child", nargs=3, metavar=("ROUTE", "N", "SAMPLES"), help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help=f"n in {QUICK_NS}, few samples (not for the README)")
    ap.add_argument("--ns", type=int, nargs="+", default=None, help=f"sample counts (default {NS})")
    ap.add_argument("--routes", nargs="+", default=list(ROUTES), choices=ROUTES)
    ap.add_argument("--closed-form-samples", type=int, default=64)
    ap.add_argument("--estimator-samples", type=int, default=0, help="0: all n (default)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per point")
    ap.add_argument("--allow-load", action="store_true", help="run above load 1.5 (marked not reportable)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.child:
        route, n, samples = args.child
        print(json.dumps(child(route, int(n), int(samples) or None)))
        return {}
    ns = args.ns or (QUICK_NS if args.quick else NS)
    closed = 4 if args.quick else args.closed_form_samples
    estimator = 16 if args.quick else (args.estimator_samples or None)
    guard = LoadGuard(allow=args.allow_load)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores"
    rows = []
    header = ("n", "route", "samples", "seconds", "projected s", "peak MiB", "data MiB")
    print("{:>7} {:12} {:>8} {:>9} {:>12} {:>9} {:>9}".format(*header))
    for n in ns:
        row = dict(n=n, routes={})
        for route in args.routes:
            samples = {"closed form": closed, "estimator": estimator}.get(route)
            label = f"{route}, n = {n}"
            before = guard.before(label)
            point = run_point(route, n, samples, args.timeout)
            guard.after(label, before, threads=1)
            if point is None or "seconds" not in point:
                print(f"{n:>7} {route:12} {point}")
                continue
            row["routes"][route] = point
            print(
                f"{n:>7} {route:12} {point['samples']:>8} {point['seconds']:>9.2f} "
                f"{point['projected_seconds']:>12.1f} {point['peak_mib']:>9.0f} {point['before_mib']:>9.0f}"
            )
        rows.append(row)
    load = guard.record()
    notes = (
        f"The closed form ran on the first {closed} samples of each geometry (exact, one jet direction "
        "per factor column: its cost per sample grows with the rank r ≤ min(n − 1, d), its memory stays "
        "within the 2 GiB budget); seconds are for those samples. "
        if "closed form" in args.routes
        else "The closed form was not part of this run (`--routes`). "
    ) + "Peak memory is the whole process (data included)."
    record = dict(
        machine=machine,
        d=3072,
        threads=1,
        routes=list(args.routes),
        rows=rows,
        quick=args.quick,
        load=load,
        reportable=load["reportable"] and not args.quick,
        notes=notes,
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    )
    from mixtheory._io import write_json

    name = "bench_scaling.json" if record["reportable"] else "bench_scaling.quick.json"
    print(f"wrote {write_json(args.out or os.path.join(RESULTS, name), record)}")
    return record


if __name__ == "__main__":
    main()
