r"""Hard against easy samples: R1, R13 and R2 by hardness decile, with the prediction confidence held fixed.

The data-valuation slides read "hard examples x_i get larger R1(f) values compared to easy examples
x_j" (ledger ``seed000-hard-examples-r1``), with hardness from forgetting events. On a softmax
network R1 of Corollary 4 (Carratino et al., JMLR 2022; ``docs/theory.md §4.5``) grows like
1/min_k S_k(f(x̃_i)) (``docs/theory.md §5.1``): a confidence effect, and hardness is itself low
confidence. So the question is whether hardness tells anything about R1 *beyond* the confidence.

Here: a network trained with mixup (α = 0.5), hardness measured three ways on the same fixed
training samples — forgetting events over the whole run (Toneva et al., ICLR 2019), EL2N and GraNd
early in training (Paul, Ganguli, Dziugaite, NeurIPS 2021) — and at the last epoch the per-sample
R1, R13 = R1 + R3 (computed directly) and R2 of the α = 0.5 geometry, and the confidence
c_i = max S(f(x̃_i)) at the point where Corollary 4 evaluates H. For each (regularizer, hardness):

- the regularizer's mean by hardness decile (deciles of the rank, ties sharing a decile);
- Spearman ρ(regularizer, hardness), and the partial Spearman ρ given log-odds confidence: the
  Pearson correlation of the residuals of the ranks after a least-squares fit on the rank of the
  confidence.

Headline (measured, checked): the raw and partial correlations, mean ± std over seeds, and whether
"hard samples get larger R1" survives the control (partial ρ > 0 in every seed, for each hardness).
Quick run: raw ρ(R1, hardness) < 0 for all three measures (hard samples get *smaller* R1: R1 grows
with the confidence, ρ ≈ +0.5, since 1/min S grows as the softmax saturates); given the confidence,
ρ ≈ +0.2 for EL2N and GraNd and ≈ 0 for forgetting (most samples are never forgotten there).

Network variants (full run only; the quick run has one smooth tanh MLP, one unit ``all`` and no
``variant`` column): the sources' ReLU ResNet-18 has a zero input Hessian almost everywhere, so its
autograd R2 is 0. The full run trains both variants of
:data:`~mixtheory.reproduce._variants.VARIANTS`, one unit each: the **ReLU ResNet-18
with R2 by secant curvature** (second differences at step h = ``secant_step`` = 1 times the probe,
whose covariance is Σ_xx: the perturbation's own scale) and the **smooth (GELU) ResNet-18 with R2
by autograd**; the figure draws one block of panels per variant, titled with its label.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..laws import SymmetricBeta
from ..regularizers import CancellationWarning
from ..training import (
    EL2NRecorder,
    ForgettingRecorder,
    GraNdRecorder,
    Mixup,
    RegularizerRecorder,
    train,
)
from ._registry import Config, DrawInfo, Figure, Unit, register
from ._runner import Context, aggregate, select
from ._training import adamw_config, load_data
from ._variants import (
    SECANT_STEP,
    VARIANTS,
    build_network,
    per_variant_checks,
    split_variants,
    variant_setup,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = ["FIGURE", "REGULARIZERS", "HARDNESS", "partial_spearman", "rank_deciles"]

REGULARIZERS = ("R1", "R13", "R2")
HARDNESS = ("forgetting", "EL2N", "GraNd")


class _AtEpochs:
    """Mixin: record only at ``epochs`` (the wrapped recorder's rows and arrays otherwise)."""

    def __init__(self, *args, epochs, **kwargs):
        super().__init__(*args, **kwargs)
        self.epochs = {int(e) for e in epochs}

    def record(self, ctx, epoch: int) -> None:
        if epoch in self.epochs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CancellationWarning)  # R13 is read, never R1 + R3
                super().record(ctx, epoch)


