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

from . import (
    audit_figures,  # noqa: F401  (registers the figure-decided observations)
    audit_interpretations,  # noqa: F401  (registers the readings of R1 and R3)
)
from ._decisions import Computation, computed, proportion_decision
from ._evidence import Rule
from ._tables import MIXUPE_DEFORMATION_ACCURACY, MIXUPE_SPEECH_ERROR, SPEECH_TEST_ERROR
from .claims import Evidence, Finding, claim
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
