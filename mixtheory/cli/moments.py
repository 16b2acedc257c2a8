"""``mixtheory moments``: θ̄, σ², γ² of the folded mixing law."""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata

from ..laws import law_from_name

#: laws without a parameter: ``--alpha`` is refused for them rather than silently ignored
PARAMETERLESS = ("uniform",)

LABELS = {
    "theta_mean": "θ̄ = E θ",
    "theta_var": "σ² = Var θ",
    "gamma2": "γ² = E(1 − θ)²",
    "theta_var_over_theta_mean2": "σ²/θ̄²",
    "gamma2_over_theta_mean2": "γ²/θ̄²",
}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "moments",
        help="θ̄, σ², γ² of the folded mixing law θ = max(λ, 1 − λ)",
        description="θ̄ = E θ, σ² = Var θ and γ² = E(1 − θ)² of θ = max(λ, 1 − λ), in closed form "
        "or by quadrature, and the ratios σ²/θ̄², γ²/θ̄² that scale the mixup regularizers.",
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=None,
        help="the law's parameter α > 0; required for every law but uniform, which has none",
    )
    p.add_argument(
        "--law",
        default="beta",
        help="beta (Beta(α, α), default), w-shaped, zhang (Zhang et al.'s λ̃), uniform (no α), "
        "regmixup (half clean, half Beta(α, α))",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)
    return p


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: combining marks (the macron of θ̄) take none, wide
    East Asian characters two."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def pad(text: str, width: int) -> str:
    """``text`` left-justified to ``width`` display columns.

    >>> pad("θ̄", 3) + "|", pad("s", 3) + "|"
    ('θ̄  |', 's  |')
    """
    return text + " " * max(0, width - display_width(text))


def run(args: argparse.Namespace) -> int:
    key = args.law.lower()
    if key in PARAMETERLESS:
        if args.alpha is not None:
            print(
                f"mixtheory moments: error: --law {args.law} has no parameter; drop --alpha", file=sys.stderr
            )
            return 2
        law = law_from_name(key)
    else:
        if args.alpha is None:
            law_from_name(key, 1.0)  # an unknown name is reported first, with the choices
            print(
                f"mixtheory moments: error: --law {args.law} needs --alpha (its parameter α > 0), "
                f"e.g. mixtheory moments --law {args.law} --alpha 0.5",
                file=sys.stderr,
            )
            return 2
        law = law_from_name(key, args.alpha)
    moments = law.moments()
    if args.json:
        print(json.dumps({"law": repr(law), "alpha": args.alpha, **moments}))
        return 0
    print(f"law: {law!r}")
    width = max(display_width(label) for label in LABELS.values())
    for name, label in LABELS.items():
        print(f"  {pad(label, width)}  {moments[name]:.17g}")
    return 0
