"""The entries the audit added (mixtheory.ledger.audit) and the re-decided ones: their numbers."""

from __future__ import annotations

import pytest

from mixtheory import ledger


def test_novel_deformation_loses_to_manifold_mixup_in_three_cells():
    c = ledger.get_claim("seed002-novel-deformation")
    assert c.verdict == "conditional" and c.evidence.numbers["losses"] == 3
    assert "Zoom Out (140% rescale)" in c.condition


def test_manifold_intrusion_interval_excludes_highly_likely():
    n = ledger.get_claim("seed000-manifold-intrusion").evidence.numbers
    assert 0 < n["low"] <= n["share"] <= n["high"] < 0.5
    assert n["intruded"] == round(n["share"] * n["pairs"])


def test_mixupe_best_flags_the_graph_intervals():
    n = ledger.get_claim("seed002-mixupe-best").evidence.numbers
    assert n["graph_inside"] == 0 and len(n["graph_pm_implausible"]) == 6
    assert n["graph_pm_floor"]["MUTAG"] == pytest.approx(0.1**0.5 * 1000 / 188, abs=1e-3)


def test_speech_sources_disagree_on_lenet_only():
    n = ledger.get_claim("seed003-speech-lenet-conflict").evidence.numbers
    assert n["lenet_003"] > 0 > n["lenet_002"] and n["vgg_003"] < 0 and n["vgg_002"] < 0


def test_relu_hessian_is_zero_and_r2_ignores_labels():
    assert ledger.get_claim("seed002-c2-vs-relu").evidence.numbers["max_hessian"] == 0.0
    n = ledger.get_claim("seed001-r2-is-el2n").evidence.numbers
    assert n["el2n_gap"] > 10 * n["r2_gap"]


def test_multiclass_question_is_answered():
    c = ledger.get_claim("seed000-zhang-multiclass")
    assert c.verdict == "answered" and c.evidence.text.startswith("Answered: yes.")


def test_hard_pairing_is_untested_and_says_why():
    c = ledger.get_claim("seed000-hard-pairing-cifar10")
    assert c.verdict == "untested" and c.figure is None
    assert "different experiment" in c.evidence.text and "penultimate" in c.decided_by