class _Regularizers(_AtEpochs, RegularizerRecorder):
    """Adds ``confidence`` = max S(f(x̃_i)), where Corollary 4 evaluates H, to each row."""

    def record(self, ctx, epoch: int) -> None:
        before = len(self.rows)
        super().record(ctx, epoch)
        if len(self.rows) == before:
            return
        geometry = self.geometry(ctx.data, self.law)
        idx = self.indices.to(geometry.device)
        with torch.no_grad():
            u = ctx.model(geometry.as_inputs(geometry.x_tilde[idx]))
            conf = torch.softmax(u, -1).max(-1).values.to("cpu", torch.float64).tolist()
        for row, c in zip(self.rows[before:], conf):
            row["confidence"] = c


class _EL2N(_AtEpochs, EL2NRecorder):
    pass


class _GraNd(_AtEpochs, GraNdRecorder):
    pass


class _Forgetting(_AtEpochs, ForgettingRecorder):
    pass


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x)


def rank_deciles(x: np.ndarray) -> np.ndarray:
    """Decile 0 (lowest) … 9 of each entry by its average rank: tied entries share a decile.

    >>> rank_deciles(np.array([0, 0, 0, 0, 0, 1, 2, 3, 4, 5.0])).tolist()
    [2, 2, 2, 2, 2, 5, 6, 7, 8, 9]
    """
    n = len(x)
    return np.minimum(((_ranks(x) - 0.5) * 10 // n).astype(int), 9)


def partial_spearman(a: np.ndarray, b: np.ndarray, control: np.ndarray) -> float:
    """Spearman correlation of ``a`` and ``b`` with ``control`` held fixed: the Pearson correlation
    of the residuals of rank(a) and rank(b) after a least-squares line in rank(control).

    >>> g = np.random.default_rng(0); c = g.normal(size=500)
    >>> a, b = c + 0.1 * g.normal(size=500), c + 0.1 * g.normal(size=500)
    >>> round(partial_spearman(a, b, c), 1)  # everything shared goes through c
    0.0
    """
    ra, rb, rc = _ranks(a), _ranks(b), _ranks(control)
    design = np.column_stack([np.ones_like(rc), rc])
    res_a = ra - design @ np.linalg.lstsq(design, ra, rcond=None)[0]
    res_b = rb - design @ np.linalg.lstsq(design, rb, rcond=None)[0]
    return float((res_a @ res_b) / np.sqrt((res_a @ res_a) * (res_b @ res_b)))


def _units(params: Mapping[str, Any]) -> list[Unit]:
    if "variants" not in params:
        return [Unit("all")]
    return [Unit(v, {"variant": v}) for v in params["variants"]]


def compute(unit: Unit, seed: int, params: Mapping[str, Any], ctx: Context) -> list[dict[str, Any]]:
    variant = unit.params.get("variant")
    rows = _compute(seed, params, ctx, variant)
    if variant is not None:
        rows = [{"variant": variant, **r} for r in rows]
    return rows


def _compute(seed: int, params: Mapping[str, Any], ctx: Context, variant: str | None) -> list[dict[str, Any]]:
    dtype = torch.float64 if params["dtype"] == "float64" else torch.float32
    split = load_data(params["data"], ctx, num_samples=params["num_samples"], seed=0, dtype=dtype)
    activation, options = variant_setup(params, variant)
    model = build_network(params, split.input_shape, split.num_classes, activation, dtype, seed)
    epochs, early = int(params["epochs"]), int(params["score_epoch"])
    m, sample_seed = int(params["num_evaluated"]), 2_000 + seed
    regs = _Regularizers(
        m,
        epochs=[epochs],
        num_probes=int(params["num_probes"]),
        options=options,
        law=SymmetricBeta(0.5),
        seed=sample_seed,
    )
    scores = [_EL2N(m, epochs=[early], seed=sample_seed), _GraNd(m, epochs=[early], seed=sample_seed)]
    forgetting = _Forgetting(m, epochs=[epochs], seed=sample_seed)
    result = train(
        model,
        split.X_train,
        split.y_train,
        Mixup(float(params["alpha"])),
        adamw_config(params, ctx, seed, epochs=epochs, progress=ctx.progress),
        recorders=[regs, *scores, forgetting],
    )
    per = {r["sample"]: dict(r) for r in regs.rows}
    for rec, key in ((scores[0], "el2n"), (scores[1], "grand"), (forgetting, "events")):
        for r in rec.rows:
            per[r["sample"]][key] = r[key]
    rows = _rank_rows(per)
    with torch.no_grad():
        X_test = split.X_test.to(ctx.device)
        acc = float((result.model(X_test).argmax(-1).cpu() == split.y_test).double().mean())
    rows.append({"metric": "test_accuracy", "value": acc})
    return rows


def _rank_rows(per: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rank correlations of each regularizer with each hardness measure (plain and partial, given
    the logit of the confidence), their medians by hardness decile, and the correlations with the
    confidence. ``per``: sample → its recorded regularizers, confidence, EL2N, GraNd and events."""
    from scipy.stats import spearmanr

    samples = sorted(per)
    conf = np.array([per[s]["confidence"] for s in samples], dtype=np.float64)
    logit_conf = np.log(conf) - np.log1p(-np.minimum(conf, 1 - 1e-16))
    values = {k: np.array([per[s][k] for s in samples], dtype=np.float64) for k in REGULARIZERS}
    hardness = {
        "forgetting": np.array([per[s]["events"] for s in samples], dtype=np.float64),
        "EL2N": np.array([per[s]["el2n"] for s in samples], dtype=np.float64),
        "GraNd": np.array([per[s]["grand"] for s in samples], dtype=np.float64),
    }
    rows: list[dict[str, Any]] = []
    for h, score in hardness.items():
        dec = rank_deciles(score)
        for reg, v in values.items():
            rows.append(
                {
                    "hardness": h,
                    "regularizer": reg,
                    "metric": "spearman",
                    "value": float(spearmanr(v, score).statistic),
                }
            )
            rows.append(
                {
                    "hardness": h,
                    "regularizer": reg,
                    "metric": "partial_spearman",
                    "value": partial_spearman(v, score, logit_conf),
                }
            )
            for d in np.unique(dec):
                rows.append(
                    {
                        "hardness": h,
                        "regularizer": reg,
                        "decile": int(d),
                        "metric": "decile_median",
                        "value": float(np.median(v[dec == d])),
                    }
                )
        rows.append(
            {
                "hardness": h,
                "metric": "spearman_with_confidence",
                "value": float(spearmanr(score, conf).statistic),
            }
        )
    for reg, v in values.items():
        rows.append(
            {
                "regularizer": reg,
                "metric": "spearman_with_confidence",
                "value": float(spearmanr(v, conf).statistic),
            }
        )
    rows.append(
        {"metric": "samples_with_forgetting_events", "value": float((hardness["forgetting"] > 0).mean())}
    )
    return rows


def headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The measured headline (:func:`_headline_one`); with network variants (full run), one per
    variant under ``"variants"`` and their texts joined, each led by the variant's label."""
    parts = split_variants(rows)
    if list(parts) == [None]:
        return _headline_one(parts[None])
    per = {v: _headline_one(r) for v, r in parts.items()}
    return {
        "variants": per,
        "text": " | ".join(f"{VARIANTS[v]['label']}: {h['text']}" for v, h in per.items()),
    }


def _headline_one(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"spearman": {}, "partial_spearman": {}}
    survives: dict[str, bool] = {}
    for metric in ("spearman", "partial_spearman"):
        for reg in REGULARIZERS:
            for h in HARDNESS:
                vals = [r["value"] for r in select(rows, metric=metric, regularizer=reg, hardness=h)]
                out[metric][f"{reg}~{h}"] = [
                    float(np.mean(vals)),
                    float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0,
                ]
                if metric == "partial_spearman" and reg == "R1":
                    survives[h] = bool(min(vals) > 0)
    out["hard_larger_R1_raw"] = {h: bool(out["spearman"][f"R1~{h}"][0] > 0) for h in HARDNESS}
    out["hard_larger_R1_given_confidence"] = survives
    out["R1_confidence_spearman"] = float(
        np.mean([r["value"] for r in select(rows, metric="spearman_with_confidence", regularizer="R1")])
    )
    out["share_with_forgetting_events"] = float(
        np.mean([r["value"] for r in select(rows, metric="samples_with_forgetting_events")])
    )
    out["test_accuracy"] = float(np.mean([r["value"] for r in select(rows, metric="test_accuracy")]))
    ps, sp = out["partial_spearman"], out["spearman"]
    out["text"] = (
        "Spearman ρ(R1, hardness), raw → given confidence: "
        + "; ".join(f"{h} {sp[f'R1~{h}'][0]:+.2f} → {ps[f'R1~{h}'][0]:+.2f}" for h in HARDNESS)
        + f". R1 against confidence max S(f(x̃)): ρ = {out['R1_confidence_spearman']:+.2f}. "
        + "R13 given confidence: "
        + "; ".join(f"{h} {ps[f'R13~{h}'][0]:+.2f}" for h in HARDNESS)
        + ". 'Hard samples get larger R1' survives the control for: "
        + (", ".join(h for h, ok in survives.items() if ok) or "no hardness measure")
        + "."
    )
    return out


def checks(h: dict[str, Any]) -> dict[str, bool]:
    return per_variant_checks(h, _checks_one)


def _checks_one(h: dict[str, Any]) -> dict[str, bool]:
    return {
        "raw: hard samples get smaller, not larger, R1 (Spearman < 0 for every hardness measure)": not any(
            h["hard_larger_R1_raw"].values()
        ),
        "R1 rises with the confidence max S(f(x-tilde)) (Spearman > 0.3)": h["R1_confidence_spearman"] > 0.3,
    }


def _draw_deciles(fig: Any, grid: Any, agg: list[dict[str, Any]]) -> None:
    """Top row of ``grid``: one panel per regularizer, its median by hardness decile."""
    from ._plotting import COLORS, aggregate_line

    for col, reg in enumerate(REGULARIZERS):
        ax = fig.add_subplot(grid[0, col])
        for color, (marker, h) in zip(COLORS, zip("osD", HARDNESS)):
            picked = select(agg, metric="decile_median", regularizer=reg, hardness=h)
            aggregate_line(
                ax,
                picked,
                x="decile",
                color=color,
                marker=marker,
                label=f"deciles of {h}",
            )
        ax.set(
            xlabel="hardness decile (0 = easiest; tied samples share a decile)",
            ylabel=f"median {reg} in the decile",
            title=f"{reg}"
            + (
                " = R13 − R3 (Corollary 4)" if reg == "R1" else " (computed directly)" if reg == "R13" else ""
            ),
            xticks=range(10),
        )
        if reg == "R1":
            ax.set_yscale("log")
        ax.legend(fontsize=8)


def _draw_correlations(fig: Any, grid: Any, agg: list[dict[str, Any]]) -> None:
    """Bottom row of ``grid``: raw against partial Spearman ρ per (regularizer, hardness)."""
    from ._plotting import COLORS

    ax = fig.add_subplot(grid[1, :])
    labels, width = [], 0.38
    for k, (reg, h) in enumerate((reg, h) for reg in REGULARIZERS for h in HARDNESS):
        labels.append(f"{reg} ~ {h}")
        for offset, metric, color, name in (
            (-width / 2, "spearman", COLORS[0], "Spearman ρ (raw)"),
            (width / 2, "partial_spearman", COLORS[1], "partial Spearman ρ given confidence max S(f(x̃ᵢ))"),
        ):
            r = select(agg, metric=metric, regularizer=reg, hardness=h)[0]
            ax.bar(
                k + offset,
                r["mean"],
                width,
                yerr=r["std"],
                color=color,
                capsize=3,
                label=name if k == 0 else None,
            )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(range(len(labels)), labels, rotation=20, fontsize=8)
    ax.set(
        ylabel="rank correlation with hardness",
        ylim=(-1, 1),
        title="Does hardness predict the regularizer beyond the confidence?",
    )
    ax.legend(fontsize=8, loc="lower left")


def _draw_block(fig: Any, agg: list[dict[str, Any]]) -> float:
    """The decile panels and the correlation bars of one network into ``fig`` (a figure or a
    subfigure); returns the test accuracy."""
    grid = fig.add_gridspec(2, 3)
    _draw_deciles(fig, grid, agg)
    _draw_correlations(fig, grid, agg)
    return select(agg, metric="test_accuracy")[0]["mean"]


def draw(rows: list[dict[str, Any]], info: DrawInfo) -> MplFigure:
    """Top: one panel per regularizer, the median by hardness decile (one line per hardness measure,
    ± std over seeds; R1 on a log scale). Bottom: raw against partial Spearman ρ per (regularizer,
    hardness) as grouped bars ± std over seeds. With network variants (full run), one such block per
    variant, stacked, titled with its label ("ReLU ResNet-18, R2 by secant curvature" / "smooth
    (GELU) ResNet-18, R2 by autograd")."""
    from ._plotting import pyplot

    plt = pyplot()
    p = info.config.params
    head = (
        f"{info.title}\n{p['num_evaluated']} random training samples per seed, R at epoch {p['epochs']}, "
        f"EL2N/GraNd at epoch {p['score_epoch']}, forgetting over all epochs; "
    )
    parts = split_variants(rows)
    if list(parts) == [None]:
        fig = plt.figure(figsize=(15, 9.5), layout="constrained")
        acc = _draw_block(fig, aggregate(parts[None]))
        fig.suptitle(f"{head}test accuracy {acc:.3f}; error bars ± std over seeds")
        return fig
    fig = plt.figure(figsize=(15, 9.5 * len(parts)), layout="constrained")
    for sub, (v, vrows) in zip(np.atleast_1d(fig.subfigures(len(parts), 1)), parts.items()):
        acc = _draw_block(sub, aggregate(vrows))
        sub.suptitle(f"{VARIANTS[v]['label']}; test accuracy {acc:.3f}", fontweight="bold")
    fig.suptitle(f"{head}error bars ± std over seeds")
    return fig


_QUICK = {
    "data": "digits",
    "num_samples": 800,
    "arch": "mlp",
    "activation": "tanh",
    "hidden": (64, 32),
    "dtype": "float64",
    "alpha": 0.5,
    "epochs": 40,
    "score_epoch": 4,
    "lr": 1e-2,
    "weight_decay": 5e-4,
    "batch_size": 32,
    "num_evaluated": 300,
    "num_probes": 16,
}
_FULL = {
    "data": "cifar10",
    "num_samples": None,
    "arch": "resnet18",
    "activation": "gelu",
    "hidden": (256,),
    "dtype": "float32",
    "alpha": 0.5,
    "epochs": 200,
    "score_epoch": 20,
    "lr": 1e-3,
    "weight_decay": 5e-4,
    "batch_size": 128,
    "num_evaluated": 1000,
    "num_probes": 16,
    "variants": ("relu-secant", "gelu-autograd"),
    "secant_step": SECANT_STEP,
}

FIGURE = register(
    Figure(
        name="hard-vs-easy",
        title="R1, R13 and R2 by hardness decile (forgetting, EL2N, GraNd), confidence controlled",
        claims=("seed000-hard-examples-r1",),
        statement='"Hard examples x_i get larger R_1(f) values compared to easy examples x_j" '
        "(data-valuation slides, forgetting-score hardness, CIFAR-10 ResNet-18, α = 0.5).",
        quick=Config(
            "bundled 8×8 digits (600 train), tanh MLP 64-64-32-10, float64, mixup α = 0.5, AdamW 40 epochs",
            _QUICK,
            seeds=3,
        ),
        standard=Config(
            "bundled 8×8 digits (600 train), tanh MLP 64-64-32-10, float64, mixup α = 0.5, AdamW 40 epochs",
            _QUICK,
            seeds=10,
        ),
        full=Config(
            "CIFAR-10 (50,000 train), two ResNet-18s: ReLU with R2 by secant curvature (h = 1) and "
            "smooth (GELU) with R2 by autograd; float32, mixup α = 0.5, AdamW 200 epochs",
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
