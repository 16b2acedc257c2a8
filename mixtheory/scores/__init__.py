r"""Data-valuation scores: how hard, or how important, each training sample is to a network.

Per-sample scores (:mod:`.data_diet`) of a trained (or partly trained) classifier f_w with c
logits, for inputs ``X: (n, ...)`` and labels ``Y``: ``(n,)`` integer class indices or ``(n, c)``
label vectors (one-hot or soft):

- :func:`el2n`: the error L2 norm ``‖softmax(f_w(x)) − y‖₂`` (Paul, Ganguli, Dziugaite, "Deep
  Learning on a Data Diet: Finding Important Examples Early in Training", NeurIPS 2021, eq. 2).
- :func:`grand`: the gradient norm ``‖∇_w ℓ(f_w(x), y)‖₂`` over every trainable parameter (same
  paper, eq. 1), exact, through ``torch.func`` per-sample gradients.
- :func:`margin`: ``f_y(x) − max_{k≠y} f_k(x)``, the logit of the true class minus the largest
  other logit (negative when misclassified); :func:`margin_from_logits` from logits at hand.
- :func:`prediction_entropy`: ``−Σ_k p_k log p_k`` with ``p = softmax(f_w(x))``;
  :func:`entropy_from_logits` from logits at hand.
- :class:`ForgettingTracker` (:mod:`.forgetting`): forgetting events counted during training
  (Toneva, Sordoni, Combes, Trischler, Bengio, Gordon, "An Empirical Study of Example Forgetting
  during Deep Neural Network Learning", ICLR 2019), with the class each sample is forgotten *to*.

A list of models (k independent runs stopped at the same epoch t) gives the mean of the
per-model scores, the Data Diet convention: the norm is taken per model, then averaged (not the
norm of the averaged prediction). Every score takes its arguments in the package's order: model,
X, Y, then keyword options; ``chunk_size`` is the number of samples per pass, which bounds memory
and changes a score only by rounding. Models must be in eval mode when they hold batch norm or dropout: in
train mode a sample's output depends on the rest of its batch or on random masks, so a per-sample
score is not defined.
"""

from .data_diet import el2n, entropy_from_logits, grand, margin, margin_from_logits, prediction_entropy
from .forgetting import ForgettingTracker

__all__ = [
    "el2n",
    "grand",
    "margin",
    "margin_from_logits",
    "prediction_entropy",
    "entropy_from_logits",
    "ForgettingTracker",
]
