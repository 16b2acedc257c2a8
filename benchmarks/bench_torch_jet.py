r"""This package's collapsed Taylor mode against torch-jet's on torch-jet's own benchmark.

torch-jet (``jet-for-pytorch`` on PyPI; F. Dangel, T. Siebert, M. Zeinhofer, A. Walther,
"Collapsing Taylor mode automatic differentiation", 2025) benchmarks the weighted Laplacian
``tr(S Sᵀ ∇²f(x)) = Σ_j s_jᵀ∇²f s_j`` (its ``exp01_benchmark_laplacian``, "weighted-laplacian") on a
tanh MLP 50 → 768 → 768 → 512 → 512 → 1 with the synthetic factor ``S = diag(√1, …, √rank)``
(``rank = rank_ratio · 50``, padded with zeros), one exact jet per column of S, its collapsed
strategy ``jet_simplified`` (graph captured, common subexpressions eliminated, vmapped over the
batch). This script reproduces that setting (batch and rank ratio are options; torch-jet's figure
uses batches up to 2048 and rank ratios 0.1, 0.5, 1.0), checks that both give the same numbers
(float64, 1e-10), and times them in paired, interleaved rounds (``_timing.paired_rounds``):

- ``torch-jet collapsed``: ``jet.laplacian(f, (x₀,), weighting=get_weighting(x₀, ("diagonal_increments",
  rank_ratio)))``, captured and simplified exactly as its benchmark does;
- ``mixtheory collapsed``: :func:`mixtheory.estimators.second_order_jet` with ``groups=1`` on the
  same rank directions ``S`` (the batch is a dimension of the jet, not a vmap).

The reported ratio is time(torch-jet) / time(mixtheory) per round, median [min–max] (> 1: this
package is faster). torch-jet is not a dependency (it needs Python ≥ 3.12): pass ``--jet-path`` to a
directory holding an importable copy of the ``jet`` package, or install it; without either the
script says why it cannot run and exits with status 2.

    python benchmarks/bench_torch_jet.py --jet-path /path/to/dir [--batch 256] [--rank-ratio 1.0]
"""

from __future__ import annotations

import argparse
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from _timing import fmt_ratio, paired_rounds, ratio  # noqa: E402

from mixtheory.estimators import second_order_jet  # noqa: E402

DIM = 50


def tanh_mlp(dim: int = DIM) -> nn.Sequential:
    """torch-jet's benchmark network ``tanh_mlp_768_768_512_512_1``."""
    widths = [dim, 768, 768, 512, 512]
    layers: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.Tanh()]
    return nn.Sequential(*layers, nn.Linear(512, 1))


def import_jet(path: str | None):
    """The torch-jet package, from ``path`` or the environment; None (with the reason) if absent."""
    if path is not None:
        if not os.path.isdir(os.path.join(path, "jet")):
            return None, f"--jet-path {path!r} holds no 'jet' package directory"
        sys.path.insert(0, path)
    try:
        import jet
        import jet.weighted_laplacian
    except ImportError as err:
        return None, f"torch-jet is not importable ({err})"
    except (SyntaxError, TypeError) as err:
        return None, (
            f"torch-jet does not import on Python {sys.version.split()[0]} ({type(err).__name__}: {err}); "
            "it requires Python >= 3.12 (a copy with the 3.12-only type alias in jet/utils.py rewritten "
            "imports on 3.11)"
        )
    return jet, None


def make_routes(jet, batch: int, rank_ratio: float, dtype: torch.dtype, seed: int = 0):
    torch.manual_seed(seed)
    model = tanh_mlp().to(dtype)
    X = torch.rand(batch, DIM, dtype=dtype)
    x0 = X[0]
    weighting = jet.weighted_laplacian.get_weighting(x0, ("diagonal_increments", rank_ratio))
    rank = weighting[1]
    lap = jet.laplacian(model, (x0,), weighting=weighting, collapsed=True)
    lap, _ = jet.capture_graph(lap, (x0,))
    jet.common_subexpression_elimination(lap.graph)
    lap.recompile()
    torch_jet = torch.vmap(lap)

    # the same columns: s_j = √j e_j, j = 1 … rank
    columns = torch.zeros(rank, DIM, dtype=dtype)
    columns[torch.arange(rank), torch.arange(rank)] = torch.arange(1, rank + 1, dtype=dtype).sqrt()
    tangent = columns[:, None, :].expand(rank, batch, DIM)

    def ours():
        with torch.no_grad():
            return second_order_jet(model, X, tangent, groups=1)[2][0]

    def theirs():
        with torch.no_grad():
            return torch_jet(X)

    return {"torch-jet collapsed": theirs, "mixtheory collapsed": ours}, rank


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jet-path", default=None, help="directory holding an importable copy of 'jet'")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--rank-ratio", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--float32", action="store_true")
    args = ap.parse_args(argv)
    jet, reason = import_jet(args.jet_path)
    if jet is None:
        print(f"cannot run: {reason}. Pass --jet-path DIR (DIR/jet importable) or install jet-for-pytorch.")
        return 2
    torch.set_num_threads(args.threads)
    dtype = torch.float32 if args.float32 else torch.float64
    routes, rank = make_routes(jet, args.batch, args.rank_ratio, dtype)
    a, b = routes["torch-jet collapsed"](), routes["mixtheory collapsed"]()
    agree = torch.allclose(a.reshape(-1), b.reshape(-1), rtol=1e-10 if dtype == torch.float64 else 1e-4)
    print(
        f"weighted Laplacian tr(S Sᵀ∇²f), tanh MLP {DIM}-768-768-512-512-1, batch {args.batch}, rank {rank} "
        f"(rank ratio {args.rank_ratio}), {dtype}, {args.threads} thread(s); values agree: {agree} "
        f"(max |diff| {float((a.reshape(-1) - b.reshape(-1)).abs().max()):.2e})"
    )
    times = paired_rounds(routes, rounds=args.rounds)
    for name in routes:
        med = sorted(times[name])[len(times[name]) // 2]
        print(f"  {name:22}{1e3 * med:9.1f} ms (median of {args.rounds} rounds)")
    stats = ratio(times, "torch-jet collapsed", "mixtheory collapsed")
    print(f"  time(torch-jet) / time(mixtheory), per round: {fmt_ratio(stats)} (goal ≥ 1: parity)")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
