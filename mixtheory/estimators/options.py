r"""The settings of the probe estimators as one typed, validated, immutable value."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from .._types import Tensor
from .jets import taylor_mode_unsupported

__all__ = [
    "EstimatorOptions",
    "options_with",
    "ProbeKind",
    "Method",
    "R1Mode",
    "Curvature",
    "TrainMode",
    "PROBES",
    "METHODS",
    "R1_MODES",
    "CURVATURES",
    "TRAIN_MODES",
]

ProbeKind = Literal["gaussian", "rademacher", "mixup", "exact", "spectral"]
Method = Literal["auto", "taylor", "taylor-collapsed", "jvp", "hvp", "double-backward", "hutch++"]
R1Mode = Literal["auto", "exact", "probes"]
Curvature = Literal["autograd", "secant"]
TrainMode = Literal["error", "eval"]

PROBES: tuple[str, ...] = get_args(ProbeKind)
METHODS: tuple[str, ...] = get_args(Method)
R1_MODES: tuple[str, ...] = get_args(R1Mode)
CURVATURES: tuple[str, ...] = get_args(Curvature)
TRAIN_MODES: tuple[str, ...] = get_args(TrainMode)


@dataclass(frozen=True)
class EstimatorOptions:
    r"""How :func:`~mixtheory.estimators.estimate_regularizers` estimates R1 and R2.

    Attributes:
        probes: the law of the probes v with ``E[v vᵀ] = Σ^(i)_xx`` (:mod:`.probes`).
        num_probes: probes per sample (products per sample for Hutch++; ignored for exact probes).
            Default 32: under collapsed Taylor mode a pass costs about (1 + K + g)/K forward passes
            per probe (the primal, K first-order rows, g collapsed second-order rows), so 32 probes
            in 8 groups cost fewer forward passes per probe than 16 (and per unit of variance:
            time × variance falls), with the same 7 degrees of freedom for R2's standard error.
        chunk_size: model inputs (samples × probes) per derivative pass; bounds memory. ``None``
            (default): sized so that a pass's largest activation buffer holds about 4 MB
            (:func:`mixtheory._memory.auto_pass_inputs`), which a CPU's allocator and caches reuse.
        method: the derivative pass that evaluates ``vᵀ∇²g v`` (:mod:`.evaluators`; the package's
            losses name their exact/sampled choice ``evaluation``, so ``method`` means only this);
            ``"taylor-collapsed"`` is collapsed Taylor mode (Dangel et al. 2025): only the sums of
            ``vᵀ∇²g v`` within ``collapse_groups`` groups of probes are propagated (R2 needs nothing else; the
            first-order stream ∇f·v, which R13 needs per probe, stays uncollapsed); ``"auto"`` is
            collapsed Taylor mode when every operation has a jet rule (an ``nn.Sequential`` of known
            layers, or a ``torch.fx`` trace) and ``collapse_groups`` divides ``num_probes`` into
            groups of at least two probes (exact columns: one group), plain Taylor mode when
            it does not, else nested forward mode (``"jvp"``; the result's
            ``info["taylor_unsupported"]`` names the operation without a rule).
        r1: ``"exact"`` (c vector-Jacobian products: about 2c forward passes per sample),
            ``"probes"`` (Hutchinson, from the ∇f·v the R2 pass computes: free, with a standard
            error) or ``"auto"`` (``"probes"``; measured in ``benchmarks/bench_estimators.py``).
        curvature: ``"autograd"`` or ``"secant"`` (second differences at step ``secant_step``·v).
        secant_step: the step h of the second differences.
        train_mode: ``"error"`` or ``"eval"`` (switch a train-mode model to eval, with a warning).
        progress: tqdm progress bar over samples (default: shown on a terminal for long runs).
        collapse_groups: g, the groups of ``method="taylor-collapsed"`` (default 8, at least 2, must
            divide ``num_probes``): R2's estimate is the mean of the g group means and its standard
            error their standard deviation over √g (g − 1 degrees of freedom: the collapsed pass never
            sees single probes). Exact factor columns are summed as one group.
        exact_directions: k, for ``probes="spectral"``: the rank-one direction σ a_i and the top-k
            eigen-directions of Σ_xx are evaluated exactly, and ``num_probes`` Rademacher probes
            estimate the tail of the spectrum (:func:`.probes.draw_spectral_batches`).

    Invalid values raise ``ValueError`` naming the field:

    >>> EstimatorOptions(probes="rademacher", num_probes=32).probes
    'rademacher'
    >>> EstimatorOptions(probes="uniform")
    Traceback (most recent call last):
    ...
    ValueError: probes must be one of gaussian, rademacher, mixup, exact, spectral; got 'uniform'
    """

    probes: ProbeKind = "gaussian"
    num_probes: int = 32
    chunk_size: int | None = None
    method: Method = "auto"
    r1: R1Mode = "auto"
    curvature: Curvature = "autograd"
    secant_step: float = 1.0
    train_mode: TrainMode = "error"
    progress: bool | None = None
    collapse_groups: int = 8
    exact_directions: int = 16

    def __post_init__(self) -> None:
        _check_choice("probes", self.probes, PROBES)
        _check_choice("method", self.method, METHODS)
        _check_choice("curvature", self.curvature, CURVATURES)
        _check_choice("r1", self.r1, R1_MODES)
        if self.train_mode not in TRAIN_MODES:
            raise ValueError(f"train_mode must be 'error' or 'eval'; got {self.train_mode!r}")
        num_probes, chunk_size = self.num_probes, self.chunk_size
        if self.probes != "exact" and (int(num_probes) < 1 or int(num_probes) != num_probes):
            raise ValueError(f"num_probes must be a positive integer, got {num_probes!r}")
        if chunk_size is not None and (int(chunk_size) < 1 or int(chunk_size) != chunk_size):
            raise ValueError(f"chunk_size must be a positive integer or None (automatic), got {chunk_size!r}")
        if self.curvature == "secant" and not (math.isfinite(self.secant_step) and self.secant_step > 0):
            raise ValueError(f"secant_step must be a finite number > 0, got {self.secant_step!r}")
        if self.method == "hutch++":
            self._check_hutch_plus_plus()
        if self.method == "taylor-collapsed":
            self._check_collapsed()
        if self.probes == "spectral" and (
            int(self.exact_directions) < 0 or int(self.exact_directions) != self.exact_directions
        ):
            raise ValueError(f"exact_directions must be an integer >= 0, got {self.exact_directions!r}")
        object.__setattr__(self, "exact_directions", int(self.exact_directions))
        object.__setattr__(self, "collapse_groups", int(self.collapse_groups))
        object.__setattr__(self, "num_probes", int(num_probes))
        object.__setattr__(self, "chunk_size", None if chunk_size is None else int(chunk_size))

    def _check_hutch_plus_plus(self) -> None:
        if self.probes not in ("gaussian", "rademacher"):
            raise ValueError(
                "method='hutch++' draws probes in the factor space: use probes='gaussian' or 'rademacher'"
            )
        if self.num_probes < 6:
            raise ValueError(
                "method='hutch++' needs num_probes >= 6 (a third sketch, a third top, "
                "and at least two remainder probes for a standard error)"
            )
        if self.curvature == "secant":
            raise ValueError("method='hutch++' needs Hessian-vector products: not with secant")

    def _check_collapsed(self) -> None:
        groups = self.collapse_groups
        if int(groups) != groups or int(groups) < 2:
            raise ValueError(
                f"collapse_groups must be an integer >= 2 (the standard error comes from the group means), "
                f"got {groups!r}"
            )
        if not self.exact_probes and int(self.num_probes) % int(groups):
            raise ValueError(
                f"collapse_groups ({groups}) must divide num_probes ({self.num_probes}) for "
                "method='taylor-collapsed'"
            )
        if self.curvature == "secant":
            raise ValueError("method='taylor-collapsed' propagates Hessian terms: not with secant")

    @property
    def exact_probes(self) -> bool:
        """Whether the probes are the 1 + r columns of the factor of Σ^(i) (zero variance)."""
        return self.probes == "exact"

    def probes_per_sample(self, rank: int) -> int:
        """Probes per sample for a geometry of rank r: the 1 + r factor columns, num_probes, or for
        spectral probes the 1 + min(k, r) exact columns and num_probes tail probes (none if k ≥ r)."""
        if self.exact_probes:
            return 1 + rank
        if self.probes == "spectral":
            exact = min(self.exact_directions, rank)
            return 1 + exact + (self.num_probes if exact < rank else 0)
        return self.num_probes

    def curvature_groups(self, num_probes: int) -> int | None:
        """How many groups the curvature pass sums ``num_probes`` probes into: None (one value per
        probe), 1 (exact columns under collapsed Taylor mode), or ``collapse_groups``."""
        if self.method != "taylor-collapsed":
            return None
        return 1 if self.exact_probes else self.collapse_groups

    def resolved(self, model: Callable[[Tensor], Tensor], num_classes: int) -> EstimatorOptions:
        """The options with ``method`` and ``r1`` ``"auto"`` replaced by what they choose for
        ``model`` and ``num_classes`` outputs; ``method="taylor"`` checked against the model."""
        method, r1 = self.method, self.r1
        if method in ("auto", "taylor", "taylor-collapsed"):
            reason = taylor_mode_unsupported(model)
            if method != "auto" and reason is not None:
                raise ValueError(
                    f"method={method!r} needs a jet rule for every operation (see taylor_mode_supported): "
                    f"no rule for {reason}; use method='jvp'"
                )
            # forward-over-forward needs the same forward-mode rules as forward-over-reverse and
            # measured cheaper on residual networks; collapsing the second-order stream cheaper
            # still (benchmarks/bench_estimators.py)
            if method == "auto":
                method = (
                    ("taylor-collapsed" if self._collapsible() else "taylor") if reason is None else "jvp"
                )
        if r1 == "auto":
            r1 = "probes"
        return dataclasses.replace(self, method=method, r1=r1)

    def _collapsible(self) -> bool:
        """Whether ``method="auto"`` collapses: autograd curvature and either exact columns (one
        group) or random probes that ``collapse_groups`` splits into groups of two or more."""
        if self.curvature != "autograd":
            return False
        if self.exact_probes:
            return True
        groups = self.collapse_groups
        return groups >= 2 and self.num_probes % groups == 0 and self.num_probes >= 2 * groups


def options_with(options: EstimatorOptions | None, overrides: dict[str, Any]) -> EstimatorOptions:
    """``options`` (default ``EstimatorOptions()``) with the fields in ``overrides`` replaced and
    validated again; an argument that is no field is refused with the list of fields."""
    if options is None:
        options = EstimatorOptions()
    elif not isinstance(options, EstimatorOptions):
        raise TypeError(
            f"options must be an EstimatorOptions, got {type(options).__name__}; the samples to "
            "evaluate go by keyword (indices=...)"
        )
    if not overrides:
        return options
    fields = [f.name for f in dataclasses.fields(EstimatorOptions)]
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise TypeError(
            f"unexpected argument {', '.join(unknown)}: not a field of EstimatorOptions ({', '.join(fields)})"
        )
    return dataclasses.replace(options, **overrides)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
