r"""Ledger entries and their registry: a claim's metadata is written once, in :func:`claim`.

A ledger entry is reported as the package's one result type, :class:`mixtheory.verification.Result`
(subject ``claim``; :func:`new_claim`, also called ``Claim``, builds and validates one), with

- ``id`` (``seed000-r1-bound``; the prefix names the source document), ``source`` (the key of the
  source document, :class:`Source`), ``statement`` (in the source's own notation, quoted or
  faithfully paraphrased);
- ``verdict``: ``holds``, ``fails``, ``conditional`` (with ``condition`` spelled out),
  ``inconclusive`` (an experiment ran, but its confidence interval contains both "no effect" and the
  effect that matters; the evidence says what would decide it), ``untested`` (an observation
  awaiting a reproduction experiment, named in ``decided_by``) or ``answered`` (the source asks a
  question; the evidence answers it);
- an experimental verdict from stored results carries its test (:mod:`._evidence`): the
  pre-declared rule, the test, sides and level, the estimate with its confidence interval, the
  seeds, the test-set size and the minimum effect detectable at 80 % power, in
  ``evidence.numbers["test"]``;
- ``evidence``: an :class:`Evidence` with a ``kind`` (``proof``, ``counterexample``, ``search``,
  ``experiment``, ``arithmetic``, ``pending``), a text, and the structured ``numbers``;
- ``corrected``: the corrected statement where the source's is wrong or does not type-check;
  this and the next two live in the entry's sub-record, :class:`ClaimRecord`, and read through it;
- ``figure``: the registered figure of :mod:`mixtheory.reproduce` that decides the entry (its
  registry name), and ``figure_result``, once :func:`.figures.decide_from_results` has read that
  figure's stored results, what was read (scale, data, commit, path, checks).

Everything fixed about an entry (id, source, statement, expected verdict, condition, corrected
form, deciding experiment, deciding figure) is a :class:`ClaimInfo` given to the :func:`claim`
decorator; the decorated function computes only the :class:`Finding` (verdict and evidence). An
observation (:func:`observation`) names the figure that decides it, with the rule reading the
figure's measured headline (:mod:`.figures`), or says why no figure can (``no_figure``). ``condition`` and
``corrected`` may name computed numbers as ``$name`` placeholders, filled from the evidence's
``numbers`` (so prose that states a number states the computed one).

>>> info = ClaimInfo("demo", Source("demo.txt", "a demo"), "1 + 1 = 2", "holds")
>>> info.build(Finding("holds", Evidence("arithmetic", "1 + 1 = 2."))).verdict
'holds'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from string import Template
from typing import Any

import numpy as np
import torch

from ..verification import LEDGER_VERDICTS, Evidence, Provenance, Result, jsonable

__all__ = [
    "VERDICTS",
    "SCALES",
    "Source",
    "Evidence",
    "Claim",
    "FigureDecision",
    "ClaimRecord",
    "ClaimInfo",
    "new_claim",
    "replace_claim",
    "Finding",
    "CLAIMS",
    "METADATA",
    "EXPECTED_VERDICTS",
    "MODULES",
    "claim",
    "observation",
    "get_claim",
    "all_claims",
    "reproduce_command",
    "summary_counts",
    "jsonable",
]

#: the ledger's verdicts (:data:`mixtheory.verification.LEDGER_VERDICTS`)
VERDICTS = LEDGER_VERDICTS
#: the scales a figure may be run at (``mixtheory reproduce --quick | --standard | --full``)
SCALES = ("quick", "standard", "full")


@dataclass(frozen=True)
class Source:
    """A source document: ``key`` (the name under which its summary was filed, kept as the stable
    value of a claim's ``source``) and ``title`` (the paper or slides it summarises)."""

    key: str
    title: str


@dataclass(frozen=True)
class ClaimRecord:
    """A ledger entry's own sub-record of its :class:`~mixtheory.verification.Result` (module
    docstring): ``condition``, ``corrected``, ``decided_by``, ``figure`` and ``figure_result``; its
    fields read through the result (``claim.condition``)."""

    condition: str | None = None
    corrected: str | None = None
    decided_by: str | None = None
    figure: str | None = None
    figure_result: dict[str, Any] | None = None

    def one_line_of(self, result: Result) -> str:
        """The first sentence of the evidence (for untested claims: what decides them), for tables."""
        if result.verdict == "untested":
            if self.figure is not None:
                return f"awaits: `{reproduce_command(self.figure)}` (at scale: {self.decided_by})"
            return f"awaits: {self.decided_by}"
        text = result.evidence.text.strip().split("\n")[0]
        cut = text.find(". ")
        return text if cut < 0 else text[: cut + 1]


_RECORD_FIELDS = ("condition", "corrected", "decided_by", "figure", "figure_result")


def new_claim(
    id: str,
    source: str,
    statement: str,
    verdict: str,
    evidence: Evidence,
    record: ClaimRecord | None = None,
    provenance: Provenance | None = None,
) -> Result:
    """One evaluated ledger entry as a :class:`~mixtheory.verification.Result` (subject ``claim``),
    validated: a ledger verdict (:data:`VERDICTS`), a conditional verdict with its condition, an
    untested or inconclusive one naming the experiment that decides it. ``record``: the entry's
    :class:`ClaimRecord` (condition, correction, deciding experiment, figure; default empty)."""
    record = ClaimRecord() if record is None else record
    condition, decided_by = record.condition, record.decided_by
    if verdict not in VERDICTS:
        raise ValueError(f"{id}: verdict must be one of {VERDICTS}, got {verdict!r}")
    if verdict == "conditional" and not condition:
        raise ValueError(f"{id}: a conditional verdict needs its condition")
    if verdict in ("untested", "inconclusive") and not decided_by:
        raise ValueError(f"{id}: an {verdict} claim must name the experiment that decides it")
    return Result(
        id,
        verdict,
        evidence,
        subject="claim",
        statement=statement,
        source=source,
        record=record,
        provenance=provenance,
    )


#: the compatibility constructor of an evaluated entry (the former ``Claim`` class, same arguments):
#: it returns the one result type, :class:`~mixtheory.verification.Result`
Claim = new_claim


def replace_claim(claim: Result, **changes: Any) -> Result:
    """``claim`` with ``changes`` (the result's fields or the :class:`ClaimRecord`'s), validated again."""
    values: dict[str, Any] = {
        "id": claim.id,
        "source": claim.source,
        "statement": claim.statement,
        "verdict": claim.verdict,
        "evidence": claim.evidence,
        "provenance": claim.provenance,
    }
    values.update({k: getattr(claim.record, k) for k in _RECORD_FIELDS})
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"replace_claim: unknown field(s) {sorted(unknown)}")
    values.update(changes)
    record = ClaimRecord(**{k: values.pop(k) for k in _RECORD_FIELDS})
    return new_claim(**values, record=record)


