"""Trustworthy on trained, confident networks: R13 without cancellation, any dtype, clear errors.

On a trained network the softmax saturates, so R1 and −R3 (which carry H⁺ = P diag(1/S) P) each
reach 1e10 and beyond while R13 = R1 + R3 stays O(1): adding the two computed numbers loses every
digit. These tests train networks, scale their logits to push saturation further, and hold the
directly computed R13 (and E_Q = erm + R13 + R2 + R4) against a dense float64 brute force of the
uncompleted quadratic form and against 120-digit mpmath.
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
import torch
from conftest import make_data, make_mlp

from mixtheory import (
    MixupGeometry,
    SymmetricBeta,
    estimate_regularizers,
    mixup_loss,
    sampled_second_order_loss,
    second_order_loss,
    taylor_regularizers,
)
from mixtheory.data import load_digits
from mixtheory.exact_loss import LossOptions
from mixtheory.models import build_model, train_model
from mixtheory.reference import dense_regularizers
from mixtheory.regularizers import CancellationWarning, regularizers_from_derivatives

LAW = SymmetricBeta(0.5)
LOGIT_SCALES = (1, 2, 3, 5, 10)


class Scaled(torch.nn.Module):
    """The trained network with its logits multiplied by ``scale`` (more confident, same argmax)."""

    def __init__(self, net: torch.nn.Module, scale: float):
        super().__init__()
        self.net, self.scale = net, scale

    def forward(self, x):
        return self.scale * self.net(x)


@pytest.fixture(scope="module")
def trained_digits():
    """A tanh MLP trained to 100% training accuracy on 150 bundled digits (float64, seeded)."""
    X, y = load_digits(150, seed=3)
    net = build_model("mlp", 64, 10, "tanh", hidden=(24,), dtype=torch.float64, seed=0)
    train_model(net, X, y, epochs=300, lr=0.02, seed=0)
    net.eval()
    with torch.no_grad():
        assert bool((net(X).argmax(-1) == y).all()), "the fixture must be a trained, confident network"
    return X, y, net


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b).abs() / b.abs()).max())


@pytest.mark.parametrize("scale", LOGIT_SCALES)
def test_r13_and_e_q_match_the_dense_uncompleted_form_on_saturated_networks(trained_digits, scale):
    X, y, net = trained_digits
    model = Scaled(net, scale).eval()
    geo = MixupGeometry(X, y, LAW, num_classes=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CancellationWarning)
        regs = taylor_regularizers(model, geo)
    sub = list(range(0, geo.n, 15))
    dense = dense_regularizers(model, geo, indices=sub, inverse_terms=False)
    assert regs["R13"].shape == (geo.n,)
    assert _relative(regs["R13"][sub], dense["R13"]) < 1e-10
    e_q = regs["erm"] + regs["R13"] + regs["R2"] + regs["R4"]
    e_q_dense = dense["erm"] + dense["R13"] + dense["R2"] + dense["R4"]
    assert _relative(e_q[sub], e_q_dense) < 1e-10
    # the network is confident enough that adding R1 and R3 by hand loses digits: the test bites
    assert float(regs["cancellation"].max()) > 1e6
    assert float(second_order_loss(model, geo)) == pytest.approx(float(e_q.mean()), rel=1e-14)


def test_adding_r1_and_r3_by_hand_is_wrong_where_r13_is_right(trained_digits):
    """The bug R13 fixes, measured: at logits ×3 the hand-made sum is off by O(1) or more."""
    X, y, net = trained_digits
    model = Scaled(net, 3.0).eval()
    geo = MixupGeometry(X, y, LAW, num_classes=10)
    with pytest.warns(CancellationWarning, match="R13"):
        regs = taylor_regularizers(model, geo)
    sub = list(range(0, geo.n, 15))
    dense = dense_regularizers(model, geo, indices=sub, inverse_terms=False)
    by_hand = regs["R1"][sub] + regs["R3"][sub]
    assert float((by_hand - dense["R13"]).abs().max()) > 1e-3 * float(dense["R13"].abs().max())
    assert _relative(regs["R13"][sub], dense["R13"]) < 1e-10


def test_one_cancellation_warning_per_call(trained_digits):
    X, y, net = trained_digits
    geo = MixupGeometry(X, y, LAW, num_classes=10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        taylor_regularizers(Scaled(net, 2.0).eval(), geo, chunk_size=16)
    assert sum(issubclass(w.category, CancellationWarning) for w in caught) == 1


def _mp_matrix(t: torch.Tensor) -> mpmath.matrix:
    return mpmath.matrix(t.tolist()) if t.ndim == 2 else mpmath.matrix([[v] for v in t.tolist()])


def test_r1_r3_r13_each_match_120_digit_arithmetic_at_probabilities_near_1e_minus_40():
    """R1, R3 and R13 of one saturated sample from the same float64 inputs, recomputed with mpmath
    at 120 digits: H⁺ as (H + 11ᵀ/c)⁻¹ − 11ᵀ/c (exact in exact arithmetic), Σ^(i) from the raw data
    (Lemma 2), R1 = R13 − R3 where 120 digits leave no cancellation."""
    mpmath.mp.dps = 120
    X, Y = make_data(9, 3, 4, seed=11)
    geo = MixupGeometry(X, Y, LAW)
    i = 4
    g = torch.Generator().manual_seed(5)
    u = torch.tensor([[3.0, -40.25, -92.5, 1.5]], dtype=torch.float64)  # S down to ~1e-42
    jac = torch.randn(1, 4, 3, generator=g, dtype=torch.float64)
    fast = regularizers_from_derivatives(geo, u, jac, indices=[i], r2=torch.zeros(1), warn=False)

    n, c = geo.n, geo.c
    Xm, Ym = _mp_matrix(X), _mp_matrix(Y)
    x_bar = [mpmath.fsum(Xm[k, j] for k in range(n)) / n for j in range(3)]
    y_bar = [mpmath.fsum(Ym[k, j] for k in range(n)) / n for j in range(c)]
    A = mpmath.matrix(n, 3)
    B = mpmath.matrix(n, c)
    for k in range(n):
        for j in range(3):
            A[k, j] = Xm[k, j] - x_bar[j]
        for j in range(c):
            B[k, j] = Ym[k, j] - y_bar[j]
    var, gamma2 = mpmath.mpf(geo.theta_var), mpmath.mpf(geo.gamma2)
    a_i, b_i = A[i, :].T, B[i, :].T
    S_xx = var * a_i * a_i.T + gamma2 * (A.T * A) / n
    S_xy = var * a_i * b_i.T + gamma2 * (A.T * B) / n
    logits = [mpmath.mpf(v) for v in u[0].tolist()]
    z = mpmath.fsum(mpmath.exp(v) for v in logits)
    S = mpmath.matrix([[mpmath.exp(v) / z] for v in logits])
    H = mpmath.diag([S[k] for k in range(c)]) - S * S.T
    ones = mpmath.ones(c, c) / c
    H_pinv = mpmath.inverse(H + ones) - ones
    Jf = _mp_matrix(jac[0])
    curvature = Jf * S_xx * Jf.T * H  # ∇f Σ_xx ∇fᵀ H, c×c: ½ tr of it is ½⟨Σ_xx, ∇fᵀH∇f⟩
    cross = Jf * S_xy  # ∇f Σ_xy; ℓ_uy = −I for cross-entropy
    R13 = sum(curvature[k, k] for k in range(c)) / 2 - sum(cross[k, k] for k in range(c))
    K = S_xy.T * mpmath.inverse(S_xx) * S_xy
    R3 = -sum((H_pinv * K)[k, k] for k in range(c)) / 2
    R1 = R13 - R3
    smallest = min(float(S[k]) for k in range(c))
    assert smallest < 1e-20, "the case must be saturated to be a test of cancellation"
    for key, truth in (("R13", R13), ("R3", R3), ("R1", R1)):
        got = float(fast[key][0])
        assert abs(got - float(truth)) <= 1e-10 * abs(float(truth)), (key, got, float(truth))
    mpmath.mp.dps = 15


def test_readme_example_after_a_thousand_epochs_gives_the_right_e_q():
    """The README's ten-line example, its network trained for 1,000 full-batch Adam epochs first
    (as a new user would): the printed E_Q equals the dense uncompleted brute force."""
    X, y = load_digits(200)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10)).double()
    train_model(model, X, y, epochs=1000, lr=0.01, seed=0)
    geo = MixupGeometry(X, y, LAW)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CancellationWarning)
        regs = taylor_regularizers(model, geo)
    approx = (regs["erm"] + regs["R13"] + regs["R2"] + regs["R4"]).mean()  # as the README writes it
    dense = dense_regularizers(model, geo, inverse_terms=False)
    truth = (dense["erm"] + dense["R13"] + dense["R2"] + dense["R4"]).mean()
    assert abs(float(approx) - float(truth)) <= 1e-10 * abs(float(truth))
    assert float(regs["cancellation"].max()) > 1e6  # confident: the old README sum would be wrong


# --- every model a researcher has ---------------------------------------------------------------
def test_float32_models_work_everywhere_and_agree_with_float64():
    X, Y = make_data(20, 4, 3, seed=2)
    model64 = make_mlp(4, 3, seed=3)
    model32 = make_mlp(4, 3, seed=3).float()
    geo = MixupGeometry(X, Y, LAW)
    r64 = taylor_regularizers(model64, geo)
    r32 = taylor_regularizers(model32, geo)
    for key in ("erm", "R13", "R2", "R3"):
        assert r32[key].dtype == torch.float64  # the geometry's dtype
        torch.testing.assert_close(r32[key], r64[key], rtol=1e-4, atol=1e-6)
    exact32 = mixup_loss(model32, X, Y, LAW, options=LossOptions(num_nodes=8))
    exact64 = mixup_loss(model64, X, Y, LAW, options=LossOptions(num_nodes=8))
    assert exact32.value == pytest.approx(exact64.value, rel=1e-5)
    sampled = mixup_loss(model32, X, Y, LAW, evaluation="sampled", num_draws=4, generator=torch.Generator())
    assert np.isfinite(sampled.value)
    est = estimate_regularizers(model32, X, Y, LAW, probes="exact")
    torch.testing.assert_close(est["R13"], r64["R13"], rtol=1e-4, atol=1e-6)
    lq = sampled_second_order_loss(model32, geo, num_draws=3, generator=torch.Generator().manual_seed(0))
    assert np.isfinite(lq.value)


def test_half_precision_models_are_refused_with_the_fix():
    X, Y = make_data(10, 3, 2, seed=4)
    model = make_mlp(3, 2, seed=5).half()
    geo = MixupGeometry(X, Y, LAW)
    for call in (
        lambda: taylor_regularizers(model, geo),
        lambda: mixup_loss(model, X, Y, LAW),
        lambda: estimate_regularizers(model, X, Y, LAW),
    ):
        with pytest.raises(TypeError, match=r"float16 parameters.*model.float\(\)"):
            call()


def test_relu_networks_warn_in_taylor_regularizers_too():
    from mixtheory import PiecewiseLinearWarning

    X, Y = make_data(12, 3, 2, seed=6)
    model = make_mlp(3, 2, seed=7, activation=torch.nn.ReLU)
    with pytest.warns(PiecewiseLinearWarning, match="ReLU"):
        regs = taylor_regularizers(model, MixupGeometry(X, Y, LAW))
    assert bool((regs["R2"] == 0).all())


@pytest.mark.parametrize(
    "bad_model, error, message",
    [
        (lambda x: (x[:, :2], x), TypeError, "returned a tuple"),
        (lambda x: x[:, :2].numpy(), TypeError, "returned a ndarray"),
        (lambda x: x[:, :2] * float("nan"), ValueError, "NaN or infinite outputs.*not softmax saturation"),
        (lambda x: x[:, :1], ValueError, r"model has 1 outputs"),
    ],
    ids=["tuple", "numpy", "nan", "shape"],
)
def test_bad_model_outputs_get_a_clear_error_everywhere(bad_model, error, message):
    X, Y = make_data(10, 3, 2, seed=8)
    geo = MixupGeometry(X, Y, LAW)
    calls = {
        "taylor_regularizers": lambda: taylor_regularizers(bad_model, geo),
        "exact": lambda: mixup_loss(bad_model, X, Y, LAW, options=LossOptions(num_nodes=4)),
        "sampled": lambda: mixup_loss(bad_model, X, Y, LAW, evaluation="sampled", num_draws=2),
        "estimate": lambda: estimate_regularizers(bad_model, X, Y, LAW, method="jvp"),
        "sampled_l_q": lambda: sampled_second_order_loss(bad_model, geo, num_draws=2),
    }
    for call in calls.values():
        with pytest.raises(error, match=message):
            call()


def test_dropout_inside_a_wrapped_callable_gets_the_train_mode_message():
    X, Y = make_data(10, 3, 2, seed=9)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Dropout(0.5), torch.nn.Linear(8, 2)
    ).double()
    net.train()

    def wrapped(x):
        return net(x)

    geo = MixupGeometry(X, Y, LAW)
    with pytest.raises(ValueError, match=r"random draws.*\.eval\(\)"):
        taylor_regularizers(wrapped, geo)
    with pytest.raises(ValueError, match=r"random draws.*\.eval\(\)"):
        estimate_regularizers(wrapped, X, Y, LAW, method="jvp")


# --- inputs -------------------------------------------------------------------------------------
def test_boolean_masks_select_samples_like_indices():
    X, Y = make_data(12, 3, 2, seed=10)
    model = make_mlp(3, 2, seed=11)
    geo = MixupGeometry(X, Y, LAW)
    mask = torch.zeros(12, dtype=torch.bool)
    mask[[1, 4, 7]] = True
    by_mask = taylor_regularizers(model, geo, indices=mask)
    by_index = taylor_regularizers(model, geo, indices=[1, 4, 7])
    for key in ("R13", "R2", "R3"):
        torch.testing.assert_close(by_mask[key], by_index[key], rtol=0, atol=0)
    est = estimate_regularizers(model, X, Y, LAW, indices=mask.numpy(), probes="exact")
    assert est["indices"].tolist() == [1, 4, 7]
    with pytest.raises(ValueError, match="boolean mask of length 5; a mask needs length n=12"):
        geo.trace_xx(mask[:5])


def test_empty_indices_give_the_same_message_everywhere():
    X, Y = make_data(12, 3, 2, seed=12)
    model = make_mlp(3, 2, seed=13)
    geo = MixupGeometry(X, Y, LAW)
    for call in (
        lambda: taylor_regularizers(model, geo, indices=[]),
        lambda: estimate_regularizers(model, X, Y, LAW, indices=[]),
        lambda: geo.trace_xx([]),
        lambda: geo.projected_label_covariance(torch.zeros(12, dtype=torch.bool)),
    ):
        with pytest.raises(ValueError, match="indices is empty: ask for at least one sample"):
            call()


@pytest.mark.parametrize("device", ["gpu", "cuda:7", "tpu"])
def test_devices_are_validated_with_one_clear_message(device):
    X, Y = make_data(8, 3, 2, seed=14)
    with pytest.raises(ValueError, match=rf"device={device!r}"):
        MixupGeometry(X, Y, LAW, device=device)
    with pytest.raises(ValueError, match=rf"device={device!r}"):
        estimate_regularizers(make_mlp(3, 2, seed=1), X, Y, LAW, device=device)


def test_cuda_works_or_is_refused_clearly():
    X, Y = make_data(8, 3, 2, seed=15)
    if torch.cuda.is_available():
        geo = MixupGeometry(X, Y, LAW, device="cuda")
        assert geo.x_tilde.is_cuda
    else:
        with pytest.raises(ValueError, match="CUDA is not available on this machine"):
            MixupGeometry(X, Y, LAW, device="cuda")


def test_label_and_input_dtypes():
    X, Y = make_data(8, 3, 2, seed=16)
    labels = Y.argmax(-1)
    with pytest.raises(TypeError, match="1-D torch.float64 tensor: that is ambiguous"):
        MixupGeometry(X, labels.double(), LAW)
    with pytest.raises(TypeError, match="complex"):
        MixupGeometry(X.to(torch.complex128), labels, LAW)
    half = MixupGeometry(X.half(), labels, LAW)  # float16 data are widened losslessly to float64
    torch.testing.assert_close(half.X, X.half().double())
    with pytest.raises(ValueError, match=r"X has no samples"):
        mixup_loss(make_mlp(3, 2, seed=1), X[:0], labels[:0], LAW)


@pytest.mark.filterwarnings("ignore::mixtheory.PiecewiseLinearWarning")  # tanh(1e6) is flat
@pytest.mark.parametrize("value", [0.1, 1 / 3, 1e6 + 0.1])
def test_degenerate_data_have_rank_zero_and_no_spurious_regularizers(value):
    """All rows equal (non-dyadic values, so the mean rounds): Σ_xx = 0, hence R1 = R3 = 0."""
    X = torch.full((10, 4), value, dtype=torch.float64)
    Y = torch.arange(10) % 2
    geo = MixupGeometry(X, Y, LAW)
    assert geo.rank == 0
    regs = taylor_regularizers(make_mlp(4, 2, seed=17), geo)
    assert float(regs["R3"].abs().max()) == 0.0
    assert float(regs["R1"].abs().max()) < 1e-20
