r"""Ledger entries decided by a reproduced figure: reading ``mixtheory reproduce``'s stored results.

An entry may name the registered figure that decides it (``figure=`` in :func:`~.claims.claim` or
:func:`~.claims.observation`, the figure's registry name in :mod:`mixtheory.reproduce`), and say how
the figure's measurements decide it: ``decide(result) -> Finding`` reads a :class:`FigureResult`
(the provenance JSON written by :func:`mixtheory.reproduce.run_figure`: mode, data, commit,
configuration, ``headline`` and ``checks``; and the CSV beside it, :meth:`FigureResult.rows`, for
the per-seed values) and returns a verdict whose evidence carries its test (:mod:`._evidence`:
rule, paired t across seeds, interval, seeds, test-set size, power); ``expected_from_figure``
records the verdict each scale (``quick``, ``standard``, ``full``) gave. A verdict on trained
networks (``stochastic``) is reported, not pinned; the quick scale is a smoke test whose verdicts
are capped at ``inconclusive`` unless its power analysis says it can decide (:func:`is_smoke`).

:func:`decide_from_results` turns an evaluated entry into the figure-decided one when the figure's
JSON is stored under ``results`` (default: the committed ``figures/reproduce/``, the standard scale
in its ``standard/`` sub-directory, the largest scale stored deciding); otherwise the entry stays as
its own function computed it, and its evidence names the ``mixtheory reproduce FIGURE`` command
that would decide it. The reading never fails on a stale or foreign JSON: a headline without the
keys the rule reads leaves the entry as it was, with the reason in its evidence. A JSON that cannot
be read at all (corrupt, not that figure's) is named by :func:`stored_result_problems`, which
``mixtheory verify`` calls before any work.

>>> reproduce_command("implicit-bias-linear")
'mixtheory reproduce implicit-bias-linear --quick'
>>> result_path("implicit-bias-linear", "results/reproduce").as_posix()
'results/reproduce/implicit_bias_linear.json'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..verification import Provenance, Result
from .claims import METADATA, Evidence, Finding, replace_claim, reproduce_command

__all__ = [
    "unknown_figure_claims",
    "DEFAULT_RESULTS",
    "n_test_points",
    "is_smoke",
    "combine",
    "decision_finding",
    "per_seed_headlines",
    "Scale",
    "FigureResult",
    "reproduce_command",
    "result_path",
    "load_figure_result",
    "stored_result_problems",
    "decide_from_results",
    "expected_verdict",
]

#: the committed results of ``mixtheory reproduce`` (quick scale in the directory itself, standard
#: scale in ``standard/``), found beside the package in a checkout, else under the working directory:
#: ``mixtheory verify`` reads them by default, so that a fresh clone decides from them
_CHECKOUT = Path(__file__).resolve().parents[2] / "figures" / "reproduce"
DEFAULT_RESULTS = _CHECKOUT if _CHECKOUT.is_dir() else Path("figures") / "reproduce"
Scale = Literal["quick", "standard", "full", "any"]
#: the scales in the order ``any`` prefers them (the largest stored scale decides)
_PREFERENCE = ("full", "standard", "quick")


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
    configuration: Mapping[str, Any] = field(default_factory=dict)

    @property
    def csv_path(self) -> Path:
        """The CSV of every measurement, beside the JSON."""
        return self.path.with_suffix(".csv")

    def rows(self) -> list[dict[str, Any]]:
        """The measurements (the CSV beside the JSON, read as :func:`mixtheory.reproduce.read_rows`
        reads it); a FileNotFoundError naming the command that writes it when absent."""
        if not self.csv_path.is_file():
            raise FileNotFoundError(
                f"{self.csv_path.as_posix()} is missing: the per-seed measurements are needed for the "
                f"paired test; `mixtheory reproduce {self.figure} --{self.mode}` writes it"
            )
        from ..reproduce._runner import read_rows

        return read_rows(self.csv_path)

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

    def one_line_of(self, result: Result) -> str:
        """The table's evidence cell: the measured headline's text."""
        return str(self.headline.get("text", ""))

    def json_fields(self) -> dict[str, Any]:
        """The stored run's summary (:meth:`summary`) for a JSON record."""
        return self.summary()

    def to_result(self, provenance: Provenance | None = None, statement: str = "") -> Result:
        """This stored run as the one result type (:func:`mixtheory.reproduce.figure_result`; id =
        the figure's name), the :class:`FigureResult` its sub-record."""
        from ..reproduce._registry import figure_result

        return figure_result(self.figure, self.headline, self.checks, self, provenance, statement)

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


