"""``mixtheory moments``: θ̄, σ², γ² of the folded mixing law."""

from __future__ import annotations

import argparse
import json

from ..laws import law_from_name


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("moments", help="θ̄, σ², γ² of the folded mixing law θ = max(λ, 1 − λ)")
    p.add_argument("--alpha", type=float, required=True, help="the law's parameter α > 0")
    p.add_argument(
        "--law",
        default="beta",
        help="beta (Beta(α, α), default), w-shaped, zhang, uniform, regmixup (half clean)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)

    return p


def run(args: argparse.Namespace) -> int:
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


