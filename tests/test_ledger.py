"""Every ledger verdict is a test; counterexamples are re-checked from their stored numbers with
the core geometry and losses (not with the ledger's own numpy helpers)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from mixtheory import ledger
from mixtheory.geometry import MixupGeometry
from mixtheory.laws import SymmetricBeta
from mixtheory.losses import CrossEntropy

SEEDS = {
    "000_733ca9e95aa63fd6.txt",
    "001_485ae1d53d6bcb3f.txt",
    "002_522ba7f9715f69d8.txt",
    "003_f5c3944729ef130c.txt",
    "004_93a713ca753b711f.txt",
}

# claim id -> expected verdict, stated here explicitly: a changed verdict fails the suite
EXPECTED = {
    "seed000-r1-nonnegative": "holds",
    "seed000-r3-nonpositive": "holds",
    "seed000-r2-sign": "holds",
    "seed000-r1-bound": "fails",
    "seed000-r2-bound": "holds",
    "seed000-r3-bound": "conditional",
    "seed000-r3-formula": "fails",
    "seed001-r3-trace-identity": "fails",
    "seed000-j-definition": "fails",
    "seed000-forgetting-sampling": "fails",
    "seed000-forgetting-stats-shape": "fails",
    "seed001-theorem1": "holds",
    "seed001-any-symmetric-law": "holds",
    "seed001-lemma2": "conditional",
    "seed001-ce-derivatives": "conditional",
    "seed001-r1-trace-bound": "holds",
    "seed001-gini-entropy": "holds",
    "seed001-r2-trace-bound": "fails",
    "seed001-r3-trace-bound": "fails",
    "seed001-truncated-arcsine-moments": "fails",
    "seed001-w-shaped-moments": "holds",
    "seed001-ratio": "fails",
    "seed001-beta-variance": "holds",
    "seed003-erm-limit": "holds",
    "seed002-erm-limit": "holds",
    "seed000-zhang-lambda-tilde": "holds",
    "seed000-zhang-lemma31-r3": "fails",
    "seed002-q-hat": "conditional",
    "seed002-rademacher-bound": "fails",
    "seed003-ifgsm-formula": "fails",
    "seed003-capacity-gain": "conditional",
    "seed003-speech-capacity": "holds",
    "seed003-latent-mixing-ablation": "conditional",
    "seed000-sample-count": "fails",
    "seed000-sine-scheduler-gain": "holds",
    "seed000-hmix-gmix-gain": "conditional",
    "seed004-reported-deltas": "holds",
    "seed004-mask-mean": "conditional",
    "seed004-cutmix-locality": "holds",
    "seed000-r3-negligible": "untested",
    "seed000-erm-r1-weaker": "untested",
    "seed000-hard-examples-r1": "untested",
    "seed000-forgetting-symmetric": "untested",
    "seed000-hard-pairing-cifar10": "untested",
    "seed000-eta-pool": "untested",
    "seed000-r2-cost": "untested",
    "seed001-collinearity-rare": "untested",
    "seed002-linear-implicit-bias": "untested",
    "seed002-mixupe-generalization": "untested",
    "seed003-mixup-benefits": "untested",
    "seed004-crop-scenarios": "untested",
}

REQUIRED_BY_ISSUE_3 = [
    "seed000-r1-nonnegative", "seed000-r3-nonpositive", "seed000-r2-sign", "seed000-r1-bound",
    "seed000-r2-bound", "seed000-r3-bound", "seed000-r3-formula", "seed001-r3-trace-identity",
    "seed000-j-definition", "seed000-forgetting-sampling", "seed001-theorem1", "seed001-lemma2",
    "seed001-ce-derivatives", "seed001-r1-trace-bound", "seed001-gini-entropy",
    "seed001-r2-trace-bound", "seed001-r3-trace-bound", "seed001-truncated-arcsine-moments",
    "seed001-w-shaped-moments", "seed001-ratio", "seed001-beta-variance",
    "seed001-any-symmetric-law", "seed003-erm-limit",
]  # fmt: skip

SLOW = {"seed000-r1-nonnegative", "seed000-r3-formula", "seed001-theorem1"}


def test_registry_matches_the_expected_verdicts():
    assert set(ledger.CLAIMS) == set(EXPECTED)
    assert ledger.EXPECTED_VERDICTS == EXPECTED
    assert set(REQUIRED_BY_ISSUE_3) <= set(EXPECTED)


@pytest.mark.parametrize(
    "claim_id",
    [pytest.param(cid, marks=pytest.mark.slow) if cid in SLOW else cid for cid in EXPECTED],
)
def test_claim_verdict_and_shape(claim_id: str):
    claim = ledger.get_claim(claim_id)
    assert claim.id == claim_id
    assert claim.source in SEEDS
    assert claim.statement and claim.evidence.text
    assert claim.verdict == EXPECTED[claim_id]
    if claim.verdict == "conditional":
        assert claim.condition
    if claim.verdict == "untested":
        assert claim.decided_by and claim.evidence.kind == "pending"
    else:
        assert claim.evidence.kind in {"proof", "counterexample", "search", "experiment", "arithmetic"}
    json.dumps(claim.to_dict())  # serialisable for `mixtheory verify --json`


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


@pytest.mark.slow
def test_r3_formula_slopes():
    numbers = ledger.get_claim("seed000-r3-formula").evidence.numbers
    assert 2.5 <= numbers["slope_corollary4"] <= 3.5
    assert numbers["slope_seed000"] < 2.5


def test_zhang_slopes():
    numbers = ledger.get_claim("seed000-zhang-lemma31-r3").evidence.numbers
    assert 2.5 <= numbers["slope_correct"] <= 3.5
    assert numbers["slope_seed"] >= 1.5 and numbers["slope_seed"] < 2.5


def test_softmax_hessian_helpers_agree_with_core_loss():
    u = np.array([3.0, -1.0, 0.5, 12.0])
    ce = CrossEntropy()
    ut = torch.tensor(u)[None]
    H = ce.hess_uu(ut, ut)[0].numpy()
    assert np.allclose(ledger.softmax_hessian(u), H, atol=1e-15)
    M = torch.eye(4, dtype=torch.float64)[None]
    assert np.allclose(ledger.softmax_hessian_pinv(u), ce.inverse_uu_apply(ut, ut, M)[0].numpy(), rtol=1e-10)
    assert np.linalg.eigvalsh(ledger.softmax_hessian(np.array([40.0, 0.0, -40.0]))).min() >= -1e-30
