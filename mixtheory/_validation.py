"""Input conversion and checks shared by the public functions: clear errors that name the argument."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import torch

from ._types import ArrayLike, DeviceLike, Indices, Model, Tensor

if TYPE_CHECKING:
    from types import TracebackType

    from .losses import Loss

# Tensor stays importable from here (several modules do); it is the alias of mixtheory._types.


def check_device(device: DeviceLike, name: str = "device") -> torch.device | None:
    """A ``torch.device`` from a string or device, refused clearly when it cannot be used here."""
    if device is None:
        return None
    try:
        dev = torch.device(device)
    except (TypeError, RuntimeError, ValueError) as exc:
        raise ValueError(
            f"{name}={device!r} is not a device torch knows; use 'cpu', 'cuda', 'cuda:0' or 'mps'"
        ) from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"{name}={device!r}: CUDA is not available on this machine (torch.cuda.is_available() is "
            "False: no GPU, or a CPU-only build of torch); use device='cpu'"
        )
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"{name}={device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if dev.type == "mps" and not (torch.backends.mps.is_available()):
        raise ValueError(f"{name}={device!r}: Apple's MPS backend is not available here; use device='cpu'")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"{name}={device!r}: mixtheory runs on 'cpu', 'cuda' or 'mps'")
    return dev


def model_dtype_device(model: Model) -> tuple[torch.dtype | None, torch.device | None]:
    """The floating dtype and device of a module's first floating parameter or buffer (None, None
    for a plain callable or a module without floating tensors)."""
    if isinstance(model, torch.nn.Module):
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                return t.dtype, t.device
    return None, None


def check_model_dtype(model: Model) -> None:
    """Half precision cannot carry second derivatives of a loss: refuse it with the fix."""
    check_model(model)
    dtype, _ = model_dtype_device(model)
    if dtype in (torch.float16, torch.bfloat16):
        raise TypeError(
            f"model has {dtype} parameters: second-order terms need at least float32 "
            "(use model.float(), or model.double() for verification)"
        )


def model_outputs(
    model: Model,
    inputs: Tensor,
    num_outputs: int | None,
    *,
    out_dtype: torch.dtype | None = None,
    allow_nonfinite: bool = False,
) -> Tensor:
    """Call ``model`` on a batch in the model's own dtype and device and check what comes back:
    a tensor of shape (batch, num_outputs), finite. Returns it in ``out_dtype`` on the inputs' device.

    The one place every entry point feeds a model: float32 models get float32 inputs (and
    float64 models float64), and a tuple, an array, a wrong shape or NaN gets an error naming the
    model's output rather than a torch traceback further down."""
    check_model(model)
    dtype, device = model_dtype_device(model)
    x = inputs
    if dtype is not None and x.is_floating_point() and x.dtype != dtype:
        x = x.to(dtype)
    if device is not None and x.device != device:
        x = x.to(device)
    try:
        out = model(x)
    except RuntimeError as exc:
        if "randomness" in str(exc):  # vmap's error for dropout in train mode: model_call_errors
            raise
        lines = [s.strip() for s in str(exc).strip().splitlines() if s.strip()]
        raise ValueError(
            f"model cannot be evaluated on inputs of shape {tuple(x.shape[1:])} per sample (torch says: "
            f"{lines[-1] if lines else type(exc).__name__}); give X the shape and number of features the "
            "model was built for"
        ) from exc
    out = check_model_output(out, inputs.shape[0], num_outputs, allow_nonfinite)
    out = out.to(device=inputs.device)
    return out if out_dtype is None else out.to(out_dtype)


