r"""``mixtheory train``: train a small network with a mixing objective while recording regularizers.

    mixtheory train --data NAME|PATH --objective erm|mixup|regmixup|approx|mixupe|hard-pairing|
                    forgetting-partners [--alpha A] --epochs E --record r,el2n,... --out DIR [--resume]

Trains :func:`mixtheory.training.train` on a seeded train/test split of a bundled data set
(:func:`mixtheory.data.load_split`) and writes to ``DIR``: ``history.csv``, one CSV (and NPZ) per
recorder, ``model.pt`` (a state dict) with ``model.json`` (its builder), ``checkpoint.pt`` and
``provenance.json``. The saved model is read back by
``mixtheory estimate --model DIR/model.pt --arch ARCH``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._io import read_marker, write_json
from .._types import Tensor
from ..data import DATASETS, DataSplit, load_split
from ..models import ACTIVATIONS, ARCHITECTURES, build_model, parse_arch
from ..training import (
    CHECKPOINT,
    OBJECTIVES,
    RECORDERS,
    Objective,
    Recorder,
    RunNotes,
    TrainConfig,
    check_out_dir,
    objective_from_name,
    recorder_from_name,
    train,
)
from ..training.config import LR_SCHEDULES, OPTIMIZERS

EPILOG = """\
recorders (--record, comma list):
  r           per-sample erm, R1, R2, R3, R4, R13 and standard errors (Carratino et al., Theorem 3) on a
              fixed subset; read R13 = R1 + R3 (computed directly): R1 and R3 cancel on confident nets
  mixup-loss  sampled mixup loss of the subset, with its standard error
  el2n, grand data-valuation scores per sample (Paul et al., NeurIPS 2021)
  forgetting  forgetting events per sample and the class matrix (Toneva et al., ICLR 2019)
  accuracy    train/test accuracy and mean confidence

then, for example:
  mixtheory estimate --model DIR/model.pt --arch mlp-tanh --data digits --alpha 1
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _add_data_and_objective_options(p: argparse.ArgumentParser) -> None:
    """The data set and the training objective with its options."""
    names = [d for d in DATASETS if d not in ("cifar10", "npz")]
    p.add_argument(
        "--data",
        required=True,
        help=f"a bundled data set ({', '.join(names)}), a CIFAR-10 python-pickle directory, or an "
        ".npz file with arrays X and y",
    )
    p.add_argument(
        "--num-samples",
        type=_positive_int,
        default=None,
        help="use a seeded class-balanced subset of this many samples before the split (default all)",
    )
    p.add_argument(
        "--objective", choices=tuple(OBJECTIVES), default="mixup", help="training objective (default mixup)"
    )
    p.add_argument(
        "--alpha",
        type=_positive_float,
        default=None,
        help="λ ~ Beta(α, α) (default: 1, and 20 for regmixup; ignored by erm)",
    )
    p.add_argument(
        "--eta",
        type=float,
        default=None,
        help="regmixup: weight of the mixed loss (default 1); mixupe: weight of the first-order "
        "term (default 0.001)",
    )
    p.add_argument(
        "--pool-fraction",
        type=float,
        default=0.25,
        help="hard-pairing: share of the samples, highest EL2N first, that partners come from",
    )
    p.add_argument(
        "--refresh-every",
        type=_positive_int,
        default=1,
        help="hard-pairing: recompute the EL2N scores every k epochs (default 1)",
    )


def _add_optimization_options(p: argparse.ArgumentParser) -> None:
    """Epochs, minibatches, the optimizer and the learning-rate schedule."""
    p.add_argument(
        "--epochs", type=_positive_int, default=10, help="passes over the training set (default 10)"
    )
    p.add_argument("--batch-size", type=_positive_int, default=128, help="minibatch size (default 128)")
    p.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default="sgd",
        help="SGD with momentum, Adam or AdamW (default sgd)",
    )
    p.add_argument("--lr", type=_positive_float, default=0.05, help="learning rate (default 0.05)")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    p.add_argument("--nesterov", action="store_true", help="SGD with Nesterov momentum")
    p.add_argument("--weight-decay", type=float, default=5e-4, help="weight decay (default 5e-4)")
    p.add_argument(
        "--lr-schedule",
        choices=LR_SCHEDULES,
        default="cosine",
        help="learning-rate schedule over epochs (default cosine)",
    )