@dataclass(frozen=True)
class Finding:
    """What a claim function computes: the verdict it reached and the evidence for it (and, for a
    conditional verdict reached by a figure rule, its ``condition``)."""

    verdict: str
    evidence: Evidence
    condition: str | None = None


#: how an observation reads its figure's stored result (a :class:`.figures.FigureResult`)
FigureRule = Callable[[Any], "Finding"]


@dataclass(frozen=True)
class FigureDecision:
    """How a registered figure decides an entry: ``name`` (the figure), ``rule`` (its stored result
    to a :class:`Finding`), ``expected`` (the verdict it gave at each scale it was run at, e.g.
    ``{"quick": "inconclusive", "standard": "holds"}``) and ``stochastic`` (:class:`ClaimInfo`)."""

    name: str
    rule: FigureRule
    expected: Mapping[str, str]
    stochastic: bool = True


def _figure_fields(figure: str | FigureDecision | None) -> dict[str, Any]:
    """:class:`ClaimInfo`'s figure fields from a figure name (it measures the entry) or decision."""
    if not isinstance(figure, FigureDecision):
        return {"figure": figure}
    return {
        "figure": figure.name,
        "decide": figure.rule,
        "expected_from_figure": dict(figure.expected),
        "stochastic": figure.stochastic,
    }


@dataclass(frozen=True)
class ClaimInfo:
    """The fixed metadata of one entry; ``expected`` is the verdict the entry is expected to reach
    (``mixtheory verify`` and the tests fail when the computed verdict differs).

    ``figure``: the registered figure that decides the entry; ``decide``: for an observation, the
    rule mapping that figure's stored result to a :class:`Finding`, and ``expected_from_figure`` the
    verdict it gave at each scale it was run at (``{"quick": "inconclusive"}``); ``stochastic``: the
    rule decides a sampled quantity (trained networks), so a rerun may move it, and ``verify``
    reports a changed verdict as news rather than failing (deterministic figures, closed forms, stay
    pinned); ``no_figure``: why no figure can decide an untested entry."""

    id: str
    source: Source
    statement: str
    expected: str
    condition: str | None = None
    corrected: str | None = None
    decided_by: str | None = None
    figure: str | None = None
    no_figure: str | None = None
    decide: FigureRule | None = None
    expected_from_figure: Mapping[str, str] = field(default_factory=dict)
    stochastic: bool = True

    def __post_init__(self) -> None:
        if self.expected not in VERDICTS:
            raise ValueError(f"{self.id}: expected verdict must be one of {VERDICTS}")
        if self.figure is not None and self.no_figure is not None:
            raise ValueError(f"{self.id}: names a deciding figure and says none can decide it")
        if self.decide is not None and (self.figure is None or not self.expected_from_figure):
            raise ValueError(f"{self.id}: a figure rule needs the figure and its expected verdicts")
        bad = {k: v for k, v in self.expected_from_figure.items() if k not in SCALES or v not in VERDICTS}
        if bad:
            raise ValueError(f"{self.id}: expected_from_figure maps {SCALES} to verdicts, got {bad}")

    def build(self, finding: Finding) -> Result:
        """The entry's :class:`~mixtheory.verification.Result` for a computed finding, ``$name``
        placeholders filled from its numbers."""
        numbers = {k: _fmt(v) for k, v in finding.evidence.numbers.items()}

        def fill(text: str | None) -> str | None:
            return None if text is None else Template(text).substitute(numbers)

        return new_claim(
            self.id,
            self.source.key,
            self.statement,
            finding.verdict,
            finding.evidence,
            ClaimRecord(fill(self.condition), fill(self.corrected), self.decided_by, self.figure),
        )


