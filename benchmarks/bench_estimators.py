r"""Benchmark of the network estimators against competent baselines at equal probes.

Every route evaluates the same K probes per sample on the same model and samples; routes are timed
in paired, interleaved, rotated rounds after a warm-up (``_timing.paired_rounds``), and every cost
is reported as the median [min–max] over rounds of time(route) / time(the unit, timed in the same
round): "forward units per probe". The unit is the faster of two warm forward passes over the same
m·K inputs, all at once or in the library's pass size (below). Routes:

- ``forward``: ``model(x)`` over the m·K inputs at once, without a graph;
- ``forward in passes``: the same in passes of the library's automatic size;
- ``taylor kernel``: :func:`~mixtheory.estimators.second_order_jet` on pre-drawn probes alone;
- ``taylor collapsed g=8``: the same with the second-order stream summed in 8 groups (R2 only);
- ``library default``: :func:`~mixtheory.estimators.estimate_from_geometry` end to end with its
  defaults (drawing probes, R13, R2, R3 with standard errors): collapsed Taylor mode in 8 groups,
  R13 from the probes' first-order stream, automatic pass size;
- ``library uncollapsed``: the same with ``method="taylor"`` (one second-order row per probe);
- ``library r1=exact``: the default with R13 exact by c vector-Jacobian products;
- ``competent double-backward loop``: the minimal competent baseline: per probe a forward pass, a
  ``create_graph`` backward and one double backward, batched over the samples (vᵀ∇²g v only);
- ``double-backward loop``: PyHessian-style reverse-over-reverse, one forward and one
  ``create_graph`` backward, then one ``autograd.grad`` per probe on the graph of ∇g;
- ``vmap(jvp(grad))``: forward-over-reverse HVPs vmapped over the probes (vᵀ∇²g v only);
- ``exact factor columns``: the library with the 1 + r columns of the factor (zero variance), on
  a smaller geometry, per column.

Speed ratios of the library against each baseline are per-round ratios. Peak memory per route is
the growth of peak RSS in a fresh process (``_timing.peak_memory_mib``). Run with 1 and 2 threads.

Honest numbers: the load average is recorded before and after every measurement and a run above
load 1.5 (plus its own extra threads) is refused (``_timing.LoadGuard``); ``--allow-load`` runs
anyway and marks the record not reportable. Results go to ``benchmarks/results/bench_estimators.json``
(reportable runs) or ``bench_estimators.smoke.json``; ``benchmarks/readme_speed.py`` writes the
README's speed section from the JSON.

Why the faster of the two: on a CPU a pass over all m·K inputs at once allocates buffers of tens of
MB that the allocator returns to the system and page-faults back on every call, so it can cost twice
as much per input as passes of a few MB (the library's automatic pass size). Dividing by the slow
pass would flatter every route; the unit is the best forward pass a competent user would run.
Two models: the CIFAR-shaped GELU CNN (``nn.Sequential``) and a smooth
residual CNN (ResNet-18 layout, width 8, GELU), which Taylor mode reaches through ``torch.fx``.

    python benchmarks/bench_estimators.py [--quick] [--no-memory] [--allow-load] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from _timing import LoadGuard, fmt_ratio, paired_rounds, peak_memory_mib, ratio  # noqa: E402

from mixtheory import MixupGeometry, SymmetricBeta  # noqa: E402
from mixtheory._io import write_json  # noqa: E402
from mixtheory._memory import activation_elements, auto_pass_inputs  # noqa: E402
from mixtheory.estimators import EstimatorOptions, estimate_from_geometry, second_order_jet  # noqa: E402
from mixtheory.estimators.probes import draw_probe_batch, probe_seeds  # noqa: E402
from mixtheory.models import build_model  # noqa: E402
from mixtheory.resnet import smooth_resnet18  # noqa: E402

K = EstimatorOptions().num_probes  # the default route's probes; --probes changes it for every route
SIZES = {"cnn": dict(n=512, m=32), "resnet": dict(n=256, m=16)}


def make_problem(kind: str, quick: bool = False):
    """(model, geometry, indices) for a named benchmark problem, float32 network."""
    size = SIZES[kind]
    n, m = (128, 8) if quick else (size["n"], size["m"])
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(n, 3, 32, 32, generator=gen)
    Y = torch.randint(10, (n,), generator=gen)
    if kind == "cnn":
        model = build_model("cnn", (3, 32, 32), 10, "gelu", channels=(16, 32), hidden=(64,), seed=0)
    else:
        model = smooth_resnet18(10, (3, 32, 32), "gelu", width=8, seed=0)
    return model, MixupGeometry(X, Y, SymmetricBeta(1.0)), torch.arange(m)


def make_routes(kind: str, quick: bool = False) -> dict:
    """Every timed route of one problem as a zero-argument callable."""
    model, geo, idx = make_problem(kind, quick)
    m = idx.numel()
    seeds = probe_seeds(torch.Generator().manual_seed(1), idx)
    probes = draw_probe_batch(geo, "gaussian", K, idx, seeds, torch.float32).vectors  # (m, K, d)
    xt = geo.x_tilde[idx].float()
    x_img = geo.as_inputs(xt)
    tangent = geo.as_inputs(probes.transpose(0, 1).contiguous())  # (K, m, *shape)
    x_rep = x_img.repeat(K, *([1] * (x_img.ndim - 1)))
    with torch.no_grad():
        w = torch.softmax(model(x_img), -1) - geo.y_tilde[idx].float()

    passes = auto_pass_inputs(activation_elements(model, x_img[:1], largest=True), 4)

    def forward():
        with torch.no_grad():
            return model(x_rep)

    def forward_in_passes():
        with torch.no_grad():
            return [model(x_rep[i : i + passes]) for i in range(0, x_rep.shape[0], passes)]

    def kernel(groups=None):
        with torch.no_grad():
            return second_order_jet(model, x_img, tangent, groups=groups)

    def library(**settings):
        return estimate_from_geometry(
            model, geo, indices=idx, num_probes=K, generator=torch.Generator().manual_seed(1), **settings
        )

    def competent_loop():
        values = []
        for v in tangent:  # per probe: forward, create_graph backward, one double backward
            x = x_img.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad((model(x) * w).sum(), x, create_graph=True)
            (hv,) = torch.autograd.grad(grad, x, v)
            values.append((hv * v).flatten(1).sum(1))
        return torch.stack(values)

    def double_backward():
        x = x_img.detach().requires_grad_(True)
        out = model(x)
        (grad,) = torch.autograd.grad((out * w).sum(), x, create_graph=True)
        values = []
        for v in tangent:  # one reverse-over-reverse product per probe, as PyHessian does
            (hv,) = torch.autograd.grad(grad, x, v, retain_graph=True)
            values.append((hv * v).flatten(1).sum(1))
        return torch.stack(values)

    def g(x):
        return (model(x) * w).sum()

    grad_g = torch.func.grad(g)

    def vmap_jvp_grad():
        def quad(v):
            return (torch.func.jvp(grad_g, (x_img,), (v,))[1] * v).flatten(1).sum(1)

        return torch.vmap(quad)(tangent)

    routes = {
        "forward": forward,
        "forward in passes": forward_in_passes,
        "taylor kernel": kernel,
        "taylor collapsed g=8": lambda: kernel(8),
        "library default": library,
        "library uncollapsed": lambda: library(method="taylor"),
        "library r1=exact": lambda: library(r1="exact"),
        "competent double-backward loop": competent_loop,
        "double-backward loop": double_backward,
        "vmap(jvp(grad))": vmap_jvp_grad,
    }
    return routes, dict(m=m, n=geo.n, d=geo.d, rank=geo.rank)


def make_exact_routes(kind: str, quick: bool = False) -> dict:
    """The exact factor-column route on a small geometry (1 + r columns per sample) and its unit."""
    model, _, _ = make_problem(kind, quick)
    gen = torch.Generator().manual_seed(0)
    n, m = 64, 2
    X = torch.rand(n, 3, 32, 32, generator=gen)
    geo = MixupGeometry(X, torch.randint(10, (n,), generator=gen), SymmetricBeta(1.0))
    idx = torch.arange(m)
    x_rep = geo.as_inputs(geo.x_tilde[idx].float()).repeat(1 + geo.rank, 1, 1, 1)

    def forward():
        with torch.no_grad():
            return model(x_rep)

    def exact():
        return estimate_from_geometry(model, geo, indices=idx, probes="exact")

    return {"forward": forward, "exact factor columns": exact}


# module-level factories for the memory probes (spawned processes: the probe count travels along)
def _memory_factory(kind: str, route: str, probes: int):
    _set_probes(probes)
    return make_routes(kind, quick=False)[0][route]


class _Factory:
    def __init__(self, kind: str, route: str, probes: int) -> None:
        self.kind, self.route, self.probes = kind, route, probes

    def __call__(self):
        return _memory_factory(self.kind, self.route, self.probes)


BASELINES = ("competent double-backward loop", "double-backward loop", "vmap(jvp(grad))")
LIBRARY = ("library default", "library uncollapsed", "library r1=exact")
ROUTES = (
    "forward",
    "forward in passes",
    "taylor kernel",
    "taylor collapsed g=8",
    *LIBRARY,
    *BASELINES,
)
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def measure(kind: str, threads: int, rounds: int, quick: bool) -> dict:
    torch.set_num_threads(threads)
    routes, info = make_routes(kind, quick)
    times = paired_rounds(routes, rounds=rounds)
    times["unit"] = [min(a, b) for a, b in zip(times["forward"], times["forward in passes"])]
    units = {name: ratio(times, name, "unit") for name in routes}
    speedups = {f"{lib} vs {base}": ratio(times, base, lib) for lib in LIBRARY for base in BASELINES}
    speedups["library default over taylor kernel"] = ratio(times, "library default", "taylor kernel")
    exact_routes = make_exact_routes(kind, quick)
    exact_times = paired_rounds(exact_routes, rounds=max(3, rounds // 2))
    units["exact factor columns"] = ratio(exact_times, "exact factor columns", "forward")
    forward_ms = 1e3 * statistics.median(times["unit"])
    return dict(kind=kind, threads=threads, info=info, units=units, speedups=speedups, forward_ms=forward_ms)


def summary_table(results: list[dict], memory: dict[str, float]) -> str:
    """README-ready Markdown: forward units per probe, median [min–max], per model and thread count,
    and peak memory growth (MiB, 1 thread) where measured."""
    columns = [(res["kind"], res["threads"]) for res in results]
    names = list(results[0]["units"])
    header = ["route"] + [f"{kind}, {threads} thr" for kind, threads in columns]
    kinds = sorted({kind for kind, _ in columns}, key=[k for k, _ in columns].index)
    if memory:
        header += [f"{kind} MiB" for kind in kinds]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in names:
        cells = [name] + [fmt_ratio(res["units"][name], "") for res in results]
        if memory:
            keys = [f"{kind}: {name}" for kind in kinds]
            cells += [f"{memory[key]:.0f}" if key in memory else "–" for key in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return "forward units per probe (median [min–max] over paired rounds):\n" + "\n".join(lines)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few rounds (not reportable)")
    ap.add_argument("--no-memory", action="store_true", help="skip the per-route memory processes")
    ap.add_argument("--rounds", type=int, default=None, help="paired rounds (default 7; 3 with --quick)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default 1 2)")
    ap.add_argument("--models", nargs="+", default=["cnn", "resnet"], choices=["cnn", "resnet"])
    ap.add_argument("--allow-load", action="store_true", help="run above load 1.5 (marked not reportable)")
    ap.add_argument(
        "--probes", type=int, default=K, help=f"probes per sample, every route (default {K}, the library's)"
    )
    ap.add_argument(
        "--out", default=None, help="results JSON (default benchmarks/results/bench_estimators.json)"
    )
    args = ap.parse_args(argv)
    _set_probes(args.probes)
    rounds = args.rounds or (3 if args.quick else 7)
    guard = LoadGuard(allow=args.allow_load)
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"torch {torch.__version__}, "
        + (torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU")
    )
    print(f"machine: {machine}; float32; {K} Gaussian probes per sample; {rounds} paired rounds")
    results = []
    for kind in args.models:
        for threads in args.threads:
            label = f"{kind}, {threads} thread(s)"
            before = guard.before(label)
            res = measure(kind, threads, rounds, args.quick)
            guard.after(label, before, threads)
            results.append(res)
            _print_result(res)
    memory = {}
    if not args.no_memory:
        print("\npeak memory growth per route, fresh process each, 1 thread (MiB):")
        for kind in args.models:
            for route in ROUTES:
                memory[f"{kind}: {route}"] = peak_memory_mib(_Factory(kind, route, K), threads=1)
                print(f"  {kind:7}{route:32}{memory[f'{kind}: {route}']:8.0f}")
    print("\n" + summary_table(results, memory))
    load = guard.record()
    reportable = load["reportable"] and not args.quick
    record = dict(
        machine=machine,
        probes=K,
        rounds=rounds,
        results=results,
        memory_mib=memory,
        quick=args.quick,
        load=load,
        reportable=reportable,
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    )
    name = "bench_estimators.json" if reportable else "bench_estimators.smoke.json"
    path = write_json(args.out or os.path.join(RESULTS, name), record)
    print(
        f"\nwrote {path}"
        + (
            ""
            if reportable
            else " (NOT REPORTABLE: "
            + "; ".join(load["not_reportable_because"] + (["--quick"] if args.quick else []))
            + ")"
        )
    )
    return record


def _set_probes(k: int) -> None:
    """Every route at ``k`` probes per sample (equal probes); the library's default is kept for
    ``collapse_groups``, so ``k`` must be a multiple of it."""
    global K
    groups = EstimatorOptions().collapse_groups
    if k < 2 or k % groups:
        raise SystemExit(f"--probes must be a multiple of the default collapse_groups ({groups}), got {k}")
    K = k


def _print_result(res: dict) -> None:
    info = res["info"]
    print(
        f"\n{res['kind']}: n = {info['n']}, d = {info['d']}, rank = {info['rank']}, "
        f"{info['m']} samples × {K} probes, {res['threads']} thread(s); "
        f"forward over {info['m'] * K} inputs: {res['forward_ms']:.0f} ms"
    )
    print(f"  {'route':32}forward units per probe, median [min–max] over rounds")
    for name, stats in res["units"].items():
        print(f"  {name:32}{fmt_ratio(stats, '')}")
    print("  speed ratios (baseline time / library time, per round):")
    for name, stats in res["speedups"].items():
        print(f"    {name:60}{fmt_ratio(stats)}")


if __name__ == "__main__":
    main()
