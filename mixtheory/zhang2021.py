r"""The mixup loss expanded around the anchor x_i: Zhang, Deng, Kawaguchi, Ghorbani, Zou, "How Does
Mixup Help With Robustness and Generalization?" (ICLR 2021), Lemma 3.1, for multi-class outputs.

**The λ̃ identity** (``docs/theory.md §2.4, §8.2``). For a loss affine in the label,
``ℓ(y, u) = h(u) − yᵀu`` (cross-entropy: h = logsumexp; binary logistic: h = softplus, c = 1),

.. math::

    ℓ(λ y_i + (1−λ) y_j, u) = λ\,ℓ(y_i, u) + (1−λ)\,ℓ(y_j, u),

because the h-term carries the weight λ + (1 − λ) = 1. In the second part rename (i, j) → (j, i)
(the double sum over ordered pairs is unchanged) and λ → λ' = 1 − λ: the mixed point becomes
λ' x_i + (1 − λ') x_j and the weight λ'. Hence, exactly,

.. math::

    E_{mix}(f) = \frac1{n^2}\sum_{i,j} E_{λ̃}\, ℓ\big(y_i, f(x_i + (1−λ̃)(x_j − x_i))\big),

where λ̃ has the law ``E g(λ̃) = E_λ[λ g(λ) + (1−λ) g(1−λ)]`` (density ``t p(t) + t p(1−t)``);
for λ ~ Beta(α, β) this is ``α/(α+β) Beta(α+1, β) + β/(α+β) Beta(β+1, α)``
(:class:`~mixtheory.laws.ZhangLambdaTilde`). The label is *not* mixed. Its moments need no new
quadrature: ``E(1−λ̃)^k = E_λ[λ(1−λ)^k + (1−λ)λ^k]``; in particular ``E(1−λ̃) = 2E[λ(1−λ)]`` and
``E(1−λ̃)² = E[λ(1−λ)]``.

**The expansion.** With a = 1 − λ̃, v = x_j − x_i, u = f(x_i) and derivatives at (y_i, u),
``f(x_i + a v) = u + a∇f v + (a²/2)(vᵀ∇²f_k v)_k + O(a³)`` and the chain rule give

.. math::

    ℓ(y_i, f(x_i + a v)) = ℓ + a\,ℓ_uᵀ∇f v + \frac{a^2}{2}\big[(∇f v)ᵀℓ_{uu}(∇f v)
        + \textstyle\sum_k (ℓ_u)_k\, vᵀ∇^2 f_k v\big] + O(a^3).

Averaging over the uniform partner j, ``E_j v = x̄ − x_i = −a_i`` and
``E_j v vᵀ = M_i = Σ_xx + a_i a_iᵀ`` (not centred), so per sample

- ``R1 = E[1−λ̃] · ℓ_uᵀ ∇f(x_i)(x̄ − x_i)``,
- ``R2 = E[(1−λ̃)²]/2 · ⟨M_i, ∇fᵀ ℓ_uu ∇f⟩``,
- ``R3 = E[(1−λ̃)²]/2 · ⟨M_i, T_i⟩``, ``T_i = Σ_k (ℓ_u)_k ∇²f_k(x_i)``,

and ``E_mix = (1/n) Σ_i (ℓ(y_i, f(x_i)) + R1 + R2 + R3) + O(‖x_j − x_i‖³)``. Under a contraction
x → x̄ + s(x − x̄) of the inputs only (the labels are not mixed in this form, so they need not be
contracted, unlike ``docs/theory.md §6.3``) the remainder is O(s³).

The quoted lemma prints R3's coefficient as ``E[1 − λ̃²]``; ``r3_form="printed"`` evaluates that
variant. It differs from the second-order coefficient by ``E[λ̃(1−λ̃)]·2 ≠ 0`` times an O(s²) term,
so the remainder falls only like s² (measured in ``tests/test_zhang2021.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import torch

from ._types import ArrayLike, Generator, Indices, Tensor
from ._validation import model_outputs, prepare_flat_inputs
from .closed_form import taylor_regularizers
from .exact_loss import LossOptions, all_pairs_blocks, chunk_units, exact_sum, loss_options
from .expansions.remainder import SlopeFit, fit_remainder_order
from .expansions.second_order import CARRATINO_TERMS, ZHANG_TERMS, second_order_from_terms
from .geometry import MixupGeometry
from .laws import DEFAULT_NODES, Beta, FromDensity, MixingLaw, QuadratureRule, SymmetricBeta, ZhangLambdaTilde
from .losses import BinaryLogistic, CrossEntropy, Loss, get_loss
from .mixup_loss import exact_mixup_loss
from .regularizers import derivatives_at

__all__ = [
    "R3Form",
    "SlopeFit",
    "check_linear_in_label",
    "compare_expansions",
    "fit_remainder_order",
    "lambda_tilde_moment",
    "zhang_exact_loss",
    "zhang_lambda_tilde",
    "zhang_regularizers",
    "zhang_second_order_loss",
]

R3Form = Literal["correct", "printed"]


# --------------------------------------------------------------------------------------------
# The law of λ̃
# --------------------------------------------------------------------------------------------
class _TiltedLaw(MixingLaw):
    r"""λ̃ for any law of λ: ``E g(λ̃) = E_λ[λ g(λ) + (1−λ) g(1−λ)]``.

    Quadrature: each node t of λ's rule (weight w) becomes the atoms t (weight w t) and 1 − t
    (weight w (1 − t)); exact for atoms (point masses, empirical samples), as accurate as λ's rule
    for smooth integrands otherwise. Sampling is exact: draw λ, keep it with probability λ, else
    take 1 − λ."""

    def __init__(self, base: MixingLaw):
        self.base = base
        self.name = f"LambdaTilde({base!r})"

    def lambda_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        rule = self.base.lambda_rule(num_nodes)
        t, w = rule.nodes, rule.weights
        return QuadratureRule(np.concatenate([t, 1.0 - t]), np.concatenate([w * t, w * (1.0 - t)]))

    def theta_rule(self, num_nodes: int = DEFAULT_NODES) -> QuadratureRule:
        rule = self.lambda_rule(num_nodes)
        return QuadratureRule(np.maximum(rule.nodes, 1.0 - rule.nodes), rule.weights)

    def sample_lambda(self, shape, generator: Generator = None) -> Tensor:
        lam = self.base.sample_lambda(shape, generator)
        keep = torch.rand(lam.shape, generator=generator, dtype=torch.float64) < lam
        return torch.where(keep, lam, 1.0 - lam)


def zhang_lambda_tilde(law: MixingLaw) -> MixingLaw:
    r"""The law of λ̃ for λ ~ ``law``: density ``t p(t) + t p(1 − t)`` (module docstring).

    ``Beta(α, β)`` (and ``SymmetricBeta``) gives :class:`~mixtheory.laws.ZhangLambdaTilde`, with its
    own Gauss–Jacobi rules; a :class:`~mixtheory.laws.FromDensity` gives the tilted density; any
    other law the tilted atoms of its λ rule (exact for point masses and empirical laws).

    >>> from mixtheory.laws import Beta, PointMass
    >>> zhang_lambda_tilde(Beta(0.5, 2.0))
    ZhangLambdaTilde(0.5, 2)
    >>> rule = zhang_lambda_tilde(PointMass(0.25)).lambda_rule()     # 0.25 w.p. 1/4, 0.75 w.p. 3/4
    >>> rule.nodes.tolist(), rule.weights.tolist()
    ([0.25, 0.75], [0.25, 0.75])
    """
    if not isinstance(law, MixingLaw):
        raise TypeError(f"law must be a mixtheory law (e.g. SymmetricBeta(alpha)), got {type(law).__name__}")
    if isinstance(law, Beta):  # SymmetricBeta and Uniform included
        return ZhangLambdaTilde(law.a, law.b)
    if isinstance(law, FromDensity):
        pdf = law.pdf
        return FromDensity(lambda t: t * (pdf(t) + pdf(1.0 - t)), name=f"LambdaTilde({law!r})")
    return _TiltedLaw(law)


def lambda_tilde_moment(law: MixingLaw, k: int, *, printed: bool = False) -> float:
    r"""``E(1 − λ̃)^k = E_λ[λ(1−λ)^k + (1−λ)λ^k]`` for λ ~ ``law`` (through λ's own rule: a
    polynomial, integrated exactly by the Gauss–Jacobi rules of Beta laws).

    ``printed=True`` (k = 2 only) gives the quoted lemma's ``E[1 − λ̃²] = 1 − E[λ³ + (1−λ)³]``.

    >>> from mixtheory.laws import SymmetricBeta
    >>> law = SymmetricBeta(1.0)        # E λ(1−λ) = 1/6: E(1−λ̃) = 1/3, E(1−λ̃)² = 1/6
    >>> round(lambda_tilde_moment(law, 1), 14), round(lambda_tilde_moment(law, 2), 14)
    (0.33333333333333, 0.16666666666667)
    >>> round(lambda_tilde_moment(law, 2, printed=True), 14)                    # 1 − 1/2
    0.5
    """
    if int(k) != k or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    if printed:
        if k != 2:
            raise ValueError("the printed coefficient E[1 − λ̃²] exists for k = 2 only")
        return float(1.0 - law.expect_lambda(lambda t: t**3 + (1.0 - t) ** 3))
    if k == 0:
        return 1.0
    return float(law.expect_lambda(lambda t: t * (1.0 - t) ** k + (1.0 - t) * t**k))


# --------------------------------------------------------------------------------------------
# Inputs and the affinity check
# --------------------------------------------------------------------------------------------
def check_linear_in_label(loss: str | Loss, Y: Tensor, U: Tensor) -> Loss:
    r"""Raise unless ``ℓ(y, u) = h(u) − yᵀu`` + const: the λ̃ identity needs ℓ affine in y.

    Cross-entropy and binary logistic are accepted by type. Any other loss must have ``ℓ_yy = 0``
    and ``ℓ_uy = −I`` at the given (y_i, u_i) (Y, U: (m, c)), a necessary condition checked
    numerically; squared error (ℓ_yy = I) fails it.
    """
    loss = get_loss(loss)
    if isinstance(loss, (CrossEntropy, BinaryLogistic)):
        return loss
    L_yy = loss.hess_yy(Y, U)
    L_uy = loss.hess_uy(Y, U)
    eye = torch.eye(U.shape[-1], dtype=U.dtype, device=U.device)
    tol = 1e-8 if U.dtype == torch.float64 else 1e-4
    if float(L_yy.abs().max()) > tol or float((L_uy + eye).abs().max()) > tol:
        raise ValueError(
            f"{loss.name} is not of the form h(u) − yᵀu (ℓ_yy = 0, ℓ_uy = −I): the max |ℓ_yy| is "
            f"{float(L_yy.abs().max()):.3g}. Zhang et al.'s λ̃ identity and expansion split the mixed "
            "label linearly and hold only for such losses (cross-entropy, binary logistic); for squared "
            "error use the expansion around x̃_i (mixtheory.taylor_regularizers)."
        )
    return loss


# --------------------------------------------------------------------------------------------
# The exact loss in the λ̃ form
# --------------------------------------------------------------------------------------------
def zhang_exact_loss(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    *,
    loss: str | Loss = "ce",
    num_classes: int | None = None,
    options: LossOptions | None = None,
) -> float:
    r"""``(1/n²) Σ_i Σ_j E_λ̃ ℓ(y_i, f(λ̃ x_i + (1 − λ̃) x_j))`` with λ̃ from
    :func:`zhang_lambda_tilde` (``law`` is the law of λ itself), by quadrature over λ̃'s own rule
    times the exact sum over all partners. Equal to the mixup loss for losses affine in the label
    (module docstring; ``docs/theory.md §8.2``).

    The sum is :func:`mixtheory.exact_loss.exact_sum` over
    :func:`mixtheory.exact_loss.all_pairs_blocks` with the anchor's own label.

    Args:
        model: maps (batch, *input_shape) to (batch, c); X: (n, d) or (n, *input_shape);
        Y: (n, c) labels or (n,) class indices; law: the law of λ; loss: affine in the label.
        options: :class:`~mixtheory.exact_loss.LossOptions`; ``chunk_size`` counts whole anchors
            × n partners (default: all n² pairs of a node in one call).

    >>> import torch
    >>> from mixtheory import SymmetricBeta, exact_mixup_loss
    >>> g = torch.Generator().manual_seed(0)
    >>> X, Y = torch.randn(10, 3, generator=g, dtype=torch.float64), torch.arange(10) % 2
    >>> W = torch.randn(3, 2, generator=g, dtype=torch.float64)
    >>> model = lambda x: torch.tanh(x @ W)
    >>> law = SymmetricBeta(0.4)
    >>> abs(zhang_exact_loss(model, X, Y, law) - exact_mixup_loss(model, X, Y, law)) < 1e-12
    True
    """
    options = loss_options(options)
    x, y, shape, loss = prepare_flat_inputs(model, X, Y, loss, num_classes)
    n = x.shape[0]
    rule = zhang_lambda_tilde(law).lambda_rule(options.num_nodes)
    with torch.no_grad():
        check_linear_in_label(
            loss, y, model_outputs(model, x.reshape(n, *shape), y.shape[1], out_dtype=x.dtype)
        )
    x, y = (t.to(dtype=options.dtype, device=options.device or t.device) for t in (x, y))
    nodes, weights = rule.to_torch(x.dtype, x.device)
    anchors = chunk_units(options.chunk_size, n, n)
    blocks = all_pairs_blocks(x, y, nodes, weights, anchors=anchors, shape=shape, mix_labels=False)
    steps = nodes.numel() * math.ceil(n / anchors)
    total = exact_sum(
        model,
        blocks,
        loss,
        dtype=x.dtype,
        device=x.device,
        steps=steps,
        desc="Zhang's exact loss",
        progress=options.progress,
    )
    return float(total / (n * n))


# --------------------------------------------------------------------------------------------
# The second-order expansion around x_i
# --------------------------------------------------------------------------------------------
def zhang_regularizers(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    loss: str | Loss = "ce",
    *,
    indices: Indices = None,
    r3_form: R3Form = "correct",
    num_classes: int | None = None,
) -> dict[str, Tensor]:
    r"""Per-sample ``erm``, ``R1``, ``R2``, ``R3`` of Zhang et al.'s Lemma 3.1 (ICLR 2021), for
    multi-class losses ``h(u) − yᵀu`` (module docstring, ``docs/theory.md §8.2``):

    ``R1 = E[1−λ̃] ℓ_uᵀ∇f(x_i)(x̄ − x_i)``, ``R2 = E[(1−λ̃)²]/2 ⟨M_i, ∇fᵀℓ_uu∇f⟩``,
    ``R3 = E[(1−λ̃)²]/2 ⟨M_i, T_i⟩`` with ``M_i = Σ_xx + a_i a_iᵀ`` and every derivative at
    (y_i, f(x_i)); the mean over samples of ``erm + R1 + R2 + R3`` is the second-order loss.

    ``M_i`` is never formed: with ``Σ_xx = V diag(s) Vᵀ`` (:class:`~mixtheory.MixupGeometry`),
    ``⟨M_i, A⟩ = Σ_r s_r v_rᵀ A v_r + a_iᵀ A a_i``, through ``∇f V`` (c × r) for R2; the only d × d
    per sample is ``T_i`` from :func:`~mixtheory.regularizers.derivatives_at` (small d).

    Args:
        model: maps (batch, *input_shape) to (batch, c). X: (n, d) or (n, *input_shape);
        Y: (n, c) or (n,) class indices. law: the law of λ (Beta(α, β), …), not of λ̃.
        loss: affine in the label (cross-entropy, binary logistic); others raise ValueError.
        indices: the samples to evaluate (default all); x̄ and Σ_xx always use all n.
        r3_form: ``"correct"`` (E(1−λ̃)²) or ``"printed"`` (the quoted E[1 − λ̃²]).

    Returns: tensors of shape (m,).

    >>> import torch
    >>> from mixtheory import SymmetricBeta
    >>> g = torch.Generator().manual_seed(0)
    >>> X, Y = torch.randn(12, 3, generator=g, dtype=torch.float64), torch.arange(12) % 3
    >>> W = torch.randn(3, 3, generator=g, dtype=torch.float64)
    >>> regs = zhang_regularizers(lambda x: torch.tanh(x @ W), X, Y, SymmetricBeta(1.0))
    >>> sorted(regs), tuple(regs["R2"].shape), bool((regs["R2"] >= 0).all())     # ℓ_uu PSD
    (['R1', 'R2', 'R3', 'erm'], (12,), True)
    """
    if r3_form not in ("correct", "printed"):
        raise ValueError(f"r3_form must be 'correct' or 'printed', got {r3_form!r}")
    x, y, shape, loss = prepare_flat_inputs(model, X, Y, loss, num_classes)
    geometry = MixupGeometry(x.reshape(-1, *shape), y, SymmetricBeta(1.0))  # only x̄, V, s are used
    idx = geometry.sample_indices(indices)
    u, jac, T = derivatives_at(model, x[idx], y[idx], loss, input_shape=shape, hessian=True)
    check_linear_in_label(loss, y[idx], u)
    e1 = lambda_tilde_moment(law, 1)
    e2 = lambda_tilde_moment(law, 2)
    e2_r3 = lambda_tilde_moment(law, 2, printed=True) if r3_form == "printed" else e2

    a = geometry.centered_x[idx]  # a_i = x_i − x̄, so E_j(x_j − x_i) = −a_i
    basis, eigvals = geometry.basis, geometry.eigvals
    grad_u = loss.grad_u(y[idx], u)  # (m, c)
    hess_uu = loss.hess_uu(y[idx], u)  # (m, c, c)
    jac_a = torch.einsum("mcd,md->mc", jac, a)  # ∇f a_i
    jac_v = jac @ basis  # ∇f V, (m, c, r)
    quad_shared = torch.einsum("mcr,mce,mer,r->m", jac_v, hess_uu, jac_v, eigvals)
    quad_rank_one = torch.einsum("mc,mce,me->m", jac_a, hess_uu, jac_a)
    t_shared = torch.einsum("dr,mde,er->m", basis * eigvals, T, basis)
    t_rank_one = torch.einsum("md,mde,me->m", a, T, a)
    return {
        "erm": loss.value(y[idx], u),
        "R1": -e1 * (grad_u * jac_a).sum(-1),
        "R2": 0.5 * e2 * (quad_shared + quad_rank_one),
        "R3": 0.5 * e2_r3 * (t_shared + t_rank_one),
    }


def zhang_second_order_loss(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    loss: str | Loss = "ce",
    *,
    r3_form: R3Form = "correct",
    num_classes: int | None = None,
) -> float:
    r"""``(1/n) Σ_i (erm + R1 + R2 + R3)`` of :func:`zhang_regularizers`: the mixup loss to second
    order around the anchors (Zhang et al., ICLR 2021, Lemma 3.1; ``docs/theory.md §8.2``)."""
    regs = zhang_regularizers(model, X, Y, law, loss, r3_form=r3_form, num_classes=num_classes)
    # Zhang et al.'s R1 (first order), R2, R3: no ℓ_uu⁻¹ in any of them, so nothing cancels (unlike
    # Carratino's R1 and R3, read through R13)
    return second_order_from_terms(regs, ZHANG_TERMS)


# --------------------------------------------------------------------------------------------
# Orders of remainders, and the two expansions side by side
# --------------------------------------------------------------------------------------------
def compare_expansions(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    alphas: Sequence[float] = (0.1, 0.2, 0.5, 1.0, 2.0),
    loss: str | Loss = "ce",
    *,
    num_nodes: int = DEFAULT_NODES,
) -> list[dict[str, float]]:
    r"""Carratino et al.'s second-order loss around x̃_i (``E_Q = erm + R13 + R2 + R4``, Theorem 3,
    ``docs/theory.md §4``) and Zhang et al.'s around x_i (:func:`zhang_second_order_loss`), each
    against the exact mixup loss, for λ ~ Beta(α, α) at the data's own scale.

    Returns one row per α: ``alpha``, ``exact``, ``carratino``, ``zhang``, the signed errors
    ``error_carratino = carratino − exact`` and ``error_zhang``, and ``ratio`` =
    |error_zhang| / |error_carratino| (> 1: Carratino's expansion is closer).
    """
    x, y, shape, loss = prepare_flat_inputs(model, X, Y, loss)
    inputs = x.reshape(-1, *shape)
    rows = []
    for alpha in alphas:
        law = SymmetricBeta(float(alpha))
        exact = exact_mixup_loss(model, inputs, y, law, loss=loss, options=LossOptions(num_nodes=num_nodes))
        regs = taylor_regularizers(model, MixupGeometry(inputs, y, law), loss)
        carratino = second_order_from_terms(regs, CARRATINO_TERMS)
        zhang = zhang_second_order_loss(model, inputs, y, law, loss)
        err_c, err_z = carratino - exact, zhang - exact
        rows.append(
            {
                "alpha": float(alpha),
                "exact": exact,
                "carratino": carratino,
                "zhang": zhang,
                "error_carratino": err_c,
                "error_zhang": err_z,
                "ratio": abs(err_z) / abs(err_c) if err_c != 0 else float("inf"),
            }
        )
    return rows
