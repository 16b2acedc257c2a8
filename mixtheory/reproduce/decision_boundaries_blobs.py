r"""Decision regions on 2-D blobs for ERM, mixup and hard pairing, with the hardest samples marked.

The data-valuation slides draw a small network's decision boundary on a 2-D blob data set, trained
without mixing, with mixup (α = 0.2) and with hard mix-up pairing (α = 0.2), the top-50 hard samples
(by forgetting events) marked, and read "forgetting score is effective on detecting hard samples
(samples located near decision boundary)" and, for hard pairing, "mix-up happened only near
decision boundary", and "hard samples tend to be outside the data cluster toward the other class
direction". The figure decides the three ledger entries ``seed000-forgetting-near-boundary``
(distance ratios), ``seed000-hard-pairing-near-boundary`` and ``seed000-hard-outside-cluster``
(the two readouts below; paired t across seeds in :mod:`mixtheory.ledger.audit`).

Here: three Gaussian blobs (:func:`mixtheory.data.load_blobs`, standardised), a tanh MLP trained by
ERM, :class:`~mixtheory.training.Mixup` (α = 0.2) and :class:`~mixtheory.training.HardPairing`
(α = 0.2, partners from the top quarter by EL2N; ``docs/theory.md §8.1``). The top-50 hard samples
of each run: most forgetting events (Toneva et al., ICLR 2019), ties broken by the final EL2N (Paul,
Ganguli, Dziugaite, NeurIPS 2021). The predicted class on a grid gives the decision regions and, per
training sample, the distance to the nearest grid point predicted otherwise (the distance to the
boundary, up to the grid step).

Headline (measured, checked): the median distance to the boundary of the top-50 hard samples
against that of all samples (ratio < 1 in every run and seed: the hard samples sit near the
boundary), and the test accuracy of the three objectives. The check covers ERM and mixup; hard
pairing's ratio is reported as measured (quick run: 0.58 ± 0.32 against 0.20 for ERM; most of its
samples have forgetting events, so the top 50 are less specific to the boundary).

Two more readouts per run: (a) :func:`offset_toward_confused`, each training sample's offset from
its class centroid along the direction of the class the network most confuses it with, in
within-class standard deviations; the median of the top-50 hard samples minus that of all samples;
(b) the median distance to the boundary of 2,000 mixed points of the final network drawn with the
same anchors and λ ~ Beta(0.2, 0.2), partners either from the hard pool (top quarter by the final
EL2N, as hard pairing draws them) or uniform (random pairing), as a ratio hard / random. The
standard scale draws the blobs afresh for every seed (``data_per_seed``), so that the seed
replicates the data as well as the training.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..data import load_blobs
from ..laws import SymmetricBeta
from ..mixing import HardPool
from ..models import build_model
from ..training import EL2NRecorder, ERMObjective, ForgettingRecorder, HardPairing, Mixup, TrainConfig, train
from ._registry import Config, DrawInfo, Figure, Unit, register
from ._runner import Context, aggregate, select

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = ["FIGURE", "OBJECTIVES", "boundary_distance", "offset_toward_confused", "top_hard"]

OBJECTIVES = {"erm": "ERM", "mixup": "mixup", "hard-pairing": "hard pairing"}


def top_hard(events: np.ndarray, el2n: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` samples with the most forgetting events, ties broken by larger EL2N.

    >>> top_hard(np.array([1, 3, 1, 0]), np.array([0.9, 0.1, 0.5, 1.0]), 2).tolist()
    [1, 0]
    """
    order = np.lexsort((-el2n, -events))
    return order[:k]


def boundary_distance(
    points: np.ndarray, predicted: np.ndarray, grid: np.ndarray, grid_class: np.ndarray
) -> np.ndarray:
    """Per point, the distance to the nearest grid point predicted otherwise (the distance to the
    decision boundary, up to the grid step; inf where the grid has no other class).

    >>> grid = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    >>> boundary_distance(np.array([[0.2, 0.0]]), np.array([0]), grid, np.array([0, 0, 1])).tolist()
    [1.8]
    """
    out = np.full(len(points), np.inf)
    for c in np.unique(predicted):
        other = grid[grid_class != c]
        mine = predicted == c
        if len(other):
            d2 = ((points[mine][:, None, :] - other[None]) ** 2).sum(-1)
            out[mine] = np.sqrt(d2.min(1))
    return out


