"""The one exact-loss engine (mixtheory.exact_loss.exact_sum) and its specialisations.

Each specialisation is held to a plain double loop over atoms and pairs that calls the model on one
mixed point at a time (float64, 1e-13 relative), to its own value at other chunk sizes, and to the
engine's refusals: non-finite outputs or losses, and dtypes or devices that cannot be used.
"""

from __future__ import annotations

import math

import pytest
import torch
from conftest import make_data, make_mlp

from mixtheory import SymmetricBeta
from mixtheory.exact_loss import LossOptions, MixedBlock, chunk_units, exact_mixup_loss, exact_sum
from mixtheory.losses import get_loss
from mixtheory.mixing import CutMix, KNearest, exact_loss_for_rule, mask_atoms, partner_indices
from mixtheory.msda import exact_masked_loss
from mixtheory.pairing import exact_mixup_loss_with_pairing
from mixtheory.zhang2021 import zhang_exact_loss, zhang_lambda_tilde

LAW = SymmetricBeta(0.6)
NODES = 6
REL = 1e-13


def _point_loss(model, x, y) -> float:
    """ℓ(y, f(x)) of one mixed point, cross-entropy, in float64."""
    with torch.no_grad():
        u = model(x[None])[0]
    return float(torch.logsumexp(u, -1) - (y * u).sum())


def _rule(rule):
    return [(float(t), float(w)) for t, w in zip(rule.nodes, rule.weights)]


def _brute_uniform(model, X, Y, rule, *, mix_labels=True) -> float:
    n = X.shape[0]
    total = 0.0
    for t, w in _rule(rule):
        for i in range(n):
            for j in range(n):
                y = t * Y[i] + (1 - t) * Y[j] if mix_labels else Y[i]
                total += w * _point_loss(model, t * X[i] + (1 - t) * X[j], y)
    return total / n**2


def _brute_pairs(model, X, Y, rule, P) -> float:
    """Σ_t w_t Σ_ij P[i, j] ℓ(mixed at t)."""
    n = X.shape[0]
    total = 0.0
    for t, w in _rule(rule):
        for i in range(n):
            for j in range(n):
                if P[i, j] > 0:
                    mixed_y = t * Y[i] + (1 - t) * Y[j]
                    total += w * float(P[i, j]) * _point_loss(model, t * X[i] + (1 - t) * X[j], mixed_y)
    return total


@pytest.fixture(scope="module")
def tiny():
    X, Y = make_data(5, 3, 3, seed=3)
    return X, Y, make_mlp(3, 3, seed=4, scale=1.5)


def _close(value: float, reference: float) -> None:
    assert abs(value - reference) <= REL * abs(reference), (value, reference)


@pytest.mark.parametrize("form", ["folded", "unfolded"])
@pytest.mark.parametrize("split", [True, False])
def test_uniform_exact_loss_is_the_double_loop(tiny, form, split):
    X, Y, net = tiny
    model = net if split else (lambda x: net(x))  # an nn.Sequential mixes after its first layer
    rule = LAW.theta_rule(NODES) if form == "folded" else LAW.lambda_rule(NODES)
    value = exact_mixup_loss(model, X, Y, LAW, form=form, options=LossOptions(num_nodes=NODES))
    _close(value, _brute_uniform(net, X, Y, rule))


def test_zhang_exact_loss_is_the_double_loop_with_the_anchors_label(tiny):
    X, Y, net = tiny
    rule = zhang_lambda_tilde(LAW).lambda_rule(NODES)
    _close(
        zhang_exact_loss(net, X, Y, LAW, options=LossOptions(num_nodes=NODES)),
        _brute_uniform(net, X, Y, rule, mix_labels=False),
    )


@pytest.mark.parametrize("form", ["folded", "unfolded"])
def test_paired_exact_loss_is_the_double_loop(tiny, form):
    X, Y, net = tiny
    n = X.shape[0]
    knn = KNearest(X, 2)
    Pi = knn.dense().to(torch.float64)
    if form == "folded":
        reference = _brute_pairs(net, X, Y, LAW.theta_rule(NODES), (Pi + Pi.T) / (2 * n))
    else:
        reference = _brute_pairs(net, X, Y, LAW.lambda_rule(NODES), Pi / n)
    value = exact_mixup_loss_with_pairing(
        net, X, Y, LAW, pairing=knn, form=form, options=LossOptions(num_nodes=NODES)
    )
    _close(value, reference)