def _candidates(figure: str, results: str | Path) -> list[Path]:
    """Where a figure's JSON may be stored under ``results``: the directory itself (a quick run, or
    one written before the scales were kept apart) and one sub-directory per scale (``standard/``,
    ``full/``, ``quick/``; ``mixtheory reproduce`` keeps the scales apart)."""
    base = result_path(figure, results)
    return [base] + [base.parent / scale / base.name for scale in _PREFERENCE]


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


def unknown_figure_claims() -> dict[str, list[str]]:
    """Registered figures whose ``claims`` name ids the ledger does not hold (figure → ids)."""
    from ..reproduce import FIGURES

    return {
        name: unknown
        for name, fig in FIGURES.items()
        if (unknown := [c for c in fig.claims if c not in METADATA])
    }


def stored_result_problems(results: str | Path, figures: list[str] | None = None) -> list[str]:
    """One line per stored result under ``results`` (of ``figures``, default every figure an entry
    names; ``mixtheory verify`` adds every registered figure) that cannot be read: corrupt JSON,
    unreadable, or not that figure's result. The ledger does not import the figure registry (the
    registry imports the ledger's claims), so the registered names come from the caller."""
    if figures is None:
        figures = sorted({i.figure for i in METADATA.values() if i.figure})
    problems = []
    for figure in figures:
        for path in dict.fromkeys(_candidates(figure, results)):
            if path.is_file():
                _, problem = _read_record(path, figure)
                if problem is not None:
                    problems.append(f"{path.as_posix()} {problem}")
    return problems


def _read(figure: str, path: Path) -> Result | None:
    if not path.is_file():
        return None
    record, _ = _read_record(path, figure)
    if record is None:
        return None
    seeds = record.get("seeds") or []
    stored = FigureResult(
        figure=figure,
        path=path,
        mode=str(record.get("mode", "?")),
        data=str(record.get("data") or "data not recorded"),
        commit=record.get("commit"),
        created=record.get("created"),
        seeds=tuple(int(s) for s in seeds),
        headline=record.get("headline") or {},
        checks={str(k): bool(v) for k, v in (record.get("checks") or {}).items()},
        configuration=record.get("configuration") or {},
    )
    statement = str(record.get("statement") or record.get("title") or "")
    return stored.to_result(Provenance.from_record(record), statement)


def load_figure_result(
    figure: str, results: str | Path = DEFAULT_RESULTS, scale: Scale = "any"
) -> Result | None:
    """The stored result of ``figure`` under ``results`` (the directory or its ``standard/``,
    ``full/``, ``quick/`` sub-directories) at ``scale`` (``any``: the largest scale stored), or
    None when there is none (or no file is a figure JSON of that figure). When none is at
    ``scale``, the first one found is returned, so that the caller can say what is stored. It is the
    one result type (:func:`figure_result`, with the JSON's provenance); the :class:`FigureResult`'s
    fields (``headline``, ``mode``, ``rows()``, ...) read through it."""
    found = [r for r in (_read(figure, p) for p in _candidates(figure, results)) if r is not None]
    if not found:
        return None
    rank = {m: i for i, m in enumerate(_PREFERENCE)}
    if scale == "any":
        return min(found, key=lambda r: rank.get(r.mode, len(rank)))
    return next((r for r in found if r.mode == scale), found[0])


#: samples in each bundled data set (to state a configuration's test-set size)
_DATASET_SIZES = {"digits": 1797, "mnist": 5000, "iris": 150, "wine": 178, "breast_cancer": 569}


def n_test_points(result: FigureResult, data: str | None = None) -> int | None:
    """The test points per seed of ``result``'s configuration (``data``: which of its data sets;
    None when the configuration does not say)."""
    cfg = result.configuration
    if data is not None and isinstance(cfg.get("image"), Mapping) and data in ("digits", "mnist", "cifar10"):
        cfg = cfg["image"]  # a figure with per-kind settings (mixupe-vs-mixup)
    name = data or cfg.get("data")
    total = cfg.get("num_samples") or _DATASET_SIZES.get(str(name))
    if total is None:
        return None
    return int(round(float(cfg.get("test_fraction", 0.25)) * int(total)))


def is_smoke(result: FigureResult) -> bool:
    """Whether ``result`` comes from the smoke-test scale (``--quick``), whose experimental verdicts
    are capped at ``inconclusive`` unless its power analysis says it can decide."""
    return result.mode == "quick"


