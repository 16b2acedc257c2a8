r"""Entries an audit of the ledger against the five sources found missing: Carratino et al.'s
Theorem 3 and Corollary 4 themselves, the data-valuation slides' observations on the blobs, on
manifold intrusion, on EL2N for mixed samples, on "attenuating the increase" and on schedulers,
Carratino et al.'s interpretations of R1, R2, R3 (as summarised in seed 001), approximate mixup,
the C² assumption of MixupE against the ReLU networks of seed 000, MixupE's novel-deformation table,
and the speech-commands results on which two sources disagree.

Each entry is decided where a closed form, a library check, the sources' tables or a committed
figure can decide it (figure rules are paired t tests across seeds, :mod:`._evidence`); otherwise it
is ``untested`` and names what would decide it.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from . import audit_interpretations  # noqa: F401  (registers the readings of R1 and R3)
from ._decisions import Computation, computed, proportion_decision
from ._evidence import Rule, decide
from ._tables import MIXUPE_DEFORMATION_ACCURACY, MIXUPE_SPEECH_ERROR, SPEECH_TEST_ERROR
from .claims import Evidence, Finding, claim, observation
from .figures import FigureResult, combine, decision_finding, is_smoke, n_test_points, per_seed_headlines
from .sources import CARRATINO_2022, DATA_VALUATION, MIXUP_2018, MIXUPE


# --------------------------------------------------------------------------------------------
# Carratino et al.'s Theorem 3 and Corollary 4 (the library's own checks, quick preset)
# --------------------------------------------------------------------------------------------
def _check_rows(only: list[str]) -> list:
    from ..checks.runner import run_checks

    return run_checks(preset="quick", only=only)


@claim(
    "seed001-theorem3",
    CARRATINO_2022,
    "Theorem 3: for any twice continuously differentiable loss ℓ(y, u), the approximate Mixup risk at any "
    "twice differentiable f is E_Q(f) = (1/n) Σ ℓ(ỹ_i, f(x̃_i)) + R1 + R2 + R3, the second-order expansion "
    "of the Mixup risk around the expected mixup points x̃_i.",
    "holds",
)
def theorem3() -> Finding:
    rows = _check_rows(["remainder-slope"])
    ok = all(r.passed for r in rows)
    text = (
        f"{'Holds' if ok else 'Fails'}: E_Q is a second-order expansion, its remainder |E_mix − E_Q| falls "
        "as s³ when data and labels are contracted by s (mixtheory check remainder-slope, quick preset, "
        "smooth MLP on digits, exact mixup loss by quadrature): "
        + "; ".join(f"{r.name}: {r.reference:.3f} (3 ± {r.tolerance:.3f}; {r.detail})" for r in rows)
        + "."
    )
    numbers = {r.name: r.as_dict() for r in rows}
    comp = Computation(
        "largest |fitted order − 3| / its tolerance over the checks",
        max(r.error / r.tolerance for r in rows),
        1.0,
        "float64 quadrature of the exact mixup loss on fixed data and a fixed network",
    )
    return Finding("holds" if ok else "fails", computed(text, numbers, comp))


@claim(
    "seed001-corollary4",
    CARRATINO_2022,
    "Corollary 4: with the cross-entropy loss, the regularizers R1, R2, R3 of Theorem 3 take closed forms in "
    "the softmax S, H = diag(S) − SSᵀ, its pseudo-inverse H⁺ and the input Jacobian and Hessian of f.",
    "holds",
)
def corollary4() -> Finding:
    rows = _check_rows(["dense"])
    ok = all(r.passed for r in rows)
    text = (
        f"{'Holds' if ok else 'Fails'}: the library's structured R1, R2, R3 (Corollary 4) equal a dense "
        "float64 reference that forms every matrix of Theorem 3 with ℓ = cross-entropy, on a trained network "
        "whose softmax condition number reaches 1e8 (mixtheory check dense, quick preset): "
        + "; ".join(f"{r.name}: relative error {r.error:.1e} (tolerance {r.tolerance:.1e})" for r in rows)
        + "."
    )
    comp = Computation(
        "largest relative error / its tolerance over R1, R2, R3, R13",
        max(r.error / r.tolerance for r in rows),
        1.0,
        "float64 closed forms against a dense float64 reference on fixed data and a fixed network",
    )
    return Finding("holds" if ok else "fails", computed(text, {r.name: r.as_dict() for r in rows}, comp))


# --------------------------------------------------------------------------------------------
# Manifold intrusion (seed 000) against collinearity (seed 001)
# --------------------------------------------------------------------------------------------
_INTRUSION_PAIRS = 2000
#: pre-declared rule of seed000-manifold-intrusion: "highly likely" means a share above ½; a share
#: 0.05 above ½ is the smallest that would make it so
INTRUSION_RULE = Rule("share of intruded mixup points − ½", "greater", 0.05)


@claim(
    "seed000-manifold-intrusion",
    DATA_VALUATION,
    '"Random mix-up pairing is highly likely to induce manifold intrusion" (even at the penultimate layer); '
    "it conflicts with seed001-collinearity-rare (mixup points rarely collinear with a third class).",
    "fails",
    corrected="On the bundled digits a random mixup point of two classes has a nearest training "
    "neighbour of a third class in $share of pairs (95% CI $low–$high): intrusion happens, but is not "
    '"highly likely" (> 1/2).',
)
def manifold_intrusion() -> Finding:
    from ..data import load_digits

    X, y = load_digits()
    Xn, yn = X.numpy().astype(np.float64), y.numpy()
    rng = np.random.default_rng(2019)
    i, j = rng.integers(0, len(yn), _INTRUSION_PAIRS), rng.integers(0, len(yn), _INTRUSION_PAIRS)
    keep = yn[i] != yn[j]
    i, j = i[keep], j[keep]
    lam = rng.beta(1.0, 1.0, size=i.size)[:, None]
    mixed = lam * Xn[i] + (1 - lam) * Xn[j]
    sq = (Xn**2).sum(1)
    d2 = (mixed**2).sum(1)[:, None] + sq[None] - 2 * mixed @ Xn.T
    d2[np.arange(i.size), i] = np.inf
    d2[np.arange(i.size), j] = np.inf
    nearest = yn[d2.argmin(1)]
    intruded = (nearest != yn[i]) & (nearest != yn[j])
    k, n = int(intruded.sum()), int(i.size)
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
    decision = proportion_decision(
        INTRUSION_RULE, k, n, 0.5, sample="random mixup pairs of two classes", seeds="seed 2019"
    )
    verdict = decision.verdict
    text = (
        f"{verdict.capitalize()} on the 1,797 bundled digits (d = 64; CIFAR-10 is not bundled): of "
        f"{n:,} random "
        "mixup points of two different classes (λ ~ Beta(1, 1)), the nearest training sample other "
        "than the two "
        f"mixed belongs to a third class for {k:,} ({k / n:.3f}, exact 95% CI {ci.low:.3f}–{ci.high:.3f}). "
        "Intrusion in this loose sense (Guo et al. 2019: the mixed point falls among another class) "
        "is common, "
        "but not 'highly likely'; in the strict sense of seed001-collinearity-rare (closer to a third class "
        "than 1/10 of the median neighbour distance) it is rare. The two sources use different notions; "
        "neither is measured at the penultimate layer here."
    )
    numbers = {
        "share": k / n,
        "low": ci.low,
        "high": ci.high,
        "pairs": n,
        "intruded": k,
        "seed": 2019,
        "test": {"share above ½": decision.to_dict()},
    }
    return Finding(verdict, Evidence("experiment", f"{text} {decision.sentence()}.", numbers))


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
    figure="regularizer-trajectories",
    decide=r1_attenuated_from_figure,
    # quick (digits, 3 seeds): ρ = 0.71, 0.71, 0.66; ERM's final R1 ~1e5 against mixup's ~5
    expected_from_figure={"quick": "holds"},
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
    figure="lambda-schedules",
    decide=sine_replicates_from_figure,
    expected_from_figure={"quick": "inconclusive"},
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
    figure="score-heatmaps",
    decide=el2n_mixed_from_figure,
    expected_from_figure={"quick": "holds"},
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
    figure="decision-boundaries-blobs",
    decide=near_boundary_from_figure,
    expected_from_figure={"quick": "holds", "standard": "holds"},
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
    figure="decision-boundaries-blobs",
    decide=outside_cluster_from_figure,
    expected_from_figure={"quick": "holds", "standard": "holds"},
)
observation(
    "seed000-hard-pairing-near-boundary",
    DATA_VALUATION,
    '"Demonstration of hard mix-up pairing: mix-up happened only near decision boundary" (2-D blobs).',
    "the distance to the boundary of the mixed points hard pairing draws, against random pairing's "
    "(same anchors and λ), blobs, ≥ 10 seeds",
    figure="decision-boundaries-blobs",
    decide=pairing_near_boundary_from_figure,
    expected_from_figure={"quick": "holds", "standard": "holds"},
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
    figure="alpha-schedules",
    decide=alpha_vs_lambda_from_figure,
    expected_from_figure={"quick": "inconclusive", "standard": "fails"},
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
    figure="approximate-mixup",
    decide=approximate_mixup_from_figure,
    expected_from_figure={"quick": "fails", "standard": "fails"},
)


# --------------------------------------------------------------------------------------------
# Carratino et al.'s interpretations, as summarised in seed 001
# --------------------------------------------------------------------------------------------
@claim(
    "seed001-r2-is-el2n",
    CARRATINO_2022,
    "R2 acts like the EL2N score of the expected mixup point x̃_i (the data-valuation reading of R2^CE).",
    "fails",
    corrected="R2^CE = (σ²/2θ̄²)(1/n)Σ tr(∇f(x̃_i)ᵀ H(x̃_i) ∇f(x̃_i) Σ_xx^(i)) depends on the prediction "
    "S(f(x̃_i)) "
    "through H = diag(S) − SSᵀ and not on the label, while EL2N = ‖S(f(x)) − y‖ does: two label sets give "
    "R2 gap $r2_gap and EL2N gap $el2n_gap.",
)
def r2_is_el2n() -> Finding:
    from ..closed_form import taylor_regularizers
    from ..geometry import MixupGeometry
    from ..laws import SymmetricBeta
    from . import _numerics as nm

    X, labels = nm.toy_data(12, 3, seed=5)
    model = nm.toy_model(X.shape[1], 3, seed=6, hidden=5, weight_scale=2.0)
    flipped = (labels + 1) % 3
    out = {}
    for name, lab in (("labels", labels), ("flipped", flipped)):
        Y = torch.nn.functional.one_hot(lab, 3).to(torch.float64)
        geom = MixupGeometry(X, Y, SymmetricBeta(1.0))
        regs = taylor_regularizers(model, geom)
        with torch.no_grad():
            p = torch.softmax(model(X), -1)
        out[name] = (float(regs["R2"].mean()), float((p - Y).norm(dim=-1).mean()))
    r2_gap = abs(out["labels"][0] - out["flipped"][0])
    el2n_gap = abs(out["labels"][1] - out["flipped"][1])
    verdict = "fails" if el2n_gap > 1e-3 and r2_gap < el2n_gap else "holds"
    text = (
        "Fails as an identity: R2^CE involves the softmax's Hessian H = diag(S) − SSᵀ, the Jacobian and the "
        "input covariance, never the label. On a toy 3-class network (12 samples) relabelling "
        "changes the mean "
        f"R2 by {r2_gap:.2e} (only through x̃_i and Σ^(i), which mix labels and inputs of the same pairs) but "
        f"the mean EL2N by {el2n_gap:.3f}. Both grow with the prediction's uncertainty, which is the "
        "sense in "
        "which the reading is loose."
    )
    return Finding(verdict, Evidence("counterexample", text, {"r2_gap": r2_gap, "el2n_gap": el2n_gap, **out}))


# --------------------------------------------------------------------------------------------
# MixupE: its C² assumption, its deformation table; the speech-commands conflict
# --------------------------------------------------------------------------------------------
@claim(
    "seed002-c2-vs-relu",
    MIXUPE,
    "MixupE's analysis assumes f_θ at least twice continuously differentiable, while the "
    "data-valuation slides "
    "(seed 000) apply the same second-order expansion to a ReLU ResNet-18.",
    "conditional",
    condition="only for smooth networks: for a ReLU network autograd's input Hessian is zero almost "
    "everywhere "
    "(largest |entry| $max_hessian on $points random points), so R2 and the Hessian terms vanish; the "
    'library\'s secant curvature (curvature="secant") or a smooth activation is needed.',
)
def c2_vs_relu() -> Finding:
    g = torch.Generator().manual_seed(7)
    net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)).double()
    points = torch.randn(20, 6, generator=g, dtype=torch.float64)
    biggest = 0.0
    for x in points:
        for k in range(3):
            hess = torch.autograd.functional.hessian(lambda v, k=k: net(v)[k], x)
            biggest = max(biggest, float(hess.abs().max()))
    text = (
        "Conditional: on a ReLU MLP (6-16-3, float64) autograd's input Hessian of every logit at "
        f"{len(points)} "
        f"random points has largest |entry| {biggest:.1e}: piecewise-linear networks are not C², and the "
        "second-order terms that use ∇²f vanish almost everywhere (docs/reproduce.md on ReLU "
        "networks; the full "
        "figures run a ReLU ResNet-18 with secant curvature beside a smooth GELU one)."
    )
    comp = Computation(
        "largest |entry| of autograd's input Hessian of the ReLU logits",
        biggest,
        0.0,
        "float64 autograd on a fixed network; the Hessian of a piecewise-linear map is exactly 0 off its "
        "kinks",
    )
    return Finding(
        "conditional" if biggest == 0.0 else "fails",
        computed(text, {"max_hessian": biggest, "points": len(points)}, comp),
    )


@claim(
    "seed002-novel-deformation",
    MIXUPE,
    'MixupE ("Ours") generalises better to novel deformations than Mixup and Manifold Mixup (CIFAR-100, 8 '
    "rotation / shearing / zoom test sets).",
    "conditional",
    condition="above Manifold Mixup in $wins of 8 cells only; below it in $losses ($lost).",
)
def novel_deformation() -> Finding:
    wins = [k for k, v in MIXUPE_DEFORMATION_ACCURACY.items() if v[2] > max(v[0], v[1])]
    lost = [k for k, v in MIXUPE_DEFORMATION_ACCURACY.items() if v[2] < v[1]]
    text = (
        f"Arithmetic on the slides' table (accuracy, higher is better): Ours is best in {len(wins)} "
        "of 8 cells and "
        f"below Manifold Mixup in {len(lost)} ({', '.join(lost)}; by "
        + ", ".join(
            f"{MIXUPE_DEFORMATION_ACCURACY[k][1] - MIXUPE_DEFORMATION_ACCURACY[k][2]:.2f}" for k in lost
        )
        + " points). One run per cell, no error bars."
    )
    numbers = {"wins": len(wins), "losses": len(lost), "lost": ", ".join(lost)}
    return Finding("conditional" if lost else "holds", Evidence("arithmetic", text, numbers))


@claim(
    "seed003-speech-lenet-conflict",
    MIXUP_2018,
    "Mixup's effect on Google speech commands: seed 003 (Zhang et al. 2018) reports mixup hurting LeNet "
    "(test error 10.3 → 10.8 / 11.3) and helping VGG-11; seed 002 (MixupE's Table 5) reports mixup helping "
    "both (LeNet 10.43 → 10.12).",
    "conditional",
    condition="the sources agree on VGG-11 (mixup helps: $vgg_003 and $vgg_002 points) and disagree in "
    "sign on "
    "LeNet ($lenet_003 against $lenet_002 points), a gap the printed ± (≈ 0.05) cannot explain: their "
    "set-ups differ (α, preprocessing, runs).",
)
def speech_conflict() -> Finding:
    lenet_003 = round(SPEECH_TEST_ERROR["LeNet"][1] - SPEECH_TEST_ERROR["LeNet"][0], 2)
    vgg_003 = round(SPEECH_TEST_ERROR["VGG-11"][2] - SPEECH_TEST_ERROR["VGG-11"][0], 2)
    lenet_002 = round(MIXUPE_SPEECH_ERROR["LeNet"][1] - MIXUPE_SPEECH_ERROR["LeNet"][0], 2)
    vgg_002 = round(MIXUPE_SPEECH_ERROR["VGG-11"][1] - MIXUPE_SPEECH_ERROR["VGG-11"][0], 2)
    conflict = np.sign(lenet_003) != np.sign(lenet_002)
    text = (
        f"Arithmetic on both tables (mixup − ERM test error, points): LeNet {lenet_003:+.2f} (seed "
        "003, α = 0.1; "
        f"{SPEECH_TEST_ERROR['LeNet'][2] - SPEECH_TEST_ERROR['LeNet'][0]:+.2f} at α = 0.2) against "
        f"{lenet_002:+.2f} "
        f"(seed 002, mean of five runs, ± 0.04–0.05); VGG-11 {vgg_003:+.2f} against {vgg_002:+.2f}. "
        + ("The LeNet rows disagree in sign." if conflict else "The rows agree in sign.")
    )
    numbers = {"lenet_003": lenet_003, "lenet_002": lenet_002, "vgg_003": vgg_003, "vgg_002": vgg_002}
    return Finding("conditional" if conflict else "holds", Evidence("arithmetic", text, numbers))
