"""Peak memory of the streamed geometry on a CIFAR-10-shaped set (50,000 × 3 × 32 × 32, random).

Route, in a fresh spawned process (``benchmarks/_timing.py``: growth of peak RSS while it runs):
build :class:`mixtheory.geometry.StreamedMixupGeometry` from rows generated block by block from
seeded normal draws (never held whole), then one solve with Σ^(i)_xx for 8 samples (rows fetched on
demand). The in-memory :class:`~mixtheory.geometry.MixupGeometry` would hold the float64 data, its
centred copy and x̃ (3 × 1.2 GB) plus the SVD's workspace; it is not run here. Writes
``benchmarks/results/streamed_memory.json``, from which the README's number is checked
(``tests/test_examples.py``).

    python benchmarks/bench_streamed_memory.py [--n 50000] [--block 1000] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import peak_memory_mib  # noqa: E402

SHAPE = (3, 32, 32)
CLASSES = 10
RESULT = Path(__file__).resolve().parent / "results" / "streamed_memory.json"


class RandomRows:
    """n seeded random rows of ``SHAPE`` in float32, generated per block of ``block`` rows."""

    def __init__(self, n: int, block: int, seed: int = 0):
        self.n, self.block, self.seed, self.input_shape = n, block, seed, SHAPE

    def _block(self, b: int) -> torch.Tensor:
        rows = min(self.block, self.n - b * self.block)
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + b)
        return torch.randn(rows, *SHAPE, generator=g)

    def blocks(self):
        for b in range(-(-self.n // self.block)):
            yield b * self.block, self._block(b)

    def __getitem__(self, k: torch.Tensor) -> torch.Tensor:
        flat = torch.as_tensor(k).flatten().tolist()
        rows = [self._block(i // self.block)[i % self.block] for i in flat]
        return torch.stack(rows).reshape(*torch.as_tensor(k).shape, *SHAPE)


def _factory(n: int, block: int):
    from mixtheory import SymmetricBeta
    from mixtheory.geometry import StreamedMixupGeometry

    rows = RandomRows(n, block)
    labels = torch.arange(n) % CLASSES

    def route():
        geometry = StreamedMixupGeometry(rows, labels, SymmetricBeta(1.0))
        idx = torch.arange(8)
        geometry.solve_xx(torch.ones(8, geometry.d, dtype=torch.float64), idx)
        return geometry.rank

    return route


class _Factory:  # a picklable factory for the spawned process
    def __init__(self, n: int, block: int):
        self.n, self.block = n, block

    def __call__(self):
        return _factory(self.n, self.block)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--block", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args()
    mib = peak_memory_mib(_Factory(args.n, args.block))
    d = 3 * 32 * 32
    record = {
        "n": args.n,
        "d": d,
        "block_rows": args.block,
        "peak_rss_growth_mib": round(mib, 1),
        "in_memory_data_float64_mib": round(args.n * d * 8 / 2**20, 1),
        "torch": torch.__version__,
        "threads": 1,
        "device": "cpu",
    }
    from mixtheory._io import write_json

    write_json(args.out, record)
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