@pytest.mark.parametrize("partner", ["flip", "roll", "uniform"])
def test_partner_rule_loss_is_the_double_loop(tiny, partner):
    X, Y, net = tiny
    n = X.shape[0]
    rule = LAW.lambda_rule(NODES)
    if partner == "uniform":
        P = torch.full((n, n), 1.0 / n**2, dtype=torch.float64)
    else:
        P = torch.zeros(n, n, dtype=torch.float64)
        P[torch.arange(n), partner_indices(partner, n)] = 1.0 / n
    value = exact_loss_for_rule(
        net, X, Y, LAW, partner=partner, options=LossOptions(route="pairs", num_nodes=NODES)
    )
    _close(value, _brute_pairs(net, X, Y, rule, P))
    # batches of b drawn without replacement: s_b E_ERM + (1 − s_b) E_≠, with E_≠ over j ≠ i
    b = 3
    s = {"flip": (b % 2) / b, "roll": 0.0, "uniform": 1.0 / b}[partner]
    off = torch.ones(n, n, dtype=torch.float64).fill_diagonal_(0) / (n * (n - 1))
    erm = sum(_point_loss(net, X[i], Y[i]) for i in range(n)) / n
    reference = s * erm + (1 - s) * _brute_pairs(net, X, Y, rule, off)
    value = exact_loss_for_rule(
        net, X, Y, LAW, partner=partner, batch_size=b, options=LossOptions(route="pairs", num_nodes=NODES)
    )
    _close(value, reference)


def test_masked_loss_is_the_double_loop_over_mask_atoms():
    g = torch.Generator().manual_seed(5)
    X = torch.randn(4, 1, 3, 3, generator=g, dtype=torch.float64)
    Y = torch.nn.functional.one_hot(torch.arange(4) % 3, 3).to(torch.float64)
    torch.manual_seed(6)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(9, 3), torch.nn.Tanh()).double().eval()
    kind = CutMix("timm")
    weights, masks, labels = mask_atoms(kind, 3, 3, LAW, 4)
    n = X.shape[0]
    reference = 0.0
    for w, m, lab in zip(weights.tolist(), masks, labels.tolist()):
        for i in range(n):
            for j in range(n):
                mixed = m * X[i] + (1 - m) * X[j]
                reference += w * _point_loss(net, mixed, lab * Y[i] + (1 - lab) * Y[j]) / n**2
    _close(exact_masked_loss(net, X, Y, LAW, mask=kind, options=LossOptions(num_nodes=4)), reference)


def _specialisations(X, Y, net):
    """Each exact loss as a function of chunk_size."""
    knn = KNearest(X, 3)
    return {
        "uniform": lambda c: exact_mixup_loss(
            net, X, Y, LAW, options=LossOptions(num_nodes=NODES, chunk_size=c)
        ),
        "zhang": lambda c: zhang_exact_loss(
            net, X, Y, LAW, options=LossOptions(num_nodes=NODES, chunk_size=c)
        ),
        "paired": lambda c: exact_mixup_loss_with_pairing(
            net, X, Y, LAW, pairing=knn, options=LossOptions(num_nodes=NODES, chunk_size=c)
        ),
        "rule": lambda c: exact_loss_for_rule(
            net, X, Y, LAW, partner="flip", options=LossOptions(route="pairs", chunk_size=c)
        ),
    }


@pytest.mark.parametrize("name", ["uniform", "zhang", "paired", "rule"])
def test_every_exact_loss_is_chunk_size_invariant(name):
    X, Y = make_data(11, 3, 3, seed=7)
    net = make_mlp(3, 3, seed=8, scale=1.5)
    f = _specialisations(X, Y, net)[name]
    reference = f(None)
    for chunk in (1, 5, 11, 12, 37, 10**6):
        assert abs(f(chunk) - reference) <= REL * abs(reference), chunk
    with pytest.raises(
        ValueError, match="chunk_size must be a positive integer .mixed points per model call"
    ):
        f(0)
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        f(2.5)


def test_chunk_units_are_whole_units_and_at_least_one():
    assert chunk_units(None, 7, 3.9) == 3
    assert [chunk_units(c, 7, 1) for c in (1, 6, 7, 13, 14, 100)] == [1, 1, 1, 1, 2, 14]
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        chunk_units(True, 7, 1)


def _nan_where_first_input_is_large(net):
    def model(x):
        out = net(x)
        return torch.where(x[:, :1] > 0.9, torch.full_like(out, float("nan")), out)

    return model


@pytest.mark.parametrize("name", ["uniform", "zhang", "paired", "rule"])
def test_non_finite_outputs_are_refused_naming_the_outputs(name):
    X, Y = make_data(11, 3, 3, seed=7)
    X[0, 0], X[1, 0] = 2.0, 0.5  # finite data: only some mixed points are past the threshold
    net = make_mlp(3, 3, seed=8, scale=1.5)
    f = _specialisations(X, Y, _nan_where_first_input_is_large(net))[name]
    with pytest.raises(ValueError, match=r"model returned NaN or infinite outputs for \d+ of \d+ inputs"):
        f(None)