def check_model_output(out: object, m: int, num_outputs: int | None, allow_nonfinite: bool = False) -> Tensor:
    """The checks of :func:`model_outputs` on what a model returned for a batch of m inputs."""
    if not isinstance(out, Tensor):
        kind = type(out).__name__
        hint = (
            " (a tuple: return only the logits, e.g. wrap the model in a lambda taking [0])"
            if isinstance(out, (tuple, list))
            else ""
        )
        raise TypeError(f"model must return a tensor of outputs (batch, c); it returned a {kind}{hint}")
    if out.ndim == 2 and out.shape[0] == m and num_outputs is not None and out.shape[1] != num_outputs:
        raise ValueError(
            f"the model has {out.shape[1]} outputs but the labels have {num_outputs} classes (columns): "
            "the number of classes is the model's number of outputs. Pass Y as label vectors with one "
            "column per output, or integer class indices below the number of outputs"
        )
    if out.ndim != 2 or out.shape[0] != m:
        want = f"({m}, {num_outputs})" if num_outputs is not None else f"({m}, c)"
        raise ValueError(
            f"model must map a batch of {m} inputs to {want} outputs (one column per label column); "
            f"it returned shape {tuple(out.shape)}. Pass Y as (n, c) label vectors, or integer class "
            "indices with num_classes set to the model's number of outputs"
        )
    if not out.is_floating_point():
        raise TypeError(f"model returned {out.dtype} outputs; it must return floating-point logits")
    if not allow_nonfinite and not bool(torch.isfinite(out).all()):
        bad = int((~torch.isfinite(out)).any(-1).sum())
        raise ValueError(
            f"model returned NaN or infinite outputs for {bad} of {m} inputs: the network itself "
            "diverged or overflowed (this is not softmax saturation); check its weights and inputs"
        )
    return out


def as_tensor(
    name: str, value: ArrayLike, dtype: torch.dtype | None = None, device: DeviceLike = None
) -> Tensor:
    """Convert numpy arrays, lists or tensors to a tensor; reject NaN and inf with a clear error."""
    device = check_device(device)
    try:
        t = torch.as_tensor(value, device=device)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"{name} must be an array or a tensor, got {type(value).__name__}") from exc
    if t.is_complex():
        raise TypeError(f"{name} is complex ({t.dtype}); mixup is defined for real inputs")
    if dtype is not None and (t.is_floating_point() or dtype.is_floating_point):
        t = t.to(dtype)
    if t.is_floating_point() and not torch.isfinite(t).all():
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); clean or impute them first")
    return t


class MissingClassWarning(UserWarning):
    """Some class index in ``0 .. c − 1`` never occurs among the labels."""


def check_model(model: object, name: str = "model", *, module: bool = False) -> None:
    """A model must be a ``torch.nn.Module`` or another callable mapping a batch to outputs (a
    module when ``module``: training needs its parameters)."""
    if module and not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"{name} must be a torch.nn.Module (its parameters are trained); got {type(model).__name__} "
            f"{model!r:.60}"
        )
    if not callable(model):
        raise TypeError(
            f"{name} must be a torch.nn.Module or a callable mapping a batch of inputs to (batch, c) "
            f"outputs; got {type(model).__name__} {model!r:.60}"
        )


def module_device(model: object, device: DeviceLike = None, name: str = "model") -> torch.device:
    """The device to train ``model`` on: ``device`` (checked) or where its parameters are; the model
    must be a ``torch.nn.Module`` with parameters."""
    check_model(model, name, module=True)
    dev = check_device(device)
    if dev is not None:
        return dev
    first = next(iter(model.parameters()), None)
    if first is None:
        raise ValueError(f"{name} has no parameters to train")
    return first.device


