"""Every ledger verdict is a test (the expected verdicts are read from the claims' metadata, written
once in mixtheory.ledger); counterexamples are re-checked from their stored numbers with the core
geometry and losses (not with the ledger's own numpy helpers)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from mixtheory import ledger
from mixtheory.geometry import MixupGeometry
from mixtheory.laws import SymmetricBeta
from mixtheory.ledger import _search
from mixtheory.losses import CrossEntropy

# claims whose evaluation takes seconds (networks, exact mixup losses)
SLOW = {
    "seed000-r1-nonnegative",
    "seed000-r3-formula",
    "seed001-theorem1",
    "seed001-theorem3",
    "seed001-corollary4",
}


def test_metadata_is_the_registry():
    assert list(ledger.METADATA) == list(ledger.CLAIMS)
    assert ledger.EXPECTED_VERDICTS == {cid: info.expected for cid, info in ledger.METADATA.items()}
    assert {info.source.key for info in ledger.METADATA.values()} == set(ledger.SOURCES)


@pytest.mark.parametrize(
    "claim_id",
    [pytest.param(cid, marks=pytest.mark.slow) if cid in SLOW else cid for cid in ledger.METADATA],
)
def test_claim_reaches_its_expected_verdict(claim_id: str):
    info = ledger.METADATA[claim_id]
    claim = ledger.get_claim(claim_id)
    assert claim.id == claim_id and claim.source == info.source.key and claim.statement == info.statement
    assert claim.evidence.text
    assert claim.verdict == info.expected
    if claim.verdict == "conditional":
        assert claim.condition
    if claim.verdict == "untested":
        assert claim.decided_by and claim.evidence.kind == "pending"
    else:
        assert claim.evidence.kind in {
            "proof",
            "counterexample",
            "search",
            "experiment",
            "arithmetic",
            "computation",
        }
    for text in (claim.condition, claim.corrected):
        assert text is None or "$" not in text  # every placeholder filled from the evidence
    json.dumps(claim.to_dict())  # serialisable for `mixtheory verify --json`


def test_prose_states_the_computed_numbers():
    hmix = ledger.get_claim("seed000-hmix-gmix-gain")
    numbers = hmix.evidence.numbers
    mean = np.mean(numbers["hmix_minus_cutmix"])
    assert f"{mean:.2f}" in hmix.condition and f"{mean:.2f}" == numbers["hmix_mean"]
    arcsine = ledger.get_claim("seed001-truncated-arcsine-moments")
    assert f"{0.5 + 1 / math.pi:.4g}" in arcsine.corrected
    assert "600,000" in ledger.get_claim("seed000-sample-count").corrected


def test_counterexample_search_finds_a_planted_violation():
    # margin x − 0.9 for x ~ U(0, 1): violated on about 10% of draws; the optimizer reaches the max
    result = _search.counterexample_search(
        np.random.default_rng(0),
        draw=lambda rng, found: (lambda x: _search.Draw({"x": x}, {"x": x} if x > 0.9 else None))(
            float(rng.uniform())
        ),
        draws=1000,
        restart=lambda rng: _search.Restart(lambda p: -float((p[0] - 3.0) ** 2), np.zeros(1)),
        restarts=2,
    )
    assert result.draws == 1000 and 50 < result.violations < 150
    assert result.first_violation["x"] > 0.9 and result.largest("x") > 0.99
    assert result.best_optimized == pytest.approx(0.0, abs=1e-6)
    assert result.best_x[0] == pytest.approx(3.0, abs=1e-3)


def test_claim_requires_condition_and_experiment():
    ev = ledger.Evidence("arithmetic", "x")
    with pytest.raises(ValueError, match="condition"):
        ledger.Claim("x", "s", "t", "conditional", ev)
    with pytest.raises(ValueError, match="experiment"):
        ledger.Claim("x", "s", "t", "untested", ev)
    with pytest.raises(ValueError, match="verdict"):
        ledger.Claim("x", "s", "t", "maybe", ev)


# --------------------------------------------------------------------------------------------
# Counterexamples, re-verified from stored numbers with the core geometry (float64)
# --------------------------------------------------------------------------------------------
def _core_blocks(inst: dict) -> dict:
    X = torch.tensor(inst["X"], dtype=torch.float64)
    labels = torch.tensor(inst["labels"])
    geo = MixupGeometry(X, labels, SymmetricBeta(inst["alpha"]), num_classes=inst["num_classes"])
    i = inst["i"]
    u = torch.tensor(inst["u"], dtype=torch.float64)[None]
    y = geo.y_tilde[i][None]
    ce = CrossEntropy()
    H = ce.hess_uu(y, u)[0]
    K = geo.projected_label_covariance([i])[0]
    return {
        "sigma_xx": geo.sigma_xx(i),
        "sigma_xy": geo.sigma_xy(i),
        "y_tilde": geo.y_tilde[i],
        "H": H,
        "K": K,
        "KHpinv": ce.inverse_uu_apply(y, u, K[None])[0],
        "S": torch.softmax(u[0], -1),
    }


def test_stored_inputs_are_small_and_rounded():
    inst = ledger.get_claim("seed000-r1-bound").evidence.numbers["counterexample"]
    X = np.asarray(inst["X"])
    assert X.shape[1] == 2 and inst["num_classes"] == 2
    assert np.allclose(X, np.round(X, 2), atol=0, rtol=0)


def test_r1_bound_counterexample():
    inst = ledger.get_claim("seed000-r1-bound").evidence.numbers["counterexample"]
    b = _core_blocks(inst)
    A = torch.tensor(inst["A"], dtype=torch.float64)
    lhs = torch.trace(b["sigma_xx"] @ A.T @ b["H"] @ A).abs()
    rhs = b["sigma_xx"].norm() * b["H"].norm() * A.norm()
    assert lhs > rhs
    assert lhs <= b["sigma_xx"].norm() * b["H"].norm() * A.norm() ** 2 * (1 + 1e-12)  # corrected form


def test_r3_trace_identity_counterexample():
    inst = ledger.get_claim("seed001-r3-trace-identity").evidence.numbers["counterexample"]
    b = _core_blocks(inst)
    lhs = float(torch.trace(b["KHpinv"]))
    rhs = float(torch.trace(b["K"] @ b["H"]))
    assert abs(lhs - rhs) > 1e-3 * max(abs(lhs), abs(rhs))
    assert lhs == pytest.approx(inst["lhs_tr_K_Hpinv"], rel=1e-8)


def test_r2_trace_bound_counterexample():
    inst = ledger.get_claim("seed001-r2-trace-bound").evidence.numbers["counterexample"]
    b = _core_blocks(inst)
    T = torch.tensor(inst["hessians"], dtype=torch.float64)
    assert torch.allclose(T, T.transpose(1, 2))
    W = torch.einsum("k,kde->de", b["S"] - b["y_tilde"], T)
    assert torch.trace(b["sigma_xx"] @ W) > torch.trace(b["sigma_xx"]) * torch.trace(W)


def test_r3_trace_bound_counterexample():
    inst = ledger.get_claim("seed001-r3-trace-bound").evidence.numbers["counterexample"]
    b = _core_blocks(inst)
    S = b["S"]
    entropy = float(-(S * torch.log(S)).sum())
    rhs = (
        float(torch.trace(b["sigma_xy"].T @ b["sigma_xy"]) * torch.trace(torch.linalg.inv(b["sigma_xx"])))
        * entropy
    )
    assert float(torch.trace(b["KHpinv"])) > rhs


def test_r2_sign_instance_is_negative():
    inst = ledger.get_claim("seed000-r2-sign").evidence.numbers["instance"]
    b = _core_blocks(inst)
    T = torch.tensor(inst["hessians"], dtype=torch.float64)
    w = b["S"] - b["y_tilde"]
    assert float(w.sum()) == pytest.approx(0.0, abs=1e-12)
    assert 0.5 * float(torch.einsum("de,k,kde->", b["sigma_xx"], w, T)) < 0


def test_forgetting_sampling_raises_as_printed():
    p = np.asarray(ledger.AIRPLANE_P)
    with pytest.raises(ValueError):
        np.random.default_rng(0).choice(10, 3, p=p)
    with pytest.raises(ValueError):
        np.random.default_rng(0).choice(10, 3, p=p / p.max())
    assert np.random.default_rng(0).choice(10, 3, p=p / p.sum()).shape == (3,)


def test_forgetting_rows_with_eleven_entries():
    rows = ledger.FORGETTING_ROWS["automobile-truck"]
    assert [k for k, r in enumerate(rows) if len(r) != 10] == [3, 11]


def test_sample_count_and_ratio_arithmetic():
    assert 50_000 * 6 + 500 * 10**2 * 6 == 600_000
    numbers = ledger.get_claim("seed001-ratio").evidence.numbers
    assert numbers["W-shaped sigma2/theta_mean"] == pytest.approx(1 / 24, rel=1e-15)
    assert numbers["W-shaped sigma2/theta_mean^2"] == pytest.approx(1 / 18, rel=1e-15)


def test_arcsine_claim_numbers():
    numbers = ledger.get_claim("seed001-truncated-arcsine-moments").evidence.numbers
    assert numbers["theta_mean"] == pytest.approx(0.5 + 1 / math.pi, rel=1e-14)
    assert numbers["theta_mean"] - 0.75 > 0.06


def test_searches_report_their_budgets():
    for cid in ["seed000-r2-bound", "seed001-r1-trace-bound", "seed000-r3-nonpositive"]:
        numbers = ledger.get_claim(cid).evidence.numbers
        assert numbers["seed"] >= 1000
        assert numbers.get("random_draws", numbers.get("draws")) >= 1000


def test_order_decision_needs_the_interval_and_every_local_slope():
    # exact s³(1 + 4s): accepted at 3 and nowhere else
    scales = [0.1 / 2**k for k in range(6)]
    cubic = [s**3 * (1 + 4 * s) for s in scales]
    assert ledger._numerics.order_decision(scales, cubic, 3)["accepted"]
    assert not ledger._numerics.order_decision(scales, cubic, 2)["accepted"]
    # a small s² term: its fitted slope over these scales is ≈ 2.6 (inside a window [2.5, 3.5]), but the
    # local slopes drift toward 2, so order 3 is rejected
    mixed = [s**3 + 0.01 * s**2 for s in scales]
    decision = ledger._numerics.order_decision(scales, mixed, 3)
    assert 2.5 <= float(np.polyfit(np.log(scales), np.log(mixed), 1)[0]) <= 3.5
    assert not decision["accepted"] and min(decision["local_slopes"]) < 2.5
    # noise in the errors widens the 99% interval until no order is accepted
    rng = np.random.default_rng(0)
    noisy = [s**3 * math.exp(0.5 * rng.standard_normal()) for s in scales]
    assert not ledger._numerics.order_decision(scales, noisy, 3)["accepted"]


@pytest.mark.slow
def test_r3_formula_orders():
    numbers = ledger.get_claim("seed000-r3-formula").evidence.numbers
    assert numbers["order3_corollary4"]["accepted"]
    assert numbers["order2_seed000"]["accepted"] and not numbers["order3_seed000"]["accepted"]
    lo, hi = numbers["order3_corollary4"]["interval_99"]
    assert 2.5 < lo <= numbers["slope_corollary4"] <= hi < 3.5


def test_zhang_orders_on_both_instances():
    numbers = ledger.get_claim("seed000-zhang-lemma31-r3").evidence.numbers
    assert len(numbers["instances"]) == 2
    for result in numbers["instances"].values():
        assert result["correct_order3"]["accepted"]
        assert result["printed_order2"]["accepted"] and not result["printed_order3"]["accepted"]
        assert len(result["correct_order3"]["local_slopes"]) == len(result["correct_order3"]["scales"]) - 1
    # E(1−λ̃)² = E λ(1−λ) = 1/6 and E[1 − λ̃²] = 1/2 for λ ~ U(0, 1) (by hand)
    assert abs(numbers["E_one_minus_lambda_tilde_squared"] - 1 / 6) < 1e-13
    assert abs(numbers["E_one_minus_lambda_tilde_squared_printed"] - 0.5) < 1e-13


def test_theorem1_law_orders():
    numbers = ledger.get_claim("seed002-theorem1-law").evidence.numbers
    assert numbers["order_lambda_tilde"]["accepted"] and numbers["order_lambda"]["accepted"]
    assert not numbers["order3_lambda"]["accepted"]
    assert numbers["gap_tilde"] < 1e-12


def test_erm_limit_is_first_order_in_alpha():
    numbers = ledger.get_claim("seed002-erm-limit").evidence.numbers
    assert numbers["order1"]["accepted"]
    assert np.all(np.diff(numbers["abs_gap_to_erm"]) < 0)


def test_multiclass_lemma_matches_the_exact_loss():
    numbers = ledger.get_claim("seed000-zhang-multiclass").evidence.numbers
    assert max(numbers["identity_relative_gaps"].values()) < 1e-10
    row = numbers["compare_expansions_alpha1"]
    assert abs(row["carratino"] - row["exact"] - row["error_carratino"]) < 1e-12


def test_mask_mean_reads_the_core_mask_module():
    from mixtheory.laws import Uniform
    from mixtheory.mixing import mask_mean

    numbers = ledger.get_claim("seed004-mask-mean").evidence.numbers
    clipped = mask_mean("cutmix", 32, 32, Uniform(), border="clip", convention="timm")
    assert numbers["clipped_corner"] == float(clipped[0, 0]) > 0.8
    # the centre pixel sees E[M] ≈ E λ = 0.5, plus what timm's floored box side leaves to the anchor
    assert 0.5 < numbers["clipped_centre"] < 0.53


def test_q_hat_exact_only_for_centred_bias_free_relu():
    gaps = ledger.get_claim("seed002-q-hat").evidence.numbers["relative_gap"]
    assert gaps["ReLU, no bias, centred"] < 1e-12
    assert min(v for k, v in gaps.items() if k != "ReLU, no bias, centred") > 1e-3


def test_adversarial_radius_brackets_the_inequality():
    from mixtheory.ledger import zhang2021_robustness as robust

    for cid in ("seed000-mixup-adversarial-bound", "seed001-mixup-adversarial-bound"):
        numbers = ledger.get_claim(cid).evidence.numbers
        assert f"{numbers['radius']:.4g}" in ledger.get_claim(cid).condition
    for name in ("mixup", "erm"):
        row = numbers[name]
        assert row["erm_loss"] <= row["adversarial_loss_at_radius"] <= row["mixup_loss"]
        assert row["adversarial_loss_at_1.05_radius"] > row["mixup_loss"]
    # the search finds the analytic maximum of a linear logistic model: ℓ grows along −y w, so the
    # worst-case loss at radius ε is softplus(−(y w·x) + ε‖w‖) (binary, two logits)
    w = torch.tensor([[1.5, -0.5], [-1.5, 0.5]], dtype=torch.float64)
    model = torch.nn.Linear(2, 2, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(w)
    X = torch.tensor([[0.3, 0.1], [-0.2, 0.4], [1.0, -1.0]], dtype=torch.float64)
    labels = torch.tensor([0, 1, 0])
    eps = 0.3
    margin = (X @ (w[0] - w[1])) * torch.where(labels == 0, 1.0, -1.0)
    analytic = float(torch.nn.functional.softplus(-margin + eps * (w[0] - w[1]).norm()).mean())
    assert abs(robust.adversarial_loss(model, X, labels, eps) - analytic) < 1e-10


def test_softmax_hessian_helpers_agree_with_core_loss():
    u = np.array([3.0, -1.0, 0.5, 12.0])
    ce = CrossEntropy()
    ut = torch.tensor(u)[None]
    H = ce.hess_uu(ut, ut)[0].numpy()
    assert np.allclose(ledger.softmax_hessian(u), H, atol=1e-15)
    M = torch.eye(4, dtype=torch.float64)[None]
    assert np.allclose(ledger.softmax_hessian_pinv(u), ce.inverse_uu_apply(ut, ut, M)[0].numpy(), rtol=1e-10)
    assert np.linalg.eigvalsh(ledger.softmax_hessian(np.array([40.0, 0.0, -40.0]))).min() >= -1e-30


# --------------------------------------------------------------------------------------------
# Entries decided on networks trained here and on the sources' tables
# --------------------------------------------------------------------------------------------
def test_network_entries_report_both_r3_forms_and_r13():
    numbers = ledger.get_claim("seed000-r3-negligible").evidence.numbers
    r1, r3, r13 = (np.asarray(numbers[k]) for k in ("mixup_R1", "mixup_R3_Hplus", "mixup_R13"))
    assert r1.shape == r3.shape == r13.shape == (len(numbers["epochs"]),)
    assert np.all(r1 >= 0) and np.all(r3 <= 0)
    assert np.allclose(r1 + r3, r13, rtol=1e-6, atol=1e-9)  # unsaturated mixup net: the sum is stable
    erm = ledger.get_claim("seed000-erm-r1-weaker").evidence.numbers["final"]["erm"]
    assert erm["R1"] > 1e8 and abs(erm["R13"]) < 10  # saturated softmax: R13 is O(1), R1 is not


def test_eta_hat_attached_gradient_is_the_mixup_gradient():
    numbers = ledger.get_claim("seed002-eta-hat-detach").evidence.numbers
    assert numbers["grad_gap_attached"] < 1e-12 and numbers["regularizer_share_of_gradient"] > 1e-3


def test_erm_limit_is_attributed_to_the_mixupe_slides_only():
    assert "seed003-erm-limit" not in ledger.METADATA
    assert ledger.METADATA["seed002-erm-limit"].source.key == ledger.SOURCES["002_522ba7f9715f69d8.txt"].key


def test_r2_laplacian_counterexample_recomputed_with_core_geometry():
    numbers = ledger.get_claim("seed001-r2-laplacian").evidence.numbers
    b = _core_blocks(numbers["instance"])
    w = b["S"] - b["y_tilde"]
    d = b["sigma_xx"].shape[0]
    assert abs(float(w.sum())) < 1e-12
    common = torch.einsum("k,de->kde", torch.ones(3, dtype=torch.float64), torch.eye(d, dtype=torch.float64))
    assert abs(float(0.5 * torch.einsum("de,k,kde->", b["sigma_xx"], w, common))) < 1e-12