def reproduce_command(figure: str, mode: str = "quick") -> str:
    """The command that writes ``figure``'s results at ``mode`` scale.

    >>> reproduce_command("score-heatmaps")
    'mixtheory reproduce score-heatmaps --quick'
    """
    return f"mixtheory reproduce {figure} --{mode}"


def _fmt(value: Any) -> str:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value)


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------
FindingFn = Callable[[], Finding]
ClaimFn = Callable[[], Result]

#: claim id → metadata, in registration order (the tests iterate this)
METADATA: dict[str, ClaimInfo] = {}
#: claim id → a function evaluating the entry
CLAIMS: dict[str, ClaimFn] = {}
#: claim id → the module of the function that computes it (entries of one module may share cached
#: fixtures; ``mixtheory verify --jobs`` keeps them in one process)
MODULES: dict[str, str] = {}
#: claim id → the verdict each entry is expected to reach; ``mixtheory verify`` fails when one changes
EXPECTED_VERDICTS: dict[str, str] = {}
_CACHE: dict[str, Result] = {}


def _add(info: ClaimInfo, compute: FindingFn) -> None:
    if info.id in METADATA:
        raise ValueError(f"duplicate claim id {info.id}")
    METADATA[info.id] = info
    MODULES[info.id] = getattr(compute, "__module__", None) or __name__
    EXPECTED_VERDICTS[info.id] = info.expected
    CLAIMS[info.id] = lambda: info.build(compute())


def claim(
    claim_id: str,
    source: Source,
    statement: str,
    expected: str,
    *,
    condition: str | None = None,
    corrected: str | None = None,
    decided_by: str | None = None,
    figure: str | FigureDecision | None = None,
) -> Callable[[FindingFn], FindingFn]:
    """Register the decorated function (returning a :class:`Finding`) as the ledger entry with
    this metadata (``figure``: a registered figure that also measures it, at scale; as a
    :class:`FigureDecision` its stored results decide the entry in ``mixtheory verify``, the
    function's own finding standing when none are stored)."""
    info = ClaimInfo(
        claim_id, source, statement, expected, condition, corrected, decided_by, **_figure_fields(figure)
    )

    def wrap(fn: FindingFn) -> FindingFn:
        _add(info, fn)
        return fn

    return wrap


def observation(
    claim_id: str,
    source: Source,
    statement: str,
    decided_by: str,
    note: str = "",
    *,
    figure: FigureDecision | None = None,
    no_figure: str | None = None,
    expected: str = "untested",
    text: str | None = None,
) -> None:
    """Register an observation that awaits a reproduction experiment (verdict ``untested``).

    ``decided_by``: the experiment at the source's scale; ``figure``: the registered figure that
    decides it, with its rule and the verdict expected at each scale (:class:`FigureDecision`,
    :mod:`.figures`); or ``no_figure``: why no figure can. ``expected`` and ``text``: the verdict
    and evidence without stored results (``answered`` for a question the source asks whose answer
    the evidence gives; default ``untested``)."""
    fields = _figure_fields(figure)
    if fields["figure"] is not None:
        note = (
            f"{note} Decided by figure {fields['figure']}: `{reproduce_command(fields['figure'])}`.".strip()
        )
    elif no_figure is not None:
        note = f"{note} No figure decides it: {no_figure}".strip()
    if text is None:
        text = ("Observation; no reproduction yet. " + note).strip()
    else:
        text = f"{text} {note}".strip()
    kind = "pending" if expected == "untested" else "arithmetic"
    info = ClaimInfo(
        claim_id, source, statement, expected, decided_by=decided_by, no_figure=no_figure, **fields
    )
    _add(info, lambda: Finding(expected, Evidence(kind, text, {})))


class _single_thread:
    """Run torch single-threaded inside: the experiments here are tiny, and on a loaded 2-core
    machine torch's thread pool turns a 40 ms quadrature into seconds. Restores the setting."""

    def __enter__(self) -> None:
        self._threads = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc: object) -> None:
        torch.set_num_threads(self._threads)


def get_claim(claim_id: str) -> Result:
    """Evaluate (once per process) and return the ledger entry with this id."""
    if claim_id not in CLAIMS:
        raise KeyError(f"unknown claim {claim_id!r}")
    if claim_id not in _CACHE:
        with _single_thread():
            _CACHE[claim_id] = CLAIMS[claim_id]()
    return _CACHE[claim_id]


def all_claims() -> list[Result]:
    """Every ledger entry, evaluated, in registration order."""
    return [get_claim(cid) for cid in CLAIMS]


def summary_counts(claims: list[Result] | None = None) -> dict[str, int]:
    """Number of entries per verdict."""
    claims = all_claims() if claims is None else claims
    out = dict.fromkeys(VERDICTS, 0)
    for c in claims:
        out[c.verdict] += 1
    return out