def test_a_loss_that_overflows_on_finite_outputs_is_refused():
    X, Y = make_data(6, 3, 3, seed=9)
    net = make_mlp(3, 3, seed=10)

    def huge(x):
        return net(x) * 1e200  # finite outputs whose squared error overflows

    with pytest.raises(ValueError, match="squared error: the loss overflowed on finite model outputs"):
        exact_mixup_loss(huge, X, Y, LAW, loss="mse", options=LossOptions(num_nodes=4))


def test_the_engine_sums_in_float64_on_the_data_device_with_factors_in_order():
    """Two blocks with a scale and two factors: Σ scale · Σ ℓ · f1 · f2, as a float64 scalar."""
    net = make_mlp(2, 2, seed=11)
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(12), dtype=torch.float64)
    y = torch.softmax(x, -1)
    f1, f2 = torch.rand(2, 1, dtype=torch.float64), torch.rand(1, 3, dtype=torch.float64)
    blocks = [MixedBlock(x, y, factors=(f1, f2), scale=0.5, shape=(2, 3)), MixedBlock(x[:2], y[:2])]
    loss = get_loss("ce")
    total = exact_sum(net, iter(blocks), loss, dtype=torch.float64, device=x.device, steps=2, progress=False)
    with torch.no_grad():
        values = loss.value(y, net(x))
    expected = 0.5 * float((values.reshape(2, 3) * f1 * f2).sum()) + float(values[:2].sum())
    assert total.dtype == torch.float64 and total.device == x.device
    assert math.isclose(float(total), expected, rel_tol=1e-15)


def test_dtype_and_device_refusals_name_the_argument_and_the_fix():
    X, Y = make_data(6, 3, 3, seed=13)
    net = make_mlp(3, 3, seed=14)
    with pytest.raises(
        TypeError, match=r"dtype must be torch.float64 .the default. or torch.float32.*torch.int64"
    ):
        exact_mixup_loss(net, X, Y, LAW, options=LossOptions(dtype=torch.int64))
    with pytest.raises(TypeError, match=r"dtype must be torch.float64"):
        exact_mixup_loss(net, X, Y, LAW, options=LossOptions(dtype=torch.float16))
    with pytest.raises(TypeError, match=r"float16 parameters.*model.float\(\)"):
        exact_mixup_loss(make_mlp(3, 3, seed=14).half(), X, Y, LAW)
    with pytest.raises(ValueError, match=r"device='nowhere' is not a device torch knows"):
        exact_mixup_loss(net, X, Y, LAW, options=LossOptions(device="nowhere"))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"device='cuda': CUDA is not available on this machine"):
            exact_mixup_loss(net, X, Y, LAW, options=LossOptions(device="cuda"))


def test_float32_sums_follow_the_data_dtype_and_agree_with_float64():
    X, Y = make_data(8, 3, 3, seed=15)
    net = make_mlp(3, 3, seed=16).float()
    v64 = exact_mixup_loss(net, X, Y, LAW, options=LossOptions(num_nodes=NODES))
    v32 = exact_mixup_loss(
        net, X.float(), Y.float(), LAW, options=LossOptions(num_nodes=NODES, dtype=torch.float32)
    )
    assert v32 != v64 and abs(v32 - v64) <= 1e-5 * v64


def test_loss_options_refuse_bad_values_naming_the_field():
    cases = [
        ({"num_nodes": 0}, ValueError, "num_nodes must be a positive integer, got 0"),
        ({"num_nodes": 2.5}, ValueError, "num_nodes must be a positive integer"),
        ({"chunk_size": -1}, ValueError, "chunk_size must be a positive integer"),
        ({"route": "fast"}, ValueError, "route must be 'auto' or 'pairs', got 'fast'"),
        ({"dtype": torch.float16}, TypeError, "dtype must be torch.float64"),
        ({"device": "nowhere"}, ValueError, "device='nowhere' is not a device torch knows"),
        ({"progress": "yes"}, TypeError, "progress must be None, True or False"),
    ]
    for fields, error, message in cases:
        with pytest.raises(error, match=message):
            LossOptions(**fields)
    X, Y = make_data(6, 3, 3, seed=17)
    with pytest.raises(TypeError, match=r"options must be a mixtheory.exact_loss.LossOptions .*got dict"):
        exact_mixup_loss(make_mlp(3, 3, seed=18), X, Y, LAW, options={"num_nodes": 8})


def test_the_route_option_changes_the_algorithm_not_the_value():
    X, Y = make_data(7, 3, 3, seed=19)
    net = make_mlp(3, 3, seed=20)
    auto = exact_loss_for_rule(
        net, X, Y, LAW, partner="flip", batch_size=5, options=LossOptions(num_nodes=64)
    )
    pairs = LossOptions(num_nodes=64, route="pairs")
    brute = exact_loss_for_rule(net, X, Y, LAW, partner="flip", batch_size=5, options=pairs)
    assert auto != brute and abs(auto - brute) <= 1e-10 * brute
