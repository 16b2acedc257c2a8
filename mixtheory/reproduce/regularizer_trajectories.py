r"""Regularizer trajectories of ERM and mixup training: R1, −R3, R2 and R13 per epoch, in both forms of R3.

The data-valuation slides plot, for a CIFAR-10 ResNet-18 trained with mixup (α = 0.5) and without,
R1 and −R3 of Corollary 4 (Carratino et al., JMLR 2022; ``docs/theory.md §4.5``) averaged over 100
random training samples, and read "R3 can be negligible compared to R1, which increases as epoch ↑"
(ledger ``seed000-r3-negligible``) and "training without mix-up cannot regularize R1 well compared
to mix-up (but better for −R3)"; "with the same samples it also ends up regularizing R1, but slower"
(``seed000-erm-r1-weaker``).

Two forms of R3 give opposite readings (``docs/theory.md §4.5, §5``):

- Corollary 4's R3 = −½ tr(H⁺ K_i), H⁺ = P diag(1/S) P the pseudo-inverse of H = diag(S) − SSᵀ at
  f(x̃_i) and K_i = Σ_yx Σ_xx⁺ Σ_xy (:meth:`~mixtheory.geometry.MixupGeometry.projected_label_covariance`),
  the library's ``R3``. On a confident network 1/S blows up: R1 and −R3 grow together to ~1/min S
  and cancel to R13 = R1 + R3, which stays O(1) (``docs/theory.md §5.1``). R1 = R13 − R3 here, and
  the figure says on its face that R1 + R3 must be read as R13;
- the slides' R3_H = −½ tr(H K_i) (H in place of H⁺), bounded by ½ tr K_i · max eig H ≤ ⅛ tr K_i: it
  shrinks as S saturates, which is where "R3 negligible" comes from.

Both runs (ERM and mixup, same initialization per seed) are evaluated on the **same** fixed random
samples with the α = 0.5 geometry of the whole training set (the slides' "same samples" variant;
their first ERM plot used other random samples). At each checkpoint: per-sample erm, R1, R2, R3,
R4, R13 (:class:`~mixtheory.training.RegularizerRecorder`, probe estimates of R2 and R13), R3_H,
and the folded mixup loss of the same anchors sampled with its standard error (θ from the folded
law, partners from the whole set: :meth:`~mixtheory.geometry.MixupGeometry.sample_perturbations`),
drawn with E_Q = erm + R13 + R2 + R4 on the same axes.

Headline (measured, checked): at the last epoch of the mixup run |R3_H|/R1 ≤ 1% (and 100× below
−R3/R1), while Corollary 4's −R3/R1 lies within [0.5, 1.5] at every checkpoint (R1 and −R3 of the
same size, cancelling to R13); ERM's R1 ends above mixup's. Whether |R3_H|/R1 stays below 1% at
every checkpoint, whether R1 rises with the epoch under mixup and whether ERM's −R3_H ends below
mixup's are reported as measured (quick run: not at epoch 1; rises then falls; yes).

Network variants (full run only; the quick run has one smooth tanh MLP and no ``variant`` column).
The sources' networks are ReLU ResNet-18s, whose input Hessian is zero almost everywhere: autograd
gives R2 = 0 there. The full run therefore trains two ResNet-18s per training regime (:data:`VARIANTS`):
the **ReLU ResNet-18 with R2 by secant curvature** (``curvature="secant"``: second differences
(g(x̃ + h v) − 2 g(x̃) + g(x̃ − h v)) / h², :mod:`mixtheory.estimators.evaluators`) and the
**smooth (GELU) ResNet-18 with R2 by autograd**. The step is h = :data:`SECANT_STEP` = 1: the
Gaussian probes v already have E[v vᵀ] = Σ_xx, the covariance of the mixup input perturbation, so
h = 1 evaluates the curvature at the perturbation's own scale (a much smaller h would only see the
zero Hessian of the linear piece x̃ lies on, a much larger one would leave the second-order regime).
The ReLU ResNet-18 is the smooth one's architecture with every GELU replaced by ReLU (same weights
at initialization; :func:`build_network`). Everything else (R1, R3, R13, R3_H) is unchanged by the
curvature option; the figure draws the two variants side by side, each titled with its label.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..expansions.second_order import CARRATINO_TERMS, second_order_from_terms
from ..laws import SymmetricBeta
from ..losses import CrossEntropy
from ..regularizers import CancellationWarning
from ..training import ERMObjective, Mixup, RegularizerRecorder, train
from ..training.recorders import RecordContext
from ._registry import Config, DrawInfo, Figure, Unit, register
from ._runner import Context, aggregate, select
from ._training import adamw_config, load_data
from ._variants import SECANT_STEP, VARIANTS, build_network, per_variant_checks, split_variants, variant_setup

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = [
    "FIGURE",
    "SECANT_STEP",
    "VARIANTS",
    "SlidesRegularizerRecorder",
    "build_network",
    "r3_hessian_form",
    "variant_setup",
]

_CE = CrossEntropy()


def r3_hessian_form(K: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    r"""The slides' R3_H = −½ tr(H K_i) with H = diag(S) − SSᵀ at the logits u = f(x̃_i), per sample.

    ``K: (m, c, c)`` projected label covariances, ``logits: (m, c)``, ``targets: (m, c)`` (ỹ_i; H of
    cross-entropy does not depend on them). Corollary 4 has H⁺ where this has H (``docs/theory.md
    §4.5``); the two agree only when H has eigenvalues 1 on 1⊥, never for a softmax.

    >>> K = torch.eye(3, dtype=torch.float64)[None] - 1 / 3  # P, the projector on 1⊥
    >>> u = torch.zeros(1, 3, dtype=torch.float64)           # S uniform: H = P/3
    >>> round(float(r3_hessian_form(K, u, torch.full((1, 3), 1 / 3, dtype=torch.float64))), 12)  # −½ tr(P)/3
    -0.333333333333
    """
    H = _CE.hess_uu(targets, logits)
    return -0.5 * (K * H).sum((-2, -1))


class SlidesRegularizerRecorder(RegularizerRecorder):
    r"""A :class:`~mixtheory.training.RegularizerRecorder` that records only at ``epochs`` and adds,
    per sample, the slides' ``R3_H`` (:func:`r3_hessian_form`), the confidence ``max S(f(x̃_i))``, and
    the folded mixup loss of the anchor sampled with ``num_draws`` draws (``mixup_loss``, and its
    per-anchor variance ``mixup_loss_var``), all with the geometry of the recorder's fixed law."""

    name = "regularizers"

    def __init__(self, num_samples: int | None, *, epochs, num_draws: int = 64, **options):
        super().__init__(num_samples, **options)
        self.epochs = {int(e) for e in epochs}
        self.num_draws = int(num_draws)

    def record(self, ctx: RecordContext, epoch: int) -> None:
        if epoch not in self.epochs:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CancellationWarning)  # R13 is what the figure sums
            super().record(ctx, epoch)
        geometry = self.geometry(ctx.data, self.law)
        idx = self.indices.to(geometry.device)
        m = idx.numel()
        with torch.no_grad():
            u = ctx.model(geometry.as_inputs(geometry.x_tilde[idx]))
            r3_h = r3_hessian_form(geometry.projected_label_covariance(idx), u, geometry.y_tilde[idx])
            confidence = torch.softmax(u, -1).max(-1).values
            delta, eps = geometry.sample_perturbations(self.num_draws, idx, self.generator())
            x = (geometry.x_tilde[idx][:, None, :] + delta).reshape(m * self.num_draws, -1)
            y = (geometry.y_tilde[idx][:, None, :] + eps).reshape(m * self.num_draws, -1)
            losses = torch.cat(
                [
                    _CE.value(y[s : s + 4096], ctx.model(geometry.as_inputs(x[s : s + 4096])))
                    for s in range(0, x.shape[0], 4096)
                ]
            ).reshape(m, self.num_draws)
        extra = {
            "R3_H": r3_h,
            "confidence_tilde": confidence,
            "mixup_loss": losses.mean(1),
            "mixup_loss_var": losses.var(1),
        }
        values = {k: v.detach().to("cpu", torch.float64).tolist() for k, v in extra.items()}
        for k, row in enumerate(self.rows[-m:]):
            row.update({key: vals[k] for key, vals in values.items()})


