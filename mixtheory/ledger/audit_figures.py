r"""Observations of the data-valuation slides (seed 000) that a committed figure decides: R1's
rise under mixup, the sine scheduler, EL2N of mixed samples, the blobs (forgetting near the boundary,
hard samples outside their cluster, hard pairing near the boundary), the α against the λ scheduler,
and approximate mixup. Each rule is a paired t test across seeds written before its standard run
(:mod:`._evidence`); registered by an import from :mod:`.audit`.
"""

from __future__ import annotations

import numpy as np

from ._evidence import Rule, decide
from .claims import FigureDecision, Finding, observation
from .figures import FigureResult, combine, decision_finding, is_smoke, n_test_points, per_seed_headlines
from .sources import DATA_VALUATION

# --------------------------------------------------------------------------------------------
# Figure-decided observations
# --------------------------------------------------------------------------------------------
#: pre-declared rules of seed000-r1-attenuated: R1 rises with epoch under mixup (Spearman ≥ 0.3
#: matters) and ERM's final R1 exceeds mixup's (a factor 2, log 2, matters)
R1_RISE_RULE = Rule("Spearman ρ(R1, epoch) under mixup", "greater", 0.3)
R1_GAP_RULE = Rule("log(ERM's final R1 / mixup's)", "greater", float(np.log(2.0)))


def r1_attenuated_from_figure(result: FigureResult) -> Finding:
    """``seed000-r1-attenuated`` from figure ``regularizer-trajectories``: mixup's R1 rises with
    epoch (per-seed Spearman, :data:`R1_RISE_RULE`) while staying below ERM's (:data:`R1_GAP_RULE`);
    both parts needed."""
    smoke = is_smoke(result)
    rho = result.headline["mixup_R1_epoch_spearman_per_seed"]
    per_seed = per_seed_headlines(result)
    gap = [float(np.log(h["final"]["erm"]["R1"] / h["final"]["mixup"]["R1"])) for h in per_seed]
    decisions = {
        "R1 rises under mixup": decide(R1_RISE_RULE, rho, None, smoke=smoke),
        "ERM's R1 above mixup's": decide(R1_GAP_RULE, gap, None, smoke=smoke),
    }
    verdict = combine({k: d.verdict for k, d in decisions.items()})
    head = {
        "holds": "Holds at this scale: under mixup R1 still rises, but stays far below ERM's.",
        "fails": "Fails at this scale.",
        "inconclusive": "Inconclusive at this scale.",
    }[verdict]
    return decision_finding(head, decisions, verdict)


observation(
    "seed000-r1-attenuated",
    DATA_VALUATION,
    'R_1(f) "increases as epoch ↑" under mixup, and mixup regularization "may not indicate \'reducing\' the '
    "values instead 'attenuating' the increase\" (R1 below ERM's, yet rising).",
    "R1 along training under ERM and mixup on CIFAR-10 (ResNet-18), ≥ 3 seeds",
    figure=FigureDecision("regularizer-trajectories", r1_attenuated_from_figure, {"quick": "holds"}),
    # quick (digits, 3 seeds): ρ = 0.71, 0.71, 0.66; ERM's final R1 ~1e5 against mixup's ~5
)

#: pre-declared rule of seed000-sine-scheduler-replicates: the slides' own gain, 0.35 point
SINE_RULE = Rule("sine − constant last-epoch test accuracy", "greater", 0.0035)


def sine_replicates_from_figure(result: FigureResult) -> Finding:
    """``seed000-sine-scheduler-replicates`` from figure ``lambda-schedules``: paired t across seeds
    of the sine schedule's last-epoch accuracy minus constant α = 20's (:data:`SINE_RULE`)."""
    per_seed = per_seed_headlines(result)
    d = [h["accuracy"]["sine"]["last"][0] - h["accuracy"]["constant"]["last"][0] for h in per_seed]
    n_test = n_test_points(result)
    resolution = None if n_test is None else 1.0 / n_test
    decision = decide(SINE_RULE, d, n_test, smoke=is_smoke(result), resolution=resolution)
    head = f"{decision.verdict.capitalize()} at this scale."
    return decision_finding(head, {"sine vs constant": decision}, decision.verdict)


