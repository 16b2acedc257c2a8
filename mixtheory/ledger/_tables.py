"""Numbers printed in the source documents, transcribed as data (rows and tables exactly as
printed, including their defects: two forgetting rows have 11 entries)."""

from __future__ import annotations

__all__ = [
    "FORGETTING_ROWS",
    "AIRPLANE_P",
    "SINE_SCHEDULER_ACCURACY",
    "CIFAR100_CUTMIX_HMIX_GMIX",
    "IMAGENET_TOP1",
    "CROP_SCENARIOS",
    "IMAGENET_ERM_VS_MIXUP",
    "SPEECH_TEST_ERROR",
    "LATENT_MIXING_TEST_ERROR",
]

#: Data-valuation slides, "Forgetting statistics" rows (automobile/truck slide, then cat/dog slide).
FORGETTING_ROWS: dict[str, list[list[int]]] = {
    "automobile-truck": [
        [0, 0, 0, 0, 0, 0, 0, 0, 1, 18],
        [1, 0, 0, 1, 0, 0, 0, 0, 2, 15],
        [0, 0, 0, 0, 0, 0, 1, 0, 0, 17],
        [13, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1],
        [8, 0, 0, 0, 0, 0, 4, 0, 0, 5],
        [3, 0, 0, 1, 1, 0, 0, 0, 9, 3],
        [0, 0, 0, 0, 0, 0, 1, 0, 0, 15],
        [0, 0, 0, 0, 0, 0, 0, 1, 0, 14],
        [0, 0, 0, 0, 0, 0, 0, 0, 15, 0],
        [6, 0, 0, 1, 0, 0, 0, 0, 1, 7],
        [0, 0, 2, 0, 1, 3, 0, 0, 1, 8],
        [2, 0, 0, 0, 0, 0, 0, 0, 0, 12, 1],
    ],
    "cat-dog": [
        [0, 0, 8, 0, 3, 5, 5, 1, 0, 0],
        [0, 0, 4, 0, 0, 14, 0, 4, 0, 0],
        [0, 4, 1, 0, 1, 9, 1, 1, 5, 0],
        [0, 0, 3, 0, 3, 0, 14, 0, 0, 1],
        [0, 0, 1, 0, 13, 0, 7, 0, 0, 0],
        [0, 1, 3, 0, 2, 12, 0, 3, 0, 0],
        [0, 0, 3, 0, 0, 2, 16, 0, 0, 0],
        [0, 1, 8, 0, 4, 0, 6, 1, 0, 0],
        [0, 0, 0, 0, 2, 18, 0, 0, 0, 0],
        [13, 0, 2, 0, 0, 4, 0, 0, 0, 0],
        [2, 0, 7, 0, 2, 8, 0, 0, 0, 0],
        [0, 0, 9, 0, 5, 2, 0, 3, 0, 0],
    ],
}

#: Data-valuation slides, the "[Airplane]" vector p (future work ④).
AIRPLANE_P = [0.0000, 0.0743, 0.3148, 0.1221, 0.0839, 0.0310, 0.0458, 0.0595, 0.4032, 0.1552]

#: Data-valuation slides: CIFAR-10 test accuracy, RegMixUp with a sine λ scheduler vs α = 20.
SINE_SCHEDULER_ACCURACY = {"sine scheduler": 96.95, "baseline (alpha = 20)": 96.60}

#: Park, Yun, Chun (NeurIPS 2022) Table 2: CIFAR-100 top-1 accuracy per architecture.
CIFAR100_CUTMIX_HMIX_GMIX: dict[str, dict[str, float]] = {
    "RN56": {"CutMix": 74.83, "HMix": 74.99, "GMix": 75.75},
    "WRN28-2": {"CutMix": 74.79, "HMix": 75.68, "GMix": 76.15},
    "PreActRN18": {"CutMix": 78.66, "HMix": 79.25, "GMix": 79.17},
    "PreActRN34": {"CutMix": 80.05, "HMix": 81.07, "GMix": 80.52},
    "PreActRN50": {"CutMix": 81.23, "HMix": 81.38, "GMix": 81.45},
}

#: Park, Yun, Chun Table 3: ImageNet top-1 (accuracy, printed delta vs the vanilla baseline).
IMAGENET_TOP1 = {
    "vanilla": 75.68,
    "methods": {
        "Mixup": (77.78, 2.10),
        "CutMix": (78.04, 2.36),
        "Stochastic Mixup & CutMix": (78.13, 2.45),
        "HMix": (78.38, 2.70),
        "GMix": (78.13, 2.45),
    },
}

#: Park, Yun, Chun scenario table: (Mixup, CutMix, printed Δ(CutMix − Mixup)) on ImageNet-100.
CROP_SCENARIOS = {"large crop": (58.3, 64.4, 6.1), "small crop": (67.7, 67.0, -0.7)}

#: Zhang et al. (ICLR 2018) ImageNet table: (ERM top-1 error, mixup top-1 error).
IMAGENET_ERM_VS_MIXUP = {
    "ResNet-50, 90 ep": (23.5, 23.3),
    "ResNet-101, 90 ep": (22.1, 21.5),
    "ResNeXt-101 32x4d, 90 ep": (21.2, 20.7),
    "ResNeXt-101 64x4d, 100/90 ep": (20.4, 19.8),
    "ResNet-50, 200 ep": (23.6, 22.1),
    "ResNet-101, 200 ep": (22.0, 20.8),
    "ResNeXt-101 32x4d, 200 ep": (21.3, 20.1),
}

#: Zhang et al. (ICLR 2018) speech commands: test error (ERM, mixup α = 0.1, mixup α = 0.2).
SPEECH_TEST_ERROR = {"LeNet": (10.3, 10.8, 11.3), "VGG-11": (4.6, 3.8, 3.4)}

#: Zhang et al. (ICLR 2018) ablation: test error at weight decay (1e-4, 5e-4) by mixing layer.
LATENT_MIXING_TEST_ERROR = {
    "mixup AC+RP (input)": (4.24, 4.68),
    "Layer 1": (4.44, 4.51),
    "Layer 2": (4.56, 4.61),
    "Layer 3": (5.39, 5.55),
    "Layer 4": (5.95, 5.43),
    "Layer 5": (5.39, 5.15),
}
