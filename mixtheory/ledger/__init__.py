r"""The claims ledger: every quantitative claim of the source documents, with a verdict and evidence.

The sources are slide summaries of papers on mixup (:mod:`.sources`): Carratino, Cissé, Jenatton,
Vert, "On Mixup Regularization" (JMLR 2022); Zhang, Deng, Kawaguchi, Ghorbani, Zou, "How does mixup
help with robustness and generalization?" (ICLR 2021, quoted in the data-valuation slides); Zou,
Verma et al., "MixupE" (UAI 2023); Park, Yun, Chun (NeurIPS 2022) on masked mixing; the
data-valuation / forgetting slides; and Zhang et al., "mixup: Beyond Empirical Risk Minimization"
(ICLR 2018). One module per source document registers its claims:

- :mod:`.data_valuation`, :mod:`.data_valuation_formulas`, :mod:`.data_valuation_experiments`
  (the data-valuation slides), :mod:`.zhang2021` (Lemma 3.1 as quoted there),
  :mod:`.zhang2021_robustness` (its adversarial bound, quoted in two summaries);
- :mod:`.carratino2022`, :mod:`.carratino2022_bounds` (the summary of Carratino et al.);
- :mod:`.mixupe`, :mod:`.zhang2018`, :mod:`.park2022`;
- :mod:`.audit`: entries an audit found missing (Theorem 3, Corollary 4, interpretations,
  cross-source conflicts, the blobs and scheduler observations).

:mod:`.claims` holds the types and the registry (each claim's metadata written once, in the
:func:`~.claims.claim` decorator; an evaluated entry is the package's one result type,
:class:`mixtheory.verification.Result`, with a :class:`~.claims.ClaimRecord`,
``docs/verification.md``), :mod:`.figures` the reading of a reproduced figure's stored
results for the entries it decides (``mixtheory verify`` reads the committed ``figures/reproduce/``),
:mod:`._evidence` the statistics of an experimental verdict (paired t across seeds, power),
:mod:`._search` the one counterexample search (random draws
then a scipy optimizer), :mod:`._tables` the numbers printed in the sources, :mod:`._numerics` the
shared numerics and toy problems (library data and model builders).

Counterexamples are stored as small rounded inputs that reproduce the violation exactly as stored,
so a test can re-check them in float64. All budgets are small enough that :func:`all_claims` runs
in seconds on two CPU cores.

>>> get_claim("seed001-beta-variance").verdict
'holds'
"""

from . import (  # noqa: F401  (importing a source module registers its claims)
    audit,
    carratino2022,
    carratino2022_bounds,
    carratino2022_networks,
    data_valuation,
    data_valuation_experiments,
    data_valuation_formulas,
    data_valuation_networks,
    mixupe,
    park2022,
    zhang2018,
    zhang2021,
    zhang2021_robustness,
)
from ._numerics import lemma2_blocks, softmax, softmax_hessian, softmax_hessian_pinv
from ._tables import AIRPLANE_P, FORGETTING_ROWS
from .claims import (
    CLAIMS,
    EXPECTED_VERDICTS,
    METADATA,
    MODULES,
    VERDICTS,
    Claim,
    ClaimInfo,
    ClaimRecord,
    Evidence,
    Finding,
    Source,
    all_claims,
    get_claim,
    jsonable,
    new_claim,
    replace_claim,
    reproduce_command,
    summary_counts,
)
from .figures import (
    DEFAULT_RESULTS,
    FigureResult,
    decide_from_results,
    expected_verdict,
    load_figure_result,
)
from .sources import SOURCES

__all__ = [
    "Evidence",
    "Claim",
    "ClaimInfo",
    "ClaimRecord",
    "new_claim",
    "replace_claim",
    "Finding",
    "Source",
    "SOURCES",
    "VERDICTS",
    "CLAIMS",
    "METADATA",
    "MODULES",
    "EXPECTED_VERDICTS",
    "get_claim",
    "all_claims",
    "summary_counts",
    "reproduce_command",
    "DEFAULT_RESULTS",
    "FigureResult",
    "load_figure_result",
    "decide_from_results",
    "expected_verdict",
    "lemma2_blocks",
    "softmax",
    "softmax_hessian",
    "softmax_hessian_pinv",
    "FORGETTING_ROWS",
    "AIRPLANE_P",
    "jsonable",
]
