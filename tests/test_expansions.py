"""The shared pieces of the expansions: one result type whose term names mean one thing each, one
assembly of the second-order loss, one remainder fit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mixtheory import MixupGeometry, SymmetricBeta
from mixtheory.closed_form import taylor_regularizers
from mixtheory.expansions import (
    CARRATINO_TERMS,
    MIXUPE_TERMS,
    PAPERS,
    TERM_NAMES,
    ZHANG_TERMS,
    ExpansionTerms,
    fit_remainder_order,
    second_order_from_terms,
    terms_of,
)
from mixtheory.expansions.carratino2022 import carratino_expansion
from mixtheory.expansions.mixupe import directional_expansion
from mixtheory.expansions.park2022 import masked_expansion
from mixtheory.expansions.zhang2021 import zhang_expansion
from mixtheory.mixing import KNearest
from mixtheory.mixup_loss import second_order_loss


def problem():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(16, 3, generator=g, dtype=torch.float64)
    W = torch.randn(3, 3, generator=g, dtype=torch.float64)
    return X, torch.arange(16) % 3, (lambda x: 2 * torch.tanh(x @ W))


def test_uniform_geometry_is_the_plain_mean_and_paired_the_anchor_weighted_sum():
    X, Y, model = problem()
    law = SymmetricBeta(0.6)
    uniform = MixupGeometry(X, Y, law)
    regs = taylor_regularizers(model, uniform)
    terms = regs["erm"] + regs["R13"] + regs["R2"] + regs["R4"]
    assert second_order_loss(model, uniform) == float(terms.mean())  # bit for bit
    paired = MixupGeometry(X, Y, law, pairing=KNearest(X, 3))
    regs = taylor_regularizers(model, paired)
    terms = regs["erm"] + regs["R13"] + regs["R2"] + regs["R4"]
    assert second_order_loss(model, paired) == float((paired.anchor_weights * terms).sum())
    assert paired.mean_weights is paired.anchor_weights and uniform.mean_weights is None


def test_zhang_second_order_loss_is_the_table_of_zhang_terms():
    X, Y, model = problem()
    law = SymmetricBeta(0.6)
    regs = zhang_expansion(model, X, Y, law)
    terms = regs["anchor_loss"] + regs["first_order"]
    terms = terms + regs["second_order_output"] + regs["second_order_input"]
    assert regs.loss() == float(terms.mean()) == second_order_from_terms(regs, ZHANG_TERMS)  # bit for bit
    assert regs.table == ZHANG_TERMS and CARRATINO_TERMS != ZHANG_TERMS


def test_carratino_expansion_is_the_second_order_loss():
    X, Y, model = problem()
    for geometry in (
        MixupGeometry(X, Y, SymmetricBeta(0.6)),
        MixupGeometry(X, Y, SymmetricBeta(0.6), pairing=KNearest(X, 3)),
    ):
        terms = carratino_expansion(model, geometry)
        assert terms.paper == "carratino2022" and set(terms) == set(terms_of("carratino2022"))
        assert terms.loss() == second_order_loss(model, geometry)  # bit for bit, weights included


# --- one name, one meaning ----------------------------------------------------------------------
def test_every_term_name_belongs_to_one_family_of_papers_and_has_a_meaning():
    """A name is shared only by Zhang et al. and Park et al., whose terms are the same four (Park
    et al.'s are Zhang et al.'s with the moments of a mask); every other name is one paper's."""
    for name, (papers, meaning) in TERM_NAMES.items():
        assert set(papers) <= set(PAPERS) and papers and meaning, name
        assert len(papers) == 1 or set(papers) == {"zhang2021", "park2022"}, name
    # the tables of the papers draw on disjoint names: no key of one paper means another's term
    tables = {"carratino2022": CARRATINO_TERMS, "zhang2021": ZHANG_TERMS, "mixupe": MIXUPE_TERMS}
    for a in tables:
        for b in tables:
            if a != b:
                assert not set(terms_of(a)) & set(terms_of(b)), (a, b)
    assert terms_of("zhang2021") == terms_of("park2022") == ZHANG_TERMS
    # Zhang et al.'s own letters R1, R2, R3 are Carratino et al.'s keys: they are not Zhang's
    assert not {"R1", "R2", "R3", "erm"} & set(terms_of("zhang2021"))


def test_each_expansion_returns_the_one_type_with_its_own_names():
    X, Y, model = problem()
    law = SymmetricBeta(0.6)
    results = {
        "carratino2022": carratino_expansion(model, MixupGeometry(X, Y, law)),
        "zhang2021": zhang_expansion(model, X, Y, law),
        "park2022": masked_expansion(model, X, Y, law),
        "mixupe": directional_expansion(model, X[:6], Y[:6], law, order=2),
    }
    for paper, result in results.items():
        assert isinstance(result, ExpansionTerms) and result.paper == paper
        assert set(result) <= set(terms_of(paper)) and set(result.table) <= set(result)
    with pytest.raises(KeyError, match="a term of carratino2022, not of zhang2021"):
        results["zhang2021"]["R1"]
    with pytest.raises(KeyError, match="are not terms of zhang2021"):
        ExpansionTerms("zhang2021", {"R2": torch.zeros(2)})
    with pytest.raises(TypeError):
        results["zhang2021"].terms["first_order"] = torch.zeros(16)  # read-only


def test_a_missing_term_is_named():
    with pytest.raises(KeyError, match="R13"):
        second_order_from_terms({"erm": torch.ones(2), "R2": torch.ones(2), "R4": torch.ones(2)})


def test_plain_fit_agrees_with_numpy_and_the_corrected_fit_removes_the_bias():
    rng = np.random.default_rng(0)
    s = 0.2 / 2.0 ** np.arange(6)
    errors = s**3 * (1 + 2 * s) * np.exp(1e-3 * rng.standard_normal(s.size))
    plain = fit_remainder_order(s, errors)
    slope, intercept = np.polyfit(np.log(s), np.log(errors), 1)
    assert plain.slope == pytest.approx(slope, abs=1e-12) and plain.intercept == pytest.approx(intercept)
    assert plain.dof == 4 and len(plain.local) == 5
    corrected = fit_remainder_order(s, errors, correction=True)
    # the D s term biases the plain fit upward by many of its standard errors; the corrected one is 3
    assert (plain.slope - 3) / plain.stderr > 3
    assert abs(corrected.slope - 3) < 4 * corrected.stderr
