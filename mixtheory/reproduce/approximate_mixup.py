r"""Approximate mixup between ERM and mixup? The regularizers and accuracy of networks trained by the three.

Carratino et al. (JMLR 2022; ``docs/theory.md §1.2, §8.5``) propose *approximate mixup*: ERM on the
contracted data ``(x̃_i, ỹ_i)`` of Theorem 1, i.e. the second-order mixup loss E_Q with its
regularizers R1 + R2 + R3 dropped, with the test-time rescaling of Eq. 15. The summaries (seeds 000
and 001) read it as "an intermediate compromise between Mixup and ERM training in the view of
regularization" (ledger ``seed000-approximate-mixup``).

Here three networks per seed, same split and initialisation (a tanh MLP in float64 on the bundled
digits): :class:`~mixtheory.training.ERMObjective`, :class:`~mixtheory.training.ApproximateMixup`
(α = 1, logit-space rescaling at test time) and :class:`~mixtheory.training.Mixup` (α = 1). After
training, each network's regularizers are evaluated exactly
(:func:`mixtheory.closed_form.taylor_regularizers`, Corollary 4) on the same fixed anchors with the
same α = 1 geometry of the training set: R1 (the Jacobian term, ≥ 0), R3, R13 = R1 + R3 and R2;
and the test accuracy (approximate mixup through its rescaled predictor). "Between" is read on R1,
the regularizer the summaries discuss (ERM's is orders of magnitude above mixup's on confident
networks; figure ``regularizer-trajectories``).

Headline (measured): per training, mean ± std over seeds of R1, R13, R2, the confidence at x̃_i
and the test accuracy.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..closed_form import taylor_regularizers
from ..geometry import MixupGeometry
from ..laws import SymmetricBeta
from ..models import build_model
from ..regularizers import CancellationWarning
from ..training import ApproximateMixup, ERMObjective, Mixup, train
from ._registry import Config, DrawInfo, Figure, Unit, register
from ._runner import Context, mean_and_std, select
from ._training import accuracy, adamw_config, load_data

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = ["FIGURE", "TRAININGS", "MEASURES"]

TRAININGS = {"erm": "ERM", "approx": "approximate mixup", "mixup": "mixup"}
#: the per-network readouts (regularizers: mean over the evaluated anchors)
MEASURES = ("R1", "R3", "R13", "R2", "confidence_tilde", "test_accuracy")


def _units(params: Mapping[str, Any]) -> list[Unit]:
    return [Unit(key) for key in TRAININGS]


def _objective(key: str, alpha: float):
    if key == "erm":
        return ERMObjective()
    if key == "approx":
        return ApproximateMixup(alpha)
    return Mixup(alpha)


def compute(unit: Unit, seed: int, params: Mapping[str, Any], ctx: Context) -> list[dict[str, Any]]:
    alpha = float(params["alpha"])
    split = load_data(params["data"], ctx, num_samples=params["num_samples"], seed=seed, dtype=torch.float64)
    model = build_model(
        "mlp",
        split.input_shape,
        split.num_classes,
        "tanh",
        hidden=tuple(params["hidden"]),
        dtype=torch.float64,
        seed=seed,
    )
    objective = _objective(unit.key, alpha)
    result = train(
        model,
        split.X_train,
        split.y_train,
        objective,
        adamw_config(params, ctx, seed),
    )
    net = result.model.to("cpu")
    predictor = objective.predictor(net) if unit.key == "approx" else net
    acc = accuracy(predictor, split.X_test, split.y_test)
    geom = MixupGeometry(split.X_train, split.y_train, SymmetricBeta(alpha), num_classes=split.num_classes)
    g = torch.Generator().manual_seed(1000 + seed)
    idx = torch.randperm(len(split.y_train), generator=g)[: int(params["num_evaluated"])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CancellationWarning)  # R13 is computed directly
        regs = taylor_regularizers(net, geom, indices=idx)
    with torch.no_grad():
        conf = torch.softmax(net(geom.as_inputs(geom.x_tilde[idx])), -1).max(-1).values
    rows = [{"metric": k, "value": float(regs[k].mean())} for k in ("R1", "R3", "R13", "R2", "erm")]
    rows += [
        {"metric": "confidence_tilde", "value": float(conf.mean())},
        {"metric": "test_accuracy", "value": acc},
        {"metric": "n_test", "value": float(len(split.y_test))},
    ]
    return rows


def _values(rows: list[dict[str, Any]], key: str, metric: str) -> list[float]:
    return [float(r["value"]) for r in sorted(select(rows, unit=key, metric=metric), key=lambda r: r["seed"])]


def headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        key: {m: mean_and_std(_values(rows, key, m)) for m in MEASURES} for key in TRAININGS
    }
    log_r1 = {key: np.log(_values(rows, key, "R1")) for key in TRAININGS}
    out["log_R1_erm_over_approx"] = mean_and_std(list(log_r1["erm"] - log_r1["approx"]))
    out["log_R1_approx_over_mixup"] = mean_and_std(list(log_r1["approx"] - log_r1["mixup"]))
    out["text"] = (
        "R1 (mean over anchors, α = 1 geometry): "
        + "; ".join(f"{TRAININGS[k]} {out[k]['R1'][0]:.3g} ± {out[k]['R1'][1]:.2g}" for k in TRAININGS)
        + ". R13: "
        + "; ".join(f"{TRAININGS[k]} {out[k]['R13'][0]:+.3f} ± {out[k]['R13'][1]:.3f}" for k in TRAININGS)
        + ". Test accuracy: "
        + "; ".join(f"{TRAININGS[k]} {out[k]['test_accuracy'][0]:.4f}" for k in TRAININGS)
        + "."
    )
    return out


def checks(h: dict[str, Any]) -> dict[str, bool]:
    return {
        "every training reaches 0.8 test accuracy": all(h[k]["test_accuracy"][0] > 0.8 for k in TRAININGS),
        "mixup's R1 below ERM's": h["mixup"]["R1"][0] < h["erm"]["R1"][0],
    }


def draw(rows: list[dict[str, Any]], info: DrawInfo) -> MplFigure:
    """One panel per readout (R1 log-scale, R13, R2, confidence at x̃_i, test accuracy): one dot per
    seed and training, seeds joined across the three trainings (the pairing), bar = mean."""
    from ._plotting import COLORS, pyplot

    plt = pyplot()
    panels = (
        ("R1", "R1 (log scale)"),
        ("R13", "R13 = R1 + R3"),
        ("R2", "R2"),
        ("confidence_tilde", "max S(f(x̃_i))"),
        ("test_accuracy", "test accuracy"),
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(19, 5.6), layout="constrained")
    seeds = sorted({int(r["seed"]) for r in rows})
    for ax, (metric, label) in zip(axes, panels):
        vals = np.array([_values(rows, key, metric) for key in TRAININGS])  # (3, seeds)
        for s in range(vals.shape[1]):
            ax.plot(range(3), vals[:, s], color="grey", lw=0.6, alpha=0.5)
        for k in range(3):
            ax.scatter(np.full(vals.shape[1], k), vals[k], color=COLORS[k], s=20, zorder=3)
            ax.hlines(vals[k].mean(), k - 0.25, k + 0.25, color="black", lw=2, zorder=4)
        ax.set_xticks(range(3), list(TRAININGS.values()), rotation=15)
        ax.set(title=label)
        if metric == "R1":
            ax.set_yscale("log")
    fig.suptitle(
        f"{info.title}\nregularizers on the same anchors with the α = "
        f"{info.config.params['alpha']:g} geometry ({len(seeds)} seeds; dot = seed, line joins a seed's "
        "three networks, bar = mean)"
    )
    return fig


_QUICK = {
    "data": "digits",
    "num_samples": None,
    "hidden": (64,),
    "alpha": 1.0,
    "epochs": 20,
    "batch_size": 64,
    "lr": 1e-2,
    "weight_decay": 5e-4,
    "num_evaluated": 100,
}
_STANDARD = {**_QUICK, "epochs": 40, "num_evaluated": 200}

FIGURE = register(
    Figure(
        name="approximate-mixup",
        title="ERM, approximate mixup and mixup: regularizers R1, R13, R2 and accuracy of the trained "
        "networks",
        claims=("seed000-approximate-mixup",),
        statement="'Approximated Mixup' (dropping the regularization terms) is an intermediate compromise "
        "between Mixup and ERM training in the view of regularization (seeds 000 and 001, after "
        "Carratino et al., JMLR 2022).",
        quick=Config(
            "bundled 8×8 digits (1,348 train / 449 test), tanh MLP 64-64-10, float64, AdamW 20 epochs, "
            "α = 1, 100 evaluated anchors",
            _QUICK,
            seeds=3,
        ),
        standard=Config(
            "bundled 8×8 digits (1,348 train / 449 test per seed), tanh MLP 64-64-10, float64, AdamW 40 "
            "epochs, α = 1, 200 evaluated anchors",
            _STANDARD,
            seeds=10,
        ),
        full=Config(
            "bundled 8×8 digits as the standard scale (the readout is a regularizer ratio, decided on a "
            "CPU), AdamW 40 epochs, 200 evaluated anchors",
            _STANDARD,
            seeds=10,
        ),
        units=_units,
        compute=compute,
        draw=draw,
        headline=headline,
        checks=checks,
    )
)
