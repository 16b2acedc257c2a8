r"""Mixing-law design: how the law of λ sets the strength of the mixup regularizers.

Once written in the contracted coordinates x̃ (Carratino et al., JMLR 2022, Lemma 2;
``docs/theory.md §3.2``) the regularizers R1–R3 scale with σ²/θ̄² (the rank-one term) and γ²/θ̄²
(the shared term). This figure tabulates θ̄ and both ratios against α for Beta(α, α), the W-shaped
law of the Carratino summary, RegMixup with half clean samples and Zhang et al.'s λ̃ law
(``docs/theory.md §2``).

Headline (checked): for Beta(α, α), γ²/θ̄² rises monotonically with α from 0 (ERM, α → 0,
``docs/theory.md §2.2``) to 1 (α → ∞, λ → ½; slowly, like 1 − 2/√(πα)), and σ²/θ̄² peaks at an
interior α: the shared term keeps growing, the sample-specific one does not, so "maximising
σ²/θ̄²" (ledger ``seed001-ratio``) picks one α, not "more mixing".

Zhang et al.'s λ̃ ~ Beta(α+1, α) folds to exactly the θ law of Beta(α, α) (``docs/theory.md
§2.4``), so its curves lie on Beta's: they are drawn on top, dashed with markers, and the legend
says they coincide. The dotted vertical line marks the α at which σ²/θ̄² peaks for Beta(α, α),
located by optimising the closed form (scipy's bounded Brent in log α) inside the grid's bracket.
Deterministic (closed forms and quadrature): one unit per law, no seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..laws import MixingLaw, Mixture, PointMass, SymmetricBeta, WShaped, ZhangLambdaTilde
from ._registry import Config, DrawInfo, Figure, Unit, register
from ._runner import Context, select

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = ["FIGURE", "LAWS", "COINCIDENT", "METRICS"]

LAWS: dict[str, Callable[[float], MixingLaw]] = {
    "Beta(α, α)": SymmetricBeta,
    "W-shaped(α)": WShaped,
    "RegMixup ½ clean": lambda a: Mixture([PointMass(1.0), SymmetricBeta(a)], [0.5, 0.5]),
    "Zhang λ̃(α)": ZhangLambdaTilde,
}
_KEYS = {
    "Beta(α, α)": "beta",
    "W-shaped(α)": "w-shaped",
    "RegMixup ½ clean": "regmixup",
    "Zhang λ̃(α)": "zhang",
}
COINCIDENT = "Zhang λ̃(α)"  # folds to the θ law of Beta(α, α): its curves lie on Beta's
METRICS = ("theta_mean", "theta_var", "gamma2", "theta_var_over_theta_mean2", "gamma2_over_theta_mean2")
PANELS = (
    ("theta_mean", "θ̄ = E max(λ, 1−λ)"),
    ("theta_var_over_theta_mean2", "σ²/θ̄²  (rank-one term)"),
    ("gamma2_over_theta_mean2", "γ²/θ̄²  (shared term)"),
)


def alphas(params: Mapping[str, Any]) -> np.ndarray:
    """The α grid: ``num_alphas`` log-spaced points on [1e-3, 1e4]."""
    return np.logspace(-3, 4, int(params["num_alphas"]))


def _units(params: Mapping[str, Any]) -> list[Unit]:
    return [Unit(_KEYS[name], {"law": name}) for name in LAWS]


def compute(unit: Unit, seed: int, params: Mapping[str, Any], ctx: Context) -> list[dict[str, Any]]:
    """θ̄, σ², γ² and the two ratios of one law at every α of the grid."""
    name = unit.params["law"]
    rows = []
    for a in alphas(params):
        moments = LAWS[name](float(a)).moments()
        rows.extend(
            {"law": name, "alpha": float(a), "metric": m, "value": float(moments[m])} for m in METRICS
        )
    return rows


def curve(rows: list[dict[str, Any]], law: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(α, value) of one law and metric, sorted by α."""
    picked = select(rows, law=law, metric=metric)
    a = np.array([r["alpha"] for r in picked], dtype=float)
    v = np.array([r["value"] for r in picked], dtype=float)
    order = np.argsort(a)
    return a[order], v[order]


def sigma2_ratio_argmax(lo: float, hi: float) -> tuple[float, float]:
    """The α in [lo, hi] maximising σ²/θ̄² of Beta(α, α), from the closed-form moments by bounded
    scalar optimisation in log α (scipy's Brent), and the maximum."""
    from scipy.optimize import minimize_scalar

    def neg(log_a: float) -> float:
        return -float(SymmetricBeta(float(np.exp(log_a))).moments()["theta_var_over_theta_mean2"])

    best = minimize_scalar(neg, bounds=(np.log(lo), np.log(hi)), method="bounded", options={"xatol": 1e-10})
    return float(np.exp(best.x)), -float(best.fun)


def headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    a, g = curve(rows, "Beta(α, α)", "gamma2_over_theta_mean2")
    _, s = curve(rows, "Beta(α, α)", "theta_var_over_theta_mean2")
    peak = int(np.argmax(s))
    # the grid brackets the maximiser; the closed form locates it
    arg, top = sigma2_ratio_argmax(float(a[max(peak - 1, 0)]), float(a[min(peak + 1, a.size - 1)]))
    gap = 0.0
    for metric in METRICS:
        _, beta = curve(rows, "Beta(α, α)", metric)
        _, zhang = curve(rows, COINCIDENT, metric)
        gap = max(gap, float(np.max(np.abs(zhang - beta) / np.maximum(np.abs(beta), 1e-300))))
    return {
        "beta_sigma2_ratio_peak_alpha": float(a[peak]),
        "beta_sigma2_ratio_peak_value": float(s[peak]),
        "beta_sigma2_ratio_argmax_alpha": arg,
        "beta_sigma2_ratio_max": top,
        "beta_sigma2_ratio_peak_index": peak,
        "num_alphas": int(a.size),
        "beta_gamma2_ratio_range": [float(g[0]), float(g[-1])],
        "beta_gamma2_ratio_increasing": bool(np.all(np.diff(g) > 0)),
        "zhang_vs_beta_max_relative_gap": gap,
        "text": f"σ²/θ̄² for Beta(α, α) peaks at α = {arg:.4f} ({top:.5f}; closed form, optimised); "
        "γ²/θ̄² rises from "
        f"{g[0]:.2e} to {g[-1]:.4f}; Zhang's λ̃ law coincides with Beta(α, α) (relative gap {gap:.1e}).",
    }


def checks(h: dict[str, Any]) -> dict[str, bool]:
    lo, hi = h["beta_gamma2_ratio_range"]
    return {
        "gamma2 ratio rises with alpha": h["beta_gamma2_ratio_increasing"],
        "gamma2 ratio runs from ~0 (ERM) to ~1": lo < 1e-2 and hi > 0.95,
        "sigma2 ratio peaks at an interior alpha": 0
        < h["beta_sigma2_ratio_peak_index"]
        < h["num_alphas"] - 1,
        "the optimised peak is at least the grid's": h["beta_sigma2_ratio_max"]
        >= h["beta_sigma2_ratio_peak_value"],
        "Zhang's lambda-tilde folds to Beta(alpha, alpha)": h["zhang_vs_beta_max_relative_gap"] < 1e-9,
    }


def draw(rows: list[dict[str, Any]], info: DrawInfo) -> MplFigure:
    """The three panels; every legend entry visible (the coinciding curve dashed with markers, on
    top), the vertical line labelled."""
    from ._plotting import pyplot

    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.8), constrained_layout=True)
    for name in LAWS:
        if name == COINCIDENT:
            style = {
                "ls": "--",
                "lw": 1.5,
                "marker": "o",
                "markersize": 3.5,
                "markevery": 0.05,
                "color": "black",
                "zorder": 5,
                "label": f"{name}: coincides with Beta(α, α)",
            }
        else:
            style = {"lw": 2.5 if name.startswith("Beta") else 1.5, "zorder": 2, "label": name}
        for ax, (metric, _) in zip(axes, PANELS):
            ax.plot(*curve(rows, name, metric), **style)
    for ax, (_, title) in zip(axes, PANELS):
        ax.set_xscale("log")
        ax.set_xlabel("α (mixing-law parameter)")
        ax.set_ylabel(title.split("  ")[0])
        ax.set_title(title)
    h = headline(rows)
    axes[1].axvline(
        h["beta_sigma2_ratio_argmax_alpha"],
        color="grey",
        ls=":",
        lw=1.5,
        zorder=1,
        label=f"peak of σ²/θ̄² for Beta(α, α), α = {h['beta_sigma2_ratio_argmax_alpha']:.4f}",
    )
    axes[0].legend(fontsize=8)
    axes[1].legend(handles=[axes[1].lines[-1]], fontsize=8, loc="upper right")
    fig.suptitle(info.title)
    return fig


FIGURE = register(
    Figure(
        name="mixing-law-design",
        title="How the law of λ sets the strength of the mixup regularizers",
        claims=(),
        statement="Maximising σ²/θ̄² enhances the regularization effect of R1–R3 (Carratino summary); "
        "α → 0 recovers ERM (MixupE slides).",
        quick=Config("θ-moments in closed form and by quadrature, 60 α on [1e-3, 1e4]", {"num_alphas": 60}),
        full=Config("θ-moments in closed form and by quadrature, 200 α on [1e-3, 1e4]", {"num_alphas": 200}),
        units=_units,
        compute=compute,
        draw=draw,
        headline=headline,
        checks=checks,
        seeded=False,
    )
)
