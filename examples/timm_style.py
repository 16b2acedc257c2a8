"""A timm-style training loop (mixing inside the loop, soft-target loss) measured by the Monitor.

timm's ``train_one_epoch`` mixes each batch before the forward pass (``mixup_fn(input, target)``:
one λ per batch, partners by flipping the batch) and trains with the soft-target cross-entropy. Here
the mixing is mixtheory's sampler, :func:`mixtheory.mixing.mix` with the same conventions (flip
partners, one λ per batch, ``--mask cutmix`` for CutMix). The forward pass sees mixed inputs, so the
forgetting tracker is given the logits of one no-grad forward of the clean batch, taken before the
optimizer step (the convention of Toneva et al.); the recorders use λ's law of the training
(``law=``) for the geometry of R13.

    python examples/timm_style.py --out runs/timm [--samples 1000 --epochs 3 --alpha 1.0]
"""

from __future__ import annotations

import sys

import torch
from _common import arguments, mnist_views
from torch.utils.data import DataLoader

from mixtheory import Monitor, SymmetricBeta, build_model
from mixtheory.datasets import IndexedDataset, split_batch
from mixtheory.mixing import mix
from mixtheory.training import EL2NRecorder, ForgettingRecorder, MixupLossRecorder, RegularizerRecorder


def soft_target_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """timm's SoftTargetCrossEntropy: mean over the batch of −Σ_k t_k log softmax(u)_k."""
    return torch.sum(-targets * torch.log_softmax(logits, -1), -1).mean()


def main() -> None:
    mask = None
    if "--mask" in sys.argv:  # an extra option of this example: --mask cutmix
        k = sys.argv.index("--mask")
        mask = sys.argv[k + 1]
        del sys.argv[k : k + 2]
    alpha = 1.0
    args = arguments(__doc__.split("\n\n")[0])
    law = SymmetricBeta(alpha)
    train_view, eval_view = mnist_views(args.samples, args.seed)
    loader = DataLoader(
        IndexedDataset(train_view),
        batch_size=64,
        shuffle=True,
        generator=torch.Generator().manual_seed(args.seed),
    )
    model = build_model("cnn", (1, 28, 28), 10, "gelu", seed=args.seed)
    recorders = [
        RegularizerRecorder(args.recorded, num_probes=8, seed=args.seed),
        EL2NRecorder(args.recorded, seed=args.seed),
        MixupLossRecorder(args.recorded, num_draws=4, seed=args.seed),
        ForgettingRecorder(),
    ]
    monitor = Monitor(model, eval_view, recorders, out=args.out, law=law, seed=args.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    mix_gen = torch.Generator().manual_seed(args.seed + 1)
    monitor.epoch_end(0)
    for epoch in range(args.epochs):
        model.train()
        for batch in loader:
            x, y, idx = split_batch(batch)
            mixed = mix(x, y, law, per="batch", partner="flip", mask=mask, num_classes=10, generator=mix_gen)
            loss = soft_target_cross_entropy(model(mixed.inputs), mixed.targets)
            with torch.no_grad():
                monitor.observe(idx, model(x), y)  # clean logits, before the step
            opt.zero_grad()
            loss.backward()
            opt.step()
        monitor.epoch_end(epoch + 1)
        r13 = [r["R13"] for r in monitor.rows("regularizers") if r["epoch"] == epoch + 1]
        print(f"epoch {epoch + 1}: mixed loss {loss.item():.3f}, mean R13 {sum(r13) / len(r13):.4f}")


if __name__ == "__main__":
    main()
