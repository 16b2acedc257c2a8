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
import zipfile
from pathlib import Path

import torch

from .. import CancellationWarning, PiecewiseLinearWarning, TrainModeWarning
from .._validation import check_device, model_dtype_device
from ..data import load_dataset
from ..estimators import METHODS, PROBES, estimate_regularizers
from ..laws import SymmetricBeta
from ..models import ACTIVATIONS, ARCHITECTURES, build_model, parse_arch

#: the warnings the command shows (once each); everything else, torch's TorchScript deprecation
#: notices included, is silenced
SHOWN_WARNINGS = (PiecewiseLinearWarning, CancellationWarning, TrainModeWarning)

TERMS = ("erm", "R1", "R2", "R3", "R13")

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
               for TERM in erm, R1, R2, R3, R13},
   "cancellation": {"median": float, "max": float},
   "per_sample": {"indices", "erm", "R1", "R2", "R3", "R4", "R13", "R1_se", "R2_se", "R13_se",
                  "cancellation": [one value per sample],
                  "probes": str, "num_probes": int, "method": str, "r1": str, "curvature": str}}
  R1_se, R2_se, R13_se are per-sample standard errors of the probe estimates (0 where exact);
  non-finite numbers are written as null. --json prints the same record without "per_sample",
  plus "samples", "method" and "probes".
