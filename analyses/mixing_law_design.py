"""Mixing-law design figure into ``figures/``: a thin wrapper over ``mixtheory reproduce``.

The figure lives in the registry (:mod:`mixtheory.reproduce.mixing_law_design`, where the
computation, the drawing and the headline are documented); this script writes its full-size
version, ``figures/mixing_law_design.{csv,json,png,pdf}``, the copy kept in the repository. The
same files come from ``mixtheory reproduce mixing-law-design --full --out figures``, except that
this script keeps its per-unit cache in a temporary directory. ``main`` asserts the headline.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from mixtheory.reproduce import run_figure
from mixtheory.reproduce.mixing_law_design import FIGURE

FIGURES = Path(__file__).resolve().parents[1] / "figures"


def main(small: bool = False, out_dir: Path = FIGURES) -> dict:
    """Run the figure (``small``: the quick configuration), assert its headline checks and return
    the measured headline."""
    with tempfile.TemporaryDirectory() as cache:
        result = run_figure(FIGURE, "quick" if small else "full", out_dir, cache_dir=cache)
    failed = [name for name, ok in result.checks.items() if not ok]
    assert not failed, f"headline checks failed: {failed}"
    print(result.headline["text"], f"Wrote {Path(out_dir)}/{FIGURE.stem}.*")
    return result.headline


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the quick configuration (60 α instead of 200)")
    main(small=parser.parse_args().small)