def _units(params: Mapping[str, Any]) -> list[Unit]:
    regimes = [("erm", None), ("mixup", float(params["alpha"]))]
    if "variants" not in params:
        return [Unit(name, {"mixup_alpha": a}) for name, a in regimes]
    variants = params["variants"]
    return [Unit(f"{name}-{v}", {"mixup_alpha": a, "variant": v}) for v in variants for name, a in regimes]


#: per-sample columns averaged into the per-epoch rows (R1 = R13 − R3 as the recorder reports it)
_COLUMNS = ("erm", "R1", "R2", "R3", "R3_H", "R4", "R13", "confidence_tilde")


def compute(unit: Unit, seed: int, params: Mapping[str, Any], ctx: Context) -> list[dict[str, Any]]:
    variant = unit.params.get("variant")
    rows = _compute(unit, seed, params, ctx, variant)
    if variant is not None:
        rows = [{"variant": variant, **r} for r in rows]
    return rows


def _compute(
    unit: Unit, seed: int, params: Mapping[str, Any], ctx: Context, variant: str | None
) -> list[dict[str, Any]]:
    dtype = torch.float64 if params["dtype"] == "float64" else torch.float32
    split = load_data(params["data"], ctx, num_samples=params["num_samples"], seed=0, dtype=dtype)
    activation, options = variant_setup(params, variant)
    model = build_network(params, split.input_shape, split.num_classes, activation, dtype, seed)
    alpha = float(params["alpha"])
    objective = ERMObjective() if unit.params["mixup_alpha"] is None else Mixup(alpha)
    recorder = SlidesRegularizerRecorder(
        int(params["num_evaluated"]),
        epochs=params["checkpoints"],
        num_draws=int(params["num_draws"]),
        num_probes=int(params["num_probes"]),
        options=options,
        law=SymmetricBeta(alpha),
        seed=1_000,  # the same evaluated samples for every run and seed
    )
    result = train(
        model,
        split.X_train,
        split.y_train,
        objective,
        adamw_config(params, ctx, seed, epochs=max(params["checkpoints"]), progress=ctx.progress),
        recorders=[recorder],
    )
    rows: list[dict[str, Any]] = []
    by_epoch: dict[int, list[dict[str, Any]]] = {}
    for r in recorder.rows:
        by_epoch.setdefault(int(r["epoch"]), []).append(r)
    X_test = split.X_test.to(ctx.device)
    for epoch, samples in sorted(by_epoch.items()):
        m = len(samples)
        col = {k: np.array([s[k] for s in samples], dtype=np.float64) for k in _COLUMNS}
        out: dict[str, float] = {}
        for k in _COLUMNS:
            out[k] = float(col[k].mean())
            out[f"{k}_se"] = float(col[k].std(ddof=1) / math.sqrt(m))  # over the evaluated samples
        out["R13_probe_se"] = float(np.sqrt(np.sum(np.square([s["R13_se"] for s in samples]))) / m)
        out["R2_probe_se"] = float(np.sqrt(np.sum(np.square([s["R2_se"] for s in samples]))) / m)
        out["E_Q"] = second_order_from_terms(col, CARRATINO_TERMS)
        out["mixup_loss"] = float(np.mean([s["mixup_loss"] for s in samples]))
        # the mean over the fixed anchors: its error is the draws' (per-anchor variances / draws)
        out["mixup_loss_se"] = float(
            math.sqrt(sum(s["mixup_loss_var"] for s in samples) / int(params["num_draws"])) / m
        )
        out["ratio_minus_R3_over_R1"] = -out["R3"] / out["R1"]
        out["ratio_abs_R3_H_over_R1"] = abs(out["R3_H"]) / out["R1"]
        out["median_cancellation"] = float(np.median([s["cancellation"] for s in samples]))
        rows.extend({"epoch": epoch, "metric": k, "value": v} for k, v in out.items())
    with torch.no_grad():
        test_acc = float((result.model(X_test).argmax(-1).cpu() == split.y_test).double().mean())
    rows.append({"epoch": max(params["checkpoints"]), "metric": "test_accuracy", "value": test_acc})
    return rows


