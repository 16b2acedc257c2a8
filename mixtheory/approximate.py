r"""Carratino et al.'s approximate mixup and its test-time rescaling (JMLR 2022; ``docs/theory.md
§1.2, §8.5``).

The first term of the second-order mixup loss is ERM on the contracted data

.. math::

    \tilde x_i = \bar x + \bar\theta (x_i - \bar x), \qquad \tilde y_i = \bar y + \bar\theta (y_i - \bar y),

(:func:`approximate_mixup_targets`). A model trained on (x̃_i, ỹ_i) has learnt inputs and labels
pulled toward their means, so at test time the paper applies the same contraction to the input and
undoes it on the output (numbered Eq. 15 in the version ``docs/theory.md`` cites):

.. math::

    f_{test}(x) = \big(f(\bar\theta x + (1 - \bar\theta)\bar x) - (1 - \bar\theta)\bar y\big) / \bar\theta .

:func:`rescale` offers the affine map in two spaces:

- ``space="logit"`` (the paper's formula applied to the network's outputs, as the paper and its
  public implementation do for logits). Dividing by θ̄ < 1 multiplies the logits by 1/θ̄: a
  softmax temperature θ̄ < 1, so predictions become *more confident* (mixup-trained networks are
  typically under-confident, and this partly undoes it; it can overshoot into over-confidence).
  Subtracting (1−θ̄)ȳ/θ̄ shifts logit k by a class constant; softmax is invariant to a shift common
  to all classes, so with balanced classes (ȳ uniform) the shift does nothing and the **argmax is
  unchanged**; with unbalanced classes it lowers the frequent classes' logits (a prior correction).
- ``space="probability"``: the map applied to softmax probabilities p = g(f(x̃)), which is the
  space in which ỹ was actually built: ``p_test = (p − (1−θ̄)ȳ)/θ̄``. It sums to 1 (when ȳ does) and
  maps a model that predicts ỹ_i exactly back to y_i exactly, but entries can fall below 0 (where
  p_k < (1−θ̄)ȳ_k): it is a calibration map on the label simplex's affine hull, not a probability
  vector in general. Argmax: the division never changes it; the shift changes it only through
  ȳ (none for balanced classes), as in logit space, but by amounts measured in probability.

As α → 0, θ̄ → 1 and both maps are the identity. For an affine f fitted with an intercept,
``f(x̄) = mean_i f(x̃_i) = ȳ`` when f interpolates (x̃_i, ỹ_i), and the logit-space map is the identity:
the rescaling only matters for nonlinear models (tested in ``tests/test_approximate.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch

from ._types import ArrayLike, Tensor
from ._validation import as_labels, as_tensor
from .geometry import MixupGeometry
from .laws import MixingLaw

__all__ = ["Space", "approximate_mixup_targets", "rescale"]

Space = Literal["logit", "probability"]


def approximate_mixup_targets(
    X: ArrayLike, Y: ArrayLike, law: MixingLaw, *, num_classes: int | None = None
) -> tuple[Tensor, Tensor]:
    r"""The contracted training set ``(x̃_i, ỹ_i) = (x̄ + θ̄(x_i − x̄), ȳ + θ̄(y_i − ȳ))`` of Theorem 1
    (Carratino et al., JMLR 2022; ``docs/theory.md §1.2``), from :class:`~mixtheory.MixupGeometry`.

    Args: X: (n, d) or (n, *input_shape); Y: (n, c) labels or (n,) class indices; law: λ's law.
    Returns: x̃ with X's shape and ỹ (n, c), float64.

    >>> import torch
    >>> from mixtheory import SymmetricBeta
    >>> X, Y = torch.tensor([[0.0], [2.0]], dtype=torch.float64), torch.tensor([0, 1])
    >>> x_t, y_t = approximate_mixup_targets(X, Y, SymmetricBeta(1.0))     # θ̄ = 3/4
    >>> x_t.flatten().tolist(), y_t[0].tolist()
    ([0.25, 1.75], [0.875, 0.125])
    """
    geometry = MixupGeometry(X, Y, law, num_classes=num_classes)
    return geometry.as_inputs(geometry.x_tilde), geometry.y_tilde


def rescale(
    model: Callable[[Tensor], Tensor],
    theta_mean: float,
    x_mean: Tensor,
    y_mean: Tensor,
    *,
    space: Space = "logit",
) -> Callable[[Tensor], Tensor]:
    r"""The test-time rescaled predictor ``f_test(x) = (f(θ̄x + (1−θ̄)x̄) − (1−θ̄)ȳ)/θ̄`` of a model
    trained on the contracted data (module docstring; ``docs/theory.md §8.5``).

    Args:
        model: maps (batch, *input_shape) to (batch, c) outputs (logits for ``space="probability"``).
        theta_mean: θ̄ ∈ (0, 1] (``law.theta_mean``); x_mean: x̄, (d,) or input_shape; y_mean: ȳ, (c,).
        space: ``"logit"`` (apply the map to the outputs, as the paper) or ``"probability"``
            (apply it to ``softmax(outputs)``; not clipped, entries can be negative).

    Returns: a callable mapping (batch, *input_shape) to (batch, c).

    >>> import torch
    >>> model = lambda x: 2 * x                      # f(x̃) = 2x̃, one output
    >>> f_test = rescale(model, 0.5, torch.tensor([1.0]), torch.tensor([0.0]))
    >>> f_test(torch.tensor([[3.0]]))                # (2(0.5·3 + 0.5·1) − 0)/0.5
    tensor([[8.]])
    """
    theta = float(theta_mean)
    if not 0.0 < theta <= 1.0:
        raise ValueError(f"theta_mean must lie in (0, 1], got {theta_mean!r}")
    if space not in ("logit", "probability"):
        raise ValueError(f"space must be 'logit' or 'probability', got {space!r}")
    x_bar = as_tensor("x_mean", x_mean)
    y_bar = as_labels("y_mean", torch.as_tensor(y_mean).reshape(1, -1), 1, None, x_bar.dtype, None)[0]
    if space == "probability" and abs(float(y_bar.sum()) - 1.0) > 1e-6:
        raise ValueError("space='probability' needs ȳ on the simplex (labels summing to 1)")

    def f_test(x: Tensor) -> Tensor:
        contracted = theta * x + (1.0 - theta) * x_bar.to(x)
        out = model(contracted)
        if space == "probability":
            out = torch.softmax(out, -1)
        return (out - (1.0 - theta) * y_bar.to(out)) / theta

    return f_test
