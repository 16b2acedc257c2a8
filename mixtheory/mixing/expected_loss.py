r"""What the sampler's average loss converges to, and the sampler's average itself.

Exact over partners and mask positions. Over λ: for mixup the law's quadrature
(``law.lambda_rule``; the loss is smooth in λ, and exact for laws with atoms); for masks the λ
pieces of :func:`mixtheory.mixing.mask_exact.mask_atoms`, between the breakpoints where a box side
changes (exact for CutMix under atoms, Beta laws and their mixtures; Gauss–Jacobi per piece for
HMix and GMix, 1e-12 against mpmath).

:func:`exact_loss_for_rule` evaluates the limits derived in :mod:`mixtheory.mixing.sampler`:
``E_mix`` (uniform and permutation partners), the deterministic pairing loss (flip and roll on a
fixed batch order), ``(1/n) Σ_i Σ_j π(j|i) L(i, j)`` for a partner law, and
``s_b E_ERM + (1 − s_b) E_≠`` with ``E_≠ = (n E_mix − E_ERM)/(n − 1)`` for batches of b drawn
without replacement. Two routes:

- ``E_mix`` through :func:`mixtheory.exact_loss.exact_mixup_loss` (θ-quadrature, Theorem 1) when
  the pairing is uniform and λ is one number per pair (no mask, not per element);
- otherwise the brute force over the support of the partner law and the *atoms* of the mixing
  weights: λ's quadrature nodes (``law.lambda_rule``; the law is not folded, since folding
  needs a symmetric pair law), their tensor product over the input elements for
  ``per="element"`` (``num_nodes^d`` atoms: small d only), or every mask position times the λ
  nodes (:func:`mixtheory.mixing.mask_exact.mask_atoms`: small images only). Every mixed batch is
  built by :func:`mixtheory.mixing.mix_batch`.

:func:`sampled_loss_for_rule` averages independent replicates of the sampler (each the mean loss
of one mixed batch) into a :class:`~mixtheory.monte_carlo.MonteCarloEstimate`, the quantity the
tests hold to the exact limit in standard errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch

from .._types import ArrayLike, Generator, Tensor
from .._validation import as_tensor, labels_for_model, model_outputs
from ..exact_loss import (
    LossOptions,
    MixedBlock,
    chunk_units,
    exact_mixup_loss,
    exact_sum,
    loss_options,
    spans,
)
from ..laws import DEFAULT_NODES, MixingLaw
from ..losses import Loss, get_loss
from ..monte_carlo import MonteCarloEstimate, monte_carlo_estimate
from .mask_exact import mask_atoms
from .masks import MaskKind, mask_from_name
from .partners import FixedPairing, PartnerLaw, UniformPartner
from .sampler import PARTNER_RULES, PartnerRule, Per, broadcast_mask, mix, mix_batch, partner_indices

__all__ = [
    "self_pair_fraction",
    "distinct_pairs_loss",
    "marginal_partner_law",
    "mixing_atoms",
    "erm_loss",
    "exact_loss_for_rule",
    "sampled_loss_for_rule",
]

#: the largest number of atoms (mixing-weight configurations) the brute force accepts
MAX_ATOMS = 200_000


def self_pair_fraction(partner: PartnerRule, batch_size: int) -> float:
    r"""``s_b``: the expected fraction of anchors paired with themselves in a batch of b.

    >>> [self_pair_fraction(rule, 5) for rule in ("uniform", "permutation", "flip", "roll")]
    [0.2, 0.2, 0.2, 0.0]
    """
    b = int(batch_size)
    if b != batch_size or b < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if partner in ("uniform", "permutation"):
        return 1.0 / b
    if partner == "flip":
        return (b % 2) / b
    if partner == "roll":
        return 1.0 if b == 1 else 0.0
    raise ValueError(f"partner must be one of {PARTNER_RULES}, got {partner!r}")


def distinct_pairs_loss(e_mix: float, e_erm: float, n: int) -> float:
    r"""``E_≠ = (n E_mix − E_ERM)/(n − 1)``: the mixup loss over ordered pairs j ≠ i.

    >>> distinct_pairs_loss(e_mix=1.5, e_erm=0.5, n=3)    # (9·1.5 − 3·0.5) / 6
    2.0
    """
    if n < 2:
        raise ValueError("distinct pairs need n >= 2")
    return (n * e_mix - e_erm) / (n - 1)


def marginal_partner_law(partner: PartnerRule | PartnerLaw, n: int) -> PartnerLaw:
    """Each anchor's marginal partner law on a fixed batch order: uniform for ``"uniform"`` and
    ``"permutation"``, the fixed pairing for ``"flip"`` and ``"roll"``, a law as is."""
    if isinstance(partner, PartnerLaw):
        if partner.n != n:
            raise ValueError(f"the partner law is on {partner.n} samples but X has {n}")
        return partner
    if partner in ("uniform", "permutation"):
        return UniformPartner(n)
    return FixedPairing(partner_indices(partner, n))


def mixing_atoms(
    law: MixingLaw,
    input_shape: tuple[int, ...],
    *,
    per: Per = "batch",
    mask: MaskKind | str | None = None,
    num_nodes: int = DEFAULT_NODES,
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Mixing weights with their probabilities: ``(weights (K,), lam (K, …) broadcasting against
    (n, *input_shape), label_weight (K,))`` (module docstring)."""
    rule = law.lambda_rule(num_nodes)
    nodes = torch.as_tensor(rule.nodes, dtype=torch.float64)
    weights = torch.as_tensor(rule.weights, dtype=torch.float64)
    ndim = len(input_shape) + 1
    if mask is not None:
        if per == "element":
            raise ValueError("per='element' is itself a mask of independent entries; give no mask")
        if len(input_shape) < 2:
            raise ValueError(f"masks need inputs (n, [C,] H, W); got input shape {tuple(input_shape)}")
        w, masks, label = mask_atoms(mask_from_name(mask), input_shape[-2], input_shape[-1], law, num_nodes)
        return w, broadcast_mask(masks, ndim)[:, None], label
    if per in ("batch", "pair"):
        return weights, nodes.reshape(-1, *([1] * ndim)), nodes
    if per != "element":
        raise ValueError(f"per must be 'batch', 'pair' or 'element', got {per!r}")
    d = math.prod(input_shape)
    if nodes.numel() ** d > MAX_ATOMS:
        raise ValueError(
            f"per='element' on {d} elements with {nodes.numel()} nodes needs {nodes.numel()}^{d} atoms "
            f"(> {MAX_ATOMS}); use fewer elements or num_nodes"
        )
    grid = torch.cartesian_prod(*([nodes] * d)).reshape(-1, d)
    prob = torch.cartesian_prod(*([weights] * d)).reshape(-1, d).prod(1)
    return prob, grid.reshape(-1, 1, *input_shape), grid.mean(1)


