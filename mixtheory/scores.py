r"""Data-valuation scores: how hard, or how important, each training sample is to a network.

Per-sample scores of a trained (or partly trained) classifier f_w with c logits, for inputs
``X: (n, ...)`` and labels ``Y``: ``(n,)`` integer class indices or ``(n, c)`` label vectors
(one-hot or soft):

- :func:`el2n`: the error L2 norm ``‖softmax(f_w(x)) − y‖₂`` (Paul, Ganguli, Dziugaite, "Deep
  Learning on a Data Diet: Finding Important Examples Early in Training", NeurIPS 2021, eq. 2).
- :func:`grand`: the gradient norm ``‖∇_w ℓ(f_w(x), y)‖₂`` over every trainable parameter (same
  paper, eq. 1), exact, through ``torch.func`` per-sample gradients.
- :func:`margin`: ``f_y(x) − max_{k≠y} f_k(x)``, the logit of the true class minus the largest
  other logit (negative when misclassified).
- :func:`prediction_entropy`: ``−Σ_k p_k log p_k`` with ``p = softmax(f_w(x))``.
- :class:`ForgettingTracker`: forgetting events counted during training (Toneva, Sordoni,
  Combes, Trischler, Bengio, Gordon, "An Empirical Study of Example Forgetting during Deep
  Neural Network Learning", ICLR 2019), with the class each sample is forgotten *to*.

A list of models (k independent runs stopped at the same epoch t) gives the mean of the
per-model scores, the Data Diet convention: the norm is taken per model, then averaged (not the
norm of the averaged prediction). Models must be in eval mode when they hold batch norm or
dropout: in train mode a sample's output depends on the rest of its batch or on random masks,
so a per-sample score is not defined.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from ._types import ArrayLike, DeviceLike, Model, Tensor
from ._validation import (
    as_labels,
    as_tensor,
    check_device,
    check_eval_mode,
    check_model,
    model_dtype_device,
    model_outputs,
)
from .losses import Loss, get_loss

__all__ = ["el2n", "grand", "margin", "prediction_entropy", "ForgettingTracker"]


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


def _check_batch_size(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


@torch.no_grad()
def _logits(model, X: Tensor, batch_size: int) -> Tensor:
    """f(X): (n, c) in the model's dtype, on X's device, computed in chunks without a graph."""
    return torch.cat(
        [model_outputs(model, X[i : i + batch_size], None) for i in range(0, len(X), batch_size)]
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
    model: Model, X: ArrayLike, Y: ArrayLike, *, batch_size: int = 256, device: DeviceLike = None
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
        batch_size: samples per forward pass.
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
    batch_size = _check_batch_size(batch_size, "batch_size")
    models = _place_models(_as_model_list(model), device)
    X = _check_inputs(X, device)
    n = X.shape[0]
    per_model, num_outputs = [], None
    for m in models:
        logits = _logits(m, X, batch_size)
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
    model: Model,
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
        chunk_size: samples per vmapped gradient pass.
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
    chunk_size = _check_batch_size(chunk_size, "chunk_size")
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


def _logits_from(model_or_logits, X, batch_size: int) -> list[Tensor]:
    if isinstance(model_or_logits, Tensor) or hasattr(model_or_logits, "__array__"):
        if X is not None:
            raise ValueError("X is given but model_or_logits is already an array of logits; pass one")
        logits = as_tensor("model_or_logits", model_or_logits)
        if not logits.is_floating_point():
            logits = logits.double()
        if logits.ndim != 2 or logits.shape[0] == 0:
            raise ValueError(f"logits must be a non-empty (n, c) array, got shape {tuple(logits.shape)}")
        return [logits]
    if X is None:
        raise ValueError("model_or_logits is a model: pass the inputs X=(n, ...) as well")
    batch_size = _check_batch_size(batch_size, "batch_size")
    X = _check_inputs(X, None)
    return [_logits(m, X, batch_size) for m in _as_model_list(model_or_logits, "model_or_logits")]


def margin(
    model_or_logits: Model | Sequence[Model] | ArrayLike,
    Y: ArrayLike,
    *,
    X: ArrayLike | None = None,
    batch_size: int = 256,
) -> Tensor:
    r"""Logit margin of every sample: ``f_y(x) − max_{k≠y} f_k(x)`` (negative when misclassified).

    Args:
        model_or_logits: ``(n, c)`` logits (array or tensor), or a model / list of models applied
            to ``X`` (per-model margins averaged); c ≥ 2.
        Y: ``(n,)`` class indices, or ``(n, c)`` label vectors whose largest entry is the class.
        X: ``(n, ...)`` inputs when a model is given.

    Returns: ``(n,)`` margins.

    >>> margin(torch.tensor([[2.0, 0.5, -1.0], [0.0, 3.0, 1.0]]), torch.tensor([0, 2]))
    tensor([ 1.5000, -2.0000])
    """
    per_model = []
    for logits in _logits_from(model_or_logits, X, batch_size):
        n, c = logits.shape
        if c < 2:
            raise ValueError(
                f"the margin needs at least 2 classes; the logits have shape {tuple(logits.shape)}"
            )
        labels = _labels_for(Y, n, c, logits.dtype, logits.device)
        target = labels.argmax(-1)
        true_logit = logits.gather(1, target[:, None]).squeeze(1)
        others = logits.scatter(1, target[:, None], float("-inf"))
        per_model.append(true_logit - others.amax(-1))
    return _mean_over_models(per_model)


def prediction_entropy(
    model_or_logits: Model | Sequence[Model] | ArrayLike, *, X: ArrayLike | None = None, batch_size: int = 256
) -> Tensor:
    r"""Entropy of every predicted distribution: ``−Σ_k p_k log p_k``, ``p = softmax(f(x))``.

    Computed from ``log_softmax`` (finite however saturated the softmax); in [0, log c].

    Args:
        model_or_logits: ``(n, c)`` logits, or a model / list of models applied to ``X``
            (per-model entropies averaged).
        X: ``(n, ...)`` inputs when a model is given.

    Returns: ``(n,)`` entropies in nats.

    >>> h = prediction_entropy(torch.zeros(2, 4, dtype=torch.float64))
    >>> torch.allclose(h, torch.log(torch.tensor(4.0, dtype=torch.float64)))
    True
    """
    per_model = []
    for logits in _logits_from(model_or_logits, X, batch_size):
        log_p = torch.log_softmax(logits, -1)
        per_model.append(-(log_p.exp() * log_p).sum(-1))
    return _mean_over_models(per_model)


# ---------------------------------------------------------------------------------------------
# forgetting events
# ---------------------------------------------------------------------------------------------


def _as_index_vector(name: str, value, length: int | None) -> Tensor:
    try:
        t = torch.as_tensor(value).detach().cpu()
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"{name} must be an array or tensor of integers, got {type(value).__name__}") from exc
    if t.ndim == 2 and name == "predicted":
        raise ValueError(
            f"predicted has shape {tuple(t.shape)}: pass predicted class indices (b,), e.g. logits.argmax(-1)"
        )
    if t.ndim != 1:
        raise ValueError(f"{name} must be a 1-D vector (b,), got shape {tuple(t.shape)}")
    if t.numel() == 0:
        return t.long()  # an empty list comes in as float32
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"{name} must hold integers, got {t.dtype}")
    if length is not None and t.shape[0] != length:
        raise ValueError(f"{name} has {t.shape[0]} entries but indices has {length}; they must match")
    return t.long()


class ForgettingTracker:
    r"""Forgetting events of every training sample, updated after each presentation.

    Toneva et al., "An Empirical Study of Example Forgetting during Deep Neural Network Learning",
    ICLR 2019. Conventions:

    - Sample i's accuracy at its p-th presentation is ``acc_i(p) = [predicted = label]``. A
      *forgetting event* is a transition ``acc_i(p−1) = 1 → acc_i(p) = 0`` between two consecutive
      presentations of the same sample; the first presentation is never an event (the state
      before it counts as "not learned"). :attr:`events` counts them.
    - :attr:`first_learned`: the number of presentations of i *before* the first one at which it
      was classified correctly (0 if correct at its first presentation: with one presentation
      per epoch, the 0-based epoch), −1 if never correct so far.
    - :meth:`scores`: the forgetting count used to rank samples. A sample never learned has no
      events but is the hardest of all; following the paper it scores ∞
      (``never_learned="inf"``), or, following its released code, the number of epochs
      (``never_learned="epochs"``), which also exceeds every learned sample's count (at most
      ⌊p/2⌋ events in p presentations). Samples never presented count as never learned.
    - :attr:`class_matrix`: ``(c, c)`` counts, ``[true class, predicted class]`` at each
      forgetting event: which class each class is forgotten *to*.

    - ``timing``: when the loop of :func:`mixtheory.training.train` reads a sample's correctness.
      ``"before_step"`` (default, as Toneva et al. and data_diet count it): from the training
      forward pass, before the optimizer step (objectives that never see the clean sample, such as
      Mixup, get a forward of the clean sample with the same pre-step weights, through the
      objective's predictor: approximate mixup's rescaled one). ``"after_step"``: a fresh forward
      of the predictor after the step.

    All state lives on the CPU as int64 tensors; :meth:`state_dict` / :meth:`load_state_dict`
    save and restore it with a checkpoint. Indices must be distinct within one update.

    >>> tracker = ForgettingTracker(3, num_classes=2)
    >>> labels = torch.tensor([0, 1, 1])
    >>> for predicted in ([0, 0, 1], [1, 1, 1], [0, 1, 0]):  # one epoch each, all samples
    ...     tracker.update(torch.arange(3), torch.tensor(predicted), labels)
    >>> tracker.events.tolist(), tracker.first_learned.tolist()
    ([1, 0, 1], [0, 1, 0])
    >>> tracker.scores().tolist()
    [1.0, 0.0, 1.0]
    >>> tracker.class_matrix.tolist()  # sample 0: class 0 forgotten to 1; sample 2: 1 to 0
    [[0, 1], [1, 0]]
    """

    def __init__(
        self,
        num_samples: int,
        num_classes: int,
        *,
        never_learned: Literal["inf", "epochs"] = "inf",
        timing: Literal["before_step", "after_step"] = "before_step",
    ) -> None:
        for name, value, least in (("num_samples", num_samples, 1), ("num_classes", num_classes, 2)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        if never_learned not in ("inf", "epochs"):
            raise ValueError(f"never_learned must be 'inf' or 'epochs', got {never_learned!r}")
        if timing not in ("before_step", "after_step"):
            raise ValueError(f"timing must be 'before_step' or 'after_step', got {timing!r}")
        self.timing = timing
        self.num_samples = num_samples
        self.num_classes = num_classes
        self.never_learned = never_learned
        self._events = torch.zeros(num_samples, dtype=torch.long)
        self._first_learned = torch.full((num_samples,), -1, dtype=torch.long)
        self._presentations = torch.zeros(num_samples, dtype=torch.long)
        self._last_correct = torch.zeros(num_samples, dtype=torch.bool)
        self._class_matrix = torch.zeros(num_classes, num_classes, dtype=torch.long)

    def update(self, indices: ArrayLike, predicted: ArrayLike, labels: ArrayLike) -> None:
        """Record one presentation of the samples ``indices`` (b,): their predicted classes
        ``predicted`` (b,) and true classes ``labels`` (b,), integer tensors on any device."""
        idx = _as_index_vector("indices", indices, None)
        pred = _as_index_vector("predicted", predicted, idx.shape[0])
        true = _as_index_vector("labels", labels, idx.shape[0])
        if idx.numel() == 0:
            return
        if int(idx.min()) < 0 or int(idx.max()) >= self.num_samples:
            raise IndexError(
                f"indices must lie in [0, {self.num_samples}), got range [{int(idx.min())}, {int(idx.max())}]"
            )
        if torch.unique(idx).numel() != idx.numel():
            raise ValueError(
                "indices repeats a sample within one update; call update once per presentation of a sample"
            )
        for name, t in (("predicted", pred), ("labels", true)):
            if int(t.min()) < 0 or int(t.max()) >= self.num_classes:
                raise ValueError(
                    f"{name} holds class {int(t.min()) if int(t.min()) < 0 else int(t.max())}, outside "
                    f"[0, {self.num_classes}) (num_classes={self.num_classes})"
                )
        correct = pred == true
        forgotten = self._last_correct[idx] & ~correct
        self._events[idx] += forgotten.long()
        ones = torch.ones(int(forgotten.sum()), dtype=torch.long)
        self._class_matrix.index_put_((true[forgotten], pred[forgotten]), ones, accumulate=True)
        newly = correct & (self._first_learned[idx] < 0)
        self._first_learned[idx[newly]] = self._presentations[idx[newly]]
        self._presentations[idx] += 1
        self._last_correct[idx] = correct

    @property
    def events(self) -> Tensor:
        """(n,) int64: forgetting events (correct → incorrect transitions) of each sample."""
        return self._events.clone()

    @property
    def first_learned(self) -> Tensor:
        """(n,) int64: presentations before the first correct one; −1 if never correct."""
        return self._first_learned.clone()

    @property
    def presentations(self) -> Tensor:
        """(n,) int64: how many times each sample has been presented."""
        return self._presentations.clone()

    @property
    def last_correct(self) -> Tensor:
        """(n,) bool: whether each sample was correct at its latest presentation."""
        return self._last_correct.clone()

    @property
    def never_learned_mask(self) -> Tensor:
        """(n,) bool: samples never classified correctly (never presented included)."""
        return self._first_learned < 0

    @property
    def class_matrix(self) -> Tensor:
        """(c, c) int64: ``[true class, predicted class]`` counts over all forgetting events."""
        return self._class_matrix.clone()

    def scores(self, num_epochs: int | None = None) -> Tensor:
        """(n,) float64 forgetting counts, never-learned samples set by the ``never_learned``
        convention: ∞, or ``num_epochs`` (default: the largest presentation count, the number of
        epochs when each sample is presented once per epoch)."""
        if num_epochs is not None and (isinstance(num_epochs, bool) or not isinstance(num_epochs, int)):
            raise TypeError(f"num_epochs must be an integer or None, got {num_epochs!r}")
        if num_epochs is not None and num_epochs <= int(self._events.max()):
            raise ValueError(
                f"num_epochs={num_epochs} would not rank never-learned samples above learned ones: a "
                f"sample has already been forgotten {int(self._events.max())} times"
            )
        out = self._events.to(torch.float64)
        if self.never_learned == "inf":
            fill = float("inf")
        else:
            fill = float(num_epochs if num_epochs is not None else int(self._presentations.max()))
        out[self.never_learned_mask] = fill
        return out

    def state_dict(self) -> dict:
        """Everything needed to resume: sizes, convention and the per-sample tensors (copies)."""
        return {
            "num_samples": self.num_samples,
            "num_classes": self.num_classes,
            "never_learned": self.never_learned,
            "events": self.events,
            "first_learned": self.first_learned,
            "presentations": self.presentations,
            "last_correct": self.last_correct,
            "class_matrix": self.class_matrix,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict`; sizes must match this tracker's."""
        keys = {"num_samples", "num_classes", "never_learned", "events", "first_learned",
                "presentations", "last_correct", "class_matrix"}  # fmt: skip
        if not isinstance(state, dict) or set(state) != keys:
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"state must be a dict with keys {sorted(keys)}; got {got}")
        if (state["num_samples"], state["num_classes"]) != (self.num_samples, self.num_classes):
            raise ValueError(
                f"state is for {state['num_samples']} samples and {state['num_classes']} classes; this "
                f"tracker has {self.num_samples} and {self.num_classes}"
            )
        n, c = self.num_samples, self.num_classes
        shapes = {"events": (n,), "first_learned": (n,), "presentations": (n,), "last_correct": (n,),
                  "class_matrix": (c, c)}  # fmt: skip
        for key, shape in shapes.items():
            if tuple(torch.as_tensor(state[key]).shape) != shape:
                raise ValueError(
                    f"state[{key!r}] has shape {tuple(torch.as_tensor(state[key]).shape)}, expected {shape}"
                )
        if state["never_learned"] not in ("inf", "epochs"):
            raise ValueError(
                f"state['never_learned'] must be 'inf' or 'epochs', got {state['never_learned']!r}"
            )
        self.never_learned = state["never_learned"]
        self._events = torch.as_tensor(state["events"]).long().cpu().clone()
        self._first_learned = torch.as_tensor(state["first_learned"]).long().cpu().clone()
        self._presentations = torch.as_tensor(state["presentations"]).long().cpu().clone()
        self._last_correct = torch.as_tensor(state["last_correct"]).bool().cpu().clone()
        self._class_matrix = torch.as_tensor(state["class_matrix"]).long().cpu().clone()

    def __repr__(self) -> str:
        return (
            f"ForgettingTracker(num_samples={self.num_samples}, num_classes={self.num_classes}, "
            f"never_learned={self.never_learned!r}, presentations={int(self._presentations.sum())})"
        )