observation(
    "seed000-sine-scheduler-replicates",
    DATA_VALUATION,
    "RegMixUp with the sine λ scheduler beats constant α = 20 by about the slides' 0.35 points, beyond seed "
    "noise (the slides show one run per method).",
    "RegMixUp on CIFAR-10 (ResNet-18, 400 epochs), sine vs constant, ≥ 10 seeds, paired",
    figure=FigureDecision("lambda-schedules", sine_replicates_from_figure, {"quick": "inconclusive"}),
)

#: pre-declared rule of seed000-el2n-mixed-samples: EL2N–GraNd agreement (Spearman over the decile
#: cells) lower on mixed samples (λ > 0) than on clean ones (λ = 0) by 0.2
EL2N_MIXED_RULE = Rule("cell Spearman(EL2N, GraNd) at λ = 0 minus its mean over λ > 0", "greater", 0.2)


def el2n_mixed_from_figure(result: FigureResult) -> Finding:
    """``seed000-el2n-mixed-samples`` from figure ``score-heatmaps``: t across seeds of the drop in
    EL2N–GraNd agreement from clean to mixed samples (:data:`EL2N_MIXED_RULE`)."""
    d = []
    for h in per_seed_headlines(result):
        rho = {float(k): float(v) for k, v in h["el2n_vs_grand_cell_spearman"].items()}
        d.append(rho[0.0] - float(np.mean([v for k, v in rho.items() if k > 0])))
    decision = decide(EL2N_MIXED_RULE, d, None, smoke=is_smoke(result))
    head = f"{decision.verdict.capitalize()} at this scale (GraNd as the reference EL2N approximates)."
    return decision_finding(head, {"agreement drop": decision}, decision.verdict)


observation(
    "seed000-el2n-mixed-samples",
    DATA_VALUATION,
    'Since EL2N is derived from GraNd under a logit-gradient orthogonality assumption, it "may not represent '
    "good data valuation scores for 'mix-up samples'\".",
    "EL2N against GraNd on mixed samples of CIFAR-10 (10 models)",
    figure=FigureDecision("score-heatmaps", el2n_mixed_from_figure, {"quick": "holds"}),
)

#: pre-declared rule of seed000-forgetting-near-boundary: the top-50 hard samples' median distance to
#: the boundary below that of all samples (ratio − 1 < 0; a ratio of 0.8 matters)
BOUNDARY_RULE = Rule("median boundary distance, hard / all, minus 1", "less", 0.2)


def near_boundary_from_figure(result: FigureResult) -> Finding:
    """``seed000-forgetting-near-boundary`` from figure ``decision-boundaries-blobs``: per training
    (ERM, mixup), t across seeds of the hard/all distance ratio minus 1 (:data:`BOUNDARY_RULE`)."""
    from ._evidence import summary_t

    h = result.headline
    n = len(result.seeds)
    smoke = is_smoke(result)
    decisions = {}
    for method in ("erm", "mixup"):
        mean, sd = h[method]["distance_ratio_hard_over_all"]
        decisions[method] = decide(
            BOUNDARY_RULE, summary_t(float(mean) - 1.0, float(sd), n), None, smoke=smoke
        )
    verdict = combine({k: d.verdict for k, d in decisions.items()})
    return decision_finding(f"{verdict.capitalize()} at this scale (2-D blobs).", decisions, verdict)


