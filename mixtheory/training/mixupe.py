r"""MixupE as a training objective (Zou, Verma, Mittal, Tang, Pham, Kannala, Bengio, Solin, Kawaguchi,
"MixupE: Understanding and Improving Mixup from Directional Derivative Perspective", UAI 2023;
``docs/theory.md §8.4``; the terms themselves, :func:`mixupe_first_order` included, are in
:mod:`mixtheory.expansions.mixupe`).

On a batch of b anchors with clean inputs x_i, labels y_i, softmax g and training-set mean x̄:

- ``L`` = the mixup cross-entropy of the mixed batch (as :class:`~mixtheory.training.Mixup`);
- ``s_i`` = the first-order term of one anchor, either MixupE's shortcut
  ``q̂_i = (y_i − g(f(x_i)))ᵀ f(x_i)`` (``term="q_hat"``) or the exact
  ``q_i = (g(f(x_i)) − y_i)ᵀ ∇f(x_i)(x̄ − x_i)`` (``term="q"``) through one Jacobian-vector product
  ``torch.func.jvp`` of the batch (differentiable in the parameters; no Jacobian is formed);
  ``|s_i|`` with ``absolute=True``; with ``detach_residual=True`` the residual ``g − y`` is a
  constant (a stop-gradient), as the official code does in three of its four versions;
- ``R = κ · (1/b) Σ_{i: s_i < threshold} s_i`` (all i when ``threshold`` is None), with
  ``κ = E[1 − λ̃]`` (λ̃ ~ Beta(α+1, α) for λ ~ Beta(α, α), Theorem 1's coefficient, as the official
  code; ``moments="lambda_tilde"``) or ``E[1 − λ]`` (``moments="lambda"``, ½ for a symmetric law);
- ``T = L + sign · η · R``; the loss is ``T`` (``eta_hat="none"``) or ``η̂ T`` with
  ``η̂ = |L| / |T|`` (``"detached"``: η̂ a constant, as the official code; ``"attached"``: η̂
  differentiated).

**What each choice does to the gradient** (``tests/test_training_mixupe.py`` checks each identity
in float64):

- ``eta_hat="none"``: ``∇L + sign·η ∇R``.
- ``eta_hat="detached"``: ``η̂ (∇L + sign·η ∇R)``: the same direction, rescaled by η̂ each step.
  Under SGD this is a per-step learning-rate factor; it keeps the loss *value* equal to ``|L|``.
- ``eta_hat="attached"``: ``η̂ T = |L| sign(T)``, which is ``L`` itself whenever ``L > 0`` and
  ``T > 0``: the gradient is exactly ``∇L`` and **the regularizer drops out**. Differentiating η̂
  turns MixupE back into mixup.
- ``detach_residual=True``: ``∇s_i = (g − y)ᵀ ∇_w[∇f(x_i)(x̄ − x_i)]`` (``term="q"``) or
  ``−(g − y)ᵀ ∇_w f(x_i)`` (``term="q_hat"``): only the network's output (or its directional
  derivative) moves, not the softmax residual. For ``q_hat`` this is the same as adding
  ``η κ (y − g)ᵀ f`` with frozen targets, i.e. a *logit-scale* term: it pushes f along y − g.

The paper's form is ``MixupE()``: ``q̂``, absolute value, sign +1, η̂ not used (``L + η κ mean|q̂|``).
:meth:`MixupE.official` gives the four versions of the authors' public training code
(``--mixupe_version 1–4``, where η̂ is always detached): 1 = exact q (double backward in their code,
a JVP here: the same number) on samples with q < threshold, added; 2 = exact |q|, added; 3 = q̂ with
the residual differentiated, on samples with q̂ < threshold, *subtracted*; 4 = q̂ with the residual
detached, subtracted. Since q = q̂ for a bias-free homogeneous network on centred data
(``docs/theory.md §8.4``), versions 1 and 3 push the first-order term in opposite directions.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from torch import nn

from .._types import Model, Tensor
from ..expansions.mixupe import FirstOrderTerm, mixupe_first_order
from ..expansions.zhang2021 import lambda_tilde_moment
from ..laws import MixingLaw
from ..scores import ForgettingTracker
from .objectives import BatchLoss, Mixup, TrainingData, cross_entropy

__all__ = ["MixupE", "EtaHat", "FirstOrderTerm", "mixupe_first_order"]

EtaHat = Literal["none", "detached", "attached"]
Moments = Literal["lambda_tilde", "lambda"]


class MixupE(Mixup):
    r"""MixupE's objective (module docstring for every option and its effect on the gradient).

    Args:
        alpha / law / per / partner / mask: the mixing of :class:`~mixtheory.training.Mixup`.
        eta: η ≥ 0, the weight of the first-order term.
        term: ``"q_hat"`` (shortcut) or ``"q"`` (exact, by a Jacobian-vector product).
        absolute: penalise ``|s_i|`` (the paper) rather than ``s_i``.
        sign: +1 (add η R) or −1 (subtract it, official versions 3 and 4).
        threshold: keep only samples with ``s_i < threshold`` (official versions 1 and 3); None: all.
        detach_residual: treat ``g(f(x)) − y`` as a constant.
        eta_hat: ``"none"``, ``"detached"`` or ``"attached"`` normalising factor η̂ = |L|/|T|.
        moments: κ = ``E[1 − λ̃]`` (``"lambda_tilde"``) or ``E[1 − λ]`` (``"lambda"``).
    """

    name = "mixupe"

    def __init__(
        self,
        alpha: float | None = None,
        *,
        eta: float = 1e-3,
        term: FirstOrderTerm = "q_hat",
        absolute: bool = True,
        sign: Literal[1, -1] = 1,
        threshold: float | None = None,
        detach_residual: bool = False,
        eta_hat: EtaHat = "none",
        moments: Moments = "lambda_tilde",
        **mixing,
    ):
        super().__init__(alpha, **mixing)
        if not (math.isfinite(eta) and eta >= 0):
            raise ValueError(f"eta must be a finite number >= 0, got {eta!r}")
        checks = (
            ("term", term, ("q_hat", "q")),
            ("eta_hat", eta_hat, ("none", "detached", "attached")),
            ("moments", moments, ("lambda_tilde", "lambda")),
            ("sign", sign, (1, -1)),
        )
        for name, value, allowed in checks:
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        self.eta, self.term, self.absolute, self.sign = float(eta), term, bool(absolute), int(sign)
        self.threshold = None if threshold is None else float(threshold)
        self.detach_residual, self.eta_hat, self.moments = bool(detach_residual), eta_hat, moments
        self._x_mean: Tensor | None = None

    @classmethod
    def official(
        cls,
        version: Literal[1, 2, 3, 4],
        alpha: float = 1.0,
        *,
        eta: float = 1e-3,
        threshold: float = -1.0,
        **mixing,
    ) -> MixupE:
        """The authors' ``--mixupe_version`` 1–4 (module docstring); η̂ detached, κ = E[1 − λ̃]."""
        settings = {
            1: dict(term="q", absolute=False, sign=1, threshold=threshold, detach_residual=True),
            2: dict(term="q", absolute=True, sign=1, threshold=None, detach_residual=True),
            3: dict(term="q_hat", absolute=False, sign=-1, threshold=threshold, detach_residual=False),
            4: dict(term="q_hat", absolute=False, sign=-1, threshold=None, detach_residual=True),
        }
        if version not in settings:
            raise ValueError(f"version must be 1, 2, 3 or 4, got {version!r}")
        return cls(alpha, eta=eta, eta_hat="detached", moments="lambda_tilde", **settings[version], **mixing)

    def coefficient(self, law: MixingLaw) -> float:
        """κ: ``E[1 − λ̃] = 2 E[λ(1 − λ)]`` or ``E[1 − λ]``."""
        if self.moments == "lambda_tilde":
            return lambda_tilde_moment(law, 1)
        return float(law.expect_lambda(lambda t: 1.0 - t))

    def begin_epoch(
        self, model: nn.Module, data: TrainingData, epoch: int, tracker: ForgettingTracker | None
    ) -> None:
        self._x_mean = data.X.mean(0)

    def regularizer(self, model: Model, x: Tensor, y: Tensor, law: MixingLaw) -> tuple[Tensor, Tensor]:
        """(R, clean logits) for clean inputs x (b, ...) and labels y (b, c)."""
        x_mean = x.mean(0) if self._x_mean is None else self._x_mean
        terms, logits = mixupe_first_order(
            model, x, y, x_mean, term=self.term, detach_residual=self.detach_residual
        )
        if self.absolute:
            terms = terms.abs()
        if self.threshold is not None:
            terms = torch.where(terms.detach() < self.threshold, terms, torch.zeros_like(terms))
        return self.coefficient(law) * terms.sum() / x.shape[0], logits

    def combine(self, mixed_loss: Tensor, reg: Tensor) -> tuple[Tensor, float]:
        """(the loss to differentiate, η̂) from L and R (module docstring)."""
        total = mixed_loss + self.sign * self.eta * reg
        if self.eta_hat == "none":
            return total, 1.0
        scale = mixed_loss.abs() / total.abs()
        if self.eta_hat == "detached":
            scale = scale.detach()
        return scale * total, float(scale.detach())

    def batch_loss(
        self, model: nn.Module, data: TrainingData, indices: Tensor, epoch: int, generator: torch.Generator
    ) -> BatchLoss:
        inputs, targets = self.mixed(data, indices, epoch, generator)
        mixed_loss = cross_entropy(targets, model(inputs))
        idx = indices.to(data.X.device)
        reg, logits = self.regularizer(model, data.X[idx], data.Y[idx], self.training_law(epoch))
        loss, eta_hat = self.combine(mixed_loss, reg)
        parts = {"mixed": float(mixed_loss.detach()), "first_order": float(reg.detach()), "eta_hat": eta_hat}
        return BatchLoss(loss, logits.detach(), parts)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "eta": self.eta,
            "term": self.term,
            "absolute": self.absolute,
            "sign": self.sign,
            "threshold": self.threshold,
            "detach_residual": self.detach_residual,
            "eta_hat": self.eta_hat,
            "moments": self.moments,
        }
