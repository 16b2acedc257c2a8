"""Input conversion and checks shared by the public functions: clear errors that name the argument."""

from __future__ import annotations

import torch

Tensor = torch.Tensor


def as_tensor(name: str, value, dtype: torch.dtype | None = None, device=None) -> Tensor:
    """Convert numpy arrays, lists or tensors to a tensor; reject NaN and inf with a clear error."""
    try:
        t = torch.as_tensor(value, device=device)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"{name} must be an array or a tensor, got {type(value).__name__}") from exc
    if dtype is not None and (t.is_floating_point() or dtype.is_floating_point):
        t = t.to(dtype)
    if t.is_floating_point() and not torch.isfinite(t).all():
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); clean or impute them first")
    return t


def as_labels(name: str, Y, n: int, num_classes: int | None, dtype, device) -> Tensor:
    """Labels as an (n, c) float tensor: one-hot for integer class indices, as given otherwise."""
    y = torch.as_tensor(Y, device=device)
    if y.ndim == 1 and not y.is_floating_point():
        if y.shape[0] != n:
            raise ValueError(f"{name} has {y.shape[0]} labels but X has {n} samples")
        if (y < 0).any():
            raise ValueError(f"{name} has negative class indices")
        c = int(y.max()) + 1 if num_classes is None else int(num_classes)
        if int(y.max()) >= c:
            raise ValueError(f"{name} has class index {int(y.max())} >= num_classes={c}")
        return torch.nn.functional.one_hot(y.long(), c).to(dtype)
    y = as_tensor(name, y, dtype=dtype, device=device)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2:
        raise ValueError(f"{name} must be (n, c) label vectors or (n,) class indices, got {tuple(y.shape)}")
    if y.shape[0] != n:
        raise ValueError(f"{name} has {y.shape[0]} rows but X has {n} samples; they must match")
    return y


def check_labels_sum_to_one(name: str, Y: Tensor, what: str) -> None:
    """Cross-entropy's pseudo-inverse of H on 1⊥ is exact only when every label sums to 1."""
    sums = Y.sum(-1)
    tol = 1e-6 if Y.dtype == torch.float32 else 1e-10
    worst = float((sums - 1).abs().max()) if sums.numel() else 0.0
    if worst > tol:
        raise ValueError(
            f"{name}: every label must sum to 1 for {what} (the largest deviation is {worst:.3g}); "
            "the softmax Hessian H is singular along 1 and its pseudo-inverse is exact only when "
            "1ᵀΣ_yx = 0. Normalize the rows of Y, or use loss='mse' for unnormalized targets."
        )


def check_eval_mode(model) -> None:
    """A model in train mode with batch norm or dropout is not a fixed function of its input."""
    if not isinstance(model, torch.nn.Module) or not model.training:
        return
    stochastic = (torch.nn.modules.batchnorm._BatchNorm, torch.nn.modules.dropout._DropoutNd,
                  torch.nn.Dropout, torch.nn.AlphaDropout)
    bad = sorted({type(m).__name__ for m in model.modules() if isinstance(m, stochastic)})
    if bad:
        raise ValueError(
            f"model is in train mode and contains {', '.join(bad)}: its output depends on the batch "
            "or on random masks, so the regularizers are not defined. Call model.eval() first."
        )


def check_indices(indices, n: int, device=None) -> Tensor:
    if indices is None:
        return torch.arange(n, device=device)
    idx = torch.as_tensor(indices, device=device).reshape(-1)
    if idx.is_floating_point():
        raise TypeError("indices must be integers")
    if idx.numel() and (int(idx.min()) < -n or int(idx.max()) >= n):
        raise IndexError(f"indices must lie in [0, {n}), got range [{int(idx.min())}, {int(idx.max())}]")
    return idx.long() % n