observation(
    "seed000-forgetting-near-boundary",
    DATA_VALUATION,
    '"Forgetting score is effective on detecting hard samples (samples located near decision boundary)" '
    "(2-D blobs, top-50 hard samples, naïve and mixup training).",
    "forgetting scores and boundary distances on the slides' blobs, ≥ 10 seeds",
    figure=FigureDecision(
        "decision-boundaries-blobs", near_boundary_from_figure, {"quick": "holds", "standard": "holds"}
    ),
)
#: pre-declared rule of seed000-hard-outside-cluster: the top-50 hard samples' median offset from
#: their class centroid toward the most-confused class exceeds that of all samples (in within-class
#: standard deviations along that direction; half a standard deviation matters)
OUTSIDE_RULE = Rule(
    "median offset toward the most-confused class (within-class SDs), top-50 hard minus all", "greater", 0.5
)
#: pre-declared rule of seed000-hard-pairing-near-boundary: under hard pairing the mixed points'
#: median distance to the boundary is below random pairing's (same anchors and λ; a ratio of 0.8
#: matters)
PAIRING_RULE = Rule("median boundary distance of mixed points, hard / random pairing, minus 1", "less", 0.2)


def _per_seed(result: FigureResult, unit: str, metric: str) -> list[float]:
    """One value per seed (seed order) of ``metric`` of ``unit`` from the figure's CSV."""
    rows = [r for r in result.rows() if r.get("unit") == unit and r.get("metric") == metric]
    return [float(r["value"]) for r in sorted(rows, key=lambda r: int(r["seed"]))]


def _blobs_sizes(result: FigureResult) -> str:
    n = int(result.configuration.get("num_samples", 800))
    per_seed = "a fresh draw per seed" if result.configuration.get("data_per_seed") else "one draw"
    return f"2-D blobs, {n - n // 4} training points ({per_seed})"


def outside_cluster_from_figure(result: FigureResult) -> Finding:
    """``seed000-hard-outside-cluster`` from figure ``decision-boundaries-blobs``: per training (ERM,
    mixup), t across seeds of the hard-minus-all offset toward the most-confused class
    (:data:`OUTSIDE_RULE`); both trainings needed."""
    smoke = is_smoke(result)
    decisions = {
        m: decide(OUTSIDE_RULE, _per_seed(result, m, "offset_hard_minus_all"), None, smoke=smoke)
        for m in ("erm", "mixup")
    }
    verdict = combine({k: d.verdict for k, d in decisions.items()})
    hard = {m: float(np.mean(_per_seed(result, m, "offset_hard"))) for m in decisions}
    head = (
        f"{verdict.capitalize()} at this scale ({_blobs_sizes(result)}; the slides' CIFAR-10 half is not "
        "run): the top-50 hard samples (forgetting events, ties by EL2N) sit further from their "
        "centroid toward the class the network most confuses them with than the typical sample; their "
        "median offset is "
        + ", ".join(f"{m} {v:.2f}" for m, v in hard.items())
        + " within-class SDs toward that class ("
        + ("beyond one SD: outside the cluster's bulk" if min(hard.values()) > 1 else "at the cluster's edge")
        + ")."
    )
    return decision_finding(head, decisions, verdict, offset_hard=hard)


def pairing_near_boundary_from_figure(result: FigureResult) -> Finding:
    """``seed000-hard-pairing-near-boundary`` from figure ``decision-boundaries-blobs``: on the network
    trained with hard pairing, t across seeds of the hard/random boundary-distance ratio of mixed
    points minus 1 (:data:`PAIRING_RULE`)."""
    ratio = _per_seed(result, "hard-pairing", "mixed_distance_ratio_hard_over_random")
    decision = decide(PAIRING_RULE, [r - 1.0 for r in ratio], None, smoke=is_smoke(result))
    hard = float(np.mean(_per_seed(result, "hard-pairing", "mixed_distance_hard_pairing")))
    rand = float(np.mean(_per_seed(result, "hard-pairing", "mixed_distance_random_pairing")))
    head = (
        f"{decision.verdict.capitalize()} at this scale ({_blobs_sizes(result)}, α = 0.2, pool: top "
        f"quarter by EL2N): hard pairing's mixed points lie nearer the boundary (median {hard:.3f} "
        f"against {rand:.3f} for random partners, standardised units), but not only there: with λ ~ "
        "Beta(0.2, 0.2) the half with λ > ½ lie nearer their anchor than their partner, and the anchors are "
        "uniform over the training set."
    )
    return decision_finding(head, {"hard vs random pairing": decision}, decision.verdict)


