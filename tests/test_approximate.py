"""Carratino et al.'s approximate mixup targets and test-time rescaling: a model that interpolates
the contracted data (x̃_i, ỹ_i) is mapped back to y_i exactly."""

from __future__ import annotations

import pytest
import torch
from conftest import make_data, make_mlp

from mixtheory import Beta, MixupGeometry, SymmetricBeta
from mixtheory.approximate import approximate_mixup_targets, rescale

LAWS = {"beta(0.3,0.3)": SymmetricBeta(0.3), "beta(1,1)": SymmetricBeta(1.0), "beta(0.5,2)": Beta(0.5, 2.0)}


def interpolating_linear(inputs: torch.Tensor, targets: torch.Tensor, *, features=None):
    """Minimum-norm least squares ``[φ(x), 1] W = targets`` (φ the identity, or fixed random
    features); exact interpolation when the number of features + 1 ≥ n."""
    features = (lambda x: x) if features is None else features

    def design(x: torch.Tensor) -> torch.Tensor:
        return torch.cat([features(x), torch.ones(x.shape[0], 1, dtype=x.dtype)], 1)

    W = torch.linalg.lstsq(design(inputs), targets, driver="gelsd").solution
    assert torch.allclose(design(inputs) @ W, targets, rtol=0, atol=1e-12)  # over-parameterised
    return lambda x: design(x) @ W


def random_tanh_features(d: int, width: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(d, width, generator=g, dtype=torch.float64) / d**0.5
    b = torch.randn(width, generator=g, dtype=torch.float64)
    return lambda x: torch.tanh(x @ A + b)


def test_targets_are_the_contracted_data():
    X, Y = make_data(9, 4, 3, seed=0)
    law = SymmetricBeta(0.4)
    x_t, y_t = approximate_mixup_targets(X, Y, law)
    assert x_t.shape == X.shape and y_t.shape == Y.shape
    geo = MixupGeometry(X, Y, law)
    torch.testing.assert_close(x_t, X.mean(0) + law.theta_mean * (X - X.mean(0)), rtol=1e-14, atol=1e-15)
    torch.testing.assert_close(y_t, geo.y_tilde, rtol=0, atol=0)
    torch.testing.assert_close(y_t.sum(-1), torch.ones(9, dtype=torch.float64))  # still on the simplex


@pytest.mark.parametrize("law", LAWS.values(), ids=LAWS.keys())
def test_logit_rescaling_recovers_labels_of_an_interpolating_regression(law):
    """Squared-error setting, d ≥ n: a linear model with f(x̃_i) = ỹ_i exactly gives f_test(x_i) = y_i
    (1e-10). For an affine f the map is the identity (f(x̄) = mean ỹ = ȳ, so
    f_test = f + (1−θ̄)(f(x̄) − ȳ)/θ̄ = f); with fixed nonlinear features it is not, and it is needed."""
    X, Y = make_data(12, 20, 3, seed=1)
    x_t, y_t = approximate_mixup_targets(X, Y, law)
    linear = interpolating_linear(x_t, y_t)
    f_test = rescale(linear, law.theta_mean, X.mean(0), Y.mean(0), space="logit")
    torch.testing.assert_close(f_test(X), Y, rtol=0, atol=1e-10)
    torch.testing.assert_close(linear(X), f_test(X), rtol=0, atol=1e-10)  # affine: a no-op
    nonlinear = interpolating_linear(x_t, y_t, features=random_tanh_features(20, 40, seed=1))
    f_test = rescale(nonlinear, law.theta_mean, X.mean(0), Y.mean(0), space="logit")
    torch.testing.assert_close(f_test(X), Y, rtol=0, atol=1e-10)
    assert float((nonlinear(X) - Y).abs().max()) > 1e-2  # here the rescaling does the work


@pytest.mark.parametrize("law", LAWS.values(), ids=LAWS.keys())
def test_probability_rescaling_recovers_labels_of_an_interpolating_classifier(law):
    """Logits log ỹ_i fitted exactly (d ≥ n): softmax(f(x̃_i)) = ỹ_i, and the probability-space map
    returns the one-hot y_i (1e-10); the logit-space map does not (it rescales logits)."""
    X, Y = make_data(12, 20, 3, seed=2)
    x_t, y_t = approximate_mixup_targets(X, Y, law)
    model = interpolating_linear(x_t, torch.log(y_t))
    prob = rescale(model, law.theta_mean, X.mean(0), Y.mean(0), space="probability")
    torch.testing.assert_close(prob(X), Y, rtol=0, atol=1e-10)
    logit = rescale(model, law.theta_mean, X.mean(0), Y.mean(0), space="logit")
    assert float((torch.softmax(logit(X), -1) - Y).abs().max()) > 1e-3


def test_logit_space_keeps_argmax_for_balanced_classes_and_sharpens():
    """ȳ uniform: the shift is common to all classes, so argmax and ranking are those of f at the
    contracted input, and dividing by θ̄ < 1 raises the top probability (temperature θ̄)."""
    X, _ = make_data(30, 4, 3, seed=3)
    Y = torch.nn.functional.one_hot(torch.arange(30) % 3, 3).to(torch.float64)  # balanced
    model = make_mlp(4, 3, seed=4, scale=0.5)
    law = SymmetricBeta(1.0)
    theta, x_bar = law.theta_mean, X.mean(0)
    f_test = rescale(model, theta, x_bar, Y.mean(0))
    contracted = model(theta * X + (1 - theta) * x_bar).detach()
    rescaled = f_test(X).detach()
    assert torch.equal(rescaled.argmax(-1), contracted.argmax(-1))
    top_before = torch.softmax(contracted, -1).amax(-1)
    top_after = torch.softmax(rescaled, -1).amax(-1)
    assert bool((top_after > top_before).all())


def test_identity_when_theta_is_one_and_errors():
    X, Y = make_data(5, 3, 2, seed=5)
    model = make_mlp(3, 2, seed=6)
    for space in ("logit", "probability"):
        f_test = rescale(model, 1.0, X.mean(0), Y.mean(0), space=space)
        expected = model(X) if space == "logit" else torch.softmax(model(X), -1)
        torch.testing.assert_close(f_test(X), expected, rtol=0, atol=0)
    with pytest.raises(ValueError, match="theta_mean"):
        rescale(model, 0.0, X.mean(0), Y.mean(0))
    with pytest.raises(ValueError, match="space"):
        rescale(model, 0.5, X.mean(0), Y.mean(0), space="logits")
    with pytest.raises(ValueError, match="simplex"):
        rescale(model, 0.5, X.mean(0), torch.tensor([0.5, 0.7]), space="probability")
