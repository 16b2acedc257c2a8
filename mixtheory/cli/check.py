"""``mixtheory check``: every check of the theory on bundled digits with a network trained here.

Rows are printed as each check completes (a progress bar over the checks goes to stderr), with the
one printer of :mod:`mixtheory.verification` (id, verdict, evidence; pass → ``holds``, fail →
``fails``, reported-only → ``reported``, not applicable → ``skipped``); ``--json`` prints one object
at the end whose ``checks`` are :class:`mixtheory.verification.Result` records (each with the row's
own fields ``name``, ``closed_form``, ``reference``, ``error``, ``tolerance``, ``kind``, ``passed``,
``detail``); ``--save PATH`` stores them as a results document. Options are validated before any
computation."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

MAX_SAMPLES = 1797  # the bundled digits
MIN_SAMPLES = 20  # = mixtheory.checks.runner.MIN_SAMPLES (not imported: the CLI starts without torch)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "check", help="check the closed forms against the exact and sampled mixup loss on digits"
    )
    p.add_argument(
        "--alpha", type=float, default=None, help="mixup's α (default 0.5; the uniform law takes none)"
    )
    p.add_argument(
        "--law",
        default="beta",
        help="law of λ, as for `moments`; checks that do not hold for it are skipped with the reason",
    )
    p.add_argument(
        "--samples",
        type=int,
        default=None,
        help=f"digits used for the exact checks, {MIN_SAMPLES} to {MAX_SAMPLES} (default 200; quick 40)",
    )
    p.add_argument(
        "--draws", type=int, default=None, help="Monte Carlo replicates, ≥ 2 (default 200; quick 100)"
    )
    p.add_argument("--seed", type=int, default=0)
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="a few seconds: 40 digits, briefly trained network"
    )
    size.add_argument(
        "--full", action="store_true", help="96 quadrature nodes everywhere (the original size)"
    )
    p.add_argument(
        "--only", action="append", metavar="NAME", help="run only this check (repeatable; see --list)"
    )
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--save",
        type=Path,
        default=None,
        metavar="PATH",
        help="also store the results as a JSON results document (the schema of verify and reproduce)",
    )
    p.set_defaults(func=run)
    return p


def _validate(args: argparse.Namespace) -> str | None:
    """The first invalid option, as a message naming it, or None."""
    from ..checks import CHECKS

    if args.samples is not None and not MIN_SAMPLES <= args.samples <= MAX_SAMPLES:
        return (
            f"--samples must be between {MIN_SAMPLES} and {MAX_SAMPLES} (the bundled digits), got "
            f"{args.samples}: with fewer samples the third-order term of the remainder can cancel and the "
            "remainder-order checks cannot tell"
        )
    if args.draws is not None and args.draws < 2:
        return f"--draws must be at least 2 (a standard error needs two replicates), got {args.draws}"
    if args.alpha is not None and not (math.isfinite(args.alpha) and args.alpha > 0):
        return f"--alpha must be a positive number, got {args.alpha}"
    if args.seed < 0:
        return f"--seed must be non-negative, got {args.seed}"
    unknown = [n for n in args.only or [] if n not in CHECKS]
    if unknown:
        return f"--only: unknown check {unknown[0]!r}; choose from {', '.join(CHECKS)}"
    if getattr(args, "save", None) is not None:
        from ..verification import check_results_file

        try:
            check_results_file(args.save)
        except ValueError as exc:
            return str(exc)
    return None


def run(args: argparse.Namespace) -> int:
    from .._progress import progress_bar
    from ..checks import CHECKS, format_header, format_row, iter_checks, select_checks
    from ..laws import law_from_name
    from ..verification import Provenance, dumps, write_results

    if args.list:
        for c in CHECKS.values():
            print(f"{c.name:<18} {c.summary}")
        return 0
    problem = _validate(args)
    if problem is None:
        try:
            alpha = args.alpha if args.alpha is not None or args.law.lower() == "uniform" else 0.5
            law = law_from_name(args.law, alpha)
        except ValueError as e:
            problem = f"--law/--alpha: {e}"
    if problem is not None:
        print(f"mixtheory check: {problem}", file=sys.stderr)
        return 2
    preset = "quick" if args.quick else "full" if args.full else "default"
    samples = args.samples or (40 if args.quick else 200)
    data = f"digits (bundled), {samples} samples"
    if not args.json:
        print(f"mixtheory check ({preset}): {data}, {law!r}, tanh MLP trained here\n")
        print(format_header(), flush=True)
    start, rows = time.perf_counter(), []
    checks = select_checks(args.only)
    stamp = Provenance.current(seeds=[args.seed])
    with progress_bar(len(checks), "mixtheory check", True) as bar:
        for row in iter_checks(
            preset=preset,
            num_samples=args.samples,
            law=law,
            seed=args.seed,
            num_draws=args.draws,
            only=args.only,
            on_check=lambda _: bar.update(1),
            provenance=stamp,
        ):
            rows.append(row)
            if not args.json:
                bar.clear()
                print(format_row(row), flush=True)
    seconds = time.perf_counter() - start
    failed = [r for r in rows if not r.passed]
    skipped = [r for r in rows if r.verdict == "skipped"]
    meta = {"data": data, "preset": preset, "law": repr(law), "seconds": seconds, "passed": not failed}
    if args.json:
        print(dumps({**meta, "checks": rows}, indent=None))
    if args.save is not None:
        path = write_results(args.save, "check", rows, stamp, **meta)
        print(f"results: {path}", file=sys.stderr)
    if not args.json:
        verdict = "all checks passed" if not failed else f"{len(failed)} check(s) FAILED"
        if skipped:
            verdict += f" ({len(skipped)} skipped: they do not hold for {law!r})"
        print(f"\n{verdict} in {seconds:.1f} s")
    return 0 if not failed else 1