def _add_model_options(p: argparse.ArgumentParser) -> None:
    """The network builder and its widths."""
    p.add_argument(
        "--arch",
        default="mlp-tanh",
        help=f"network builder: {', '.join(ARCHITECTURES)}, optionally with an activation "
        f"({', '.join(ACTIVATIONS)}), e.g. cnn-gelu (default mlp-tanh)",
    )
    p.add_argument("--hidden", default="64,64", help="MLP hidden widths / CNN head width, comma list")
    p.add_argument("--channels", default="8,16", help="CNN conv widths, comma list")


def _add_recording_and_output_options(p: argparse.ArgumentParser) -> None:
    """Recorders, the output directory, resumption, device, seed and verbosity."""
    p.add_argument(
        "--record", default="", help=f"recorders, comma list of {', '.join(RECORDERS)} (default none)"
    )
    p.add_argument(
        "--record-samples",
        type=_positive_int,
        default=256,
        help="size of the fixed seeded subset the per-sample recorders use (default 256)",
    )
    p.add_argument(
        "--out", required=True, help="output directory (created; must not hold a run unless --resume)"
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--checkpoint-every", type=_positive_int, default=1, help="checkpoint every k epochs")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:0 or mps (default cpu)")
    p.add_argument("--seed", type=int, default=0, help="seeds the split, the model, data order and mixing")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "train",
        help="train a small network with a mixing objective, recording R1-R3/R13 and data-valuation scores",
        description=__doc__.split("\n\n")[0].split(": ", 1)[1],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_and_objective_options(p)
    _add_optimization_options(p)
    _add_model_options(p)
    _add_recording_and_output_options(p)
    p.set_defaults(func=run)
    return p


