r"""The real mixup loss, exactly and as training samples it, and the second-order loss it is
compared with.

``E_mix(f) = (1/n²) Σ_i Σ_j E_λ ℓ(λ y_i + (1−λ) y_j, f(λ x_i + (1−λ) x_j))``.

- ``method="exact"``: quadrature over θ (the folded law, Theorem 1) times the exact sum over
  all n partners, in chunks; deterministic and accurate to ~1e-12 for smooth models.
  ``form="unfolded"`` uses λ's own law on [0, 1] instead (the definition, before folding); the two
  agree by Theorem 1, which is a test.
- ``method="sampled"``: drawn as training draws it, one λ per sample with a random partner, or
  one λ per batch with a random permutation of partners; the mean of independent replicates with
  its standard error.

:func:`second_order_loss` gives ``E_Q`` in closed form (ERM + R1..R4 from
:func:`mixtheory.regularizers.taylor_regularizers`) or by Monte Carlo over the actual perturbations
of the second-order Taylor polynomial ``l_Q``: an independent check of the closed-form algebra.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from ._validation import Tensor, as_labels, as_tensor, check_eval_mode, check_labels_sum_to_one
from .geometry import MixupGeometry
from .laws import DEFAULT_NODES, MixingLaw
from .losses import Loss, get_loss
from .regularizers import taylor_regularizers

__all__ = ["MonteCarloEstimate", "mixup_loss", "second_order_loss", "sampled_second_order_loss"]


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte Carlo mean with its standard error (std of replicates / √replicates)."""

    value: float
    stderr: float
    num_replicates: int

    def __float__(self) -> float:
        return self.value

    def zscore(self, reference: float) -> float:
        return (self.value - reference) / self.stderr if self.stderr > 0 else math.inf


def _replicate_estimate(replicates: list[float]) -> MonteCarloEstimate:
    r = torch.tensor(replicates, dtype=torch.float64)
    if r.numel() < 2:
        raise ValueError("num_draws must be >= 2 to estimate a standard error")
    return MonteCarloEstimate(float(r.mean()), float(r.std(unbiased=True) / math.sqrt(r.numel())), r.numel())


def _prepare(model, X, Y, law, loss, dtype, device, num_classes=None):
    if not isinstance(law, MixingLaw):
        raise TypeError(f"law must be a mixtheory law (e.g. SymmetricBeta(alpha)), got {type(law).__name__}")
    check_eval_mode(model)
    x = as_tensor("X", X, dtype=dtype, device=device)
    if x.ndim < 2:
        raise ValueError(f"X must be (n, d) or (n, *input_shape), got shape {tuple(x.shape)}")
    y = as_labels("Y", Y, x.shape[0], num_classes, x.dtype, x.device)
    loss = get_loss(loss)
    return x, y, loss


def _checked_outputs(out: Tensor, m: int, c: int) -> Tensor:
    """The model's outputs must have one column per label column (no silent broadcasting)."""
    if out.shape != (m, c):
        raise ValueError(
            f"model returned outputs of shape {tuple(out.shape)} for {m} inputs, but Y has {c} label "
            f"column(s): pass Y as (n, {out.shape[-1] if out.ndim == 2 else 'c'}) label vectors, or "
            "integer class indices with num_classes set to the model's number of outputs"
        )
    return out


def _progress(total: int, desc: str, enabled: bool | None):
    return tqdm(total=total, desc=desc, disable=(None if enabled is None else not enabled), leave=False)


