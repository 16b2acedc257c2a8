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
    "MIXUPE_IMAGE_ERROR",
    "MIXUPE_TABULAR_ERROR",
    "MIXUPE_SPEECH_ERROR",
    "MIXUPE_GRAPH_ERROR",
    "MIXUPE_TABULAR_PM",
    "MIXUPE_GRAPH_PM",
    "TU_GRAPH_COUNTS",
    "MIXUPE_DEFORMATION_ACCURACY",
    "CIFAR100_TABLE2",
    "ADVERSARIAL_ERROR",
    "CORRUPTED_LABELS_ERROR",
    "NON_IMAGE_ERROR",
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

#: MixupE slides, image classification test error (%) (ERM, Mixup, MixupE) per architecture and data set.
MIXUPE_IMAGE_ERROR: dict[str, dict[str, tuple[float, float, float]]] = {
    "PreActResNet50": {
        "CIFAR10": (4.71, 4.53, 3.53),
        "CIFAR100": (24.68, 23.03, 20.23),
        "SVHN": (2.80, 2.65, 2.42),
    },
    "PreActResNet101": {
        "CIFAR10": (4.21, 4.43, 3.35),
        "CIFAR100": (23.20, 23.05, 18.86),
        "SVHN": (2.95, 2.79, 2.35),
    },
    "Wide-Resnet-28-10": {
        "CIFAR10": (4.24, 3.03, 2.94),
        "CIFAR100": (22.20, 19.38, 17.12),
        "SVHN": (2.82, 2.48, 2.29),
    },
}
#: MixupE slides, Table 4: UCI tabular test error (%) (ERM, Mixup, MixupE).
MIXUPE_TABULAR_ERROR: dict[str, tuple[float, float, float]] = {
    "Arrhythmia": (34.60, 35.49, 34.85),
    "Letter": (4.56, 3.71, 4.04),
    "Balance-scale": (3.87, 3.70, 3.68),
    "Mfeat-factors": (2.74, 2.44, 2.56),
    "Mfeat-fourier": (17.69, 17.80, 17.57),
    "Mfeat-karhunen": (3.74, 3.06, 2.47),
    "Mfeat-morph": (25.00, 24.62, 24.66),
    "Mfeat-zernike": (17.58, 15.19, 15.55),
    "CMC": (45.77, 46.67, 45.42),
    "Optdigits": (1.48, 1.15, 1.33),
    "Pendigits": (1.03, 0.76, 0.72),
    "Iris": (9.06, 8.14, 7.29),
    "Mnist_784": (2.83, 2.57, 2.56),
    "Abalone": (35.05, 35.07, 34.91),
    "Volkert": (33.26, 32.74, 32.54),
}
#: MixupE slides, Table 5: Google Speech Commands test error (%) (ERM, Mixup, MixupE).
MIXUPE_SPEECH_ERROR = {
    "LeNet": (10.43, 10.12, 10.02),
    "VGG-11": (6.04, 4.63, 3.93),
    "VGG-13": (5.77, 4.68, 3.84),
}
#: MixupE slides, the ± printed beside MIXUPE_TABULAR_ERROR (ERM, Mixup, MixupE).
MIXUPE_TABULAR_PM: dict[str, tuple[float, float, float]] = {
    "Arrhythmia": (3.10, 3.88, 3.99),
    "Letter": (0.27, 0.18, 0.20),
    "Balance-scale": (1.03, 1.00, 0.97),
    "Mfeat-factors": (0.81, 0.42, 0.64),
    "Mfeat-fourier": (1.76, 1.56, 1.60),
    "Mfeat-karhunen": (0.58, 0.29, 0.32),
    "Mfeat-morph": (2.10, 1.83, 1.30),
    "Mfeat-zernike": (1.72, 1.73, 0.62),
    "CMC": (1.49, 1.83, 2.05),
    "Optdigits": (0.19, 0.21, 0.14),
    "Pendigits": (0.25, 0.19, 0.16),
    "Iris": (7.01, 6.48, 6.95),
    "Mnist_784": (0.11, 0.05, 0.14),
    "Abalone": (0.61, 0.69, 0.70),
    "Volkert": (0.62, 0.76, 0.61),
}
#: MixupE slides, the ± printed beside MIXUPE_GRAPH_ERROR ("10-fold validation").
MIXUPE_GRAPH_PM: dict[str, tuple[float, float, float]] = {
    "MUTAG": (0.06, 0.05, 0.06),
    "NCII": (0.02, 0.02, 0.01),
    "PTC": (0.09, 0.08, 0.08),
    "PROTEINS": (0.04, 0.04, 0.04),
    "IMDBBINARY": (0.03, 0.03, 0.03),
    "IMDBMULTI": (0.03, 0.04, 0.03),
}
#: graphs in each TUDataset (Morris et al., 2020): the fold size of a 10-fold split sets how finely a
#: fold's test error can vary
TU_GRAPH_COUNTS = {
    "MUTAG": 188,
    "NCII": 4110,
    "PTC": 344,
    "PROTEINS": 1113,
    "IMDBBINARY": 1000,
    "IMDBMULTI": 1500,
}
#: MixupE slides, novel-deformation table: CIFAR-100 test accuracy (%) (Mixup, Manifold Mixup, Ours).
MIXUPE_DEFORMATION_ACCURACY: dict[str, tuple[float, float, float]] = {
    "Rotation U(-20, 20)": (56.48, 60.08, 62.23),
    "Rotation U(-40, 40)": (36.78, 42.13, 43.08),
    "Shearing U(-28.6, 28.6)": (60.01, 62.85, 63.94),
    "Shearing U(-57.3, 57.3)": (39.70, 44.27, 43.87),
    "Zoom In (60% rescale)": (13.12, 11.49, 15.66),
    "Zoom In (80% rescale)": (50.47, 52.70, 54.22),
    "Zoom Out (120% rescale)": (61.62, 63.59, 61.39),
    "Zoom Out (140% rescale)": (42.02, 45.29, 36.58),
}