def _int_list(text: str, option: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"{option} must be a comma list of integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise ValueError(f"{option} must be a comma list of positive integers, got {text!r}")
    return values


FLAT_IMAGE_SETS = ("digits", "mnist")  # bundled images stored flat: --arch cnn reshapes them to 1×H×W


def _load(args: argparse.Namespace) -> DataSplit:
    path = Path(args.data)
    if args.data in DATASETS and args.data not in ("cifar10", "npz"):
        return load_split(args.data, num_samples=args.num_samples, seed=args.seed, dtype=_dtype())
    if path.is_dir():
        return load_split("cifar10", path=path, num_samples=args.num_samples, seed=args.seed, dtype=_dtype())
    if path.suffix == ".npz" and path.is_file():
        return load_split("npz", path=path, num_samples=args.num_samples, seed=args.seed, dtype=_dtype())
    raise ValueError(
        f"--data {args.data!r} is neither a bundled data set, a CIFAR-10 directory nor an .npz file"
    )


def _dtype() -> torch.dtype:
    return torch.float32


def _objective(args: argparse.Namespace) -> Objective:
    options = {}
    if args.objective in ("regmixup", "mixupe") and args.eta is not None:
        options["eta"] = args.eta
    if args.objective == "hard-pairing":
        options.update(pool_fraction=args.pool_fraction, refresh_every=args.refresh_every)
    return objective_from_name(args.objective, args.alpha, **options)


#: the options that change nothing that is computed (on the CPU): every other option of ``train``
#: changes the run, and ``--resume`` must be given the same value
NOT_RUN_OPTIONS = frozenset({"out", "resume", "checkpoint_every", "device", "quiet", "command", "func"})


def run_options(args: argparse.Namespace) -> dict[str, Any]:
    """Every option that changes the run (all but :data:`NOT_RUN_OPTIONS`), as given; ``--data`` as
    an absolute path when it is one."""
    options = {k: v for k, v in sorted(vars(args).items()) if k not in NOT_RUN_OPTIONS and not callable(v)}
    if options["data"] not in DATASETS and Path(options["data"]).exists():
        options["data"] = str(Path(options["data"]).resolve())
    return options


def check_resume_options(out: Path, args: argparse.Namespace) -> None:
    """Refuse ``--resume`` with options other than the run's (kept in its marker file), naming each
    difference. A run made by the Python API has no command-line options there; its checkpoint
    still refuses another model, data, recorders or setting."""
    saved = (read_marker(out) or {}).get("options")
    if not isinstance(saved, dict):
        return
    now = run_options(args)
    differ = [
        f"--{k.replace('_', '-')} {_show(saved.get(k))} (now {_show(now.get(k))})"
        for k in dict.fromkeys([*now, *saved])
        if saved.get(k) != now.get(k)
    ]
    if differ:
        raise ValueError(
            f"--resume: the run in --out {out} was made with " + ", ".join(differ) + "; resume with the "
            "run's options, or start a new run in another --out"
        )


def _show(value: Any) -> str:
    return "(not given)" if value is None or value == "" else repr(value)


def _setup(
    args: argparse.Namespace,
) -> tuple[Path, DataSplit, nn.Module, Objective, list[Recorder], tuple[Tensor, Tensor], dict[str, Any]]:
    """Everything checked before training: --out first (and the run's options when resuming), then
    the options, data and model. Nothing is created."""
    out = check_out_dir(args.out, args.resume, "--out")
    if args.resume:
        check_resume_options(out, args)
    arch, activation = parse_arch(args.arch)
    hidden, channels = _int_list(args.hidden, "--hidden"), _int_list(args.channels, "--channels")
    names = [n.strip() for n in args.record.split(",") if n.strip()]
    recorders = [recorder_from_name(n, seed=args.seed, num_samples=args.record_samples) for n in names]
    objective = _objective(args)
    split = _load(args)
    shape = split.input_shape
    X_train, X_test = split.X_train, split.X_test
    if arch == "cnn" and len(shape) == 1:
        side = math.isqrt(shape[0])
        if args.data not in FLAT_IMAGE_SETS or side * side != shape[0]:
            raise ValueError(
                f"--arch cnn needs images; --data {args.data} holds flat vectors of {shape[0]} features, "
                "not pixels (use --arch mlp, or store X as (n, C, H, W) in an .npz)"
            )
        shape = (1, side, side)
        X_train, X_test = X_train.reshape(-1, *shape), X_test.reshape(-1, *shape)
    model = build_model(
        arch, shape, split.num_classes, activation or "tanh", hidden=hidden, channels=channels, seed=args.seed
    )
    spec = {
        "arch": f"{arch}-{activation or 'tanh'}",
        "hidden": list(hidden),
        "channels": list(channels),
        "input_shape": list(shape),
        "num_classes": split.num_classes,
    }
    return out, split, model, objective, recorders, (X_train, X_test), spec


def interrupted(args: argparse.Namespace) -> str:
    """The line ``mixtheory train`` prints on Ctrl-C: how to resume, or that nothing was saved."""
    out = Path(args.out)
    if (out / CHECKPOINT).is_file():
        return f"interrupted; the last checkpoint is in {out}: resume with the same command and --resume"
    return f"interrupted before the first checkpoint; nothing was saved in {out}"


def _config(args: argparse.Namespace, num_classes: int) -> TrainConfig:
    """The training settings the options give (a ValueError names a bad one)."""
    return TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        lr=args.lr,
        momentum=args.momentum,
        nesterov=args.nesterov,
        weight_decay=args.weight_decay,
        lr_schedule=args.lr_schedule,
        checkpoint_every=args.checkpoint_every,
        seed=args.seed,
        device=args.device,
        num_classes=num_classes,
        progress=False if args.quiet else None,
    )


def run(args: argparse.Namespace) -> int:
    try:
        out, split, model, objective, recorders, (X_train, X_test), spec = _setup(args)
        config = _config(args, split.num_classes)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"mixtheory train: error: {exc}", file=sys.stderr)
        return 2
    result = train(
        model,
        X_train,
        split.y_train,
        objective,
        config,
        recorders=recorders,
        test=(X_test, split.y_test),
        out=out,
        resume=args.resume,
        notes=RunNotes(
            data=split.description, marker={"command": "train", "options": run_options(args), "model": spec}
        ),
    )
    write_json(out / "model.json", spec)
    if not args.quiet:
        last = result.history[-1] if result.history else {}
        print(f"trained {args.objective} for {args.epochs} epochs on {split.description}")
        print(f"final loss {last.get('loss', float('nan')):.4f}; files in {out}")
        print(
            f"next: mixtheory estimate --model {out / 'model.pt'} --arch {spec['arch']} "
            f"--hidden {args.hidden} --channels {args.channels} --data {args.data} --alpha {args.alpha or 1}"
        )
    return 0
