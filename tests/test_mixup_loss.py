"""The real mixup loss: Theorem 1 exactly, sampling within its standard error, and the
second-order approximation against it (closed form, Monte Carlo, Taylor remainder)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from _stats import assert_within_standard_errors
from conftest import make_data, make_mlp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mixtheory import (
    ERM,
    AutogradLoss,
    Beta,
    Mixture,
    MixupGeometry,
    MixupLoss,
    PointMass,
    SymmetricBeta,
    exact_mixup_loss,
    mixup_loss,
    sampled_mixup_loss,
    sampled_second_order_loss,
    second_order_loss,
)
from mixtheory.exact_loss import LossOptions
from mixtheory.expansions import fit_remainder_order

THEOREM1_LAWS = [
    SymmetricBeta(0.4),
    SymmetricBeta(5.0),
    Beta(0.5, 2.5),
    Mixture([PointMass(1.0), SymmetricBeta(1.5)], [0.4, 0.6]),
]


def _brute_force_unfolded(model, X, Y, lam_nodes, lam_weights):
    """(1/n²) Σ_i Σ_j Σ_k w_k ℓ(λ_k y_i + (1−λ_k) y_j, f(λ_k x_i + (1−λ_k) x_j)), plain loops."""
    n = X.shape[0]
    total = 0.0
    for lam, w in zip(lam_nodes, lam_weights):
        for i in range(n):
            x = lam * X[i] + (1 - lam) * X
            y = lam * Y[i] + (1 - lam) * Y
            u = model(x)
            total += w * float((torch.logsumexp(u, -1) - (y * u).sum(-1)).sum())
    return total / n**2


@pytest.mark.parametrize("law", THEOREM1_LAWS, ids=repr)
def test_theorem1_folding(law):
    """Mixup over all ordered pairs with λ from the law equals the folded perturbed ERM."""
    X, Y = make_data(25, 4, 3, seed=40)
    model = make_mlp(4, 3, seed=41, scale=1.5)
    folded = exact_mixup_loss(model, X, Y, law)
    rule = law.lambda_rule(48)
    with torch.no_grad():
        unfolded = _brute_force_unfolded(model, X, Y, rule.nodes, rule.weights)
    assert abs(folded - unfolded) / abs(unfolded) <= 1e-10
    assert folded == pytest.approx(exact_mixup_loss(model, X, Y, law, form="unfolded"), rel=1e-10)


@settings(max_examples=15, deadline=None)
@given(
    a=st.floats(0.2, 20.0),
    b=st.floats(0.2, 20.0),
    seed=st.integers(0, 1000),
    loss=st.sampled_from(["ce", "mse"]),
)
def test_theorem1_folding_property(a, b, seed, loss):
    """Folding holds for any law of λ (symmetric or not) under uniform pairing."""
    X, Y = make_data(6, 2, 3, seed=seed)
    model = make_mlp(2, 3, seed=seed + 1)
    law = Beta(a, b)
    folded = exact_mixup_loss(model, X, Y, law, loss=loss)
    assert folded == pytest.approx(exact_mixup_loss(model, X, Y, law, loss=loss, form="unfolded"), rel=1e-10)


def test_exact_loss_converges_in_nodes_and_is_chunk_invariant():
    X, Y = make_data(30, 3, 2, seed=42)
    model = make_mlp(3, 2, seed=43)
    law = SymmetricBeta(0.2)
    values = [exact_mixup_loss(model, X, Y, law, options=LossOptions(num_nodes=k)) for k in (8, 16, 32, 64)]
    assert abs(values[-1] - values[-2]) <= 1e-12 * values[-1]
    assert exact_mixup_loss(model, X, Y, law, options=LossOptions(chunk_size=7)) == pytest.approx(
        values[2], rel=1e-13
    )


def test_erm_law_gives_the_erm_loss():
    X, Y = make_data(20, 3, 2, seed=44)
    model = make_mlp(3, 2, seed=45)
    with torch.no_grad():
        u = model(X)
        erm = float((torch.logsumexp(u, -1) - (Y * u).sum(-1)).mean())
    assert exact_mixup_loss(model, X, Y, ERM()) == pytest.approx(erm, rel=1e-14)


@pytest.mark.parametrize("per", ["pair", "batch"])
def test_sampled_loss_within_standard_error(per):
    X, Y = make_data(40, 3, 3, seed=46)
    model = make_mlp(3, 3, seed=47, scale=2.0)
    law = SymmetricBeta(0.5)
    exact = exact_mixup_loss(model, X, Y, law)
    est = mixup_loss(
        model,
        X,
        Y,
        law,
        evaluation="sampled",
        per=per,
        num_draws=400,
        generator=torch.Generator().manual_seed(48),
    )
    assert est.num_replicates == 400 and est.stderr > 0
    assert_within_standard_errors(est.value, est.stderr, exact, what=f"sampled mixup loss (per={per})")


@pytest.mark.slow
def test_sampled_standard_errors_are_honest():
    """Across 300 seeds the z-scores of the sampled loss (50 replicates each, so Student-t with
    49 degrees of freedom) have mean ≈ 0 and the t variance 49/47, within intervals derived from
    the sampling distribution of those statistics (family error 1e-4)."""
    from _stats import bonferroni_k, variance_interval

    X, Y = make_data(20, 3, 2, seed=49)
    model = make_mlp(3, 2, seed=50, scale=2.0)
    law = SymmetricBeta(1.0)
    exact = exact_mixup_loss(model, X, Y, law)
    seeds, draws = 300, 50
    z = np.array(
        [
            mixup_loss(
                model,
                X,
                Y,
                law,
                evaluation="sampled",
                num_draws=draws,
                generator=torch.Generator().manual_seed(s),
            ).zscore(exact)
            for s in range(seeds)
        ]
    )
    t_sd = math.sqrt((draws - 1) / (draws - 3))
    assert abs(z.mean()) <= bonferroni_k(2, 1e-4) * t_sd / math.sqrt(seeds)
    lo, hi = variance_interval(seeds, dof=draws - 1, family_error=1e-4)
    assert lo <= z.var(ddof=1) <= hi, (lo, z.var(ddof=1), hi)


@pytest.mark.parametrize("loss", ["ce", "mse", "asymmetric"])
def test_closed_form_second_order_loss_matches_its_monte_carlo(loss):
    if loss == "asymmetric":  # ℓ_uy ≠ ℓ_yu: catches a transposed cross term
        A = torch.tensor([[1.0, 0.5, 0.0], [-0.3, 1.0, 0.8], [0.2, 0.0, 1.0]], dtype=torch.float64)
        loss = AutogradLoss(lambda y, u: 0.5 * ((u - A @ y) ** 2).sum())
    X, Y = make_data(30, 4, 3, seed=51, soft=(loss != "ce"))
    model = make_mlp(4, 3, seed=52, scale=1.5)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.7))
    closed = second_order_loss(model, geo, loss)
    mc = sampled_second_order_loss(
        model, geo, loss, num_draws=300, generator=torch.Generator().manual_seed(53)
    )
    assert_within_standard_errors(mc.value, mc.stderr, closed, what="Monte Carlo of the second-order loss")


# Halving scales from 0.2: small enough that the fit with the first correction absorbed
# (fit_remainder_order(correction=True)) leaves only O(s²) terms; the gap at the smallest scale
# is ~1e-11, far above the ~1e-15 rounding of the exact loss.
REMAINDER_SCALES = 0.2 * 0.5 ** np.arange(6)
REMAINDER_LEVEL = 1e-3  # two-sided level of the t interval around the fitted order


def _remainder_fit(model, geo, scales, contract_labels=True):
    gaps = []
    for s in scales:
        if contract_labels:
            g = geo.contracted(s)
        else:
            g = MixupGeometry(geo.x_mean + s * geo.centered_x, geo.Y, geo.law)
        gaps.append(abs(exact_mixup_loss(model, g.X, g.Y, g.law) - second_order_loss(model, g)))
    return fit_remainder_order(scales, gaps, correction=True), gaps


def _assert_order(fit, order: float, gaps) -> None:
    """The fitted order within a t interval of its own standard error (``fit.dof`` dof)."""
    half_width = float(stats.t.isf(REMAINDER_LEVEL / 2, fit.dof)) * fit.stderr
    assert abs(fit.slope - order) <= half_width, (fit, gaps)


def test_taylor_remainder_is_third_order_under_joint_contraction():
    X, Y = make_data(30, 4, 3, seed=54)
    model = make_mlp(4, 3, seed=55)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.5))
    fit, gaps = _remainder_fit(model, geo, REMAINDER_SCALES)
    _assert_order(fit, 3.0, gaps)


def test_contracting_only_inputs_leaves_a_second_order_gap():
    """Contracting x alone keeps the ε δ² term: the remainder falls like s², not s³."""
    X, Y = make_data(30, 4, 3, seed=54)
    model = make_mlp(4, 3, seed=55)
    geo = MixupGeometry(X, Y, SymmetricBeta(0.5))
    fit, gaps = _remainder_fit(model, geo, REMAINDER_SCALES, contract_labels=False)
    _assert_order(fit, 2.0, gaps)


def test_user_errors():
    X, Y = make_data(10, 3, 2, seed=56)
    model = make_mlp(3, 2, seed=57)
    law = SymmetricBeta(1.0)
    with pytest.raises(ValueError, match="evaluation must be"):
        mixup_loss(model, X, Y, law, evaluation="mc")
    with pytest.raises(ValueError, match="per must be"):
        mixup_loss(model, X, Y, law, evaluation="sampled", per="epoch")
    with pytest.raises(ValueError, match="num_draws must be an integer >= 2"):
        mixup_loss(model, X, Y, law, evaluation="sampled", num_draws=1)
    with pytest.raises(ValueError, match="form must be"):
        exact_mixup_loss(model, X, Y, law, form="half")
    with pytest.raises(TypeError, match="law must be a mixtheory law"):
        exact_mixup_loss(model, X, Y, 1.0)
    Xbad = X.clone()
    Xbad[0, 0] = float("inf")
    with pytest.raises(ValueError, match="X contains 1 NaN or infinite"):
        exact_mixup_loss(model, Xbad, Y, law)
    with pytest.raises(ValueError, match="every label must sum to 1"):
        sampled_second_order_loss(model, MixupGeometry(X, 2 * Y, law))
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        exact_mixup_loss(model, X, Y, law, options=LossOptions(chunk_size=0))
    # labels narrower than the outputs are never broadcast silently
    for method in ("exact", "sampled"):
        with pytest.raises(TypeError, match=r"Y is a 1-D torch.float64 tensor: that is ambiguous"):
            mixup_loss(model, X, Y.argmax(-1).double(), law, evaluation=method)
        with pytest.raises(ValueError, match=r"num_classes=3 but the model has 2 outputs"):
            mixup_loss(model, X, Y.argmax(-1), law, evaluation=method, num_classes=3)
        with pytest.raises(ValueError, match=r"Y has 1 label columns but the model has 2 outputs"):
            mixup_loss(model, X, Y[:, :1], law, evaluation=method)


def test_mixup_loss_returns_one_result_type_for_both_evaluations():
    X, Y = make_data(12, 3, 2, seed=58)
    model = make_mlp(3, 2, seed=59)
    law = SymmetricBeta(0.5)
    exact = mixup_loss(model, X, Y, law, options=LossOptions(num_nodes=16))
    assert isinstance(exact, MixupLoss) and exact.evaluation == "exact"
    assert exact.value == exact_mixup_loss(model, X, Y, law, options=LossOptions(num_nodes=16))
    assert exact.stderr == 0.0 and exact.num_replicates == 0 and float(exact) == exact.value
    sampled = mixup_loss(
        model, X, Y, law, evaluation="sampled", num_draws=20, generator=torch.Generator().manual_seed(3)
    )
    direct = sampled_mixup_loss(model, X, Y, law, num_draws=20, generator=torch.Generator().manual_seed(3))
    assert isinstance(sampled, MixupLoss) and sampled.evaluation == "sampled"
    assert (sampled.value, sampled.stderr, sampled.num_replicates) == (direct.value, direct.stderr, 20)
    assert sampled.zscore(exact.value) == direct.zscore(exact.value)
    with pytest.raises(ValueError, match=r"per must be 'pair' or 'batch', got 'sample' .* is per='pair'"):
        sampled_mixup_loss(model, X, Y, law, per="sample")
    with pytest.raises(TypeError, match="options= .LossOptions. applies to the exact evaluation"):
        mixup_loss(model, X, Y, law, evaluation="sampled", pairing=torch.eye(12), options=LossOptions())
