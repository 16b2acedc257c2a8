"""StreamedMixupGeometry (Σ_xx from streamed Gram blocks) equals the in-memory MixupGeometry (thin
SVD) to 1e-10 on every operator and on exact-probe regularizer estimates; the monitor streams it."""

from __future__ import annotations

import pytest
import torch
from conftest import make_mlp
from torch.utils.data import TensorDataset

from mixtheory import SymmetricBeta, estimate_from_geometry
from mixtheory.datasets import DatasetRows
from mixtheory.geometry import MixupGeometry, StreamedMixupGeometry, make_geometry
from mixtheory.laws import Beta
from mixtheory.training import EL2NRecorder, Monitor, RegularizerRecorder

TOL = 1e-10


def _pair(X, y, law, block=7):
    rows = DatasetRows(TensorDataset(X, y), chunk_size=block)
    return MixupGeometry(X, y, law), StreamedMixupGeometry(rows, y, law)


def _close(a, b, what, tol=TOL):
    err = float((a - b).abs().max())
    assert err <= tol * max(1.0, float(a.abs().max())), f"{what}: {err:.3g}"


@pytest.mark.parametrize("constant", [0, 2])
@pytest.mark.parametrize("law", [SymmetricBeta(0.7), Beta(2.0, 0.5)], ids=["beta0.7", "beta2-0.5"])
def test_streamed_operators_equal_in_memory(constant, law):
    g = torch.Generator().manual_seed(1)
    X = torch.randn(41, 2, 4, generator=g, dtype=torch.float64) * 3 + 7  # offset: the shift matters
    X[:, 0, :constant] = 0.25  # constant features: a singular Σ_xx
    y = torch.randint(3, (41,), generator=g)
    a, b = _pair(X, y, law)
    assert a.rank == b.rank == 8 - constant
    _close(a.eigvals, b.eigvals, "eigvals")
    _close(a.basis @ a.basis.T, b.basis @ b.basis.T, "range projector")
    _close(a.x_mean, b.x_mean, "x_mean")
    _close(a.cov_xx, b.cov_xx, "cov_xx")
    _close(a.cov_xy, b.cov_xy, "cov_xy")
    idx = torch.tensor([0, 5, 17, 40])
    _close(a.x_tilde[idx], b.x_tilde[idx], "x_tilde")
    _close(a.centered_x[idx], b.centered_x[idx], "centered_x")
    V = torch.randn(4, 3, 8, generator=g, dtype=torch.float64)
    for op in ("matvec_xx", "solve_xx", "quad_xx"):
        _close(getattr(a, op)(V, idx), getattr(b, op)(V, idx), op)
    _close(a.trace_xx(idx), b.trace_xx(idx), "trace_xx")
    _close(a.projected_label_covariance(), b.projected_label_covariance(), "K_i")
    _close(a.pinv_sigma_xy(idx), b.pinv_sigma_xy(idx), "pinv Σ_xy")
    for i in (0, 17):
        La = a.factor_apply(torch.eye(1 + a.rank, dtype=torch.float64)[None], [i])[0]
        Lb = b.factor_apply(torch.eye(1 + b.rank, dtype=torch.float64)[None], [i])[0]
        _close(La.T @ La, Lb.T @ Lb, "L Lᵀ")  # the factor up to signs of the basis
        _close(b.sigma_xx(i), La.T @ La, "sigma_xx")
    da, ea = a.sample_perturbations(5, idx, torch.Generator().manual_seed(3))
    db, eb = b.sample_perturbations(5, idx, torch.Generator().manual_seed(3))
    _close(da, db, "δ draws")
    _close(ea, eb, "ε draws")


def test_streamed_estimates_equal_in_memory_with_exact_probes():
    g = torch.Generator().manual_seed(2)
    X = torch.randn(30, 5, generator=g, dtype=torch.float64)
    y = torch.randint(3, (30,), generator=g)
    a, b = _pair(X, y, SymmetricBeta(1.0), block=8)
    model = make_mlp(5, 3, seed=4)
    ea = estimate_from_geometry(model, a, indices=[1, 4, 29], probes="exact")
    eb = estimate_from_geometry(model, b, indices=[1, 4, 29], probes="exact")
    for key in ("erm", "R1", "R2", "R3", "R4", "R13"):
        _close(ea[key], eb[key], key)


