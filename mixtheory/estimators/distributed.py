r"""Shard the per-sample estimators over processes with ``torch.distributed``.

Every rank builds the same :class:`~mixtheory.geometry.MixupGeometry` (it needs all n samples),
evaluates a contiguous shard of the requested samples with
:func:`mixtheory.estimators.estimate_from_geometry`, and the shards are gathered on every rank.
Sample i's probes come from its own seed (drawn once on rank 0 and broadcast), so the result
equals the single-process run whatever the number of processes: the tests check it.

- Inside a job you launched yourself (``torchrun``, gloo on CPU, nccl on GPU):
  :func:`estimate_regularizers_distributed`.
- From one Python process, on this machine: :func:`run_distributed` spawns ``world_size``
  processes on localhost (gloo) and returns the gathered result.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.distributed as dist

from .._io import save_torch
from .._types import Tensor
from .._validation import check_indices
from ..laws import MixingLaw
from .core import _network_geometry, estimate_from_geometry
from .options import EstimatorOptions
from .probes import probe_seeds
from .results import RegularizerEstimates

__all__ = ["estimate_regularizers_distributed", "run_distributed", "shard_bounds"]


def shard_bounds(num_items: int, world_size: int, rank: int) -> tuple[int, int]:
    """Contiguous [start, stop) of rank's share; sizes differ by at most one.

    >>> [shard_bounds(10, 3, r) for r in range(3)]
    [(0, 4), (4, 7), (7, 10)]
    """
    base, extra = divmod(num_items, world_size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def estimate_regularizers_distributed(
    model: Callable[[Tensor], Tensor],
    X: Tensor,
    Y: Tensor,
    law: MixingLaw,
    options: EstimatorOptions | None = None,
    *,
    indices: Tensor | Sequence[int] | None = None,
    generator: torch.Generator | None = None,
    seeds: list[int] | None = None,
    group: dist.ProcessGroup | None = None,
    geometry_dtype: torch.dtype = torch.float64,
    **overrides: Any,
) -> RegularizerEstimates:
    r""":func:`mixtheory.estimate_regularizers` across the processes of an initialized group.

    Call it on every rank with the same model, data and arguments. Rank 0 draws the per-sample
    probe seeds from ``generator`` (or takes ``seeds``) and broadcasts them; each rank evaluates
    its shard; the gathered :class:`RegularizerEstimates` (in the order of ``indices``) is
    returned on every rank. The geometry lives on the model's device, with the labels the model's
    outputs decide (as in :func:`~mixtheory.estimate_regularizers`); ``options`` and the keyword
    ``overrides`` of its fields go to :func:`mixtheory.estimators.estimate_from_geometry`.
    """
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError(
            "torch.distributed is not initialized: call "
            "torch.distributed.init_process_group first (or use run_distributed)"
        )
    rank, world = dist.get_rank(group), dist.get_world_size(group)
    geometry = _network_geometry(model, X, Y, law, geometry_dtype, None)
    idx = geometry.sample_indices(indices).cpu()
    # seeds as int64 on the collective's device (nccl needs CUDA tensors)
    comm_device = (
        torch.device("cuda", torch.cuda.current_device())
        if (dist.get_backend(group) == "nccl")
        else torch.device("cpu")
    )
    if seeds is None:
        seeds = probe_seeds(generator, idx) if rank == 0 else [0] * idx.numel()
    if len(seeds) != idx.numel():
        raise ValueError(f"seeds must give one seed per sample ({idx.numel()}), got {len(seeds)}")
    seed_tensor = torch.tensor(seeds, dtype=torch.int64, device=comm_device)
    dist.broadcast(seed_tensor, src=0, group=group)
    all_seeds = seed_tensor.cpu().tolist()

    start, stop = shard_bounds(idx.numel(), world, rank)
    local = None
    if stop > start:
        local = estimate_from_geometry(
            model, geometry, options, indices=idx[start:stop], seeds=all_seeds[start:stop], **overrides
        )
        local = {k: local[k].cpu() for k in local.keys()} | {"_meta": local.settings()}
    gathered: list = [None] * world
    dist.all_gather_object(gathered, local, group=group)
    parts = [g for g in gathered if g is not None]
    meta = parts[0]["_meta"]
    tensors = {k: torch.cat([p[k] for p in parts]) for k in RegularizerEstimates.KEYS}
    return RegularizerEstimates(**tensors, **meta)


def _worker(rank: int, world_size: int, init_method: str, payload_path: str, out_path: str) -> None:
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size))
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world_size)
    try:
        payload = torch.load(payload_path, weights_only=False)
        est = estimate_regularizers_distributed(
            payload["model"],
            payload["X"],
            payload["Y"],
            payload["law"],
            indices=payload["indices"],
            seeds=payload["seeds"],
            **payload["kwargs"],
        )
        if rank == 0:
            save_torch(out_path, {k: est[k] for k in est.keys()} | {"_meta": est.settings()})
        dist.barrier()  # no rank tears its connections down while another still uses them
    finally:
        dist.destroy_process_group()


def run_distributed(
    model: torch.nn.Module,
    X: Tensor,
    Y: Tensor,
    law: MixingLaw,
    indices: Tensor | Sequence[int] | None = None,
    *,
    world_size: int = 2,
    generator: torch.Generator | None = None,
    **kwargs: Any,
) -> RegularizerEstimates:
    r"""Spawn ``world_size`` CPU processes on localhost (gloo), shard the samples, gather.

    The processes meet through a file in a temporary directory (``file://`` rendezvous): no port
    is taken, and no rank hosts a store the others still need while it exits.

    Equal to ``estimate_regularizers(model, X, Y, law, indices=indices, generator=generator, **kwargs)``
    in one process (same seeds per sample). The model, data and law are pickled to a temporary
    file for the workers.
    """
    import torch.multiprocessing as mp

    if world_size < 1:
        raise ValueError(f"world_size must be >= 1, got {world_size}")
    n = len(X)
    idx = check_indices(indices, n)
    seeds = probe_seeds(generator, idx)
    with tempfile.TemporaryDirectory() as tmp:
        payload_path, out_path = os.path.join(tmp, "payload.pt"), os.path.join(tmp, "out.pt")
        save_torch(
            payload_path,
            {"model": model, "X": X, "Y": Y, "law": law, "indices": idx, "seeds": seeds, "kwargs": kwargs},
        )
        init_method = "file://" + os.path.join(tmp, "rendezvous")
        mp.spawn(
            _worker, args=(world_size, init_method, payload_path, out_path), nprocs=world_size, join=True
        )
        result = torch.load(out_path, weights_only=False)
    meta = result.pop("_meta")
    return RegularizerEstimates(**result, **meta)