def offset_toward_confused(X: np.ndarray, y: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Per sample of class a: its offset from a's centroid projected on the unit direction from a's
    centroid to the centroid of b, the class other than a of highest predicted probability, in units
    of class a's standard deviation along that direction (> 0: outside the cluster, toward b).

    >>> X = np.array([[0.0, 0.0], [2.0, 0.0], [9.0, 0.0], [11.0, 0.0]])
    >>> prob = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.1, 0.9]])
    >>> offset_toward_confused(X, np.array([0, 0, 1, 1]), prob).round(3).tolist()
    [-0.707, 0.707, 0.707, -0.707]
    """
    classes = np.unique(y)
    centre = {c: X[y == c].mean(0) for c in classes}
    rival = prob.copy()
    rival[np.arange(len(y)), y] = -np.inf
    other = rival.argmax(1)
    out = np.empty(len(y))
    for a in classes:
        for b in classes:
            sel = (y == a) & (other == b)
            if a == b or not sel.any():
                continue
            u = centre[b] - centre[a]
            u = u / np.linalg.norm(u)
            proj = (X[sel] - centre[a]) @ u
            out[sel] = proj / ((X[y == a] - centre[a]) @ u).std(ddof=1)
    return out


def _mixed_point_distances(
    model: torch.nn.Module,
    X_train: torch.Tensor,
    el2n: np.ndarray,
    params: Mapping[str, Any],
    seed: int,
    grid: np.ndarray,
    grid_class: np.ndarray,
    ctx: Context,
) -> dict[str, np.ndarray]:
    """Boundary distances of ``num_mixed`` mixup points of the final model drawn with the same anchors
    (uniform) and λ ~ Beta(α, α), partners either from the hard pool (the top quarter by the final
    EL2N, :class:`~mixtheory.mixing.HardPool`, as :class:`~mixtheory.training.HardPairing` draws them)
    or uniform over the training set (random pairing)."""
    g = torch.Generator().manual_seed(10_000 + seed)
    n, m = len(X_train), int(params["num_mixed"])
    anchors = torch.randint(n, (m,), generator=g)
    lam = SymmetricBeta(float(params["alpha"])).sample_lambda(m, g).to(X_train.dtype)[:, None]
    partners = {
        "hard": HardPool(torch.as_tensor(el2n), 0.25).sample(anchors, g),
        "random": torch.randint(n, (m,), generator=g),
    }
    out = {}
    for name, j in partners.items():
        x = lam * X_train[anchors] + (1 - lam) * X_train[j]
        with torch.no_grad():
            pred = model(x.to(ctx.device)).argmax(-1).cpu().numpy()
        out[name] = boundary_distance(x.numpy(), pred, grid, grid_class)
    return out


def _units(params: Mapping[str, Any]) -> list[Unit]:
    return [Unit(key) for key in OBJECTIVES]


def _objective(key: str, alpha: float):
    if key == "erm":
        return ERMObjective()
    if key == "mixup":
        return Mixup(alpha)
    return HardPairing(alpha, pool_fraction=0.25, score="el2n")


def compute(unit: Unit, seed: int, params: Mapping[str, Any], ctx: Context) -> list[dict[str, Any]]:
    data_seed = seed if params.get("data_per_seed") else 0
    X, y = load_blobs(
        int(params["num_samples"]), 3, cluster_std=float(params["cluster_std"]), seed=data_seed,
        dtype=torch.float32,
    )  # fmt: skip
    X = (X - X.mean(0)) / X.std(0)
    g = torch.Generator().manual_seed(0)
    perm = torch.randperm(len(y), generator=g)
    n_test = len(y) // 4
    test, tr = perm[:n_test], perm[n_test:]
    X_train, y_train, X_test, y_test = X[tr], y[tr], X[test], y[test]
    model = build_model("mlp", 2, 3, "tanh", hidden=tuple(params["hidden"]), seed=seed)
    forgetting, el2n = ForgettingRecorder(None), EL2NRecorder(None)
    result = train(
        model,
        X_train,
        y_train,
        _objective(unit.key, float(params["alpha"])),
        TrainConfig(
            epochs=int(params["epochs"]),
            batch_size=int(params["batch_size"]),
            optimizer="adamw",
            lr=float(params["lr"]),
            weight_decay=0.0,
            lr_schedule="constant",
            seed=seed,
            device=ctx.device,
            progress=ctx.progress,
        ),
        recorders=[forgetting, el2n],
    )
    last = int(params["epochs"])
    events = np.array([r["events"] for r in forgetting.rows if r["epoch"] == last], dtype=float)
    scores = np.array([r["el2n"] for r in el2n.rows if r["epoch"] == last], dtype=float)
    hard = top_hard(events, scores, int(params["top_k"]))
    is_hard = np.zeros(len(events), dtype=bool)
    is_hard[hard] = True
    lo, hi = X.min(0).values - 0.5, X.max(0).values + 0.5
    m = int(params["grid"])
    gx, gy = torch.linspace(float(lo[0]), float(hi[0]), m), torch.linspace(float(lo[1]), float(hi[1]), m)
    mesh = torch.stack(torch.meshgrid(gx, gy, indexing="xy"), -1).reshape(-1, 2)
    with torch.no_grad():
        grid_logits = result.model(mesh.to(ctx.device)).cpu()
        grid_pred = grid_logits.argmax(-1).numpy()
        train_pred = result.model(X_train.to(ctx.device)).argmax(-1).cpu().numpy()
        acc = float((result.model(X_test.to(ctx.device)).argmax(-1).cpu() == y_test).double().mean())
        train_prob = torch.softmax(result.model(X_train.to(ctx.device)), -1).cpu().numpy()
    pts = mesh.numpy()
    dist = boundary_distance(X_train.numpy(), train_pred, pts, grid_pred)
    offset = offset_toward_confused(X_train.numpy(), y_train.numpy(), train_prob)
    mixed = _mixed_point_distances(result.model, X_train, scores, params, seed, pts, grid_pred, ctx)
    rows: list[dict[str, Any]] = [
        {"metric": "test_accuracy", "value": acc},
        {"metric": "median_distance_hard", "value": float(np.median(dist[is_hard]))},
        {"metric": "median_distance_all", "value": float(np.median(dist))},
        {
            "metric": "distance_ratio_hard_over_all",
            "value": float(np.median(dist[is_hard]) / np.median(dist)),
        },
        {"metric": "samples_with_events", "value": float((events > 0).sum())},
        {"metric": "max_events", "value": float(events.max())},
        {"metric": "offset_hard", "value": float(np.median(offset[is_hard]))},
        {"metric": "offset_all", "value": float(np.median(offset))},
        {"metric": "offset_hard_minus_all", "value": float(np.median(offset[is_hard]) - np.median(offset))},
        {"metric": "mixed_distance_hard_pairing", "value": float(np.median(mixed["hard"]))},
        {"metric": "mixed_distance_random_pairing", "value": float(np.median(mixed["random"]))},
        {
            "metric": "mixed_distance_ratio_hard_over_random",
            "value": float(np.median(mixed["hard"]) / np.median(mixed["random"])),
        },
    ]
    if seed == 0:  # the regions and points of one seed are drawn; the others give the statistics
        rows += [
            {"grid_x": float(p[0]), "grid_y": float(p[1]), "metric": "grid_class", "value": int(c)}
            for p, c in zip(pts, grid_pred)
        ]
        for k, (x, label) in enumerate(zip(X_train.numpy(), y_train.numpy())):
            common = {"sample": k, "x1": float(x[0]), "x2": float(x[1]), "label": int(label)}
            rows.append({**common, "hard": bool(is_hard[k]), "metric": "events", "value": float(events[k])})
    return rows


def _pm(pair: list[float]) -> str:
    return f"{pair[0]:+.2f} ± {pair[1]:.2f}"


def headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    agg = aggregate([r for r in rows if r.get("grid_x") is None and r.get("sample") is None])
    out: dict[str, Any] = {}
    for key in OBJECTIVES:
        out[key] = {
            metric: [select(agg, unit=key, metric=metric)[0][s] for s in ("mean", "std")]
            for metric in (
                "test_accuracy",
                "distance_ratio_hard_over_all",
                "median_distance_hard",
                "samples_with_events",
                "offset_hard_minus_all",
                "mixed_distance_ratio_hard_over_random",
            )
        }
    ratios = [r["value"] for r in select(rows, metric="distance_ratio_hard_over_all")]
    out["hard_nearer_boundary_every_run"] = bool(max(ratios) < 1)
    out["hard_nearer_boundary_erm_mixup"] = bool(
        max(
            r["value"]
            for r in select(rows, metric="distance_ratio_hard_over_all")
            if r["unit"] != "hard-pairing"
        )
        < 1
    )
    out["max_distance_ratio"] = float(max(ratios))
    out["text"] = (
        "Median distance to the decision boundary, top-50 hard / all samples: "
        + "; ".join(
            f"{OBJECTIVES[k]} {out[k]['distance_ratio_hard_over_all'][0]:.2f} ± "
            f"{out[k]['distance_ratio_hard_over_all'][1]:.2f}"
            for k in OBJECTIVES
        )
        + ". Median offset toward the most-confused class (within-class SDs), top-50 hard minus all: "
        + "; ".join(f"{OBJECTIVES[k]} {_pm(out[k]['offset_hard_minus_all'])}" for k in OBJECTIVES)
        + ". Median boundary distance of mixed points, hard pairing / random pairing: "
        + "; ".join(
            f"{OBJECTIVES[k]} {_pm(out[k]['mixed_distance_ratio_hard_over_random'])}" for k in OBJECTIVES
        )
        + ". Test accuracy: "
        + "; ".join(f"{OBJECTIVES[k]} {out[k]['test_accuracy'][0]:.3f}" for k in OBJECTIVES)
        + "."
    )
    return out


def checks(h: dict[str, Any]) -> dict[str, bool]:
    return {
        "ERM and mixup: top-50 hard samples nearer the boundary than the median sample (every seed)": h[
            "hard_nearer_boundary_erm_mixup"
        ],
    }


def _draw_readouts(rows: list[dict[str, Any]], axes: Any, info: DrawInfo) -> None:
    """Per seed and objective: the hard-minus-all offset toward the most-confused class, and the
    hard/random boundary-distance ratio of mixed points (one dot per seed, bar = mean)."""
    from ._plotting import COLORS

    panels = (
        ("offset_hard_minus_all", 0.0, "median offset toward the most-confused class,\n"
         "top-50 hard − all (within-class SDs)", "(d) hard samples outside their cluster?"),
        ("mixed_distance_ratio_hard_over_random", 1.0, "median boundary distance of mixed points,\n"
         "hard pairing / random pairing", "(e) hard pairing mixes near the boundary?"),
    )  # fmt: skip
    for ax, (metric, ref, ylabel, title) in zip(axes, panels):
        for k, key in enumerate(OBJECTIVES):
            vals = [r["value"] for r in select(rows, unit=key, metric=metric)]
            jitter = np.linspace(-0.15, 0.15, len(vals)) if len(vals) > 1 else np.zeros(1)
            ax.scatter(k + jitter, vals, s=22, color=COLORS[k], alpha=0.8)
            ax.hlines(np.mean(vals), k - 0.3, k + 0.3, color="black", lw=2)
        ax.axhline(ref, color="grey", ls="--", lw=1, label=f"no effect ({ref:g})")
        ax.set_xticks(range(len(OBJECTIVES)), [f"trained by {n}" for n in OBJECTIVES.values()])
        ax.set(ylabel=ylabel, title=f"{title} ({len(info.seeds)} seeds; dot = seed, bar = mean)")
        ax.legend(fontsize=8)


def draw(rows: list[dict[str, Any]], info: DrawInfo) -> MplFigure:
    """One panel per objective (seed 0): decision regions on the grid, training samples coloured by
    class, the top-50 hard samples as stars; the panel title gives the test accuracy and the
    hard/all distance ratio (mean ± std over seeds)."""
    from matplotlib.colors import ListedColormap

    from ._plotting import COLORS, pyplot

    plt = pyplot()
    h = headline(rows)
    fig = plt.figure(figsize=(17, 11), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=(6.2, 4.2))
    axes = top.subplots(1, 3, sharex=True, sharey=True)
    _draw_readouts(rows, bottom.subplots(1, 2), info)
    cmap = ListedColormap(["#a6cee3", "#fdbf6f", "#b2df8a"])
    for ax, key in zip(axes, OBJECTIVES):
        grid = select(rows, unit=key, metric="grid_class", seed=0)
        xs, ys = sorted({r["grid_x"] for r in grid}), sorted({r["grid_y"] for r in grid})
        Z = np.zeros((len(ys), len(xs)))
        ix, iy = {v: i for i, v in enumerate(xs)}, {v: i for i, v in enumerate(ys)}
        for r in grid:
            Z[iy[r["grid_y"]], ix[r["grid_x"]]] = r["value"]
        ax.contourf(xs, ys, Z, levels=[-0.5, 0.5, 1.5, 2.5], cmap=cmap, alpha=0.8)
        ax.contour(xs, ys, Z, levels=[0.5, 1.5], colors="black", linewidths=0.8)
        points = select(rows, unit=key, metric="events", seed=0)
        for c, color in enumerate(COLORS[:3]):
            mine = [p for p in points if p["label"] == c]
            ax.scatter(
                [p["x1"] for p in mine],
                [p["x2"] for p in mine],
                s=9,
                color=color,
                alpha=0.7,
                label=f"class {c}",
            )
        hard = [p for p in points if p["hard"] in (True, "True")]
        ax.scatter(
            [p["x1"] for p in hard],
            [p["x2"] for p in hard],
            marker="*",
            s=140,
            facecolor="none",
            edgecolor="black",
            linewidth=1.0,
            label=f"top-{len(hard)} hard (forgetting, ties by EL2N)",
        )
        e = h[key]
        alpha = info.config.params["alpha"]
        name = OBJECTIVES[key] + ("" if key == "erm" else f" (α = {alpha:g})")
        ax.set(
            xlabel="feature 1 (standardised)",
            title=f"{name}: test accuracy {e['test_accuracy'][0]:.3f}\nmedian distance to boundary, hard/all "
            f"= {e['distance_ratio_hard_over_all'][0]:.2f} ± {e['distance_ratio_hard_over_all'][1]:.2f}",
        )
        ax.grid(False)
    axes[0].set_ylabel("feature 2 (standardised)")
    axes[0].legend(fontsize=8, loc="lower left")
    top.suptitle(
        f"{info.title}\nregions and samples of seed 0; accuracy and distance ratios mean ± std over "
        f"{len(info.seeds)} seeds"
    )
    return fig


_QUICK = {
    "num_samples": 800,
    "cluster_std": 1.5,
    "hidden": (32, 32),
    "alpha": 0.2,
    "epochs": 60,
    "lr": 1e-2,
    "batch_size": 32,
    "top_k": 50,
    "grid": 90,
    "num_mixed": 2000,
}
#: the quick network with a fresh blob draw per seed (the seed is then the unit of replication of
#: the data as well as of the training); seeds from the power analysis of docs/reproduce.md
_STANDARD = {**_QUICK, "data_per_seed": True}
STANDARD_SEEDS = 10
_FULL = {**_QUICK, "num_samples": 3000, "hidden": (64, 64), "epochs": 200, "grid": 200}

FIGURE = register(
    Figure(
        name="decision-boundaries-blobs",
        title="Decision regions on 2-D blobs: ERM, mixup and hard pairing, top-50 hard samples marked",
        claims=(
            "seed000-forgetting-near-boundary",
            "seed000-hard-outside-cluster",
            "seed000-hard-pairing-near-boundary",
        ),
        statement='"Forgetting score is effective on detecting hard samples (samples located near decision '
        'boundary)"; hard mix-up pairing: "mix-up happened only near decision boundary" (data-valuation '
        "slides, blob data set, simple NN, α = 0.2).",
        quick=Config(
            "3 Gaussian blobs (make_blobs, std 1.5, 600 train / 200 test), tanh MLP 2-32-32-3, "
            "AdamW 60 epochs",
            _QUICK,
            seeds=3,
        ),
        standard=Config(
            "3 Gaussian blobs drawn afresh per seed (make_blobs, std 1.5, 600 train / 200 test), tanh MLP "
            "2-32-32-3, AdamW 60 epochs",
            _STANDARD,
            seeds=STANDARD_SEEDS,
        ),
        full=Config(
            "3 Gaussian blobs (make_blobs, std 1.5, 2,250 train / 750 test), tanh MLP 2-64-64-3, "
            "AdamW 200 epochs",
            _FULL,
            seeds=10,
        ),
        units=_units,
        compute=compute,
        draw=draw,
        headline=headline,
        checks=checks,
        version=2,
    )
)
