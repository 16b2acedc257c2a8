"""Partner laws: frequencies against π, structured moments against the dense matrix, edge cases."""

from __future__ import annotations

import pytest
import torch
from _stats import assert_within_standard_errors

from mixtheory.mixing import (
    ClassConditional,
    DensePairing,
    FixedPairing,
    HardPool,
    KNearest,
    UniformPartner,
)

N, D = 7, 3


def _laws():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(N, D, generator=g, dtype=torch.float64)
    P = torch.rand(N, N, generator=g, dtype=torch.float64) ** 2
    A = torch.tensor([[0.0, 0.7, 0.3], [0.5, 0.5, 0.0], [0.1, 0.1, 0.8]], dtype=torch.float64)
    labels = torch.tensor([0, 1, 1, 2, 2, 2, 0])
    return X, {
        "uniform": UniformPartner(N),
        "uniform-distinct": UniformPartner(N, include_self=False),
        "fixed": FixedPairing(torch.tensor([6, 5, 4, 3, 2, 1, 0])),
        "dense": DensePairing(P / P.sum(1, keepdim=True)),
        "class": ClassConditional(A, labels),
        "hardpool": HardPool(torch.tensor([3.0, 1, 4, 1, 5, 9, 2]), 0.45),
        "hardpool-distinct": HardPool(torch.tensor([3.0, 1, 4, 1, 5, 9, 2]), 0.45, include_self=False),
        "knearest": KNearest(X, 3),
        "knearest-self": KNearest(X, 2, include_self=True),
    }


X, LAWS = _laws()


def _brute_dense(name):
    """π(j|i) written from each law's definition, independently of its implementation."""
    law = LAWS[name]
    if name == "class":
        counts = torch.bincount(law.labels, minlength=3).to(torch.float64)
        return law.matrix[law.labels][:, law.labels] / counts[law.labels][None]
    if name.startswith("hardpool"):
        pool = torch.tensor([2, 4, 5, 0][: law.pool.numel()])  # the ⌈0.45·7⌉ = 4 highest scores
        P = torch.zeros(N, N, dtype=torch.float64)
        P[:, pool] = 1.0
        if name == "hardpool-distinct":
            P[pool, pool] = 0.0
        return P / P.sum(1, keepdim=True)
    if name.startswith("knearest"):
        dist = torch.cdist(X, X)
        if name == "knearest":
            dist.fill_diagonal_(float("inf"))
        P = torch.zeros(N, N, dtype=torch.float64)
        for i in range(N):
            P[i, torch.argsort(dist[i], stable=True)[: law.k]] = 1.0 / law.k
        return P
    return law.dense()


@pytest.mark.parametrize("name", list(LAWS))
def test_dense_is_row_stochastic_and_matches_definition(name):
    P = LAWS[name].dense()
    assert P.shape == (N, N)
    torch.testing.assert_close(P.sum(1), torch.ones(N, dtype=torch.float64), rtol=0, atol=1e-14)
    torch.testing.assert_close(P, _brute_dense(name), rtol=0, atol=1e-14)


@pytest.mark.parametrize("name", list(LAWS))
def test_structured_moments_match_dense(name):
    law = LAWS[name]
    P = law.dense()
    anchors = torch.tensor([0, 3, 3, 6])
    outer = X[:, :, None] * X[:, None, :]
    mean = P[anchors] @ X
    second = torch.einsum("mj,jde->mde", P[anchors], outer)
    torch.testing.assert_close(law.partner_mean(X, anchors), mean, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(law.partner_second_moment(X, anchors), second, rtol=1e-12, atol=1e-13)
    cov = second - mean[:, :, None] * mean[:, None, :]
    torch.testing.assert_close(law.partner_covariance(X, anchors), cov, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(law.apply_transpose(X), P.T @ X, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(law.column_sums(), P.sum(0), rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(law.self_probability(), torch.diagonal(P), rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", list(LAWS))
def test_partner_frequencies_match_pi(name):
    """Each cell's frequency within Bonferroni standard errors of π(j|i); impossible cells never drawn."""
    law = LAWS[name]
    draws = 4000
    g = torch.Generator().manual_seed(1)
    anchors = torch.arange(N).repeat(draws)
    partners = law.sample(anchors, g)
    assert partners.shape == anchors.shape
    counts = torch.zeros(N, N, dtype=torch.float64)
    counts.index_put_((anchors, partners), torch.ones(anchors.numel(), dtype=torch.float64), accumulate=True)
    P = law.dense()
    freq = counts / draws
    se = (P * (1 - P) / draws).sqrt()
    assert_within_standard_errors(freq, se, P, what=f"{name} partner frequencies")


def test_class_conditional_zero_rows_and_empty_classes():
    labels = torch.tensor([0, 0, 1, 1])
    A = torch.tensor([[0.0, 0.0, 0.0], [0.5, 0.0, 0.5], [1.0, 0.0, 0.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match="no samples"):
        ClassConditional(A, labels)
    with pytest.raises(ValueError, match="zero for classes"):
        ClassConditional(A, labels, on_empty_class="renormalise")
    law = ClassConditional(A, labels, on_empty_class="renormalise", on_zero_row="uniform")
    P = law.dense()
    torch.testing.assert_close(P[0], torch.full((4,), 0.25, dtype=torch.float64))  # zero row → uniform
    torch.testing.assert_close(P[2], torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="row-stochastic"):
        ClassConditional(torch.full((2, 2), 0.3, dtype=torch.float64), torch.tensor([0, 1]))


def test_from_counts_normalises_a_forgetting_matrix():
    counts = torch.tensor([[0.0, 3.0], [1.0, 1.0]], dtype=torch.float64)
    law = ClassConditional.from_counts(counts, torch.tensor([0, 1, 1]))
    torch.testing.assert_close(law.matrix, torch.tensor([[0.0, 1.0], [0.5, 0.5]], dtype=torch.float64))


def test_refusals():
    with pytest.raises(ValueError, match="pool of at least 2"):
        HardPool(torch.tensor([1.0, 2.0, 3.0]), 0.3, include_self=False)
    with pytest.raises(ValueError, match="k must be"):
        KNearest(X, N)
    with pytest.raises(ValueError, match="row-stochastic"):
        DensePairing(torch.eye(3, dtype=torch.float64) * 0.5)
