r"""mixtheory: the theory of mixup regularization as numbers you can check.

Closed forms of the folded mixing law, the perturbation geometry of Theorem 1 and Lemma 2, the
Taylor regularizers R1–R4 of Theorem 3, and the exact and sampled mixup losses they approximate
(Carratino, Cissé, Jenatton, Vert, "On Mixup Regularization", JMLR 2022).

The top level exports the entry points a researcher calls (listed in docs/README.md, "The
top-level API"); the building blocks behind them stay in their subpackages, e.g.
``mixtheory.estimators.second_order_jet``, ``mixtheory.derivatives.directional_derivatives``,
``mixtheory.regularizers.regularizers_from_derivatives``, ``mixtheory.approximate.rescale``.
"""

from . import mixing, scores, training
from ._validation import MissingClassWarning, PiecewiseLinearWarning
from ._version import __version__ as __version__
from .approximate import approximate_mixup_targets
from .closed_form import taylor_regularizers
from .data import DataSplit, load_cifar10, load_mnist, load_split
from .estimators import (
    EstimatorOptions,
    RegularizerEstimates,
    TrainModeWarning,
    estimate_from_geometry,
    estimate_regularizers,
)
from .estimators.distributed import estimate_regularizers_distributed
from .expansions import ExpansionTerms
from .expansions.mixupe import directional_expansion, first_order_term, mixupe_regularizer
from .expansions.zhang2021 import compare_expansions, zhang_expansion
from .geometry import MixupGeometry
from .laws import (
    ERM,
    Beta,
    Empirical,
    FromDensity,
    MixingLaw,
    Mixture,
    PointMass,
    SymmetricBeta,
    Uniform,
    WShaped,
    ZhangLambdaTilde,
    law_from_name,
)
from .losses import AutogradLoss, BinaryLogistic, CrossEntropy, Loss, SquaredError, get_loss
from .mixup_loss import (
    LossOptions,
    MixupLoss,
    exact_mixup_loss,
    mixup_loss,
    sampled_mixup_loss,
    sampled_second_order_loss,
    second_order_loss,
)
from .models import build_model, train_model
from .monte_carlo import MonteCarloEstimate
from .regularizers import CancellationWarning
from .scores import ForgettingTracker, el2n, grand, margin, prediction_entropy
from .training import Monitor, train
from .zhang2021 import zhang_exact_loss

__all__ = [
    # laws of λ and moments of θ = max(λ, 1 − λ)
    "MixingLaw",
    "SymmetricBeta",
    "Beta",
    "Uniform",
    "WShaped",
    "PointMass",
    "ERM",
    "Mixture",
    "FromDensity",
    "Empirical",
    "ZhangLambdaTilde",
    "law_from_name",
    # geometry (Theorem 1, Lemma 2)
    "MixupGeometry",
    # losses and their derivatives
    "Loss",
    "CrossEntropy",
    "SquaredError",
    "BinaryLogistic",
    "AutogradLoss",
    "get_loss",
    # Taylor regularizers (Theorem 3); R13 = R1 + R3 computed directly
    "taylor_regularizers",
    "CancellationWarning",
    # the real mixup loss and its second-order approximation
    "exact_mixup_loss",
    "sampled_mixup_loss",
    "mixup_loss",
    "MixupLoss",
    "LossOptions",
    "second_order_loss",
    "sampled_second_order_loss",
    "MonteCarloEstimate",
    # network backend: probe estimators of R1–R3 on trained networks
    "estimate_regularizers",
    "estimate_from_geometry",
    "RegularizerEstimates",
    "EstimatorOptions",
    "PiecewiseLinearWarning",
    "MissingClassWarning",
    "TrainModeWarning",
    "estimate_regularizers_distributed",
    # beyond uniform mixup: Zhang et al. (ICLR 2021), MixupE (UAI 2023), approximate mixup (Eq. 15)
    "ExpansionTerms",
    "zhang_expansion",
    "zhang_exact_loss",
    "compare_expansions",
    "first_order_term",
    "directional_expansion",
    "mixupe_regularizer",
    "approximate_mixup_targets",
    # data valuation (Paul et al. 2021; Toneva et al. 2019)
    "el2n",
    "grand",
    "margin",
    "prediction_entropy",
    "ForgettingTracker",
    # training with a mixing scheme, and measuring inside your own loop
    "train",
    "Monitor",
    # data (bundled or from a local path; nothing downloads)
    "DataSplit",
    "load_split",
    "load_mnist",
    "load_cifar10",
    # subpackages
    "mixing",
    "scores",
    "training",
    # small models for the command line and the analyses
    "build_model",
    "train_model",
]
