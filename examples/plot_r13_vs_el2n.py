"""Load a run's tables and plot R13 against EL2N per sample, at one epoch.

The recorders write tidy CSVs (``regularizers.csv``, ``el2n.csv``: one row per epoch and sample).
Recorders with the same ``num_samples`` and ``seed`` follow the same samples, so the two tables
join on (epoch, sample). Needs matplotlib (``pip install 'mixtheory[plot]'``).

    python examples/plot_r13_vs_el2n.py RUN_DIR [--epoch LAST] [--png RUN_DIR/r13_vs_el2n.png]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def joined(run: Path, epoch: int | None) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """(epoch, samples, R13, EL2N) of the samples both tables hold at ``epoch`` (default: the last)."""
    reg, el2n = read(run / "regularizers.csv"), read(run / "el2n.csv")
    epoch = max(int(r["epoch"]) for r in reg) if epoch is None else epoch
    r13 = {int(r["sample"]): float(r["R13"]) for r in reg if int(r["epoch"]) == epoch}
    score = {int(r["sample"]): float(r["el2n"]) for r in el2n if int(r["epoch"]) == epoch}
    samples = np.array(sorted(set(r13) & set(score)))
    if samples.size == 0:
        raise ValueError(f"{run}: no sample is in both tables at epoch {epoch}")
    return epoch, samples, np.array([r13[s] for s in samples]), np.array([score[s] for s in samples])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--epoch", type=int, default=None)
    parser.add_argument("--png", type=Path, default=None)
    args = parser.parse_args()
    epoch, samples, r13, el2n = joined(args.run, args.epoch)
    rho = float(np.corrcoef(np.argsort(np.argsort(r13)), np.argsort(np.argsort(el2n)))[0, 1])
    print(f"epoch {epoch}: {samples.size} samples, Spearman rank correlation R13 vs EL2N = {rho:.3f}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    ax.scatter(el2n, r13, s=12)
    ax.set(xlabel="EL2N", ylabel="R13", title=f"epoch {epoch}: Spearman ρ = {rho:.2f}")
    fig.tight_layout()
    png = args.png or args.run / "r13_vs_el2n.png"
    fig.savefig(png, dpi=120)
    print(f"wrote {png}")


if __name__ == "__main__":
    main()
