r"""``mixtheory estimate``: per-sample R1, R2, R3 of a saved network (issue 4 §4).

    mixtheory estimate --model PATH [--arch NAME] --data digits|PATH --alpha A
                       [--num-probes K] [--samples N] [--out results.json]

The model is a TorchScript file, or a state dict (or a checkpoint dict with a ``state_dict``
entry) plus ``--arch`` naming a builder of :mod:`mixtheory.models` (``mlp``, ``cnn``, optionally
with an activation: ``cnn-gelu``). Data: scikit-learn's bundled digits (no download; pixels
scaled to [0, 1]; shaped (1, 8, 8) for a CNN) or an ``.npz`` with arrays ``X`` and ``y``.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

import torch

from ..data import load_dataset
from ..estimators import METHODS, PROBES, estimate_regularizers
from ..laws import SymmetricBeta
from ..models import build_model, parse_arch


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "estimate",
        help="per-sample R1, R2, R3 of a trained network (Hutchinson-type estimators)",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--model", required=True, help="TorchScript file or state dict (.pt)")
    p.add_argument("--arch", help="builder for a state dict: mlp, cnn, mlp-gelu, cnn-tanh, ...")
    p.add_argument("--activation", default="tanh", help="activation when --arch names none")
    p.add_argument("--hidden", default="64,64", help="MLP hidden widths / CNN head (comma list)")
    p.add_argument("--channels", default="8,16", help="CNN conv widths (comma list)")
    p.add_argument("--data", required=True, help="'digits' or an .npz file with X and y")
    p.add_argument("--alpha", type=float, required=True, help="mixup α: λ ~ Beta(α, α)")
    p.add_argument("--num-probes", type=int, default=16)
    p.add_argument("--probes", choices=PROBES, default="gaussian")
    p.add_argument("--method", choices=METHODS, default="auto")
    p.add_argument("--curvature", choices=("autograd", "secant"), default="autograd")
    p.add_argument("--samples", type=int, default=None,
                   help="evaluate N samples drawn at random (seeded); default all")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--device", default=None)
    p.add_argument("--out", default=None, help="write per-sample results as JSON here")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)
    return p


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(t) for t in text.split(",") if t.strip())


def load_data(spec: str, image: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and labels (:func:`mixtheory.data.load_dataset`): the bundled digits (``image``:
    reshaped to (n, 1, 8, 8)) or an .npz with arrays X and y."""
    X, y = load_dataset(spec)
    if spec == "digits" and image:
        X = X.reshape(-1, 1, 8, 8)
    if y.ndim == 1 and y.is_floating_point():
        raise ValueError(f"--data {spec}: y must hold integer class indices (n,) or label vectors (n, c)")
    return X, y


def _num_classes(y: torch.Tensor) -> int:
    return int(y.shape[1]) if y.ndim == 2 else int(y.max()) + 1


def load_model(path: str, arch: str | None, in_shape, num_classes: int, args) -> torch.nn.Module:
    """A TorchScript module, or a builder from --arch loaded with a state dict."""
    try:
        return torch.jit.load(path, map_location="cpu").eval()
    except (RuntimeError, ValueError):
        pass  # not TorchScript: a state dict
    if arch is None:
        raise ValueError(f"{path} is not a TorchScript file: give --arch to build the model "
                         "its state dict belongs to")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    dtype = next(v.dtype for v in state.values() if v.is_floating_point())
    model = build_model(arch, in_shape, num_classes, args.activation, hidden=_ints(args.hidden),
                        channels=_ints(args.channels), dtype=dtype)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"the state dict in {path} does not fit --arch {arch} "
                         f"(hidden={args.hidden}, channels={args.channels}): {exc}") from exc
    return model.eval()


def run(args: argparse.Namespace) -> int:
    try:
        arch = args.arch
        image = arch is not None and parse_arch(arch)[0] == "cnn"
        if args.samples is not None and args.samples < 1:
            raise ValueError(f"--samples must be a positive number of samples, got {args.samples}")
        X, y = load_data(args.data, image)
        num_classes = _num_classes(y)
        model = load_model(args.model, arch, X.shape[1:], num_classes, args)
    except (ValueError, OSError) as exc:
        print(f"mixtheory estimate: {exc}", file=sys.stderr)
        return 2
    n = X.shape[0]
    gen = torch.Generator().manual_seed(args.seed)
    indices = None
    if args.samples is not None and args.samples < n:
        indices = torch.randperm(n, generator=gen)[: args.samples].sort().values
    method = args.method
    if isinstance(model, torch.jit.ScriptModule) and method == "auto":
        method = "double-backward"  # TorchScript modules run under autograd, not torch.func
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        est = estimate_regularizers(
            model, X.to(next(model.parameters()).dtype), y,
            SymmetricBeta(args.alpha), indices, probes=args.probes, num_probes=args.num_probes,
            batch_size=args.batch_size, device=args.device, generator=gen, method=method,
            curvature=args.curvature, num_classes=num_classes)
    summary = est.summary()
    if args.json:
        print(json.dumps({"summary": summary, "samples": int(est["R1"].numel()),
                          "method": est.method, "probes": est.probes}))
    else:
        print(f"{est['R1'].numel()} samples, α = {args.alpha}, probes = {est.probes} "
              f"× {est.num_probes}, method = {est.method}, R1 {est.r1}")
        print(f"{'':6}{'mean':>12}{'± sem':>11}{'q05':>12}{'median':>12}{'q95':>12}{'mean SE':>11}")
        for key in ("erm", "R1", "R2", "R3"):
            s = summary[key]
            se = f"{s['mean_se']:>11.3g}" if "mean_se" in s else f"{'exact':>11}"
            print(f"{key:6}{s['mean']:>12.5g}{s['sem']:>11.2g}{s['q05']:>12.5g}{s['q50']:>12.5g}"
                  f"{s['q95']:>12.5g}{se}")
    if args.out:
        record = {"alpha": args.alpha, "data": args.data, "model": args.model,
                  "summary": summary, "per_sample": est.to_dict()}
        with open(args.out, "w") as f:
            json.dump(record, f, indent=1)
        print(f"wrote {args.out}")
    return 0
