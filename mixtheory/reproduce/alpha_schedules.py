r"""An α schedule against the sine λ schedule for RegMixup: "α scheduler shows poor performance
compared to λ scheduler" (data-valuation slides, future work ③; ledger ``seed000-alpha-vs-lambda-
scheduler``).

Both arms run easy → hard over training, as the slides' λ schedulers do (figure ``lambda-schedules``):

- **λ schedule** (:class:`~mixtheory.mixing.SineLambda`): λ(t) = 1 − ½ sin(π u/2), u = t/(T − 1), a
  fixed mixing weight from 1 (no mixing) to ½;
- **α schedule** (:class:`~mixtheory.mixing.AlphaSchedule`, linear from α = 0 to α = 20, the
  constant baseline's α): λ ~ Beta(α(t), α(t)) at every step, from no mixing (α = 0, ERM) to λ
  concentrated near ½ (α = 20). The slides give no α schedule; this one ends at the baseline's law
  and starts where the λ schedule starts.

The two differ in what Carratino et al.'s Theorem 1 (JMLR 2022; ``docs/theory.md §1.2``) calls the
λ noise: the λ schedule has σ²(t) = 0 (contraction only), the α schedule σ²(t) > 0 (contraction and
the regularizers' noise); the figure draws θ̄(t) and σ²(t)/θ̄(t)² under the accuracy curves. A
separate figure rather than a fourth arm of ``lambda-schedules``, whose committed standard results
would otherwise have to be recomputed; its configurations are ``lambda-schedules``' own, so the sine
arm repeats that figure's.

Headline (measured): best- and last-epoch test accuracy of both arms, mean ± std over seeds, and the
paired difference λ schedule − α schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..mixing import AlphaSchedule, SineLambda, schedule_moments
from ..training import AccuracyRecorder, RegMixup, train
from ._registry import Config, DrawInfo, Figure, Unit, register
from ._runner import Context, best_and_last, mean_and_std, select
from ._training import adamw_config, split_and_model
from .lambda_schedules import _FULL, _QUICK, _STANDARD, schedule_panels

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = ["FIGURE", "ARMS", "schedule_of"]

ARMS = {
    "sine-lambda": "RegMixup, sine λ schedule (λ: 1 → ½)",
    "alpha-linear": "RegMixup, linear α schedule (α: 0 → 20)",
}


def schedule_of(arm: str, params: Mapping[str, Any]) -> SineLambda | AlphaSchedule:
    """The schedule of ``arm`` over ``params["epochs"]`` epochs.

    >>> s = schedule_of("alpha-linear", {"epochs": 3, "alpha": 20.0})
    >>> [s.alpha(t) for t in range(3)]
    [0.0, 10.0, 20.0]
    """
    epochs = int(params["epochs"])
    if arm == "sine-lambda":
        return SineLambda(num_epochs=epochs)
    if arm == "alpha-linear":
        return AlphaSchedule(num_epochs=epochs, start=0.0, end=float(params["alpha"]), ramp="linear")
    raise ValueError(f"arm must be one of {list(ARMS)}, got {arm!r}")


def _units(params: Mapping[str, Any]) -> list[Unit]:
    return [Unit(key, {"arm": key}) for key in ARMS]


def compute(unit: Unit, seed: int, params: Mapping[str, Any], ctx: Context) -> list[dict[str, Any]]:
    schedule = schedule_of(unit.params["arm"], params)
    split, model = split_and_model(params, ctx, seed)
    result = train(
        model,
        split.X_train,
        split.y_train,
        RegMixup(law=schedule),
        adamw_config(params, ctx, seed),
        test=(split.X_test, split.y_test),
        recorders=[AccuracyRecorder()],
    )
    rows = [
        {"epoch": r["epoch"], "metric": "test_accuracy", "value": float(r["test_accuracy"])}
        for r in result.recorders[0].rows
    ]
    m = schedule_moments(schedule)
    for t, (th, v) in enumerate(zip(m["theta_mean"], m["theta_var"])):  # the law of epoch t + 1
        rows.append({"epoch": t + 1, "metric": "theta_mean", "value": float(th)})
        rows.append({"epoch": t + 1, "metric": "sigma2_over_theta2", "value": float(v / th**2)})
    return rows


def headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    per_seed, acc = {}, {}
    for key in ARMS:
        best, last = best_and_last(select(rows, unit=key, metric="test_accuracy"))
        per_seed[key] = {"best": best, "last": last}
        acc[key] = {"best": mean_and_std(best), "last": mean_and_std(last)}
    gap = {
        which: mean_and_std(
            list(np.subtract(per_seed["sine-lambda"][which], per_seed["alpha-linear"][which]))
        )
        for which in ("best", "last")
    }
    return {
        "accuracy": acc,
        "lambda_minus_alpha": gap,
        "text": (
            f"sine λ schedule − linear α schedule: best epoch {gap['best'][0]:+.4f} ± {gap['best'][1]:.4f}, "
            f"last {gap['last'][0]:+.4f} ± {gap['last'][1]:.4f} (paired over seeds)"
        ),
    }


def checks(h: dict[str, Any]) -> dict[str, bool]:
    return {
        "both schedules train (last-epoch accuracy above 0.5)": all(
            v["last"][0] > 0.5 for v in h["accuracy"].values()
        ),
    }


def draw(rows: list[dict[str, Any]], info: DrawInfo) -> MplFigure:
    """Top: test accuracy per epoch; middle: θ̄(t); bottom: σ²(t)/θ̄(t)²; shared epoch axis."""
    h = headline(rows)
    fig, a_acc, a_theta, a_var = schedule_panels(rows, ARMS, h["accuracy"], digits=4)
    gap = h["lambda_minus_alpha"]["last"]
    a_acc.set(
        ylabel="test accuracy",
        title=f"test accuracy per epoch; last epoch, λ − α schedule {gap[0]:+.4f} ± {gap[1]:.4f} "
        "(paired over seeds)",
    )
    a_theta.set(ylabel="θ̄(t)", title="mean folded mixing weight θ̄(t)")
    a_var.set(
        xlabel="epoch",
        ylabel="σ²(t) / θ̄(t)²",
        title="relative λ noise σ²(t)/θ̄(t)² (0 for the λ schedule: λ(t) is fixed)",
    )
    fig.suptitle(info.title + "\nerror bars ± std over seeds")
    return fig


FIGURE = register(
    Figure(
        name="alpha-schedules",
        title="RegMixup: a linear α schedule (0 → 20) against the sine λ schedule",
        claims=("seed000-alpha-vs-lambda-scheduler",),
        statement='"From some experiments, it turned out that α scheduler shows poor performance compared '
        'to λ scheduler" (data-valuation slides, future work ③; CIFAR-10, no numbers given).',
        quick=Config(
            "bundled 8×8 digits (450 train / 150 test), ReLU MLP 64-64-10, 30 epochs", _QUICK, seeds=3
        ),
        standard=Config(
            "MNIST-5k (3,000 train / 2,000 test per seed), ReLU MLP 784-128-10, 30 epochs "
            "(as lambda-schedules)",
            _STANDARD,
            seeds=10,
        ),
        full=Config(
            "CIFAR-10 (50,000 train), smooth ResNet-18, 400 epochs (≈ 2 schedules × 3 seeds × 3 GPU-h on "
            "one H100)",
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
