"""Units per probe and wall time of the default estimator on CIFAR-10-shaped data with a smooth
ResNet-18, on whatever GPU is present (CPU otherwise), and one line to paste into the README.

The problem: n = 50,000 CIFAR-10-shaped inputs (3 × 32 × 32, uniform noise: the cost does not
depend on the pixels), 10 classes, mixup with λ ~ Beta(1, 1), a smooth (GELU) ResNet-18 at full
width 64 in float32 and eval mode; :func:`~mixtheory.estimate_from_geometry` with its defaults
(32 Gaussian probes per sample, its default: R13, R2, R3 with standard errors, collapsed Taylor mode) over all
n samples. The forward unit is the time per image of a warm forward pass in batches of 1,024.

    python benchmarks/gpu_resnet18_cifar.py            # the full measurement (a GPU)
    python benchmarks/gpu_resnet18_cifar.py --smoke    # tiny sizes, CPU is fine (tested)

Writes ``benchmarks/results/gpu_resnet18_cifar.json`` (``--smoke``: ``….smoke.json``), from which
``benchmarks/readme_speed.py`` writes the README line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from mixtheory import MixupGeometry, SymmetricBeta  # noqa: E402
from mixtheory._io import write_json  # noqa: E402
from mixtheory.estimators import EstimatorOptions, estimate_from_geometry  # noqa: E402
from mixtheory.resnet import smooth_resnet18  # noqa: E402

RESULTS = os.path.join(ROOT, "benchmarks", "results")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def forward_seconds_per_image(
    model, X: torch.Tensor, batch: int, device: torch.device, repeats: int
) -> float:
    """Warm forward passes over ``repeats`` batches: seconds per image (median batch)."""
    x = X[:batch].to(device)
    times = []
    with torch.no_grad():
        model(x)
        for _ in range(repeats):
            _sync(device)
            start = time.perf_counter()
            model(x)
            _sync(device)
            times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2] / x.shape[0]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="n = 64, 8 samples, width 4 (for tests; CPU fine)")
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--probes", type=int, default=EstimatorOptions().num_probes)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    n, width, samples = (64, 4, 8) if args.smoke else (args.n, args.width, args.n)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU (no GPU)"
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(n, 3, 32, 32, generator=gen)
    Y = torch.randint(10, (n,), generator=gen)
    model = smooth_resnet18(10, (3, 32, 32), "gelu", width=width, seed=0).to(device)

    start = time.perf_counter()
    geo = MixupGeometry(X, Y, SymmetricBeta(1.0), device=device)
    _sync(device)
    geometry_seconds = time.perf_counter() - start
    per_image = forward_seconds_per_image(model, X, min(1024, n), device, repeats=3 if args.smoke else 10)

    idx = torch.arange(samples)
    estimate_from_geometry(
        model, geo, indices=idx[: min(samples, 64)], num_probes=args.probes, progress=False
    )
    _sync(device)
    start = time.perf_counter()
    est = estimate_from_geometry(
        model,
        geo,
        indices=idx,
        num_probes=args.probes,
        generator=torch.Generator().manual_seed(1),
        progress=False,
    )
    _sync(device)
    seconds = time.perf_counter() - start
    units = seconds / (samples * args.probes) / per_image
    line = (
        f"Smooth ResNet-18 (GELU, width {width}), CIFAR-10 shape, {samples:,} samples × {args.probes} probes "
        f"(R13, R2, R3 with standard errors, the default route) on {name}: **{seconds:.1f} s** "
        f"({units:.2f} forward units per probe; a forward pass {1 / per_image:,.0f} images/s; the "
        f"geometry of n = {n:,} in {geometry_seconds:.1f} s)."
    )
    print(line)
    record = dict(
        device=name,
        n=n,
        samples=samples,
        width=width,
        probes=args.probes,
        seconds=seconds,
        geometry_seconds=geometry_seconds,
        forward_images_per_second=1 / per_image,
        units_per_probe=units,
        method=est.method,
        r1=est.r1,
        smoke=args.smoke or device.type != "cuda",
        readme_line=line,
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        torch=torch.__version__,
    )
    default = "gpu_resnet18_cifar.json" if not record["smoke"] else "gpu_resnet18_cifar.smoke.json"
    print(f"wrote {write_json(args.out or os.path.join(RESULTS, default), record)}")
    return record


if __name__ == "__main__":
    main()
