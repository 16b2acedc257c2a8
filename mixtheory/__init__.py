r"""mixtheory: the theory of mixup regularization as numbers you can check.

Closed forms of the folded mixing law, the perturbation geometry of Theorem 1 and Lemma 2, the
Taylor regularizers R1–R4 of Theorem 3, and the exact and sampled mixup losses they approximate
(Carratino, Cissé, Jenatton, Vert, "On Mixup Regularization", JMLR 2022).
"""

from . import mixing, scores, training
from ._validation import MissingClassWarning, PiecewiseLinearWarning
from ._version import __version__ as __version__
from .approximate import approximate_mixup_targets, rescale
from .closed_form import taylor_regularizers
from .data import DataSplit, load_cifar10, load_mnist, load_split
from .derivatives import directional_derivatives
from .estimators import (
    EstimatorOptions,
    RegularizerEstimates,
    TrainModeWarning,
    estimate_from_geometry,
    estimate_regularizers,
    second_order_jet,
)
from .estimators.distributed import estimate_regularizers_distributed, run_distributed
from .geometry import MixupGeometry
from .laws import (
    ERM,
    Beta,
    Empirical,
    FromDensity,
    MixingLaw,
    Mixture,
    PointMass,
    QuadratureRule,
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
from .mixupe import (
    directional_expansion,
    first_order_term,
    first_order_term_approx,
    mixupe_regularizer,
    q_hat_relative_error,
)
from .models import build_model, train_model
from .monte_carlo import MonteCarloEstimate, monte_carlo_estimate
from .regularizers import (
    CancellationWarning,
    cancellation,
    label_regularizers,
    model_derivatives,
    regularizers_from_derivatives,
)
from .scores import ForgettingTracker, el2n, grand, margin, prediction_entropy
from .training import Monitor
from .zhang2021 import (
    compare_expansions,
    fit_remainder_order,
    zhang_exact_loss,
    zhang_lambda_tilde,
    zhang_regularizers,
    zhang_second_order_loss,
)

__all__ = [
    # laws of λ and moments of θ = max(λ, 1 − λ)
    "MixingLaw",
    "QuadratureRule",
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
    "cancellation",
    "regularizers_from_derivatives",
    "label_regularizers",
    "model_derivatives",
    # the real mixup loss and its second-order approximation
    "exact_mixup_loss",
    "sampled_mixup_loss",
    "mixup_loss",
    "MixupLoss",
    "LossOptions",
    "second_order_loss",
    "sampled_second_order_loss",
    "MonteCarloEstimate",
    "monte_carlo_estimate",
    # network backend: probe estimators of R1–R3 on trained networks
    "estimate_regularizers",
    "estimate_from_geometry",
    "RegularizerEstimates",
    "EstimatorOptions",
    "PiecewiseLinearWarning",
    "MissingClassWarning",
    "TrainModeWarning",
    "second_order_jet",
    "directional_derivatives",
    "estimate_regularizers_distributed",
    "run_distributed",
    # beyond uniform mixup: Zhang et al. (ICLR 2021), MixupE (UAI 2023), approximate mixup (Eq. 15)
    "zhang_regularizers",
    "zhang_second_order_loss",
    "zhang_exact_loss",
    "zhang_lambda_tilde",
    "compare_expansions",
    "fit_remainder_order",
    "first_order_term",
    "first_order_term_approx",
    "directional_expansion",
    "mixupe_regularizer",
    "q_hat_relative_error",
    "approximate_mixup_targets",
    "rescale",
    # data valuation (Paul et al. 2021; Toneva et al. 2019)
    "el2n",
    "grand",
    "margin",
    "prediction_entropy",
    "ForgettingTracker",
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
