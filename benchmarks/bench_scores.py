"""GraNd: torch.func per-sample gradients against a per-sample backward loop, measured side by side.

GraNd (Paul et al., NeurIPS 2021) needs ‖∇_w ℓ(f_w(x_i), y_i)‖₂ for every sample i. The competent
alternative to :func:`mixtheory.scores.grand` (``vmap(grad(...))`` over ``functional_call``, in
chunks) is a plain loop: one forward pass and one ``torch.autograd.grad`` per sample, the norms
summed over the parameter tensors, nothing else in the loop. Both routes run on the same float32
CNN (:func:`mixtheory.models.build_model`, ``"cnn"``, default widths) and the same 512 inputs of
shape 1×28×28, in paired, interleaved, rotated rounds after a warm-up (``benchmarks/_timing.py``);
a batched forward pass of the 512 inputs is timed warm in the same rounds as a unit of cost. The
script prints median [min–max] of the per-round ratios, for 1 and 2 threads, and checks the two
routes agree.

Run: ``python benchmarks/bench_scores.py [--n 512] [--rounds 7] [--shape 1 28 28]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fmt_ratio, paired_rounds, ratio  # noqa: E402

from mixtheory.models import build_model  # noqa: E402
from mixtheory.scores import grand  # noqa: E402


def per_sample_loop(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """One forward and one autograd.grad per sample (the brute-force route)."""
    params = [p for p in model.parameters() if p.requires_grad]
    norms = torch.empty(X.shape[0], dtype=X.dtype)
    for i in range(X.shape[0]):
        loss = torch.nn.functional.cross_entropy(model(X[i : i + 1]), y[i : i + 1])
        grads = torch.autograd.grad(loss, params)
        norms[i] = torch.sqrt(sum(g.pow(2).sum() for g in grads))
    return norms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--shape", type=int, nargs=3, default=(1, 28, 28))
    parser.add_argument("--threads", type=int, nargs="+", default=(1, 2))
    args = parser.parse_args()
    g = torch.Generator().manual_seed(0)
    shape = tuple(args.shape)
    X = torch.randn(args.n, *shape, generator=g)
    y = torch.randint(10, (args.n,), generator=g)
    model = build_model("cnn", shape, 10, "gelu", seed=0)
    num_params = sum(p.numel() for p in model.parameters())
    print(
        f"GraNd, n = {args.n} inputs {'×'.join(map(str, shape))}, float32 CNN (gelu, channels 8, 16; "
        f"{num_params} parameters), {args.rounds} paired rounds, torch {torch.__version__}"
    )
    reference = per_sample_loop(model, X, y)
    for chunk in (64, args.n):
        error = float(((grand(model, X, y, chunk_size=chunk) - reference).abs() / reference).max())
        print(f"  chunk_size={chunk}: largest relative difference to the loop {error:.2e}")

    @torch.no_grad()
    def forward() -> None:
        model(X)

    for threads in args.threads:
        torch.set_num_threads(threads)
        routes = {
            "forward": forward,
            "loop": lambda: per_sample_loop(model, X, y),
            "func64": lambda: grand(model, X, y, chunk_size=64),
            "func_all": lambda: grand(model, X, y, chunk_size=args.n),
        }
        times = paired_rounds(routes, rounds=args.rounds)
        print(f"{threads} thread(s):")
        for name, label in (("func64", "chunk_size=64"), ("func_all", f"chunk_size={args.n}")):
            print(
                f"  speed-up loop / torch.func ({label}): {fmt_ratio(ratio(times, 'loop', name))};"
                f"  torch.func / forward pass: {fmt_ratio(ratio(times, name, 'forward'))}"
            )
        print(f"  loop / forward pass: {fmt_ratio(ratio(times, 'loop', 'forward'))}")


if __name__ == "__main__":
    main()