def check_class_indices(
    name: str,
    y: Tensor,
    num_classes: int | None = None,
    num_outputs: int | None = None,
    *,
    where: str = "",
) -> int:
    """The one rule for integer class labels (README, "What is checked"): returns c, the number of
    classes.

    c is the model's number of outputs when there is a model (``num_outputs``), else ``num_classes``
    when given, else the largest label + 1. A label that is negative or ≥ c is an error naming its
    value and its index; ``num_classes`` that differs from the model's outputs is an error. Without
    a model, a class in ``0 .. c − 1`` that never occurs gets one :class:`MissingClassWarning` (c then
    rests on the labels alone: a label 12 among digits 0..9 would make 13 classes); with a model, a
    batch that lacks some of its classes is normal and passes silently. ``where`` prefixes
    the messages (e.g. the file the labels come from).

    >>> check_class_indices("y", torch.tensor([0, 2, 1]))
    3
    >>> check_class_indices("y", torch.tensor([0, 12, 1]), num_outputs=10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: y[1] = 12 but the model has 10 outputs (classes 0..9): relabel y ...
    """
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError(f"{where}{name} must hold integer class indices, got {y.dtype}")
    if y.numel() == 0:
        raise ValueError(f"{where}{name} is empty: it needs one class index per sample")
    flat = y.reshape(-1)
    if num_classes is not None and (isinstance(num_classes, bool) or int(num_classes) < 1):
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if num_outputs is not None and num_classes is not None and int(num_classes) != int(num_outputs):
        raise ValueError(
            f"{where}num_classes={num_classes} but the model has {num_outputs} outputs: the number of "
            "classes is the model's number of outputs (leave num_classes out, or use a model with that many)"
        )
    if bool((flat < 0).any()):
        i = int((flat < 0).nonzero()[0, 0])
        raise ValueError(f"{where}{name}[{i}] = {int(flat[i])} is negative: class indices run from 0")
    c = int(
        num_outputs if num_outputs is not None else num_classes if num_classes is not None else flat.max() + 1
    )
    if bool((flat >= c).any()):
        i = int((flat >= c).nonzero()[0, 0])
        source = f"the model has {c} outputs" if num_outputs is not None else f"num_classes={c}"
        raise ValueError(
            f"{where}{name}[{i}] = {int(flat[i])} but {source} (classes 0..{c - 1}): relabel {name} to "
            f"0..{c - 1} (e.g. numpy.unique({name}, return_inverse=True)) or use a model with more outputs"
        )
    if num_outputs is not None:
        return c  # the model fixes the classes; a subset of samples need not show every one
    counts = torch.bincount(flat.long().cpu(), minlength=c)
    missing = (counts == 0).nonzero().reshape(-1).tolist()
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (", …" if len(missing) > 10 else "")
        warnings.warn(
            f"{where}{name}: class(es) {shown} of 0..{c - 1} never occur among its {flat.numel()} labels; "
            f"a model built for them gets {c} outputs (relabel {name} to consecutive classes if those "
            "classes do not exist, or pass the number of classes)",
            MissingClassWarning,
            stacklevel=3,
        )
    return c


def model_output_count(model: Model, X: Tensor, name: str = "model") -> int | None:
    """The number of outputs of ``model`` from one call on the first two inputs of ``X`` (no graph,
    in eval mode for a module, which draws no random numbers and updates no running statistics).
    None when that call fails: the computation that follows then reports the model's own error."""
    check_model(model, name)
    try:
        with eval_mode(model), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = model_outputs(model, X[:2], None, allow_nonfinite=True)
    except ValueError as exc:
        if str(exc).startswith("model cannot be evaluated"):
            raise  # X does not fit the model: say so before any work
        return None
    except Exception:  # noqa: BLE001 - any other failure is reported by the real call later
        return None
    return int(out.shape[1])


@contextlib.contextmanager
def eval_mode(model: Model) -> Iterator[None]:
    """Every submodule of a module in eval mode for the block, each put back in its own mode after
    (a frozen batch norm inside a training network stays frozen)."""
    modes = [(m, m.training) for m in model.modules()] if isinstance(model, torch.nn.Module) else []
    try:
        for m, _ in modes:
            m.training = False
        yield
    finally:
        for m, training in modes:
            m.training = training


def labels_for_model(
    model: Model,
    X: Tensor,
    Y: ArrayLike,
    num_classes: int | None,
    dtype: torch.dtype | None,
    device: DeviceLike,
    name: str = "Y",
) -> Tensor:
    """:func:`as_labels` for (model, X, Y) entry points: the number of classes is the model's number
    of outputs (:func:`model_output_count`; X in the model's input shape)."""
    if X.shape[0] == 0:
        raise ValueError("X has no samples (n = 0)")
    return as_labels(
        name, Y, X.shape[0], num_classes, dtype, device, num_outputs=model_output_count(model, X)
    )


