r"""One verification protocol: every check, proof, ledger entry and figure reports a :class:`Result`.

A :class:`Result` is ``id``, ``verdict``, ``evidence`` and ``provenance``, with the ``subject`` that
produced it (``check``, ``proof``, ``claim`` or ``figure``), the ``statement`` it verifies, its
``source`` and the subject's own typed sub-record (``record``: a check's numbers and tolerance, a
proof's steps, a claim's condition and deciding figure, a figure run's paths and timings). The
fields of ``record`` read through the result (``result.steps`` is ``result.record.steps``), so the
consumers of the four registries keep their attributes. ``mixtheory check``, ``mixtheory verify``
and ``mixtheory reproduce`` print results with one printer (:func:`format_row`,
:func:`format_table`) and store them with one JSON writer (:func:`write_results`, through
:func:`mixtheory._io.write_json`); every record they print or store validates against
:data:`RESULT_SCHEMA`. ``docs/verification.md`` describes the protocol.

One vocabulary of verdicts, the ledger's (Carratino et al., JMLR 2022, is the theory the claims
test), plus two a check needs:

- ``holds``, ``fails``, ``conditional``, ``inconclusive``, ``untested``, ``answered``: the ledger's
  (:mod:`mixtheory.ledger.claims`); a proof reaches ``holds`` or ``fails``;
- a check row (:mod:`mixtheory.checks`) maps *pass* → ``holds`` and *fail* → ``fails``, a number
  reported without a tolerance (``tolerance = inf``) → ``reported``, and a check that does not
  apply to the mixing law → ``skipped``;
- a figure run holds when every headline check holds, fails when one does not, and is
  ``reported`` when it declares none.

>>> r = Result("demo", "holds", Evidence("arithmetic", "1 + 1 = 2. Checked."), subject="claim")
>>> r.passed, r.one_line
(True, '1 + 1 = 2.')
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from ._io import check_output_file, write_json
from .provenance import provenance as _provenance_record

__all__ = [
    "VERDICTS",
    "LEDGER_VERDICTS",
    "SUBJECTS",
    "SCHEMA_ID",
    "RESULT_SCHEMA",
    "DOCUMENT_SCHEMA",
    "Evidence",
    "Provenance",
    "Result",
    "jsonable",
    "format_header",
    "format_row",
    "format_table",
    "dumps",
    "results_document",
    "check_results_file",
    "write_results",
]

#: the ledger's verdicts (a claim reaches one of these)
LEDGER_VERDICTS: tuple[str, ...] = ("holds", "fails", "conditional", "inconclusive", "untested", "answered")
#: every verdict a result may carry: the ledger's, plus a check's ``reported`` and ``skipped``
VERDICTS: tuple[str, ...] = (*LEDGER_VERDICTS, "reported", "skipped")
Subject = Literal["check", "proof", "claim", "figure"]
SUBJECTS: tuple[str, ...] = ("check", "proof", "claim", "figure")
#: the ``schema`` of a stored results document (:func:`write_results`)
SCHEMA_ID = "mixtheory-results/1"


def jsonable(value: Any) -> Any:
    """``value`` with numpy/torch arrays and scalars turned into plain JSON types, recursively.

    Dict keys become strings, tuples lists, and non-finite floats their string (``'nan'``, ``'inf'``).

    >>> jsonable({1: (np.float64(0.5), np.int64(2)), "x": float("inf")})
    {'1': [0.5, 2], 'x': 'inf'}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else str(v)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, torch.Tensor):
        return jsonable(value.detach().cpu().numpy())
    if isinstance(value, Path):
        return value.as_posix()
    return value


@dataclass
class Evidence:
    """What decides a verdict: ``kind`` (for a claim: proof, counterexample, search, experiment,
    arithmetic, pending; for a check the kind of its error: relative, z-score, slope, count, info,
    skipped; for a figure: figure), a ``text`` a researcher can read, the structured ``numbers``
    behind it, and for a proof its ``steps``. Not frozen: a claim's function builds its evidence
    step by step (``ev.text += ...``) before it returns the finding."""

    kind: str
    text: str
    numbers: dict[str, Any] = field(default_factory=dict)
    steps: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "text": self.text}
        if self.steps:
            out["steps"] = list(self.steps)
        out["numbers"] = jsonable(self.numbers)
        return out


