"""``mixtheory check``: every check of the theory on bundled digits with a network trained here."""

from __future__ import annotations

import argparse
import json
import math


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "check", help="check the closed forms against the exact and sampled mixup loss on digits"
    )
    p.add_argument("--alpha", type=float, default=0.5, help="mixup's α (default 0.5)")
    p.add_argument("--law", default="beta", help="law of λ, as for `moments`")
    p.add_argument("--samples", type=int, default=200, help="digits used for the exact checks (default 200)")
    p.add_argument("--draws", type=int, default=200, help="Monte Carlo replicates (default 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)

    return p


def run(args: argparse.Namespace) -> int:
    from ..checks import format_table, timed_checks
    from ..laws import law_from_name

    law = law_from_name(args.law, args.alpha)
    rows, seconds = timed_checks(num_samples=args.samples, law=law, seed=args.seed, num_draws=args.draws)
    failed = [r for r in rows if not r.passed]
    if args.json:
        print(
            json.dumps(
                {
                    "data": f"digits (bundled), {args.samples} samples",
                    "law": repr(law),
                    "seconds": seconds,
                    "passed": not failed,
                    "checks": [
                        {k: (_finite(v) if isinstance(v, float) else v) for k, v in r.as_dict().items()}
                        for r in rows
                    ],
                }
            )
        )
    else:
        print(f"mixtheory check: digits (bundled), {args.samples} samples, {law!r}, tanh MLP trained here\n")
        print(format_table(rows))
        verdict = "all checks passed" if not failed else f"{len(failed)} check(s) FAILED"
        print(f"\n{verdict} in {seconds:.1f} s")
    return 0 if not failed else 1


