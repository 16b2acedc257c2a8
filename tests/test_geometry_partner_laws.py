"""One geometry for every partner law (issue 16, item 1; docs/theory.md §8.1): one class with no
``__new__``, the same attributes under every law, uniform pairing given explicitly equal to the
default geometry, and no consumer that asks which law a geometry has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from conftest import make_data, make_mlp

import mixtheory
from mixtheory import MixupGeometry, SymmetricBeta
from mixtheory.geometry import StreamedMixupGeometry
from mixtheory.mixing import ClassConditional, DensePairing, KNearest, UniformPartner
from mixtheory.regularizers import model_derivatives

PACKAGE = Path(mixtheory.__file__).resolve().parent
N, D, C = 12, 4, 3


def _rel(a, b):
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-300))


def _geometries(X, Y, law):
    other = (1 - torch.eye(C, dtype=torch.float64)) / (C - 1)  # partners from the other classes
    classes = ClassConditional(other, Y.argmax(1), on_empty_class="renormalise", on_zero_row="uniform")
    return {
        "default": MixupGeometry(X, Y, law),
        "uniform-explicit": MixupGeometry(X, Y, law, pairing=UniformPartner(N)),
        "uniform-no-self": MixupGeometry(X, Y, law, pairing=UniformPartner(N, include_self=False)),
        "k-nn": MixupGeometry(X, Y, law, pairing=KNearest(X, 3)),
        "class-conditional": MixupGeometry(X, Y, law, pairing=classes),
    }


def test_one_class_without_new():
    """No ``__new__`` anywhere in the geometry's class tree but object's; every law builds exactly
    MixupGeometry; the one subclass (the streamed constructor) overrides no public attribute but
    ``contracted`` (which needs the data in memory and says so)."""
    assert MixupGeometry.__new__ is object.__new__
    assert "__new__" not in vars(MixupGeometry) and "__getattr__" not in vars(MixupGeometry)
    X, Y = make_data(N, D, C, seed=1)
    geos = _geometries(X, Y, SymmetricBeta(0.7))
    assert all(type(g) is MixupGeometry for g in geos.values())
    public = {name for name in vars(StreamedMixupGeometry) if not name.startswith("_")}
    assert public == {"contracted"}, public
    assert "__new__" not in vars(StreamedMixupGeometry) and "__getattr__" not in vars(StreamedMixupGeometry)


def test_every_law_has_the_same_interface():
    """The same public names on every geometry, and the same shapes from every operator."""
    X, Y = make_data(N, D, C, seed=2)
    geos = _geometries(X, Y, SymmetricBeta(0.7))
    names = {name for name in dir(MixupGeometry) if not name.startswith("_")}
    shared_factor = {"basis", "eigvals", "coords", "cross"}  # refused by name off uniform pairing
    V = torch.randn(N, 2, D, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for key, geo in geos.items():
        for name in sorted(names - shared_factor):
            getattr(geo, name)  # no AttributeError
        assert geo.anchor_weights.shape == (N,) and abs(float(geo.anchor_weights.sum()) - 1) <= 1e-12
        assert geo.partner_mean_x.shape == (N, D) and geo.partner_mean_y.shape == (N, C)
        assert torch.allclose(geo.x_tilde, geo.partner_mean_x + geo.theta_mean * geo.centered_x, atol=1e-14)
        assert geo.solve_xx(V).shape == V.shape and geo.quad_xx(V).shape == (N, 2), key
        assert geo.factor_apply(torch.zeros(N, 1, geo.factor_dim, dtype=torch.float64)).shape == (N, 1, D)
        assert geo.pinv_sigma_xy().shape == (N, D, C) and geo.cross_factor().shape == (N, C, geo.factor_dim)


def test_explicit_uniform_partner_law_equals_the_default_geometry():
    """``pairing=UniformPartner(n)`` is the default geometry bit for bit; the uniform law given as a
    dense 1/n matrix goes through the per-anchor factors and agrees to machine precision in float64
    (every operator, the anchor weights, the partner means and the Jacobian contraction of R13)."""
    X, Y = make_data(N, D, C, seed=3)
    law = SymmetricBeta(0.6)
    default = MixupGeometry(X, Y, law)
    explicit = MixupGeometry(X, Y, law, pairing=UniformPartner(N))
    dense = MixupGeometry(X, Y, law, pairing=DensePairing(torch.full((N, N), 1 / N, dtype=torch.float64)))
    g = torch.Generator().manual_seed(4)
    V = torch.randn(N, 3, D, dtype=torch.float64, generator=g)
    T = torch.randn(N, D, D, dtype=torch.float64, generator=g)
    J = torch.randn(N, C, D, dtype=torch.float64, generator=g)
    A, B = (
        torch.randn(N, C, C, dtype=torch.float64, generator=g),
        torch.randn(N, C, C, dtype=torch.float64, generator=g),
    )
    ops = {
        "x_tilde": lambda h: h.x_tilde,
        "y_tilde": lambda h: h.y_tilde,
        "centered_x": lambda h: h.centered_x,
        "partner_mean_x": lambda h: h.partner_mean_x,
        "anchor_weights": lambda h: h.anchor_weights,
        "trace_xx": lambda h: h.trace_xx(),
        "matvec_xx": lambda h: h.matvec_xx(V),
        "quad_xx": lambda h: h.quad_xx(V),
        "solve_xx of a range vector": lambda h: h.solve_xx(h.matvec_xx(V)),
        "frobenius_xx": lambda h: h.frobenius_xx(T),
        "frobenius_yy": lambda h: h.frobenius_yy(A),
        "projected_label_covariance": lambda h: h.projected_label_covariance(),
        "pinv_sigma_xy": lambda h: h.pinv_sigma_xy(),
        "jacobian_contraction": lambda h: h.jacobian_contraction(J, A, B),
        "sigma_xx(5)": lambda h: h.sigma_xx(5),
        "sigma_xy(5)": lambda h: h.sigma_xy(5),
        "sigma_yy(5)": lambda h: h.sigma_yy(5),
        "partner_matrix": lambda h: h.partner_matrix(),
        "cov_xx": lambda h: h.cov_xx,
        "cov_yy": lambda h: h.cov_yy,
    }
    for name, op in ops.items():
        assert torch.equal(op(explicit), op(default)), name
        assert _rel(op(dense), op(default)) <= 1e-12, name
    assert explicit.rank == default.rank and explicit.mean_weights is None
    # the solve inverts Σ on its range under both representations
    back = dense.matvec_xx(dense.solve_xx(dense.matvec_xx(V)))
    assert _rel(back, default.matvec_xx(V)) <= 1e-12


@pytest.mark.parametrize("name", ["default", "uniform-no-self", "k-nn", "class-conditional"])
def test_jacobian_contraction_is_the_dense_formula(name):
    """``½⟨Σ^(i)_xx, Jᵀ A J⟩ + ⟨Σ^(i)_xy, Jᵀ B⟩`` against the dense Σ^(i) blocks, and R13 of the
    closed form equals it at the network's derivatives (both representations)."""
    X, Y = make_data(N, D, C, seed=5)
    geo = _geometries(X, Y, SymmetricBeta(0.8))[name]
    g = torch.Generator().manual_seed(6)
    J = torch.randn(N, C, D, dtype=torch.float64, generator=g)
    A, B = (
        torch.randn(N, C, C, dtype=torch.float64, generator=g),
        torch.randn(N, C, C, dtype=torch.float64, generator=g),
    )
    dense = torch.stack(
        [
            0.5 * torch.trace(geo.sigma_xx(i) @ J[i].T @ A[i] @ J[i])
            + (B[i] * (J[i] @ geo.sigma_xy(i))).sum()
            for i in range(N)
        ]
    )
    assert _rel(geo.jacobian_contraction(J, A, B), dense) <= 1e-12
    with pytest.raises(ValueError, match=r"jacobians must have shape \(12, 3, 4\)"):
        geo.jacobian_contraction(J[:, :, :2], A, B)
    from mixtheory.losses import get_loss
    from mixtheory.regularizers import regularizers_from_derivatives

    model = make_mlp(D, C, seed=7, hidden=5)
    u, jac, T = model_derivatives(model, geo, "ce")
    loss = get_loss("ce")
    ref = geo.jacobian_contraction(jac, loss.hess_uu(geo.y_tilde, u), loss.hess_uy(geo.y_tilde, u))
    regs = regularizers_from_derivatives(geo, u, jac, "ce", hessian_contraction=T, warn=False)
    assert torch.equal(regs["R13"], ref)


def test_no_consumer_asks_which_partner_law():
    """Nothing in the package branches on the partner law of a geometry: no paired subclass, no
    ``geometry.pairing`` query, no flag of the shared covariance, no private geometry helper."""
    pattern = re.compile(
        r"PairedMixupGeometry|getattr\(\w+, \"pairing\"|\b(?:geometry|geo)\.pairing\b|shared_covariance"
        r"|(?<![.\w])(?:geometry|geo)\._\w+"
    )
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "geometry":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