@dataclass(frozen=True)
class Provenance:
    """What produced a result (:func:`mixtheory.provenance.provenance`): the ``commit`` (``+dirty``
    for a modified tree; None outside a checkout), the ``versions`` of mixtheory, Python, torch and
    numpy, the ``seeds``, when it was ``created`` (UTC, ISO 8601) and the ``command`` line."""

    commit: str | None
    versions: Mapping[str, str]
    seeds: Any
    created: str | None
    command: str | None

    @classmethod
    def current(cls, seeds: Any = None) -> Provenance:
        """The provenance of this process now (one git call; take it once per run)."""
        return cls.from_record(_provenance_record(seeds=seeds))

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Provenance:
        """From a provenance record (a figure's stored JSON, :func:`~mixtheory.provenance.provenance`)."""
        return cls(
            record.get("commit"),
            dict(record.get("versions") or {}),
            record.get("seeds"),
            record.get("created"),
            record.get("command"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "versions": dict(self.versions),
            "seeds": jsonable(self.seeds),
            "created": self.created,
            "command": self.command,
        }


def _first_sentence(text: str) -> str:
    line = text.strip().split("\n")[0]
    cut = line.find(". ")
    return line if cut < 0 else line[: cut + 1]


@dataclass(frozen=True)
class Result:
    """One verified statement (module docstring): ``id``, ``verdict`` (:data:`VERDICTS`),
    ``evidence``, ``provenance`` (None until the command that ran it stamps it), the ``subject``,
    the ``statement``, its ``source`` and the subject's typed sub-record ``record``, whose fields
    read through the result."""

    id: str
    verdict: str
    evidence: Evidence
    subject: str = field(kw_only=True)
    statement: str = field(default="", kw_only=True)
    source: str = field(default="", kw_only=True)
    record: Any = field(default=None, kw_only=True)
    provenance: Provenance | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"{self.id}: verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.subject not in SUBJECTS:
            raise ValueError(f"{self.id}: subject must be one of {SUBJECTS}, got {self.subject!r}")

    def __getattr__(self, name: str) -> Any:
        # called only for names the result does not have: read them from the typed sub-record
        record = self.__dict__.get("record")
        if name.startswith("__") or record is None:
            raise AttributeError(f"{type(self).__name__} {self.__dict__.get('id')!r} has no {name!r}")
        try:
            return getattr(record, name)
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__} {self.__dict__.get('id')!r} ({self.__dict__.get('subject')}) "
                f"has no {name!r}"
            ) from None

    @property
    def passed(self) -> bool:
        """Whether nothing failed: every verdict but ``fails``."""
        return self.verdict != "fails"

    @property
    def one_line(self) -> str:
        """One line of evidence for a table: the sub-record's own (``one_line_of``), else the
        evidence's first sentence."""
        own = getattr(self.record, "one_line_of", None)
        return own(self) if callable(own) else _first_sentence(self.evidence.text)

    def stamped(self, provenance: Provenance | None) -> Result:
        """This result with ``provenance`` (kept when it already has one)."""
        if self.provenance is not None or provenance is None:
            return self
        return _replace(self, provenance=provenance)

    def to_dict(self) -> dict[str, Any]:
        """The JSON record (:data:`RESULT_SCHEMA`): the protocol's fields, then the sub-record's own
        (``record.json_fields()``, or its dataclass fields) at the top level."""
        out: dict[str, Any] = {
            "id": self.id,
            "subject": self.subject,
            "source": self.source,
            "statement": self.statement,
            "verdict": self.verdict,
            "evidence": self.evidence.to_dict(),
            "provenance": None if self.provenance is None else self.provenance.to_dict(),
        }
        own = getattr(self.record, "json_fields", None)
        if callable(own):
            extra = own()
        elif is_dataclass(self.record):
            extra = {f.name: getattr(self.record, f.name) for f in fields(self.record)}
        else:
            extra = {}
        out.update({k: jsonable(v) for k, v in extra.items() if k not in out})
        return out


def _replace(result: Result, **changes: Any) -> Result:
    values = {f.name: getattr(result, f.name) for f in fields(result)}
    values.update(changes)
    return Result(**values)


