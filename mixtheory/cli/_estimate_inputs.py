"""Reading what ``mixtheory estimate`` is given: option checks, the data (digits or an ``.npz``), the
model file (TorchScript, a state dict plus ``--arch``, or a whole pickled module behind
``--trust-pickle``) and the input shape the model expects. Every user error is a
:class:`CommandError` with a message ready to print."""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
import zipfile
from pathlib import Path

import torch

from .._io import check_creatable
from .._validation import (
    check_class_indices,
    check_device,
    eval_mode,
    model_dtype_device,
    model_output_count,
)
from ..data import load_dataset
from ..models import build_model, parse_arch


class CommandError(ValueError):
    """A user error with a message ready to print."""


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
    try:  # without touching the file: estimate's own check that it is not a user's file comes first
        check_creatable(path, "--out", directory=False)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def check_counts(args: argparse.Namespace) -> None:
    if args.samples is not None and args.samples < 1:
        raise CommandError(f"--samples must be a positive number of samples, got {args.samples}")
    if args.probes != "exact" and args.num_probes < 2:
        raise CommandError(
            f"--num-probes must be at least 2 with random probes (--probes {args.probes}): the "
            f"standard error of R2 needs two probes; got {args.num_probes} (or use --probes exact)"
        )
    if args.chunk_size is not None and args.chunk_size < 1:
        raise CommandError(f"--chunk-size must be positive, got {args.chunk_size}")
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
        if isinstance(exc, ValueError) and str(exc).startswith(str(spec)):
            raise CommandError(str(exc)) from None  # load_npz's own message: the file, the array, the fix
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


def read_model_file(path_text: str, trust_pickle: bool) -> torch.nn.Module | dict:
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


MODEL_SPEC = "model.json"  # written by `mixtheory train` next to model.pt: the network's builder