observation(
    "seed000-hard-outside-cluster",
    DATA_VALUATION,
    '"Hard samples tend to be outside the data cluster toward the other class direction" '
    "(blobs and CIFAR-10).",
    "the offset of each top-50 hard sample from its class centroid along the direction of its "
    "most-confused class, against all samples (blobs; CIFAR-10 at full scale), ≥ 10 seeds",
    figure=FigureDecision(
        "decision-boundaries-blobs", outside_cluster_from_figure, {"quick": "holds", "standard": "holds"}
    ),
)
observation(
    "seed000-hard-pairing-near-boundary",
    DATA_VALUATION,
    '"Demonstration of hard mix-up pairing: mix-up happened only near decision boundary" (2-D blobs).',
    "the distance to the boundary of the mixed points hard pairing draws, against random pairing's "
    "(same anchors and λ), blobs, ≥ 10 seeds",
    figure=FigureDecision(
        "decision-boundaries-blobs",
        pairing_near_boundary_from_figure,
        {"quick": "holds", "standard": "holds"},
    ),
)
#: pre-declared rule of seed000-alpha-vs-lambda-scheduler: the sine λ schedule's last-epoch test
#: accuracy above the linear α schedule's by the slides' own scale for schedules (0.35 point)
ALPHA_RULE = Rule("sine λ schedule − linear α schedule last-epoch test accuracy", "greater", 0.0035)


def alpha_vs_lambda_from_figure(result: FigureResult) -> Finding:
    """``seed000-alpha-vs-lambda-scheduler`` from figure ``alpha-schedules``: paired t across seeds of
    the last-epoch accuracy of the sine λ schedule minus the linear α schedule's (:data:`ALPHA_RULE`)."""
    d = [
        a - b
        for a, b in zip(
            _last_accuracy(result, "sine-lambda"), _last_accuracy(result, "alpha-linear"), strict=True
        )
    ]
    n_test = n_test_points(result)
    decision = decide(
        ALPHA_RULE, d, n_test, smoke=is_smoke(result), resolution=None if n_test is None else 1.0 / n_test
    )
    head = (
        f"{decision.verdict.capitalize()} at this scale (RegMixup, α schedule linear from 0 to 20 against "
        "the sine λ schedule from 1 to ½, same epochs; the slides' α schedule is not given)."
    )
    return decision_finding(head, {"λ vs α schedule": decision}, decision.verdict)


def _last_accuracy(result: FigureResult, unit: str) -> list[float]:
    rows = [r for r in result.rows() if r.get("unit") == unit and r.get("metric") == "test_accuracy"]
    last = max(int(r["epoch"]) for r in rows)
    return [float(r["value"]) for r in sorted(rows, key=lambda r: int(r["seed"])) if int(r["epoch"]) == last]


observation(
    "seed000-alpha-vs-lambda-scheduler",
    DATA_VALUATION,
    '"From some experiments, it turned out that α scheduler shows poor performance compared to λ scheduler."',
    "RegMixUp with an α schedule against the sine λ schedule at equal epochs, ≥ 10 seeds, paired",
    figure=FigureDecision(
        "alpha-schedules", alpha_vs_lambda_from_figure, {"quick": "inconclusive", "standard": "fails"}
    ),
)

#: pre-declared rules of seed000-approximate-mixup, on R1 (the Jacobian regularizer): approximate
#: mixup's R1 below ERM's and above mixup's, a factor 2 (log 2) mattering on each side
APPROX_ERM_RULE = Rule("log(ERM's R1 / approximate mixup's R1)", "greater", float(np.log(2.0)))
APPROX_MIXUP_RULE = Rule("log(approximate mixup's R1 / mixup's R1)", "greater", float(np.log(2.0)))


