r"""Per-sample R1, R2, R3 on trained networks: Hutchinson-type estimators (MATH.md section 4).

For sample i, with ``u = f(x̃_i)``, ``H = ℓ_uu(ỹ_i, u)``, ``w = ℓ_u(ỹ_i, u)`` (``S(u) − ỹ_i`` for
cross-entropy) and ``Σ = Σ^(i)_xx`` (Lemma 2 of Carratino et al., JMLR 2022):

.. math::

    R_1 = \tfrac12 \operatorname{tr}\big(\Sigma (\nabla f - J)^\top H (\nabla f - J)\big),\qquad
    R_2 = \tfrac12 \operatorname{tr}(\Sigma\, \nabla^2 g),\quad g(x) = w^\top f(x)\ (w\ \text{fixed}),

and ``R3 = −½ tr(ℓ_uu⁻¹ ℓ_uy K_i ℓ_yu)`` with ``K_i = Σ_yx Σ_xx⁺ Σ_xy`` needs no derivative of the
network: it is computed exactly. For any random probe ``v`` with ``E[v vᵀ] = Σ`` (Hutchinson 1989)

.. math::

    E[v^\top \nabla^2 g\, v] = \operatorname{tr}(\Sigma \nabla^2 g), \qquad
    E[(\nabla f v - J v)^\top H (\nabla f v - J v)]
        = \operatorname{tr}(\Sigma (\nabla f-J)^\top H (\nabla f-J)).

Probes (``probes=``), all unbiased for both traces; write ``Σ = L Lᵀ`` with the factor
``L = [σ a_i, γ V diag(√s)]`` (d × (1 + r), ``Σ_xx = V diag(s) Vᵀ``) and ``B = Lᵀ M L`` for the
matrix M whose trace against Σ is wanted:

- ``"gaussian"``: ``v = L ξ``, ξ ~ N(0, I): v ~ N(0, Σ). Variance of one probe ``2‖B‖_F²``.
- ``"rademacher"``: ``v = L ξ``, ξ uniform on {±1}^{1+r}. Variance ``2(‖B‖_F² − Σ_j B_jj²)``,
  never larger than Gaussian's (the diagonal of B in the eigenbasis of Σ_xx is free).
- ``"mixup"``: the mixup perturbations δ_i themselves (θ from the folded law, a uniform partner),
  ``E δδᵀ = Σ`` exactly; variance ``E(δᵀMδ)² − tr(ΣM)²`` is set by the data's fourth moments
  (heavier than Gaussian when a few partners dominate). These are the directions training sees.
- ``"exact"``: every column of L (1 + r probes, summed): ``tr(LᵀML) = tr(ΣM)``, zero variance;
  affordable for small n (r ≤ n − 1) and the reference the random probes are tested against.

Standard errors are the sample standard deviation of the per-probe values over √K. The values
are right-skewed quadratic forms, so for small K the studentized error is heavier-tailed than
normal (measured on a softplus MLP: z-score variance 1.3 for Gaussian and 1.65 for mixup probes
on R1 at K = 64, 1.13/1.21 at K = 256, 1.0/1.06 at K = 1024): trust ±2 SE from K ≈ 256 on.

Derivative evaluation (``method=``):

- ``"taylor"``: second-order Taylor-mode (jet) propagation through ``nn.Sequential`` models of
  known layers: ``(x, ẋ, ẍ) ↦ (f, ∇f ẋ, ∇f ẍ + ẋᵀ∇²f ẋ)``; for a linear layer ``A`` the streams are
  ``(Ax + b, Aẋ, Aẍ)``, for an elementwise σ ``(σ, σ'ẋ, σ'ẍ + σ''ẋ²)``. The primal is computed once
  per chunk and shared by every probe, so a probe costs about two forward passes.
- ``"jvp"``: nested forward mode, ``torch.func.jvp`` of ``jvp``, batched over probes with ``vmap``;
  any model torch.func can differentiate twice in forward mode.
- ``"hvp"``: forward-over-reverse Hessian-vector products of ``g`` (gives ∇²g v, not only vᵀ∇²g v).
- ``"double-backward"``: reverse-over-reverse HVPs (the PyHessian/BackPACK way), for comparison
  and for models whose ops lack forward-mode rules.
- ``"hutch++"``: Hutch++ (Meyer, Musco, Musco, Woodruff, SOSA 2021) for R2 in the factor space:
  a third of the products sketch the top range of ``Lᵀ∇²g L`` (whose trace is taken exactly),
  the rest is Hutchinson on the deflated remainder (its standard error is reported). With
  ``r1="probes"`` R1 rests on the num_probes // 3 sketch probes only: prefer ``r1="exact"``.
- ``"auto"`` (default): ``"taylor"`` when every layer has a rule, else ``"hvp"``: the fastest
  accurate choices measured in ``benchmarks/bench_estimators.py`` (CIFAR-shaped GELU CNN on a
  2-core CPU, idle, per probe ÷ one forward: taylor 2.7, hvp 4.4, jvp 4.5, double-backward 5.7).

R1 (``r1=``): ``"exact"`` through the c×d Jacobian (c vector-Jacobian products) and the
structured closed form of :func:`mixtheory.regularizers.regularizers_from_derivatives`; or
``"probes"``, the Hutchinson estimate above from the ∇f·v the R2 pass already computes (free).
``"auto"`` is exact for c ≤ 16.

Piecewise-linear networks (ReLU, max-pool): ``∇²f = 0`` almost everywhere, so autograd gives
``R2 = 0`` and the second-order theory (which needs twice-differentiable f) does not apply; a
:class:`PiecewiseLinearWarning` says so. ``curvature="secant"`` replaces ``vᵀ∇²g v`` by the second
difference ``g(x̃ + h v) − 2 g(x̃) + g(x̃ − h v)`` divided by h², at the scale of the actual
perturbations (h = ``secant_step`` = 1 by default); for smooth g it differs from the Hessian
value by ``O(h²‖v‖⁴)``.

Randomness: a base seed is drawn from ``generator`` once; sample i's probes come from a private
generator seeded by (base seed, i), so results do not depend on batch size, chunking, the order
of ``indices`` or how samples are sharded over processes (:mod:`mixtheory.distributed`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.func import jvp, vjp, vmap

from ._validation import (
    PiecewiseLinearWarning,
    Tensor,
    check_device,
    check_eval_mode,
    check_labels_sum_to_one,
    check_model_dtype,
    model_call_errors,
    model_dtype_device,
    model_outputs,
    piecewise_linear_modules,
    warn_piecewise_linear,
)
from .geometry import MixupGeometry
from .laws import MixingLaw
from .losses import Loss, get_loss
from .regularizers import (
    cancellation,
    label_regularizers,
    regularizers_from_derivatives,
    warn_if_cancelling,
)

__all__ = [
    "PROBES",
    "METHODS",
    "RegularizerEstimates",
    "PiecewiseLinearWarning",
    "TrainModeWarning",
    "estimate_regularizers",
    "estimate_from_geometry",
    "draw_probes",
    "probe_seeds",
    "piecewise_linear_modules",
    "taylor_mode_supported",
    "second_order_jet",
]

PROBES = ("gaussian", "rademacher", "mixup", "exact")
METHODS = ("auto", "taylor", "jvp", "hvp", "double-backward", "hutch++")
CURVATURES = ("autograd", "secant")
R1_MODES = ("auto", "exact", "probes")
# exact R1 costs c reverse passes: worth it while c is small against a typical probe count
R1_EXACT_MAX_CLASSES = 16
_GOLDEN = 0x9E3779B97F4A7C15  # seed mixing constant (2^64 / golden ratio)


class TrainModeWarning(UserWarning):
    """A train-mode model with batch norm or dropout was switched to eval mode."""


# ---------------------------------------------------------------------------------------------
# results
@dataclass
class RegularizerEstimates:
    r"""Per-sample results of :func:`estimate_regularizers`; every tensor has shape (m,).

    ``R13`` is R1 + R3 computed directly (never by adding the two: on a confident network each is
    ~1e8 or more while R13 is O(1)); ``E_Q = erm + R13 + R2 + R4``. ``cancellation`` is
    ``max(|R1|, |R3|) / |R13|`` per sample. ``R13_se``/``R1_se``/``R2_se`` are standard errors
    of the estimates (0 where computed exactly: R13 and R1 with ``r1="exact"``, anything with
    ``probes="exact"``; R1 = R13 − R3 shares R13's error). ``R3`` and ``R4`` are always exact.
    Index like a dict: ``est["R2"]``, ``est["R2_se"]``.
    """

    indices: Tensor
    erm: Tensor
    R1: Tensor
    R2: Tensor
    R3: Tensor
    R4: Tensor
    R1_se: Tensor
    R2_se: Tensor
    R13: Tensor
    R13_se: Tensor
    cancellation: Tensor
    probes: str = "gaussian"
    num_probes: int = 0
    method: str = "taylor"
    r1: str = "exact"
    curvature: str = "autograd"
    info: dict = field(default_factory=dict)

    _KEYS = ("indices", "erm", "R1", "R2", "R3", "R4", "R13", "R1_se", "R2_se", "R13_se", "cancellation")

    def __getitem__(self, key: str) -> Tensor:
        if key not in self._KEYS:
            raise KeyError(f"{key!r}; available: {', '.join(self._KEYS)}")
        return getattr(self, key)

    def keys(self) -> tuple[str, ...]:
        return self._KEYS

    @classmethod
    def concatenate(cls, parts: list[RegularizerEstimates]) -> RegularizerEstimates:
        first = parts[0]
        tensors = {k: torch.cat([p[k] for p in parts]).detach() for k in cls._KEYS}
        return cls(**tensors, probes=first.probes, num_probes=first.num_probes,
                   method=first.method, r1=first.r1, curvature=first.curvature,
                   info=dict(first.info))

    def to_dict(self) -> dict:
        """JSON-ready: per-sample lists plus the settings."""
        out: dict = {k: self[k].tolist() for k in self._KEYS}
        out.update(probes=self.probes, num_probes=self.num_probes, method=self.method,
                   r1=self.r1, curvature=self.curvature)
        return out

    def summary(self, quantiles: tuple[float, ...] = (0.05, 0.5, 0.95)) -> dict[str, dict]:
        """Mean (with the standard error of the mean over samples, probe noise included),
        quantiles and mean per-sample standard error of erm, R1, R2, R3, R13."""
        out = {}
        for key in ("erm", "R1", "R2", "R3", "R13"):
            v = self[key].double()
            m = v.numel()
            sd = float(v.std()) if m > 1 else float("nan")
            entry = {"mean": float(v.mean()), "sem": sd / math.sqrt(m) if m > 1 else float("nan")}
            q = torch.quantile(v, torch.tensor(quantiles, dtype=v.dtype))
            entry.update({f"q{round(100 * p):02d}": float(x) for p, x in zip(quantiles, q)})
            if key in ("R1", "R2", "R13"):
                entry["mean_se"] = float(self[f"{key}_se"].double().mean())
            out[key] = entry
        return out


# ---------------------------------------------------------------------------------------------
# probes
def probe_seeds(generator: torch.Generator | None, indices: Tensor) -> list[int]:
    """One seed per sample from one draw of ``generator``: probes of sample i do not depend on
    which other samples are processed with it."""
    base = int(torch.randint(0, 2**62, (1,), generator=generator))
    return [(base + (int(i) + 1) * _GOLDEN) % 2**63 for i in indices.tolist()]


def _factor_coefficients(kind: str, m_seeds: list[int], k: int, p: int, dtype) -> Tensor:
    rows = []
    for seed in m_seeds:
        gen = torch.Generator().manual_seed(seed)
        if kind == "gaussian":
            rows.append(torch.randn(k, p, generator=gen, dtype=dtype))
        elif kind == "rademacher":
            rows.append(torch.randint(0, 2, (k, p), generator=gen).to(dtype) * 2 - 1)
        else:
            raise ValueError(f"no factor-space coefficients for probes={kind!r}")
    return torch.stack(rows)


def draw_probes(
    geometry: MixupGeometry, kind: str, num_probes: int, indices, seeds: list[int] | None
) -> Tensor:
    r"""Probes v with ``E[v vᵀ] = Σ^(i)_xx`` for each requested sample: (m, k, d).

    ``kind``: ``gaussian``/``rademacher`` (through the factor), ``mixup`` (the perturbations δ_i of
    :meth:`MixupGeometry.sample_perturbations`), ``exact`` (the 1 + r columns of the factor;
    ``num_probes`` and ``seeds`` are ignored). ``seeds``: one per sample (:func:`probe_seeds`).
    """
    idx = geometry.sample_indices(indices)
    p = 1 + geometry.rank
    if kind == "exact":
        eye = torch.eye(p, dtype=geometry.dtype, device=geometry.device)
        return geometry.factor_apply(eye.expand(idx.numel(), p, p), idx)
    if seeds is None or len(seeds) != idx.numel():
        raise ValueError("draw_probes needs one seed per sample")
    if kind == "mixup":
        draws = []
        for i, seed in zip(idx.tolist(), seeds):
            gen = torch.Generator().manual_seed(seed)
            draws.append(geometry.sample_perturbations(num_probes, [i], gen)[0])
        return torch.cat(draws)
    coeffs = _factor_coefficients(kind, seeds, num_probes, p, geometry.dtype)
    return geometry.factor_apply(coeffs.to(geometry.device), idx)


# ---------------------------------------------------------------------------------------------
# model inspection
# ---------------------------------------------------------------------------------------------
# second-order Taylor mode (jets) through nn.Sequential
_ELEMENTWISE = (
    nn.Tanh, nn.Sigmoid, nn.Softplus, nn.GELU, nn.SiLU, nn.ELU, nn.CELU, nn.SELU, nn.Mish,
    nn.LogSigmoid, nn.Tanhshrink, nn.Softsign, nn.ReLU, nn.LeakyReLU, nn.ReLU6, nn.Hardtanh,
    nn.Identity,
)
_LINEAR_NO_BIAS = (
    nn.Flatten, nn.Unflatten, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d, nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.Dropout, nn.Dropout1d, nn.Dropout2d,
    nn.Dropout3d, nn.AlphaDropout, nn.ZeroPad2d, nn.ConstantPad2d,
)
_BATCHNORM = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def taylor_mode_supported(model) -> bool:
    """True when ``model`` is an ``nn.Sequential`` (nested allowed) of layers with a jet rule:
    Linear, Conv1d/2d/3d, average pooling, Flatten, eval-mode dropout and batch norm, and
    elementwise activations (tanh, sigmoid, softplus, GELU, SiLU, ELU, ReLU, ...)."""
    if isinstance(model, nn.Sequential):
        return all(taylor_mode_supported(m) for m in model)
    if isinstance(model, nn.ConstantPad2d) and model.value != 0:
        return False
    if isinstance(model, _BATCHNORM):
        return not model.training and model.track_running_stats and model.running_mean is not None
    if isinstance(model, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)):
        return not model.training
    return isinstance(model, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)) or isinstance(
        model, _ELEMENTWISE + _LINEAR_NO_BIAS
    )


def _map_streams(fn: Callable[[Tensor], Tensor], t: Tensor | None) -> Tensor | None:
    """Apply a batch-wise linear map to a tangent stream of shape (k, B, ...)."""
    if t is None:
        return None
    out = fn(t.reshape(t.shape[0] * t.shape[1], *t.shape[2:]))
    return out.reshape(t.shape[0], t.shape[1], *out.shape[1:])


def _elementwise_derivatives(module: nn.Module, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """σ(x), σ'(x), σ''(x) of an elementwise module: closed forms for the common activations,
    nested forward mode on the primal otherwise (primal-sized work either way)."""
    if isinstance(module, nn.Tanh):
        t = torch.tanh(x)
        d1 = 1 - t * t
        return t, d1, -2 * t * d1
    if isinstance(module, nn.Sigmoid):
        s = torch.sigmoid(x)
        d1 = s * (1 - s)
        return s, d1, d1 * (1 - 2 * s)
    if isinstance(module, nn.GELU) and module.approximate == "none":
        pdf = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
        return x * cdf, cdf + x * pdf, pdf * (2 - x * x)
    if isinstance(module, nn.Softplus):
        bx = module.beta * x
        s = torch.sigmoid(bx)
        linear = bx > module.threshold  # torch's softplus is the identity there
        d1 = torch.where(linear, torch.ones_like(s), s)
        d2 = torch.where(linear, torch.zeros_like(s), module.beta * s * (1 - s))
        return module(x), d1, d2
    if isinstance(module, nn.SiLU):
        s = torch.sigmoid(x)
        return x * s, s * (1 + x * (1 - s)), s * (1 - s) * (2 + x * (1 - 2 * s))
    ones = torch.ones_like(x)

    def first(z: Tensor) -> Tensor:
        return jvp(module, (z,), (ones,))[1]

    (y, d1), (_, d2) = jvp(lambda z: (module(z), first(z)), (x,), (ones,))
    return y, d1, d2


def second_order_jet(
    model: nn.Module, x: Tensor, tangent: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Second-order Taylor mode: ``(f(x), ∇f(x) v, vᵀ∇²f(x) v)`` for k directions at once.

    Args:
        model: a module accepted by :func:`taylor_mode_supported`.
        x: inputs (B, *in_shape), shared by all directions (computed once).
        tangent: directions (k, B, *in_shape).

    Returns ``f(x)`` (B, c), ``∇f v`` (k, B, c) and ``vᵀ∇²f v`` (k, B, c). Each layer maps the jet
    ``(x, ẋ, ẍ)``: affine ``A`` to ``(A x, A₀ ẋ, A₀ ẍ)`` (A₀ without bias), elementwise σ to
    ``(σ(x), σ'(x) ẋ, σ'(x) ẍ + σ''(x) ẋ²)``; ẍ starts at 0 and is the second derivative.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    >>> net = net.double()
    >>> x, v = torch.randn(5, 3, dtype=torch.float64), torch.randn(1, 5, 3, dtype=torch.float64)
    >>> _, _, curv = second_order_jet(net, x, v)
    >>> H = torch.func.hessian(lambda z: net(z[None])[0])(x[0])    # (2, 3, 3)
    >>> bool(torch.allclose(curv[0, 0], torch.einsum("i,kij,j->k", v[0, 0], H, v[0, 0])))
    True
    """
    return _jet(model, x, tangent, None)


def _jet(module: nn.Module, x: Tensor, t1: Tensor, t2: Tensor | None):
    if isinstance(module, nn.Sequential):
        for layer in module:
            x, t1, t2 = _jet(layer, x, t1, t2)
        return x, t1, t2
    if isinstance(module, nn.Linear):
        def lin(z: Tensor) -> Tensor:
            return nn.functional.linear(z, module.weight)
        return module(x), _map_streams(lin, t1), _map_streams(lin, t2)
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        def conv(z: Tensor) -> Tensor:
            return module._conv_forward(z, module.weight, None)
        return module(x), _map_streams(conv, t1), _map_streams(conv, t2)
    if isinstance(module, _BATCHNORM):
        scale = torch.rsqrt(module.running_var + module.eps)
        if module.weight is not None:
            scale = scale * module.weight
        shape = (1, 1, -1) + (1,) * (x.ndim - 2)
        scale = scale.reshape(shape)
        return module(x), t1 * scale, None if t2 is None else t2 * scale
    if isinstance(module, _LINEAR_NO_BIAS):
        return module(x), _map_streams(module, t1), _map_streams(module, t2)
    if isinstance(module, _ELEMENTWISE):
        y, d1, d2 = _elementwise_derivatives(module, x)
        second = d2 * t1 * t1
        return y, d1 * t1, second if t2 is None else d1 * t2 + second
    raise TypeError(f"no Taylor-mode rule for {type(module).__name__}; use method='jvp'")


# ---------------------------------------------------------------------------------------------
# per-chunk derivative passes: all return (jv, curvature), shapes (m, k, c) and (m, k)
class _Evaluator:
    """Evaluates ``∇f v`` and ``vᵀ∇²g v`` for probes V (m, k, d) at x̃ (m, d), g = wᵀf."""

    def __init__(self, model, geometry: MixupGeometry, method: str, curvature: str,
                 secant_step: float, model_dtype: torch.dtype, probe_chunk: int,
                 need_jv: bool):
        self.model, self.geometry = model, geometry
        self.method, self.curvature = method, curvature
        self.secant_step = float(secant_step)
        self.dtype = model_dtype
        self.probe_chunk = max(1, int(probe_chunk))
        self.need_jv = need_jv

    def forward(self, x_flat: Tensor) -> Tensor:
        return self.model(self.geometry.as_inputs(x_flat))

    def __call__(self, xt: Tensor, w: Tensor, V: Tensor) -> tuple[Tensor | None, Tensor]:
        xt, w, V = xt.to(self.dtype), w.to(self.dtype), V.to(self.dtype)
        jvs, curvs = [], []
        for start in range(0, V.shape[1], self.probe_chunk):
            Vk = V[:, start : start + self.probe_chunk].transpose(0, 1).contiguous()  # (k, m, d)
            jv, curv = self._probe_chunk(xt, w, Vk)
            jvs.append(None if jv is None else jv.transpose(0, 1))
            curvs.append(curv.transpose(0, 1))
        jv = None if jvs[0] is None else torch.cat(jvs, 1)
        return jv, torch.cat(curvs, 1)

    def _probe_chunk(self, xt: Tensor, w: Tensor, Vk: Tensor) -> tuple[Tensor | None, Tensor]:
        if self.curvature == "secant":
            return self._secant(xt, w, Vk)
        if self.method == "taylor":
            shape = self.geometry.input_shape
            _, jv, vhv = second_order_jet(
                self.model, self.geometry.as_inputs(xt), Vk.reshape(*Vk.shape[:2], *shape)
            )
            return jv, (vhv * w).sum(-1)
        if self.method == "jvp":
            return self._jvp_jvp(xt, w, Vk)
        if self.method in ("hvp", "hutch++"):
            jv, hv = self.hvp(xt, w, Vk)
            return jv, (hv * Vk).sum(-1)
        if self.method == "double-backward":
            return self._double_backward(xt, w, Vk)
        raise ValueError(f"unknown method {self.method!r}")

    def _jvp_jvp(self, xt: Tensor, w: Tensor, Vk: Tensor) -> tuple[Tensor, Tensor]:
        F = self.forward

        def directional(v: Tensor) -> tuple[Tensor, Tensor]:
            def first(x: Tensor) -> Tensor:
                return jvp(F, (x,), (v,))[1]

            jv, vhv = jvp(first, (xt,), (v,))
            return jv, (vhv * w).sum(-1)

        return vmap(directional)(Vk)

    def hvp(self, xt: Tensor, w: Tensor, Vk: Tensor) -> tuple[Tensor, Tensor]:
        """Forward-over-reverse: (∇f v, ∇²g v) for directions Vk (k, m, d)."""
        F = self.forward

        def g_and_out(x: Tensor) -> tuple[Tensor, Tensor]:
            out = F(x)
            return (out * w).sum(), out

        grad_g = torch.func.grad(g_and_out, has_aux=True)

        def product(v: Tensor) -> tuple[Tensor, Tensor]:
            _, (hv, jv) = jvp(grad_g, (xt,), (v,))
            return jv, hv

        return vmap(product)(Vk)

    def _double_backward(self, xt: Tensor, w: Tensor, Vk: Tensor) -> tuple[Tensor | None, Tensor]:
        with torch.enable_grad():
            x = xt.detach().requires_grad_(True)
            out = self.forward(x)
            (grad_g,) = torch.autograd.grad((out * w).sum(), x, create_graph=True)
            dummy = torch.zeros_like(out, requires_grad=True) if self.need_jv else None
            if dummy is not None:
                (vjp_dummy,) = torch.autograd.grad(out, x, dummy, create_graph=True)
            jvs, curvs = [], []
            for v in Vk:  # one reverse-over-reverse product per probe, as PyHessian does
                (hv,) = torch.autograd.grad(grad_g, x, v, retain_graph=True)
                curvs.append((hv * v).sum(-1))
                if dummy is not None:
                    # ∇f v as the derivative of (∇fᵀ u)·v with respect to u (the double-vjp trick)
                    (jv,) = torch.autograd.grad(vjp_dummy, dummy, v, retain_graph=True)
                    jvs.append(jv)
        return (torch.stack(jvs) if jvs else None), torch.stack(curvs)

    def _secant(self, xt: Tensor, w: Tensor, Vk: Tensor) -> tuple[Tensor | None, Tensor]:
        k, m, d = Vk.shape
        h = self.secant_step
        with torch.no_grad():
            g0 = (self.forward(xt) * w).sum(-1)
            shifted = torch.cat([xt + h * Vk, xt - h * Vk]).reshape(2 * k * m, d)
            gs = (self.forward(shifted).reshape(2, k, m, -1) * w).sum(-1)
            curv = (gs[0] + gs[1] - 2 * g0) / (h * h)
        jv = None
        if self.need_jv:
            jv = vmap(lambda v: jvp(self.forward, (xt,), (v,))[1])(Vk)
        return jv, curv


# ---------------------------------------------------------------------------------------------
def _jacobian(forward: Callable[[Tensor], Tensor], xt: Tensor, c: int) -> Tensor:
    """Input Jacobians (m, c, d) of a batch through c vector-Jacobian products."""
    _, pullback = vjp(forward, xt)
    eye = torch.eye(c, dtype=xt.dtype, device=xt.device)
    cotangents = eye[:, None, :].expand(c, xt.shape[0], c)
    return vmap(pullback)(cotangents)[0].permute(1, 0, 2)


def _mean_and_se(values: Tensor, exact: bool) -> tuple[Tensor, Tensor]:
    """Hutchinson average of per-probe values (m, k); the sum for exact (factor-column) probes."""
    if exact:
        return values.sum(1), torch.zeros_like(values[:, 0])
    k = values.shape[1]
    se = values.std(1) / math.sqrt(k) if k > 1 else torch.full_like(values[:, 0], float("nan"))
    return values.mean(1), se


def _r13_from_probes(geometry: MixupGeometry, loss: Loss, idx: Tensor, u: Tensor, V: Tensor,
                     jv: Tensor) -> Tensor:
    r"""Per-probe values of R13 = R1 + R3, (m, k): ``½ (∇f v)ᵀ ℓ_uu (∇f v) + (∇f v)ᵀ ℓ_uy p`` with
    ``p = Σ_yx Σ_xx⁺ v``. Since ``E[v pᵀ] = Σ_xx Σ_xx⁺ Σ_xy = Σ_xy`` their mean is
    ``½⟨Σ_xx, ∇fᵀℓ_uu∇f⟩ + ⟨Σ_yx, ℓ_yu∇f⟩`` = R13; no ℓ_uu⁻¹ enters, so nothing cancels however
    saturated the softmax is (R1 = R13 − R3 with the exact R3)."""
    y = geometry.y_tilde[idx]
    P = geometry.pinv_sigma_xy(idx)  # Σ_xx⁺ Σ_xy, (m, d, c)
    proj = torch.einsum("mkd,mdc->mck", V, P)  # p = Σ_yx Σ_xx⁺ v, (m, c, k)
    quad = torch.einsum("mkc,mcl,mkl->mk", jv, loss.hess_uu(y, u), jv)
    cross = torch.einsum("mkc,mcl,mlk->mk", jv, loss.hess_uy(y, u), proj)
    return 0.5 * quad + cross


# ---------------------------------------------------------------------------------------------
def _hutch_plus_plus(ev: _Evaluator, geometry: MixupGeometry, idx: Tensor, xt: Tensor, w: Tensor,
                     kind: str, num_products: int, seeds: list[int]) -> tuple:
    r"""Hutch++ for ``tr(Lᵀ ∇²g L)`` per sample. Returns (trace, se, S probes, ∇f·S, whether
    the S probes are the exact factor columns, used when the sketch would cover the space).

    With k = num_products // 3: sketch ``Y = A S`` (S: k factor-space probes), ``Q = orth(Y)``,
    ``tr(A) ≈ tr(QᵀAQ) + (1/k') Σ_j gⱼᵀ(I − QQᵀ)A(I − QQᵀ)gⱼ`` with k' = num_products − 2k further
    probes; the first term is exact given Q, the second is Hutchinson (its SE is reported)."""
    p = 1 + geometry.rank
    k = max(1, num_products // 3)
    if k >= p:
        # the sketch would span the whole factor space: the exact trace costs p ≤ k products
        eye = torch.eye(p, dtype=geometry.dtype, device=geometry.device).expand(len(seeds), p, p)
        L = geometry.factor_apply(eye, idx)
        jv, curv = ev(xt, w, L)
        trace = curv.to(geometry.dtype).sum(1)
        return trace, torch.zeros_like(trace), L, jv, True
    k_rest = max(1, num_products - 2 * k)
    coeffs = _factor_coefficients(kind, seeds, k + k_rest, p, geometry.dtype).to(geometry.device)
    S, G = coeffs[:, :k], coeffs[:, k:]
    LS = geometry.factor_apply(S, idx)
    jv_s, hv = _chunked_hvp(ev, xt, w, LS)
    Y = geometry.factor_transpose_apply(hv.to(geometry.dtype), idx)  # (m, k, p) = (A S)ᵀ
    Q, _ = torch.linalg.qr(Y.transpose(1, 2))  # (m, p, k)
    Qt = Q.transpose(1, 2)
    _, top = ev(xt, w, geometry.factor_apply(Qt, idx))
    G = G - (G @ Q) @ Qt  # deflate: (I − QQᵀ) g
    _, rest = ev(xt, w, geometry.factor_apply(G, idx))
    rest = rest.to(geometry.dtype)
    trace = top.to(geometry.dtype).sum(1) + rest.mean(1)
    se = rest.std(1) / math.sqrt(rest.shape[1]) if rest.shape[1] > 1 else torch.full_like(trace, math.nan)
    return trace, se, LS, jv_s, False


def _chunked_hvp(ev: _Evaluator, xt: Tensor, w: Tensor, V: Tensor) -> tuple[Tensor, Tensor]:
    xt_, w_, V_ = xt.to(ev.dtype), w.to(ev.dtype), V.to(ev.dtype)
    jvs, hvs = [], []
    for start in range(0, V_.shape[1], ev.probe_chunk):
        Vk = V_[:, start : start + ev.probe_chunk].transpose(0, 1).contiguous()
        jv, hv = ev.hvp(xt_, w_, Vk)
        jvs.append(jv.transpose(0, 1))
        hvs.append(hv.transpose(0, 1))
    return torch.cat(jvs, 1), torch.cat(hvs, 1)


# ---------------------------------------------------------------------------------------------
def estimate_regularizers(
    model: Callable[[Tensor], Tensor],
    X,
    Y,
    law: MixingLaw,
    indices=None,
    loss: str | Loss = "ce",
    probes: str = "gaussian",
    num_probes: int = 16,
    batch_size: int = 512,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
    *,
    method: str = "auto",
    r1: str = "auto",
    curvature: str = "autograd",
    secant_step: float = 1.0,
    geometry_dtype: torch.dtype = torch.float64,
    num_classes: int | None = None,
    train_mode: str = "error",
    progress: bool | None = None,
) -> RegularizerEstimates:
    r"""Per-sample ``erm``, ``R1``, ``R2``, ``R3`` (``R4``) of Theorem 3 on a network, with standard
    errors for the estimated ones (module docstring: probes, methods, variances).

    Args:
        model: a module (or callable) mapping a batch ``(B, *input_shape)`` to logits ``(B, c)``;
            samples must not interact (eval mode).
        X: inputs ``(n, d)`` or ``(n, *input_shape)``; Y: labels ``(n, c)`` or class indices
            ``(n,)``; law: the law of λ. The geometry uses all n samples.
        indices: the samples to evaluate (default all).
        loss: ``"ce"`` (default), ``"mse"``, ``"logistic"`` or a :class:`~mixtheory.losses.Loss`.
        probes: ``"gaussian"``, ``"rademacher"``, ``"mixup"`` or ``"exact"``.
        num_probes: probes per sample (products per sample for Hutch++; ignored for exact).
        batch_size: model inputs (samples × probes) per derivative pass; bounds memory.
        device: where the geometry and the passes run (default: the model's device).
        generator: a ``torch.Generator`` (CPU) making the run deterministic.
        method: ``"auto"``, ``"taylor"``, ``"jvp"``, ``"hvp"``, ``"double-backward"``, ``"hutch++"``.
        r1: ``"auto"``, ``"exact"`` (c VJPs) or ``"probes"``.
        curvature: ``"autograd"`` or ``"secant"`` (second differences at step ``secant_step``·v).
        geometry_dtype: dtype of the geometry and of all reductions (float64 by default); the
            network runs in its own parameter dtype.
        train_mode: ``"error"`` (default) or ``"eval"``: switch a train-mode model with batch
            norm/dropout to eval for the computation, with a :class:`TrainModeWarning`.
        progress: tqdm progress bar over samples (default: shown on a terminal for long runs).

    Returns a :class:`RegularizerEstimates`.

    >>> import torch
    >>> from mixtheory import SymmetricBeta, taylor_regularizers, MixupGeometry
    >>> g = torch.Generator().manual_seed(0)
    >>> X = torch.randn(12, 3, generator=g, dtype=torch.float64)
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    >>> net = net.double()
    >>> est = estimate_regularizers(net, X, torch.arange(12) % 2, SymmetricBeta(1.0),
    ...                             probes="exact")
    >>> ref = taylor_regularizers(net, MixupGeometry(X, torch.arange(12) % 2, SymmetricBeta(1.0)))
    >>> bool(torch.allclose(est["R2"], ref["R2"], rtol=1e-10, atol=1e-14))
    True
    """
    device = check_device(device)
    check_model_dtype(model)
    model_dtype, model_device = model_dtype_device(model)
    if device is None:
        device = model_device if model_device is not None else torch.device("cpu")
    geometry = MixupGeometry(X, Y, law, num_classes=num_classes, dtype=geometry_dtype, device=device)
    return estimate_from_geometry(
        model, geometry, indices=indices, loss=loss, probes=probes, num_probes=num_probes,
        batch_size=batch_size, generator=generator, method=method, r1=r1, curvature=curvature,
        secant_step=secant_step, train_mode=train_mode, progress=progress,
    )


def estimate_from_geometry(
    model: Callable[[Tensor], Tensor],
    geometry: MixupGeometry,
    indices=None,
    loss: str | Loss = "ce",
    probes: str = "gaussian",
    num_probes: int = 16,
    batch_size: int = 512,
    generator: torch.Generator | None = None,
    *,
    method: str = "auto",
    r1: str = "auto",
    curvature: str = "autograd",
    secant_step: float = 1.0,
    train_mode: str = "error",
    progress: bool | None = None,
    seeds: list[int] | None = None,
) -> RegularizerEstimates:
    """:func:`estimate_regularizers` on a prebuilt :class:`~mixtheory.geometry.MixupGeometry`.

    ``seeds`` (one per requested sample) overrides the seeds drawn from ``generator``; the
    distributed driver uses it to reproduce the single-process draws on every shard.
    """
    loss = get_loss(loss)
    if probes not in PROBES:
        raise ValueError(f"probes must be one of {', '.join(PROBES)}; got {probes!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if curvature not in CURVATURES:
        raise ValueError(f"curvature must be one of {', '.join(CURVATURES)}; got {curvature!r}")
    if r1 not in R1_MODES:
        raise ValueError(f"r1 must be one of {', '.join(R1_MODES)}; got {r1!r}")
    if train_mode not in ("error", "eval"):
        raise ValueError(f"train_mode must be 'error' or 'eval'; got {train_mode!r}")
    if probes != "exact" and (int(num_probes) < 1 or int(num_probes) != num_probes):
        raise ValueError(f"num_probes must be a positive integer, got {num_probes!r}")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if curvature == "secant" and not (math.isfinite(secant_step) and secant_step > 0):
        raise ValueError(f"secant_step must be a finite number > 0, got {secant_step!r}")
    if method == "hutch++":
        if probes not in ("gaussian", "rademacher"):
            raise ValueError("method='hutch++' draws probes in the factor space: use "
                             "probes='gaussian' or 'rademacher'")
        if num_probes < 6:
            raise ValueError("method='hutch++' needs num_probes >= 6 (a third sketch, a third top, "
                             "and at least two remainder probes for a standard error)")
        if curvature == "secant":
            raise ValueError("method='hutch++' needs Hessian-vector products: not with secant")
    if loss.requires_normalized_labels:
        check_labels_sum_to_one("Y", geometry.Y, f"the {loss.name} regularizers")

    was_training = isinstance(model, nn.Module) and model.training
    if train_mode == "error":
        check_eval_mode(model)
    elif was_training:
        try:
            check_eval_mode(model)
        except ValueError as exc:
            warnings.warn(f"{exc} Switched to eval mode for this computation "
                          "(silence with warnings.filterwarnings('ignore', "
                          "category=mixtheory.estimators.TrainModeWarning)).",
                          TrainModeWarning, stacklevel=3)
            model.eval()
        else:
            was_training = False
    try:
        return _estimate(model, geometry, indices, loss, probes, int(num_probes),
                         int(batch_size), generator, method, r1, curvature, secant_step,
                         progress, seeds)
    finally:
        if was_training:
            model.train()


def _estimate(model, geometry: MixupGeometry, indices, loss: Loss, probes: str, num_probes: int,
              batch_size: int, generator, method: str, r1: str, curvature: str,
              secant_step: float, progress: bool | None, seeds) -> RegularizerEstimates:
    from tqdm.auto import tqdm

    idx = geometry.sample_indices(indices)
    model_dtype, _ = model_dtype_device(model)
    model_dtype = model_dtype or geometry.dtype
    if method == "auto":
        method = "taylor" if taylor_mode_supported(model) else "hvp"
    if method == "taylor" and not taylor_mode_supported(model):
        raise ValueError("method='taylor' needs an nn.Sequential of layers with a jet rule "
                         "(see taylor_mode_supported); use method='jvp'")
    if r1 == "auto":
        r1 = "exact" if geometry.c <= R1_EXACT_MAX_CLASSES else "probes"

    exact = probes == "exact"
    k_eff = 1 + geometry.rank if exact else num_probes
    probe_chunk = min(k_eff, batch_size)
    samples_per_chunk = max(1, batch_size // probe_chunk)
    if seeds is None:
        seeds = probe_seeds(generator, idx) if not exact else [0] * idx.numel()
    elif len(seeds) != idx.numel():
        raise ValueError(f"seeds must give one seed per sample ({idx.numel()}), got {len(seeds)}")
    ev = _Evaluator(model, geometry, method, curvature, secant_step, model_dtype, probe_chunk,
                    need_jv=r1 == "probes")

    parts = []
    all_curvature_zero = True
    bar = tqdm(total=idx.numel(), unit="sample", desc="mixup regularizers",
               disable=(not progress) if progress is not None else
               (None if idx.numel() > samples_per_chunk else True))
    for start in range(0, idx.numel(), samples_per_chunk):
        chunk = idx[start : start + samples_per_chunk]
        chunk_seeds = seeds[start : start + samples_per_chunk]
        xt = geometry.x_tilde[chunk]
        # parameters need no graph (torch.func transforms ignore no_grad for the inputs)
        with torch.no_grad(), model_call_errors():
            parts.append(_estimate_chunk(ev, geometry, loss, chunk, chunk_seeds, xt, probes,
                                         num_probes, method, r1, curvature, exact, k_eff))
        all_curvature_zero &= parts[-1].info.pop("curvature_zero")
        bar.update(chunk.numel())
    bar.close()

    if curvature == "autograd":
        warn_piecewise_linear(model, all_curvature_zero, stacklevel=4)
    result = RegularizerEstimates.concatenate(parts)
    warn_if_cancelling(result.cancellation, geometry.dtype, stacklevel=4)
    return result


def _estimate_chunk(ev: _Evaluator, geometry: MixupGeometry, loss: Loss, chunk: Tensor,
                    chunk_seeds: list[int], xt: Tensor, probes: str, num_probes: int,
                    method: str, r1: str, curvature: str, exact: bool,
                    k_eff: int) -> RegularizerEstimates:
    u = model_outputs(ev.model, geometry.as_inputs(xt.to(ev.dtype)), geometry.c,
                      out_dtype=geometry.dtype)
    w = loss.grad_u(geometry.y_tilde[chunk], u)

    columns = exact
    if method == "hutch++":
        trace, trace_se, V, jv, columns = _hutch_plus_plus(ev, geometry, chunk, xt, w, probes,
                                                           num_probes, chunk_seeds)
        R2, R2_se = 0.5 * trace, 0.5 * trace_se
        curv = trace[:, None]
    else:
        V = draw_probes(geometry, probes, num_probes, chunk, chunk_seeds)
        jv, curv = ev(xt, w, V)
        curv = curv.to(geometry.dtype)
        R2, R2_se = _mean_and_se(0.5 * curv, exact)

    if r1 == "exact":
        jac = _jacobian(ev.forward, xt.to(ev.dtype), geometry.c).to(geometry.dtype)
        regs = regularizers_from_derivatives(geometry, u, jac, loss, indices=chunk, r2=R2, warn=False)
        R13, R13_se = regs["R13"], torch.zeros_like(R2)
    else:
        regs = label_regularizers(geometry, u, loss, indices=chunk)
        q13 = _r13_from_probes(geometry, loss, chunk, u, V, jv.to(geometry.dtype))
        R13, R13_se = _mean_and_se(q13, columns)
    R1 = R13 - regs["R3"]
    return RegularizerEstimates(
        indices=chunk, erm=regs["erm"], R1=R1, R2=R2, R3=regs["R3"], R4=regs["R4"],
        R1_se=R13_se, R2_se=R2_se, R13=R13, R13_se=R13_se,
        cancellation=cancellation(R1, regs["R3"], R13), probes=probes, num_probes=k_eff, method=method, r1=r1,
        curvature=curvature, info={"curvature_zero": bool((curv == 0).all())})