def _series(agg, unit: str, metric: str) -> tuple[list[float], list[float], list[float]]:
    picked = sorted(select(agg, unit=unit, metric=metric), key=lambda r: r["epoch"])
    return [r["epoch"] for r in picked], [r["mean"] for r in picked], [r["std"] for r in picked]


def _per_seed(rows, unit: str, metric: str) -> dict[int, dict[int, float]]:
    out: dict[int, dict[int, float]] = {}
    for r in select(rows, unit=unit, metric=metric):
        out.setdefault(int(r["seed"]), {})[int(r["epoch"])] = float(r["value"])
    return out


def headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The measured headline (:func:`_headline_one`); with network variants (full run), one per
    variant under ``"variants"`` and their texts joined, each led by the variant's label."""
    parts = split_variants(rows)
    if list(parts) == [None]:
        return _headline_one(parts[None])
    per = {v: _headline_one(r) for v, r in parts.items()}
    text = " | ".join(f"{VARIANTS[v]['label']}: {h['text']}" for v, h in per.items())
    return {"variants": per, "text": text}


def _headline_one(rows: list[dict[str, Any]]) -> dict[str, Any]:
    from scipy.stats import spearmanr

    agg = aggregate(rows)
    last = max(int(r["epoch"]) for r in rows)
    first_trained = min(int(r["epoch"]) for r in rows if int(r["epoch"]) > 0)

    def final(unit: str, metric: str) -> float:
        return select(agg, unit=unit, metric=metric, epoch=last)[0]["mean"]

    mix_ratio_hplus = [
        v for d in _per_seed(rows, "mixup", "ratio_minus_R3_over_R1").values() for v in d.values()
    ]
    ratio_h_seeds = _per_seed(rows, "mixup", "ratio_abs_R3_H_over_R1")
    mix_ratio_h = [v for d in ratio_h_seeds.values() for e, v in d.items() if e >= first_trained]
    ratio_h_last = float(np.mean([d[last] for d in ratio_h_seeds.values()]))
    ratio_hplus_last = float(
        np.mean([d[last] for d in _per_seed(rows, "mixup", "ratio_minus_R3_over_R1").values()])
    )
    r1_mix = _per_seed(rows, "mixup", "R1")
    rho = [float(spearmanr(list(d), list(d.values())).statistic) for d in r1_mix.values()]
    eq_gap = [
        abs(a["mean"] - b["mean"])
        for a in select(agg, metric="E_Q")
        for b in select(agg, metric="mixup_loss", unit=a["unit"], epoch=a["epoch"])
    ]
    out = {
        "last_epoch": last,
        "mixup_minus_R3_over_R1_range": [float(min(mix_ratio_hplus)), float(max(mix_ratio_hplus))],
        "mixup_abs_R3_H_over_R1_max": float(max(mix_ratio_h)),
        "mixup_abs_R3_H_over_R1_last": ratio_h_last,
        "mixup_minus_R3_over_R1_last": ratio_hplus_last,
        "r3_h_negligible_at_every_checkpoint": bool(max(mix_ratio_h) <= 0.01),
        "r3_h_negligible_at_last_epoch": bool(
            ratio_h_last <= 0.01 and ratio_hplus_last >= 100 * ratio_h_last
        ),
        "r3_hplus_comparable_to_r1": bool(0.5 <= min(mix_ratio_hplus) and max(mix_ratio_hplus) <= 1.5),
        "mixup_R1_epoch_spearman_per_seed": rho,
        "final": {
            u: {m: final(u, m) for m in ("R1", "R3", "R3_H", "R13", "R2", "E_Q", "mixup_loss")}
            for u in ("erm", "mixup")
        },
        "test_accuracy": {u: final(u, "test_accuracy") for u in ("erm", "mixup")},
        "max_abs_E_Q_minus_mixup_loss": float(max(eq_gap)),
    }
    fe, fm = out["final"]["erm"], out["final"]["mixup"]
    out["erm_R1_above_mixup"] = bool(fe["R1"] > fm["R1"])
    out["erm_minus_R3_H_below_mixup"] = bool(-fe["R3_H"] < -fm["R3_H"])
    out["erm_minus_R3_Hplus_below_mixup"] = bool(-fe["R3"] < -fm["R3"])
    out["text"] = (
        f"Mixup run: −R3/R1 (Corollary 4, H⁺) = {min(mix_ratio_hplus):.3f}–{max(mix_ratio_hplus):.3f} "
        "at every "
        f"checkpoint (R1 and R3 cancel to R13 = {fm['R13']:.3g} at epoch {last}, R1 = {fm['R1']:.3g}); the "
        f"slides' |R3_H|/R1 = {ratio_h_last:.1e} at epoch {last} (negligible; at most "
        f"{max(mix_ratio_h):.1e} over "
        "the trained checkpoints, the largest early, before the softmax saturates). R1 against epoch "
        "under mixup: "
        f"Spearman {np.mean(rho):.2f}. At epoch {last}: R1 ERM {fe['R1']:.3g} vs mixup {fm['R1']:.3g}; −R3_H "
        f"ERM {-fe['R3_H']:.3g} vs mixup {-fm['R3_H']:.3g}; −R3 (H⁺) ERM {-fe['R3']:.3g} vs mixup "
        f"{-fm['R3']:.3g}. |E_Q − sampled E_mix| ≤ {max(eq_gap):.3g}."
    )
    return out


