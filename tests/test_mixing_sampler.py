"""The sampler's averaged loss against the exact limit of every rule (mixtheory.mixing.sampler).

Exact identities (the two routes of exact_loss_for_rule, the corrected form) at 1e-10; sampled
averages within standard errors through tests/_stats.py; quick cases here, the full battery of
granularities × rules × batch sizes behind ``slow``.
"""

from __future__ import annotations

import zlib

import pytest
import torch
from _stats import assert_within_standard_errors
from conftest import make_data, make_mlp

from mixtheory import Beta, Empirical, SymmetricBeta, exact_mixup_loss
from mixtheory.exact_loss import LossOptions
from mixtheory.mixing import (
    ClassConditional,
    DensePairing,
    HardPool,
    KNearest,
    UniformPartner,
    distinct_pairs_loss,
    erm_loss,
    exact_loss_for_rule,
    mix,
    partner_indices,
    sampled_loss_for_rule,
)

N, D, C = 6, 2, 3


def _seed(*key) -> int:
    """A seed fixed by the case (str hashes vary between processes)."""
    return zlib.crc32(repr(key).encode())


@pytest.fixture(scope="module")
def problem():
    X, Y = make_data(N, D, C, seed=3, soft=True)
    return X, Y, make_mlp(D, C, seed=4, scale=1.5)


def _law_cases(X):
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    g = torch.Generator().manual_seed(11)
    P = torch.rand(N, N, generator=g, dtype=torch.float64) ** 3
    return {
        "dense": DensePairing(P / P.sum(1, keepdim=True)),
        "class": ClassConditional(
            torch.tensor([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0], [0.2, 0.3, 0.5]], dtype=torch.float64), labels
        ),
        "hardpool": HardPool(torch.arange(N, dtype=torch.float64), 0.5, include_self=False),
        "knearest": KNearest(X, 2),
    }


# --- structure ------------------------------------------------------------------------------------


@pytest.mark.parametrize("per", ["batch", "pair", "element"])
def test_mix_shapes_and_construction(per):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(5, 3, 4, 7, generator=g, dtype=torch.float64)  # non-square images
    out = mix(X, torch.arange(5) % 2, SymmetricBeta(0.5), per=per, partner="permutation", generator=g)
    expected_lam = {"batch": (), "pair": (5,), "element": (5, 3, 4, 7)}[per]
    assert out.inputs.shape == X.shape and out.targets.shape == (5, 2)
    assert out.lam.shape == expected_lam and out.label_weight.shape == (5,) and out.partner.shape == (5,)
    lam = out.lam.reshape(-1, *([1] * (X.ndim - 1))) if per != "element" else out.lam
    torch.testing.assert_close(out.inputs, lam * X + (1 - lam) * X[out.partner], rtol=0, atol=1e-15)
    torch.testing.assert_close(out.targets.sum(1), torch.ones(5, dtype=torch.float64))


def test_partner_rules_are_the_libraries_conventions():
    assert partner_indices("flip", 5).tolist() == [4, 3, 2, 1, 0]  # timm: x.flip(0)
    assert partner_indices("roll", 5).tolist() == [4, 0, 1, 2, 3]  # torchvision: x.roll(1, 0)
    g = torch.Generator().manual_seed(0)
    assert sorted(partner_indices("permutation", 7, g).tolist()) == list(range(7))


def test_mix_refuses_bad_options(problem):
    X, Y, _ = problem
    with pytest.raises(ValueError, match="per must be"):
        mix(X, Y, SymmetricBeta(1.0), per="sample")
    with pytest.raises(ValueError, match="partner must be"):
        mix(X, Y, SymmetricBeta(1.0), partner="shift")
    with pytest.raises(ValueError, match="on 4 samples"):
        mix(X, Y, SymmetricBeta(1.0), partner=UniformPartner(4))
    with pytest.raises(ValueError, match="masks need"):
        mix(X, Y, SymmetricBeta(1.0), mask="cutmix")


# --- exact limits: two routes and the corrected form ---------------------------------------------


@pytest.mark.parametrize("law", [SymmetricBeta(0.3), Beta(2.0, 0.7)], ids=repr)
def test_pair_route_is_exact_mixup_loss_for_uniform_pairing(problem, law):
    X, Y, model = problem
    e_mix = exact_mixup_loss(model, X, Y, law)
    for partner in ("uniform", "permutation"):
        brute = exact_loss_for_rule(model, X, Y, law, partner=partner, options=LossOptions(route="pairs"))
        assert abs(brute - e_mix) <= 1e-10 * abs(e_mix)
    brute = exact_loss_for_rule(
        model, X, Y, law, partner=UniformPartner(N), options=LossOptions(route="pairs")
    )
    assert abs(brute - e_mix) <= 1e-10 * abs(e_mix)


def test_distinct_pairs_is_the_corrected_form(problem):
    X, Y, model = problem
    law = SymmetricBeta(0.4)
    e_mix, e_erm = exact_mixup_loss(model, X, Y, law), erm_loss(model, X, Y)
    brute = exact_loss_for_rule(model, X, Y, law, partner=UniformPartner(N, include_self=False))
    assert abs(brute - distinct_pairs_loss(e_mix, e_erm, N)) <= 1e-10 * abs(brute)
    # b = n: flip (even n) and roll give E_≠; uniform and permutation give E_mix
    for rule, truth in [("flip", brute), ("roll", brute), ("uniform", e_mix), ("permutation", e_mix)]:
        for route in ("auto", "pairs"):
            value = exact_loss_for_rule(
                model, X, Y, law, partner=rule, batch_size=N, options=LossOptions(route=route)
            )
            assert abs(value - truth) <= 1e-10 * abs(truth), (rule, route)