def _approx_reported(result: FigureResult) -> tuple[dict, list[str]]:
    """Paired t across seeds of approx − ERM and mixup − approx for R13, R2, test accuracy and the
    confidence at x̃_i (reported beside the R1 decision), and one sentence per measure."""
    from ._evidence import one_sample_t

    reported, parts = {}, []
    for m in ("R13", "R2", "test_accuracy", "confidence_tilde"):
        x = {k: np.array(_per_seed(result, k, m)) for k in ("erm", "approx", "mixup")}
        lo, hi = one_sample_t(x["approx"] - x["erm"]), one_sample_t(x["mixup"] - x["approx"])
        reported[m] = {"approx_minus_erm": lo.to_dict(), "mixup_minus_approx": hi.to_dict()}
        up, down = (lo.low > 0, hi.low > 0), (lo.high < 0, hi.high < 0)
        where = "between" if all(up) or all(down) else "outside" if any(up) and any(down) else "undetermined"
        parts.append(
            f"{m}: ERM {x['erm'].mean():.4g}, approximate {x['approx'].mean():.4g}, mixup "
            f"{x['mixup'].mean():.4g}; approx − ERM {lo.estimate:+.3g} [{lo.low:+.3g}, {lo.high:+.3g}], "
            f"mixup − approx {hi.estimate:+.3g} [{hi.low:+.3g}, {hi.high:+.3g}] "
            f"({where})"
        )
    return reported, parts


def approximate_mixup_from_figure(result: FigureResult) -> Finding:
    """``seed000-approximate-mixup`` from figure ``approximate-mixup``: R1 of approximate mixup's network
    between ERM's and mixup's (paired t across seeds on log ratios, both sides needed); R13, R2 and
    test accuracy reported with their paired intervals."""
    v = {k: np.array(_per_seed(result, k, "R1")) for k in ("erm", "approx", "mixup")}
    smoke = is_smoke(result)
    decisions = {
        "R1 below ERM's": decide(APPROX_ERM_RULE, np.log(v["erm"] / v["approx"]), None, smoke=smoke),
        "R1 above mixup's": decide(APPROX_MIXUP_RULE, np.log(v["approx"] / v["mixup"]), None, smoke=smoke),
    }
    verdict = combine({k: d.verdict for k, d in decisions.items()})
    reported, parts = _approx_reported(result)
    n_test = n_test_points(result)
    head = (
        f"{verdict.capitalize()} at this scale (bundled digits, {n_test} test points, tanh MLP, α = 1; the "
        "regularizers of the network each loss trains, approximate mixup's before its test-time rescaling): "
        f"approximate mixup's R1 {v['approx'].mean():.3g} against ERM's {v['erm'].mean():.3g} and mixup's "
        f"{v['mixup'].mean():.3g}"
        + (
            ". Trained on the contracted labels ỹ, its network is the least confident at x̃_i, which shrinks "
            "H⁺ and with it J^(i) and R1: in R1 it is regularized more than mixup's, not between"
            if v["approx"].mean() < v["mixup"].mean()
            else ""
        )
        + ". Reported, not deciding (paired 95% intervals across seeds): "
        + "; ".join(parts)
    )
    return decision_finding(head, decisions, verdict, reported=reported)


observation(
    "seed000-approximate-mixup",
    DATA_VALUATION,
    "'Approximated Mixup' (dropping the regularization terms) is an intermediate compromise between "
    "Mixup and ERM training in the view of regularization.",
    "networks trained by ERM, approximate mixup (mixtheory.approximate) and mixup, R1, R13, R2 and test "
    "accuracy of each, ≥ 10 seeds, paired (is approximate mixup between ERM and mixup?)",
    figure=FigureDecision(
        "approximate-mixup", approximate_mixup_from_figure, {"quick": "fails", "standard": "fails"}
    ),
)
