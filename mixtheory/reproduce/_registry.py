r"""The registry of reproducible figures: what a figure declares, and the table it hands over.

A figure is a :class:`Figure`: a name (``second-order-accuracy``), a title, the ledger claims it
decides (ids of :mod:`mixtheory.ledger`), a quick and a full :class:`Config`, and four functions:

- ``units(params) -> [Unit, ...]``: the independent pieces of work of one seed (a training regime,
  a law, a method); a run is resumable per (unit, seed);
- ``compute(unit, seed, params, ctx) -> [row, ...]``: the measurements of one (unit, seed), as
  tidy rows: dicts of coordinates plus ``metric`` and ``value`` (long format, one row per
  measured number);
- ``draw(rows, info) -> matplotlib Figure``: the picture, from the rows read back from the CSV;
- ``headline(rows) -> dict``: the measured headline (numbers and a ``text``), and
  ``checks(headline) -> {name: bool}``: what the quick run is expected to show, asserted in tests.

Adding a figure is one new module in :mod:`mixtheory.reproduce` that calls :func:`register`; the
package imports every public module on import, so nothing else changes.

A figure run reports the package's one result type, :class:`mixtheory.verification.Result`
(:func:`figure_result`): id = the figure's name, verdict :func:`figure_verdict` (``holds`` when
every headline check holds, ``fails`` when one does not, ``reported`` when it declares none), the
headline as evidence, the run's provenance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import torch

from ..verification import Evidence, Provenance, Result

__all__ = [
    "Mode",
    "MODES",
    "Requirement",
    "Config",
    "Unit",
    "DrawInfo",
    "Figure",
    "FIGURES",
    "register",
    "get_figure",
    "figure_verdict",
    "figure_result",
]

Mode = Literal["quick", "standard", "full"]
MODES: tuple[str, ...] = ("quick", "standard", "full")
Requirement = Literal["gpu", "cifar10"]
Row = dict[str, Any]


class ComputeContext(Protocol):
    """What ``compute`` is handed besides its parameters (the runner's ``Context``): the torch
    ``device``, the ``mode``, the ``data`` path (CIFAR-10 of a full run, else None) and ``bar``, a
    progress bar over ``total`` steps. Declared here so that the registry need not import the
    runner."""

    device: torch.device
    mode: Mode
    data: Path | None

    def bar(self, total: int, desc: str) -> Any: ...


@dataclass(frozen=True)
class Config:
    """One scale of a figure.

    ``describe`` names the data and the scale in words (it goes into the title and the provenance),
    ``params`` are handed to ``units`` and ``compute``, ``seeds`` is the default number of seeds,
    ``requires`` what the run needs beyond the CPU and the bundled data."""

    describe: str
    params: Mapping[str, Any]
    seeds: int = 1
    requires: tuple[Requirement, ...] = ()


@dataclass(frozen=True)
class Unit:
    """A piece of work of one seed, cached on its own: ``key`` (a file-name-safe label such as
    ``mixup``) and the ``params`` that distinguish it from the figure's other units."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DrawInfo:
    """What ``draw`` may know beyond the rows: the configuration the rows came from (its
    ``describe`` and ``params``), the mode and the seeds found in the rows."""

    figure: Figure
    mode: Mode
    config: Config
    seeds: tuple[int, ...]

    @property
    def title(self) -> str:
        """The figure's title, the data and scale, and the number of seeds."""
        k = len(self.seeds)
        over = f"mean ± std over {k} seeds" if k > 1 else "one seed"
        if not self.figure.seeded:
            over = "closed forms"
        return f"{self.figure.title}\n{self.config.describe} ({self.mode}; {over})"


def _one_unit(params: Mapping[str, Any]) -> list[Unit]:
    return [Unit("all")]


@dataclass(frozen=True)
class Figure:
    """A registered figure (module docstring). ``seeded=False`` for deterministic figures (closed
    forms): they run seed 0 only, whatever ``--seeds`` says. ``version`` is part of the cache key:
    bump it when ``compute`` changes what it measures."""

    name: str
    title: str
    claims: tuple[str, ...]
    quick: Config
    full: Config
    compute: Callable[[Unit, int, Mapping[str, Any], ComputeContext], list[Row]]
    draw: Callable[[list[Row], DrawInfo], Any]
    headline: Callable[[list[Row]], dict[str, Any]]
    checks: Callable[[dict[str, Any]], dict[str, bool]]
    units: Callable[[Mapping[str, Any]], Sequence[Unit]] = _one_unit
    seeded: bool = True
    statement: str = ""
    version: int = 1
    #: the CPU scale sized by a power analysis to decide the figure's claims (None: the figure has
    #: none; its quick scale already decides, or only the full scale can)
    standard: Config | None = None

    @property
    def stem(self) -> str:
        """The file stem of the outputs: the name with ``_`` for ``-`` (``second_order_accuracy``)."""
        return self.name.replace("-", "_")

    def config(self, mode: Mode) -> Config:
        """The configuration of ``mode`` (a ValueError when the figure has no standard scale)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if mode == "standard":
            if self.standard is None:
                raise ValueError(
                    f"figure {self.name!r} has no --standard configuration "
                    f"(figures with one: {', '.join(n for n, f in FIGURES.items() if f.standard)})"
                )
            return self.standard
        return self.quick if mode == "quick" else self.full

    def has(self, mode: Mode) -> bool:
        """Whether the figure has a configuration at ``mode``."""
        return mode != "standard" or self.standard is not None


FIGURES: dict[str, Figure] = {}


def register(figure: Figure) -> Figure:
    """Add ``figure`` to :data:`FIGURES` (names are unique). Its claims must be ledger ids: the
    ledger sits above the figures (it reads their results), so that is checked by
    :func:`mixtheory.ledger.figures.unknown_figure_claims` (``mixtheory verify`` and the tests)."""
    if figure.name in FIGURES and FIGURES[figure.name] is not figure:
        raise ValueError(f"a figure named {figure.name!r} is already registered")
    FIGURES[figure.name] = figure
    return figure


def get_figure(name: str) -> Figure:
    """The registered figure called ``name`` (a ValueError listing the names otherwise)."""
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; registered: {', '.join(sorted(FIGURES))}")
    return FIGURES[name]


def figure_verdict(checks: Mapping[str, bool]) -> str:
    """A figure run's verdict: ``holds`` when every headline check holds, ``fails`` when one does
    not, ``reported`` when it declares none."""
    if not checks:
        return "reported"
    return "holds" if all(checks.values()) else "fails"


def figure_result(
    name: str,
    headline: Mapping[str, Any],
    checks: Mapping[str, bool],
    record: Any,
    provenance: Provenance | None = None,
    statement: str = "",
) -> Result:
    """A figure run as the one result type (``record``: the runner's :class:`~._runner.RunResult`,
    or the ledger's stored :class:`~mixtheory.ledger.figures.FigureResult`, read through it):
    evidence of kind ``figure`` whose text is the headline's and whose numbers are the headline and
    its checks."""
    text = str(headline.get("text", ""))
    numbers = {"headline": dict(headline), "checks": dict(checks)}
    return Result(
        name,
        figure_verdict(checks),
        Evidence("figure", text, numbers),
        subject="figure",
        statement=statement,
        source="mixtheory.reproduce",
        record=record,
        provenance=provenance,
    )