# ---------------------------------------------------------------------------------------------
# the schema every printed or stored record validates against
# ---------------------------------------------------------------------------------------------
RESULT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "mixtheory result",
    "type": "object",
    "required": ["id", "subject", "source", "statement", "verdict", "evidence", "provenance"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "subject": {"enum": list(SUBJECTS)},
        "source": {"type": "string"},
        "statement": {"type": "string"},
        "verdict": {"enum": list(VERDICTS)},
        "evidence": {
            "type": "object",
            "required": ["kind", "text", "numbers"],
            "properties": {
                "kind": {"type": "string"},
                "text": {"type": "string"},
                "numbers": {"type": "object"},
                "steps": {"type": "array", "items": {"type": "string"}},
            },
        },
        "provenance": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["commit", "versions", "seeds", "created", "command"],
                    "properties": {
                        "commit": {"type": ["string", "null"]},
                        "versions": {"type": "object"},
                        "created": {"type": ["string", "null"]},
                        "command": {"type": ["string", "null"]},
                    },
                },
            ]
        },
    },
}
#: a stored results document (:func:`results_document`)
DOCUMENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "mixtheory results document",
    "type": "object",
    "required": ["schema", "command", "provenance", "results"],
    "properties": {
        "schema": {"const": SCHEMA_ID},
        "command": {"enum": ["check", "verify", "reproduce"]},
        "provenance": RESULT_SCHEMA["properties"]["provenance"],
        "results": {"type": "array", "items": RESULT_SCHEMA},
    },
}


# ---------------------------------------------------------------------------------------------
# the one printer
# ---------------------------------------------------------------------------------------------
def _cell(text: str, width: int | None = None) -> str:
    text = " ".join(str(text).split())
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return text


def format_header(width: int = 46) -> str:
    """The table's header: id (``width`` characters), verdict, evidence."""
    return f"{'id':<{width}}  {'verdict':<12}  evidence\n{'-' * width}  {'-' * 12}  {'-' * 60}"


def format_row(result: Result, width: int = 46, evidence_width: int | None = None) -> str:
    """One table row: id, verdict and one line of evidence (cut at ``evidence_width``)."""
    return f"{result.id:<{width}}  {result.verdict:<12}  {_cell(result.one_line, evidence_width)}"


def format_table(results: Sequence[Result], evidence_width: int | None = 110) -> str:
    """The header and one row per result, the id column as wide as the longest id."""
    width = max((len(r.id) for r in results), default=2)
    return "\n".join([format_header(width), *(format_row(r, width, evidence_width) for r in results)])


# ---------------------------------------------------------------------------------------------
# the one JSON writer
# ---------------------------------------------------------------------------------------------
def dumps(payload: Any, indent: int | None = 2) -> str:
    """``payload`` (results become their records) as JSON text, as printed by ``--json``."""
    return json.dumps(_records(payload), indent=indent, ensure_ascii=False)


def _records(payload: Any) -> Any:
    if isinstance(payload, Result):
        return payload.to_dict()
    if isinstance(payload, Mapping):
        return {str(k): _records(v) for k, v in payload.items()}
    if isinstance(payload, (list, tuple)):
        return [_records(v) for v in payload]
    return jsonable(payload)


def results_document(
    command: str, results: Iterable[Result], provenance: Provenance | None = None, **meta: Any
) -> dict[str, Any]:
    """The stored form of a run: ``schema``, ``command``, the run's ``provenance``, ``meta`` and the
    ``results``' records (:data:`DOCUMENT_SCHEMA`)."""
    return {
        "schema": SCHEMA_ID,
        "command": command,
        "provenance": None if provenance is None else provenance.to_dict(),
        **_records(meta),
        "results": [r.to_dict() for r in results],
    }


def _is_results_file(path: Path) -> bool:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("schema") == SCHEMA_ID
    except (OSError, ValueError, AttributeError):
        return False


def check_results_file(path: str | Path, option: str = "--save") -> Path:
    """Before any work: ``path`` may be written (creatable; an existing file there is a results
    document of mixtheory's, never someone else's). Raises ValueError naming ``option``."""
    return check_output_file(path, option, _is_results_file, "mixtheory (a results document)")


def write_results(
    path: str | Path,
    command: str,
    results: Iterable[Result],
    provenance: Provenance | None = None,
    **meta: Any,
) -> Path:
    """Write :func:`results_document` to ``path`` atomically (:func:`mixtheory._io.write_json`),
    after :func:`check_results_file`; returns the path."""
    check_results_file(path)
    document = results_document(command, results, provenance, **meta)
    return write_json(path, document, indent=2, ensure_ascii=False)