def checks(h: dict[str, Any]) -> dict[str, bool]:
    return per_variant_checks(h, _checks_one)


def _checks_one(h: dict[str, Any]) -> dict[str, bool]:
    return {
        "slides' R3_H is negligible at the last epoch of the mixup run (<= 1% of R1, 100x below -R3/R1)": h[
            "r3_h_negligible_at_last_epoch"
        ],
        "Corollary 4's -R3 is of the size of R1 (ratio in [0.5, 1.5]) at every checkpoint": h[
            "r3_hplus_comparable_to_r1"
        ],
        "ERM's R1 ends above mixup's": h["erm_R1_above_mixup"],
    }


_STYLE = {"erm": ("-", "o", "ERM"), "mixup": ("--", "s", "mixup")}


def _draw_curves(axes: Any, agg: list[dict[str, Any]]) -> None:
    """The curves of the four panels ``axes`` (2 × 2), for both trainings: colour = quantity, line
    style = training; epoch 0 drawn at ½."""
    from ._plotting import COLORS, errorbar_line

    (a_big, a_small), (a_ratio, a_loss) = axes

    def line(ax: Any, unit: str, metric: str, color: str, label: str, **extra: Any) -> None:
        x, mean, std = _series(agg, unit, metric)
        ls, marker, regime = _STYLE[unit]
        x = [v if v > 0 else 0.5 for v in x]
        if extra.pop("negate", False):
            mean = [-v for v in mean]
        if extra.pop("absolute", False):
            mean = [abs(v) for v in mean]
        errorbar_line(
            ax, x, mean, std, color=color, ls=ls, marker=marker, label=f"{label}, {regime}", **extra
        )

    for unit in ("erm", "mixup"):
        line(a_big, unit, "R1", COLORS[0], "R1 = R13 − R3")
        line(
            a_big,
            unit,
            "R3",
            COLORS[1],
            "−R3 (Corollary 4, H⁺)",
            negate=True,
            markerfacecolor="none",
            markersize=8,
        )
        line(a_small, unit, "R13", COLORS[2], "R13 = R1 + R3 (computed directly)")
        line(a_small, unit, "R2", COLORS[3], "R2")
        line(a_small, unit, "R3_H", COLORS[4], "−R3_H (slides' form, H; ≈ 0, see c)", negate=True)
        line(a_ratio, unit, "ratio_minus_R3_over_R1", COLORS[1], "−R3/R1 (H⁺)")
        line(a_ratio, unit, "ratio_abs_R3_H_over_R1", COLORS[4], "|R3_H|/R1 (H)")
        line(a_loss, unit, "mixup_loss", COLORS[6], "sampled mixup loss E_mix")
        line(a_loss, unit, "E_Q", COLORS[2], "E_Q = erm + R13 + R2 + R4")
        line(a_loss, unit, "erm", COLORS[5], "erm at (x̃, ỹ)")


