r"""When the training loop reads a sample's correctness for the forgetting tracker.

Toneva et al. (ICLR 2019) and the data_diet code (Paul, Ganguli, Dziugaite, NeurIPS 2021) take a
sample's correctness from the training forward pass, *before* the optimizer step. Objectives that
already computed clean logits (ERM, RegMixup) hand them over; the others (Mixup, CutMix, ...) never
see the clean sample, so it is forwarded once with the same pre-step weights through the
objective's predictor (approximate mixup's test-time rescaling, Carratino et al., JMLR 2022), with
the model's buffers (batch-norm running statistics) restored afterwards so that the extra pass
leaves training unchanged. ``timing="after_step"`` forwards the predictor after the step instead.
"""

from __future__ import annotations

import torch
from torch import nn

from .._types import Tensor
from .monitor import Monitor
from .objectives import Objective, TrainingData

__all__ = ["forgetting_logits", "record_forgetting"]


def forgetting_logits(
    objective: Objective, model: nn.Module, X: Tensor, clean_logits: Tensor | None
) -> Tensor:
    """Logits of the clean samples X with the current weights: the objective's own clean logits
    when it computed them with its plain model, else one forward of its predictor that leaves the
    model's buffers as they were."""
    predictor = objective.predictor(model)
    if clean_logits is not None and predictor is model:
        return clean_logits
    saved = {name: buf.detach().clone() for name, buf in model.named_buffers()}
    try:
        with torch.no_grad():
            return predictor(X)
    finally:
        with torch.no_grad():
            for name, buf in model.named_buffers():
                buf.copy_(saved[name])


def record_forgetting(
    monitor: Monitor,
    stage: str,
    objective: Objective,
    model: nn.Module,
    data: TrainingData,
    idx: Tensor,
    clean_logits: Tensor | None,
) -> None:
    """Give ``monitor`` (its forgetting tracker) the samples ``idx`` of ``data`` (a TrainingData) at
    ``stage`` ("before_step" or "after_step") if that is the tracker's timing."""
    tracker = monitor.tracker
    if tracker is None or tracker.timing != stage:
        return
    X = data.X[idx.to(data.X.device)]
    logits = forgetting_logits(objective, model, X, clean_logits if stage == "before_step" else None)
    monitor.observe(idx, logits, data.labels[idx])
