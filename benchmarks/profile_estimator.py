r"""Where the default estimator's time goes, as shares of one call (``cProfile``, 1 thread).

The benchmark problems of ``bench_estimators.py`` (the CIFAR-shaped GELU CNN and the ResNet-18
layout), the default route of :func:`~mixtheory.estimators.estimate_from_geometry`, warmed up, then
profiled over ``--calls`` calls. Each line is a share of the whole call, from the cumulative time of
the library functions that do one kind of work:

- ``probes``: drawing the probes (per-sample coefficient streams, the one product with the
  factor, the range coordinates);
- ``jet: convolutions``: convolutions (batch norms folded in) applied to the tangent streams (the
  arithmetic the route cannot avoid: K first-order + g second-order rows besides the primal's);
- ``jet: pooling``, ``jet: activations``: the other per-layer rules (σ, σ', σ'' on the primal and
  the streams' products);
- ``jet: graph interpretation``: ``torch.fx`` node dispatch outside the layer rules (residual
  networks only);
- ``per-sample algebra``: R13, R3, R4 and the standard errors from the jets' outputs;
- ``other``: the rest (pass sizing, validation, Python).

Shares are ratios inside one process, so they are far less sensitive to a shared machine than
absolute times; the load average is printed before and after all the same.

    python benchmarks/profile_estimator.py [--models cnn resnet] [--calls 5]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from _timing import load_average  # noqa: E402
from bench_estimators import K, make_problem  # noqa: E402

from mixtheory.estimators import estimate_from_geometry  # noqa: E402

TOTAL = "estimators/core.py:estimate_from_geometry"
ACTIVATIONS = ("elementwise_jet", "elementwise_derivatives", "smooth_jet")


def _cumulative(stats: pstats.Stats, key: str) -> float:
    suffix, name = key.split(":")
    return sum(
        row[3] for (path, _, func), row in stats.stats.items() if path.endswith(suffix) and func == name
    )


def profile(kind: str, calls: int, quick: bool = False) -> dict[str, float]:
    """Shares of one default call on a benchmark problem (cumulative times of the library functions
    that do each kind of work, over the whole call's)."""
    model, geometry, idx = make_problem(kind, quick)

    def call():
        return estimate_from_geometry(
            model, geometry, indices=idx, num_probes=K, generator=torch.Generator().manual_seed(1)
        )

    call()
    call()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        call()
    prof.disable()
    stats = pstats.Stats(prof)
    total = _cumulative(stats, TOTAL)
    pooling = _cumulative(stats, "_jet_layers.py:_pool_2x2")
    # every convolution (plain or with a batch norm folded in) and pooling of a stream goes
    # through map_streams; nn.Linear layers (a small share here) are counted under "other"
    linear = _cumulative(stats, "_jet_layers.py:map_streams") - pooling
    shares = {
        "probes": _cumulative(stats, "estimators/probes.py:draw_probe_batch") / total,
        "jet: convolutions": linear / total,
        "jet: pooling": pooling / total,
        "jet: activations": (
            _cumulative(stats, "_jet_layers.py:elementwise_jet")
            + _cumulative(stats, "_jet_layers.py:smooth_jet")
        )
        / total,
        "per-sample algebra": _cumulative(stats, "estimators/core.py:_chunk_estimates") / total,
    }
    graph = sum(
        row[2] for (path, _, func), row in stats.stats.items() if path.endswith("_jet_graph.py")
    )  # own time of the fx interpreter's functions
    shares["jet: graph interpretation"] = graph / total
    shares["other"] = max(0.0, 1.0 - sum(shares.values()))
    return shares


def main(argv=None) -> dict[str, dict[str, float]]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["cnn", "resnet"], choices=["cnn", "resnet"])
    ap.add_argument("--calls", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="the benchmark's small sizes (a smoke run)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    print(f"load average before: {load_average():.2f}; {K} probes per sample, default route, 1 thread")
    result = {}
    for kind in args.models:
        shares = result[kind] = profile(kind, args.calls, args.quick)
        print(f"\n{kind}: share of one estimate_from_geometry call")
        for name, share in shares.items():
            print(f"  {name:28}{100 * share:5.1f} %")
    print(f"\nload average after: {load_average():.2f}")
    return result


if __name__ == "__main__":
    main()
