"""The source documents of the ledger: slide summaries of papers on mixup.

``key`` is the name under which each summary was filed (the stable value of ``Claim.source`` in
``mixtheory verify`` output); ``title`` says what it summarises.
"""

from __future__ import annotations

from .claims import Source

__all__ = ["DATA_VALUATION", "CARRATINO_2022", "MIXUPE", "MIXUP_2018", "MASKED_MIXING", "SOURCES"]

DATA_VALUATION = Source(
    "000_733ca9e95aa63fd6.txt",
    "slides 'Mix-up based on data valuation score', summarising Carratino et al. (JMLR 2022) and "
    "Zhang et al. (ICLR 2021) on the Taylor regularizers, forgetting statistics, RegMixUp and "
    "H-mix/G-mix experiments",
)
CARRATINO_2022 = Source(
    "001_485ae1d53d6bcb3f.txt",
    "slide summary of Carratino, Cissé, Jenatton, Vert, 'On Mixup Regularization' (JMLR 2022)",
)
MIXUPE = Source(
    "002_522ba7f9715f69d8.txt",
    "slides of Zou, Verma et al., 'MixupE: Understanding and Improving Mixup from Directional "
    "Derivative Perspective' (UAI 2023)",
)
MIXUP_2018 = Source(
    "003_f5c3944729ef130c.txt",
    "slide summary of Zhang, Cissé, Dauphin, Lopez-Paz, 'mixup: Beyond Empirical Risk "
    "Minimization' (ICLR 2018)",
)
MASKED_MIXING = Source(
    "004_93a713ca753b711f.txt",
    "slides of Park, Yun, Chun, 'A Unified Analysis of Mixed Sample Data Augmentation: A Loss "
    "Function Perspective' (NeurIPS 2022)",
)

#: every source, by key
SOURCES: dict[str, Source] = {
    s.key: s for s in (DATA_VALUATION, CARRATINO_2022, MIXUPE, MIXUP_2018, MASKED_MIXING)
}
