r"""Ledger entries decided by a reproduced figure: reading ``mixtheory reproduce``'s stored results.

An entry may name the registered figure that decides it (``figure=`` in :func:`~.claims.claim` or
:func:`~.claims.observation`, the figure's registry name in :mod:`mixtheory.reproduce`). An
observation that names one may also say how the figure's measured headline decides it:
``decide(result) -> Finding`` reads a :class:`FigureResult` (the provenance JSON written by
:func:`mixtheory.reproduce.run_figure`: mode, data, commit, configuration, ``headline`` and
``checks``) and returns a verdict with a one-line evidence text, and ``expected_from_figure`` records
the verdict each scale (``quick``, ``full``) is expected to give.

:func:`decide_from_results` turns an evaluated entry into the figure-decided one when
``<results>/<stem>.json`` (a quick run) or ``<results>/full/<stem>.json`` (a full one; ``mixtheory
reproduce`` keeps the scales apart) exists at the requested scale; otherwise the entry stays as its own
function computed it, and its evidence names the ``mixtheory reproduce FIGURE --quick`` command that
would decide it. The reading never fails on a stale or foreign JSON: a headline without the keys
the rule reads leaves the entry ``untested``, with the reason in its evidence; a JSON that cannot be
read at all is named by :func:`stored_result_problems`, which ``mixtheory verify`` calls before any
work.

>>> reproduce_command("implicit-bias-linear")
'mixtheory reproduce implicit-bias-linear --quick'
>>> result_path("implicit-bias-linear", "results/reproduce").as_posix()
'results/reproduce/implicit_bias_linear.json'
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .claims import METADATA, Claim, Evidence, Finding, reproduce_command

__all__ = [
    "DEFAULT_RESULTS",
    "Scale",
    "FigureResult",
    "reproduce_command",
    "result_path",
    "load_figure_result",
    "stored_result_problems",
    "decide_from_results",
    "expected_verdict",
]

#: where ``mixtheory reproduce`` writes by default, and so where ``mixtheory verify`` reads
DEFAULT_RESULTS = Path("results") / "reproduce"
Scale = Literal["quick", "full", "any"]


@dataclass(frozen=True)
class FigureResult:
    """The stored result of one figure run: the figure's name, the JSON's ``path``, the ``mode``
    (quick or full), the ``data`` description of that scale's configuration, the ``commit`` that
    produced it (``+dirty`` for a modified tree; None outside a checkout), when it was ``created``,
    the ``seeds`` run, the measured ``headline`` and its ``checks``."""

    figure: str
    path: Path
    mode: str
    data: str
    commit: str | None
    created: str | None
    seeds: tuple[int, ...]
    headline: Mapping[str, Any]
    checks: Mapping[str, bool] = field(default_factory=dict)

    @property
    def provenance_line(self) -> str:
        """Scale, data, commit and path in one sentence, for the evidence text."""
        commit = (
            self.commit[:12] + ("+dirty" if self.commit.endswith("+dirty") else "") if self.commit else "?"
        )
        k = len(self.seeds)
        return (
            f"{self.mode} scale ({self.data}; {k} seed{'s' if k != 1 else ''}), commit {commit}, "
            f"{self.path.as_posix()}"
        )

    def summary(self) -> dict[str, Any]:
        """What a report shows about the run (JSON-ready)."""
        return {
            "figure": self.figure,
            "path": self.path.as_posix(),
            "scale": self.mode,
            "data": self.data,
            "commit": self.commit,
            "created": self.created,
            "seeds": list(self.seeds),
            "checks": dict(self.checks),
            "headline_text": self.headline.get("text"),
        }


def result_path(figure: str, results: str | Path = DEFAULT_RESULTS, scale: str = "quick") -> Path:
    """``<results>/<stem>.json`` for a quick run, ``<results>/full/<stem>.json`` for a full one, the
    stem being the figure's name with ``_`` for ``-`` (the rule of
    :attr:`mixtheory.reproduce.Figure.stem`, repeated here so that figures not yet registered can be
    named)."""
    where = Path(results) if scale == "quick" else Path(results) / scale
    return where / f"{figure.replace('-', '_')}.json"


def _candidates(figure: str, results: str | Path, scale: Scale) -> list[Path]:
    """Where a result of ``scale`` may be stored: full results under ``full/``, or (written before
    the scales were kept apart) at the top with ``"mode": "full"``; ``any`` looks at full first."""
    top = result_path(figure, results, "quick")
    return [top] if scale == "quick" else [result_path(figure, results, "full"), top]


def _read_record(path: Path, figure: str) -> tuple[dict[str, Any] | None, str | None]:
    """The JSON record at ``path`` and None, or None and what is wrong with it."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return None, "is corrupt (not UTF-8 text)"
    except ValueError as exc:
        return None, f"is corrupt (not valid JSON: {exc})"
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    if (
        not isinstance(record, dict)
        or record.get("figure") != figure
        or not isinstance(record.get("headline"), dict)
    ):
        return None, f"is not a stored result of figure {figure} (no 'figure': {figure!r} with a 'headline')"
    return record, None


