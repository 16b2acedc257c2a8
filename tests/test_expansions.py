"""The shared pieces of the expansions: one assembly of the second-order loss, one remainder fit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mixtheory import MixupGeometry, SymmetricBeta
from mixtheory.closed_form import taylor_regularizers
from mixtheory.expansions import (
    CARRATINO_TERMS,
    ZHANG_TERMS,
    fit_remainder_order,
    second_order_from_terms,
)
from mixtheory.mixing import KNearest
from mixtheory.mixup_loss import second_order_loss
from mixtheory.zhang2021 import zhang_regularizers, zhang_second_order_loss


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
    regs = zhang_regularizers(model, X, Y, law)
    expected = float((regs["erm"] + regs["R1"] + regs["R2"] + regs["R3"]).mean())
    assert zhang_second_order_loss(model, X, Y, law) == expected == second_order_from_terms(regs, ZHANG_TERMS)
    assert CARRATINO_TERMS != ZHANG_TERMS


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
