r"""The result type of the probe estimators: per-sample regularizers with their standard errors."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from .._types import Tensor
from .options import Method

__all__ = ["RegularizerEstimates"]


@dataclass
class RegularizerEstimates:
    r"""Per-sample results of :func:`~mixtheory.estimators.estimate_regularizers`; every tensor has
    shape (m,).

    ``erm``, ``R1``–``R4`` are the terms of Theorem 3 of Carratino et al. (JMLR 2022) at the m
    requested samples. ``R13`` is R1 + R3 computed directly (never by adding the two: on a confident
    network each is ~1e8 or more while R13 is O(1)); ``E_Q = erm + R13 + R2 + R4``.
    ``cancellation`` is ``max(|R1|, |R3|) / |R13|`` per sample. ``R13_se``/``R1_se``/``R2_se`` are
    standard errors of the estimates (0 where computed exactly: R13 and R1 with ``r1="exact"``,
    anything with ``probes="exact"``; R1 = R13 − R3 shares R13's error). ``R3`` and ``R4`` are
    always exact. Index like a dict: ``est["R2"]``, ``est["R2_se"]``.

    >>> ones = torch.ones(2, dtype=torch.float64)
    >>> est = RegularizerEstimates(torch.arange(2), *(ones,) * 10)
    >>> est["R13"].tolist(), est.settings()["probes"]
    ([1.0, 1.0], 'gaussian')
    """

    indices: Tensor
    erm: Tensor
    R1: Tensor
    R2: Tensor
    R3: Tensor
    R4: Tensor
    R1_se: Tensor
    R2_se: Tensor
    R13: Tensor
    R13_se: Tensor
    cancellation: Tensor
    probes: str = "gaussian"
    num_probes: int = 0
    method: Method = "taylor"
    r1: str = "exact"
    curvature: str = "autograd"
    info: dict = field(default_factory=dict)

    KEYS: ClassVar[tuple[str, ...]] = (
        "indices",
        "erm",
        "R1",
        "R2",
        "R3",
        "R4",
        "R13",
        "R1_se",
        "R2_se",
        "R13_se",
        "cancellation",
    )

    def __getitem__(self, key: str) -> Tensor:
        if key not in self.KEYS:
            raise KeyError(f"{key!r}; available: {', '.join(self.KEYS)}")
        return getattr(self, key)

    def keys(self) -> tuple[str, ...]:
        return self.KEYS

    def settings(self) -> dict[str, Any]:
        """The estimator settings the numbers were computed with (probes, counts, methods)."""
        return dict(
            probes=self.probes,
            num_probes=self.num_probes,
            method=self.method,
            r1=self.r1,
            curvature=self.curvature,
        )

    @classmethod
    def concatenate(cls, parts: list[RegularizerEstimates]) -> RegularizerEstimates:
        """The parts' samples one after the other; settings and ``info`` from the first part."""
        first = parts[0]
        tensors = {key: torch.cat([part[key] for part in parts]).detach() for key in cls.KEYS}
        return cls(**tensors, **first.settings(), info=dict(first.info))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: per-sample lists plus the settings."""
        out: dict[str, Any] = {key: self[key].tolist() for key in self.KEYS}
        out.update(self.settings())
        return out

    def summary(self, quantiles: tuple[float, ...] = (0.05, 0.5, 0.95)) -> dict[str, dict]:
        """Mean (with the standard error of the mean over samples, probe noise included),
        quantiles and mean per-sample standard error of erm, R1, R2, R3, R4, R13
        (E_Q = erm + R13 + R2 + R4)."""
        out = {}
        for key in ("erm", "R1", "R2", "R3", "R4", "R13"):
            values = self[key].double()
            m = values.numel()
            spread = float(values.std()) if m > 1 else float("nan")
            entry = {"mean": float(values.mean()), "sem": spread / math.sqrt(m) if m > 1 else float("nan")}
            levels = torch.quantile(values, torch.tensor(quantiles, dtype=values.dtype))
            entry.update({f"q{round(100 * p):02d}": float(x) for p, x in zip(quantiles, levels)})
            if key in ("R1", "R2", "R13"):
                entry["mean_se"] = float(self[f"{key}_se"].double().mean())
            out[key] = entry
        return out
