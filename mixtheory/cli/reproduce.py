"""``mixtheory reproduce``: recompute the sources' figures (CSV, provenance JSON, PNG, PDF).

Each run is reported as :class:`mixtheory.verification.Result` (verdict ``holds`` when every
headline check holds, ``fails`` when one does not) and printed with the one printer of
:mod:`mixtheory.verification`; ``--json`` prints their records, ``--save PATH`` stores them as a
results document (the schema of ``check`` and ``verify``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_OUT = "results/reproduce"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "reproduce",
        help="recompute the figures of the sources: CSV, provenance JSON, PNG and PDF per figure",
        description="Recompute registered figures. Each writes <out>/<figure>.csv (one row per measurement), "
        "<figure>.json (commit, versions, seeds, device, wall time, data, configuration, the measured "
        "headline), and <figure>.png/.pdf drawn from the CSV; a --full run writes them under <out>/full/, "
        "so the two scales never overwrite each other. Runs resume per (unit, seed) from "
        "<out>/.cache/. --quick (default) runs on the CPU with bundled data in minutes; --full runs the "
        "sources' scale, which for some figures needs a CUDA GPU and the CIFAR-10 directory (--data), "
        "checked only for units not yet cached. --out must be new, empty or a results directory of "
        "mixtheory's: other files are never overwritten.",
    )
    p.add_argument("figures", nargs="*", metavar="FIGURE", help="figures to run (default: all; see --list)")
    scale = p.add_mutually_exclusive_group()
    scale.add_argument(
        "--quick",
        dest="mode",
        action="store_const",
        const="quick",
        help="small scale on the CPU with bundled data (the default)",
    )
    scale.add_argument(
        "--standard",
        dest="mode",
        action="store_const",
        const="standard",
        help="the CPU scale sized by a power analysis to decide the claims (figures that have one; "
        "see --list and docs/reproduce.md); resumable",
    )
    scale.add_argument(
        "--full",
        dest="mode",
        action="store_const",
        const="full",
        help="the sources' scale (CIFAR-10 figures need --data and a GPU)",
    )
    p.set_defaults(mode="quick")
    p.add_argument(
        "--data",
        default=None,
        metavar="PATH",
        help="CIFAR-10 python-pickle batch directory (data_batch_1..5, test_batch, batches.meta)",
    )
    p.add_argument(
        "--device",
        default=None,
        metavar="DEV",
        help="torch device (default: cpu for --quick and --standard, cuda for --full)",
    )
    p.add_argument(
        "--seeds",
        type=int,
        default=None,
        metavar="K",
        help="number of seeds 0..K-1 (default: each figure's own; closed-form figures use one)",
    )
    p.add_argument(
        "--out", default=DEFAULT_OUT, metavar="DIR", help=f"output directory (default {DEFAULT_OUT}/)"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="torch threads while computing (default: 1 for --quick and --standard on the CPU)",
    )
    p.add_argument("--list", action="store_true", help="list the registered figures and exit")
    _add_result_options(p)
    p.add_argument(
        "--redraw",
        action="store_true",
        help="redraw PNG and PDF from the stored CSV of the chosen scale, computing nothing (no GPU needed)",
    )
    p.set_defaults(func=run)
    return p


def _add_result_options(p: argparse.ArgumentParser) -> None:
    """``--json`` and ``--save``: the results printed and stored as check and verify do."""
    p.add_argument("--json", action="store_true", help="print one JSON object of the figures' results")
    p.add_argument(
        "--save",
        type=Path,
        default=None,
        metavar="PATH",
        help="also store the results as a JSON results document (the schema of check and verify)",
    )


def _list(figures) -> None:
    for f in figures:
        print(f"{f.name}: {f.title}")
        print(f"    claims: {', '.join(f.claims) if f.claims else '(no ledger entry yet)'}")
        for mode in ("quick", "standard", "full"):
            if not f.has(mode):
                continue
            cfg = f.config(mode)
            needs = f"; needs {' and '.join(cfg.requires)}" if cfg.requires else ""
            seeds = f"{cfg.seeds} seeds" if f.seeded else "deterministic"
            print(f"    --{mode}: {cfg.describe} ({seeds}{needs})")


def run(args: argparse.Namespace) -> int:
    from ..reproduce import FIGURES, check_requirements, get_figure, redraw_figure, run_figure
    from ..reproduce._runner import check_out, pending_units, resolve_device
    from ..verification import Provenance, check_results_file, dumps, write_results

    names = list(dict.fromkeys(args.figures)) or list(FIGURES)
    figures = [get_figure(n) for n in names]
    if args.mode == "standard" and not args.list:
        if args.figures:
            for f in figures:
                f.config("standard")  # a ValueError naming the figures that have one
        else:
            skipped = [f.name for f in figures if not f.has("standard")]
            figures = [f for f in figures if f.has("standard")]
            if skipped:
                print(f"--standard: no standard configuration for {', '.join(skipped)}", file=sys.stderr)
    if args.list:
        _list(figures)
        return 0
    if args.seeds is not None and args.seeds < 1:
        raise ValueError(f"--seeds must be at least 1, got {args.seeds}")
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be at least 1, got {args.threads}")
    failed = []
    out = check_out(args.out, "--out")  # before any work: never write into someone else's directory
    if args.save is not None:
        check_results_file(args.save)
    width = max(len(f.name) for f in figures)
    if args.redraw:
        results = [redraw_figure(f, out, args.mode) for f in figures]
    else:
        device = resolve_device(args.device, args.mode)
        # all at once, before any work; stored results need neither a GPU nor the data
        to_compute = [f for f in figures if pending_units(f, args.mode, out, seeds=args.seeds, device=device)]
        check_requirements(to_compute, args.mode, device, args.data)
        results = []
        for f in figures:
            results.append(
                run_figure(
                    f,
                    args.mode,
                    out,
                    seeds=args.seeds,
                    device=device,
                    data=args.data,
                    threads=args.threads,
                )
            )
            if not args.json:
                _report(results[-1], width, redraw=False)
    if args.redraw and not args.json:
        for r in results:
            _report(r, width, redraw=True)
    if args.json:
        print(dumps({"mode": args.mode, "out": out, "figures": results}))
    if args.save is not None:
        path = write_results(args.save, "reproduce", results, Provenance.current(), mode=args.mode, out=out)
        print(f"results: {path}", file=sys.stderr)
    for r in results:
        failed += [f"{r.figure.name}: {k}" for k, ok in r.checks.items() if not ok]
    if failed:
        print("headline checks that did not hold (the measurement stands; see the JSON):", file=sys.stderr)
        for line in failed:
            print(f"    {line}", file=sys.stderr)
    return 0


def _report(r, width: int, *, redraw: bool) -> None:
    """One figure's result (the one printer: name, verdict, headline), its checks, timing and files."""
    from ..verification import format_row

    ok = sum(r.checks.values())
    timing = f"{r.wall_s:.1f} s wall, {r.cpu_s:.1f} s CPU"
    if not redraw:
        timing += f"; {r.units_computed} units computed, {r.units_cached} from the cache"
    print(format_row(r, width))
    print(f"    checks {ok}/{len(r.checks)} hold; {timing}")
    print(f"    → {', '.join(str(p) for p in r.paths.values())}")
