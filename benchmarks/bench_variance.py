r"""R2's error at equal wall-clock: plain Hutchinson (Rademacher probes) against spectral probes.

Spectral probes (``probes="spectral"``, :func:`mixtheory.estimators.probes.draw_spectral_batches`)
evaluate the rank-one direction σ a_i and the top-k eigen-directions of Σ_xx exactly and spend the
remaining probes on the tail of the spectrum; for images, whose Σ_xx spectrum decays fast, almost
all of ‖Lᵀ∇²g L‖_F sits in the exact block. Protocol, per data set:

1. a GELU network trained briefly (``mixtheory.models.train_model``), float64;
2. the exact R2 of m samples from the 1 + r factor columns (``probes="exact"``);
3. the spectral estimator with k exact directions and K_tail tail probes, and plain Rademacher
   Hutchinson with K probes, both ``method="taylor"``, ``r1="probes"``, timed in paired interleaved
   rounds (``_timing.paired_rounds``); K is set to (1 + k + K_tail) × the measured time ratio
   (rounded up: plain Hutchinson never gets less time), and the pair is timed again to report the
   final ratio time(spectral) / time(plain);
4. the relative error over samples, ‖R̂2 − R2‖₂ / ‖R2‖₂ (all m samples, several probe seeds), and
   the median per-sample |R̂2 − R2| / |R2|, for both; the goal is spectral ≤ ¼ of plain.

    python benchmarks/bench_variance.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(__file__))
from _timing import fmt_ratio, paired_rounds, ratio  # noqa: E402

from mixtheory import MixupGeometry, SymmetricBeta  # noqa: E402
from mixtheory.data import load_digits, load_mnist  # noqa: E402
from mixtheory.estimators import EstimatorOptions, estimate_from_geometry  # noqa: E402
from mixtheory.models import build_model, train_model  # noqa: E402

F64 = torch.float64
SETTINGS = {
    # data set: (samples in the geometry, evaluated samples m, exact directions k, tail probes)
    "digits": dict(n=1797, m=64, k=16, tail=16),
    "mnist": dict(n=1000, m=32, k=32, tail=16),
}


def make_problem(name: str, quick: bool):
    """(model, geometry, indices) for ``digits`` (GELU MLP on 8×8) or ``mnist`` (GELU CNN)."""
    size = SETTINGS[name]
    n, m = (400, 16) if quick else (size["n"], size["m"])
    if name == "digits":
        X, y = load_digits(n, seed=0, dtype=F64)
        model = build_model("mlp", 64, 10, "gelu", hidden=(64, 64), dtype=F64, seed=0)
    else:
        X, y = load_mnist(n, seed=0, dtype=F64)
        model = build_model("cnn", (1, 28, 28), 10, "gelu", channels=(8, 16), hidden=(32,), dtype=F64, seed=0)
    train_model(model, X, y, epochs=3 if quick else 15, lr=1e-2, batch_size=64, seed=0)
    model.eval()
    geometry = MixupGeometry(X, y, SymmetricBeta(1.0))
    return model, geometry, torch.arange(m) * (X.shape[0] // m)


def estimate(model, geometry, idx, seed: int, **settings) -> torch.Tensor:
    options = EstimatorOptions(method="taylor", r1="probes", chunk_size=4096, progress=False, **settings)
    gen = torch.Generator().manual_seed(seed)
    return estimate_from_geometry(model, geometry, indices=idx, generator=gen, options=options)["R2"]


def errors(estimates: list[torch.Tensor], exact: torch.Tensor) -> tuple[float, float]:
    """Relative error over samples ‖R̂2 − R2‖₂/‖R2‖₂ (all seeds) and the median per-sample one."""
    diff = torch.stack(estimates) - exact
    overall = float(diff.norm() / (exact.norm() * math.sqrt(len(estimates))))
    per_sample = float((diff.abs() / exact.abs()).median())
    return overall, per_sample


def measure(name: str, quick: bool, rounds: int, seeds: int) -> dict:
    model, geometry, idx = make_problem(name, quick)
    size = SETTINGS[name]
    k, tail = size["k"], size["tail"]
    exact = estimate(model, geometry, idx, 0, probes="exact")
    spectral = dict(probes="spectral", exact_directions=k, num_probes=tail)
    per_sample = 1 + min(k, geometry.rank) + tail

    def timed(num_plain: int) -> dict[str, list[float]]:
        routes = {
            "plain": lambda: estimate(model, geometry, idx, 1, probes="rademacher", num_probes=num_plain),
            "spectral": lambda: estimate(model, geometry, idx, 1, **spectral),
        }
        return paired_rounds(routes, rounds=rounds)

    first = ratio(timed(per_sample), "spectral", "plain")[0]
    num_plain = max(1, math.ceil(per_sample * first))
    times = timed(num_plain)
    time_ratio = ratio(times, "spectral", "plain")
    plain = dict(probes="rademacher", num_probes=num_plain)
    plain_err = errors([estimate(model, geometry, idx, s, **plain) for s in range(seeds)], exact)
    spectral_err = errors([estimate(model, geometry, idx, s, **spectral) for s in range(seeds)], exact)
    s = geometry.eigvals
    return dict(
        name=name,
        n=geometry.n,
        d=geometry.d,
        rank=geometry.rank,
        m=idx.numel(),
        k=k,
        tail=tail,
        num_plain=num_plain,
        head_mass=float(s[:k].sum() / s.sum()),
        time_ratio=time_ratio,
        plain_ms=1e3 * statistics.median(times["plain"]),
        plain=plain_err,
        spectral=spectral_err,
    )


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    # R1 and R3 of saturated samples cancel; this benchmark reads R2 only
    warnings.filterwarnings("ignore", message="R1 and −R3 exceed")
    rounds, seeds = (3, 2) if args.quick else (5, 4)
    print(f"R2 at equal wall-clock, float64, {args.threads} thread(s), {rounds} paired rounds, {seeds} seeds")
    results = []
    for name in SETTINGS:
        res = measure(name, args.quick, rounds, seeds)
        results.append(res)
        reduction = res["plain"][0] / res["spectral"][0]
        print(
            f"\n{name}: n = {res['n']}, d = {res['d']}, rank = {res['rank']}, {res['m']} samples; "
            f"top-{res['k']} eigenvalues hold {100 * res['head_mass']:.1f}% of tr Σ_xx"
        )
        print(
            f"  spectral: 1 + {res['k']} exact + {res['tail']} tail probes; plain: {res['num_plain']} "
            f"Rademacher probes; time(spectral)/time(plain) = {fmt_ratio(res['time_ratio'])} "
            f"(plain {res['plain_ms']:.0f} ms)"
        )
        print(f"  {'estimator':10}{'‖error‖/‖R2‖':>16}{'median |error|/|R2|':>22}")
        for key in ("plain", "spectral"):
            print(f"  {key:10}{res[key][0]:16.4f}{res[key][1]:22.4f}")
        verdict = "met" if res["spectral"][0] <= 0.25 * res["plain"][0] else "NOT met"
        print(f"  error ratio plain/spectral = {reduction:.1f}× (goal ≥ 4×: {verdict})")
    return results


if __name__ == "__main__":
    main()
