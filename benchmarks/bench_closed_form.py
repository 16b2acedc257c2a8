"""Closed-form R13 (= R1 + R3), R3 and R1 for every sample: the structured geometry against the
best competent dense route, timed side by side.

All routes get the same inputs (seeded): data X (n, d), one-hot labels, and for every sample the
network outputs u_i (c,) and the input Jacobian ∇f_i (c, d); the model-dependent part is held
fixed so that only the geometry and the algebra are timed.

- ``structured`` (mixtheory): ``MixupGeometry`` (one thin SVD of the centred data) +
  ``regularizers_from_derivatives`` (Sherman–Morrison per sample in the r-dimensional range of
  Σ_xx; no d×d matrix at all);
- ``dense-shared`` (the competent dense alternative): Σ_xx and its pseudo-inverse formed ONCE
  (d×d, ``torch.linalg.eigh``), then Sherman–Morrison per sample in dense form and batched
  products over chunks of samples (∇f Σ_xx, Σ_xx⁺ a_i, Σ^(i)_xy);
- ``naive`` (a strawman, printed for scale only): per sample a dense Σ^(i) and its
  ``torch.linalg.pinv``, J^(i) explicitly (``mixtheory.reference``); timed on ``--naive-samples``
  samples and scaled to n.

Timing: every route is warmed up first, then ``--rounds`` interleaved rounds (the order rotates
each round); the ratio is the median [min–max] of the per-round ratios. Peak memory: each route
once more in its own spawned process. One thread and two (``--threads``).

Run: ``python benchmarks/bench_closed_form.py`` (n = 2000, d = 3072, c = 10) or ``--quick``.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fmt_ratio, paired_rounds, peak_memory_mib, ratio  # noqa: E402

from mixtheory import CrossEntropy, MixupGeometry, SymmetricBeta  # noqa: E402
from mixtheory.reference import dense_regularizers_from_derivatives  # noqa: E402
from mixtheory.regularizers import regularizers_from_derivatives  # noqa: E402

LAW = SymmetricBeta(0.5)


def make_inputs(n: int, d: int, c: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    y = torch.randint(c, (n,), generator=g)
    u = 3 * torch.randn(n, c, generator=g, dtype=torch.float64)
    jac = torch.randn(n, c, d, generator=g, dtype=torch.float64) / d**0.5
    return X, y, u, jac


def structured(X, y, u, jac, c: int) -> dict[str, torch.Tensor]:
    geo = MixupGeometry(X, y, LAW, num_classes=c)
    out = regularizers_from_derivatives(geo, u, jac, "ce", warn=False)
    return {k: out[k] for k in ("R13", "R3", "R1")}


def dense_shared(X, y, u, jac, c: int, chunk: int = 128) -> dict[str, torch.Tensor]:
    """Σ_xx⁺ once, Sherman–Morrison per sample, batched dense products (no per-sample pinv)."""
    n, d = X.shape
    var, gamma2 = LAW.theta_var, LAW.gamma2
    a = X - X.mean(0)
    Y = torch.nn.functional.one_hot(y, c).to(X.dtype)
    b = Y - Y.mean(0)
    cov_xx, cov_xy = a.T @ a / n, a.T @ b / n
    eigvals, eigvecs = torch.linalg.eigh(cov_xx)
    keep = eigvals > max(n, d) * torch.finfo(X.dtype).eps * eigvals.max()
    pinv = (eigvecs[:, keep] / eigvals[keep]) @ eigvecs[:, keep].T  # Σ_xx⁺, d×d, once
    pinv_xy = pinv @ cov_xy
    ce = CrossEntropy()
    y_tilde = Y.mean(0) + LAW.theta_mean * b
    parts: dict[str, list[torch.Tensor]] = {"R13": [], "R3": []}
    for start in range(0, n, chunk):
        sl = slice(start, start + chunk)
        ai, bi, J, ui = a[sl], b[sl], jac[sl], u[sl]
        w = ai @ pinv  # Σ_xx⁺ a_i
        q = (ai * w).sum(-1)
        sm = var / (gamma2 * (gamma2 + var * q))  # (γ²Σ + σ² a aᵀ)⁺ = Σ⁺/γ² − sm w wᵀ
        sigma_xy = var * ai[:, :, None] * bi[:, None, :] + gamma2 * cov_xy  # (m, d, c)
        solved = (
            (var * w[:, :, None] * bi[:, None, :]) / gamma2
            + pinv_xy
            - sm[:, None, None] * w[:, :, None] * (w[:, None, :] @ sigma_xy)
        )
        K = sigma_xy.transpose(1, 2) @ solved  # Σ_yx Σ⁺ Σ_xy, (m, c, c)
        H = ce.hess_uu(y_tilde[sl], ui)
        R3 = -0.5 * torch.diagonal(ce.inverse_uu_apply(y_tilde[sl], ui, K), dim1=-2, dim2=-1).sum(-1)
        J_sigma = var * (J @ ai[:, :, None]) * ai[:, None, :] + gamma2 * (J @ cov_xx)  # ∇f Σ^(i)
        quad = (J_sigma * (H @ J)).sum((-2, -1))
        cross = -torch.diagonal(J @ sigma_xy, dim1=-2, dim2=-1).sum(-1)  # ℓ_uy = −I
        parts["R13"].append(0.5 * quad + cross)
        parts["R3"].append(R3)
    out = {k: torch.cat(v) for k, v in parts.items()}
    out["R1"] = out["R13"] - out["R3"]
    return out


def naive(X, y, u, jac, c: int, samples: int) -> dict[str, torch.Tensor]:
    geo = MixupGeometry(X, y, LAW, num_classes=c)
    rows = [dense_regularizers_from_derivatives(geo, i, u[i], jac[i], None, "ce") for i in range(samples)]
    return {k: torch.stack([r[k] for r in rows]) for k in ("R13", "R3", "R1")}


def _memory_factory(route: str, n: int, d: int, c: int, seed: int):
    inputs = make_inputs(n, d, c, seed)
    fn = {"structured": structured, "dense-shared": dense_shared}[route]
    return functools.partial(fn, *inputs, c)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--d", type=int, default=3072)
    parser.add_argument("--c", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--naive-samples", type=int, default=2)
    parser.add_argument("--threads", default="1,2", help="comma list of thread counts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="n = 300, d = 512, 3 rounds")
    args = parser.parse_args()
    if args.quick:
        args.n, args.d, args.rounds = 300, 512, 3
    inputs = make_inputs(args.n, args.d, args.c, args.seed)
    print(
        f"R13, R3, R1 in closed form, n = {args.n}, d = {args.d}, c = {args.c}, float64, "
        f"{platform.processor() or platform.machine()}; median [min–max] of per-round ratios over "
        f"{args.rounds} interleaved rounds after a warm-up"
    )
    report = {"benchmark": "closed_form", "n": args.n, "d": args.d, "c": args.c, "threads": {}}
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        results = {"structured": structured(*inputs, args.c), "dense-shared": dense_shared(*inputs, args.c)}
        agree = max(
            float(
                (
                    (results["structured"][k] - results["dense-shared"][k]).abs()
                    / results["dense-shared"][k].abs()
                ).max()
            )
            for k in ("R13", "R3")
        )
        times = paired_rounds(
            {
                "structured": lambda: structured(*inputs, args.c),
                "dense-shared": lambda: dense_shared(*inputs, args.c),
                "naive": lambda: naive(*inputs, args.c, args.naive_samples),
            },
            rounds=args.rounds,
        )
        # the naive route ran on a few samples: scale its per-round time to n
        times["naive"] = [t * args.n / args.naive_samples for t in times["naive"]]
        competent = ratio(times, "dense-shared", "structured")
        strawman = ratio(times, "naive", "structured")
        print(f"\n{threads} thread(s)")
        for name, values in times.items():
            median = sorted(values)[len(values) // 2]
            scaled = " (scaled from a few samples)" if name == "naive" else ""
            print(f"  {name:<13} median {median:9.2f} s for all n{scaled}")
        print(f"  dense-shared / structured: {fmt_ratio(competent)}   (the competent alternative)")
        print(f"  naive / structured:        {fmt_ratio(strawman)}   (per-sample pinv; a strawman)")
        print(f"  max relative difference of R13, R3 between the routes: {agree:.1e}")
        report["threads"][threads] = {
            "dense_over_structured": competent,
            "naive_over_structured": strawman,
            "max_rel_diff": agree,
        }
    memory = {
        route: peak_memory_mib(functools.partial(_memory_factory, route, args.n, args.d, args.c, args.seed))
        for route in ("structured", "dense-shared")
    }
    print(
        "\npeak RSS growth, each route alone in a fresh process (1 thread): "
        + ", ".join(f"{k} {v:.0f} MiB" for k, v in memory.items())
    )
    report["peak_rss_growth_mib"] = memory
    print(json.dumps(report))


if __name__ == "__main__":
    main()