def test_make_geometry_dispatches_and_checks_the_stream():
    X = torch.randn(10, 3, dtype=torch.float64)
    y = torch.arange(10) % 2
    assert type(make_geometry(X, y, SymmetricBeta(1.0))) is MixupGeometry
    rows = DatasetRows(TensorDataset(X, y))
    assert type(make_geometry(rows, y, SymmetricBeta(1.0))) is StreamedMixupGeometry
    with pytest.raises(ValueError, match="Y has 9 labels"):
        StreamedMixupGeometry(rows, y[:9], SymmetricBeta(1.0))
    with pytest.raises(NotImplementedError, match="in memory"):
        StreamedMixupGeometry(rows, y, SymmetricBeta(1.0)).contracted(0.5)
    # uniform pairing given explicitly streams as the default; another partner law is refused by name
    from mixtheory.mixing import KNearest, UniformPartner

    explicit = make_geometry(rows, y, SymmetricBeta(1.0), pairing=UniformPartner(10))
    assert torch.equal(explicit.eigvals, make_geometry(rows, y, SymmetricBeta(1.0)).eigvals)
    with pytest.raises(ValueError, match=r"uniform pairing only.*MixupGeometry\(X, Y, law, pairing="):
        make_geometry(rows, y, SymmetricBeta(1.0), pairing=KNearest(X, 2))


def test_monitor_on_a_dataset_streams_the_regularizers():
    """A Dataset-backed monitor (streamed geometry) gives the tensor monitor's regularizers (exact probes)."""
    g = torch.Generator().manual_seed(5)
    X = torch.randn(40, 6, generator=g, dtype=torch.float64)
    y = torch.randint(3, (40,), generator=g)
    model = make_mlp(6, 3, seed=6)
    from mixtheory.estimators import EstimatorOptions

    def recorders():
        return [RegularizerRecorder(9, options=EstimatorOptions(probes="exact")), EL2NRecorder(9)]

    streamed = Monitor(model, TensorDataset(X, y), recorders())
    memory = Monitor(model, (X, y), recorders())
    streamed.epoch_end(0)
    memory.epoch_end(0)
    assert isinstance(streamed.recorders[0]._geometry[1], StreamedMixupGeometry)
    assert streamed.rows("el2n") == memory.rows("el2n")
    for ra, rb in zip(streamed.rows("regularizers"), memory.rows("regularizers"), strict=True):
        assert ra["sample"] == rb["sample"]
        for key in ("erm", "R2", "R13", "R4"):
            assert abs(ra[key] - rb[key]) <= TOL * max(1.0, abs(rb[key])), key


def test_per_sample_recorders_stream_in_the_loaders_batches():
    """A DataLoader of batch 4: EL2N and GraNd computed 4 rows at a time equal the tensor monitor's."""
    from torch.utils.data import DataLoader

    from mixtheory.training import GraNdRecorder

    g = torch.Generator().manual_seed(7)
    X = torch.randn(30, 5, generator=g, dtype=torch.float64)
    y = torch.randint(3, (30,), generator=g)
    model = make_mlp(5, 3, seed=8)
    fetched = []

    class Counting(TensorDataset):
        def __getitem__(self, i):
            fetched.append(i)
            return super().__getitem__(i)

    streamed = Monitor(model, DataLoader(Counting(X, y), batch_size=4), [EL2NRecorder(11), GraNdRecorder(11)])
    memory = Monitor(model, (X, y), [EL2NRecorder(11), GraNdRecorder(11)])
    fetched.clear()
    streamed.epoch_end(0)
    memory.epoch_end(0)
    assert len(fetched) == 22  # each recorded sample read once per recorder, in chunks
    # the same samples; values to rounding (a matmul's rows can round differently in another batch)
    for name, tol in (("el2n", 1e-15), ("grand", 1e-13)):
        for a, b in zip(streamed.rows(name), memory.rows(name), strict=True):
            assert a["sample"] == b["sample"] and abs(a[name] - b[name]) <= tol * b[name], name
