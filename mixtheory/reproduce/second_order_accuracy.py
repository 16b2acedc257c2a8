r"""Second-order accuracy: how close each second-order expansion comes to the exact mixup loss.

Two expansions of the same loss E_mix (``docs/theory.md §1.1``):

- Carratino et al. (JMLR 2022, Theorem 3; ``docs/theory.md §4``) around the contracted points
  (x̃_i, ỹ_i): ``E_Q = (1/n) Σ_i [erm_i + R13 + R2 + R4]``, R13 = R1 + R3 computed directly
  (``docs/theory.md §4.3, §5``; R1 and R3 are never summed);
- Zhang et al. (ICLR 2021, Lemma 3.1; ``docs/theory.md §8.2``) around the anchors x_i with the
  λ̃ law, R3 with its correct coefficient E(1−λ̃)², and, for the ledger entry on the printed
  lemma, R3 with the printed E[1 − λ̃²].

Both against the exact E_mix (quadrature over θ times every partner, ``docs/theory.md §6.1``), on
the same networks: a tanh MLP trained on the bundled digits by ERM and by mixup (α = 0.5, the
slides' value), evaluated at checkpoints over training and at several α of the evaluated law.
Every quantity on the same n evaluation samples (the first ``n_eval`` training samples).

Headline (measured, checked): which expansion is closer, |E_Q − E_mix| against
|E_Zhang − E_mix|, at every α and every checkpoint, for both training regimes; the test accuracy
is recorded so that the best and the last checkpoint can both be reported.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..closed_form import taylor_regularizers
from ..exact_loss import LossOptions, exact_mixup_loss
from ..expansions.second_order import CARRATINO_TERMS, second_order_from_terms
from ..expansions.zhang2021 import zhang_expansion
from ..geometry import MixupGeometry
from ..laws import SymmetricBeta
from ..models import build_model
from ..regularizers import CancellationWarning
from ..training import train
from ._registry import Config, DrawInfo, Figure, Unit, register
from ._runner import Context, aggregate, select
from ._training import accuracy, adam_config, adam_objective, at_epochs, load_data

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = ["FIGURE", "EXPANSIONS"]

EXPANSIONS = {
    "carratino": "Carratino et al. (around x̃ᵢ)",
    "zhang": "Zhang et al. (around xᵢ)",
    "zhang_printed": "Zhang et al., R3 as printed",
}


def _units(params: Mapping[str, Any]) -> list[Unit]:
    return [Unit("erm", {"mixup_alpha": None}), Unit("mixup", {"mixup_alpha": float(params["train_alpha"])})]


def compute(unit: Unit, seed: int, params: Mapping[str, Any], ctx: Context) -> list[dict[str, Any]]:
    dtype = torch.float64
    split = load_data(params["data"], ctx, num_samples=int(params["num_samples"]), seed=seed, dtype=dtype)
    X, y = split.X_train.to(ctx.device), split.y_train.to(ctx.device)
    X_test, y_test = split.X_test.to(ctx.device), split.y_test.to(ctx.device)
    X_eval, y_eval = X[: int(params["n_eval"])], y[: int(params["n_eval"])]
    arch = params["arch"]
    model = build_model(
        arch,
        split.input_shape,
        split.num_classes,
        params["activation"],
        hidden=tuple(params["hidden"]),
        channels=tuple(params.get("channels", (8, 16))),
        dtype=dtype,
        seed=seed,
    ).to(ctx.device)
    rows: list[dict[str, Any]] = []

    def evaluate(epoch: int) -> None:
        rows.append({"epoch": epoch, "metric": "test_accuracy", "value": accuracy(model, X_test, y_test)})
        for alpha in params["alphas"]:
            law = SymmetricBeta(float(alpha))
            exact = exact_mixup_loss(
                model,
                X_eval,
                y_eval,
                law,
                options=LossOptions(num_nodes=int(params["num_nodes"]), progress=False),
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CancellationWarning)  # R13 is what E_Q uses
                regs = taylor_regularizers(
                    model, MixupGeometry(X_eval, y_eval, law), "ce", chunk_size=int(params["chunk_size"])
                )
            values = {
                "exact": exact,
                "carratino": second_order_from_terms(regs, CARRATINO_TERMS),
                "zhang": zhang_expansion(model, X_eval, y_eval, law).loss(),
                "zhang_printed": zhang_expansion(model, X_eval, y_eval, law, r3_form="printed").loss(),
            }
            for key in EXPANSIONS:
                values[f"abs_error_{key}"] = abs(values[key] - exact)
            rows.extend(
                {"epoch": epoch, "alpha": float(alpha), "metric": k, "value": float(v)}
                for k, v in values.items()
            )

    config = adam_config(
        ctx,
        epochs=max(params["checkpoints"]),
        lr=float(params["lr"]),
        batch_size=int(params["batch_size"]),
        seed=seed,
    )
    objective = adam_objective(unit.params["mixup_alpha"])
    train(model, X, y, objective, config, on_epoch=at_epochs(params["checkpoints"], evaluate))
    return rows


def _best_epochs(rows: list[dict[str, Any]]) -> dict[tuple[str, int], int]:
    """(regime, seed) → the checkpoint with the highest test accuracy (the earliest on ties)."""
    best: dict[tuple[str, int], tuple[float, int]] = {}
    for r in select(rows, metric="test_accuracy"):
        key = (r["unit"], int(r["seed"]))
        cand = (r["value"], -int(r["epoch"]))
        if key not in best or cand > best[key]:
            best[key] = cand
    return {k: -v[1] for k, v in best.items()}


def headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    errors = [r for r in rows if str(r["metric"]).startswith("abs_error")]
    cells: dict[tuple, dict[str, float]] = {}
    for r in errors:
        cells.setdefault((r["unit"], r["seed"], r["epoch"], r["alpha"]), {})[r["metric"]] = r["value"]
    ratios = [c["abs_error_zhang"] / c["abs_error_carratino"] for c in cells.values()]
    last = max(int(r["epoch"]) for r in rows)
    best = _best_epochs(rows)
    summary: dict[str, Any] = {}
    for regime in sorted({r["unit"] for r in rows}):
        for label, pick in (
            ("last", lambda seed: last),
            ("best", lambda seed, regime=regime: best[(regime, seed)]),
        ):
            entry: dict[str, Any] = {}
            for key in EXPANSIONS:
                per_alpha: dict[float, list[float]] = {}
                for (u, seed, epoch, alpha), c in cells.items():
                    if u == regime and epoch == pick(seed):
                        per_alpha.setdefault(alpha, []).append(c[f"abs_error_{key}"])
                entry[key] = {
                    f"{a:g}": [float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0]
                    for a, v in sorted(per_alpha.items())
                }
            acc = [
                r["value"]
                for r in select(rows, unit=regime, metric="test_accuracy")
                if int(r["epoch"]) == pick(int(r["seed"]))
            ]
            entry["test_accuracy"] = [
                float(np.mean(acc)),
                float(np.std(acc, ddof=1)) if len(acc) > 1 else 0.0,
            ]
            summary[f"{regime}_{label}_epoch"] = entry
    closer = all(r > 1 for r in ratios)
    return {
        "carratino_closer_everywhere": closer,
        "cells": len(ratios),
        "min_ratio_zhang_over_carratino": float(min(ratios)),
        "median_ratio_zhang_over_carratino": float(np.median(ratios)),
        "best_epochs": {f"{u}/seed{s}": e for (u, s), e in sorted(best.items())},
        "summary": summary,
        "text": (
            f"Carratino's expansion is closer to E_mix than Zhang's in {sum(r > 1 for r in ratios)} of "
            f"{len(ratios)} (regime, seed, epoch, α) cells; |error_Zhang|/|error_Carratino| ranges from "
            f"{min(ratios):.2g} (median {np.median(ratios):.2g})."
        ),
    }


def checks(h: dict[str, Any]) -> dict[str, bool]:
    return {"Carratino's expansion closer at every alpha and checkpoint": h["carratino_closer_everywhere"]}


def draw(rows: list[dict[str, Any]], info: DrawInfo) -> MplFigure:
    """Error against α (last checkpoint), against epochs (the training α), and the test accuracy;
    colour = expansion, line style and marker = training regime, one shared legend below."""
    from ._plotting import COLORS, aggregate_line, pyplot

    plt = pyplot()
    agg = aggregate(r for r in rows if r.get("alpha") is not None)
    last = max(int(r["epoch"]) for r in rows)
    train_alpha = float(info.config.params["train_alpha"])
    fig, (a_alpha, a_epoch, a_acc) = plt.subplots(1, 3, figsize=(16, 6.2), layout="constrained")
    styles = {"erm": ("-", "o", "ERM-trained"), "mixup": ("--", "s", f"mixup-trained (α = {train_alpha:g})")}
    for regime, (ls, marker, regime_label) in styles.items():
        for color, (key, label) in zip(COLORS, EXPANSIONS.items()):
            style = {"color": color, "ls": ls, "marker": marker, "label": f"{label}; {regime_label}"}
            if key == "zhang_printed":  # often on top of the correct form: hollow, larger, drawn above
                style.update(markerfacecolor="none", markersize=8, lw=1.0, zorder=5)
            for ax, where, x in (
                (a_alpha, {"epoch": last}, "alpha"),
                (a_epoch, {"alpha": train_alpha}, "epoch"),
            ):
                picked = select(agg, unit=regime, metric=f"abs_error_{key}", **where)
                aggregate_line(
                    ax,
                    picked,
                    x=x,
                    **style,
                )
        acc = aggregate(select(rows, unit=regime, metric="test_accuracy"))
        aggregate_line(
            a_acc,
            acc,
            color="black",
            ls=ls,
            marker=marker,
            label=regime_label,
        )
    a_alpha.set(
        xscale="log",
        yscale="log",
        xlabel="α of the evaluated law Beta(α, α)",
        ylabel="|E_expansion − E_mix|",
        title=f"error against α (epoch {last})",
    )
    a_epoch.set(
        xscale="log",
        yscale="log",
        xlabel="training epoch",
        ylabel="|E_expansion − E_mix|",
        title=f"error against training time (α = {train_alpha:g})",
    )
    a_acc.set(
        xscale="log", xlabel="training epoch", ylabel="test accuracy", title="test accuracy of the networks"
    )
    a_acc.legend(fontsize=8)
    handles, labels = a_alpha.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8)
    fig.suptitle(info.title + "; error bars ± std over seeds")
    return fig


_QUICK = {
    "data": "digits",
    "num_samples": 400,
    "n_eval": 100,
    "arch": "mlp",
    "activation": "tanh",
    "hidden": (32,),
    "train_alpha": 0.5,
    "alphas": (0.1, 0.5, 2.0),
    "checkpoints": (3, 10, 30, 100),
    "lr": 1e-2,
    "batch_size": 50,
    "num_nodes": 16,
    "chunk_size": 256,
}
_FULL = {
    "data": "cifar10",
    "num_samples": 12_000,
    "n_eval": 256,
    "arch": "cnn",
    "activation": "gelu",
    "hidden": (128,),
    "channels": (32, 64),
    "train_alpha": 0.5,
    "alphas": (0.1, 0.2, 0.5, 1.0, 2.0),
    "checkpoints": (1, 3, 10, 30, 100),
    "lr": 1e-3,
    "batch_size": 128,
    "num_nodes": 32,
    "chunk_size": 4,
}

FIGURE = register(
    Figure(
        name="second-order-accuracy",
        title="Second-order expansions of the mixup loss against the exact loss (Carratino vs Zhang)",
        claims=(),
        statement="Both second-order expansions approximate the mixup loss (Zhang et al.'s Lemma 3.1 as "
        "quoted in the data-valuation slides; Carratino et al.'s Theorem 3).",
        quick=Config(
            "bundled 8×8 digits (300 train, 100 evaluated), tanh MLP 64-32-10, float64", _QUICK, seeds=2
        ),
        full=Config(
            "CIFAR-10 (9,000 train subset, 256 evaluated), GELU CNN 32-64, float64",
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