# --- sampled averages against the exact limits (quick) -----------------------------------------

QUICK_CASES = [
    # (per, partner, batch_size)
    ("pair", "uniform", None),
    ("batch", "permutation", None),
    ("batch", "flip", None),
    ("pair", "roll", None),
    ("pair", "flip", 5),
    ("element", "uniform", None),
]


@pytest.mark.parametrize("per,partner,batch_size", QUICK_CASES, ids=lambda v: str(v))
def test_sampled_loss_converges_to_exact_limit(problem, per, partner, batch_size):
    X, Y, model = problem
    law = SymmetricBeta(0.5)
    nodes = 16 if per == "element" else 64  # the element route is a num_nodes^d tensor product
    exact = exact_loss_for_rule(
        model,
        X,
        Y,
        law,
        partner=partner,
        per=per,
        batch_size=batch_size,
        options=LossOptions(num_nodes=nodes),
    )
    g = torch.Generator().manual_seed(_seed(per, partner, batch_size))
    est = sampled_loss_for_rule(
        model, X, Y, law, num_draws=600, batch_size=batch_size, per=per, partner=partner, generator=g
    )
    assert_within_standard_errors(est.value, est.stderr, exact, what=f"{per}/{partner}/b={batch_size}")


def test_flip_on_full_shuffled_batches_is_biased_away_from_e_mix(problem):
    """timm/torchvision pairings never meet themselves: their average is E_≠, not E_mix; the
    corrected form recovers E_≠ from E_mix and ERM."""
    X, Y, model = problem
    law = Empirical([0.1, 0.35])  # strong mixing: the self-pairs matter
    g = torch.Generator().manual_seed(5)
    est = sampled_loss_for_rule(model, X, Y, law, num_draws=2000, batch_size=N, partner="flip", generator=g)
    e_mix, e_erm = exact_mixup_loss(model, X, Y, law), erm_loss(model, X, Y)
    assert_within_standard_errors(est.value, est.stderr, distinct_pairs_loss(e_mix, e_erm, N))
    # measured z ≈ −9 at 2000 draws (−12 at 4000): the O(1/n) bias (E_≠ − E_ERM)/n is resolved
    assert abs(est.zscore(e_mix)) > 5, est.zscore(e_mix)


def test_partner_law_average(problem):
    X, Y, model = problem
    law = Empirical([0.2, 0.7, 0.9])
    laws = _law_cases(X)
    for name in ("class", "knearest"):
        exact = exact_loss_for_rule(model, X, Y, law, partner=laws[name])
        g = torch.Generator().manual_seed(7)
        est = sampled_loss_for_rule(model, X, Y, law, num_draws=600, partner=laws[name], generator=g)
        assert_within_standard_errors(est.value, est.stderr, exact, what=name)


def test_lambda_moments_match_the_law():
    law = Beta(0.6, 1.7)
    g = torch.Generator().manual_seed(2)
    X, Y = torch.zeros(20000, 1, dtype=torch.float64), torch.zeros(20000, dtype=torch.long)
    lam = mix(X, Y, law, per="pair", generator=g).label_weight
    theta = torch.maximum(lam, 1 - lam)
    samples = torch.stack([lam, theta, (1 - theta) ** 2])
    rule = law.lambda_rule()
    truth = [float((rule.weights * rule.nodes).sum()), law.theta_mean, law.gamma2]
    se = samples.std(1) / samples.shape[1] ** 0.5
    assert_within_standard_errors(samples.mean(1), se, truth, what="λ, θ, (1−θ)² means")


# --- the full battery (slow) ------------------------------------------------------------------------

SLOW_CASES = [
    (per, partner, b)
    for per in ("batch", "pair", "element")
    for partner in ("uniform", "permutation", "flip", "roll")
    for b in (None, N, 3)
]


@pytest.mark.slow
@pytest.mark.parametrize("per,partner,batch_size", SLOW_CASES, ids=lambda v: str(v))
def test_every_rule_and_granularity(problem, per, partner, batch_size):
    X, Y, model = problem
    law = Beta(0.7, 0.4)
    nodes = 20 if per == "element" else 96
    exact = exact_loss_for_rule(
        model,
        X,
        Y,
        law,
        partner=partner,
        per=per,
        batch_size=batch_size,
        options=LossOptions(num_nodes=nodes),
    )
    g = torch.Generator().manual_seed(_seed(per, partner, batch_size, "slow"))
    est = sampled_loss_for_rule(
        model, X, Y, law, num_draws=6000, batch_size=batch_size, per=per, partner=partner, generator=g
    )
    assert_within_standard_errors(est.value, est.stderr, exact, what=f"{per}/{partner}/b={batch_size}")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dense", "class", "hardpool", "knearest"])
@pytest.mark.parametrize("per", ["batch", "pair"])
def test_every_partner_law(problem, name, per):
    X, Y, model = problem
    law = SymmetricBeta(0.8)
    partner = _law_cases(X)[name]
    exact = exact_loss_for_rule(model, X, Y, law, partner=partner, per=per)
    g = torch.Generator().manual_seed(_seed(name, per))
    est = sampled_loss_for_rule(model, X, Y, law, num_draws=6000, per=per, partner=partner, generator=g)
    assert_within_standard_errors(est.value, est.stderr, exact, what=f"{name}/{per}")
