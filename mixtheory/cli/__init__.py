"""The ``mixtheory`` command line: one module per command (``moments``, ``check``, ``verify``,
``estimate``, ``train``, ``reproduce``), each with ``add_parser(subparsers)`` and ``run(args) -> int``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from . import check, estimate, moments, reproduce, train, verify

COMMANDS = (moments, check, verify, estimate, train, reproduce)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mixtheory", description="The theory of mixup regularization as numbers you can check."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; bad input and failures of the computation end in one line on stderr (set
    ``MIXTHEORY_DEBUG=1`` for the full traceback) and exit code 2; Ctrl-C (SIGINT) ends in one line
    (for ``train``: how to resume) and exit code 130, the shell's code for an interrupt."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    finally:
        if argv is None and threading.current_thread() is threading.main_thread():
            # the command is over and the program ends: a Ctrl-C now could only interrupt Python's
            # own shutdown (torch's finalizers), with a traceback and nothing left to save
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        if os.environ.get("MIXTHEORY_DEBUG"):
            raise
        module = next((m for m in COMMANDS if m.__name__.rsplit(".", 1)[-1] == args.command), None)
        line = getattr(module, "interrupted", lambda _: "interrupted")(args)
        print(f"\nmixtheory {args.command}: {line}", file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError, RuntimeError) as exc:
        if os.environ.get("MIXTHEORY_DEBUG"):
            raise
        kind = "" if isinstance(exc, (ValueError, TypeError)) else f"{type(exc).__name__}: "
        print(f"mixtheory {args.command}: error: {kind}{exc}", file=sys.stderr)
        if not isinstance(exc, (ValueError, TypeError, FileNotFoundError)):
            print("(set MIXTHEORY_DEBUG=1 to see the full traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
