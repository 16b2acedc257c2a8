r"""Benchmark of the network estimators (issue 4 §3): CIFAR-shaped input, small smooth CNN.

Measured side by side in one run, on the same model, samples and probes:

- cost per probe of each derivative method (Taylor mode, jvp-of-jvp, forward-over-reverse HVP,
  reverse-over-reverse "double backward" HVP as in PyHessian/BackPACK, Hutch++), divided by
  the cost of one forward pass over the same number of inputs;
- the dense route (torch.func Jacobian + full d×d input Hessian of g = wᵀf), per sample;
- peak memory of each (CPU: resident-set high-water mark, reset before each method through
  /proc/self/clear_refs; GPU: torch.cuda.max_memory_allocated);
- accuracy at equal wall-clock: relative error of R2 (against exact factor-column probes) for
  each probe type with the probe count the same time buys.

A ResNet-18-sized network runs only when a GPU is present. Prints a table and one JSON line.

    python benchmarks/bench_estimators.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time

import torch

from mixtheory import MixupGeometry, SymmetricBeta
from mixtheory.estimators import estimate_from_geometry
from mixtheory.models import build_model


def _reset_peak() -> float:
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
        return 0.0
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return _rss("VmRSS")


def _rss(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return float(line.split()[1]) / 1024  # MiB
    return float("nan")


def _peak_since(base: float) -> float:
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return _rss("VmHWM") - base


def timed(fn, reps: int) -> tuple[float, float, object]:
    """Best wall-clock of ``reps`` runs (the machine is shared: min is the honest figure)."""
    best, peak, out = math.inf, 0.0, fn()  # warm-up: first calls pay for allocation and dispatch
    for _ in range(reps):
        base = _reset_peak()
        t = time.perf_counter()
        out = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
        peak = max(peak, _peak_since(base))
    return best, peak, out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    args = ap.parse_args(argv)
    quick = args.quick
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    n, m, K, reps = (128, 8, 16, 1) if quick else (512, 32, 16, 3)
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(n, 3, 32, 32, generator=gen)
    Y = torch.randint(10, (n,), generator=gen)
    model = build_model("cnn", (3, 32, 32), 10, "gelu", channels=(16, 32), hidden=(64,),
                        seed=0).to(device)
    law = SymmetricBeta(1.0)
    t = time.perf_counter()
    geo = MixupGeometry(X, Y, law, device=device)
    t_geometry = time.perf_counter() - t
    idx = torch.arange(m)
    rows: list[dict] = []

    # one forward pass over m·K inputs (the unit of cost)
    xin = geo.as_inputs(geo.x_tilde[idx].float()).repeat(K, 1, 1, 1)
    with torch.no_grad():
        t_fwd, _, _ = timed(lambda: model(xin), reps + 2)

    def run(method, probes="gaussian", k=K, r1="probes", sub=idx):
        return estimate_from_geometry(model, geo, indices=sub, probes=probes, num_probes=k,
                                      method=method, r1=r1, batch_size=512,
                                      generator=torch.Generator().manual_seed(1))

    for method in ("taylor", "jvp", "hvp", "double-backward", "hutch++"):
        sec, peak, _ = timed(lambda method=method: run(method), reps)
        rows.append({"route": method, "probes": K, "seconds": sec, "per_sample_ms": 1e3 * sec / m,
                     "per_probe_over_forward": sec / t_fwd, "peak_mib": peak})
    sec, peak, _ = timed(lambda: run("taylor", r1="exact"), reps)
    rows.append({"route": "taylor + exact R1", "probes": K, "seconds": sec,
                 "per_sample_ms": 1e3 * sec / m, "per_probe_over_forward": sec / t_fwd,
                 "peak_mib": peak})

    # dense route: Jacobian (c×d) and the full d×d input Hessian of g = wᵀf, one sample at a time
    dense_samples = 1 if quick else 2
    f = lambda z: model(geo.as_inputs(z)[None])[0]  # noqa: E731

    def dense():
        out = []
        for i in range(dense_samples):
            x = geo.x_tilde[i].float()
            u = f(x).detach()
            w = (torch.softmax(u, -1) - geo.y_tilde[i].float()).detach()
            jac = torch.func.jacrev(f)(x)
            hess = torch.func.hessian(lambda z, w=w: (f(z) * w).sum())(x)  # (d, d)
            out.append(0.5 * geo.frobenius_xx(hess.double()[None], [i]))
            del jac
        return torch.cat(out)

    base = _reset_peak()
    start = time.perf_counter()
    r2_dense = dense().detach()
    sec, peak = time.perf_counter() - start, _peak_since(base)
    dense_per_sample = sec / dense_samples
    rows.append({"route": "dense (jacrev + hessian)", "probes": geo.d,
                 "seconds": sec, "per_sample_ms": 1e3 * dense_per_sample,
                 "per_probe_over_forward": float("nan"), "peak_mib": peak})

    # accuracy at equal wall-clock: reference from the exact factor columns (1 + rank probes)
    acc_samples = torch.arange(4 if quick else 8)
    ref = estimate_from_geometry(model, geo, indices=acc_samples, probes="exact", r1="exact",
                                 batch_size=1024)["R2"]
    dense_err = float(((r2_dense - ref[:dense_samples]).abs() / ref[:dense_samples].abs()).max())
    per_probe = {r["route"]: r["seconds"] / (m * K) for r in rows if r["probes"] == K}
    budget = 64 * per_probe["taylor"]  # the time 64 Taylor-mode probes take, per sample
    accuracy = []
    for probes, method in (("gaussian", "taylor"), ("rademacher", "taylor"), ("mixup", "taylor"),
                           ("gaussian", "hutch++"), ("rademacher", "hutch++")):
        k = max(3, int(budget / per_probe[method]))
        errs = []
        for seed in range(2 if quick else 4):
            est = estimate_from_geometry(model, geo, indices=acc_samples, probes=probes,
                                         num_probes=k, method=method, r1="exact",
                                         generator=torch.Generator().manual_seed(100 + seed))
            errs.append(float((est["R2"] - ref).norm() / ref.norm()))
        accuracy.append({"probes": probes, "method": method, "num_probes": k,
                         "relative_error_R2": sum(errs) / len(errs)})

    default = next(r for r in rows if r["route"] == "taylor")
    ratios = {
        "dense_over_default_per_sample": dense_per_sample / (default["seconds"] / m),
        "double_backward_over_default": next(
            r["seconds"] for r in rows if r["route"] == "double-backward") / default["seconds"],
        "jvp_over_default": next(r["seconds"] for r in rows if r["route"] == "jvp")
        / default["seconds"],
        "default_per_probe_over_forward": default["per_probe_over_forward"],
    }

    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
               f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
               + (torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"))
    print(f"machine: {machine}")
    print(f"CNN gelu 3×32×32 → 10, d = {geo.d}, n = {n}, rank = {geo.rank}, {m} samples × {K} "
          f"probes, float32; geometry built in {t_geometry:.2f} s; one forward over {m * K} "
          f"inputs: {1e3 * t_fwd:.1f} ms")
    print(f"{'route':26}{'s total':>10}{'ms/sample':>12}{'÷ forward':>11}{'peak MiB':>10}")
    for r in rows:
        print(f"{r['route']:26}{r['seconds']:>10.3f}{r['per_sample_ms']:>12.1f}"
              f"{r['per_probe_over_forward']:>11.2f}{r['peak_mib']:>10.0f}")
    print("ratios: " + ", ".join(f"{k} = {v:.1f}" for k, v in ratios.items()))
    print(f"dense route R2 vs exact-probe R2: max relative difference {dense_err:.1e}")
    print(f"accuracy at equal wall-clock (budget = 64 Taylor-mode probes per sample, "
          f"{len(acc_samples)} samples):")
    for a in accuracy:
        print(f"  {a['probes']:11}{a['method']:9} K = {a['num_probes']:5d}   "
              f"relative error of R2 {a['relative_error_R2']:.3f}")
    if not torch.cuda.is_available():
        print("ResNet-18-sized network: skipped (no GPU on this machine)")
    record = {"machine": machine, "d": geo.d, "n": n, "samples": m, "probes": K,
              "forward_seconds": t_fwd, "rows": rows, "ratios": ratios,
              "dense_vs_exact_probe_R2": dense_err, "accuracy": accuracy, "quick": quick}
    print(json.dumps(record))
    return record


if __name__ == "__main__":
    main()