def _label_panels(axes: Any) -> None:
    """Scales, labels, titles and reference lines of the four panels ``axes`` (2 × 2)."""
    (a_big, a_small), (a_ratio, a_loss) = axes
    a_big.set(
        xscale="log",
        yscale="log",
        ylabel="mean over the evaluated samples",
        title="(a) R1 and −R3 of Corollary 4",
    )
    a_big.text(
        0.02,
        0.97,
        "R1 and −R3 blow up together (~1/min S) and cancel:\n"
        "R1 + R3 must be read as R13 (panel b), never summed",
        transform=a_big.transAxes,
        va="top",
        fontsize=9,
        bbox={"boxstyle": "round", "fc": "lightyellow", "alpha": 0.9},
    )
    a_small.set(
        xscale="log",
        ylabel="mean over the evaluated samples",
        title="(b) R13, R2 and the slides' −R3_H = ½ tr(H K)",
    )
    a_small.axhline(0, color="grey", lw=0.8)
    a_ratio.set(
        xscale="log",
        yscale="log",
        ylabel="ratio of the means",
        title="(c) how large R3 is next to R1, in each form",
    )
    a_ratio.axhline(1, color="grey", lw=0.8, ls=":")
    a_ratio.axhline(0.01, color="grey", lw=0.8, ls=":")
    a_loss.set(
        xscale="log",
        ylabel="loss (mean over the evaluated anchors)",
        title="(d) mixup loss against its second-order expansion",
    )


