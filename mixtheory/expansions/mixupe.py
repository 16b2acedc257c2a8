r"""MixupE's directional-derivative view of mixup: Zou, Verma, Mittal, Tang, Pham, Kannala, Bengio,
Solin, Kawaguchi, "MixupE: Understanding and Improving Mixup from Directional Derivative
Perspective" (UAI 2023), Theorem 1 and the first-order term q (``docs/theory.md §8.4``): the one
module of MixupE's terms. The training objective that penalises them is
:class:`mixtheory.training.MixupE` (:mod:`mixtheory.training.mixupe`), through
:func:`mixupe_first_order`; the claims about the paper are :mod:`mixtheory.ledger.mixupe`.

**Theorem 1, derived.** For ℓ(y, u) = h(u) − yᵀu the mixup loss is exactly the λ̃ form of
Zhang et al. (:mod:`mixtheory.expansions.zhang2021`, ``docs/theory.md §8.2``):
``E_mix = (1/n²) Σ_{i,j} E_λ̃ φ_ij(1 − λ̃)`` with ``φ_ij(t) = ℓ(y_i, f(x_i + t(x_j − x_i)))``. Taylor's
theorem in the one variable t gives, for f of class C^{K+1},

.. math::

    E_{mix} = \frac1{n^2}\sum_{i,j}\Big[\sum_{k=0}^{K} \frac{E(1−λ̃)^k}{k!}\, D^k_{ij}\Big]
        + O(\|x_j − x_i\|^{K+1}),\qquad D^k_{ij} = \frac{d^k}{dt^k}\, ℓ(y_i, f(x_i + t v_{ij}))\Big|_{t=0},

the k-th directional derivative of x ↦ ℓ(y_i, f(x)) at x_i along v_ij = x_j − x_i. The paper writes
the same sum through Faà di Bruno: ``J_h^k(f)Δ^{⊗k}`` with Δ the Taylor polynomial of f along v
and ``−a y_iᵀΔ`` for the linear part; truncated at order K, both are the K-th Taylor polynomial
of φ_ij. The expectation is over **λ̃** (density ``t p(t) + t p(1 − t)``), because the label is
not mixed in this form; with λ's own law instead (λ ~ Beta(α, α): E(1−λ) = 1/2 but
E(1−λ̃) = α/(2α+1)) the first-order term is wrong and the remainder is only O(s).
:func:`directional_expansion` evaluates the sum for K ≤ 3 by nested forward mode; its remainder
falls like s^{K+1} when the inputs are contracted toward x̄ by s (labels untouched).

**The first-order term.** ``E_j D^1_ij = ℓ_u(y_i, f(x_i))ᵀ ∇f(x_i)(x̄ − x_i)``; for softmax
cross-entropy (ℓ_u = g(f) − y, g = softmax) this is the paper's

.. math::

    q(x_i) = (g(f(x_i)) − y_i)ᵀ ∇f(x_i)(E x' − x_i),\qquad
    \hat q(x_i) = (y_i − g(f(x_i)))ᵀ f(x_i).

q̂ equals q when the data are centred (x̄ = 0) and f is positively homogeneous of degree 1 (a
bias-free ReLU or linear network): Euler's identity ∇f(x) x = f(x) gives
q = (g − y)ᵀ∇f(−x_i) = (y − g)ᵀ f. In general
``q − q̂ = (g − y)ᵀ[∇f(x_i) x̄ + f(x_i) − ∇f(x_i) x_i]``: a mean term plus the part of f that is not
1-homogeneous (biases, curvature). ``E(1−λ̃) · q_i`` is Zhang et al.'s first-order term
(``first_order`` of :func:`~mixtheory.expansions.zhang2021.zhang_expansion`, the paper's R1).

**|q̂| or q̂.** The paper's regularizer is ``E[1−λ̃]/n Σ_i |q̂(x_i)|`` ("to avoid negativity");
implementations differ on the absolute value (an official implementation is reported to use
q̂ itself), so :func:`first_order_term_approx` and :func:`mixupe_regularizer` take
``absolute``. With the absolute value, per-sample terms of opposite signs cannot cancel; without
it the penalty is the (approximate) first-order term of the mixup loss itself.

**In training** (:func:`mixupe_first_order`): the same q̂ and q for softmax cross-entropy on a
batch, differentiable in the parameters, with the residual ``g − y`` optionally detached (a
stop-gradient, as the official code does in three of its four versions) and q by one batched
``torch.func.jvp`` of the model (samples must not interact: no batch norm in train mode).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch

from .._types import ArrayLike, Model, Tensor
from .._validation import model_call_errors, model_outputs, prepare_flat_inputs
from ..derivatives import directional_derivatives
from ..laws import MixingLaw
from ..losses import Loss
from .second_order import MIXUPE_TERMS
from .terms import ExpansionTerms
from .zhang2021 import check_linear_in_label, lambda_tilde_moment

__all__ = [
    "FirstOrderTerm",
    "Moments",
    "directional_expansion",
    "first_order_term",
    "first_order_term_approx",
    "mixupe_first_order",
    "mixupe_regularizer",
    "q_hat_relative_error",
]

Moments = Literal["lambda_tilde", "lambda"]
FirstOrderTerm = Literal["q_hat", "q"]


def _flat_model(model: Callable[[Tensor], Tensor], shape: tuple[int, ...]) -> Callable[[Tensor], Tensor]:
    """x (d,) ↦ f(x) (c,) for a model taking (batch, *shape)."""

    def f(x_flat: Tensor) -> Tensor:
        return model(x_flat.reshape(1, *shape))[0]

    return f


def first_order_term(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    loss: str | Loss = "ce",
    *,
    x_mean: Tensor | None = None,
    num_classes: int | None = None,
) -> Tensor:
    r"""MixupE's ``q(x_i) = ℓ_u(y_i, f(x_i))ᵀ ∇f(x_i)(x̄ − x_i)`` (= (g(f) − y)ᵀ J_f (E x' − x_i) for
    softmax cross-entropy), one Jacobian-vector product per sample (``torch.func.jvp``), no Jacobian.

    Args:
        model: maps (batch, *input_shape) to (batch, c); X: (n, d) or (n, *input_shape);
        Y: (n, c) or (n,) class indices; x_mean: the partners' mean E x' (default the mean of X).

    Returns: (n,).

    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> X, Y = torch.randn(6, 3, generator=g, dtype=torch.float64), torch.arange(6) % 2
    >>> W = torch.randn(3, 2, generator=g, dtype=torch.float64)
    >>> q = first_order_term(lambda x: x @ W, X, Y)       # linear f: ∇f = Wᵀ
    >>> dense = ((torch.softmax(X @ W, -1) - torch.eye(2)[Y]) * ((X.mean(0) - X) @ W)).sum(-1)
    >>> bool(torch.allclose(q, dense, rtol=1e-12, atol=0))
    True
    """
    x, y, shape, loss = prepare_flat_inputs(model, X, Y, loss, num_classes)
    centre = x.mean(0) if x_mean is None else torch.as_tensor(x_mean, dtype=x.dtype).reshape(-1)
    f = _flat_model(model, shape)
    with torch.no_grad(), model_call_errors():
        u, tangent = torch.func.vmap(lambda p, v: torch.func.jvp(f, (p,), (v,)))(x, centre - x)
    return (loss.grad_u(y, u.to(x.dtype)) * tangent.to(x.dtype)).sum(-1)


def first_order_term_approx(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    loss: str | Loss = "ce",
    *,
    absolute: bool = False,
    num_classes: int | None = None,
) -> Tensor:
    r"""MixupE's ``q̂(x_i) = (y_i − g(f(x_i)))ᵀ f(x_i) = −ℓ_u(y_i, f(x_i))ᵀ f(x_i)`` (Eq. 1), or
    ``|q̂|`` with ``absolute=True`` (module docstring). Differentiable in the model's parameters
    (a training penalty). X: (n, d) or (n, *input_shape); Y: (n, c); returns (n,)."""
    x, y, shape, loss = prepare_flat_inputs(model, X, Y, loss, num_classes)
    u = model(x.reshape(-1, *shape))
    if u.shape != y.shape:
        raise ValueError(f"model returned shape {tuple(u.shape)}, labels are {tuple(y.shape)}")
    u = u.to(x.dtype)
    q_hat = -(loss.grad_u(y, u) * u).sum(-1)
    return q_hat.abs() if absolute else q_hat


def mixupe_regularizer(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    loss: str | Loss = "ce",
    *,
    absolute: bool = True,
    num_classes: int | None = None,
) -> Tensor:
    r"""``R = E[1−λ̃]/n · Σ_i |q̂(x_i)|`` (MixupE's penalty; ``absolute=False``: q̂ itself), with
    ``E[1−λ̃] = 2 E_λ[λ(1−λ)]`` for λ ~ ``law`` (Theorem 1's coefficient; module docstring). A scalar
    tensor, differentiable in the model's parameters."""
    terms = first_order_term_approx(model, X, Y, loss, absolute=absolute, num_classes=num_classes)
    return lambda_tilde_moment(law, 1) * terms.mean()


def q_hat_relative_error(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    loss: str | Loss = "ce",
    *,
    x_mean: Tensor | None = None,
    num_classes: int | None = None,
) -> dict[str, Tensor | float]:
    r"""How far MixupE's q̂ is from q: per-sample ``|q − q̂| / |q|`` (``per_sample``, (n,)), its
    median, and the aggregate ``‖q − q̂‖ / ‖q‖`` over samples (``aggregate``; robust to |q_i| ≈ 0)."""
    q = first_order_term(model, X, Y, loss, x_mean=x_mean, num_classes=num_classes)
    with torch.no_grad():
        q_hat = first_order_term_approx(model, X, Y, loss, num_classes=num_classes)
    per_sample = (q - q_hat).abs() / q.abs()
    return {
        "per_sample": per_sample,
        "median": float(per_sample.median()),
        "aggregate": float(torch.linalg.vector_norm(q - q_hat) / torch.linalg.vector_norm(q)),
    }


def _pair_derivatives(loss: Loss, f: Callable[[Tensor], Tensor], order: int):
    """(x, v, y) ↦ (D¹, …, D^order) of t ↦ ℓ(y, f(x + t v)) at t = 0 by nested forward mode."""

    def per_pair(x: Tensor, v: Tensor, y: Tensor) -> Tensor:
        def phi(z: Tensor) -> Tensor:
            return loss.value(y[None], f(z)[None])[0]

        if order == 1:
            return torch.func.jvp(phi, (x,), (v,))[1][None]
        if order == 2:
            return torch.stack(directional_derivatives(phi, x, v))
        # one more jvp of (D¹, D²): its tangents are (D², D³)
        (d1, d2), (_, d3) = torch.func.jvp(lambda z: directional_derivatives(phi, z, v), (x,), (v,))
        return torch.stack([d1, d2, d3])

    return per_pair


def directional_expansion(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    loss: str | Loss = "ce",
    *,
    order: int = 2,
    moments: Moments = "lambda_tilde",
    chunk_size: int = 4096,
    num_classes: int | None = None,
) -> ExpansionTerms:
    r"""The K-th order expansion of MixupE's Theorem 1 (module docstring):
    ``(1/n²) Σ_{i,j} Σ_{k=0}^{K} E(1−λ̃)^k/k! · D^k_ij``, with D^k_ij the k-th directional derivative
    of ``x ↦ ℓ(y_i, f(x))`` at x_i along ``x_j − x_i`` (nested ``torch.func.jvp``:
    :func:`~mixtheory.derivatives.directional_derivatives` for K ≤ 2, one jvp more for K = 3).

    Args:
        model: maps (batch, *input_shape) to (batch, c); X: (n, d) or (n, *input_shape); Y: (n, c)
            or (n,) class indices; law: the law of λ; loss: affine in the label.
        order: K ∈ {1, 2, 3}.
        moments: ``"lambda_tilde"`` (E over λ̃, Theorem 1 as derived) or ``"lambda"`` (λ's own law
            with the label unmixed, a wrong reading kept to measure it: remainder O(s)).
        chunk_size: pairs per vmapped batch (memory ∝ chunk_size · network size).

    Returns: :class:`~mixtheory.expansions.terms.ExpansionTerms` of 0-d tensors ``directional_0``
    … ``directional_K`` (the k-th term with its coefficient, ``E(1−λ̃)^k/k! · mean_ij D^k_ij``);
    ``.loss()`` is the expansion (their sum), ``.details["mean_derivatives"]`` the means
    ``mean_ij D^k_ij`` and ``.details["coefficients"]`` the moments ``E(1−λ̃)^k`` (or ``E(1−λ)^k``),
    k = 0..K.
    """
    if order not in (1, 2, 3):
        raise ValueError(f"order must be 1, 2 or 3, got {order!r}")
    if moments not in ("lambda_tilde", "lambda"):
        raise ValueError(f"moments must be 'lambda_tilde' or 'lambda', got {moments!r}")
    x, y, shape, loss = prepare_flat_inputs(model, X, Y, loss, num_classes)
    n = x.shape[0]
    with torch.no_grad():
        u = model_outputs(model, x.reshape(n, *shape), y.shape[1], out_dtype=x.dtype)
    check_linear_in_label(loss, y, u)
    anchors = torch.arange(n).repeat_interleave(n)
    partners = torch.arange(n).repeat(n)
    per_pair = torch.func.vmap(_pair_derivatives(loss, _flat_model(model, shape), order))
    sums = torch.zeros(order, dtype=torch.float64)
    with torch.no_grad(), model_call_errors():
        for start in range(0, n * n, chunk_size):
            i, j = anchors[start : start + chunk_size], partners[start : start + chunk_size]
            sums += per_pair(x[i], x[j] - x[i], y[i]).to(torch.float64).sum(0)
    mean_derivatives = [float(loss.value(y, u).mean())] + (sums / (n * n)).tolist()
    if moments == "lambda_tilde":
        coefficients = [lambda_tilde_moment(law, k) for k in range(order + 1)]
    else:
        coefficients = [law.expect_lambda(lambda t, k=k: (1.0 - t) ** k) for k in range(order + 1)]
    factorial = [1.0, 1.0, 2.0, 6.0]
    terms = [c / factorial[k] * d for k, (c, d) in enumerate(zip(coefficients, mean_derivatives))]
    return ExpansionTerms(
        "mixupe",
        {name: torch.tensor(t, dtype=torch.float64) for name, t in zip(MIXUPE_TERMS, terms)},
        MIXUPE_TERMS[: order + 1],
        details={"mean_derivatives": tuple(mean_derivatives), "coefficients": tuple(coefficients)},
    )


def mixupe_first_order(
    model: Model, x: Tensor, y: Tensor, x_mean: Tensor, *, term: FirstOrderTerm, detach_residual: bool
) -> tuple[Tensor, Tensor]:
    r"""(per-sample first-order terms (b,), clean logits (b, c)) of a training batch under softmax
    cross-entropy, differentiable in the parameters (module docstring, "In training").

    ``term="q_hat"``: ``(y − g(f(x)))ᵀ f(x)``; ``term="q"``: ``(g(f(x)) − y)ᵀ ∇f(x)(x̄ − x)``, the
    directional derivative by one batched ``torch.func.jvp`` (samples must not interact: no batch
    norm in train mode). x: (b, *input_shape), y: (b, c), x_mean: input_shape."""
    if term == "q":
        logits, directional = torch.func.jvp(model, (x,), (x_mean.expand_as(x) - x,))
    else:
        logits = model(x)
    residual = torch.softmax(logits, -1) - y
    if detach_residual:
        residual = residual.detach()
    if term == "q":
        return (residual * directional).sum(-1), logits
    return -(residual * logits).sum(-1), logits
