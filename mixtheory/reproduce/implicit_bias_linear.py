r"""Implicit bias of GD and of mixup-GD on a linear logistic model with separable data.

The MixupE slides (Zou, Verma et al., UAI 2023) repeat the experiment of Soudry, Hoffer, Nacson,
Gunasekar, Srebro ("The implicit bias of gradient descent on separable data", JMLR 2018) with
mixup and state that "training f_w with ERM or Mixup yields the same implicit bias (loss
decreases, norm of w(t) explodes)" and that "both Mixup and GD are maximizing the margin and have
similar convergence rates" (ledger ``seed002-linear-implicit-bias``).

Set-up: n points in 2-D, two classes separable through the origin, a linear model u = wᵀx without
bias and the binary logistic loss ℓ(y, u) = log(1 + eᵘ) − y u, y ∈ {0, 1} (``docs/theory.md §4.6``).
Full-batch GD from w = 0 with step 1/L, L = λ_max(XᵀX/n)/4 the smoothness of the loss; mixup-GD
takes the same step on the batch of n mixed points λx_i + (1−λ)x_{π(i)}, λ ~ Beta(α, α) drawn once
per step and π a random permutation, labels mixed alike (Zhang et al., ICLR 2018). Recorded at
log-spaced iterations: w(t)/‖w(t)‖, ‖w(t)‖, the ERM loss, the angle gap to the max-margin
direction ŵ (the hard-margin SVM without bias: min ‖w‖ s.t. (2y_i − 1) wᵀx_i ≥ 1, solved by SLSQP)
and the margin gap γ* − min_i (2y_i − 1) wᵀx_i/‖w‖, γ* = 1/‖ŵ‖.

Also computed: the minimiser w*_α of the exact mixup loss (all n² ordered pairs, Gauss–Jacobi
quadrature over λ; ``docs/theory.md §6.1``). With mixed labels the mixup loss is coercive on such
data (a mixed point near the boundary carries a soft label, which an infinite ‖w‖ pays for
linearly), so w*_α is finite; its angle and margin gaps are drawn as horizontal lines.

Measured (checked): GD's ‖w(t)‖ grows like log t and its angle and margin gaps fall towards 0, as
Soudry et al. prove; mixup-GD's ‖w(t)‖ stops growing, near ‖w*_α‖, and its gaps stop at those of
w*_α, which are not 0. The "same implicit bias" holds for the early iterations only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..laws import SymmetricBeta
from ..losses import BinaryLogistic
from ._registry import Config, DrawInfo, Figure, Unit, register
from ._runner import Context, aggregate, select

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = ["FIGURE", "separable_data", "max_margin_direction", "mixup_minimiser", "exact_mixup_loss_linear"]

_LOSS = BinaryLogistic()
METRICS = ("w1", "w2", "norm", "loss", "angle_gap", "margin_gap")


def separable_data(n: int, seed: int, margin: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (n, 2) and labels ``y`` (n,) in {0, 1}, separable through the origin: class 1 around
    (1.5, 0.5), class 0 around (−1.5, −0.5), unit covariance, points within ``margin`` of the line
    x₁ + x₂ = 0 (on the wrong side or too close) redrawn."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, 2))
    y = (np.arange(n) % 2).astype(np.float64)
    for i in range(n):
        sign = 2 * y[i] - 1
        while True:
            x = sign * np.array([1.5, 0.5]) + rng.standard_normal(2)
            if sign * (x[0] + x[1]) / np.sqrt(2) >= margin:
                break
        X[i] = x
    return X, y


def max_margin_direction(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """(ŵ/‖ŵ‖, γ*) of the hard-margin SVM without bias, min ‖w‖² s.t. s_i wᵀx_i ≥ 1 (s_i = 2y_i − 1),
    solved by SLSQP; γ* = 1/‖ŵ‖ is the largest margin of a unit direction."""
    from scipy.optimize import minimize

    s = 2 * y - 1
    A = s[:, None] * X
    start = np.linalg.lstsq(A, np.ones(len(y)), rcond=None)[0]
    start = start / max(float((A @ start).min()), 1e-12)  # feasible: every s_i wᵀx_i ≥ 1
    res = minimize(
        lambda w: 0.5 * w @ w,
        start,
        jac=lambda w: w,
        constraints=[{"type": "ineq", "fun": lambda w: A @ w - 1.0, "jac": lambda w: A}],
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    if not res.success:
        raise RuntimeError(f"hard-margin SVM did not converge: {res.message}")
    w = res.x
    return w / np.linalg.norm(w), 1.0 / float(np.linalg.norm(w))


def exact_mixup_loss_linear(
    w: torch.Tensor, X: torch.Tensor, y: torch.Tensor, alpha: float, nodes: int = 32
) -> torch.Tensor:
    """The exact mixup loss of u = wᵀx (binary logistic, mixed labels): the mean over all n²
    ordered pairs of the λ-quadrature (λ ~ Beta(α, α), ``docs/theory.md §6.1``); differentiable in w."""
    lam, weight = SymmetricBeta(alpha).lambda_rule(nodes).to_torch(X.dtype, X.device)
    u_pairs = (
        torch.einsum("l,i->li", lam, X @ w)[:, :, None] + torch.einsum("l,j->lj", 1 - lam, X @ w)[:, None, :]
    )
    y_pairs = lam[:, None, None] * y[None, :, None] + (1 - lam)[:, None, None] * y[None, None, :]
    values = _LOSS.value(y_pairs.reshape(-1, 1), u_pairs.reshape(-1, 1)).reshape(u_pairs.shape)
    return torch.einsum("l,lij->", weight, values) / X.shape[0] ** 2


def mixup_minimiser(X: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """w*_α = argmin of :func:`exact_mixup_loss_linear` (L-BFGS-B, float64 gradients by autograd)."""
    from scipy.optimize import minimize

    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)

    def fun(w: np.ndarray) -> tuple[float, np.ndarray]:
        wt = torch.as_tensor(w).requires_grad_(True)
        value = exact_mixup_loss_linear(wt, Xt, yt, alpha)
        (grad,) = torch.autograd.grad(value, wt)
        return float(value.detach()), grad.numpy()

    res = minimize(
        fun, np.zeros(2), jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-16, "maxiter": 2000}
    )
    return res.x


def _gaps(
    w: np.ndarray, X: np.ndarray, s: np.ndarray, w_hat: np.ndarray, gamma: float
) -> tuple[float, float]:
    norm = np.linalg.norm(w)
    cos = float(np.clip(w @ w_hat / norm, -1.0, 1.0))
    return float(np.arccos(cos)), gamma - float((s * (X @ w)).min() / norm)


def _units(params: Mapping[str, Any]) -> list[Unit]:
    return [Unit("gd", {"alpha": None})] + [
        Unit(f"mixup-alpha{a:g}", {"alpha": float(a)}) for a in params["mixup_alphas"]
    ]


def compute(unit: Unit, seed: int, params: Mapping[str, Any], ctx: Context) -> list[dict[str, Any]]:
    X, y = separable_data(int(params["n"]), seed)
    s = 2 * y - 1
    w_hat, gamma = max_margin_direction(X, y)
    n = len(y)
    step = 1.0 / (np.linalg.eigvalsh(X.T @ X / n).max() / 4)
    alpha = unit.params["alpha"]
    method = "GD" if alpha is None else f"mixup-GD α={alpha:g}"
    iterations = int(params["iterations"])
    record = set(np.unique(np.geomspace(1, iterations, int(params["num_records"])).astype(int)).tolist())
    rng = np.random.default_rng(10_000 + seed)
    w = np.zeros(2)
    rows: list[dict[str, Any]] = []

    def emit(t: int, **values: float) -> None:
        rows.extend(
            {"method": method, "iteration": t, "metric": k, "value": float(v)} for k, v in values.items()
        )

    with ctx.bar(iterations, f"implicit bias {method}, seed {seed}") as bar:
        for t in range(1, iterations + 1):
            if alpha is None:
                xb, yb = X, y
            else:
                lam = rng.beta(alpha, alpha)
                perm = rng.permutation(n)
                xb, yb = lam * X + (1 - lam) * X[perm], lam * y + (1 - lam) * y[perm]
            u = xb @ w
            # ℓ_u = σ(u) − y (BinaryLogistic.grad_u), written out: this loop is the figure's cost
            w = w - step * (xb.T @ (0.5 * (1 + np.tanh(0.5 * u)) - yb)) / n
            if t in record:
                angle, mgap = _gaps(w, X, s, w_hat, gamma)
                loss = float(_LOSS.value(torch.as_tensor(y)[:, None], torch.as_tensor(X @ w)[:, None]).mean())
                direction = w / np.linalg.norm(w)
                emit(
                    t,
                    w1=direction[0],
                    w2=direction[1],
                    norm=np.linalg.norm(w),
                    loss=loss,
                    angle_gap=angle,
                    margin_gap=mgap,
                )
            if t % 1000 == 0:
                bar.update(1000)
    rows.extend(
        [
            {"method": method, "metric": "max_margin_w1", "value": float(w_hat[0])},
            {"method": method, "metric": "max_margin_w2", "value": float(w_hat[1])},
            {"method": method, "metric": "max_margin", "value": gamma},
        ]
    )
    if alpha is None:  # the data themselves, once per seed, so that the drawing needs only the CSV
        for i, (x, label) in enumerate(zip(X, y)):
            rows.extend(
                {"method": "data", "sample": i, "metric": k, "value": float(v)}
                for k, v in (("x1", x[0]), ("x2", x[1]), ("label", label))
            )
    else:
        w_star = mixup_minimiser(X, y, alpha)
        angle, mgap = _gaps(w_star, X, s, w_hat, gamma)
        w_dir = w_star / np.linalg.norm(w_star)
        values = {
            "norm": np.linalg.norm(w_star),
            "angle_gap": angle,
            "margin_gap": mgap,
            "w1": w_dir[0],
            "w2": w_dir[1],
        }
        rows.extend(
            {"method": method, "metric": f"minimiser_{k}", "value": float(v)} for k, v in values.items()
        )
    return rows


def _series(agg: list[dict[str, Any]], method: str, metric: str) -> tuple[np.ndarray, ...]:
    picked = sorted(select(agg, method=method, metric=metric), key=lambda r: r["iteration"])
    return tuple(np.array([r[k] for r in picked], dtype=float) for k in ("iteration", "mean", "std"))


def _methods(rows: list[dict[str, Any]]) -> list[str]:
    return sorted({r["method"] for r in rows if r["method"] != "data"}, key=lambda m: (m != "GD", m))


def headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    agg = aggregate(r for r in rows if r.get("iteration") is not None)
    out: dict[str, Any] = {"methods": {}}
    for method in _methods(rows):
        t, norm, _ = _series(agg, method, "norm")
        _, angle, angle_std = _series(agg, method, "angle_gap")
        _, mgap, _ = _series(agg, method, "margin_gap")
        last_decade = t >= t[-1] / 10
        entry = {
            "final_iteration": int(t[-1]),
            "final_norm": float(norm[-1]),
            "norm_growth_last_decade": float(norm[-1] / norm[last_decade][0]),
            "final_angle_gap": float(angle[-1]),
            "final_angle_gap_std": float(angle_std[-1]),
            "angle_gap_drop_last_decade": float(angle[last_decade][0] / angle[-1]),
            "final_margin_gap": float(mgap[-1]),
        }
        minimiser = {
            r["metric"]: r["value"] for r in rows if r["method"] == method and r["metric"].startswith("min")
        }
        if minimiser:
            per_seed = [
                r["value"] for r in rows if r["method"] == method and r["metric"] == "minimiser_angle_gap"
            ]
            entry["minimiser_angle_gap"] = float(np.mean(per_seed))
            entry["minimiser_norm"] = float(
                np.mean(
                    [r["value"] for r in rows if r["method"] == method and r["metric"] == "minimiser_norm"]
                )
            )
        out["methods"][method] = entry
    gd = out["methods"]["GD"]
    mixes = {m: e for m, e in out["methods"].items() if m != "GD"}
    parts = [
        f"GD: ‖w‖ grows ×{gd['norm_growth_last_decade']:.2f} over the last decade of iterations, angle gap "
        f"{gd['final_angle_gap']:.2e} rad at t = {gd['final_iteration']:,}"
    ]
    for m, e in mixes.items():
        parts.append(
            f"{m}: ‖w‖ ×{e['norm_growth_last_decade']:.3f} (→ ‖w*‖ = {e['minimiser_norm']:.2f}), angle gap "
            f"{e['final_angle_gap']:.2e} rad (w*: {e['minimiser_angle_gap']:.2e})"
        )
    out["text"] = "; ".join(parts) + ". Mixup does not share GD's max-margin bias: its norm stays bounded."
    return out


def checks(h: dict[str, Any]) -> dict[str, bool]:
    gd = h["methods"]["GD"]
    mixes = [e for m, e in h["methods"].items() if m != "GD"]
    return {
        "GD norm keeps growing (log t)": gd["norm_growth_last_decade"] > 1.1,
        "GD angle gap keeps falling": gd["angle_gap_drop_last_decade"] > 1.05,
        "mixup norm stays at the finite minimiser's (±10%)": all(
            abs(e["final_norm"] / e["minimiser_norm"] - 1) < 0.1 for e in mixes
        ),
        "mixup angle gap stays above GD's": all(
            e["final_angle_gap"] > 2 * gd["final_angle_gap"] for e in mixes
        ),
        "mixup-GD ends at the mixup minimiser's gap": all(
            abs(e["final_angle_gap"] - e["minimiser_angle_gap"]) < 0.25 * e["minimiser_angle_gap"] + 1e-3
            for e in mixes
        ),
    }


def _seed_values(rows: list[dict[str, Any]], seed: int, method: str, metric: str) -> np.ndarray:
    picked = sorted(select(rows, seed=seed, method=method, metric=metric), key=lambda r: r.get("sample") or 0)
    return np.array([r["value"] for r in picked], dtype=float)


def _draw_curves(
    axes: Sequence[Any], rows: list[dict[str, Any]], agg: list[dict[str, Any]], methods: list[str]
) -> None:
    """The five curve panels ``axes`` = (w(t)/‖w(t)‖, ‖w(t)‖, loss, angle gap, margin gap): mean ±
    std over seeds per method, the exact-loss minimisers and the max-margin direction as lines."""
    from matplotlib.lines import Line2D

    from ._plotting import COLORS

    a_w, a_norm, a_loss, a_angle, a_margin = axes
    for color, method in zip(COLORS, methods):
        for ax, metric in (
            (a_norm, "norm"),
            (a_loss, "loss"),
            (a_angle, "angle_gap"),
            (a_margin, "margin_gap"),
        ):
            t, mean, std = _series(agg, method, metric)
            low = mean - std if ax is a_norm else np.maximum(mean - std, mean / 10)
            ax.plot(t, mean, color=color, lw=1.8, label=method)
            ax.fill_between(t, low, mean + std, color=color, alpha=0.2, lw=0)
        for comp, ls in (("w1", "-"), ("w2", "--")):
            t, mean, std = _series(agg, method, comp)
            a_w.plot(t, mean, color=color, ls=ls, lw=1.6)
            a_w.fill_between(t, mean - std, mean + std, color=color, alpha=0.15, lw=0)
        if method != "GD":
            for ax, metric in ((a_norm, "norm"), (a_angle, "angle_gap"), (a_margin, "margin_gap")):
                vals = [r["value"] for r in select(rows, method=method, metric=f"minimiser_{metric}")]
                ax.axhline(
                    np.mean(vals), color=color, ls=":", lw=1.5, label=f"{method}: exact-loss minimiser w*"
                )
    for comp, ls in (("w1", "-"), ("w2", "--")):
        vals = [r["value"] for r in rows if r["metric"] == f"max_margin_{comp}"]
        a_w.axhline(np.mean(vals), color="black", ls=ls, lw=1, alpha=0.7)
    handles = [Line2D([], [], color=c, lw=2, label=m) for c, m in zip(COLORS, methods)]
    handles += [
        Line2D([], [], color="grey", ls="-", label="w₁/‖w‖"),
        Line2D([], [], color="grey", ls="--", label="w₂/‖w‖"),
        Line2D([], [], color="black", lw=1, label="max-margin ŵ (black)"),
    ]
    a_w.set_ylim(-0.25, 1.0)
    a_w.legend(handles=handles, fontsize=7.5, loc="lower center", ncol=2)
    panels = (
        (a_w, "normalised w(t) (mean over seeds)", "w(t)/‖w(t)‖", "linear"),
        (a_norm, "‖w(t)‖", "‖w(t)‖", "linear"),
        (a_loss, "training (ERM) loss", "mean logistic loss", "log"),
        (a_angle, "angle gap to the max-margin direction", "angle (rad)", "log"),
        (a_margin, "margin gap γ* − min_i s_i wᵀx_i/‖w‖", "margin gap", "log"),
    )
    for ax, title, ylabel, yscale in panels:
        ax.set_xscale("log")
        ax.set_yscale(yscale)
        ax.set_xlabel("iteration t")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        if ax is not a_w:
            ax.legend(fontsize=7.5)


def _draw_data(a_data: Any, rows: list[dict[str, Any]], seed: int, methods: list[str]) -> None:
    """The data of ``seed`` with the max-margin boundary and each mixup method's w* boundary."""
    from ._plotting import COLORS

    X = np.stack([_seed_values(rows, seed, "data", "x1"), _seed_values(rows, seed, "data", "x2")], 1)
    y = _seed_values(rows, seed, "data", "label")
    a_data.scatter(*X[y == 1].T, s=12, color=COLORS[2], label="class 1")
    a_data.scatter(*X[y == 0].T, s=12, color=COLORS[3], marker="s", label="class 0")
    span = np.abs(X).max() * 1.05
    w_hat = np.array([_seed_values(rows, seed, "GD", f"max_margin_{c}")[0] for c in ("w1", "w2")])
    a_data.plot(
        *np.outer([-span, span], [-w_hat[1], w_hat[0]]).T, color="black", lw=1.5, label="max-margin boundary"
    )
    for color, method in zip(COLORS[1:], methods[1:]):
        w_star = np.array([_seed_values(rows, seed, method, f"minimiser_{c}")[0] for c in ("w1", "w2")])
        a_data.plot(
            *np.outer([-span, span], [-w_star[1], w_star[0]]).T,
            color=color,
            ls=":",
            lw=1.8,
            label=f"{method}: w* boundary",
        )
    a_data.set_xlim(-span, span)
    a_data.set_ylim(-span, span * 1.7)
    a_data.set_aspect("equal")
    a_data.set_xlabel("x₁")
    a_data.set_ylabel("x₂")
    a_data.set_title(f"the data of seed {seed} and the boundaries")
    a_data.legend(fontsize=7.5, loc="upper center", ncol=2)