def per_seed_headlines(result: FigureResult) -> list[dict[str, Any]]:
    """The figure's own headline computed on each seed's rows alone (seed order), from the CSV
    beside the JSON: the per-seed values a paired test across seeds needs."""
    from ..reproduce import get_figure

    figure = get_figure(result.figure)
    rows = result.rows()
    seeds = sorted({int(r["seed"]) for r in rows})
    return [figure.headline([r for r in rows if int(r["seed"]) == k]) for k in seeds]


def combine(verdicts: Mapping[str, str]) -> str:
    """The verdict of a claim that needs every part: ``fails`` if one part fails, ``holds`` if all
    hold, else ``inconclusive``."""
    values = list(verdicts.values())
    if "fails" in values:
        return "fails"
    return "holds" if values and all(v == "holds" for v in values) else "inconclusive"


def decision_finding(head: str, decisions: Mapping[str, Any], verdict: str, **numbers: Any) -> Finding:
    """A :class:`Finding` whose evidence states every part's test (:class:`._evidence.Decision`):
    ``head``, then one sentence per part; ``numbers["test"]`` holds each part's full record."""
    short = "; ".join(
        f"{name} {d.test.estimate:+.3g} [{d.test.low:+.3g}, {d.test.high:+.3g}] ({d.verdict}; "
        f"{d.test.n} seeds, MDE {d.test.mde:.2g})"
        for name, d in decisions.items()
    )
    parts = "; ".join(f"{name}: {d.verdict} — {d.sentence()}" for name, d in decisions.items())
    text = f"{head.rstrip('.')} — {short}. {parts}."
    tests = {name: d.to_dict() for name, d in decisions.items()}
    return Finding(verdict, Evidence("experiment", text, {**numbers, "test": tests}))


def _with(
    claim: Result, verdict: str, evidence: Evidence, result: Result | None, condition: str | None = None
) -> Result:
    return replace_claim(
        claim,
        verdict=verdict,
        evidence=evidence,
        condition=condition if verdict == "conditional" else None,
        decided_by=claim.decided_by
        or (
            f"a run of figure {result.figure} with more seeds or larger test sets "
            f"(`mixtheory reproduce {result.figure} --standard` or `--full`)"
            if result is not None and verdict == "inconclusive"
            else None
        ),
        corrected=claim.corrected if verdict == "fails" else None,
        figure_result=None if result is None else result.summary(),
    )


def decide_from_results(
    claim: Result, results: str | Path | None = DEFAULT_RESULTS, scale: Scale = "any"
) -> Result:
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
            claim,
            claim.verdict,
            Evidence(claim.evidence.kind, text, claim.evidence.numbers),
            result,
            claim.condition,
        )
    if result is None or (scale != "any" and result.mode != scale):
        other = result  # load_figure_result returns what is stored when nothing is at `scale`
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
        return replace_claim(
            claim, evidence=Evidence(claim.evidence.kind, text.strip(), claim.evidence.numbers)
        )
    try:
        finding: Finding = info.decide(result)
    except (KeyError, TypeError, ValueError, IndexError, FileNotFoundError) as exc:
        text = (
            f"{claim.evidence.text} Stored results of {info.figure} ({result.provenance_line}) lack what the "
            f"reading rule needs ({type(exc).__name__}: {exc}); re-run `{command}`."
        )
        if claim.verdict != "untested":  # the entry's own finding stands
            return replace_claim(claim, evidence=Evidence(claim.evidence.kind, text, claim.evidence.numbers))
        return _with(claim, "untested", Evidence("pending", text, claim.evidence.numbers), result)
    text = f"{finding.evidence.text} Measured by figure {info.figure} at {result.provenance_line}."
    numbers = {**finding.evidence.numbers, "figure_checks": dict(result.checks)}
    return _with(claim, finding.verdict, Evidence("experiment", text, numbers), result, finding.condition)


def expected_verdict(claim: Result) -> str | None:
    """The verdict ``claim`` is expected to reach: the entry's own, or for a figure-decided entry the
    one recorded for the scale it was decided at (None: none recorded for that scale, or the rule
    decides a sampled quantity that a rerun may move, so any verdict is news rather than a
    regression; an unreadable result is expected to leave it untested)."""
    info = METADATA.get(claim.id)
    if info is None:
        return None
    if claim.figure_result is None or info.decide is None:
        return info.expected
    if claim.evidence.kind == "pending":
        return "untested"
    if info.stochastic:
        return None  # a sampled verdict: a rerun may move it; news, not a regression
    return dict(info.expected_from_figure).get(claim.figure_result["scale"])
