r"""Training objectives: ERM, mixup (any partner rule or law, per batch/pair/element, masks),
RegMixup, approximate mixup with test-time rescaling, hard pairing and forgetting-based partners.
MixupE lives in :mod:`mixtheory.training.mixupe`.

Every objective maps a minibatch of sample indices to a differentiable scalar loss
(:meth:`Objective.batch_loss`), drawing all its randomness from the generator it is given, so that
the training loop (:func:`mixtheory.training.train`) is deterministic and resumable. The loss is
the soft-label cross-entropy ``ℓ(y, u) = logsumexp(u) − yᵀu`` (``docs/theory.md §4.5``) of
:class:`mixtheory.losses.CrossEntropy`. The mixing objectives share one sampler,
:func:`mixtheory.mixing.mix` (``docs/theory.md §1.1``); what each rule's average loss converges to
is derived there. λ's law can be a fixed :class:`~mixtheory.laws.MixingLaw` or a schedule with a
``law(epoch)`` method (:class:`~mixtheory.mixing.SineLambda`, :class:`~mixtheory.mixing.TanhLambda`,
:class:`~mixtheory.mixing.AlphaSchedule`).

Partner laws on the whole training set (:class:`~mixtheory.mixing.HardPool`,
:class:`~mixtheory.mixing.ClassConditional`, :class:`~mixtheory.mixing.KNearest`) draw each anchor's
partner among all n samples, not only the minibatch: the batch loss then has expectation
``(1/b) Σ_{i∈batch} Σ_j π(j|i) L(i, j)``, the non-uniform mixup loss of ``docs/theory.md §8.1``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import torch
from torch import nn

from .._types import ArrayLike, DeviceLike, Tensor
from .._validation import as_labels, as_tensor, labels_for_model
from ..approximate import Space, approximate_mixup_targets, rescale
from ..laws import MixingLaw, SymmetricBeta
from ..losses import CrossEntropy
from ..mixing import ClassConditional, FixedPairing, HardPool, MaskKind, PartnerLaw, Per, mix
from ..mixing.sampler import PartnerRule
from ..scores import ForgettingTracker, el2n, grand

__all__ = [
    "LawLike",
    "TrainingData",
    "BatchLoss",
    "Objective",
    "ERMObjective",
    "Mixup",
    "RegMixup",
    "ApproximateMixup",
    "HardPairing",
    "ForgettingPartners",
    "law_at",
    "mix_indices",
    "cross_entropy",
]

_CROSS_ENTROPY = CrossEntropy()

LawLike = MixingLaw | Any  # a MixingLaw, or a schedule with ``law(epoch)``


def cross_entropy(targets: Tensor, logits: Tensor) -> Tensor:
    """Mean soft-label cross-entropy ``logsumexp(u) − yᵀu`` over the batch (``docs/theory.md §4.5``)."""
    return _CROSS_ENTROPY.value(targets, logits).mean()


def law_at(law: LawLike, epoch: int) -> MixingLaw:
    """λ's law at ``epoch``: ``law`` itself, or ``law.law(epoch)`` for a schedule."""
    if isinstance(law, MixingLaw):
        return law
    if hasattr(law, "law"):
        return law.law(epoch)
    raise TypeError(
        "law must be a MixingLaw (e.g. SymmetricBeta(1.0)) or a schedule with law(epoch), "
        f"got {type(law).__name__}"
    )