def mixup_loss(
    model: Callable[[Tensor], Tensor],
    X,
    Y,
    law: MixingLaw,
    loss: str | Loss = "ce",
    method: str = "exact",
    *,
    form: str = "folded",
    num_nodes: int = DEFAULT_NODES,
    chunk_size: int | None = None,
    num_draws: int = 64,
    per: str = "sample",
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    device=None,
    num_classes: int | None = None,
    progress: bool | None = None,
) -> float | MonteCarloEstimate:
    r"""The mixup loss of ``model`` on (X, Y) with λ from ``law``.

    Args:
        model: callable mapping (batch, *input_shape) to (batch, c) outputs.
        X: (n, d) or (n, *input_shape); Y: (n, c) labels or (n,) class indices.
        law: the law of λ. loss: ``"ce"``, ``"mse"``, ``"logistic"``, a Loss or callable.
        method: ``"exact"`` (returns a float) or ``"sampled"`` (returns a MonteCarloEstimate).
        form: ``"folded"`` (θ on [1/2, 1], Theorem 1) or ``"unfolded"`` (λ on [0, 1]); exact only.
        num_nodes: quadrature nodes per Beta piece (exact).
        chunk_size: anchors per chunk (exact); memory is ``chunk_size · n · (d + c)``. Default:
            ~2e6 numbers per mixed batch (``benchmarks/bench_exact_loss.py`` compares chunk sizes).
        num_draws: independent replicates (sampled); each is an average over all n anchors.
        per: ``"sample"`` (one λ and a uniform partner per anchor) or ``"batch"`` (one λ per
            replicate, partners a random permutation), as in training code.
        generator: a ``torch.Generator`` for the sampled method.

    >>> import torch
    >>> from mixtheory import SymmetricBeta
    >>> g = torch.Generator().manual_seed(0)
    >>> X, Y = torch.randn(30, 4, generator=g, dtype=torch.float64), torch.arange(30) % 3
    >>> W = torch.randn(4, 3, generator=g, dtype=torch.float64)
    >>> model = lambda x: torch.tanh(x @ W)
    >>> folded = mixup_loss(model, X, Y, SymmetricBeta(0.5))
    >>> unfolded = mixup_loss(model, X, Y, SymmetricBeta(0.5), form="unfolded")
    >>> abs(folded - unfolded) / folded < 1e-10        # Theorem 1
    True
    """
    x, y, loss = _prepare(model, X, Y, law, loss, dtype, device, num_classes)
    n = x.shape[0]
    input_shape = x.shape[1:]
    x = x.reshape(n, -1)
    if method == "exact":
        if form == "folded":
            rule = law.theta_rule(num_nodes)
        elif form == "unfolded":
            rule = law.lambda_rule(num_nodes)
        else:
            raise ValueError(f"form must be 'folded' or 'unfolded', got {form!r}")
        nodes, weights = rule.to_torch(x.dtype, x.device)
        if chunk_size is None:
            # ~2e6 numbers per mixed batch: small enough to stay cache-friendly (see the benchmark)
            chunk_size = max(1, int(2e6 // (n * x.shape[1] + n * y.shape[1])))
        elif int(chunk_size) != chunk_size or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        total = torch.zeros((), dtype=torch.float64, device=x.device)
        steps = nodes.numel() * math.ceil(n / chunk_size)
        with torch.no_grad(), _progress(steps, "exact mixup loss", progress if steps > 50 else False) as bar:
            for t, w in zip(nodes, weights):
                for start in range(0, n, chunk_size):
                    xi, yi = x[start : start + chunk_size], y[start : start + chunk_size]
                    mixed_x = t * xi[:, None, :] + (1 - t) * x[None, :, :]
                    mixed_y = t * yi[:, None, :] + (1 - t) * y[None, :, :]
                    m = mixed_x.shape[0] * n
                    out = _checked_outputs(model(mixed_x.reshape(m, *input_shape)), m, y.shape[1])
                    values = loss.value(mixed_y.reshape(m, -1), out.to(x.dtype))
                    total += (w * values.sum()).to(torch.float64)
                    bar.update(1)
        return float(total / (n * n))

    if method != "sampled":
        raise ValueError(f"method must be 'exact' or 'sampled', got {method!r}")
    if per not in ("sample", "batch"):
        raise ValueError(f"per must be 'sample' or 'batch', got {per!r}")
    replicates = []
    with torch.no_grad():
        for _ in range(num_draws):
            if per == "sample":
                lam = law.sample_lambda(n, generator).to(x.dtype).to(x.device)[:, None]
                partner = torch.randint(n, (n,), generator=generator).to(x.device)
            else:
                lam = law.sample_lambda(1, generator).to(x.dtype).to(x.device)[:, None]
                partner = torch.randperm(n, generator=generator).to(x.device)
            mixed_x = lam * x + (1 - lam) * x[partner]
            mixed_y = lam * y + (1 - lam) * y[partner]
            out = _checked_outputs(model(mixed_x.reshape(n, *input_shape)), n, y.shape[1]).to(x.dtype)
            replicates.append(float(loss.value(mixed_y, out).mean()))
    return _replicate_estimate(replicates)


def second_order_loss(
    model: Callable[[Tensor], Tensor], geometry: MixupGeometry, loss: str | Loss = "ce"
) -> float:
    r"""Closed-form ``E_Q = (1/n) Σ_i [ℓ(ỹ_i, f(x̃_i)) + R1 + R2 + R3 + R4]`` (Theorem 3)."""
    regs = taylor_regularizers(model, geometry, loss)
    return float(sum(regs[k] for k in ("erm", "R1", "R2", "R3", "R4")).mean())


def sampled_second_order_loss(
    model: Callable[[Tensor], Tensor],
    geometry: MixupGeometry,
    loss: str | Loss = "ce",
    *,
    num_draws: int = 64,
    generator: torch.Generator | None = None,
) -> MonteCarloEstimate:
    r"""Monte Carlo of the second-order Taylor polynomial over the real perturbations:

    ``l_Q = ℓ + ℓ_yᵀε + ℓ_uᵀ(∇f δ) + ½[εᵀℓ_yy ε + 2 (∇f δ)ᵀ ℓ_uy ε + (∇f δ)ᵀ ℓ_uu (∇f δ)
    + ℓ_uᵀ (δᵀ ∇²f δ)]`` at ``(ỹ_i, f(x̃_i))``, with (θ, j) drawn per anchor. ``∇f δ`` and
    ``δᵀ∇²f δ`` come from one nested forward-mode pass (jvp of jvp). Each replicate averages
    over all anchors; the standard error is across replicates.
    """
    loss = get_loss(loss)
    check_eval_mode(model)
    if loss.requires_normalized_labels:
        check_labels_sum_to_one("Y", geometry.Y, f"the {loss.name} second-order loss")
    xt, yt = geometry.x_tilde, geometry.y_tilde

    def f(x_flat: Tensor) -> Tensor:
        return model(geometry.as_inputs(x_flat)[None])[0]

    def directional(x_flat: Tensor, v: Tensor):
        # one nested forward-mode pass: the primal of the outer jvp is ∇f v, its tangent vᵀ∇²f v
        def first(xx):
            return torch.func.jvp(f, (xx,), (v,))[1]

        return torch.func.jvp(first, (x_flat,), (v,))

    with torch.no_grad():
        u = model(geometry.as_inputs(xt)).to(geometry.dtype)
    L = loss.value(yt, u)
    L_u, L_y = loss.grad_u(yt, u), loss.grad_y(yt, u)
    L_uu, L_uy, L_yy = loss.hess_uu(yt, u), loss.hess_uy(yt, u), loss.hess_yy(yt, u)
    replicates = []
    for _ in range(num_draws):
        delta, eps = geometry.sample_perturbations(1, generator=generator)
        with torch.no_grad():  # forward-mode needs no graph for the parameters
            jv, hvv = torch.func.vmap(directional)(xt, delta[:, 0])
        eps = eps[:, 0]
        lq = (
            L
            + (L_y * eps).sum(-1)
            + (L_u * jv).sum(-1)
            + 0.5
            * (
                torch.einsum("mk,mkl,ml->m", eps, L_yy, eps)
                + 2 * torch.einsum("mk,mkl,ml->m", jv, L_uy, eps)
                + torch.einsum("mk,mkl,ml->m", jv, L_uu, jv)
                + (L_u * hvv).sum(-1)
            )
        )
        replicates.append(float(lq.mean()))
    return _replicate_estimate(replicates)
