r"""Derivative passes: ``∇f v`` and ``vᵀ∇²g v`` for batches of probes, ``g(x) = wᵀ f(x)`` (w fixed).

R2 of Theorem 3 (Carratino et al., JMLR 2022) is ``½ tr(Σ ∇²g)`` with ``w = ℓ_u(ỹ_i, f(x̃_i))``; its
Hutchinson estimate needs ``vᵀ∇²g v`` per probe, and the probe estimate of R1 needs ``∇f v``. The
ways to evaluate them (``method=``):

- ``"taylor"``: second-order Taylor mode (:mod:`.jets`, Griewank & Walther 2008) through
  ``nn.Sequential`` stacks of known layers and ``torch.fx``-traceable networks; the primal is shared
  by every probe, so a probe costs about two forward passes.
- ``"taylor-collapsed"``: collapsed Taylor mode (F. Dangel, T. Siebert, M. Zeinhofer, A. Walther,
  "Collapsing Taylor mode automatic differentiation", 2025): the second-order stream is linear in
  the direction-wise terms ``v_kᵀ∇²g v_k``, so only their sums within g groups are propagated
  (``second_order_jet(..., groups=g)``); the first-order stream ``∇f v`` stays per probe.
- ``"jvp"``: nested forward mode (:func:`mixtheory.derivatives.directional_derivatives`), batched
  over probes with ``vmap``; any model torch.func can differentiate twice in forward mode.
- ``"hvp"``: forward-over-reverse Hessian-vector products of ``g`` (gives ∇²g v, not only vᵀ∇²g v).
- ``"double-backward"``: reverse-over-reverse HVPs (the PyHessian/BackPACK way), for comparison
  and for models whose ops lack forward-mode rules.
- ``"hutch++"``: the HVPs of ``"hvp"``, arranged by :mod:`.meyer2021_hutchpp`.

``curvature="secant"`` replaces ``vᵀ∇²g v`` by the second difference
``(g(x̃ + h v) − 2 g(x̃) + g(x̃ − h v)) / h²`` at the scale of the actual perturbations; for smooth g
it differs from the Hessian value by ``O(h²‖v‖⁴)``, and it stays meaningful on piecewise-linear
networks, where autograd gives ``∇²f = 0`` almost everywhere.

The default is collapsed Taylor mode with R13 from the first-order stream. Costs are measured,
not typed here: ``benchmarks/bench_estimators.py`` times every method against competent
double-backward loops at equal probes (refusing runs above load 1.5) and the README's speed section
is generated from its stored results. On a CPU the pass size matters as much as the method: fresh
buffers above a few MB are page-faulted on every allocation, so passes are sized to a ~4 MB largest
activation (:func:`mixtheory._memory.auto_pass_inputs`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import jvp, vjp, vmap

from .._types import Tensor
from ..derivatives import directional_derivatives
from ..geometry import MixupGeometry
from .jets import second_order_jet
from .options import EstimatorOptions

__all__ = ["input_jacobian"]

ProbePass = Callable[[Tensor, Tensor, Tensor], tuple[Tensor | None, Tensor]]


class _DerivativeEvaluator:
    r"""Evaluates ``∇f v`` and ``vᵀ∇²g v`` (``g = wᵀf``) for probes V (m, k, d) at x̃ (m, d).

    The network runs in ``model_dtype``; the k probes are processed ``probe_chunk`` at a time.
    ``need_jv``: whether ``∇f v`` is wanted where it costs extra (double-backward, secant).
    """

    def __init__(
        self,
        model: Callable[[Tensor], Tensor],
        geometry: MixupGeometry,
        options: EstimatorOptions,
        model_dtype: torch.dtype,
        probe_chunk: int,
        need_jv: bool,
        pass_samples: int | None = None,
    ) -> None:
        self.model, self.geometry = model, geometry
        self.method, self.curvature = options.method, options.curvature
        self.secant_step = float(options.secant_step)
        self.dtype = model_dtype
        self.device = _model_device(model, geometry.device)
        self.probe_chunk = max(1, int(probe_chunk))
        self.need_jv = need_jv
        self.pass_samples = None if pass_samples is None else max(1, int(pass_samples))

    def forward(self, x_flat: Tensor) -> Tensor:
        """The network on flat inputs (B, d): logits (B, c)."""
        return self.model(self.geometry.as_inputs(x_flat))

    def __call__(
        self, xt: Tensor, w: Tensor, V: Tensor, groups: int | None = None
    ) -> tuple[Tensor | None, Tensor]:
        """``(∇f v, vᵀ∇²g v)`` for probes V (m, k, d): shapes (m, k, c) (None when not computed)
        and (m, k), in the network's dtype; with ``groups=g`` (dividing k) the curvature values are
        summed within g groups of k/g consecutive probes, (m, g) — propagated already summed by
        ``method="taylor-collapsed"``, summed afterwards by the other methods."""
        k = V.shape[1]
        groups = k if groups is None else int(groups)
        if groups < 1 or k % groups:
            raise ValueError(f"groups must divide the number of probes {k}, got {groups}")
        step = self.pass_samples
        if step is not None and xt.shape[0] > step:
            # passes of a few samples (memory, allocator reuse); the callers' chunks stay large
            parts = [
                self(xt[i : i + step], w[i : i + step], V[i : i + step], groups)
                for i in range(0, len(xt), step)
            ]
            jvs = [p[0] for p in parts]
            jv = None if jvs[0] is None else torch.cat(jvs)
            return jv, torch.cat([p[1] for p in parts])
        size = k // groups
        if self.method == "taylor-collapsed" and size > 1:
            # chunks hold whole groups, so every group is summed inside one jet
            chunk = max(size, self.probe_chunk // size * size)

            def collapsed(xt: Tensor, w: Tensor, Vk: Tensor) -> tuple[Tensor, Tensor]:
                return self._taylor(xt, w, Vk, Vk.shape[0] // size)

            return self._over_probe_chunks(collapsed, xt, w, V, chunk)
        jv, values = self._over_probe_chunks(self._probe_chunk, xt, w, V, self.probe_chunk)
        if size > 1:
            values = values.reshape(values.shape[0], groups, size).sum(-1)
        return jv, values

    def taylor_outputs(self, xt: Tensor, V: Tensor, groups: int | None) -> tuple[Tensor, Tensor, Tensor]:
        """Taylor mode with the network's outputs kept: ``f(x̃)`` (m, c), ``∇f v`` (m, k, c) and
        ``vᵀ∇²f v`` per output (m, k or g, c), in the passes of :meth:`__call__`; the primal of
        the jet is the forward pass, so the outputs cost nothing extra."""
        step = self.pass_samples or xt.shape[0]
        parts = [
            self._taylor_outputs_pass(xt[i : i + step], V[i : i + step], groups)
            for i in range(0, len(xt), step)
        ]
        return tuple(torch.cat(p) for p in zip(*parts))  # type: ignore[return-value]

    def _taylor_outputs_pass(
        self, xt: Tensor, V: Tensor, groups: int | None
    ) -> tuple[Tensor, Tensor, Tensor]:
        m, k = V.shape[:2]
        groups = k if groups is None else int(groups)
        size = k // groups
        collapse = self.method == "taylor-collapsed" and size > 1
        chunk = max(size, self.probe_chunk // size * size) if collapse else self.probe_chunk
        x = self.geometry.as_inputs(xt.to(self.dtype))
        V = V.to(self.dtype)
        primal, jvs, values = None, [], []
        for start in range(0, k, chunk):
            Vk = V[:, start : start + chunk].transpose(0, 1).contiguous()
            tangent = Vk.reshape(*Vk.shape[:2], *self.geometry.input_shape)
            out, jv, vhv = second_order_jet(
                self.model, x, tangent, groups=Vk.shape[0] // size if collapse else None
            )
            primal = out if primal is None else primal
            jvs.append(jv.transpose(0, 1))
            values.append(vhv.transpose(0, 1))
        vhv = torch.cat(values, 1)
        if not collapse and size > 1:
            vhv = vhv.reshape(m, groups, size, -1).sum(2)
        return primal, torch.cat(jvs, 1), vhv

    def hessian_vector_products(self, xt: Tensor, w: Tensor, V: Tensor) -> tuple[Tensor, Tensor]:
        """``(∇f v, ∇²g v)`` for probes V (m, k, d) by forward-over-reverse: (m, k, c), (m, k, d)."""
        return self._over_probe_chunks(self.hvp, xt, w, V, self.probe_chunk)

    def _over_probe_chunks(
        self, probe_pass: ProbePass, xt: Tensor, w: Tensor, V: Tensor, chunk: int
    ) -> tuple[Tensor | None, Tensor]:
        xt, w, V = xt.to(self.dtype), w.to(self.dtype), V.to(self.dtype)
        jvs, values = [], []
        for start in range(0, V.shape[1], chunk):
            Vk = V[:, start : start + chunk].transpose(0, 1).contiguous()  # (k, m, d)
            jv, value = probe_pass(xt, w, Vk)
            jvs.append(None if jv is None else jv.transpose(0, 1))
            values.append(value.transpose(0, 1))
        jv = None if jvs[0] is None else torch.cat(jvs, 1)
        return jv, torch.cat(values, 1)

    def _probe_chunk(self, xt: Tensor, w: Tensor, Vk: Tensor) -> tuple[Tensor | None, Tensor]:
        if self.curvature == "secant":
            return self._secant(xt, w, Vk)
        if self.method in ("taylor", "taylor-collapsed"):
            return self._taylor(xt, w, Vk, None)
        if self.method == "jvp":
            return self._jvp_of_jvp(xt, w, Vk)
        if self.method in ("hvp", "hutch++"):
            jv, hv = self.hvp(xt, w, Vk)
            return jv, (hv * Vk).sum(-1)
        if self.method == "double-backward":
            return self._double_backward(xt, w, Vk)
        raise ValueError(f"unknown method {self.method!r}")

    def _taylor(self, xt: Tensor, w: Tensor, Vk: Tensor, groups: int | None) -> tuple[Tensor, Tensor]:
        shape = self.geometry.input_shape
        _, jv, vhv = second_order_jet(
            self.model, self.geometry.as_inputs(xt), Vk.reshape(*Vk.shape[:2], *shape), groups=groups
        )
        return jv, (vhv * w).sum(-1)

    def _jvp_of_jvp(self, xt: Tensor, w: Tensor, Vk: Tensor) -> tuple[Tensor, Tensor]:
        def directional(v: Tensor) -> tuple[Tensor, Tensor]:
            jv, vhv = directional_derivatives(self.forward, xt, v)
            return jv, (vhv * w).sum(-1)

        return vmap(directional)(Vk)

    def hvp(self, xt: Tensor, w: Tensor, Vk: Tensor) -> tuple[Tensor, Tensor]:
        """Forward-over-reverse: (∇f v, ∇²g v) for directions Vk (k, m, d), all at once."""
        forward = self.forward

        def g_and_out(x: Tensor) -> tuple[Tensor, Tensor]:
            out = forward(x)
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


def _model_device(model: Callable[[Tensor], Tensor], default: torch.device) -> torch.device:
    """The device of the model's first parameter (where its passes run), else ``default``."""
    parameters = getattr(model, "parameters", None)
    if callable(parameters):
        for p in parameters():
            return p.device
    return default


def input_jacobian(forward: Callable[[Tensor], Tensor], xt: Tensor, c: int) -> Tensor:
    """Input Jacobians (m, c, d) of a batch xt (m, d) through c vector-Jacobian products."""
    _, pullback = vjp(forward, xt)
    eye = torch.eye(c, dtype=xt.dtype, device=xt.device)
    cotangents = eye[:, None, :].expand(c, xt.shape[0], c)
    return vmap(pullback)(cotangents)[0].permute(1, 0, 2)
