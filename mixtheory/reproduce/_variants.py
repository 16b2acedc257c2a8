"""What the figures that train networks share: the ResNet-18 variants of the full runs (a ReLU
one whose R2 uses the secant curvature, a smooth GELU one with autograd) and the network builder
they use (regularizer-trajectories, hard-vs-easy)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from ..estimators import EstimatorOptions
from ..models import build_model

#: h of the secant curvature, in units of the probe v (whose covariance is Σ_xx, the perturbation's):
#: h = 1 puts the second differences at the perturbation's own scale (regularizer-trajectories docs)
SECANT_STEP = 1.0

#: the full runs' network variants: activation, R2's curvature, and the label the figure shows
VARIANTS: dict[str, dict[str, str]] = {
    "relu-secant": {
        "activation": "relu",
        "curvature": "secant",
        "label": "ReLU ResNet-18, R2 by secant curvature",
    },
    "gelu-autograd": {
        "activation": "gelu",
        "curvature": "autograd",
        "label": "smooth (GELU) ResNet-18, R2 by autograd",
    },
}


def variant_setup(params: Mapping[str, Any], variant: str | None) -> tuple[str, EstimatorOptions]:
    """The activation and the estimator options of ``variant`` (a key of :data:`VARIANTS`) under
    ``params``; ``variant=None`` (the quick runs): ``params["activation"]`` with ``num_probes``
    Gaussian probes and autograd curvature. R1 is always exact (``r1="exact"``, c reverse passes):
    the figures are about R1 and R3 cancelling, and pinning it keeps their stored results what the
    package computes whatever its default route (the default takes R13 from the probes).

    >>> act, opts = variant_setup({"num_probes": 4, "secant_step": 0.5}, "relu-secant")
    >>> act, opts.curvature, opts.secant_step, opts.num_probes
    ('relu', 'secant', 0.5, 4)
    """
    if variant is None:
        return str(params["activation"]), EstimatorOptions(num_probes=int(params["num_probes"]), r1="exact")
    spec = VARIANTS[variant]
    options = EstimatorOptions(
        num_probes=int(params["num_probes"]),
        r1="exact",
        curvature=spec["curvature"],  # type: ignore[arg-type]
        secant_step=float(params.get("secant_step", SECANT_STEP)),
    )
    return spec["activation"], options


def build_network(
    params: Mapping[str, Any], input_shape, num_classes: int, activation: str, dtype, seed: int
) -> torch.nn.Module:
    """:func:`~mixtheory.models.build_model` with ``params``' architecture; a ReLU ResNet-18 (which
    ``smooth_resnet18`` refuses) is the GELU one with every ``nn.GELU`` replaced by ``nn.ReLU``."""
    relu_resnet = params["arch"] == "resnet18" and activation == "relu"
    model = build_model(
        params["arch"],
        input_shape,
        num_classes,
        "gelu" if relu_resnet else activation,
        hidden=tuple(params["hidden"]),
        channels=tuple(params.get("channels", (8, 16))),
        dtype=dtype,
        seed=seed,
    )
    if relu_resnet:
        for module in list(model.modules()):
            for name, child in module.named_children():
                if isinstance(child, torch.nn.GELU):
                    setattr(module, name, torch.nn.ReLU())
    return model


def split_variants(rows: list[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
    """Rows by ``variant`` (``None`` for rows without one), each with ``unit`` set to its training
    regime (``erm-relu-secant`` → ``erm``), in first-seen order."""
    out: dict[str | None, list[dict[str, Any]]] = {}
    for r in rows:
        v = r.get("variant") or None
        if isinstance(v, float):  # an empty CSV cell read back as NaN
            v = None
        unit = r.get("unit")
        if v is not None and isinstance(unit, str) and unit.endswith(f"-{v}"):
            r = {**r, "unit": unit[: -len(v) - 1]}
        out.setdefault(v, []).append(r)
    return out


def per_variant_checks(
    h: dict[str, Any], checks_one: Callable[[dict[str, Any]], dict[str, bool]]
) -> dict[str, bool]:
    """``checks_one`` on a headline, or on each variant's headline (full runs), labelled by variant."""
    if "variants" in h:
        return {
            f"[{VARIANTS[v]['label']}] {name}": ok
            for v, hv in h["variants"].items()
            for name, ok in checks_one(hv).items()
        }
    return checks_one(h)
