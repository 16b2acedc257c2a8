"""The ``mixtheory`` command line: ``moments``, ``check`` (and the subcommands other modules add)."""

from __future__ import annotations

import argparse
import json
import math
import sys

from .laws import law_from_name


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _cmd_moments(args: argparse.Namespace) -> int:
    law = law_from_name(args.law, args.alpha)
    moments = law.moments()
    if args.json:
        print(json.dumps({"law": repr(law), "alpha": args.alpha, **moments}))
        return 0
    print(f"law: {law!r}")
    labels = {
        "theta_mean": "θ̄ = E θ",
        "theta_var": "σ² = Var θ",
        "gamma2": "γ² = E(1 − θ)²",
        "theta_var_over_theta_mean2": "σ²/θ̄²",
        "gamma2_over_theta_mean2": "γ²/θ̄²",
    }
    for key, label in labels.items():
        print(f"  {label:<16} {moments[key]:.17g}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from .checks import format_table, timed_checks
    from .laws import law_from_name

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mixtheory", description="The theory of mixup regularization as numbers you can check."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("moments", help="θ̄, σ², γ² of the folded mixing law θ = max(λ, 1 − λ)")
    p.add_argument("--alpha", type=float, required=True, help="the law's parameter α > 0")
    p.add_argument(
        "--law",
        default="beta",
        help="beta (Beta(α, α), default), w-shaped, zhang, uniform, regmixup (half clean)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_moments)

    p = sub.add_parser(
        "check", help="check the closed forms against the exact and sampled mixup loss on digits"
    )
    p.add_argument("--alpha", type=float, default=0.5, help="mixup's α (default 0.5)")
    p.add_argument("--law", default="beta", help="law of λ, as for `moments`")
    p.add_argument("--samples", type=int, default=200, help="digits used for the exact checks (default 200)")
    p.add_argument("--draws", type=int, default=200, help="Monte Carlo replicates (default 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_check)

    for module in _subcommand_modules():
        module.add_parser(sub)
    return parser


def _subcommand_modules():
    from . import _cli_estimate, _cli_verify

    return [_cli_verify, _cli_estimate]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"mixtheory {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
