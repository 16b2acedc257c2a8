r"""``mixtheory estimate``: per-sample mixup regularizers R1, R2, R3 and R13 = R1 + R3 of a saved network.

    mixtheory estimate --model PATH [--arch NAME] --data digits|PATH --alpha A
                       [--num-probes K] [--samples N] [--device cpu|cuda] [--out results.json]

The model is a TorchScript file, a state dict (or a checkpoint dict with a ``state_dict`` entry)
plus ``--arch`` naming a builder of :mod:`mixtheory.models` (``mlp``, ``cnn``, optionally with an
activation: ``cnn-gelu``), or, only with ``--trust-pickle``, a whole module saved by
``torch.save(model)``. Data: scikit-learn's bundled digits (no download; pixels scaled to [0, 1])
or an ``.npz`` with arrays ``X`` (n, ...) and ``y`` (n,) class indices or (n, c) label vectors.
Flat inputs are reshaped to (C, H, W) images when the model is a CNN.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path

import torch

from .. import CancellationWarning, PiecewiseLinearWarning, TrainModeWarning
from .._io import check_output_file, write_json
from .._validation import MissingClassWarning, model_dtype_device
from ..estimators import METHODS, PROBES, EstimatorOptions, RegularizerEstimates, estimate_regularizers
from ..laws import SymmetricBeta
from ..models import ACTIVATIONS, ARCHITECTURES
from ._estimate_inputs import CommandError, prepare

#: the warnings the command shows (once each); everything else, torch's TorchScript deprecation
#: notices included, is silenced
SHOWN_WARNINGS = (PiecewiseLinearWarning, CancellationWarning, TrainModeWarning, MissingClassWarning)

TERMS = ("erm", "R1", "R2", "R3", "R4", "R13")

#: train and save a model for ``--arch mlp-tanh`` (the README shows the same lines; a test runs them)
TRAINING_SNIPPET = """\
import torch
from mixtheory.data import load_digits
from mixtheory.models import build_model, train_model
X, y = load_digits()
model = build_model("mlp", 64, 10, "tanh")
train_model(model, X, y)
torch.save(model.state_dict(), "mlp.pt")
"""

EPILOG = (
    """\
getting a model:
  Train and save one with the library (Python), then name its builder with --arch:

"""
    + "".join(f"    {line}\n" for line in TRAINING_SNIPPET.splitlines())
    + """
    mixtheory estimate --model mlp.pt --arch mlp-tanh --data digits --alpha 1 --samples 100

  Your own network: save it as TorchScript (torch.jit.save(torch.jit.script(model), PATH)), or
  as a whole pickled module with torch.save(model, PATH) and pass --trust-pickle.

reading the output:
  erm is the loss at the contracted points x̃, R1-R3 the Taylor regularizers of Carratino et al.
  (Theorem 3), and E_Q = erm + R13 + R2 + R4. On a confident network R1 and -R3 are each huge
  (1e8 on digits) and cancel: R13 = R1 + R3 is computed directly; never add R1 and R3 by hand.
  'cancellation' is max(|R1|, |R3|) / |R13|. "± sem" is the standard error of the mean over
  samples; "mean SE" the mean per-sample standard error of the probe estimate, "exact" for
  terms computed without probes.

--out JSON schema:
  {"alpha": float, "data": str, "model": str, "num_classes": int, "input_shape": [int, ...],
   "device": str,
   "summary": {TERM: {"mean", "sem", "q05", "q50", "q95": float or null,
                      "mean_se": float or null (null when exact), "exact": bool}
               for TERM in erm, R1, R2, R3, R4, R13},
   "cancellation": {"median": float, "max": float},
   "per_sample": {"indices", "erm", "R1", "R2", "R3", "R4", "R13", "R1_se", "R2_se", "R13_se",
                  "cancellation": [one value per sample],
                  "probes": str, "num_probes": int, "method": str, "r1": str, "curvature": str}}
  R1_se, R2_se, R13_se are per-sample standard errors of the probe estimates (0 where exact);
  non-finite numbers are written as null. --json prints the same record without "per_sample",
  plus "samples", "method" and "probes".
