r"""``mixtheory verify``: run every symbolic proof and every ledger entry, print a table, write a report.

``mixtheory verify [--json] [--report PATH] [--select TEXT] [--jobs N] [--results DIR]
[--scale quick|full|any] [--no-results]``

- prints one row per proof and claim (id, verdict, one line of evidence; the one printer of
  :mod:`mixtheory.verification`), or with ``--json`` a list of their records, each
  :class:`mixtheory.verification.Result`'s (keys ``id``, ``subject``, ``source``, ``statement``,
  ``verdict``, ``evidence``, ``provenance``, and for claims ``condition``, ``corrected``,
  ``decided_by``, ``figure``, ``figure_result``; proofs have source ``mixtheory.symbolic``);
  ``--save PATH`` stores the same records as a results document
  (:func:`mixtheory.verification.write_results`);
- writes a markdown report with the full evidence (default ``results/verify_report.md``),
  atomically; the path is checked before any work, and a file there that is not a report of
  ``mixtheory verify`` is never overwritten;
- ``--jobs N`` (default 2) evaluates in N forked processes, each a contiguous share of the
  registration order (so entries of one module, which share cached networks, mostly stay
  together); the output is identical to ``--jobs 1``;
- reads the stored results of ``mixtheory reproduce`` (``--results DIR``, default the committed
  ``figures/reproduce/``, with its ``standard/`` sub-directory): an entry whose deciding figure's
  JSON (and CSV) is there at ``--scale`` (default ``any``: the largest scale stored) takes its
  verdict from the figure's measurements (:mod:`mixtheory.ledger.figures`: paired tests across
  seeds, with their power), and the report states the scale, the data, the commit and the JSON
  path; without it the entry says which ``mixtheory reproduce FIGURE`` would decide it.
  ``--no-results`` reads nothing; an explicit ``--results``
  that is not a directory, and a stored JSON that cannot be read, are errors before any work (exit 2);
- exits 1 when a symbolic proof does not hold or a ledger entry reaches a verdict other than the
  one recorded in :data:`mixtheory.ledger.EXPECTED_VERDICTS` (for a figure-decided entry: the one
  recorded for the scale it was decided at, :func:`mixtheory.ledger.expected_verdict`; a verdict on
  sampled quantities — trained networks — is reported, never pinned, since a rerun may move it),
  else 0.

Wiring (``mixtheory/cli.py``): ``_cli_verify.add_parser(subparsers)``, then ``args.func(args)``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import multiprocessing
import sys
import time
from pathlib import Path

from .. import ledger, symbolic
from .._io import check_output_file, write_text
from ..verification import Provenance, Result, check_results_file, dumps, format_table, write_results

DEFAULT_REPORT = Path("results") / "verify_report.md"
PROOF_SOURCE = "mixtheory.symbolic"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``verify`` subcommand on an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "verify",
        help="run the symbolic proofs and the claims ledger; write a markdown report",
        description=(
            "Run every symbolic proof (mixtheory.symbolic) and every claim of the source documents "
            "(mixtheory.ledger); print id, verdict and one line of evidence; write the full evidence "
            "as markdown. Exits 1 if a proof fails or a verdict changed."
        ),
    )
    p.add_argument("--json", action="store_true", help="print a JSON list instead of the table")
    p.add_argument(
        "--save",
        type=Path,
        default=None,
        metavar="PATH",
        help="also store the results as a JSON results document (the schema of check and reproduce)",
    )
    p.add_argument(
        "--report",
        type=Path,
        default=DEFAULT_REPORT,
        help=f"markdown report path (default: {DEFAULT_REPORT})",
    )
    p.add_argument(
        "--select",
        default=None,
        metavar="TEXT",
        help="only proofs and claims whose id contains TEXT (e.g. seed001, r3)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=2,
        metavar="N",
        help="evaluate in N processes (default 2; 1: in this process)",
    )
    p.add_argument(
        "--results",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"stored results of `mixtheory reproduce` to read (default: {ledger.DEFAULT_RESULTS}/)",
    )
    p.add_argument(
        "--scale",
        choices=("quick", "standard", "full", "any"),
        default="any",
        help="read stored figure results of this scale only (default any: the largest scale stored)",
    )
    p.add_argument(
        "--no-results",
        action="store_true",
        help="read no stored figure results (every entry as its own function computes it)",
    )
    p.set_defaults(func=run)
    return p


def _evaluate(items: list[tuple[str, str]]) -> list[Result]:
    """Proofs and claims for ``[("proof" | "claim", id), …]``, in order."""
    return [symbolic.get_proof(i) if kind == "proof" else ledger.get_claim(i) for kind, i in items]


#: below this many items a second process costs more than it saves
_MIN_PARALLEL_ITEMS = 8


def _groups(items: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Work units for the processes, in registration order: each proof alone, the claims of one
    ledger module together (they may share cached networks and fixtures)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for kind, i in items:
        key = f"proof:{i}" if kind == "proof" else f"module:{ledger.MODULES.get(i, i)}"
        groups.setdefault(key, []).append((kind, i))
    return list(groups.values())


def collect(select: str | None = None, jobs: int = 1) -> tuple[list[Result], list[Result]]:
    """Run the proofs and claims whose id contains ``select`` (all when None); with ``jobs`` > 1 in
    that many forked processes, handed :func:`_groups` one at a time. The order of the results is
    the registration order either way."""
    items = [("proof", pid) for pid in symbolic.PROOFS if select is None or select in pid]
    items += [("claim", cid) for cid in ledger.CLAIMS if select is None or select in cid]
    jobs = max(1, min(int(jobs), len(items) // _MIN_PARALLEL_ITEMS))
    if jobs == 1 or "fork" not in multiprocessing.get_all_start_methods():
        found = dict(zip(items, _evaluate(items)))
    else:
        groups = _groups(items)
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            parts = pool.map(_evaluate, groups, chunksize=1)
        found = {item: r for group, part in zip(groups, parts) for item, r in zip(group, part)}
    proofs = [found[item] for item in items if item[0] == "proof"]
    claims = [found[item] for item in items if item[0] == "claim"]
    return proofs, claims


def read_results(
    claims: list[Result], results: Path | None = ledger.DEFAULT_RESULTS, scale: str = "any"
) -> list[Result]:
    """``claims`` with every figure-decided entry decided by its stored results (in this process:
    reading a JSON costs less than handing it to a worker)."""
    return [ledger.decide_from_results(c, results, scale) for c in claims]


def _problems(proofs: list[Result], claims: list[Result]) -> list[str]:
    out = [f"proof {p.id}: {p.verdict}" for p in proofs if p.verdict != "holds"]
    for c in claims:
        expected = ledger.expected_verdict(c)
        if c.figure_result is not None and expected is None:
            continue  # no verdict recorded for this scale: news, not a regression (the report shows it)
        if c.verdict != expected:
            scale = f" at {c.figure_result['scale']} scale" if c.figure_result is not None else ""
            out.append(f"claim {c.id}: verdict {c.verdict}{scale}, expected {expected}")
    return out


def _figure_line(c: Result) -> str | None:
    """Where a figure-decided verdict came from, for the report."""
    r = c.figure_result
    if r is None:
        return None
    checks = ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in r["checks"].items()) or "none"
    return (
        f"**Decided by figure:** `{r['figure']}` at **{r['scale']}** scale — {r['data']}; seeds "
        f"{r['seeds']}; commit `{r['commit']}`; created {r['created']}; results `{r['path']}`. "
        f"The figure's checks: {checks}."
    )


def _provenance_line(results: list[Result]) -> str:
    """The run's commit and versions (its results' provenance), for the report's first line."""
    p = next((r.provenance for r in results if r.provenance is not None), None)
    if p is None:
        return ""
    versions = ", ".join(f"{k} {v}" for k, v in p.versions.items())
    return f" Commit `{p.commit or 'not a git checkout'}`; {versions}."