def stored_result_problems(results: str | Path, figures: list[str] | None = None) -> list[str]:
    """One line per stored result under ``results`` (of ``figures``, default every figure an entry
    names; ``mixtheory verify`` adds every registered figure) that cannot be read: corrupt JSON,
    unreadable, or not that figure's result. The ledger does not import the figure registry (the
    registry imports the ledger's claims), so the registered names come from the caller."""
    if figures is None:
        figures = sorted({i.figure for i in METADATA.values() if i.figure})
    names = figures
    problems = []
    for figure in names:
        for path in dict.fromkeys(_candidates(figure, results, "any")):
            if path.is_file():
                _, problem = _read_record(path, figure)
                if problem is not None:
                    problems.append(f"{path.as_posix()} {problem}")
    return problems


def load_figure_result(
    figure: str, results: str | Path = DEFAULT_RESULTS, scale: Scale = "any"
) -> FigureResult | None:
    """The stored result of ``figure`` under ``results`` at ``scale`` (``any``: the full one when
    stored, else the quick one), or None when there is none (or the file is not a readable figure
    JSON of that figure: :func:`stored_result_problems` names those)."""
    for path in _candidates(figure, results, scale):
        if not path.is_file():
            continue
        record, _ = _read_record(path, figure)
        if record is None or (scale != "any" and str(record.get("mode", "?")) != scale):
            continue
        seeds = record.get("seeds") or []
        return FigureResult(
            figure=figure,
            path=path,
            mode=str(record.get("mode", "?")),
            data=str(record.get("data") or "data not recorded"),
            commit=record.get("commit"),
            created=record.get("created"),
            seeds=tuple(int(s) for s in seeds),
            headline=record.get("headline") or {},
            checks={str(k): bool(v) for k, v in (record.get("checks") or {}).items()},
        )
    return None


def _with(claim: Claim, verdict: str, evidence: Evidence, result: FigureResult | None) -> Claim:
    return dataclasses.replace(
        claim, verdict=verdict, evidence=evidence, figure_result=None if result is None else result.summary()
    )


def decide_from_results(
    claim: Claim, results: str | Path | None = DEFAULT_RESULTS, scale: Scale = "quick"
) -> Claim:
    """``claim`` decided by its figure's stored result under ``results`` at ``scale`` (``any``: at
    whichever scale is stored), or ``claim`` itself when the entry names no figure, has no reading
    rule, or nothing usable is stored (``results`` None: never read). An untested entry without a
    result says which command would decide it."""
    info = METADATA.get(claim.id)
    if info is None or info.figure is None:
        return claim
    command = reproduce_command(info.figure)
    result = load_figure_result(info.figure, results, scale) if results is not None else None
    if info.decide is None:
        if result is None or claim.verdict != "untested":
            return claim
        text = (
            f"{claim.evidence.text} Stored results of {info.figure} found ({result.provenance_line}), "
            "but this "
            f"entry has no rule reading them yet; the figure measured: {result.headline.get('text', '?')}"
        )
        return _with(
            claim, claim.verdict, Evidence(claim.evidence.kind, text, claim.evidence.numbers), result
        )
    if result is None:
        other = load_figure_result(info.figure, results, "any") if results is not None else None
        if other is None:
            why = (
                f"No stored results of {info.figure} in {results}"
                if results is not None
                else "Stored results not read"
            )
        else:
            why = (
                f"Stored results of {info.figure} are at {other.mode} scale ({other.path.as_posix()}), "
                f"not read at --scale {scale}"
            )
        text = f"{claim.evidence.text} {why}; `{command}` writes the results that decide it."
        return dataclasses.replace(
            claim, evidence=Evidence(claim.evidence.kind, text.strip(), claim.evidence.numbers)
        )
    try:
        finding: Finding = info.decide(result)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        text = (
            f"{claim.evidence.text} Stored results of {info.figure} ({result.provenance_line}) lack what the "
            f"reading rule needs ({type(exc).__name__}: {exc}); re-run `{command}`."
        )
        return _with(claim, "untested", Evidence("pending", text, claim.evidence.numbers), result)
    text = f"{finding.evidence.text} Measured by figure {info.figure} at {result.provenance_line}."
    numbers = {**finding.evidence.numbers, "figure_checks": dict(result.checks)}
    return _with(claim, finding.verdict, Evidence("experiment", text, numbers), result)


def expected_verdict(claim: Claim) -> str | None:
    """The verdict ``claim`` is expected to reach: the entry's own, or for a figure-decided entry the
    one recorded for the scale it was decided at (None: none recorded for that scale, so any verdict
    is news rather than a regression; an unreadable result is expected to leave it untested)."""
    info = METADATA.get(claim.id)
    if info is None:
        return None
    if claim.figure_result is None or info.decide is None:
        return info.expected
    if claim.evidence.kind == "pending":
        return "untested"
    return dict(info.expected_from_figure).get(claim.figure_result["scale"])
