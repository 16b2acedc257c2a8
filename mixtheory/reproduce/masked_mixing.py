r"""Masked mixing (Park, Yun, Chun, NeurIPS 2022, figure 4): which pixel pairs each method regularizes.

Park et al. write the loss of a mixed-sample augmentation as ERM plus terms whose pixel-pair weights
are the mask's second moment (``docs/theory.md §8.3``): Mixup weights every pair (p, q) alike,
CutMix weights a pair by the chance that both pixels fall in the box, which falls with their
distance ("CutMix regularises nearby pixels more", ``seed004-cutmix-locality``). Two sides:

- **theory**: the tilted-hole weights ``W = E[H̃H̃ᵀ]`` of
  :func:`mixtheory.expansions.park2022.pixel_pair_weights` for Mixup, CutMix, HMix, GMix
  (λ ~ Beta(1, 1); the default conventions, CutMix ``"timm"``, HMix and GMix ``"park2022"``,
  ``docs/theory.md §8.3.1``; the stored copy predates them), reduced to their mean per pixel
  distance by :func:`mixtheory.expansions.park2022.weight_by_distance` and divided by the
  distance-0 value;
- **trained networks**: a small CNN trained with ERM, Mixup and CutMix; on test images the
  input-gradient products ``G[p, q] = E_x[∂ℓ/∂x_p · ∂ℓ/∂x_q]`` (ℓ the cross-entropy at the true
  label), reduced per distance and divided by the distance-0 value (the mean squared gradient), so
  the curves compare the *shape* of the gradient correlations, not their scale. (The paper plots
  ``max_k max_v |∂_v f ∂_{v+p} f|``; the mean product is the quantity its R2 term contracts.)

Headline (measured): the theory's near/far ratio (distance 1 over the largest distance) for each
mask, and the trained networks' normalised gradient product at distance 1 and far away, with the
claim's reading ("after CutMix, nearby products stay relatively larger than after Mixup") as
measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..expansions.park2022 import pixel_pair_weights, weight_by_distance
from ..laws import SymmetricBeta
from ..models import build_model
from ..training import ERMObjective, Mixup, train
from ._registry import Config, DrawInfo, Figure, Unit, register
from ._runner import Context, aggregate, select
from ._training import adamw_config, load_data

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = ["FIGURE", "TRAINED", "MASKS"]

TRAINED = {"erm": "ERM (none)", "mixup": "Mixup", "cutmix": "CutMix"}
MASKS = {"mixup": "Mixup", "cutmix": "CutMix", "hmix": "HMix", "gmix": "GMix"}


def _units(params: Mapping[str, Any]) -> list[Unit]:
    return [Unit("theory", {"kind": "theory"})] + [Unit(k, {"kind": "trained", "method": k}) for k in TRAINED]


def _images(params: Mapping[str, Any], ctx: Context, seed: int):
    split = load_data(params["data"], ctx, num_samples=params["num_samples"], seed=seed, dtype=torch.float32)
    side = int(round(np.sqrt(np.prod(split.input_shape))))
    shape = (1, side, side) if len(split.input_shape) == 1 else tuple(split.input_shape)
    return split, shape


def compute(unit: Unit, seed: int, params: Mapping[str, Any], ctx: Context) -> list[dict[str, Any]]:
    split, shape = _images(params, ctx, seed)
    height, width = shape[-2], shape[-1]
    X_train = split.X_train.reshape(-1, *shape)
    X_test = split.X_test.reshape(-1, *shape)
    law = SymmetricBeta(float(params["alpha"]))
    rows: list[dict[str, Any]] = []
    if unit.params["kind"] == "theory":
        if shape[0] != 1:  # the pair weights of one channel; the mask is shared by the channels
            X_train = X_train[:, :1]
        for mask in MASKS:
            W = pixel_pair_weights(X_train[:32].to(torch.float64), law, None if mask == "mixup" else mask)[
                "mask"
            ]
            dist, mean = weight_by_distance(W, height, width)
            rows.extend(
                {
                    "source": "theory",
                    "method": mask,
                    "distance": float(d),
                    "metric": "pair_weight",
                    "value": float(m / mean[0]),
                }
                for d, m in zip(dist, mean)
            )
        return rows
    method = unit.params["method"]
    objective = (
        ERMObjective()
        if method == "erm"
        else Mixup(float(params["alpha"]), mask=None if method == "mixup" else method)
    )
    model = build_model(
        "cnn",
        shape,
        split.num_classes,
        "gelu",
        hidden=tuple(params["hidden"]),
        channels=tuple(params["channels"]),
        dtype=torch.float32,
        seed=seed,
    )
    train(
        model,
        X_train,
        split.y_train,
        objective,
        adamw_config(params, ctx, seed),
    )
    x = X_test.to(ctx.device).clone().requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(model(x), split.y_test.to(ctx.device), reduction="sum")
    (grad,) = torch.autograd.grad(loss, x)
    g = grad.detach().to("cpu", torch.float64).reshape(grad.shape[0], shape[0], height * width)
    products = torch.einsum("ncp,ncq->pq", g, g) / (g.shape[0] * shape[0])
    dist, mean = weight_by_distance(products, height, width)
    with torch.no_grad():
        acc = float((model(X_test.to(ctx.device)).argmax(-1).cpu() == split.y_test).double().mean())
    rows.extend(
        {
            "source": "trained",
            "method": method,
            "distance": float(d),
            "metric": "gradient_product",
            "value": float(m / mean[0]),
        }
        for d, m in zip(dist, mean)
    )
    rows.append({"source": "trained", "method": method, "metric": "test_accuracy", "value": acc})
    return rows


def _profile(rows, source: str, method: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    agg = aggregate(select(rows, source=source, method=method, metric=metric))
    order = np.argsort([r["distance"] for r in agg])
    return np.array([agg[i]["distance"] for i in order]), np.array([agg[i]["mean"] for i in order])


def headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    theory = {}
    for mask in MASKS:
        d, m = _profile(rows, "theory", mask, "pair_weight")
        far = float(m[d >= 0.5 * d.max()].mean())  # pairs at least half the largest distance apart
        theory[mask] = {
            "near": float(m[d == 1.0][0]),
            "far": far,
            "near_over_far": float(m[d == 1.0][0] / far),
        }
    trained = {}
    for method in TRAINED:
        d, m = _profile(rows, "trained", method, "gradient_product")
        far = d >= 0.5 * d.max()
        acc = [r["value"] for r in select(rows, source="trained", method=method, metric="test_accuracy")]
        trained[method] = {
            "near": float(m[d == 1.0][0]),
            "far_mean": float(m[far].mean()),
            "test_accuracy": float(np.mean(acc)),
        }
    cutmix_local = theory["cutmix"]["near_over_far"] == max(v["near_over_far"] for v in theory.values())
    mixup_flat = abs(theory["mixup"]["near_over_far"] - 1) < 1e-9
    measured_reading = trained["cutmix"]["near"] > trained["mixup"]["near"]
    return {
        "theory": theory,
        "trained": trained,
        "theory_cutmix_more_local": cutmix_local,
        "theory_mixup_flat": mixup_flat,
        "trained_cutmix_nearby_larger_than_mixup": measured_reading,
        "text": (
            "theory (W by distance, ÷ distance 0): "
            + ", ".join(f"{MASKS[k]} near/far {v['near_over_far']:.3g}" for k, v in theory.items())
            + "; trained CNN normalised ∂ℓ∂ℓ product at distance 1 / far: "
            + ", ".join(f"{TRAINED[k]} {v['near']:.3f} / {v['far_mean']:.3f}" for k, v in trained.items())
            + f"; CutMix's nearby product {'above' if measured_reading else 'not above'} Mixup's."
        ),
    }


def checks(h: dict[str, Any]) -> dict[str, bool]:
    return {
        "theory: Mixup's pair weight is flat in distance": h["theory_mixup_flat"],
        "theory: CutMix's near/far weight ratio the largest of the four masks": h["theory_cutmix_more_local"],
        # the tilted weight keeps the anchor's own mask term (1 − w) M Mᵀ, so the far weight is not 0
        "theory: CutMix's near/far weight ratio above 1.5": h["theory"]["cutmix"]["near_over_far"] > 1.5,
    }


def draw(rows: list[dict[str, Any]], info: DrawInfo) -> MplFigure:
    """(a) theory: W per distance for the four masks; (b) trained: normalised gradient products."""
    from ._plotting import COLORS, aggregate_line, pyplot

    plt = pyplot()
    h = headline(rows)
    fig, (a_theory, a_trained) = plt.subplots(1, 2, figsize=(15, 5.8), layout="constrained")
    for color, (mask, label) in zip(COLORS, MASKS.items()):
        d, m = _profile(rows, "theory", mask, "pair_weight")
        a_theory.plot(d, m, color=color, marker="o", markersize=3, label=label)
    a_theory.set(
        xlabel="pixel distance ‖p − q‖",
        ylabel="E[H̃_p H̃_q] ÷ its value at distance 0",
        title="theory: pixel-pair weight of the second-order terms (expansions.park2022.pixel_pair_weights)",
    )
    a_theory.legend(fontsize=9)
    colors = {"erm": COLORS[6], "mixup": COLORS[0], "cutmix": COLORS[1]}
    for method, label in TRAINED.items():
        agg = aggregate(select(rows, source="trained", method=method, metric="gradient_product"))
        acc = h["trained"][method]["test_accuracy"]
        aggregate_line(
            a_trained,
            agg,
            x="distance",
            color=colors[method],
            markersize=3,
            label=f"{label} (test accuracy {acc:.3f})",
        )
    a_trained.axhline(0.0, color="grey", lw=0.8)
    a_trained.set(
        xlabel="pixel distance ‖p − q‖",
        ylabel="E[∂ℓ/∂x_p · ∂ℓ/∂x_q] ÷ its value at distance 0",
        title="trained CNN: input-gradient products on test images",
    )
    a_trained.legend(fontsize=9)
    fig.suptitle(info.title + "; error bars ± std over seeds")
    return fig


_QUICK = {
    "data": "digits",
    "num_samples": 800,
    "alpha": 1.0,
    "hidden": (64,),
    "channels": (16, 32),
    "epochs": 15,
    "batch_size": 64,
    "lr": 3e-3,
    "weight_decay": 1e-4,
}
_FULL = {
    **_QUICK,
    "data": "cifar10",
    "num_samples": 20_000,
    "hidden": (256,),
    "channels": (64, 128),
    "epochs": 100,
    "batch_size": 128,
    "lr": 1e-3,
}

FIGURE = register(
    Figure(
        name="masked-mixing",
        title="Which pixel pairs Mixup and CutMix regularize (Park et al., figure 4)",
        claims=(),
        statement="Under CutMix, strong regularization of ∂_jf∂_kf if pixels j and k are close; Mixup "
        "regularizes all pairs alike.",
        quick=Config(
            "bundled 8×8 digits (600 train / 200 test), GELU CNN 16-32, 15 epochs, λ ~ Beta(1, 1)",
            _QUICK,
            seeds=2,
        ),
        full=Config(
            "CIFAR-10 (15,000 train subset), GELU CNN 64-128, 100 epochs, λ ~ Beta(1, 1) "
            "(≈ 3 methods × 3 seeds × 10 GPU-min on one H100; the 32×32 mask moments on the CPU)",
            _FULL,
            seeds=3,
            requires=("gpu", "cifar10"),
        ),
        units=_units,
        compute=compute,
        draw=draw,
        headline=headline,
        checks=checks,
    )
)