def _md(text: str) -> str:
    """Escape a table cell for markdown."""
    return " ".join(str(text).split()).replace("|", "\\|")


def render_report(proofs: list[Result], claims: list[Result], seconds: float | None = None) -> str:
    """The markdown report: summary, tables, then every proof's steps and every claim's evidence."""
    counts = ledger.summary_counts(claims)
    problems = _problems(proofs, claims)
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        REPORT_TITLE,
        "",
        f"Generated {when}"
        + (f" in {seconds:.1f} s" if seconds is not None else "")
        + "."
        + _provenance_line([*proofs, *claims]),
        "",
        "Verdicts: **holds** (proved, survived the stated search, or an experiment whose confidence "
        "bound excludes no effect), **fails** (counterexample or disproof, with a corrected form where one "
        "exists, or an experiment whose bound excludes the effect that matters), **conditional** (holds "
        "under the stated condition only), **inconclusive** (an experiment ran; its interval contains both, "
        "or its scale is a smoke test without the power to decide; the evidence says what would decide it), "
        "**untested** (awaiting the named experiment), **answered** (a question the source asks, "
        "answered). Every experimental verdict states its rule, test, interval, seeds, test-set size and "
        "the effect detectable at 80% power.",
        "",
        "## Summary",
        "",
        f"- symbolic proofs: {sum(p.verdict == 'holds' for p in proofs)} of {len(proofs)} hold",
        f"- claims: {len(claims)} — " + ", ".join(f"{v} {n}" for v, n in counts.items()),
        f"- status: {'OK' if not problems else 'PROBLEMS: ' + '; '.join(problems)}",
        "",
        "| proof | verdict | statement |",
        "|---|---|---|",
    ]
    out += [f"| [{p.id}](#proof-{p.id}) | {p.verdict} | {_md(p.statement)} |" for p in proofs]
    out += ["", "| claim | source | verdict | evidence |", "|---|---|---|---|"]
    for c in claims:
        verdict = c.verdict + (f" ({_md(c.condition)})" if c.condition else "")
        out.append(f"| [{c.id}](#{c.id}) | `{c.source}` | {verdict} | {_md(c.one_line)} |")
    out += ["", "## Symbolic proofs", ""]
    for p in proofs:
        out += [f'<a id="proof-{p.id}"></a>', f"### {p.id} — {p.verdict}", "", p.statement, ""]
        out += [f"{k}. {s}" for k, s in enumerate(p.steps, 1)]
        if p.details:
            out += [
                "",
                "```json",
                json.dumps(ledger.jsonable(p.details), indent=2, ensure_ascii=False),
                "```",
            ]
        out.append("")
    out += ["## Claims", ""]
    for c in claims:
        out += [f'<a id="{c.id}"></a>', f"### {c.id} — {c.verdict}", "", f"Source: `{c.source}`", ""]
        out += ["> " + c.statement, ""]
        if c.condition:
            out += [f"**Condition:** {c.condition}", ""]
        if c.corrected:
            out += [f"**Corrected:** {c.corrected}", ""]
        if c.decided_by:
            out += [f"**Decided by:** {c.decided_by}", ""]
        if c.figure and c.figure_result is None:
            out += [f"**Figure:** `{c.figure}` (`{ledger.reproduce_command(c.figure)}`)", ""]
        if (line := _figure_line(c)) is not None:
            out += [line, ""]
        out += [f"**Evidence ({c.evidence.kind}).** {c.evidence.text}", ""]
        if c.evidence.numbers:
            out += [
                "```json",
                json.dumps(ledger.jsonable(c.evidence.numbers), indent=2, ensure_ascii=False),
                "```",
                "",
            ]
    return "\n".join(out) + "\n"