def as_labels(
    name: str,
    Y: ArrayLike,
    n: int,
    num_classes: int | None,
    dtype: torch.dtype | None,
    device: DeviceLike,
    *,
    num_outputs: int | None = None,
) -> Tensor:
    """Labels as an (n, c) float tensor: one-hot for integer class indices (c from
    :func:`check_class_indices`: the model's ``num_outputs`` when given), as given otherwise (then c
    must equal ``num_outputs``)."""
    try:
        y = torch.as_tensor(Y, device=device)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(
            f"{name} must be an array of class indices or label vectors, got {type(Y).__name__}"
        ) from exc
    if y.dtype == torch.bool:
        y = y.long()
    if y.ndim == 1 and y.is_floating_point():
        raise TypeError(
            f"{name} is a 1-D {y.dtype} tensor: that is ambiguous. Pass class indices as integers "
            f"({name}.long()), or label vectors as an (n, c) float array ({name}[:, None] for a "
            "one-output loss such as binary logistic)"
        )
    if y.ndim == 1:
        if y.shape[0] != n:
            raise ValueError(f"{name} has {y.shape[0]} labels but X has {n} samples")
        c = check_class_indices(name, y, num_classes, num_outputs)
        return torch.nn.functional.one_hot(y.long(), c).to(dtype)
    y = as_tensor(name, y, dtype=dtype, device=device)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2:
        raise ValueError(f"{name} must be (n, c) label vectors or (n,) class indices, got {tuple(y.shape)}")
    if y.shape[0] != n:
        raise ValueError(f"{name} has {y.shape[0]} rows but X has {n} samples; they must match")
    if num_outputs is not None and y.shape[1] != num_outputs:
        raise ValueError(
            f"{name} has {y.shape[1]} label columns but the model has {num_outputs} outputs: they must match"
        )
    return y


def check_labels_sum_to_one(name: str, Y: Tensor, what: str) -> None:
    """Cross-entropy's pseudo-inverse of H on 1⊥ is exact only when every label sums to 1."""
    sums = Y.sum(-1)
    tol = 1e-6 if Y.dtype == torch.float32 else 1e-10
    worst = float((sums - 1).abs().max()) if sums.numel() else 0.0
    if worst > tol:
        raise ValueError(
            f"{name}: every label must sum to 1 for {what} (the largest deviation is {worst:.3g}); "
            "the softmax Hessian H is singular along 1 and its pseudo-inverse is exact only when "
            "1ᵀΣ_yx = 0. Normalize the rows of Y, or use loss='mse' for unnormalized targets."
        )


class PiecewiseLinearWarning(UserWarning):
    """The model is piecewise linear (ReLU, max-pool): autograd's input Hessian is 0 a.e."""


_PIECEWISE_LINEAR = (
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "Hardtanh", "Threshold", "Hardshrink",
    "Softshrink", "Hardsigmoid", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d",
)  # fmt: skip


def module_type_name(module: torch.nn.Module) -> str:
    """The class name of a module (the original one for TorchScript modules)."""
    return getattr(module, "original_name", None) or type(module).__name__


def piecewise_linear_modules(model: Model) -> list[str]:
    """Names of the piecewise-linear layers in ``model`` (ReLU family, max-pooling): with any of
    them the network's second derivative is 0 almost everywhere within their pieces."""
    if not isinstance(model, torch.nn.Module):
        return []
    return sorted({module_type_name(m) for m in model.modules() if module_type_name(m) in _PIECEWISE_LINEAR})


PIECEWISE_ADVICE = (
    "the second-order theory, which assumes a twice differentiable f, does not apply. Use a smooth "
    "activation (GELU, softplus, tanh) or the estimators' curvature='secant' (second differences "
    "at the scale of the perturbations)"
)


def warn_piecewise_linear(model: Model, curvature_all_zero: bool, stacklevel: int = 3) -> None:
    """One warning when R2 comes out 0 because the model is piecewise linear (named layers, or
    every curvature value exactly 0 for a plain callable)."""

    piecewise = piecewise_linear_modules(model)
    if piecewise:
        warnings.warn(
            f"the model is piecewise linear ({', '.join(piecewise)}): its input Hessian is 0 almost "
            "everywhere, so autograd gives R2 from the smooth layers only (0 for a pure ReLU/max-pool "
            f"network) and {PIECEWISE_ADVICE}.",
            PiecewiseLinearWarning,
            stacklevel=stacklevel,
        )
    elif curvature_all_zero:
        warnings.warn(
            "every input-curvature value is exactly 0: the model behaves as piecewise linear (ReLU-"
            "like operations, perhaps through torch.nn.functional), so autograd's R2 = 0 and "
            f"{PIECEWISE_ADVICE}.",
            PiecewiseLinearWarning,
            stacklevel=stacklevel,
        )


