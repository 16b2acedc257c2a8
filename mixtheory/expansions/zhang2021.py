r"""The mixup loss expanded around the anchor x_i: Zhang, Deng, Kawaguchi, Ghorbani, Zou, "How Does
Mixup Help With Robustness and Generalization?" (ICLR 2021), Lemma 3.1, for multi-class outputs;
the one implementation of these terms, which the masked form of Park et al. (NeurIPS 2022,
:mod:`~mixtheory.expansions.park2022`) reuses with the moments of a mask.

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
``E(1−λ̃)² = E[λ(1−λ)]``. The exact loss in this form is :func:`mixtheory.zhang2021.zhang_exact_loss`.

**The expansion.** Write the partner's share as a *hole* H̃ (a scalar times 1 here, a mask in
Park et al.'s form): the point is ``x_i + Δ``, ``Δ = H̃ ⊙ v``, v = x_j − x_i, and with u = f(x_i)
and every derivative at (y_i, u),

.. math::

    ℓ(y_i, f(x_i + Δ)) = ℓ + ℓ_uᵀ∇f Δ + \frac12\big[(∇f Δ)ᵀℓ_{uu}(∇f Δ)
        + \textstyle\sum_k (ℓ_u)_k\, Δᵀ∇^2 f_k Δ\big] + O(\|Δ\|^3).

Averaging over the uniform partner j (independent of H̃), ``E Δ = m̄ ⊙ (x̄ − x_i)`` and
``E ΔΔᵀ = W ⊙ M_i`` with ``m̄ = E H̃``, ``W = E H̃H̃ᵀ`` and ``M_i = Σ_xx + a_i a_iᵀ`` (not centred,
a_i = x_i − x̄). Per anchor, under the names of :data:`~mixtheory.expansions.terms.TERM_NAMES`
(the paper's R1, R2, R3 are other terms than Carratino et al.'s R1, R2, R3):

- ``anchor_loss = ℓ(y_i, f(x_i))``,
- ``first_order = ℓ_uᵀ ∇f(x_i)(m̄ ⊙ (x̄ − x_i))`` (the paper's R1),
- ``second_order_output = ½ ⟨W ⊙ M_i, ∇fᵀ ℓ_uu ∇f⟩`` (R2),
- ``second_order_input = ½ ⟨W ⊙ M_i, T_i⟩``, ``T_i = Σ_k (ℓ_u)_k ∇²f_k(x_i)`` (R3),

and ``E_mix = (1/n) Σ_i (anchor_loss + first_order + second_order_output + second_order_input) +
O(‖x_j − x_i‖³)``. For mixup, H̃ = (1 − λ̃)1: ``m̄ = E(1−λ̃) 1`` and ``W = E(1−λ̃)² 11ᵀ``, so
``W ⊙ M_i = E(1−λ̃)² M_i`` (:class:`LambdaTildeHole`, through the eigenvectors of Σ_xx: no d × d
matrix but T_i). Under a contraction x → x̄ + s(x − x̄) of the inputs only (the labels are not
mixed in this form, so they need not be contracted, unlike ``docs/theory.md §6.3``) the remainder
is O(s³).

The quoted lemma prints R3's coefficient as ``E[1 − λ̃²]``; ``r3_form="printed"`` evaluates that
variant. It differs from the second-order coefficient by ``E[λ̃(1−λ̃)]·2 ≠ 0`` times an O(s²) term,
so the remainder falls only like s² (measured in ``tests/test_zhang2021.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import torch

from .._types import ArrayLike, Generator, Indices, Tensor
from .._validation import check_indices, prepare_flat_inputs
from ..derivatives import derivatives_at
from ..exact_loss import LossOptions, exact_mixup_loss
from ..geometry import MixupGeometry
from ..laws import (
    DEFAULT_NODES,
    Beta,
    FromDensity,
    MixingLaw,
    QuadratureRule,
    SymmetricBeta,
    ZhangLambdaTilde,
)
from ..losses import BinaryLogistic, CrossEntropy, Loss, get_loss
from .carratino2022 import carratino_expansion
from .terms import ExpansionTerms

__all__ = [
    "HoleMoments",
    "LambdaTildeHole",
    "R3Form",
    "anchor_expansion",
    "check_linear_in_label",
    "compare_expansions",
    "lambda_tilde_moment",
    "zhang_expansion",
    "zhang_lambda_tilde",
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
# The terms around the anchor, written once for every hole
# --------------------------------------------------------------------------------------------
class HoleMoments(Protocol):
    r"""The first two moments of the hole H̃ and the data contractions they enter (module docstring):
    the coefficients ``first``, ``second``, ``second_input`` multiply the contractions below
    (E(1−λ̃), E(1−λ̃)², E(1−λ̃)² or the printed E[1 − λ̃²] for mixup; 1 when the moments sit inside
    the contractions, as for a mask). ``a``: the centred anchors a_i (m, d)."""

    first: float
    second: float
    second_input: float

    def centred(self, idx: Tensor) -> Tensor:
        """a_i = x_i − x̄ of the requested anchors, (m, d)."""

    def shifted_jacobian(self, jac: Tensor, a: Tensor) -> Tensor:
        """``∇f (m̄ ⊙ a_i)`` up to the coefficient ``first``, (m, c)."""

    def output_contraction(self, jac: Tensor, hess_uu: Tensor, a: Tensor) -> Tensor:
        """``⟨W ⊙ M_i, ∇fᵀ ℓ_uu ∇f⟩`` up to the coefficient ``second``, (m,)."""

    def input_contraction(self, T: Tensor, a: Tensor) -> Tensor:
        """``⟨W ⊙ M_i, T_i⟩`` up to the coefficient ``second_input``, (m,)."""


@dataclass(frozen=True)
class LambdaTildeHole:
    r"""Mixup's hole H̃ = (1 − λ̃)1: ``m̄ = E(1−λ̃) 1``, ``W = E(1−λ̃)² 11ᵀ``, so that
    ``⟨W ⊙ M_i, A⟩ = E(1−λ̃)² (Σ_r s_r v_rᵀ A v_r + a_iᵀ A a_i)`` with ``Σ_xx = V diag(s) Vᵀ``
    (:class:`~mixtheory.MixupGeometry`), through ``∇f V`` (c × r) for the output term: M_i is never
    formed. ``second_input`` is the printed ``E[1 − λ̃²]`` under ``r3_form="printed"``."""

    first: float
    second: float
    second_input: float
    centred_x: Tensor
    basis: Tensor
    eigvals: Tensor

    @classmethod
    def of(
        cls, x: Tensor, y: Tensor, shape: tuple[int, ...], law: MixingLaw, r3_form: R3Form
    ) -> LambdaTildeHole:
        """The hole of λ ~ ``law`` for flat inputs x (n, d) with labels y (n, c)."""
        geometry = MixupGeometry(x.reshape(-1, *shape), y, SymmetricBeta(1.0))  # only x̄, V, s are used
        e2 = lambda_tilde_moment(law, 2)
        e2_input = lambda_tilde_moment(law, 2, printed=True) if r3_form == "printed" else e2
        e1 = lambda_tilde_moment(law, 1)
        return cls(e1, e2, e2_input, geometry.centered_x, geometry.basis, geometry.eigvals)

    def centred(self, idx: Tensor) -> Tensor:
        return self.centred_x[idx]

    def shifted_jacobian(self, jac: Tensor, a: Tensor) -> Tensor:
        return torch.einsum("mcd,md->mc", jac, a)

    def output_contraction(self, jac: Tensor, hess_uu: Tensor, a: Tensor) -> Tensor:
        jac_a = torch.einsum("mcd,md->mc", jac, a)  # ∇f a_i
        jac_v = jac @ self.basis  # ∇f V, (m, c, r)
        quad_shared = torch.einsum("mcr,mce,mer,r->m", jac_v, hess_uu, jac_v, self.eigvals)
        return quad_shared + torch.einsum("mc,mce,me->m", jac_a, hess_uu, jac_a)

    def input_contraction(self, T: Tensor, a: Tensor) -> Tensor:
        t_shared = torch.einsum("dr,mde,er->m", self.basis * self.eigvals, T, self.basis)
        return t_shared + torch.einsum("md,mde,me->m", a, T, a)


def anchor_expansion(
    model: Callable[[Tensor], Tensor],
    inputs: tuple[Tensor, Tensor, tuple[int, ...], Loss],
    hole: HoleMoments,
    indices: Indices = None,
    *,
    paper: str = "zhang2021",
) -> ExpansionTerms:
    r"""The four terms around the anchor (module docstring) for any hole: the one place they are
    written. ``inputs``: ``(x (n, d), y (n, c), input_shape, loss)`` as
    :func:`~mixtheory._validation.prepare_flat_inputs` gives them; ``paper``: ``"zhang2021"`` or
    ``"park2022"`` (whose moments ``hole`` holds). Derivatives at the anchors by
    :func:`~mixtheory.derivatives.derivatives_at` (a d × d input Hessian per anchor: small d)."""
    x, y, shape, loss = inputs
    idx = check_indices(indices, x.shape[0], x.device)
    u, jac, T = derivatives_at(model, x[idx], y[idx], loss, input_shape=shape, hessian=True)
    check_linear_in_label(loss, y[idx], u)
    a = hole.centred(idx)
    grad_u = loss.grad_u(y[idx], u)  # (m, c)
    hess_uu = loss.hess_uu(y[idx], u)  # (m, c, c)
    terms = {
        "anchor_loss": loss.value(y[idx], u),
        "first_order": -hole.first * (grad_u * hole.shifted_jacobian(jac, a)).sum(-1),  # E_j v = −a_i
        "second_order_output": 0.5 * hole.second * hole.output_contraction(jac, hess_uu, a),
        "second_order_input": 0.5 * hole.second_input * hole.input_contraction(T, a),
    }
    return ExpansionTerms(paper, terms)


def zhang_expansion(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    loss: str | Loss = "ce",
    *,
    indices: Indices = None,
    r3_form: R3Form = "correct",
    num_classes: int | None = None,
) -> ExpansionTerms:
    r"""Zhang et al.'s Lemma 3.1 (ICLR 2021) per anchor, for multi-class losses ``h(u) − yᵀu``
    (module docstring, ``docs/theory.md §8.2``): ``anchor_loss``, ``first_order`` (the paper's
    R1), ``second_order_output`` (R2) and ``second_order_input`` (R3); ``.loss()`` is the mixup loss
    to second order around the anchors, ``(1/n) Σ_i`` of their sum.

    Args:
        model: maps (batch, *input_shape) to (batch, c). X: (n, d) or (n, *input_shape);
        Y: (n, c) or (n,) class indices. law: the law of λ (Beta(α, β), …), not of λ̃.
        loss: affine in the label (cross-entropy, binary logistic); others raise ValueError.
        indices: the anchors to evaluate (default all); x̄ and Σ_xx always use all n.
        r3_form: ``"correct"`` (E(1−λ̃)²) or ``"printed"`` (the quoted E[1 − λ̃²]).

    Returns: :class:`~mixtheory.expansions.terms.ExpansionTerms` of tensors (m,).

    >>> import torch
    >>> from mixtheory import SymmetricBeta
    >>> g = torch.Generator().manual_seed(0)
    >>> X, Y = torch.randn(12, 3, generator=g, dtype=torch.float64), torch.arange(12) % 3
    >>> W = torch.randn(3, 3, generator=g, dtype=torch.float64)
    >>> terms = zhang_expansion(lambda x: torch.tanh(x @ W), X, Y, SymmetricBeta(1.0))
    >>> terms.table, bool((terms["second_order_output"] >= 0).all())     # ℓ_uu PSD
    (('anchor_loss', 'first_order', 'second_order_output', 'second_order_input'), True)
    """
    if r3_form not in ("correct", "printed"):
        raise ValueError(f"r3_form must be 'correct' or 'printed', got {r3_form!r}")
    inputs = prepare_flat_inputs(model, X, Y, loss, num_classes)
    hole = LambdaTildeHole.of(inputs[0], inputs[1], inputs[2], law, r3_form)
    return anchor_expansion(model, inputs, hole, indices)


# --------------------------------------------------------------------------------------------
# The two expansions side by side
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
    ``docs/theory.md §4``, :func:`~mixtheory.expansions.carratino2022.carratino_expansion`) and
    Zhang et al.'s around x_i (:func:`zhang_expansion`), each against the exact mixup loss, for
    λ ~ Beta(α, α) at the data's own scale.

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
        carratino = carratino_expansion(model, MixupGeometry(inputs, y, law), loss).loss()
        zhang = zhang_expansion(model, inputs, y, law, loss).loss()
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
