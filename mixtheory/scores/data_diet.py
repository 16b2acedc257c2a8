r"""Scores read from a network's outputs or gradients: EL2N and GraNd (Paul, Ganguli, Dziugaite,
"Deep Learning on a Data Diet: Finding Important Examples Early in Training", NeurIPS 2021,
eqs. 1–2), the logit margin and the predictive entropy; conventions in :mod:`mixtheory.scores`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from .._types import ArrayLike, DeviceLike, Model, Tensor
from .._validation import (
    as_labels,
    as_tensor,
    check_device,
    check_eval_mode,
    check_model,
    model_dtype_device,
    model_outputs,
)
from ..losses import Loss, get_loss

__all__ = ["el2n", "grand", "margin", "margin_from_logits", "prediction_entropy", "entropy_from_logits"]


# ---------------------------------------------------------------------------------------------
# shared plumbing
# ---------------------------------------------------------------------------------------------


def _as_model_list(model, name: str = "model") -> list:
    models = list(model) if isinstance(model, (list, tuple)) else [model]
    if not models:
        raise ValueError(f"{name} is an empty list: pass a model or a non-empty list of models")
    for i, m in enumerate(models):
        check_model(m, f"{name}[{i}]" if isinstance(model, (list, tuple)) else name)
        try:
            check_eval_mode(m)
        except ValueError as exc:
            where = f"{name}[{i}]" if isinstance(model, (list, tuple)) else name
            raise ValueError(
                f"{where} is in train mode with batch norm or dropout: a sample's output then depends "
                "on the rest of its batch or on random masks, so per-sample scores are not defined. "
                "Call .eval() on it first."
            ) from exc
    return models


def _place_models(models: list, device: torch.device | None) -> list:
    """Models on ``device``: a model living elsewhere is copied there (the caller's is not moved)."""
    if device is None:
        return models
    placed = []
    for m in models:
        _, dev = model_dtype_device(m)
        if isinstance(m, nn.Module) and dev is not None and dev != device:
            m = copy.deepcopy(m).to(device)
        placed.append(m)
    return placed


def _check_inputs(X, device: torch.device | None) -> Tensor:
    X = as_tensor("X", X, device=device)
    if X.ndim == 0:
        raise ValueError("X must have a leading sample dimension: (n, ...) inputs, got a scalar")
    if X.shape[0] == 0:
        raise ValueError("X is empty (0 samples): give at least one input")
    return X


def _check_chunk_size(value: int, name: str = "chunk_size") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


@torch.no_grad()
def _logits(model, X: Tensor, chunk_size: int) -> Tensor:
    """f(X): (n, c) in the model's dtype, on X's device, computed in chunks without a graph."""
    return torch.cat(
        [model_outputs(model, X[i : i + chunk_size], None) for i in range(0, len(X), chunk_size)]
    )


def _labels_for(Y, n: int, c: int, dtype: torch.dtype, device) -> Tensor:
    return as_labels("Y", Y, n, None, dtype, device, num_outputs=c)


def _common_dtype(tensors: Sequence[Tensor]) -> torch.dtype:
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return dtype


def _mean_over_models(per_model: list[Tensor]) -> Tensor:
    dtype = _common_dtype(per_model)
    return torch.stack([s.to(dtype) for s in per_model]).mean(0)


# ---------------------------------------------------------------------------------------------
# EL2N and GraNd
# ---------------------------------------------------------------------------------------------


def el2n(
    model: Model | Sequence[Model],
    X: ArrayLike,
    Y: ArrayLike,
    *,
    chunk_size: int = 256,
    device: DeviceLike = None,
) -> Tensor:
    r"""Error L2 norm of every sample: ``EL2N(x, y) = ‖softmax(f(x)) − y‖₂``.

    Paul, Ganguli, Dziugaite, "Deep Learning on a Data Diet", NeurIPS 2021, eq. (2). With a list
    of k models (k runs at the same epoch t) the score is ``(1/k) Σ_j ‖softmax(f_j(x)) − y‖₂``.
    For one-hot y it lies in [0, √2]; 0 means a confident correct prediction.

    Args:
        model: a module or callable mapping ``(b, ...)`` inputs to ``(b, c)`` logits, or a list
            of them (same c). Modules with batch norm or dropout must be in eval mode.
        X: ``(n, ...)`` inputs, sent to each model in its own dtype and device.
        Y: ``(n,)`` integer class indices or ``(n, c)`` label vectors.
        chunk_size: samples per forward pass (bounds memory; it changes the scores only by rounding).
        device: where to compute (a model elsewhere is copied there); None: each model's own.

    Returns: ``(n,)`` scores in the models' dtype, on ``device`` (X's device when None).

    >>> net = torch.nn.Linear(3, 2).double()
    >>> X = torch.randn(4, 3, dtype=torch.float64)
    >>> y = torch.tensor([0, 1, 1, 0])
    >>> p = torch.softmax(net(X), -1)
    >>> expected = (p - torch.nn.functional.one_hot(y, 2)).norm(dim=-1)
    >>> torch.allclose(el2n(net, X, y), expected.detach())
    True
    """
    device = check_device(device)
    chunk_size = _check_chunk_size(chunk_size)
    models = _place_models(_as_model_list(model), device)
    X = _check_inputs(X, device)
    n = X.shape[0]
    per_model, num_outputs = [], None
    for m in models:
        logits = _logits(m, X, chunk_size)
        if num_outputs is not None and logits.shape[1] != num_outputs:
            raise ValueError(
                f"the models disagree on the number of outputs ({num_outputs} vs {logits.shape[1]})"
            )
        num_outputs = logits.shape[1]
        labels = _labels_for(Y, n, num_outputs, logits.dtype, logits.device)
        per_model.append((torch.softmax(logits, -1) - labels).norm(dim=-1))
    return _mean_over_models(per_model)


def _trainable(model: nn.Module, where: str) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """(trainable parameters, everything else the forward pass reads: frozen parameters, buffers)."""
    params = {k: p.detach() for k, p in model.named_parameters() if p.requires_grad}
    if not params:
        raise ValueError(f"{where} has no trainable parameters (requires_grad=True): GraNd is undefined")
    constants = {k: p.detach() for k, p in model.named_parameters() if not p.requires_grad}
    constants.update(dict(model.named_buffers()))
    return params, constants


def _grad_norms_one_model(model: nn.Module, X: Tensor, Y, loss: Loss, chunk_size: int, where: str) -> Tensor:
    from torch.func import functional_call, grad, vmap

    params, constants = _trainable(model, where)
    dtype, dev = model_dtype_device(model)
    x_all = X.to(device=dev, dtype=dtype if X.is_floating_point() else None)
    # a plain forward pass on one sample checks the output shape and finiteness with clear errors
    c = model_outputs(model, x_all[:1], None).shape[1]
    labels = _labels_for(Y, X.shape[0], c, dtype, dev)

    def sample_loss(p: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        out = functional_call(model, (p, constants), (x.unsqueeze(0),))
        return loss.value(y.unsqueeze(0), out).squeeze(0)

    per_sample_grad = vmap(grad(sample_loss), in_dims=(None, 0, 0))
    norms = []
    for i in range(0, X.shape[0], chunk_size):
        grads = per_sample_grad(params, x_all[i : i + chunk_size], labels[i : i + chunk_size])
        squared = sum(g.reshape(g.shape[0], -1).pow(2).sum(1) for g in grads.values())
        norms.append(squared.sqrt())
    return torch.cat(norms).to(X.device)


def grand(
    model: Model | Sequence[Model],
    X: ArrayLike,
    Y: ArrayLike,
    *,
    loss: str | Loss = "ce",
    chunk_size: int = 64,
    device: DeviceLike = None,
) -> Tensor:
    r"""Gradient norm of every sample's loss: ``GraNd(x, y) = ‖∇_w ℓ(f_w(x), y)‖₂``.

    Paul, Ganguli, Dziugaite, "Deep Learning on a Data Diet", NeurIPS 2021, eq. (1), over *all*
    trainable parameters w (those with ``requires_grad=True``; frozen ones and buffers are held
    fixed), exact: per-sample gradients by ``torch.func.vmap(torch.func.grad(...))`` over
    ``functional_call``, in chunks of ``chunk_size`` samples so that memory stays at about
    ``chunk_size × (number of parameters)`` numbers. The loss is per sample (not a batch mean).
    With a list of k models the score is the mean of the k per-model norms.

    Args:
        model: an ``nn.Module`` mapping ``(b, ...)`` to ``(b, c)`` logits, in eval mode if it has
            batch norm or dropout (its output must not depend on the rest of the batch), or a list.
        X: ``(n, ...)`` inputs; Y: ``(n,)`` class indices or ``(n, c)`` label vectors.
        loss: ``"ce"`` (softmax cross-entropy with soft labels, ``logsumexp(u) − yᵀu``), ``"mse"``,
            ``"logistic"`` or a :class:`mixtheory.losses.Loss` (see :func:`mixtheory.losses.get_loss`).
        chunk_size: samples per vmapped gradient pass (bounds memory; it changes the norms only by rounding).
        device: where to compute (a model elsewhere is copied there); None: each model's own.

    Returns: ``(n,)`` norms in the models' dtype, on ``device`` (X's device when None).

    For a linear model u = Wx + b under cross-entropy, ∇_W ℓ = (p − y) xᵀ and ∇_b ℓ = p − y, so
    GraNd = ‖p − y‖₂ · √(‖x‖² + 1) = EL2N · √(‖x‖² + 1):

    >>> net = torch.nn.Linear(3, 4).double()
    >>> X = torch.randn(5, 3, dtype=torch.float64)
    >>> y = torch.tensor([0, 1, 2, 3, 0])
    >>> expected = el2n(net, X, y) * (X.pow(2).sum(1) + 1).sqrt()
    >>> torch.allclose(grand(net, X, y), expected)
    True
    """
    device = check_device(device)
    chunk_size = _check_chunk_size(chunk_size)
    loss_fn = get_loss(loss)
    models = _place_models(_as_model_list(model), device)
    for i, m in enumerate(models):
        if not isinstance(m, nn.Module):
            where = f"model[{i}]" if len(models) > 1 else "model"
            raise TypeError(f"{where} must be a torch.nn.Module (GraNd differentiates its parameters)")
    X = _check_inputs(X, device)
    per_model = [
        _grad_norms_one_model(m, X, Y, loss_fn, chunk_size, f"model[{i}]" if len(models) > 1 else "model")
        for i, m in enumerate(models)
    ]
    return _mean_over_models(per_model)


# ---------------------------------------------------------------------------------------------
# margin and entropy
# ---------------------------------------------------------------------------------------------


def _is_array(value) -> bool:
    return isinstance(value, Tensor) or hasattr(value, "__array__")


def _check_logits(logits) -> Tensor:
    logits = as_tensor("logits", logits)
    if not logits.is_floating_point():
        logits = logits.double()
    if logits.ndim != 2 or logits.shape[0] == 0:
        raise ValueError(f"logits must be a non-empty (n, c) array, got shape {tuple(logits.shape)}")
    return logits


def _model_logits(name: str, model, X, chunk_size: int, fix: str) -> list[Tensor]:
    """Each model's ``(n, c)`` logits on X; a clear error for the old ``name(logits, ...)`` form."""
    if _is_array(model):
        raise TypeError(
            f"{name} takes (model, X, ...): model is an array, so this looks like the old call "
            f"{name}(logits, ...); for logits at hand call {fix}"
        )
    if X is None:
        raise ValueError(f"{name} needs the inputs X = (n, ...) to apply the model to")
    chunk_size = _check_chunk_size(chunk_size)
    X = _check_inputs(X, None)
    return [_logits(m, X, chunk_size) for m in _as_model_list(model)]


def _margin(logits: Tensor, Y) -> Tensor:
    n, c = logits.shape
    if c < 2:
        raise ValueError(f"the margin needs at least 2 classes; the logits have shape {tuple(logits.shape)}")
    labels = _labels_for(Y, n, c, logits.dtype, logits.device)
    target = labels.argmax(-1)
    true_logit = logits.gather(1, target[:, None]).squeeze(1)
    others = logits.scatter(1, target[:, None], float("-inf"))
    return true_logit - others.amax(-1)


def _entropy(logits: Tensor) -> Tensor:
    log_p = torch.log_softmax(logits, -1)
    return -(log_p.exp() * log_p).sum(-1)


def margin(model: Model | Sequence[Model], X: ArrayLike, Y: ArrayLike, *, chunk_size: int = 256) -> Tensor:
    r"""Logit margin of every sample: ``f_y(x) − max_{k≠y} f_k(x)`` (negative when misclassified).

    Args:
        model: a model or a list of models applied to ``X`` (per-model margins averaged); c ≥ 2.
        X: ``(n, ...)`` inputs.
        Y: ``(n,)`` class indices, or ``(n, c)`` label vectors whose largest entry is the class.
        chunk_size: samples per forward pass (bounds memory; it changes the margins only by rounding).

    Returns: ``(n,)`` margins. For logits at hand use :func:`margin_from_logits`.

    >>> net = torch.nn.Linear(3, 2).double()
    >>> X = torch.randn(4, 3, dtype=torch.float64)
    >>> y = torch.tensor([0, 1, 1, 0])
    >>> torch.equal(margin(net, X, y), margin_from_logits(net(X).detach(), y))
    True
    """
    fix = "margin_from_logits(logits, Y)"
    return _mean_over_models([_margin(lg, Y) for lg in _model_logits("margin", model, X, chunk_size, fix)])


def margin_from_logits(logits: ArrayLike, Y: ArrayLike) -> Tensor:
    r""":func:`margin` of ``(n, c)`` logits at hand: ``f_y(x) − max_{k≠y} f_k(x)``.

    >>> margin_from_logits(torch.tensor([[2.0, 0.5, -1.0], [0.0, 3.0, 1.0]]), torch.tensor([0, 2]))
    tensor([ 1.5000, -2.0000])
    """
    return _margin(_check_logits(logits), Y)


def prediction_entropy(model: Model | Sequence[Model], X: ArrayLike, *, chunk_size: int = 256) -> Tensor:
    r"""Entropy of every predicted distribution: ``−Σ_k p_k log p_k``, ``p = softmax(f(x))``.

    Computed from ``log_softmax`` (finite however saturated the softmax); in [0, log c].

    Args:
        model: a model or a list of models applied to ``X`` (per-model entropies averaged).
        X: ``(n, ...)`` inputs.
        chunk_size: samples per forward pass (bounds memory; it changes the entropies only by rounding).

    Returns: ``(n,)`` entropies in nats. For logits at hand use :func:`entropy_from_logits`.
    """
    fix = "entropy_from_logits(logits)"
    per_model = _model_logits("prediction_entropy", model, X, chunk_size, fix)
    return _mean_over_models([_entropy(lg) for lg in per_model])


def entropy_from_logits(logits: ArrayLike) -> Tensor:
    r""":func:`prediction_entropy` of ``(n, c)`` logits at hand, in nats.

    >>> h = entropy_from_logits(torch.zeros(2, 4, dtype=torch.float64))
    >>> torch.allclose(h, torch.log(torch.tensor(4.0, dtype=torch.float64)))
    True
    """
    return _entropy(_check_logits(logits))
