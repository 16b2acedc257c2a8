r"""Memory budgets for the closed-form route: parse a budget, size a network's activations, and plan
how many samples (and factor directions) one pass may hold.

The dense route of :func:`mixtheory.closed_form.taylor_regularizers` forms the input Hessian of
``g = wᵀf`` per sample with ``torch.func.hessian`` (forward-over-reverse over all d input
directions): its peak is about d copies of the network's forward and backward intermediates plus
the d × d result, per sample (measured: 0.9 GB per sample for a small GELU CNN at d = 3,072 in
float32). The factor route contracts the second derivative with the 1 + r columns of the factor
``L_i`` of ``Σ^(i)_xx = L_i L_iᵀ`` (Lemma 2 of Carratino et al., JMLR 2022) by Taylor-mode jets,
a bounded number of directions per pass, so its peak is set by the pass size, not by d or n.

The estimates here are deliberately conservative (about 1.5× the measured peaks); they decide the
chunk sizes and whether a run is refused up front.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.overrides import TorchFunctionMode

from ._types import Tensor

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "MemoryBudgetError",
    "parse_memory_budget",
    "format_bytes",
    "activation_elements",
    "auto_pass_inputs",
    "PASS_BUFFER_BYTES",
    "PASS_BUFFER_BYTES_GPU",
    "MAX_PASS_INPUTS",
    "MAX_PASS_INPUTS_GPU",
    "ClosedFormPlan",
    "plan_closed_form",
]

DEFAULT_MEMORY_BUDGET = 2 * 1024**3  # 2 GiB: fits a laptop beside the data and the model
_ENV = "MIXTHEORY_MEMORY_BUDGET"
_UNITS = {"": 1, "B": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_IUNITS = {"KI": 1024, "MI": 1024**2, "GI": 1024**3, "TI": 1024**4}
# bytes per direction and per activation element: primal, first- and second-order streams, temporaries
_JET_STREAMS = 3
# dense Hessian: forward-over-reverse keeps forward and backward intermediates for all d directions
_DENSE_STREAMS = 3


class MemoryBudgetError(MemoryError):
    """A computation would not fit the memory budget; the message gives what it needs and what fits."""


def parse_memory_budget(budget: int | float | str | None) -> int:
    """Bytes from ``budget``: a number of bytes, a string such as ``"2GB"``, ``"512MiB"``, ``"1.5G"``,
    or None for ``$MIXTHEORY_MEMORY_BUDGET`` if set, else 2 GiB.

    >>> parse_memory_budget("2GB"), parse_memory_budget("512MiB"), parse_memory_budget(1000)
    (2000000000, 536870912, 1000)
    """
    if budget is None:
        budget = os.environ.get(_ENV) or DEFAULT_MEMORY_BUDGET
    if isinstance(budget, bool):
        raise ValueError(f"memory_budget must be a number of bytes or a string like '2GB', got {budget!r}")
    if isinstance(budget, (int, float)):
        value = float(budget)
    else:
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmMgGtT]?[iI]?)[bB]?\s*", str(budget))
        if match is None:
            raise ValueError(
                f"memory_budget={budget!r} is not a size: use bytes (2_000_000_000) or a string such as "
                "'2GB', '512MiB', '1.5G'"
            )
        unit = match.group(2).upper()
        value = float(match.group(1)) * (_IUNITS[unit] if unit in _IUNITS else _UNITS[unit])
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"memory_budget must be a positive size, got {budget!r}")
    return int(value)


def format_bytes(size: float) -> str:
    """``1.5 GB``-style text (powers of 1000).

    >>> format_bytes(2.2e9), format_bytes(3.4e6)
    ('2.2 GB', '3.4 MB')
    """
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size:.0f} B"


class _CountOutputs(TorchFunctionMode):
    """Sums the elements of every tensor a torch function returns while active."""

    def __init__(self) -> None:
        super().__init__()
        self.elements = 0
        self.largest = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        out = func(*args, **(kwargs or {}))
        for item in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(item, torch.Tensor):
                self.elements += item.numel()
                self.largest = max(self.largest, item.numel())
        return out


def activation_elements(model: Callable[[Tensor], Tensor], one_input: Tensor, largest: bool = False) -> int:
    """Elements of all intermediate tensors of one forward pass on one sample ``(1, *shape)``: the
    size, in numbers, of what a derivative pass keeps per direction (``largest``: of the largest
    one alone, which sets the size of a pass's biggest buffer)."""
    counter = _CountOutputs()
    with torch.no_grad(), counter:
        model(one_input)
    count = counter.largest if largest else counter.elements
    return max(int(count), int(one_input.numel()))


# a pass's largest buffer: small enough to be reused by the allocator (glibc returns blocks above
# ~32 MB to the system and page-faults them back on every allocation) and to stay near the caches
PASS_BUFFER_BYTES = 4 * 1024**2


# on a GPU a pass should fill the device instead: buffers of a few hundred MB
PASS_BUFFER_BYTES_GPU = 256 * 1024**2
MAX_PASS_INPUTS, MAX_PASS_INPUTS_GPU = 512, 16384
MAX_FACTOR_DIRECTIONS = 256


def auto_pass_inputs(
    largest_elements: int, element_bytes: int, minimum: int = 1, device: torch.device | str | None = None
) -> int:
    """Model inputs per derivative pass so that its largest buffer holds about
    :data:`PASS_BUFFER_BYTES`: measured 2-6× faster per input than 512-input passes on a CPU,
    where fresh large buffers cost a page fault per 4 kB (``benchmarks/bench_estimators.py``); on a
    CUDA device :data:`PASS_BUFFER_BYTES_GPU`, whose caching allocator reuses buffers.

    >>> auto_pass_inputs(16 * 32 * 32, 4)       # a 16-channel 32 × 32 feature map in float32
    64
    """
    gpu = torch.device(device or "cpu").type == "cuda"
    target, cap = (
        (PASS_BUFFER_BYTES_GPU, MAX_PASS_INPUTS_GPU) if gpu else (PASS_BUFFER_BYTES, MAX_PASS_INPUTS)
    )
    # capped: a model whose insides the count cannot see (TorchScript) must not get a huge pass
    return max(int(minimum), min(cap, target // max(1, largest_elements * element_bytes)))


@dataclass(frozen=True)
class ClosedFormPlan:
    """The route of the closed form and its pass sizes: ``samples`` per pass (dense), or ``samples``
    × ``directions`` per pass (factor); ``need`` the estimated peak bytes of one pass."""

    route: str
    samples: int
    directions: int
    need: int
    budget: int


def _dense_bytes(d: int, c: int, act: int, model_bytes: int, geometry_bytes: int) -> int:
    return _DENSE_STREAMS * d * act * model_bytes + 2 * d * d * geometry_bytes + (c + 2) * act * model_bytes


def _direction_bytes(d: int, rank: int, act: int, model_bytes: int, geometry_bytes: int) -> int:
    return _JET_STREAMS * act * model_bytes + 2 * d * model_bytes + 2 * (1 + rank) * geometry_bytes


def plan_closed_form(
    *,
    d: int,
    c: int,
    rank: int,
    act: int,
    model_bytes: int,
    geometry_bytes: int,
    route: str,
    budget: int,
    max_samples: int | None = None,
) -> ClosedFormPlan:
    r"""Choose the route and pass sizes under ``budget`` bytes, or raise :class:`MemoryBudgetError`
    with the memory the run would need and the route that fits.

    ``route="auto"`` takes the factor route when it needs fewer derivative directions per sample
    (2(1 + r) jet directions against d + c for the dense Jacobian and Hessian) or when one sample's
    dense Hessian does not fit; ``"dense"`` and ``"factor"`` force one.
    """
    dense = _dense_bytes(d, c, act, model_bytes, geometry_bytes)
    per_direction = _direction_bytes(d, rank, act, model_bytes, geometry_bytes)
    # one sample's fixed part in the factor route: outputs, Sherman–Morrison factors, (r × c) products
    factor_fixed = (4 * act * model_bytes) + 4 * (1 + rank) * (c + 2) * geometry_bytes
    factor_min = factor_fixed + per_direction
    if route not in ("auto", "dense", "factor"):
        raise ValueError(f"route must be 'auto', 'dense' or 'factor'; got {route!r}")
    if route == "auto":
        cheaper = 2 * (1 + rank) < d + c
        route = "factor" if cheaper or dense > budget else "dense"
    if route == "dense":
        if dense > budget:
            fits = f"route='factor' fits: about {format_bytes(factor_min)} for one direction at a time"
            raise MemoryBudgetError(
                f"the dense closed form needs about {format_bytes(dense)} per sample (the d × d input "
                f"Hessian at d = {d} and d copies of the network's {act} activations), above "
                f"memory_budget = {format_bytes(budget)}; {fits}"
            )
        samples = max(1, budget // dense)
        if max_samples is not None:
            samples = min(samples, max_samples)
        return ClosedFormPlan("dense", int(samples), d, int(samples * dense), budget)
    if factor_min > budget:
        raise MemoryBudgetError(
            f"the factor route needs about {format_bytes(factor_min)} for one sample and one direction "
            f"(the network's {act} activations in three jet streams), above memory_budget = "
            f"{format_bytes(budget)}; raise memory_budget"
        )
    directions_total = 1 + rank
    room = (budget - factor_fixed) // per_direction
    # at most MAX_FACTOR_DIRECTIONS columns per pass: the pass's (columns × r) coordinates never
    # approach a d × d matrix, and its buffers stay small enough for the allocator to reuse
    directions = int(max(1, min(directions_total, room, MAX_FACTOR_DIRECTIONS)))
    samples = int(
        max(1, min(budget // (factor_fixed + directions * per_direction), 4 * MAX_PASS_INPUTS // directions))
    )
    if max_samples is not None:
        samples = min(samples, max_samples)
    need = samples * (factor_fixed + directions * per_direction)
    return ClosedFormPlan("factor", samples, directions, int(need), budget)
