"""The typed settings of the estimators (:mod:`mixtheory.estimators.options`): validation messages,
immutability, and ``options=`` giving the same numbers as the keyword arguments."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from conftest import make_data

from mixtheory import MixupGeometry, SymmetricBeta
from mixtheory.estimators import EstimatorOptions, estimate_from_geometry, estimate_regularizers
from mixtheory.models import build_model

F64 = torch.float64

# (settings, the message the ValueError must match): the field named in every message
INVALID = [
    (dict(probes="uniform"), "probes must be one of gaussian, rademacher, mixup, exact"),
    (dict(method="newton"), "method must be one of auto, taylor, taylor-collapsed, jvp, hvp"),
    (dict(curvature="finite"), "curvature must be one of autograd, secant"),
    (dict(r1="never"), "r1 must be one of auto, exact, probes"),
    (dict(train_mode="train"), "train_mode must be 'error' or 'eval'"),
    (dict(num_probes=0), "num_probes must be a positive integer"),
    (dict(num_probes=2.5), "num_probes must be a positive integer"),
    (dict(chunk_size=0), "chunk_size must be a positive integer"),
    (dict(curvature="secant", secant_step=float("inf")), "secant_step must be a finite number > 0"),
    (dict(method="hutch++", probes="mixup"), "draws probes in the factor space"),
    (dict(method="hutch++", num_probes=5), r"hutch\+\+' needs num_probes >= 6"),
    (dict(method="hutch++", curvature="secant"), "not with secant"),
    (dict(method="taylor-collapsed", collapse_groups=1), "collapse_groups must be an integer >= 2"),
    (dict(method="taylor-collapsed", num_probes=12), r"collapse_groups \(8\) must divide num_probes \(12\)"),
    (dict(method="taylor-collapsed", curvature="secant"), "not with secant"),
    (dict(probes="spectral", exact_directions=-1), "exact_directions must be an integer >= 0"),
]


@pytest.mark.parametrize(("settings", "message"), INVALID, ids=[m[:24] for _, m in INVALID])
def test_invalid_settings_are_named(settings, message):
    with pytest.raises(ValueError, match=message):
        EstimatorOptions(**settings)


def test_options_are_frozen_and_normalized():
    options = EstimatorOptions(num_probes=8.0, chunk_size=64.0)
    assert (options.num_probes, options.chunk_size) == (8, 64)
    assert isinstance(options.num_probes, int)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.probes = "mixup"
    assert EstimatorOptions(probes="exact", num_probes=0).probes_per_sample(rank=4) == 5


def test_auto_choices_resolve_from_the_model():
    model = build_model("mlp", 3, 2, "tanh", hidden=(4,), dtype=F64)
    # the default: collapsed Taylor mode (8 groups of 2 of the 16 probes) and R13 from the probes
    assert EstimatorOptions().resolved(model, num_classes=2).method == "taylor-collapsed"
    assert EstimatorOptions(num_probes=12).resolved(model, num_classes=2).method == "taylor"  # 8 ∤ 12
    assert EstimatorOptions(num_probes=8).resolved(model, num_classes=2).method == "taylor"  # groups of 1
    assert EstimatorOptions(probes="exact").resolved(model, num_classes=2).method == "taylor-collapsed"
    assert EstimatorOptions().resolved(lambda x: model(x), num_classes=2).method == "jvp"
    assert EstimatorOptions().resolved(model, num_classes=16).r1 == "probes"
    assert EstimatorOptions().chunk_size is None
    with pytest.raises(ValueError, match="jet rule"):
        EstimatorOptions(method="taylor").resolved(lambda x: model(x), num_classes=2)


@pytest.mark.parametrize(
    "settings",
    [
        dict(probes="rademacher", num_probes=7, r1="probes", chunk_size=9),
        dict(probes="mixup", num_probes=5, method="jvp"),
        dict(probes="gaussian", num_probes=9, method="hutch++", r1="probes"),
    ],
    ids=["rademacher-taylor", "mixup-jvp", "hutch++"],
)
def test_options_equal_keywords_bitwise(settings):
    X, Y = make_data(10, 3, 2, seed=5, soft=True)
    model = build_model("mlp", 3, 2, "gelu", hidden=(5,), dtype=F64, seed=2)
    law = SymmetricBeta(0.5)
    by_keywords = estimate_regularizers(
        model, X, Y, law, generator=torch.Generator().manual_seed(1), **settings
    )
    by_options = estimate_regularizers(
        model, X, Y, law, generator=torch.Generator().manual_seed(1), options=EstimatorOptions(**settings)
    )
    for key in by_keywords.keys():
        torch.testing.assert_close(by_options[key], by_keywords[key], rtol=0, atol=0, equal_nan=True)
    assert by_options.settings() == by_keywords.settings()


def test_keywords_override_the_options_and_unknown_names_are_refused():
    X, Y = make_data(6, 3, 2, seed=0)
    model = build_model("mlp", 3, 2, "tanh", hidden=(4,), dtype=F64)
    geo = MixupGeometry(X, Y, SymmetricBeta(1.0))
    base = EstimatorOptions(probes="rademacher", num_probes=4, r1="probes")
    overridden = estimate_from_geometry(
        model, geo, base, generator=torch.Generator().manual_seed(2), num_probes=6, method="jvp"
    )
    explicit = estimate_from_geometry(
        model,
        geo,
        EstimatorOptions(probes="rademacher", num_probes=6, r1="probes", method="jvp"),
        generator=torch.Generator().manual_seed(2),
    )
    for key in explicit.keys():
        torch.testing.assert_close(overridden[key], explicit[key], rtol=0, atol=0, equal_nan=True)
    assert overridden.settings() == explicit.settings()
    with pytest.raises(TypeError, match="num_probe: not a field of EstimatorOptions"):
        estimate_from_geometry(model, geo, num_probe=4)
    with pytest.raises(ValueError, match="num_probes must be a positive integer"):
        estimate_from_geometry(model, geo, base, num_probes=0)
    with pytest.raises(TypeError, match=r"indices=\.\.\."):
        estimate_regularizers(model, X, Y, SymmetricBeta(1.0), [0, 1])
