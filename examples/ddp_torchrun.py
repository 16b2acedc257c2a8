"""DistributedDataParallel under torchrun, measured by the Monitor on every rank.

    torchrun --standalone --nproc_per_node 2 examples/ddp_torchrun.py --out runs/ddp [--samples 1000]

Each rank trains on its DistributedSampler shard of every epoch; ``monitor.observe`` gathers the
ranks' batches for the forgetting tracker; ``monitor.epoch_end`` shards the per-sample recorders
(R13 and the other regularizers, EL2N) over the ranks and rank 0 gathers and writes the tables.
CPU and gloo here; on GPUs use nccl and move the model and batches to ``cuda:LOCAL_RANK``.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from _common import arguments, mnist_views
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from mixtheory import Monitor, build_model
from mixtheory.datasets import IndexedDataset, split_batch
from mixtheory.training import AccuracyRecorder, EL2NRecorder, ForgettingRecorder, RegularizerRecorder


def main() -> None:
    args = arguments(__doc__.split("\n\n")[0])
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    torch.set_num_threads(1)
    train_view, eval_view = mnist_views(args.samples, args.seed)
    sampler = DistributedSampler(IndexedDataset(train_view), shuffle=True, seed=args.seed)
    loader = DataLoader(IndexedDataset(train_view), batch_size=32, sampler=sampler)
    model = DistributedDataParallel(build_model("cnn", (1, 28, 28), 10, "tanh", seed=args.seed))
    recorders = [
        RegularizerRecorder(args.recorded, num_probes=8, seed=args.seed),
        EL2NRecorder(args.recorded, seed=args.seed),
        ForgettingRecorder(),
        AccuracyRecorder(),
    ]
    monitor = Monitor(model, eval_view, recorders, out=args.out, seed=args.seed)  # on every rank
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    monitor.epoch_end(0)
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        for batch in loader:
            x, y, idx = split_batch(batch)
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            monitor.observe(idx, logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        monitor.epoch_end(epoch + 1)
        if rank == 0:
            print(f"epoch {epoch + 1}: rank-0 loss {loss.item():.3f}")
    dist.barrier()  # rank 0 may still be writing the tables: tear down together
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