def _law_from(alpha: float | None, law: LawLike | None, default_alpha: float) -> LawLike:
    if law is not None and alpha is not None:
        raise ValueError("give alpha or law, not both")
    if law is not None:
        law_at(law, 0)  # type check now, not in the first batch
        return law
    alpha = default_alpha if alpha is None else float(alpha)
    if not (math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be a finite number > 0 (λ ~ Beta(α, α)), got {alpha!r}")
    return SymmetricBeta(alpha)


@dataclass
class TrainingData:
    r"""A training (or test) set on the training device. ``X``: (n, *input_shape) in the model's
    dtype; ``Y``: (n, c) label vectors in the same dtype; ``labels``: (n,) int64 class indices
    (argmax of Y) on the CPU, for the forgetting tracker and class-conditional partners."""

    X: Tensor
    Y: Tensor
    labels: Tensor

    @classmethod
    def from_arrays(
        cls,
        X: ArrayLike,
        Y: ArrayLike,
        *,
        num_classes: int | None,
        dtype: torch.dtype,
        device: DeviceLike,
        model: nn.Module | None = None,
    ) -> TrainingData:
        """Validated tensors; with ``model`` the number of classes is its number of outputs
        (:func:`~mixtheory._validation.check_class_indices`)."""
        x = as_tensor("X", X, dtype=dtype, device=device)
        if x.ndim < 2 or x.shape[0] == 0:
            raise ValueError(f"X must be (n, *input_shape) with n >= 1, got shape {tuple(x.shape)}")
        if model is None:
            y = as_labels("Y", Y, x.shape[0], num_classes, dtype, device)
        else:
            y = labels_for_model(model, x, Y, num_classes, dtype, device)
        return cls(x, y, y.argmax(-1).cpu())

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def num_classes(self) -> int:
        return self.Y.shape[1]


@dataclass
class BatchLoss:
    """What an objective returns for one minibatch: the scalar ``loss`` to differentiate, the
    logits on the clean anchors when the objective computed them anyway (for the forgetting
    tracker; None otherwise), and named float ``parts`` averaged into the history table."""

    loss: Tensor
    clean_logits: Tensor | None = None
    parts: dict[str, float] = field(default_factory=dict)


class Objective:
    """Base class. Subclasses set ``name`` and implement :meth:`batch_loss`; the hooks have
    neutral defaults."""

    name: ClassVar[str] = "objective"
    needs_tracker: ClassVar[bool] = False

    def begin_epoch(
        self, model: nn.Module, data: TrainingData, epoch: int, tracker: ForgettingTracker | None
    ) -> None:
        """Called before each epoch with the model in eval mode (refresh pools, partner laws)."""

    def batch_loss(
        self, model: nn.Module, data: TrainingData, indices: Tensor, epoch: int, generator: torch.Generator
    ) -> BatchLoss:
        raise NotImplementedError

    def training_law(self, epoch: int) -> MixingLaw | None:
        """λ's law at ``epoch`` (None for ERM): the law recorders evaluate the regularizers with."""
        return None

    def predictor(self, model: nn.Module) -> Callable[[Tensor], Tensor]:
        """The function evaluated at test time (the model itself, except for approximate mixup)."""
        return model

    def state_dict(self) -> dict:
        """State that must survive a checkpoint (e.g. a hard-pairing pool)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        if state:
            raise ValueError(f"{self.name} keeps no state, the checkpoint has {sorted(state)}")

    def describe(self) -> dict[str, Any]:
        return {"objective": self.name}


class ERMObjective(Objective):
    """Empirical risk minimisation: the cross-entropy of the clean batch."""

    name = "erm"

    def batch_loss(
        self, model: nn.Module, data: TrainingData, indices: Tensor, epoch: int, generator: torch.Generator
    ) -> BatchLoss:
        dev = data.X.device
        logits = model(data.X[indices.to(dev)])
        loss = cross_entropy(data.Y[indices.to(dev)], logits)
        return BatchLoss(loss, logits.detach())


def mix_indices(
    data: TrainingData,
    indices: Tensor,
    law: MixingLaw,
    *,
    per: Per,
    partner: PartnerRule | PartnerLaw,
    mask: MaskKind | str | None,
    generator: torch.Generator,
) -> tuple[Tensor, Tensor]:
    r"""Mixed inputs and targets for the anchors ``indices`` (b,) through :func:`mixtheory.mixing.mix`.

    A batch rule (``"uniform"``, ``"permutation"``, ``"flip"``, ``"roll"``) pairs anchors inside the
    batch. A :class:`~mixtheory.mixing.PartnerLaw` on the n training samples draws each anchor's
    partner j ~ π(·|i) from the whole set; the 2b rows (anchors, partners) then go through the same
    sampler with the fixed pairing anchor k ↔ partner k, and the b anchor rows are kept."""
    dev = data.X.device
    if not isinstance(partner, PartnerLaw):
        idx = indices.to(dev)
        out = mix(data.X[idx], data.Y[idx], law, per=per, partner=partner, generator=generator, mask=mask)
        return out.inputs, out.targets
    if partner.n != data.n:
        raise ValueError(f"the partner law is on {partner.n} samples, the training set has {data.n}")
    b = indices.numel()
    partners = partner.sample(indices.cpu(), generator)
    rows = torch.cat([indices.cpu(), partners]).to(dev)
    pairing = FixedPairing(torch.cat([torch.arange(b, 2 * b), torch.arange(b)]))
    out = mix(data.X[rows], data.Y[rows], law, per=per, partner=pairing, generator=generator, mask=mask)
    return out.inputs[:b], out.targets[:b]


class Mixup(Objective):
    r"""Mixup (Zhang, Cissé, Dauphin, Lopez-Paz, ICLR 2018): the cross-entropy of the mixed batch
    ``(λ x_i + (1−λ) x_j, λ y_i + (1−λ) y_j)``.

    Args:
        alpha: λ ~ Beta(α, α) (default 1); or ``law``: any λ law or a schedule (not both).
        per: one λ per ``"batch"``, per ``"pair"`` or per input ``"element"``.
        partner: a batch rule or a :class:`~mixtheory.mixing.PartnerLaw` on the training set.
        mask: ``"cutmix"``, ``"hmix"``, ``"gmix"`` (image inputs) or None.
    """

    name = "mixup"
    default_alpha: ClassVar[float] = 1.0

    def __init__(
        self,
        alpha: float | None = None,
        *,
        law: LawLike | None = None,
        per: Per = "batch",
        partner: PartnerRule | PartnerLaw = "permutation",
        mask: MaskKind | str | None = None,
    ):
        self.law = _law_from(alpha, law, self.default_alpha)
        self.per, self.partner, self.mask = per, partner, mask

    def training_law(self, epoch: int) -> MixingLaw:
        return law_at(self.law, epoch)

    def partner_law(self) -> PartnerRule | PartnerLaw:
        """The partner rule or law used this epoch (subclasses refresh it)."""
        return self.partner

    def mixed(
        self, data: TrainingData, indices: Tensor, epoch: int, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        return mix_indices(
            data,
            indices,
            self.training_law(epoch),
            per=self.per,
            partner=self.partner_law(),
            mask=self.mask,
            generator=generator,
        )

    def batch_loss(
        self, model: nn.Module, data: TrainingData, indices: Tensor, epoch: int, generator: torch.Generator
    ) -> BatchLoss:
        inputs, targets = self.mixed(data, indices, epoch, generator)
        return BatchLoss(cross_entropy(targets, model(inputs)))

    def describe(self) -> dict[str, Any]:
        return {
            "objective": self.name,
            "law": repr(self.law),
            "per": self.per,
            "partner": repr(self.partner),
            "mask": repr(self.mask),
        }


class RegMixup(Mixup):
    r"""RegMixup (Pinto, Yang, Lim, Torr, Dokania, NeurIPS 2022): the clean and the mixed batch in one
    forward pass, with the paper's default α = 20 (λ concentrated near ½). Two scales:

    - ``scale="paper"`` (default): ``CE(clean) + η · CE(mixed)``, the paper's Eq. 4. Its
      expectation is (1 + η) times the mixup loss of the mixture law
      ``Mixture([PointMass(1), SymmetricBeta(α)], [1/(1+η), η/(1+η)])`` (``docs/theory.md §2.3``).
    - ``scale="official"``: the authors' released training code takes one mean of the
      cross-entropy over the concatenated clean and mixed batch, ``(CE(clean) + CE(mixed)) / 2``:
      half the paper's loss and gradients at η = 1, and no η (it must stay 1). Its expectation is
      the mixup loss of the half-and-half mixture law itself.
    """

    name = "regmixup"
    default_alpha = 20.0

    def __init__(
        self,
        alpha: float | None = None,
        *,
        eta: float = 1.0,
        scale: Literal["paper", "official"] = "paper",
        **mixing,
    ):
        super().__init__(alpha, **mixing)
        if not (math.isfinite(eta) and eta >= 0):
            raise ValueError(f"eta must be a finite number >= 0, got {eta!r}")
        if scale not in ("paper", "official"):
            raise ValueError(
                f"scale must be 'paper' (CE_clean + η·CE_mixed) or 'official' (their mean), got {scale!r}"
            )
        if scale == "official" and eta != 1.0:
            raise ValueError(
                "scale='official' has no η (the released code averages both halves); leave eta=1"
            )
        self.eta = float(eta)
        self.scale = scale

    def batch_loss(
        self, model: nn.Module, data: TrainingData, indices: Tensor, epoch: int, generator: torch.Generator
    ) -> BatchLoss:
        inputs, targets = self.mixed(data, indices, epoch, generator)
        idx = indices.to(data.X.device)
        b = idx.numel()
        logits = model(torch.cat([data.X[idx], inputs]))
        clean = cross_entropy(data.Y[idx], logits[:b])
        mixed = cross_entropy(targets, logits[b:])
        parts = {"clean": float(clean.detach()), "mixed": float(mixed.detach())}
        loss = (
            clean + self.eta * mixed
            if self.scale == "paper"
            else (b * clean + inputs.shape[0] * mixed) / (b + inputs.shape[0])
        )
        return BatchLoss(loss, logits[:b].detach(), parts)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "eta": self.eta, "scale": self.scale}


class ApproximateMixup(Objective):
    r"""Approximate mixup (Carratino et al., JMLR 2022): ERM on the contracted data
    ``(x̃_i, ỹ_i) = (x̄ + θ̄(x_i − x̄), ȳ + θ̄(y_i − ȳ))`` of Theorem 1 (``docs/theory.md §1.2``), the first
    term of the second-order mixup loss, evaluated with the test-time rescaling
    ``f_test(x) = (f(θ̄x + (1−θ̄)x̄) − (1−θ̄)ȳ)/θ̄`` (Eq. 15, ``docs/theory.md §8.5``) through
    :func:`mixtheory.approximate.rescale` in ``space`` (``"logit"``, as the paper, or
    ``"probability"``). A schedule changes θ̄ per epoch; the predictor uses the current θ̄."""

    name = "approx"

    def __init__(self, alpha: float | None = None, *, law: LawLike | None = None, space: Space = "logit"):
        self.law = _law_from(alpha, law, 1.0)
        if space not in ("logit", "probability"):
            raise ValueError(f"space must be 'logit' or 'probability', got {space!r}")
        self.space = space
        self._cache: tuple[float, Tensor, Tensor] | None = None
        self._theta = 1.0
        self._means: tuple[Tensor, Tensor] | None = None

    def training_law(self, epoch: int) -> MixingLaw:
        return law_at(self.law, epoch)

    def begin_epoch(
        self, model: nn.Module, data: TrainingData, epoch: int, tracker: ForgettingTracker | None
    ) -> None:
        law = self.training_law(epoch)
        theta = float(law.theta_mean)
        if self._cache is None or self._cache[0] != theta:
            x_t, y_t = approximate_mixup_targets(data.X.detach(), data.Y.detach(), law)
            self._cache = (theta, x_t.to(data.X), y_t.to(data.Y))
        self._theta = theta
        self._means = (data.X.mean(0), data.Y.mean(0))

    def batch_loss(
        self, model: nn.Module, data: TrainingData, indices: Tensor, epoch: int, generator: torch.Generator
    ) -> BatchLoss:
        if self._cache is None:
            raise RuntimeError("ApproximateMixup.begin_epoch must run before batch_loss")
        idx = indices.to(data.X.device)
        return BatchLoss(cross_entropy(self._cache[2][idx], model(self._cache[1][idx])))

    def predictor(self, model: nn.Module) -> Callable[[Tensor], Tensor]:
        if self._means is None:
            return model
        return rescale(model, self._theta, self._means[0], self._means[1], space=self.space)

    def describe(self) -> dict[str, Any]:
        return {"objective": self.name, "law": repr(self.law), "space": self.space}


Score = Literal["el2n", "grand"]


class HardPairing(Mixup):
    r"""Mixup with partners from the hardest samples: a :class:`~mixtheory.mixing.HardPool` of the
    ``⌈pool_fraction · n⌉`` samples with the highest ``score`` (EL2N or GraNd of the current model,
    Paul, Ganguli, Dziugaite, NeurIPS 2021), refreshed every ``refresh_every`` epochs (at epochs 0,
    k, 2k, …, on the model in eval mode). Every anchor draws its partner uniformly from the pool
    (``docs/theory.md §8.1``). The scores are part of the checkpoint, so a resumed run keeps the
    pool of its last refresh."""

    name = "hard-pairing"

    def __init__(
        self,
        alpha: float | None = None,
        *,
        pool_fraction: float = 0.25,
        score: Score = "el2n",
        refresh_every: int = 1,
        include_self: bool = True,
        **mixing,
    ):
        super().__init__(alpha, partner="uniform", **mixing)
        if score not in ("el2n", "grand"):
            raise ValueError(f"score must be 'el2n' or 'grand', got {score!r}")
        if isinstance(refresh_every, bool) or int(refresh_every) != refresh_every or refresh_every < 1:
            raise ValueError(f"refresh_every must be an integer >= 1, got {refresh_every!r}")
        if not 0 < pool_fraction <= 1:
            raise ValueError(f"pool_fraction must lie in (0, 1], got {pool_fraction!r}")
        self.pool_fraction, self.score, self.refresh_every = float(pool_fraction), score, int(refresh_every)
        self.include_self = include_self
        self.scores: Tensor | None = None
        self.pool: HardPool | None = None

    def begin_epoch(
        self, model: nn.Module, data: TrainingData, epoch: int, tracker: ForgettingTracker | None
    ) -> None:
        if self.scores is None or epoch % self.refresh_every == 0:
            scorer = el2n if self.score == "el2n" else grand
            self.scores = scorer(model, data.X, data.Y).detach().to("cpu", torch.float64)
        self.pool = HardPool(self.scores, self.pool_fraction, include_self=self.include_self)

    def partner_law(self) -> PartnerLaw:
        if self.pool is None:
            raise RuntimeError("HardPairing.begin_epoch must run before batch_loss")
        return self.pool

    def state_dict(self) -> dict:
        return {"scores": None if self.scores is None else self.scores.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.scores = state.get("scores")

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "pool_fraction": self.pool_fraction,
            "score": self.score,
            "refresh_every": self.refresh_every,
        }


class ForgettingPartners(Mixup):
    r"""Mixup with class-conditional partners from the forgetting matrix (Toneva et al., ICLR 2019):
    at the start of each epoch, ``A = ForgettingTracker.class_matrix`` (``[true class, class it was
    forgotten to]`` counts over all forgetting events so far) with rows divided by their sums, and
    an anchor of class a draws a class c' ~ A[a, ·] and a partner uniformly in c'
    (:class:`~mixtheory.mixing.ClassConditional`).

    **Zero rows.** A class none of whose samples has been forgotten yet has a zero row; its anchors
    then draw partners uniformly over all n samples, self included (``on_zero_row="uniform"``). At
    epoch 0 every row is zero, so the first epoch is plain uniform-partner mixup. The diagonal of A
    is 0 (a forgetting event changes the predicted class), so a class with events is always mixed
    with other classes. A class that is only ever predicted, never present, is dropped from the
    rows (``on_empty_class="renormalise"``)."""

    name = "forgetting-partners"
    needs_tracker = True

    def __init__(self, alpha: float | None = None, **mixing):
        super().__init__(alpha, partner="uniform", **mixing)
        self.law_partners: ClassConditional | None = None

    def begin_epoch(
        self, model: nn.Module, data: TrainingData, epoch: int, tracker: ForgettingTracker | None
    ) -> None:
        if tracker is None:
            raise RuntimeError("ForgettingPartners needs the trainer's ForgettingTracker")
        self.law_partners = ClassConditional.from_counts(
            tracker.class_matrix, data.labels, on_zero_row="uniform", on_empty_class="renormalise"
        )

    def partner_law(self) -> PartnerLaw:
        if self.law_partners is None:
            raise RuntimeError("ForgettingPartners.begin_epoch must run before batch_loss")
        return self.law_partners
