"""Mixing-law design figure into ``figures/``: a thin wrapper over ``mixtheory reproduce``.

The figure lives in the registry (:mod:`mixtheory.reproduce.mixing_law_design`, where the
computation, the drawing and the headline are documented); this script writes its full-size
version, ``figures/mixing_law_design.{csv,json,png,pdf}``, the copy kept in the repository. The
same files come from ``mixtheory reproduce mixing-law-design --full --out DIR`` (in ``DIR/full/``),
except that this script computes in a temporary directory (cache included) and copies the four
files, atomically, into ``figures/``. ``main`` asserts the headline.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from mixtheory._io import write_bytes
from mixtheory.reproduce import run_figure
from mixtheory.reproduce.mixing_law_design import FIGURE

FIGURES = Path(__file__).resolve().parents[1] / "figures"


def main(small: bool = False, out_dir: Path = FIGURES) -> dict:
    """Run the figure (``small``: the quick configuration), assert its headline checks and return
    the measured headline."""
    with tempfile.TemporaryDirectory() as work:
        # run_figure keeps a full run under <out>/full/; this script's copy lives in figures/ itself
        result = run_figure(FIGURE, "quick" if small else "full", work)
        for path in result.paths.values():
            write_bytes(Path(out_dir) / path.name, path.read_bytes())
    failed = [name for name, ok in result.checks.items() if not ok]
    assert not failed, f"headline checks failed: {failed}"
    print(result.headline["text"], f"Wrote {Path(out_dir)}/{FIGURE.stem}.*")
    return result.headline


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the quick configuration (60 α instead of 200)")
    main(small=parser.parse_args().small)
