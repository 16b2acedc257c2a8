r"""Training with any mixing objective while recorders log the regularizers and data-valuation scores.

- :mod:`~mixtheory.training.objectives`: ERM, mixup (any partner rule or law, per batch/pair/element,
  masks, λ and α schedules), RegMixup, approximate mixup with Eq. 15's test-time rescaling, hard
  pairing and forgetting-based partners.
- :mod:`~mixtheory.training.mixupe`: MixupE (UAI 2023) in the paper's form and the official code's
  variants, with what each does to the gradient.
- :mod:`~mixtheory.training.loop`: :func:`train` (SGD/Adam/AdamW, cosine/step schedules, checkpoints,
  bit-for-bit resumption on the CPU, provenance), the one training loop of the package; its
  settings are a :class:`~mixtheory.training.config.TrainConfig`.
- :mod:`~mixtheory.training.recorders`: per-epoch recorders of R1–R3 and R13, the mixup loss, EL2N,
  GraNd, forgetting and accuracy, as tidy CSV/NPZ tables.

>>> import torch
>>> from mixtheory import build_model
>>> from mixtheory.data import load_digits
>>> X, y = load_digits(200, seed=0)
>>> net = build_model("mlp", 64, 10, hidden=(32,), dtype=torch.float64)
>>> result = train(net, X, y, Mixup(alpha=1.0), TrainConfig(epochs=2, lr=0.1),
...                recorders=[RegularizerRecorder(16, num_probes=4), EL2NRecorder(16)])
>>> len(result.history), sorted({row["epoch"] for row in result.recorders[0].rows})
(2, [0, 1, 2])
"""

from .config import LRSchedule, OptimizerName, RngScheme, RunNotes, TrainConfig
from .loop import CHECKPOINT, TrainingResult, check_out_dir, train
from .mixupe import EtaHat, FirstOrderTerm, MixupE, mixupe_first_order
from .monitor import Monitor
from .objectives import (
    ApproximateMixup,
    BatchLoss,
    ERMObjective,
    ForgettingPartners,
    HardPairing,
    Mixup,
    Objective,
    RegMixup,
    TrainingData,
    cross_entropy,
    law_at,
    mix_indices,
)
from .recorders import (
    RECORDERS,
    AccuracyRecorder,
    EL2NRecorder,
    ForgettingRecorder,
    GraNdRecorder,
    MixupLossRecorder,
    RecordContext,
    Recorder,
    RegularizerRecorder,
    recorder_from_name,
)

OBJECTIVES: dict[str, type[Objective]] = {
    "erm": ERMObjective,
    "mixup": Mixup,
    "regmixup": RegMixup,
    "approx": ApproximateMixup,
    "mixupe": MixupE,
    "hard-pairing": HardPairing,
    "forgetting-partners": ForgettingPartners,
}


def objective_from_name(name: str, alpha: float | None = None, **options) -> Objective:
    """An objective by its command-line name (keys of :data:`OBJECTIVES`); ``alpha`` is ignored by ERM.

    >>> objective_from_name("regmixup").law.alpha
    20.0
    """
    if name not in OBJECTIVES:
        raise ValueError(f"unknown objective {name!r}; choose one of {', '.join(OBJECTIVES)}")
    if name == "erm":
        return ERMObjective()
    return OBJECTIVES[name](alpha, **options)


__all__ = [
    # the loop
    "train",
    "TrainConfig",
    "RunNotes",
    "RngScheme",
    "TrainingResult",
    "check_out_dir",
    "CHECKPOINT",
    "Monitor",
    "OptimizerName",
    "LRSchedule",
    # objectives
    "Objective",
    "BatchLoss",
    "TrainingData",
    "ERMObjective",
    "Mixup",
    "RegMixup",
    "ApproximateMixup",
    "HardPairing",
    "ForgettingPartners",
    "MixupE",
    "EtaHat",
    "FirstOrderTerm",
    "mixupe_first_order",
    "OBJECTIVES",
    "objective_from_name",
    "cross_entropy",
    "law_at",
    "mix_indices",
    # recorders
    "Recorder",
    "RecordContext",
    "RegularizerRecorder",
    "MixupLossRecorder",
    "EL2NRecorder",
    "GraNdRecorder",
    "ForgettingRecorder",
    "AccuracyRecorder",
    "RECORDERS",
    "recorder_from_name",
]