def _draw_panels(fig: Any, agg: list[dict[str, Any]]) -> str:
    """The 2 × 2 panels of one network into ``fig`` (a figure or a subfigure); returns the test
    accuracies as text."""
    axes = fig.subplots(2, 2)
    _draw_curves(axes, agg)
    _label_panels(axes)
    for ax in axes.ravel():
        ax.set_xlabel("training epoch (epoch 0 drawn at ½)")
        ax.legend(fontsize=7.5, ncol=2)
    acc = {u: select(agg, unit=u, metric="test_accuracy") for u in ("erm", "mixup")}
    return ", ".join(f"{u} {r[0]['mean']:.3f}" for u, r in acc.items() if r)


def draw(rows: list[dict[str, Any]], info: DrawInfo) -> MplFigure:
    """Four panels against the epoch (log-x, epoch 0 drawn at ½): (a) R1 and −R3 of Corollary 4
    (log-y) with the note that R1 + R3 must be read as R13; (b) R13, R2 and the slides' −R3_H;
    (c) the ratios −R3/R1 and |R3_H|/R1 (log-y); (d) the sampled mixup loss ± its standard error,
    E_Q = erm + R13 + R2 + R4 and erm. Colour = quantity, line style = training. With network
    variants (full run), one block of four panels per variant, side by side, titled with its label
    ("ReLU ResNet-18, R2 by secant curvature" / "smooth (GELU) ResNet-18, R2 by autograd")."""
    from ._plotting import pyplot

    plt = pyplot()
    alpha = float(info.config.params["alpha"])
    m = int(info.config.params["num_evaluated"])
    parts = split_variants(rows)
    head = f"{info.title}\nα = {alpha:g} geometry, the same {m} random training samples for both runs; "
    if list(parts) == [None]:
        fig = plt.figure(figsize=(14, 10.5), layout="constrained")
        acc_text = _draw_panels(fig, aggregate(parts[None]))
        fig.suptitle(f"{head}error bars ± std over seeds; test accuracy {acc_text}")
        return fig
    fig = plt.figure(figsize=(14 * len(parts), 11), layout="constrained")
    for sub, (v, vrows) in zip(np.atleast_1d(fig.subfigures(1, len(parts))), parts.items()):
        acc_text = _draw_panels(sub, aggregate(vrows))
        sub.suptitle(f"{VARIANTS[v]['label']}; test accuracy {acc_text}", fontweight="bold")
    fig.suptitle(f"{head}error bars ± std over seeds")
    return fig