REPORT_TITLE = "# mixtheory verify: proofs and the claims ledger"


def _is_report(path: Path) -> bool:
    """Whether ``path`` is a report this command wrote (its first line is :data:`REPORT_TITLE`)."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.readline().rstrip("\n") == REPORT_TITLE
    except (OSError, UnicodeDecodeError):
        return False


def check_inputs(args: argparse.Namespace) -> Path | None:
    """Before any work: the report's path is writable and not someone else's file; an explicit
    ``--results`` is a directory; every stored result there can be read. Returns the results
    directory to read (None: read nothing). Raises ValueError naming the option and the fix."""
    report = getattr(args, "report", DEFAULT_REPORT)
    if report:
        check_output_file(report, "--report", _is_report, "mixtheory verify")
    if getattr(args, "save", None) is not None:
        check_results_file(args.save)
    if getattr(args, "no_results", False):
        return None
    results = getattr(args, "results", None)
    if results is None:
        results = ledger.DEFAULT_RESULTS
    elif not Path(results).is_dir():
        what = "is not a directory" if Path(results).exists() else "does not exist"
        raise ValueError(
            f"--results {results} {what}; name the directory `mixtheory reproduce --out` wrote (default "
            f"{ledger.DEFAULT_RESULTS}/), or pass --no-results"
        )
    from ..reproduce import FIGURES

    unknown = ledger.figures.unknown_figure_claims()
    if unknown:
        raise ValueError(f"registered figures name claims the ledger does not hold: {unknown}")
    named = {i.figure for i in ledger.METADATA.values() if i.figure}
    problems = ledger.figures.stored_result_problems(results, sorted({*FIGURES, *named}))
    if problems:
        raise ValueError(
            "--results: " + "; ".join(problems) + ". Re-run the figure (`mixtheory reproduce FIGURE`) "
            "or move the file away"
        )
    return Path(results)


def run(args: argparse.Namespace) -> int:
    """Run the proofs and the ledger; print, write the report; 0 if all is as expected, else 1."""
    start = time.perf_counter()
    try:
        results = check_inputs(args)
    except ValueError as exc:
        print(f"mixtheory verify: error: {exc}", file=sys.stderr)
        return 2
    select = getattr(args, "select", None)
    proofs, claims = collect(select, getattr(args, "jobs", 1))
    if results is not None:
        claims = read_results(claims, results, getattr(args, "scale", "any"))
    if not proofs and not claims:
        print(f"no proof or claim id contains {select!r}", file=sys.stderr)
        return 2
    stamp = Provenance.current()
    proofs = [p.stamped(stamp) for p in proofs]
    claims = [c.stamped(stamp) for c in claims]
    seconds = time.perf_counter() - start
    problems = _problems(proofs, claims)
    if args.json:
        print(dumps([*proofs, *claims]))
    else:
        print(format_table([*proofs, *claims]))
        counts = ledger.summary_counts(claims)
        print(
            f"\n{sum(p.verdict == 'holds' for p in proofs)}/{len(proofs)} proofs hold; claims: "
            + ", ".join(f"{v} {n}" for v, n in counts.items())
            + f" ({seconds:.1f} s)"
        )
    report = getattr(args, "report", DEFAULT_REPORT)
    if report:
        path = write_text(report, render_report(proofs, claims, seconds))
        print(f"report: {path}", file=sys.stderr)
    if getattr(args, "save", None) is not None:
        path = write_results(args.save, "verify", [*proofs, *claims], stamp, seconds=seconds, ok=not problems)
        print(f"results: {path}", file=sys.stderr)
    for problem in problems:
        print(f"verify: {problem}", file=sys.stderr)
    return 1 if problems else 0
