"""Every experimental verdict states its power (issue 19): an entry whose evidence is an ``experiment``
carries its pre-declared rule, test, level, estimate with interval and minimum detectable effect at
80 % power (per part); an entry decided without sampling is a deterministic ``computation`` with the
tolerance that decides it. Entries are checked as ``mixtheory verify`` reports them (decided from the
committed results under figures/reproduce/), so a new entry without a power statement fails here."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mixtheory import ledger
from mixtheory.ledger._decisions import COMPUTATION, power_statement_problem

COMMITTED = Path(__file__).resolve().parents[1] / "figures" / "reproduce"
# claims whose evaluation takes seconds (networks, exact mixup losses), as in test_ledger.py
SLOW = {
    "seed000-r1-nonnegative",
    "seed000-r3-formula",
    "seed001-theorem1",
    "seed001-theorem3",
    "seed001-corollary4",
}


@pytest.mark.parametrize(
    "claim_id",
    [pytest.param(cid, marks=pytest.mark.slow) if cid in SLOW else cid for cid in ledger.METADATA],
)
def test_every_experimental_verdict_states_its_power(claim_id: str):
    own = ledger.get_claim(claim_id)  # without stored results (verify --results elsewhere)
    assert power_statement_problem(own.evidence.kind, own.evidence.numbers) is None, (
        claim_id,
        own.evidence.kind,
    )
    claim = ledger.decide_from_results(own, COMMITTED)
    kind, numbers = claim.evidence.kind, claim.evidence.numbers
    assert power_statement_problem(kind, numbers) is None, (claim_id, kind, claim.evidence.text[:300])
    if kind == "experiment":
        records = numbers["test"]
        records = [records] if "mde_80" in records else list(records.values())
        for record in records:
            assert math.isfinite(float(record["mde_80"])) and record["mde_80"] >= 0, (claim_id, record)
            low, high = record["ci_two_sided"]
            assert low <= record["estimate"] <= high, (claim_id, record)
            # a sample size: seeds (t across seeds) or draws (an interval on random draws)
            assert record.get("n_seeds") or record.get("n"), (claim_id, record)
            # holds/fails only where the interval excludes the alternative
            side, delta = record["side"], record["delta"]
            lower, upper = record["one_sided_lower"], record["one_sided_upper"]
            if record["verdict"] == "holds":
                assert (lower > 0) if side == "greater" else (upper < 0), (claim_id, record)
            if record["verdict"] == "fails":
                assert (upper < delta) if side == "greater" else (lower > -delta), (claim_id, record)
    if kind == COMPUTATION:
        record = numbers["computation"]
        assert record["deterministic"] and record["tolerance"] >= 0
        assert "tolerance" in claim.evidence.text and "Deterministic computation" in claim.evidence.text


def test_a_new_experiment_without_its_power_is_flagged():
    bare = ledger.Evidence("experiment", "measured once", {"share": 0.3})
    assert power_statement_problem(bare.kind, bare.numbers) is not None
    assert power_statement_problem(COMPUTATION, {"value": 1e-15}) is not None


def test_reanalysed_over_claims_are_decided():
    """The issue's over-claims, under the new rules (as verify reports them)."""
    got = {
        cid: ledger.decide_from_results(ledger.get_claim(cid), COMMITTED)
        for cid in (
            "seed000-r3-negligible",
            "seed000-erm-r1-weaker",
            "seed000-sine-scheduler-gain",
            "seed000-zhang-multiclass",
            "seed000-hard-pairing-cifar10",
        )
    }
    r3 = got["seed000-r3-negligible"]
    assert r3.figure == "regularizer-trajectories" and r3.figure_result is not None
    rise = r3.evidence.numbers["test"]["R1 rises under mixup"]
    assert rise["verdict"] == "holds" and rise["estimate"] > 0.3  # mixup's R1 rises: ρ ≈ +0.6 per seed
    assert "does rise" in (r3.condition or "") or r3.verdict != "conditional"
    assert got["seed000-zhang-multiclass"].verdict == "answered"
    assert got["seed000-hard-pairing-cifar10"].verdict == "untested"  # no figure runs that experiment
    assert got["seed000-sine-scheduler-gain"].verdict != "holds"