#: MixupE slides, Table 6: TUDatasets graph classification test error (%) (ERM, Mixup, MixupE).
MIXUPE_GRAPH_ERROR = {
    "MUTAG": (10.15, 10.67, 10.06),
    "NCII": (17.79, 18.59, 17.74),
    "PTC": (38.37, 34.87, 35.50),
    "PROTEINS": (25.43, 24.44, 23.72),
    "IMDBBINARY": (25.60, 25.30, 25.20),
    "IMDBMULTI": (50.33, 49.27, 48.53),
}

#: Park, Yun, Chun Table 2, all rows: CIFAR-100 top-1 accuracy (None: not reported).
CIFAR100_TABLE2: dict[str, dict[str, float | None]] = {
    "Vanilla": {
        "RN56": 73.23,
        "WRN28-2": 73.50,
        "PreActRN18": 76.73,
        "PreActRN34": 77.68,
        "PreActRN50": 79.07,
    },
    "Mixup": {"RN56": 73.12, "WRN28-2": 74.05, "PreActRN18": 77.21, "PreActRN34": 79.02, "PreActRN50": 79.34},
    "CutMix": {
        "RN56": 74.83,
        "WRN28-2": 74.79,
        "PreActRN18": 78.66,
        "PreActRN34": 80.05,
        "PreActRN50": 81.23,
    },
    "PuzzleMix": {
        "RN56": None,
        "WRN28-2": 76.51,
        "PreActRN18": 79.38,
        "PreActRN34": 80.89,
        "PreActRN50": 82.46,
    },
    "Stochastic Mixup & CutMix": {
        "RN56": 74.88,
        "WRN28-2": 75.49,
        "PreActRN18": 79.25,
        "PreActRN34": 81.05,
        "PreActRN50": 81.21,
    },
    "HMix": {"RN56": 74.99, "WRN28-2": 75.68, "PreActRN18": 79.25, "PreActRN34": 81.07, "PreActRN50": 81.38},
    "GMix": {"RN56": 75.75, "WRN28-2": 76.15, "PreActRN18": 79.17, "PreActRN34": 80.52, "PreActRN50": 81.45},
}

#: Zhang et al. (ICLR 2018) adversarial test error (%) on ImageNet: (attack, box, metric) → (ERM, mixup).
ADVERSARIAL_ERROR = {
    ("FGSM", "white", "top-1"): (90.7, 75.2),
    ("I-FGSM", "white", "top-1"): (99.9, 99.6),
    ("FGSM", "white", "top-5"): (63.1, 49.1),
    ("I-FGSM", "white", "top-5"): (93.4, 95.8),
    ("FGSM", "black", "top-1"): (57.0, 46.0),
    ("I-FGSM", "black", "top-1"): (57.3, 40.9),
    ("FGSM", "black", "top-5"): (24.8, 17.4),
    ("I-FGSM", "black", "top-5"): (18.1, 11.8),
}
#: Zhang et al. (ICLR 2018) corrupted labels, CIFAR-10 test error (best, last) per corruption level.
CORRUPTED_LABELS_ERROR = {
    "20%": {
        "ERM": (12.7, 16.6),
        "ERM + dropout": (8.8, 10.4),
        "mixup": (5.9, 6.4),
        "mixup + dropout": (6.2, 6.2),
    },
    "50%": {
        "ERM": (18.8, 44.6),
        "ERM + dropout": (14.1, 15.5),
        "mixup": (11.3, 12.7),
        "mixup + dropout": (10.9, 10.9),
    },
    "80%": {
        "ERM": (36.5, 73.9),
        "ERM + dropout": (30.9, 35.1),
        "mixup": (25.3, 30.9),
        "mixup + dropout": (24.0, 24.8),
    },
}
#: Zhang et al. (ICLR 2018) UCI data sets: test error (%) (ERM, mixup).
NON_IMAGE_ERROR = {
    "Abalone": (74.0, 73.6),
    "Arcene": (57.6, 48.0),
    "Arrhythmia": (56.6, 46.3),
    "Htru2": (2.0, 2.0),
    "Iris": (21.3, 17.3),
    "Phishing": (16.3, 15.2),
}
