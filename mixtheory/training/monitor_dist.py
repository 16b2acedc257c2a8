r"""The :class:`~mixtheory.training.Monitor` under ``torch.distributed`` (``torchrun``, DDP).

Without an initialized process group (or with one process) every function here is the
single-process operation. With several ranks:

- :func:`gather_observations`: each rank's ``observe`` batch is gathered (rank order) so that every
  rank's forgetting tracker counts every presentation of the global batch (Toneva et al., ICLR 2019).
  A sample's events depend only on the sequence of its own presentations, so the counts equal those
  of one process that sees the global batches.
- :func:`record`: the per-sample recorders (regularizers, EL2N, GraNd) evaluate a contiguous shard
  of their fixed subset on each rank (:func:`mixtheory.estimators.distributed.shard_bounds`); the rows are
  gathered in rank order, which is the subset's order. The regularizers' probes come from
  per-sample seeds (:func:`mixtheory.estimators.probes.probe_seeds`: sample i's seed depends only on
  the recorder's seed and i), so each shard draws the probes the single process draws. Other
  recorders (accuracy, mixup loss, forgetting, your own) run whole on every rank.
- :func:`is_writer`: only rank 0 writes files.

The same chunking streams a per-sample recorder over an evaluation set read from a dataset
(:class:`mixtheory.datasets.DatasetRows`) in batches of the loader's size, in one process too.

Before recording, the ranks compare what they hold (evaluation set size, classes, recorders and
their subsets) and stop with an error naming the rank that differs.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist

from .._types import Tensor
from ..estimators.distributed import shard_bounds
from .recorders import EL2NRecorder, GraNdRecorder, RecordContext, Recorder, RegularizerRecorder

__all__ = ["world", "is_writer", "gather_observations", "record", "check_ranks", "PER_SAMPLE"]

PER_SAMPLE: tuple[type[Recorder], ...] = (RegularizerRecorder, EL2NRecorder, GraNdRecorder)
"""Recorders whose rows are one per sample of the subset and whose values do not depend on the
other samples evaluated with it: these are sharded over ranks."""


def world() -> tuple[int, int]:
    """``(rank, world_size)``; ``(0, 1)`` without an initialized process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_writer() -> bool:
    """True on rank 0 (and in a single process)."""
    return world()[0] == 0


def _all_gather(obj: Any) -> list[Any]:
    gathered: list[Any] = [None] * world()[1]
    dist.all_gather_object(gathered, obj)
    return gathered


def gather_observations(idx: Tensor, predicted: Tensor, labels: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Every rank's ``(indices, predicted, labels)`` of one training step, concatenated in rank order."""
    if world()[1] == 1:
        return idx, predicted, labels
    parts = _all_gather((idx, predicted, labels))
    idx, predicted, labels = (torch.cat([p[k] for p in parts]) for k in range(3))
    # a DistributedSampler pads the last shards with repeats: one presentation per sample per step
    first = {}
    for position, i in enumerate(idx.tolist()):
        first.setdefault(i, position)
    keep = torch.tensor(sorted(first.values()), dtype=torch.long)
    return idx[keep], predicted[keep], labels[keep]


def check_ranks(ctx: RecordContext, recorders: list[Recorder]) -> None:
    """Stop when the ranks hold different evaluation sets or recorders (a rank mismatch)."""
    rank, size = world()
    if size == 1:
        return
    mine = {
        "eval_data samples": ctx.data.n,
        "classes": ctx.data.num_classes,
        "recorders": [(r.name, None if r.indices is None else int(r.indices.numel())) for r in recorders],
    }
    for other_rank, theirs in enumerate(_all_gather(mine)):
        for key, value in theirs.items():
            if value != mine[key]:
                raise ValueError(
                    f"rank mismatch: {key} is {mine[key]} on rank {rank} but {value} on rank {other_rank}; "
                    "create the Monitor with the same eval_data and recorders on every rank"
                )


def record(recorder: Recorder, ctx: RecordContext, epoch: int) -> None:
    """``recorder.record(ctx, epoch)``; a per-sample recorder runs on this rank's shard of its
    subset, in chunks of the loader's batch size when the evaluation set is read from a dataset
    (so that no more than a batch of rows is fetched at once), and the rows are gathered in order."""
    rank, size = world()
    chunk = getattr(ctx.data.X, "batch_size", None)  # DatasetRows: stream in its batches
    full = recorder.indices
    if not isinstance(recorder, PER_SAMPLE) or (size == 1 and (chunk is None or full.numel() <= chunk)):
        recorder.record(ctx, epoch)
        return
    start, stop = shard_bounds(full.numel(), size, rank)
    mine = full[start:stop]
    step = max(1, int(chunk or mine.numel()))
    before = len(recorder.rows)
    try:
        for first in range(0, mine.numel(), step):
            recorder.indices = mine[first : first + step]
            recorder.record(ctx, epoch)
        local = recorder.rows[before:]
    finally:
        recorder.indices = full
        del recorder.rows[before:]
    for part in _all_gather(local) if size > 1 else [local]:
        recorder.rows.extend(part)
