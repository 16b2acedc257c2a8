r"""Forgetting events during training (Toneva, Sordoni, Combes, Trischler, Bengio, Gordon, "An
Empirical Study of Example Forgetting during Deep Neural Network Learning", ICLR 2019).
"""

from __future__ import annotations

from typing import Literal

import torch

from .._types import ArrayLike, Tensor

__all__ = ["ForgettingTracker"]


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