"""
)


class CommandError(ValueError):
    """A user error with a message ready to print."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "estimate",
        help="per-sample R1, R2, R3, R13 of a trained network (Hutchinson-type estimators)",
        description=__doc__.split("\n\n")[0].split(": ", 1)[1],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--model",
        required=True,
        help="TorchScript file, or a state dict saved by torch.save(model.state_dict(), PATH) "
        "(give --arch), or a whole module (give --trust-pickle)",
    )
    p.add_argument(
        "--arch",
        help=f"builder of a state dict's network: {', '.join(ARCHITECTURES)}, optionally "
        "with an activation (mlp-tanh, cnn-gelu); needed for a state dict",
    )
    p.add_argument(
        "--activation",
        default="tanh",
        help=f"activation when --arch names none: {', '.join(ACTIVATIONS)} (default tanh)",
    )
    p.add_argument(
        "--hidden",
        default="64,64",
        help="with --arch: MLP hidden widths / CNN head width, comma list (default 64,64)",
    )
    p.add_argument(
        "--channels", default="8,16", help="with --arch cnn: conv widths, comma list (default 8,16)"
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
    p.add_argument("--alpha", type=float, required=True, help="mixup α > 0: λ ~ Beta(α, α)")
    p.add_argument(
        "--num-probes",
        type=int,
        default=16,
        help="random probes per sample for R2 (at least 2, for a standard error; "
        "ignored with --probes exact; default 16)",
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
        help="how second derivatives are taken (auto: Taylor mode for nn.Sequential, "
        "double backward for TorchScript)",
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
    p.add_argument(
        "--batch-size",
        type=int,
        default=512,
        help="model inputs (samples × probes) per derivative pass; bounds memory",
    )
    p.add_argument("--device", default=None, help="where to compute: cpu, cuda, cuda:1, mps (default: cpu)")
    p.add_argument(
        "--out", default=None, help="write the summary and per-sample results as JSON here (schema below)"
    )
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=run)
    return p


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise CommandError(f"expected a comma list of integers such as 64,64, got {text!r}") from None


# ---------------------------------------------------------------------------------------------
# checks made before any computation
def check_out_path(out: str | None) -> None:
    """Refuse an ``--out`` that cannot be written, before minutes of computation."""
    if out is None:
        return
    path = Path(out)
    if path.is_dir():
        raise CommandError(f"--out {out} is a directory; give a file name such as {path / 'results.json'}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise CommandError(
            f"--out {out}: the directory {parent} does not exist; create it first (mkdir -p {parent})"
        )
    existed = path.exists()
    try:
        with open(path, "a"):
            pass
    except OSError as exc:
        raise CommandError(f"--out {out}: cannot write there ({exc.strerror})") from None
    if not existed:
        path.unlink()


def check_counts(args: argparse.Namespace) -> None:
    if args.samples is not None and args.samples < 1:
        raise CommandError(f"--samples must be a positive number of samples, got {args.samples}")
    if args.probes != "exact" and args.num_probes < 2:
        raise CommandError(
            f"--num-probes must be at least 2 with random probes (--probes {args.probes}): the "
            f"standard error of R2 needs two probes; got {args.num_probes} (or use --probes exact)"
        )
    if args.batch_size < 1:
        raise CommandError(f"--batch-size must be positive, got {args.batch_size}")
    if not (math.isfinite(args.alpha) and args.alpha > 0):
        raise CommandError(f"--alpha must be a number > 0, got {args.alpha}")
    if args.num_classes is not None and args.num_classes < 2:
        raise CommandError(f"--num-classes must be at least 2, got {args.num_classes}")


# ---------------------------------------------------------------------------------------------
# data
def load_data(spec: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and labels (:func:`mixtheory.data.load_dataset`): the bundled digits (n, 64) or an
    .npz with arrays X and y."""
    try:
        X, y = load_dataset(spec)
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from None
    except (OSError, ValueError, EOFError) as exc:  # np.load on a file that is not an .npz
        if isinstance(exc, ValueError) and "lacks array" in str(exc):
            raise CommandError(str(exc)) from None
        raise CommandError(
            f"--data {spec} is not an .npz archive of numeric arrays X and y that numpy "
            f"reads safely (numpy says: {str(exc).splitlines()[0] if str(exc) else exc!r})"
        ) from None
    if y.ndim == 1 and y.is_floating_point():
        raise CommandError(f"--data {spec}: y must hold integer class indices (n,) or label vectors (n, c)")
    if X.shape[0] != y.shape[0]:
        raise CommandError(f"--data {spec}: X has {X.shape[0]} rows but y has {y.shape[0]}")
    if X.shape[0] < 2:
        raise CommandError(f"--data {spec}: mixup needs at least 2 samples, got {X.shape[0]}")
    return X, y


def image_shape(shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """(C, H, W) for a flat square image (d = H², or 3H² for colour), or a (H, W) image."""
    if len(shape) == 3:
        return shape
    if len(shape) == 2:
        return (1, *shape)
    d = shape[0]
    for channels in (1, 3):
        side = math.isqrt(d // channels)
        if d % channels == 0 and side * side * channels == d:
            return (channels, side, side)
    return None


def candidate_shapes(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Input shapes to try for a model of unknown input: as given, as an image, flattened."""
    out = [shape]
    for s in (image_shape(shape), (math.prod(shape),)):
        if s is not None and s not in out:
            out.append(s)
    return out


# ---------------------------------------------------------------------------------------------
# models
def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    return any(n.endswith("/constants.pkl") or "/code/" in n for n in names)


def read_model_file(path_text: str, trust_pickle: bool):
    """What ``--model`` holds: a TorchScript module, a loaded module (``--trust-pickle``), or a
    state dict (a mapping of names to tensors)."""
    path = Path(path_text)
    if not path.exists():
        raise CommandError(f"no model file at {path_text}")
    if path.is_dir():
        raise CommandError(f"--model {path_text} is a directory; give the .pt or TorchScript file")
    if path.stat().st_size == 0:
        raise CommandError(f"--model {path_text} is empty (0 bytes): the save did not complete")
    if _is_torchscript(path):
        try:
            return torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:  # noqa: BLE001 - any failure of the TorchScript reader
            raise CommandError(
                f"--model {path_text} looks like TorchScript but cannot be loaded: "
                f"{str(exc).strip().splitlines()[0]}"
            ) from None
    with open(path, "rb") as fh:
        head = fh.read(4)
    if not zipfile.is_zipfile(path) and not head.startswith(b"\x80"):
        raise CommandError(
            f"--model {path_text} is neither a TorchScript file nor a file saved by torch.save "
            "(not a zip archive, not a pickle): corrupt, truncated or another format"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - sorted below
        weights_only_refused = "Weights only load failed" in str(exc)
        if not weights_only_refused:
            raise CommandError(
                f"--model {path_text} cannot be read by torch.load (corrupt or "
                f"truncated?): {str(exc).strip().splitlines()[0]}"
            ) from None
    if not trust_pickle:
        raise CommandError(
            f"--model {path_text} holds pickled Python objects (a whole module saved by "
            "torch.save(model)?), which cannot be loaded safely: unpickling runs code from the file. "
            "pass --trust-pickle if you trust this file, or save a state dict and pass --arch"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except (AttributeError, ModuleNotFoundError) as exc:
        raise CommandError(
            f"--model {path_text}: the pickled module's class cannot be found ({exc}); it must be "
            "importable here (defined in an installed module, not in a script's __main__), or "
            "save a state dict and pass --arch"
        ) from None
    except Exception as exc:  # noqa: BLE001 - arbitrary unpickling failures
        raise CommandError(
            f"--model {path_text} cannot be unpickled (corrupt?): {str(exc).strip().splitlines()[0]}"
        ) from None


def _state_dict(obj, path: str) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj:
        raise CommandError(f"--model {path} holds a {type(obj).__name__}, not a module or a state dict")
    tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not any(v.is_floating_point() for v in tensors.values()):
        raise CommandError(
            f"--model {path}: the dict it holds has no floating-point tensors "
            f"(keys: {', '.join(list(obj)[:6])}); is it a state dict?"
        )
    return tensors


def _outputs_of_state_dict(state: dict[str, torch.Tensor]) -> int | None:
    """The number of logits of a builder network: rows of its last 2-D weight."""
    weights = [v for k, v in state.items() if k.endswith("weight") and v.ndim == 2]
    return int(weights[-1].shape[0]) if weights else None


def build_from_state(state, arch: str, in_shape, num_classes: int, args, path: str) -> torch.nn.Module:
    dtype = next(v.dtype for v in state.values() if v.is_floating_point())
    model = build_model(
        arch,
        in_shape,
        num_classes,
        args.activation,
        hidden=_ints(args.hidden),
        channels=_ints(args.channels),
        dtype=dtype,
    )
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())
        raise CommandError(
            f"the state dict in {path} does not fit --arch {arch} (hidden={args.hidden}, "
            f"channels={args.channels}, {num_classes} classes): {detail}"
        ) from None
    return model


def fit_inputs(model: torch.nn.Module, X: torch.Tensor, data: str) -> torch.Tensor:
    """X reshaped to what ``model`` accepts (digits as (1, 8, 8) for a CNN), tried on two samples;
    an error naming the shapes when none fits."""
    dtype, _ = model_dtype_device(model)
    tried, last = [], ""
    for shape in candidate_shapes(tuple(X.shape[1:])):
        trial = X[:2].reshape(2, *shape)
        if dtype is not None:
            trial = trial.to(dtype)
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = model(trial)
        except Exception as exc:  # noqa: BLE001 - a model refusing a shape raises anything
            tried.append(shape)
            lines = [s.strip() for s in str(exc).strip().splitlines() if s.strip()]
            last = lines[-1] if lines else type(exc).__name__
            continue
        if isinstance(out, torch.Tensor) and out.ndim == 2 and out.shape[0] == 2:
            return X.reshape(X.shape[0], *shape)
        tried.append(shape)
        got = tuple(getattr(out, "shape", ()))
        last = f"it returned {type(out).__name__} of shape {got}, not (batch, classes)"
    shapes = ", ".join(str(s) for s in tried)
    raise CommandError(
        f"the model does not accept the inputs of --data {data}: got samples of shape "
        f"{tuple(X.shape[1:])} and tried {shapes} ({last}). Save X in the .npz with the shape the "
        "model expects, e.g. (n, C, H, W) for a CNN, (n, d) for an MLP"
    )


def model_outputs_count(model: torch.nn.Module, X: torch.Tensor) -> int:
    dtype, _ = model_dtype_device(model)
    with torch.no_grad():
        return int(model(X[:1].to(dtype) if dtype is not None else X[:1]).shape[1])


def prepare(args: argparse.Namespace):
    """Model, inputs, labels and number of classes, every error a :class:`CommandError`."""
    check_counts(args)
    device = check_device(args.device, "--device")
    check_out_path(args.out)
    X, y = load_data(args.data)
    label_classes = int(y.shape[1]) if y.ndim == 2 else int(y.max()) + 1
    if y.ndim == 1 and int(y.min()) < 0:
        raise CommandError(f"--data {args.data}: class indices must be ≥ 0, got {int(y.min())}")
    loaded = read_model_file(args.model, args.trust_pickle)
    if isinstance(loaded, torch.nn.Module):
        if args.arch is not None:
            print(
                f"mixtheory estimate: note: {args.model} holds a whole model; --arch is not used",
                file=sys.stderr,
            )
        model = loaded
        X = fit_inputs(model, X, args.data)
    else:
        if args.arch is None:
            raise CommandError(
                f"{args.model} holds a state dict (weights without the network): give "
                "--arch naming the builder it belongs to, e.g. --arch mlp-tanh"
            )
        state = _state_dict(loaded, args.model)
        arch_name, _ = parse_arch(args.arch)
        if arch_name == "cnn":
            shape = image_shape(tuple(X.shape[1:]))
            if shape is None:
                raise CommandError(
                    f"--arch {args.arch} needs image inputs (C, H, W); --data {args.data} "
                    f"has samples of shape {tuple(X.shape[1:])}, not a square image"
                )
            X = X.reshape(X.shape[0], *shape)
        num_classes = args.num_classes or _outputs_of_state_dict(state) or label_classes
        if arch_name == "mlp" and X.ndim > 2:
            # an MLP saved for flat inputs (n, d), or one built for the image shape (Flatten first)
            try:
                model = build_from_state(
                    state, args.arch, (math.prod(X.shape[1:]),), num_classes, args, args.model
                )
                X = X.reshape(X.shape[0], -1)
            except CommandError:
                model = build_from_state(state, args.arch, tuple(X.shape[1:]), num_classes, args, args.model)
        else:
            model = build_from_state(state, args.arch, tuple(X.shape[1:]), num_classes, args, args.model)
    model = model.eval()
    outputs = model_outputs_count(model, X)
    num_classes = args.num_classes if args.num_classes is not None else outputs
    if num_classes != outputs:
        raise CommandError(f"--num-classes {num_classes}, but the model has {outputs} outputs")
    if y.ndim == 2 and y.shape[1] != outputs:
        raise CommandError(
            f"--data {args.data} has {y.shape[1]}-column label vectors, but the model has {outputs} outputs"
        )
    if label_classes > outputs:
        raise CommandError(
            f"--data {args.data} has labels up to class {label_classes - 1}, but the "
            f"model has only {outputs} outputs"
        )
    if device is not None:
        model = model.to(device)
    return model, X, y, num_classes, device


# ---------------------------------------------------------------------------------------------
# output
def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def summarize(est) -> dict:
    """Per-term summary: mean, sem over samples, quantiles; mean_se of the probe estimate (None
    where the term is exact); NaN (one sample) becomes None."""
    raw = est.summary()
    out = {}
    for key in TERMS:
        entry = {k: _finite_or_none(v) for k, v in raw[key].items() if k != "mean_se"}
        se = raw[key].get("mean_se", 0.0)
        exact = key in ("erm", "R3") or est.probes == "exact" or (key in ("R1", "R13") and est.r1 == "exact")
        entry["mean_se"] = None if exact else _finite_or_none(se)
        entry["exact"] = exact
        out[key] = entry
    return out


def _fmt(value: float | None, spec: str, width: int) -> str:
    return f"{'n/a':>{width}}" if value is None else f"{value:>{width}{spec}}"


def print_table(est, summary: dict, cancel: dict, args, num_classes: int, device, summary_shape) -> None:
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


def run(args: argparse.Namespace) -> int:
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
                indices,
                probes=args.probes,
                num_probes=args.num_probes,
                batch_size=args.batch_size,
                device=device,
                generator=gen,
                method=method,
                curvature=args.curvature,
                num_classes=num_classes,
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
            with open(args.out, "w") as f:
                json.dump(record, f, indent=1)
        except OSError as exc:
            print(
                f"mixtheory estimate: error: cannot write --out {args.out} ({exc.strerror})", file=sys.stderr
            )
            return 2
        if not args.json:
            print(f"wrote {args.out}")
    return 0