def draw(rows: list[dict[str, Any]], info: DrawInfo) -> MplFigure:
    """Six panels from the CSV: w(t)/‖w(t)‖, ‖w(t)‖, the loss, the angle and margin gaps (mean over
    seeds, ± std bands; on log axes a band is cut at a tenth of the mean), and the data of the
    first seed with the max-margin and mixup-minimiser boundaries."""
    from ._plotting import pyplot

    plt = pyplot()
    agg = aggregate(r for r in rows if r.get("iteration") is not None)
    fig, axes = plt.subplots(2, 3, figsize=(15, 9), constrained_layout=True)
    (a_w, a_norm, a_loss), (a_angle, a_margin, a_data) = axes
    methods = _methods(rows)
    _draw_curves((a_w, a_norm, a_loss, a_angle, a_margin), rows, agg, methods)
    _draw_data(a_data, rows, min(info.seeds), methods)
    fig.suptitle(info.title + "; bands: ± std over seeds")
    return fig


FIGURE = register(
    Figure(
        name="implicit-bias-linear",
        title="Implicit bias of GD and mixup-GD: linear logistic regression on separable 2-D data",
        claims=("seed002-linear-implicit-bias",),
        statement="On a linear logistic model, ERM (GD) and Mixup yield the same implicit bias (the norm of "
        "w(t) explodes, margin maximisation, similar convergence rates) (MixupE slides).",
        quick=Config(
            "separable 2-D Gaussian classes (n = 100), full-batch GD, 20,000 iterations",
            {"n": 100, "iterations": 20_000, "num_records": 60, "mixup_alphas": (0.2, 1.0)},
            seeds=3,
        ),
        full=Config(
            "separable 2-D Gaussian classes (n = 100), full-batch GD, 1,000,000 iterations",
            {"n": 100, "iterations": 1_000_000, "num_records": 120, "mixup_alphas": (0.2, 1.0)},
            seeds=10,
        ),
        units=_units,
        compute=compute,
        draw=draw,
        headline=headline,
        checks=checks,
    )
)
