"""Closed-form R1–R3 for every sample: structured geometry vs the naive per-sample dense route.

Issue 2 §9. Both routes get the same inputs (seeded): data X (n, d), one-hot labels, and for every
sample the network outputs u_i (c,) and input Jacobian ∇f_i (c, d) — the model-dependent part is
held fixed so that only the geometry and the algebra are timed.

- structured: ``MixupGeometry`` (one eigendecomposition of the smaller Gram matrix) +
  ``regularizers_from_derivatives`` (Sherman–Morrison per sample, no d×d matrix per sample);
- naive: for each sample form Σ^(i)_xx (d×d), take ``torch.linalg.pinv``, form J^(i), then R1, R3
  by their definitions (``mixtheory.reference``). At d = 3072 one naive sample costs seconds, so it
  runs on ``--naive-samples`` samples and its per-sample time is scaled to n (printed as such).

Each route runs in its own spawned process, so the peak resident memory of each is its own.
The numbers of the two routes are compared on the naive samples (relative difference printed).

Run: ``python benchmarks/bench_closed_form.py`` (d = 3072, n = 2000, c = 10) or ``--quick``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import time

import torch


def _inputs(n: int, d: int, c: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    # images on a low-dimensional manifold plus noise, like real data; Σ_xx has full rank here
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    y = torch.randint(c, (n,), generator=g)
    u = 3 * torch.randn(n, c, generator=g, dtype=torch.float64)
    jac = torch.randn(n, c, d, generator=g, dtype=torch.float64) / d**0.5
    return X, y, u, jac


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(route: str, n: int, d: int, c: int, seed: int, naive_samples: int, queue) -> None:
    torch.set_num_threads(torch.get_num_threads())
    from mixtheory import MixupGeometry, SymmetricBeta, regularizers_from_derivatives
    from mixtheory.reference import dense_regularizers_from_derivatives

    X, y, u, jac = _inputs(n, d, c, seed)
    baseline = _rss_mib()
    law = SymmetricBeta(0.5)
    start = time.perf_counter()
    if route == "structured":
        geo = MixupGeometry(X, y, law, num_classes=c)
        out = regularizers_from_derivatives(geo, u, jac, "ce")
        seconds = time.perf_counter() - start
        keep = list(range(naive_samples))
        result = {k: out[k][keep].tolist() for k in ("R1", "R3")}
        samples = n
    else:
        geo = MixupGeometry(X, y, law, num_classes=c)  # only for x̃, ỹ and the dense blocks
        setup = time.perf_counter() - start
        start = time.perf_counter()
        rows = [
            dense_regularizers_from_derivatives(geo, i, u[i], jac[i], None, "ce")
            for i in range(naive_samples)
        ]
        per_sample = (time.perf_counter() - start) / naive_samples
        seconds = setup + per_sample * n
        result = {k: [float(r[k]) for r in rows] for k in ("R1", "R3")}
        samples = naive_samples
    queue.put(
        {
            "route": route,
            "seconds": seconds,
            "measured_samples": samples,
            "peak_rss_mib": _rss_mib(),
            "rss_over_inputs_mib": _rss_mib() - baseline,
            "values": result,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--d", type=int, default=3072)
    parser.add_argument("--c", type=int, default=10)
    parser.add_argument("--naive-samples", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="n = 300, d = 512")
    args = parser.parse_args()
    if args.quick:
        args.n, args.d = 300, 512
    ctx = mp.get_context("spawn")
    results = {}
    for route in ("structured", "naive"):
        queue = ctx.Queue()
        proc = ctx.Process(
            target=_run, args=(route, args.n, args.d, args.c, args.seed, args.naive_samples, queue)
        )
        proc.start()
        results[route] = queue.get()
        proc.join()
    s, nv = results["structured"], results["naive"]
    worst = max(
        abs(a - b) / max(abs(b), 1e-300)
        for key in ("R1", "R3")
        for a, b in zip(s["values"][key], nv["values"][key])
    )
    ratio = nv["seconds"] / s["seconds"]
    print(
        f"R1–R3 closed form, n = {args.n}, d = {args.d}, c = {args.c}, float64, "
        f"{torch.get_num_threads()} threads, {platform.processor() or platform.machine()}"
    )
    print(
        f"{'route':<12} {'seconds (all n)':>16} {'measured on':>12} "
        f"{'peak RSS MiB':>13} {'RSS over inputs':>16}"
    )
    for r in (s, nv):
        print(
            f"{r['route']:<12} {r['seconds']:>16.2f} {r['measured_samples']:>12} "
            f"{r['peak_rss_mib']:>13.0f} {r['rss_over_inputs_mib']:>16.0f}"
        )
    print(f"speed-up (naive / structured): {ratio:.0f}×   max relative difference R1, R3: {worst:.1e}")
    print(
        json.dumps(
            {
                "benchmark": "closed_form_r1_r3",
                "n": args.n,
                "d": args.d,
                "c": args.c,
                "structured_s": s["seconds"],
                "naive_s_extrapolated": nv["seconds"],
                "naive_samples": args.naive_samples,
                "ratio": ratio,
                "peak_rss_mib": {"structured": s["peak_rss_mib"], "naive": nv["peak_rss_mib"]},
                "max_rel_diff": worst,
            }
        )
    )


if __name__ == "__main__":
    main()
