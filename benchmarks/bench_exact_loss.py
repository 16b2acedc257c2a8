"""Exact mixup loss: cost per quadrature node against the chunk size, measured side by side.

The exact loss evaluates the model on all n² mixed pairs per node of the θ rule, in chunks of
anchors. This benchmark times one node (``PointMass``) at n = 2000, d = 64 with a tanh MLP for
several chunk sizes (numbers per mixed batch), prints seconds, the ratio to the default and the
whole-loss estimate for the default 96 nodes, and checks the values agree.

Run: ``python benchmarks/bench_exact_loss.py [--n 2000]``.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from mixtheory import PointMass, exact_mixup_loss
from mixtheory.exact_loss import LossOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--d", type=int, default=64)
    args = parser.parse_args()
    g = torch.Generator().manual_seed(0)
    X = torch.randn(args.n, args.d, generator=g, dtype=torch.float64)
    y = torch.randint(10, (args.n,), generator=g)
    torch.manual_seed(0)
    model = (
        torch.nn.Sequential(torch.nn.Linear(args.d, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10))
        .double()
        .eval()
    )
    law = PointMass(0.7)  # one quadrature node
    per_anchor = args.n * (args.d + 10)
    rows = []
    for numbers in (2e7, 2e6, 5e5, 1e5):
        chunk = max(1, int(numbers // per_anchor))
        start = time.perf_counter()
        value = exact_mixup_loss(
            model, X, y, law, options=LossOptions(chunk_size=chunk * args.n, progress=False)
        )  # anchors × n
        rows.append(
            {"numbers": numbers, "chunk_size": chunk, "seconds": time.perf_counter() - start, "value": value}
        )
    start = time.perf_counter()
    default_value = exact_mixup_loss(model, X, y, law, options=LossOptions(progress=False))
    default_s = time.perf_counter() - start
    print(
        f"exact mixup loss, one node, n = {args.n}, d = {args.d}, tanh MLP, {torch.get_num_threads()} threads"
    )
    print(f"{'numbers/batch':>14} {'chunk':>6} {'seconds':>8} {'÷ default':>9}")
    for r in rows:
        print(
            f"{r['numbers']:>14.0e} {r['chunk_size']:>6} {r['seconds']:>8.2f} "
            f"{r['seconds'] / default_s:>9.2f}"
        )
    print(f"{'default':>14} {'':>6} {default_s:>8.2f} {1.0:>9.2f}   (96 nodes ≈ {96 * default_s:.0f} s)")
    spread = max(abs(r["value"] - default_value) for r in rows) / abs(default_value)
    print(f"values agree to {spread:.1e}")
    affine_split_line(model, X, y, law)
    print(
        json.dumps(
            {"benchmark": "exact_loss_chunks", "n": args.n, "d": args.d, "default_s": default_s, "rows": rows}
        )
    )


def affine_split_line(model, X, y, law, repeats: int = 5) -> None:
    """Mixing after the first affine layer (nn.Sequential fast path) against the generic path
    (the same network behind a lambda): paired, interleaved, median [min–max] of the ratio."""
    import statistics

    generic = lambda x: model(x)  # noqa: E731  (not an nn.Sequential: mixes in input space)
    ratios, values = [], []
    for _ in range(repeats):
        times = {}
        for name, f in (("affine", model), ("generic", generic)):
            start = time.perf_counter()
            values.append(exact_mixup_loss(f, X, y, law, options=LossOptions(progress=False)))
            times[name] = time.perf_counter() - start
        ratios.append(times["generic"] / times["affine"])
    spread = max(abs(v - values[0]) for v in values) / abs(values[0])
    print(
        f"affine first layer: generic ÷ fast = {statistics.median(ratios):.2f} "
        f"[{min(ratios):.2f}–{max(ratios):.2f}] over {repeats} paired runs; values agree to {spread:.1e}"
    )


if __name__ == "__main__":
    main()