class _ModelCallErrors:
    """Turn torch's vmap randomness error (dropout in train mode inside a wrapped callable) into
    the train-mode message."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc_type is RuntimeError and "randomness" in str(exc):
            raise ValueError(
                "model makes random draws when called (dropout or another layer in train mode, "
                "perhaps inside a wrapped callable): the regularizers need a fixed function of the "
                "input. Call .eval() on the network first."
            ) from exc
        return False


def model_call_errors() -> _ModelCallErrors:
    """Context manager around derivative passes: clear errors for random (train-mode) models."""
    return _ModelCallErrors()


_STOCHASTIC_NAMES = (
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "Dropout", "Dropout1d", "Dropout2d",
    "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
)  # fmt: skip


def check_eval_mode(model: Model) -> None:
    """A model in train mode with batch norm or dropout is not a fixed function of its input (and a
    model must be callable: :func:`check_model`)."""
    check_model(model)
    if not isinstance(model, torch.nn.Module) or not model.training:
        return
    stochastic = (
        torch.nn.modules.batchnorm._BatchNorm,
        torch.nn.modules.dropout._DropoutNd,
        torch.nn.Dropout,
        torch.nn.AlphaDropout,
    )
    # TorchScript modules keep their class name in original_name (isinstance fails on them)
    bad = sorted(
        {
            module_type_name(m)
            for m in model.modules()
            if isinstance(m, stochastic) or module_type_name(m) in _STOCHASTIC_NAMES
        }
    )
    if bad:
        raise ValueError(
            f"model is in train mode and contains {', '.join(bad)}: its output depends on the batch "
            "or on random masks, so the regularizers are not defined. Call model.eval() first."
        )


def check_indices(indices: Indices, n: int, device: DeviceLike = None) -> Tensor:
    """Sample indices as a long tensor: None means all n; a boolean mask of length n selects."""
    if indices is None:
        return torch.arange(n, device=device)
    try:
        idx = torch.as_tensor(indices, device=device).reshape(-1)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"indices must be integers or a boolean mask, got {type(indices).__name__}") from exc
    if idx.numel() == 0:
        raise ValueError("indices is empty: ask for at least one sample")
    if idx.dtype == torch.bool:
        if idx.numel() != n:
            raise ValueError(f"indices is a boolean mask of length {idx.numel()}; a mask needs length n={n}")
        idx = idx.nonzero().reshape(-1)
    elif idx.is_floating_point() or idx.is_complex():
        raise TypeError("indices must be integers or a boolean mask")
    if idx.numel() == 0:
        raise ValueError("indices is empty: ask for at least one sample")
    if idx.numel() and (int(idx.min()) < -n or int(idx.max()) >= n):
        raise IndexError(f"indices must lie in [0, {n}), got range [{int(idx.min())}, {int(idx.max())}]")
    return idx.long() % n


def prepare_flat_inputs(
    model: Model, X: ArrayLike, Y: ArrayLike, loss: str | Loss, num_classes: int | None = None
) -> tuple[Tensor, Tensor, tuple[int, ...], Loss]:
    """Flat float64 inputs (n, d), labels (n, c), the model's per-sample input shape, the Loss
    (the entry points of the expansions around the anchor, :mod:`mixtheory.expansions`)."""
    from .losses import get_loss  # lazy: losses imports this module

    check_eval_mode(model)
    check_model_dtype(model)
    x = as_tensor("X", X, dtype=torch.float64)
    if x.ndim < 2 or x.shape[0] < 2:
        raise ValueError(f"X must be (n, d) or (n, *input_shape) with n >= 2, got shape {tuple(x.shape)}")
    n = x.shape[0]
    input_shape = tuple(x.shape[1:])
    y = labels_for_model(model, x, Y, num_classes, x.dtype, x.device)
    return x.reshape(n, -1), y, input_shape, get_loss(loss)