_QUICK = {
    "data": "digits",
    "num_samples": 600,
    "arch": "mlp",
    "activation": "tanh",
    "hidden": (64, 32),
    "dtype": "float64",
    "alpha": 0.5,
    "checkpoints": (0, 1, 3, 10, 30, 60),
    "lr": 1e-2,
    "weight_decay": 5e-4,
    "batch_size": 50,
    "num_evaluated": 100,
    "num_probes": 16,
    "num_draws": 64,
}
_FULL = {
    "data": "cifar10",
    "num_samples": None,
    "arch": "resnet18",
    "activation": "gelu",
    "hidden": (256,),
    "dtype": "float32",
    "alpha": 0.5,
    "checkpoints": (0, 1, 3, 10, 30, 100, 200),
    "lr": 1e-3,
    "weight_decay": 5e-4,
    "batch_size": 128,
    "num_evaluated": 100,
    "num_probes": 16,
    "num_draws": 64,
    "variants": ("relu-secant", "gelu-autograd"),
    "secant_step": SECANT_STEP,
}

_QUICK_DESCRIBE = (
    "bundled 8×8 digits (450 train), tanh MLP 64-64-32-10, float64, AdamW 60 epochs, 100 evaluated samples"
)

FIGURE = register(
    Figure(
        name="regularizer-trajectories",
        title="R1, R3 (Corollary 4's H⁺ form and the slides' H form), R2 and R13 along ERM and mixup "
        "training",
        claims=("seed000-r1-attenuated", "seed000-r3-negligible", "seed000-erm-r1-weaker"),
        statement='"R3(f) can be negligible compared to R1(f) which increases as epoch ↑"; training without '
        'mix-up "cannot regularize R1(f) well compared to mix-up (but better for −R3(f))" (data-valuation '
        "slides, CIFAR-10 ResNet-18, α = 0.5, 100 random samples).",
        quick=Config(_QUICK_DESCRIBE, _QUICK, seeds=3),
        standard=Config(_QUICK_DESCRIBE, _QUICK, seeds=10),
        full=Config(
            "CIFAR-10 (50,000 train), two ResNet-18s: ReLU with R2 by secant curvature (h = 1) and "
            "smooth (GELU) with R2 by autograd; float32, AdamW 200 epochs, 100 evaluated samples",
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