"""
)


def _add_model_and_data_options(p: argparse.ArgumentParser) -> None:
    """The model file, its architecture and the data."""
    p.add_argument(
        "--model",
        required=True,
        help="TorchScript file, or a state dict saved by torch.save(model.state_dict(), PATH) "
        "(give --arch), or a whole module (give --trust-pickle)",
    )
    p.add_argument(
        "--arch",
        help=f"builder of a state dict's network: {', '.join(ARCHITECTURES)}, optionally "
        "with an activation (mlp-tanh, cnn-gelu); read from model.json next to --model when "
        "`mixtheory train` wrote one (a conflicting --arch is refused), required otherwise",
    )
    p.add_argument(
        "--activation",
        default=None,
        help=f"activation when --arch names none: {', '.join(ACTIVATIONS)} "
        "(default: model.json's, else tanh)",
    )
    p.add_argument(
        "--hidden",
        default=None,
        help="with --arch: MLP hidden widths / CNN head width, comma list "
        "(default: model.json's, else 64,64)",
    )
    p.add_argument(
        "--channels",
        default=None,
        help="with --arch cnn: conv widths, comma list (default: model.json's, else 8,16)",
    )
    p.add_argument(
        "--trust-pickle",
        action="store_true",
        help="accept a whole module saved by torch.save(model): unpickling runs arbitrary "
        "code from the file (torch.load(weights_only=False)), so only for files you "
        "made or trust",
    )
    p.add_argument(
        "--data",
        required=True,
        help="'digits' (scikit-learn's bundled 8x8 digits) or an .npz file with arrays X "
        "(n, ...) and y (n,) class indices or (n, c) label vectors",
    )
    p.add_argument(
        "--num-classes",
        type=int,
        default=None,
        help="number of classes (model outputs) when the labels do not show them all; "
        "default: the model's number of outputs",
    )


def _add_estimator_options(p: argparse.ArgumentParser) -> None:
    """The mixing law and the estimator's settings."""
    p.add_argument("--alpha", type=float, required=True, help="mixup α > 0: λ ~ Beta(α, α)")
    p.add_argument(
        "--num-probes",
        type=int,
        default=EstimatorOptions().num_probes,
        help="random probes per sample for R2 (at least 2, for a standard error; "
        f"ignored with --probes exact; default {EstimatorOptions().num_probes})",
    )
    p.add_argument(
        "--probes",
        choices=PROBES,
        default="gaussian",
        help="probe law: Gaussian or Rademacher in the factor of Σ^(i), the mixup "
        "perturbations themselves, or exact (every factor column, no noise)",
    )
    p.add_argument(
        "--method",
        choices=METHODS,
        default="auto",
        help="how second derivatives are taken (auto: collapsed Taylor mode for nn.Sequential and "
        "torch.fx-traceable models, double backward for TorchScript)",
    )
    p.add_argument(
        "--r1",
        choices=("auto", "exact", "probes"),
        default="auto",
        help="R13 = R1 + R3: from the probes' first derivatives (auto, probes: free, with a standard "
        "error) or exact by c vector-Jacobian products (about 2c forward passes per sample)",
    )
    p.add_argument(
        "--curvature",
        choices=("autograd", "secant"),
        default="autograd",
        help="secant: second differences instead of autograd (for ReLU networks, whose "
        "autograd curvature is 0)",
    )
    p.add_argument(
        "--samples", type=int, default=None, help="evaluate N samples drawn at random (seeded); default all"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the sample draw and the probes")


def _add_output_options(p: argparse.ArgumentParser) -> None:
    """Batching, device and where the results go."""
    p.add_argument(
        "--chunk-size",
        "--batch-size",
        dest="chunk_size",
        type=int,
        default=None,
        help="model inputs (samples × probes) per derivative pass; bounds memory (default: automatic, "
        "a pass's largest activation about 4 MB)",
    )
    p.add_argument("--device", default=None, help="where to compute: cpu, cuda, cuda:1, mps (default: cpu)")
    p.add_argument(
        "--out", default=None, help="write the summary and per-sample results as JSON here (schema below)"
    )
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "estimate",
        help="per-sample R1, R2, R3, R13 of a trained network (Hutchinson-type estimators)",
        description=__doc__.split("\n\n")[0].split(": ", 1)[1],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_model_and_data_options(p)
    _add_estimator_options(p)
    _add_output_options(p)
    p.set_defaults(func=run)
    return p


# ---------------------------------------------------------------------------------------------
# output
def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def summarize(est: RegularizerEstimates) -> dict:
    """Per-term summary: mean, sem over samples, quantiles; mean_se of the probe estimate (None
    where the term is exact); NaN (one sample) becomes None."""
    raw = est.summary()
    out = {}
    for key in TERMS:
        entry = {k: _finite_or_none(v) for k, v in raw[key].items() if k != "mean_se"}
        se = raw[key].get("mean_se", 0.0)
        exact = (
            key in ("erm", "R3", "R4")
            or est.probes == "exact"
            or (key in ("R1", "R13") and est.r1 == "exact")
        )
        entry["mean_se"] = None if exact else _finite_or_none(se)
        entry["exact"] = exact
        out[key] = entry
    return out


def _fmt(value: float | None, spec: str, width: int) -> str:
    return f"{'n/a':>{width}}" if value is None else f"{value:>{width}{spec}}"


def print_table(
    est: RegularizerEstimates,
    summary: dict,
    cancel: dict,
    args: argparse.Namespace,
    num_classes: int,
    device: torch.device | None,
    summary_shape: tuple[int, ...],
) -> None:
    n = est["R1"].numel()
    shape = tuple(summary_shape)
    print(
        f"{n} samples of shape {shape}, α = {args.alpha}, {num_classes} classes, probes = {est.probes} × "
        f"{est.num_probes}, method = {est.method}, R1 {est.r1}, device = {device or 'cpu'}"
    )
    print(f"{'':6}{'mean':>12}{'± sem':>11}{'q05':>12}{'median':>12}{'q95':>12}{'mean SE':>11}")
    for key in TERMS:
        s = summary[key]
        se = f"{'exact':>11}" if s["exact"] else _fmt(s["mean_se"], ".3g", 11)
        print(
            f"{key:6}{_fmt(s['mean'], '.5g', 12)}{_fmt(s['sem'], '.2g', 11)}{_fmt(s['q05'], '.5g', 12)}"
            f"{_fmt(s['q50'], '.5g', 12)}{_fmt(s['q95'], '.5g', 12)}{se}"
        )
    print(
        "± sem: standard error of the mean over samples; mean SE: the probe estimate's own "
        "standard error per sample, 'exact' where no probes enter."
    )
    print(
        f"R13 = R1 + R3 is computed directly: on a confident network R1 and -R3 are each huge and "
        f"cancel (max(|R1|, |R3|)/|R13|: median {cancel['median']:.3g}, max {cancel['max']:.3g}), "
        "so never add R1 and R3 by hand. E_Q = erm + R13 + R2 + R4."
    )
    if n == 1:
        print("n/a: one sample has no spread over samples.")


def _show_warnings(caught: list) -> None:
    """mixtheory's own warnings, once each; torch's deprecation notices and the rest dropped."""
    seen = set()
    for w in caught:
        key = (w.category, str(w.message))
        if issubclass(w.category, SHOWN_WARNINGS) and key not in seen:
            seen.add(key)
            print(f"mixtheory estimate: warning: {w.category.__name__}: {w.message}", file=sys.stderr)


def _is_estimate_record(path: Path) -> bool:
    """Whether ``path`` is a JSON that ``estimate --out`` wrote (it may be overwritten)."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and {"summary", "per_sample", "alpha"} <= set(record)


def run(args: argparse.Namespace) -> int:
    if args.out:  # before any work: a writable path, and never a file estimate did not write
        try:
            check_output_file(args.out, "--out", _is_estimate_record, "mixtheory estimate")
        except ValueError as exc:
            print(f"mixtheory estimate: error: {exc}", file=sys.stderr)
            return 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model, X, y, num_classes, device = prepare(args)
            n = X.shape[0]
            gen = torch.Generator().manual_seed(args.seed)
            indices = None
            if args.samples is not None and args.samples < n:
                indices = torch.randperm(n, generator=gen)[: args.samples].sort().values
            method = args.method
            if isinstance(model, torch.jit.ScriptModule) and method == "auto":
                method = "double-backward"  # TorchScript modules run under autograd, not torch.func
            dtype, _ = model_dtype_device(model)
            est = estimate_regularizers(
                model,
                X.to(dtype) if dtype is not None else X,
                y,
                SymmetricBeta(args.alpha),
                EstimatorOptions(
                    probes=args.probes,
                    num_probes=args.num_probes,
                    chunk_size=args.chunk_size,
                    method=method,
                    r1=args.r1,
                    curvature=args.curvature,
                    train_mode="eval",
                ),
                indices=indices,
                device=device,
                generator=gen,
            )
        except CommandError as exc:
            print(f"mixtheory estimate: error: {exc}", file=sys.stderr)
            return 2
        finally:
            _show_warnings(caught)

    summary = summarize(est)
    ratio = est["cancellation"].double()
    cancel = {"median": float(ratio.median()), "max": float(ratio.max())}
    record = {
        "alpha": args.alpha,
        "data": args.data,
        "model": args.model,
        "num_classes": num_classes,
        "input_shape": list(X.shape[1:]),
        "device": str(device or "cpu"),
        "summary": summary,
        "cancellation": cancel,
    }
    if args.json:
        print(
            json.dumps(
                {**record, "samples": int(est["R1"].numel()), "method": est.method, "probes": est.probes}
            )
        )
    else:
        print_table(est, summary, cancel, args, num_classes, device, X.shape[1:])
    if args.out:
        record["per_sample"] = {
            k: [_finite_or_none(v) for v in vals] if isinstance(vals, list) else vals
            for k, vals in est.to_dict().items()
        }
        try:
            write_json(args.out, record, indent=1)  # atomically: an interrupt leaves no half file
        except OSError as exc:
            print(
                f"mixtheory estimate: error: cannot write --out {args.out} ({exc.strerror})", file=sys.stderr
            )
            return 2
        if not args.json:
            print(f"wrote {args.out}")
    return 0