def apply_model_spec(args: argparse.Namespace) -> None:
    """Read ``model.json`` next to ``--model`` when it is there (``mixtheory train`` writes it): its
    builder fills ``--arch``, ``--hidden`` and ``--channels``, and a conflicting option is refused
    naming both (shapes cannot tell activations apart, so a wrong ``--arch`` would give numbers for
    another network). Without it, the defaults apply and ``--arch`` is required."""
    spec_path = Path(args.model).parent / MODEL_SPEC
    if spec_path.is_file():
        try:
            spec = json.loads(spec_path.read_text())
            spec_arch, spec_act = parse_arch(str(spec["arch"]))
            spec_hidden = tuple(int(h) for h in spec["hidden"])
            spec_channels = tuple(int(c) for c in spec["channels"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CommandError(
                f"{spec_path} (the builder of {args.model}) cannot be read: {exc}; fix or remove it "
                "and pass --arch"
            ) from None
        spec_act = spec_act or "tanh"
        given = {
            "--arch": None if args.arch is None else _arch_text(args.arch, args.activation),
            "--activation": args.activation,
            "--hidden": None if args.hidden is None else _ints(args.hidden),
            "--channels": None if args.channels is None else _ints(args.channels),
        }
        stored = {
            "--arch": f"{spec_arch}-{spec_act}",
            "--activation": spec_act,
            "--hidden": spec_hidden,
            "--channels": spec_channels,
        }
        for option, value in given.items():
            if value is not None and value != stored[option]:
                raise CommandError(
                    f"{option} {_show(value)} conflicts with {spec_path}, which says {args.model} is a "
                    f"{stored['--arch']} network with hidden {_show(spec_hidden)}, channels "
                    f"{_show(spec_channels)}: leave {option} out (model.json is read), or give the "
                    "model file that option belongs to"
                )
        args.arch, args.activation = f"{spec_arch}-{spec_act}", spec_act
        args.hidden, args.channels = _show(spec_hidden), _show(spec_channels)
    args.activation = args.activation or "tanh"
    args.hidden = args.hidden or "64,64"
    args.channels = args.channels or "8,16"


def _arch_text(arch: str, activation: str | None) -> str:
    """``arch-activation`` of ``--arch`` (with ``--activation``, default tanh, when it names none)."""
    name, act = parse_arch(arch)
    return f"{name}-{act or activation or 'tanh'}"


def _show(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def check_state_fits(state: dict[str, torch.Tensor], X: torch.Tensor, args: argparse.Namespace) -> None:
    """The data's features and ``--num-classes`` against the state dict's first and last layers,
    so that a mismatch is blamed on the data or the option, not reported as a state-dict dump."""
    first_key = next((k for k, v in state.items() if k.endswith("weight") and v.ndim in (2, 4)), None)
    if first_key is not None:
        weight = state[first_key]
        if weight.ndim == 2:
            want, have, what = int(weight.shape[1]), math.prod(X.shape[1:]), "features per sample"
        else:
            want, have, what = int(weight.shape[1]), int(X.shape[1]) if X.ndim == 4 else -1, "image channels"
        if have != want:
            raise CommandError(
                f"--data {args.data}: X has samples of shape {tuple(X.shape[1:])}, but the network in "
                f"{args.model} takes {want} {what} (its first layer {first_key} has shape "
                f"{tuple(weight.shape)}): give the data the model was trained on"
            )
    outputs = _outputs_of_state_dict(state)
    if args.num_classes is not None and outputs is not None and args.num_classes != outputs:
        raise CommandError(
            f"--num-classes {args.num_classes}, but the network in {args.model} has {outputs} outputs "
            "(its last layer): leave --num-classes out, or give the model trained for that many classes"
        )


def build_from_state(
    state: dict[str, torch.Tensor],
    arch: str,
    in_shape: tuple[int, ...],
    num_classes: int,
    args: argparse.Namespace,
    path: str,
) -> torch.nn.Module:
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
    with eval_mode(model):  # probing calls must not update batch-norm statistics; modes are put back
        return _fit_inputs(model, X, data, dtype)


def _fit_inputs(
    model: torch.nn.Module, X: torch.Tensor, data: str, dtype: torch.dtype | None
) -> torch.Tensor:
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
    """The model's number of outputs, from one call in eval mode (no running statistics change)."""
    count = model_output_count(model, X)
    if count is None:
        raise CommandError(f"the model cannot be evaluated on the inputs of shape {tuple(X.shape[1:])}")
    return count


def check_range(X: torch.Tensor, dtype: torch.dtype | None, args: argparse.Namespace) -> None:
    """Values beyond the model's dtype would turn into inf inside the model: name the array."""
    if dtype is None or not X.is_floating_point() or not X.numel():
        return
    big = float(X.abs().max())
    if big > torch.finfo(dtype).max:
        raise CommandError(
            f"--data {args.data}: array X has values up to {big:.3g}, beyond the largest {dtype} "
            f"({torch.finfo(dtype).max:.3g}) of the model's parameters; rescale X before saving it"
        )


def prepare(
    args: argparse.Namespace,
) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor, int, torch.device | None]:
    """Model, inputs, labels and number of classes, every error a :class:`CommandError`."""
    check_counts(args)
    device = check_device(args.device, "--device")
    check_out_path(args.out)
    X, y = load_data(args.data)
    label_classes = int(y.shape[1]) if y.ndim == 2 else int(y.max()) + 1
    if y.ndim == 1 and int(y.min()) < 0:
        i = int((y < 0).nonzero()[0, 0])
        raise CommandError(f"--data {args.data}: y[{i}] = {int(y[i])}; class indices must be ≥ 0")
    loaded = read_model_file(args.model, args.trust_pickle)
    if not isinstance(loaded, torch.nn.Module):
        apply_model_spec(args)
    if isinstance(loaded, torch.nn.Module):
        if args.arch is not None:
            print(
                f"mixtheory estimate: note: {args.model} holds a whole model; --arch is not used",
                file=sys.stderr,
            )
        model = loaded
        check_range(X, model_dtype_device(model)[0], args)
        X = fit_inputs(model, X, args.data)
    else:
        if args.arch is None:
            raise CommandError(
                f"{args.model} holds a state dict (weights without the network): give "
                "--arch naming the builder it belongs to, e.g. --arch mlp-tanh (no model.json, which "
                "`mixtheory train` writes beside model.pt, is next to it)"
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
        check_range(X, next(v.dtype for v in state.values() if v.is_floating_point()), args)
        check_state_fits(state, X, args)
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
    # the model keeps its mode: estimate_regularizers(train_mode="eval") warns about a train-mode
    # model with batch norm or dropout and evaluates it in eval mode (README)
    outputs = model_outputs_count(model, X)
    num_classes = args.num_classes if args.num_classes is not None else outputs
    if num_classes != outputs:
        raise CommandError(f"--num-classes {num_classes}, but the model has {outputs} outputs")
    if y.ndim == 2 and y.shape[1] != outputs:
        raise CommandError(
            f"--data {args.data} has {y.shape[1]}-column label vectors, but the model has {outputs} outputs"
        )
    if y.ndim == 1:
        try:
            check_class_indices("y", y, num_outputs=outputs, where=f"--data {args.data}: ")
        except (TypeError, ValueError) as exc:
            raise CommandError(str(exc)) from None
    if device is not None:
        model = model.to(device)
    return model, X, y, num_classes, device