def _pair_rounds(law: PartnerLaw) -> tuple[Tensor, Tensor]:
    """The support of ``Π`` as rounds: ``partners (R, n)`` and ``probabilities (R, n)`` with round r
    holding each anchor's r-th partner (padded with probability 0), R the largest row support."""
    P = law.dense()
    support = P > 0
    count = int(support.sum(1).max())
    order = torch.argsort((~support).to(torch.int8), dim=1, stable=True)[:, :count]  # support first
    probs = torch.gather(P, 1, order)
    return order.T.contiguous(), probs.T.contiguous()


def _round_blocks(
    x: Tensor, y: Tensor, atoms, rounds: tuple[Tensor, Tensor], size: int
) -> Iterator[MixedBlock]:
    """Blocks of ``Σ_r Σ_k w_k Σ_i π_r(i) ℓ(mixed)``: one block per round of partners and chunk of
    ``size`` atoms, every mixed batch built by :func:`mix_batch`."""
    weights, lam, label = atoms
    n, c = x.shape[0], y.shape[1]
    partners, probs = rounds
    for partner, prob in zip(partners.to(x.device), probs.to(x.dtype).to(x.device)):
        for rows in spans(weights.numel(), size):
            mixed_x, mixed_y = mix_batch(x, y, lam[rows], partner, y_lam=label[rows].reshape(-1, 1, 1))
            k = mixed_x.shape[0]
            inputs, targets = mixed_x.reshape(k * n, *x.shape[1:]), mixed_y.reshape(k * n, c)
            yield MixedBlock(inputs, targets, factors=(weights[rows, None], prob[None]), shape=(k, n))


