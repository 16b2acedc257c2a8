r"""A smooth ResNet-18 for CIFAR-shaped inputs, for the second-order estimators.

K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image recognition", CVPR 2016, with
the CIFAR stem (one 3×3 convolution, stride 1, no max-pooling) and the ReLUs replaced by a smooth
activation (GELU or SiLU by default), so the network is twice differentiable as the second-order
theory of Carratino et al. (JMLR 2022) needs. It is not an ``nn.Sequential`` (residual sums), so
the estimators reach it through ``torch.fx`` Taylor mode (:mod:`mixtheory.estimators.jets`,
``docs/theory.md`` §7.4).

>>> net = smooth_resnet18(num_classes=10, in_shape=(3, 8, 8), width=4)
>>> net(torch.zeros(2, 3, 8, 8)).shape
torch.Size([2, 10])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["SMOOTH_ACTIVATIONS", "BasicBlock", "SmoothResNet", "smooth_resnet18"]

SMOOTH_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
}


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with batch norm and a residual sum (1×1 projection when the shape
    changes): ``act(bn(conv(act(bn(conv(x))))) + shortcut(x))``."""

    def __init__(self, c_in: int, c_out: int, stride: int, activation: type[nn.Module]) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.act1 = activation()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.act2 = activation()
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act2(out + self.shortcut(x))


class SmoothResNet(nn.Module):
    """CIFAR-style ResNet: 3×3 stem, four stages of basic blocks, global average pooling, linear head."""

    def __init__(
        self,
        blocks: Sequence[int],
        num_classes: int,
        in_channels: int = 3,
        width: int = 64,
        activation: type[nn.Module] = nn.GELU,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), activation()
        )
        stages, c_in = [], width
        for i, count in enumerate(blocks):
            c_out = width * 2**i
            for j in range(count):
                stages.append(BasicBlock(c_in, c_out, 2 if (i > 0 and j == 0) else 1, activation))
                c_in = c_out
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.pool(self.stages(self.stem(x)))
        return self.head(torch.flatten(out, 1))


def smooth_resnet18(
    num_classes: int = 10,
    in_shape: Sequence[int] = (3, 32, 32),
    activation: str = "gelu",
    *,
    width: int = 64,
    dtype: torch.dtype = torch.float32,
    seed: int = 0,
) -> SmoothResNet:
    """ResNet-18 (blocks 2-2-2-2) with a smooth activation, CIFAR stem, in eval mode.

    Args:
        num_classes: c; in_shape: (C, H, W) of one input (3×32×32 for CIFAR-10).
        activation: one of :data:`SMOOTH_ACTIVATIONS` (``"gelu"``, ``"silu"``, ...).
        width: channels of the first stage (64 for the standard network; small for tests).
        dtype: parameter dtype; seed: initialization seed (the global RNG is left untouched).
    """
    if activation not in SMOOTH_ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(SMOOTH_ACTIVATIONS)}")
    if len(in_shape) != 3:
        raise ValueError(f"a ResNet needs in_shape (C, H, W), got {tuple(in_shape)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SmoothResNet(
            (2, 2, 2, 2), num_classes, int(in_shape[0]), width, SMOOTH_ACTIVATIONS[activation]
        )
    return model.to(dtype).eval()
