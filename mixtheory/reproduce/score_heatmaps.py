r"""Data-valuation scores of mixed samples by the hardness deciles of the two samples mixed.

The data-valuation slides score mixup samples x = λx_i + (1−λ)x_j, y = λy_i + (1−λ)y_j with EL2N
‖softmax(f(x)) − y‖₂ and GraNd ‖∇_w ℓ(f(x), y)‖₂ (Paul, Ganguli, Dziugaite, NeurIPS 2021;
:func:`mixtheory.scores.el2n`, :func:`mixtheory.scores.grand`) and draw heatmaps by the deciles of
i (the sample weighted λ, x-axis) and j (weighted 1 − λ, y-axis), decile 0 the easiest, for
λ ∈ {0, 0.1, …, 0.5}; they conclude "Hard sample × Hard sample mix-up would result in Hard mix-up
sample" (no ledger entry yet).

Here: k small networks (one per seed) trained briefly on the bundled digits; for each network,
the deciles of every training sample's own score under that network, ``pairs_per_cell`` pairs
(i, j) drawn in each of the 10 × 10 cells, every pair scored at every λ, and the cell mean. The
figure averages the cells over the k networks (the slides average the scores over their 10
models first; ranking per network then averaging the cells is the per-unit, resumable version).
GraNd is taken at an earlier epoch than EL2N, as in the slides (5 and 20 there).

Headline (measured, checked): for both scores and every λ, the hard × hard cell (9, 9) scores
higher than the easy × easy cell (0, 0), and at λ = 0 the score follows the partner's decile
alone (it is the partner's own score).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..models import build_model
from ..scores import el2n, grand
from ..training import train
from ._registry import Config, DrawInfo, Figure, Unit, register
from ._runner import Context, aggregate, select
from ._training import adam_config, adam_objective, at_epochs, load_data

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = ["FIGURE", "deciles", "SCORES"]

SCORES = ("EL2N", "GraNd")


def deciles(scores: torch.Tensor) -> torch.Tensor:
    """The decile (0 = lowest score = easiest, 9 = hardest) of each entry, by rank: ``(n,)`` ints."""
    n = scores.numel()
    ranks = torch.empty(n, dtype=torch.long)
    ranks[torch.argsort(scores, stable=True)] = torch.arange(n)
    return ranks * 10 // n


def _score(name: str, model, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    return el2n(model, X, Y) if name == "EL2N" else grand(model, X, Y, chunk_size=256)


def _score_rows(
    name: str,
    epoch: int,
    model: torch.nn.Module,
    X: torch.Tensor,
    labels: torch.Tensor,
    lambdas: list[float],
    m: int,
    seed: int,
) -> list[dict[str, Any]]:
    """Score ``name`` of the model at ``epoch``: the mean score of ``m`` mixed pairs per cell (λ's
    decile, partner's decile) for each λ, then each decile's mean own score."""
    rows: list[dict[str, Any]] = []
    own = _score(name, model, X, labels).cpu()
    dec = deciles(own)
    members = [torch.nonzero(dec == d).ravel() for d in range(10)]
    gen = torch.Generator().manual_seed(1_000 + seed)
    first = torch.cat(
        [members[a][torch.randint(len(members[a]), (10 * m,), generator=gen)] for a in range(10)]
    )  # cell (a, b) holds m pairs, a-major order
    second = torch.cat(
        [
            members[b][torch.randint(len(members[b]), (m,), generator=gen)]
            for _ in range(10)
            for b in range(10)
        ]
    )
    cell_a = torch.arange(10).repeat_interleave(10 * m)
    cell_b = torch.arange(10).repeat_interleave(m).repeat(10)
    for lam in lambdas:
        xi, xj = X[first.to(X.device)], X[second.to(X.device)]
        mixed_x = lam * xi + (1 - lam) * xj
        mixed_y = lam * labels[first.to(X.device)] + (1 - lam) * labels[second.to(X.device)]
        values = _score(name, model, mixed_x, mixed_y).cpu().double()
        means = torch.zeros(100, dtype=torch.float64).index_add_(0, cell_a * 10 + cell_b, values) / m
        rows.extend(
            {
                "score": name,
                "epoch": epoch,
                "lam": lam,
                "decile_lam": a,
                "decile_partner": b,
                "metric": "mean_mixed_score",
                "value": float(means[a * 10 + b]),
            }
            for a in range(10)
            for b in range(10)
        )
    rows.extend(
        {
            "score": name,
            "epoch": epoch,
            "decile": d,
            "metric": "mean_own_score",
            "value": float(own[members[d]].mean()),
        }
        for d in range(10)
    )
    return rows


def compute(unit: Unit, seed: int, params: Mapping[str, Any], ctx: Context) -> list[dict[str, Any]]:
    split = load_data(
        params["data"], ctx, num_samples=int(params["num_samples"]), seed=0, dtype=torch.float32
    )
    X, y = split.X_train.to(ctx.device), split.y_train.to(ctx.device)
    labels = torch.nn.functional.one_hot(y, split.num_classes).to(X.dtype)
    model = build_model(
        params["arch"],
        split.input_shape,
        split.num_classes,
        params["activation"],
        hidden=tuple(params["hidden"]),
        channels=tuple(params.get("channels", (8, 16))),
        seed=seed,
    ).to(ctx.device)
    epochs = {"GraNd": int(params["grand_epoch"]), "EL2N": int(params["el2n_epoch"])}
    lambdas = [float(v) for v in params["lambdas"]]
    m = int(params["pairs_per_cell"])
    rows: list[dict[str, Any]] = []

    def score_now(epoch: int) -> None:
        for name in (s for s in SCORES if epochs[s] == epoch):
            rows.extend(_score_rows(name, epoch, model, X, labels, lambdas, m, seed))

    config = adam_config(
        ctx,
        epochs=max(epochs.values()),
        lr=float(params["lr"]),
        batch_size=int(params["batch_size"]),
        seed=seed,
    )
    train(model, X, y, adam_objective(None), config, on_epoch=at_epochs(epochs.values(), score_now))
    return rows


def _grid(agg: list[dict[str, Any]], score: str, lam: float, key: str = "mean") -> np.ndarray:
    """10 × 10 array indexed [partner decile, λ-sample decile] (rows = y-axis)."""
    grid = np.full((10, 10), np.nan)
    for r in select(agg, score=score, lam=lam, metric="mean_mixed_score"):
        grid[int(r["decile_partner"]), int(r["decile_lam"])] = r[key]
    return grid


def headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    agg = aggregate(rows)
    lambdas = sorted({float(r["lam"]) for r in rows if r.get("lam") is not None})
    out: dict[str, Any] = {"scores": {}}
    hard_wins, lam0_partner = True, True
    for score in SCORES:
        entry = {}
        for lam in lambdas:
            g = _grid(agg, score, lam)
            entry[f"{lam:g}"] = {
                "easy_x_easy": float(g[0, 0]),
                "hard_x_hard": float(g[9, 9]),
                "ratio_hard_over_easy": float(g[9, 9] / g[0, 0]),
                "diagonal_spearman": float(_spearman(np.arange(10), np.diag(g))),
            }
            hard_wins &= bool(g[9, 9] > g[0, 0])
        g0 = _grid(agg, score, 0.0)
        along_partner = np.nanvar(g0.mean(1))
        along_lam = np.nanvar(g0.mean(0))
        entry["lam0_variance_partner_over_lam_sample"] = float(along_partner / max(along_lam, 1e-300))
        lam0_partner &= bool(along_partner > 20 * along_lam)
        entry["el2n_grand_cell_spearman"] = None
        out["scores"][score] = entry
    for lam in lambdas:
        out.setdefault("el2n_vs_grand_cell_spearman", {})[f"{lam:g}"] = float(
            _spearman(_grid(agg, "EL2N", lam).ravel(), _grid(agg, "GraNd", lam).ravel())
        )
    for score in SCORES:
        del out["scores"][score]["el2n_grand_cell_spearman"]
    out["hard_x_hard_above_easy_x_easy"] = hard_wins
    out["lam0_follows_partner"] = lam0_partner
    half = out["scores"]["EL2N"][f"{lambdas[-1]:g}"]
    halfg = out["scores"]["GraNd"][f"{lambdas[-1]:g}"]
    out["text"] = (
        f"hard × hard above easy × easy at every λ, both scores: {hard_wins}; at λ = {lambdas[-1]:g}: EL2N "
        f"{half['easy_x_easy']:.3f} → {half['hard_x_hard']:.3f}, GraNd {halfg['easy_x_easy']:.3f} → "
        f"{halfg['hard_x_hard']:.3f}; EL2N and GraNd cell maps agree (Spearman "
        f"{min(out['el2n_vs_grand_cell_spearman'].values()):.2f}–{max(out['el2n_vs_grand_cell_spearman'].values()):.2f})."
    )
    return out


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def checks(h: dict[str, Any]) -> dict[str, bool]:
    return {
        "hard x hard mixes score above easy x easy (every lambda, both scores)": h[
            "hard_x_hard_above_easy_x_easy"
        ],
        "at lambda = 0 the mixed score follows the partner's decile": h["lam0_follows_partner"],
    }


def draw(rows: list[dict[str, Any]], info: DrawInfo) -> MplFigure:
    """Two rows (EL2N, GraNd) of heatmaps, one per λ on a shared colour scale per row, and a last
    column with the diagonal cells (i and j in the same decile), mean ± std over the k networks."""
    from ._plotting import pyplot

    plt = pyplot()
    agg = aggregate(rows)
    lambdas = sorted({float(r["lam"]) for r in rows if r.get("lam") is not None})
    ncols = len(lambdas) + 1
    fig, axes = plt.subplots(
        2,
        ncols,
        figsize=(3.0 * ncols + 1.5, 7.2),
        layout="constrained",
        gridspec_kw={"width_ratios": [1] * len(lambdas) + [1.5]},
    )
    cmap = plt.get_cmap("viridis")
    for row, score in enumerate(SCORES):
        grids = [_grid(agg, score, lam) for lam in lambdas]
        vmin, vmax = min(np.nanmin(g) for g in grids), max(np.nanmax(g) for g in grids)
        epoch = next(r["epoch"] for r in rows if r.get("score") == score)
        for col, (lam, g) in enumerate(zip(lambdas, grids)):
            ax = axes[row, col]
            image = ax.imshow(g, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax)
            ax.set_title(f"{score}, λ = {lam:g}", fontsize=10)
            ax.set_xticks([0, 9], ["easy", "hard"])
            ax.set_yticks([0, 9], ["easy", "hard"])
            ax.set_xlabel("decile of xᵢ (weight λ)", fontsize=8)
            if col == 0:
                ax.set_ylabel(f"{score} at epoch {epoch}\ndecile of xⱼ (weight 1 − λ)", fontsize=8)
            ax.grid(False)
        fig.colorbar(
            image, ax=axes[row, : len(lambdas)], shrink=0.85, label=f"mean {score} of the mixed samples"
        )
        ax = axes[row, -1]
        colors = cmap(np.linspace(0, 0.9, len(lambdas)))
        for color, lam in zip(colors, lambdas):
            mean, std = np.diag(_grid(agg, score, lam)), np.diag(_grid(agg, score, lam, "std"))
            ax.errorbar(
                np.arange(10),
                mean,
                yerr=std,
                color=color,
                marker="o",
                markersize=3,
                capsize=2,
                label=f"λ = {lam:g}",
            )
        ax.set_xlabel("decile of both xᵢ and xⱼ (0 = easiest)")
        ax.set_ylabel(f"mean {score} of the mixed samples")
        ax.set_title(f"{score}: diagonal cells, ± std over networks", fontsize=10)
        ax.legend(fontsize=7, ncol=2)
    k = len(info.seeds)
    fig.suptitle(
        f"{info.figure.title}\n{info.config.describe} ({info.mode}; cells averaged over k = {k} networks)"
    )
    return fig


_QUICK = {
    "data": "digits",
    "num_samples": 800,
    "arch": "mlp",
    "activation": "tanh",
    "hidden": (64,),
    "lr": 1e-2,
    "batch_size": 64,
    "grand_epoch": 1,
    "el2n_epoch": 4,
    "lambdas": (0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
    "pairs_per_cell": 10,
}
_FULL = {
    "data": "cifar10",
    "num_samples": None,
    "arch": "cnn",
    "activation": "gelu",
    "hidden": (256,),
    "channels": (32, 64, 128),
    "lr": 1e-3,
    "batch_size": 128,
    "grand_epoch": 5,
    "el2n_epoch": 20,
    "lambdas": (0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
    "pairs_per_cell": 50,
}

FIGURE = register(
    Figure(
        name="score-heatmaps",
        title="EL2N and GraNd of mixed samples by the hardness deciles of the two samples mixed",
        claims=("seed000-hard-mix-hard", "seed000-el2n-mixed-samples"),
        statement='"Hard sample × Hard sample mix-up would result in Hard mix-up sample" (data-valuation '
        "slides, EL2N at epoch 20 and GraNd at epoch 5, 10 models, CIFAR-10 ResNet-18).",
        quick=Config(
            "bundled 8×8 digits (600 train), tanh MLP 64-64-10 (Adam, batch 64), GraNd at epoch 1, "
            "EL2N at epoch 4, 10 pairs per cell",
            _QUICK,
            seeds=3,
        ),
        standard=Config(
            "bundled 8×8 digits (600 train), tanh MLP 64-64-10 (Adam, batch 64), GraNd at epoch 1, "
            "EL2N at epoch 4, 10 pairs per cell",
            _QUICK,
            seeds=10,
        ),
        full=Config(
            "CIFAR-10 (50,000 train), GELU CNN 32-64-128, GraNd at epoch 5, EL2N at epoch 20, 50 pairs "
            "per cell",
            _FULL,
            seeds=10,
            requires=("gpu", "cifar10"),
        ),
        compute=compute,
        draw=draw,
        headline=headline,
        checks=checks,
    )
)