def _brute_force(model, x, y, loss, atoms, law: PartnerLaw, options: LossOptions) -> float:
    """``(1/n) Σ_i Σ_j π(j|i) Σ_k w_k ℓ(mixed)`` by :func:`~mixtheory.exact_loss.exact_sum`, one model
    call per round of partners and chunk of atoms (``chunk_size`` mixed points: whole atoms × n)."""
    atoms = tuple(t.to(x.dtype).to(x.device) for t in atoms)
    n = x.shape[0]
    size = chunk_units(options.chunk_size, n, 256)
    rounds = _pair_rounds(law)
    steps = rounds[0].shape[0] * math.ceil(atoms[0].numel() / size)
    blocks = _round_blocks(x, y, atoms, rounds, size)
    total = exact_sum(
        model, blocks, loss, dtype=x.dtype, device=x.device, steps=steps, progress=options.progress
    )
    return float(total / n)


def erm_loss(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    *,
    loss: str | Loss = "ce",
    num_classes: int | None = None,
) -> float:
    r"""``E_ERM = (1/n) Σ_i ℓ(y_i, f(x_i))``, the loss of every self-pair."""
    x = as_tensor("X", X, dtype=torch.float64)
    y = labels_for_model(model, x, Y, num_classes, x.dtype, x.device)
    with torch.no_grad():
        out = model_outputs(model, x, y.shape[1], out_dtype=x.dtype)
    return float(get_loss(loss).value(y, out).mean())


