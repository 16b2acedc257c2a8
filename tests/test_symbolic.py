"""Every symbolic proof is a test: it must hold, every step must pass, and its numbers must say so."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from mixtheory import symbolic
from mixtheory.reference import theorem3_dense
from mixtheory.symbolic import Proof
from mixtheory.verification import Result


def test_registry_ids_are_the_function_names():
    assert len(symbolic.PROOFS) == 12
    for proof_id, fn in symbolic.PROOFS.items():
        assert fn.__name__.replace("_", "-") == proof_id
        assert getattr(symbolic, fn.__name__) is fn


@pytest.mark.parametrize("proof_id", list(symbolic.PROOFS))
def test_proof_holds(proof_id: str):
    proof = symbolic.get_proof(proof_id)
    assert isinstance(proof, Result) and isinstance(proof.record, Proof)
    assert proof.id == proof.record.id == proof_id and proof.subject == "proof"
    assert list(proof.evidence.steps) == proof.record.steps
    assert proof.statement and proof.steps
    failed = [s for s in proof.steps if s.startswith("FAILED")]
    assert failed == [], failed
    assert proof.verdict == "holds"


def test_all_proofs_are_the_registered_ones_in_order():
    assert [p.id for p in symbolic.all_proofs()] == list(symbolic.PROOFS)
    assert all(
        set(p.record.to_dict()) == {"id", "statement", "steps", "verdict", "details"}
        for p in symbolic.all_proofs()
    )


def test_decorator_stamps_the_id_and_rejects_duplicates():
    assert symbolic.beta_variance().id == "beta-variance"
    with pytest.raises(ValueError, match="duplicate"):
        symbolic.proof(symbolic.beta_variance.__wrapped__)


def test_truncated_beta_cross_checks_are_tight():
    details = symbolic.get_proof("truncated-beta-moments").details
    assert details["alpha_grid"] == {"min": 1e-3, "max": 1e4, "points": 29}
    assert max(details["max_rel_err_package"].values()) <= 1e-11
    assert details["max_rel_err_betainc_scipy"] <= 1e-12
    assert details["max_rel_err_direct_quadrature"] <= 1e-12


def test_arcsine_moments_numbers():
    details = symbolic.get_proof("arcsine-moments").details
    assert details["theta_mean"] == pytest.approx(0.5 + 1 / math.pi, rel=1e-15)
    assert details["theta_var"] == pytest.approx(1 / 8 - 1 / math.pi**2, rel=1e-14)
    assert details["gamma2"] == pytest.approx(3 / 8 - 1 / math.pi, rel=1e-14)


def test_symbolic_moments_at_alpha_one_are_uniform_on_half_one():
    moments = symbolic._symbolic_truncated_moments(sp.Integer(1))
    assert sp.nsimplify(sp.simplify(moments["theta_mean"])) == sp.Rational(3, 4)
    assert sp.nsimplify(sp.simplify(moments["gamma2"])) == sp.Rational(1, 12)


def test_zero_test_rejects_a_nonzero_expression():
    x = sp.Symbol("x", positive=True)
    assert symbolic._is_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1)
    assert not symbolic._is_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2)


def test_recorder_turns_one_failed_step_into_a_failed_proof():
    rec = symbolic._Recorder()
    rec.check(True, "fine")
    rec.zero(sp.Integer(1), "1 = 0")
    assert rec.verdict() == "fails"
    assert rec.steps[-1].startswith("FAILED")


def test_completed_square_detects_a_wrong_sign():
    # the same algebra as completed_square with R3's sign flipped must not vanish
    L = sp.Matrix([[2, 1], [1, 3]])
    B = -sp.eye(2)
    Sxx = sp.Matrix([[2, 0], [0, 1]])
    Sxy = sp.Matrix([[1, 2], [0, 1]])
    F = sp.Matrix([[1, -1], [2, 0]])
    terms = theorem3_dense(Sxx, Sxy, F, L, B, loss_uu_inverse=L.inv(), sigma_xx_pinv=Sxx.inv())
    R1, R3, Q = terms["R1"], terms["R3"], terms["R13"]
    assert sp.simplify(R1 + R3 - Q) == 0
    assert sp.simplify(R1 - R3 - Q) != 0


def test_numerical_cross_checks_live_in_helpers_that_record_passing_steps():
    from mixtheory.symbolic import moments, other_laws, perturbations

    rec = symbolic._Recorder()
    details = moments._truncated_beta_cross_checks(rec)
    assert rec.verdict() == "holds" and len(rec.steps) == 6
    assert details["max_rel_err_direct_quadrature"] <= 1e-12

    rec = symbolic._Recorder()
    theta, tb, s2 = sp.symbols("theta theta_bar sigma2", real=True)
    assert perturbations._lemma2_explicit_check(rec, theta, tb, s2) == {"n": 3, "d": 2, "c": 2}
    assert rec.verdict() == "holds" and len(rec.steps) == 5

    rec = symbolic._Recorder()
    a, b = sp.symbols("alpha beta", positive=True)
    mean = (a * (a + 1) + b * (b + 1)) / ((a + b) * (a + b + 1))
    m2 = (a * b * (b + 1) + b * a * (a + 1)) / ((a + b) * (a + b + 1) * (a + b + 2))
    details = other_laws._lambda_tilde_cross_checks(rec, mean, m2, a, b)
    assert rec.verdict() == "holds" and details["max_rel_err"] < 1e-10
    # a wrong target moment must fail the cross-check
    rec = symbolic._Recorder()
    other_laws._lambda_tilde_cross_checks(rec, mean, 2 * m2, a, b)
    assert rec.verdict() == "fails"