def exact_loss_for_rule(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    *,
    loss: str | Loss = "ce",
    partner: PartnerRule | PartnerLaw = "uniform",
    per: Per = "batch",
    mask: MaskKind | str | None = None,
    batch_size: int | None = None,
    num_classes: int | None = None,
    options: LossOptions | None = None,
) -> float:
    r"""The limit of the sampler's average batch loss (module docstring of
    :mod:`mixtheory.mixing.sampler` for the derivation): exact over partners and mask positions,
    and over λ as the module docstring says.

    Args:
        model: callable (batch, *input_shape) → (batch, c). X: (n, *input_shape); Y: (n, c)
            labels or (n,) class indices. law, loss: as for :func:`mix` and ``exact_mixup_loss``.
        partner, per, mask: the sampler's options.
        batch_size: None: the rule applied to (X, Y) in their order. b: the rule applied to a
            uniformly random ordered batch of b out of the n samples, without replacement
            (``s_b E_ERM + (1 − s_b) E_≠``; partner must then be a rule name).
        num_classes: the number of classes, for (n,) class indices (default: the model's outputs).
        options: :class:`~mixtheory.exact_loss.LossOptions`. ``route``: ``"auto"``
            (``exact_mixup_loss`` for ``E_mix`` and ``E_≠`` where it applies) or ``"pairs"``
            (always the brute force; the tests compare the two). ``chunk_size``: mixed points per
            model call, in whole atoms × n anchors in the brute force (default 256 atoms), and as
            :func:`~mixtheory.exact_loss.exact_mixup_loss` otherwise.

    >>> import torch
    >>> from mixtheory import SymmetricBeta
    >>> g = torch.Generator().manual_seed(0)
    >>> X, Y = torch.randn(6, 2, generator=g, dtype=torch.float64), torch.arange(6) % 2
    >>> W = torch.randn(2, 2, generator=g, dtype=torch.float64)
    >>> model = lambda x: torch.tanh(x @ W)
    >>> law = SymmetricBeta(0.4)
    >>> fast = exact_loss_for_rule(model, X, Y, law, partner="flip", batch_size=6)
    >>> pairs = LossOptions(route="pairs")
    >>> slow = exact_loss_for_rule(model, X, Y, law, partner="flip", batch_size=6, options=pairs)
    >>> abs(fast - slow) < 1e-10
    True
    """
    options = loss_options(options)
    x = as_tensor("X", X, dtype=options.dtype, device=options.device)
    y = labels_for_model(model, x, Y, num_classes, x.dtype, x.device)
    loss = get_loss(loss)
    n = x.shape[0]
    scalar_lambda = mask is None and per in ("batch", "pair")
    fold = scalar_lambda and options.route == "auto"
    if batch_size is not None:
        if isinstance(partner, PartnerLaw):
            raise ValueError("batch_size applies to the rules 'uniform', 'permutation', 'flip', 'roll'")
        if not 1 <= int(batch_size) <= n:
            raise ValueError(f"batch_size must lie in [1, n = {n}], got {batch_size!r}")
        s = self_pair_fraction(partner, batch_size)
        e_erm = erm_loss(model, x, y, loss=loss)
        if s == 1.0:
            return e_erm
        if fold:
            e_distinct = distinct_pairs_loss(
                exact_mixup_loss(model, x, y, law, loss=loss, options=options), e_erm, n
            )
        else:
            atoms = mixing_atoms(law, tuple(x.shape[1:]), per=per, mask=mask, num_nodes=options.num_nodes)
            e_distinct = _brute_force(model, x, y, loss, atoms, UniformPartner(n, False), options)
        return s * e_erm + (1.0 - s) * e_distinct
    uniform = not isinstance(partner, PartnerLaw) and partner in ("uniform", "permutation")
    if uniform and fold:
        return exact_mixup_loss(model, x, y, law, loss=loss, options=options)
    atoms = mixing_atoms(law, tuple(x.shape[1:]), per=per, mask=mask, num_nodes=options.num_nodes)
    return _brute_force(model, x, y, loss, atoms, marginal_partner_law(partner, n), options)


def sampled_loss_for_rule(
    model: Callable[[Tensor], Tensor],
    X: ArrayLike,
    Y: ArrayLike,
    law: MixingLaw,
    *,
    loss: str | Loss = "ce",
    num_draws: int = 256,
    batch_size: int | None = None,
    generator: Generator = None,
    num_classes: int | None = None,
    **mix_options,
) -> MonteCarloEstimate:
    r"""The sampler's average loss: ``num_draws`` independent mixed batches, each scored by its
    mean loss. ``batch_size``: draw each batch as b of the n samples in random order without
    replacement (as a shuffling data loader does); None: mix (X, Y) as given. ``mix_options``
    go to :func:`~mixtheory.mixing.sampler.mix` (``per``, ``partner``, ``mask``)."""
    x = as_tensor("X", X, dtype=torch.float64)
    y = labels_for_model(model, x, Y, num_classes, x.dtype, x.device)
    loss = get_loss(loss)
    n = x.shape[0]
    if int(num_draws) != num_draws or num_draws < 2:
        raise ValueError(f"num_draws must be an integer >= 2, got {num_draws!r}")
    replicates = []
    with torch.no_grad():
        for _ in range(int(num_draws)):
            xb, yb = x, y
            if batch_size is not None:
                pick = torch.randperm(n, generator=generator)[: int(batch_size)].to(x.device)
                xb, yb = x[pick], y[pick]
            out = mix(xb, yb, law, generator=generator, **mix_options)
            values = loss.value(out.targets, model_outputs(model, out.inputs, y.shape[1], out_dtype=x.dtype))
            replicates.append(float(values.mean()))
    return monte_carlo_estimate(replicates)
