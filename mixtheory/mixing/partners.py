r"""Partner laws ``π(j | i)``: which sample an anchor i is mixed with.

Carratino et al. (JMLR 2022) draw the partner uniformly over all n samples, self included; the
folding of Theorem 1 uses exactly that. Other mixing methods pair anchors with partners chosen by
class (a forgetting matrix between classes), by difficulty (a pool of hard samples) or by
proximity (k nearest neighbours). Each law here is a row-stochastic operator ``Π`` with
``Π[i, j] = π(j | i)`` that is never formed as an n×n matrix unless asked (:meth:`dense`).

Every :class:`PartnerLaw` offers

- ``sample(anchors, generator)``: one partner per anchor, independently;
- ``apply(V, anchors)`` = ``(Π V)[anchors]`` and ``apply_transpose(V)`` = ``Πᵀ V`` for any
  (n, k) features, in time linear in the support of the law;
- the partner moments of anchor i, ``partner_mean(X)``: ``m_i = Σ_j π(j|i) x_j`` (m, d) and
  ``partner_second_moment(X)``: ``S_i = Σ_j π(j|i) x_j x_jᵀ`` (m, d, d), ``partner_covariance``
  ``C_i = S_i − m_i m_iᵀ``, per anchor (chunk the anchors for large d);
- ``column_sums()`` = ``Σ_i π(j | i)`` (n,), ``self_probability()`` = ``π(i | i)`` (n,);
- ``dense()``: the n×n matrix, for small n and for the tests.

The geometry of a non-uniform pairing folds with the symmetrised pair law
``P(i, j) = (π(j|i) + π(i|j)) / (2n)``: the pair (i, j) drawn with the anchor i uniform and
then swapped with probability 1/2 (swapping is what turns λ into θ = max(λ, 1 − λ)). Its marginal
is ``P(i, ·) = (1 + c_i) / (2n)`` with ``c = column_sums()``, and its conditional partner mean is
``(Σ_j π(j|i) x_j + Σ_j π(i|j) x_j) / (1 + c_i)``: ``apply(X)`` plus ``apply_transpose(X)``.
For the uniform law (``c_i = 1``) this is the paper's pairing.
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from .._types import Generator, Tensor

__all__ = [
    "PartnerLaw",
    "UniformPartner",
    "FixedPairing",
    "DensePairing",
    "ClassConditional",
    "HardPool",
    "KNearest",
]


def _anchors(anchors: Tensor | None, n: int) -> Tensor:
    if anchors is None:
        return torch.arange(n)
    anchors = torch.as_tensor(anchors).long().reshape(-1)
    if anchors.numel() and (int(anchors.min()) < 0 or int(anchors.max()) >= n):
        raise IndexError(
            f"anchor indices must lie in [0, {n}), got range [{int(anchors.min())}, {int(anchors.max())}]"
        )
    return anchors


def _uniform_index(upper: Tensor, generator: torch.Generator | None) -> Tensor:
    """One integer uniform on ``[0, upper[k])`` per entry (upper ≥ 1)."""
    u = torch.rand(upper.shape, generator=generator, dtype=torch.float64)
    return torch.minimum((u * upper).long(), upper - 1)


class PartnerLaw:
    r"""A partner law ``π(j | i)`` on n samples (module docstring). Subclasses give ``n``,
    :meth:`sample`, :meth:`apply` and :meth:`apply_transpose`; the moments follow from them."""

    n: int

    def sample(self, anchors: Tensor | None = None, generator: Generator = None) -> Tensor:
        """One partner index per anchor (m,), drawn independently from ``π(· | anchor)``."""
        raise NotImplementedError

    def apply(self, V: Tensor, anchors: Tensor | None = None) -> Tensor:
        """``Σ_j π(j | i) V[j]`` for each anchor i: (m, *V.shape[1:])."""
        raise NotImplementedError

    def apply_transpose(self, V: Tensor) -> Tensor:
        """``Σ_i π(j | i) V[i]`` for each j: (n, *V.shape[1:])."""
        raise NotImplementedError

    # --- derived quantities ----------------------------------------------------------------------
    def partner_mean(self, X: Tensor, anchors: Tensor | None = None) -> Tensor:
        r"""``m_i = Σ_j π(j|i) x_j``; X: (n, d), returns (m, d)."""
        return self.apply(X, anchors)

    def partner_second_moment(self, X: Tensor, anchors: Tensor | None = None) -> Tensor:
        r"""``S_i = Σ_j π(j|i) x_j x_jᵀ``; X: (n, d), returns (m, d, d). The default forms the n
        outer products (n·d² numbers); structured laws override it."""
        return self.apply(X[:, :, None] * X[:, None, :], anchors)

    def partner_covariance(self, X: Tensor, anchors: Tensor | None = None) -> Tensor:
        r"""``C_i = Σ_j π(j|i)(x_j − m_i)(x_j − m_i)ᵀ = S_i − m_i m_iᵀ``: (m, d, d)."""
        mean = self.partner_mean(X, anchors)
        return self.partner_second_moment(X, anchors) - mean[:, :, None] * mean[:, None, :]

    def column_sums(self) -> Tensor:
        """``c_j = Σ_i π(j | i)``: how often j is drawn as a partner over all anchors (n,)."""
        return self.apply_transpose(torch.ones(self.n, dtype=torch.float64))

    def self_probability(self) -> Tensor:
        """``π(i | i)`` (n,): the chance an anchor meets itself (its mixed sample is then clean)."""
        return torch.diagonal(self.dense()).clone()

    def dense(self) -> Tensor:
        """The n×n row-stochastic matrix ``Π[i, j] = π(j | i)`` (float64); for small n."""
        return self.apply(torch.eye(self.n, dtype=torch.float64))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n})"


class UniformPartner(PartnerLaw):
    r"""``π(j | i) = 1/n`` (self included, the paper's pairing) or ``1/(n − 1)`` for j ≠ i.

    >>> law = UniformPartner(4, include_self=False)
    >>> law.dense().sum(1).tolist(), law.self_probability().tolist()
    ([1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0])
    """

    def __init__(self, n: int, include_self: bool = True):
        if int(n) != n or n < (1 if include_self else 2):
            raise ValueError(f"n must be an integer >= {1 if include_self else 2}, got {n!r}")
        self.n, self.include_self = int(n), bool(include_self)

    def sample(self, anchors: Tensor | None = None, generator: Generator = None) -> Tensor:
        anchors = _anchors(anchors, self.n)
        if self.include_self:
            return torch.randint(self.n, anchors.shape, generator=generator)
        j = torch.randint(self.n - 1, anchors.shape, generator=generator)
        return j + (j >= anchors).long()  # skip the anchor itself

    def apply(self, V: Tensor, anchors: Tensor | None = None) -> Tensor:
        anchors = _anchors(anchors, self.n)
        total = V.sum(0, keepdim=True).expand(anchors.numel(), *V.shape[1:])
        if self.include_self:
            return total / self.n
        return (total - V[anchors]) / (self.n - 1)

    def apply_transpose(self, V: Tensor) -> Tensor:
        return self.apply(V)  # the matrix is symmetric

    def partner_second_moment(self, X: Tensor, anchors: Tensor | None = None) -> Tensor:
        anchors = _anchors(anchors, self.n)
        gram = (X.T @ X).expand(anchors.numel(), -1, -1)
        if self.include_self:
            return gram / self.n
        xa = X[anchors]
        return (gram - xa[:, :, None] * xa[:, None, :]) / (self.n - 1)


class FixedPairing(PartnerLaw):
    r"""A deterministic pairing ``π(j | i) = [j = partner[i]]``: the marginal law of the batch
    ``flip`` (``partner[i] = n − 1 − i``) and ``roll`` (``partner[i] = i − 1 mod n``) rules on a
    fixed batch order.

    >>> FixedPairing(torch.tensor([2, 1, 0])).self_probability().tolist()
    [0.0, 1.0, 0.0]
    """

    def __init__(self, partner: Tensor):
        partner = torch.as_tensor(partner).long().reshape(-1)
        self.n = partner.numel()
        if self.n == 0 or int(partner.min()) < 0 or int(partner.max()) >= self.n:
            raise ValueError(f"partner must index [0, {self.n}), got {partner.tolist()}")
        self.partner = partner

    def sample(self, anchors: Tensor | None = None, generator: Generator = None) -> Tensor:
        return self.partner[_anchors(anchors, self.n)]

    def apply(self, V: Tensor, anchors: Tensor | None = None) -> Tensor:
        return V[self.partner[_anchors(anchors, self.n)]]

    def apply_transpose(self, V: Tensor) -> Tensor:
        out = torch.zeros(self.n, *V.shape[1:], dtype=V.dtype, device=V.device)
        return out.index_add_(0, self.partner.to(V.device), V)

    def self_probability(self) -> Tensor:
        return (self.partner == torch.arange(self.n)).to(torch.float64)


def _check_row_stochastic(name: str, P: Tensor, allow_zero_rows: bool = False) -> Tensor:
    P = torch.as_tensor(P, dtype=torch.float64)
    if P.ndim != 2 or P.shape[0] != P.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {tuple(P.shape)}")
    if not bool(torch.isfinite(P).all()) or bool((P < 0).any()):
        raise ValueError(f"{name} must have finite, non-negative entries")
    sums = P.sum(1)
    ok = (sums - 1).abs() <= 1e-10 * P.shape[1]
    if allow_zero_rows:
        ok |= sums == 0
    if not bool(ok.all()):
        i = int((~ok).nonzero()[0, 0])
        raise ValueError(
            f"{name} must be row-stochastic (rows summing to 1): row {i} sums to {float(sums[i]):.17g}; "
            "divide each row by its sum"
        )
    return P


class DensePairing(PartnerLaw):
    r"""Any ``π(j | i)`` given as an n×n row-stochastic matrix ``P`` (small n).

    >>> P = torch.tensor([[0.0, 1.0], [0.5, 0.5]], dtype=torch.float64)
    >>> DensePairing(P).column_sums().tolist()
    [0.5, 1.5]
    """

    def __init__(self, P: Tensor):
        self.P = _check_row_stochastic("P", P)
        self.n = self.P.shape[0]

    def sample(self, anchors: Tensor | None = None, generator: Generator = None) -> Tensor:
        anchors = _anchors(anchors, self.n)
        if anchors.numel() == 0:
            return anchors
        return torch.multinomial(self.P[anchors], 1, generator=generator)[:, 0]

    def apply(self, V: Tensor, anchors: Tensor | None = None) -> Tensor:
        rows = self.P[_anchors(anchors, self.n)].to(V.dtype).to(V.device)
        return (rows @ V.reshape(self.n, -1)).reshape(rows.shape[0], *V.shape[1:])

    def apply_transpose(self, V: Tensor) -> Tensor:
        return (self.P.T.to(V.dtype).to(V.device) @ V.reshape(self.n, -1)).reshape(V.shape)

    def partner_second_moment(self, X: Tensor, anchors: Tensor | None = None) -> Tensor:
        rows = self.P[_anchors(anchors, self.n)].to(X.dtype).to(X.device)
        return torch.einsum("mj,jd,je->mde", rows, X, X)


ZeroRow = Literal["error", "uniform"]
EmptyClass = Literal["error", "renormalise"]


class ClassConditional(PartnerLaw):
    r"""A class-to-class law: the anchor i of class ``y_i`` draws a class ``c' ~ A[y_i, ·]``, then a
    partner uniformly among the ``n_{c'}`` samples of class c':

    ``π(j | i) = A[y_i, y_j] / n_{y_j}``.

    ``matrix``: (c, c) row-stochastic ``A`` (e.g. a forgetting matrix with rows divided by their
    sums: :meth:`from_counts`); ``labels``: (n,) class indices in [0, c).

    A class with no samples cannot be drawn: ``on_empty_class="error"`` (default) refuses an ``A``
    that gives such a class positive weight in the row of a class that has anchors;
    ``"renormalise"`` drops it and divides the row by what is left. A zero row (after that) for a
    class that has anchors: ``on_zero_row="error"`` (default) refuses it, ``"uniform"`` replaces it
    by the uniform law over all n samples (self included), i.e. the row ``n_c / n``.

    >>> A = torch.tensor([[0.0, 1.0], [0.5, 0.5]], dtype=torch.float64)
    >>> law = ClassConditional(A, torch.tensor([0, 0, 1, 1, 1]))
    >>> law.dense()[0].tolist()          # class 0 draws class 1, each of its 3 samples 1/3
    [0.0, 0.0, 0.3333333333333333, 0.3333333333333333, 0.3333333333333333]
    """

    def __init__(
        self,
        matrix: Tensor,
        labels: Tensor,
        *,
        on_zero_row: ZeroRow = "error",
        on_empty_class: EmptyClass = "error",
    ):
        A = torch.as_tensor(matrix, dtype=torch.float64).clone()
        labels = torch.as_tensor(labels).long().reshape(-1)
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"matrix must be (c, c), got shape {tuple(A.shape)}")
        c = A.shape[0]
        if labels.numel() == 0 or int(labels.min()) < 0 or int(labels.max()) >= c:
            raise ValueError(f"labels must be non-empty class indices in [0, {c})")
        counts = torch.bincount(labels, minlength=c)
        present = counts > 0
        A = _check_row_stochastic("matrix", A, allow_zero_rows=True)
        leaks = (A[present][:, ~present] > 0).any(1)
        if bool(leaks.any()):
            if on_empty_class == "error":
                empty = (~present).nonzero()[:, 0].tolist()
                raise ValueError(
                    f"matrix gives positive weight to classes {empty} that have no samples; "
                    "pass on_empty_class='renormalise' to drop them"
                )
            if on_empty_class != "renormalise":
                raise ValueError(f"on_empty_class must be 'error' or 'renormalise', got {on_empty_class!r}")
            A[:, ~present] = 0
            sums = A.sum(1, keepdim=True)
            A = torch.where(sums > 0, A / sums.clamp_min(1e-300), A)
        zero = present & (A.sum(1) == 0)
        if bool(zero.any()):
            if on_zero_row == "error":
                raise ValueError(
                    f"matrix rows {zero.nonzero()[:, 0].tolist()} are zero for classes with samples; "
                    "pass on_zero_row='uniform' to draw those anchors' partners uniformly"
                )
            if on_zero_row != "uniform":
                raise ValueError(f"on_zero_row must be 'error' or 'uniform', got {on_zero_row!r}")
            A[zero] = counts.to(torch.float64) / labels.numel()
        self.matrix, self.labels, self.counts = A, labels, counts
        self.n, self.num_classes = labels.numel(), c
        self._order = torch.argsort(labels, stable=True)  # sample indices grouped by class
        self._offsets = torch.cumsum(counts, 0) - counts

    @classmethod
    def from_counts(cls, counts: Tensor, labels: Tensor, **options) -> ClassConditional:
        """Rows of a non-negative (c, c) count matrix (e.g. forgetting events from class a to b)
        divided by their sums; zero rows stay zero (``on_zero_row`` decides)."""
        counts = torch.as_tensor(counts, dtype=torch.float64)
        sums = counts.sum(1, keepdim=True)
        return cls(torch.where(sums > 0, counts / sums.clamp_min(1e-300), counts), labels, **options)

    def sample(self, anchors: Tensor | None = None, generator: Generator = None) -> Tensor:
        anchors = _anchors(anchors, self.n)
        if anchors.numel() == 0:
            return anchors
        cls = torch.multinomial(self.matrix[self.labels[anchors]], 1, generator=generator)[:, 0]
        within = _uniform_index(self.counts[cls], generator)
        return self._order[self._offsets[cls] + within]

    def _class_weights(self, anchors: Tensor) -> Tensor:
        """``A[y_i, c] / n_c`` per anchor and class (m, c); zero where n_c = 0."""
        per_sample = self.matrix / self.counts.clamp_min(1).to(torch.float64)
        return per_sample[self.labels[anchors]]

    def _class_sums(self, V: Tensor) -> Tensor:
        out = torch.zeros(self.num_classes, *V.shape[1:], dtype=V.dtype, device=V.device)
        return out.index_add_(0, self.labels.to(V.device), V)

    def apply(self, V: Tensor, anchors: Tensor | None = None) -> Tensor:
        weights = self._class_weights(_anchors(anchors, self.n)).to(V.dtype).to(V.device)
        sums = self._class_sums(V)
        return (weights @ sums.reshape(self.num_classes, -1)).reshape(weights.shape[0], *V.shape[1:])

    def apply_transpose(self, V: Tensor) -> Tensor:
        # Σ_i A[y_i, y_j] / n_{y_j} V[i] = (Aᵀ class_sums(V))[y_j] / n_{y_j}
        flat = self._class_sums(V).reshape(self.num_classes, -1)
        per_class = self.matrix.T.to(V.dtype).to(V.device) @ flat
        per_class = per_class / self.counts.clamp_min(1).to(V.dtype).to(V.device)[:, None]
        return per_class[self.labels.to(V.device)].reshape(V.shape)

    def class_second_moments(self, X: Tensor) -> Tensor:
        """``Σ_{j in class c} x_j x_jᵀ`` (c, d, d): the partner second moment of an anchor of class
        a is ``Σ_c A[a, c] / n_c`` times these (the factored form, c·d² numbers)."""
        out = torch.zeros(self.num_classes, X.shape[1], X.shape[1], dtype=X.dtype, device=X.device)
        for c in range(self.num_classes):
            xc = X[self.labels.to(X.device) == c]
            out[c] = xc.T @ xc
        return out

    def partner_second_moment(self, X: Tensor, anchors: Tensor | None = None) -> Tensor:
        weights = self._class_weights(_anchors(anchors, self.n)).to(X.dtype).to(X.device)
        return torch.einsum("mc,cde->mde", weights, self.class_second_moments(X))


class HardPool(PartnerLaw):
    r"""Partners uniform over the pool of the ``⌈η n⌉`` samples with the highest ``scores`` (e.g.
    losses or forgetting counts): ``π(j | i) = [j ∈ pool] / |pool|``. With
    ``include_self=False`` an anchor inside the pool draws from the pool without itself
    (``1/(|pool| − 1)``; a pool of one is then refused). Ties are broken by the lower index.

    >>> law = HardPool(torch.tensor([0.1, 0.9, 0.5, 0.7]), eta=0.5)
    >>> law.pool.tolist(), law.column_sums().tolist()
    ([1, 3], [0.0, 2.0, 0.0, 2.0])
    """

    def __init__(self, scores: Tensor, eta: float, *, include_self: bool = True):
        scores = torch.as_tensor(scores, dtype=torch.float64).reshape(-1)
        if scores.numel() == 0 or not bool(torch.isfinite(scores).all()):
            raise ValueError("scores must be a non-empty vector of finite numbers")
        if not 0 < float(eta) <= 1:
            raise ValueError(f"eta must lie in (0, 1], got {eta!r}")
        self.n, self.eta, self.include_self = scores.numel(), float(eta), bool(include_self)
        size = math.ceil(self.eta * self.n - 1e-9)
        order = torch.argsort(-scores, stable=True)
        self.pool = torch.sort(order[:size]).values
        if not include_self and size < 2:
            raise ValueError("include_self=False needs a pool of at least 2 samples; raise eta")
        self.in_pool = torch.zeros(self.n, dtype=torch.bool)
        self.in_pool[self.pool] = True

    def _excluded(self, anchors: Tensor) -> Tensor:
        """Whether the anchor is removed from its own pool (m,)."""
        if self.include_self:
            return torch.zeros(anchors.shape, dtype=torch.bool)
        return self.in_pool[anchors]

    def sample(self, anchors: Tensor | None = None, generator: Generator = None) -> Tensor:
        anchors = _anchors(anchors, self.n)
        excluded = self._excluded(anchors)
        size = torch.full(anchors.shape, self.pool.numel()) - excluded.long()
        k = _uniform_index(size, generator)
        # the anchor's own position in the sorted pool is skipped
        own = torch.searchsorted(self.pool, anchors)
        k = k + (excluded & (k >= own)).long()
        return self.pool[k]

    def apply(self, V: Tensor, anchors: Tensor | None = None) -> Tensor:
        anchors = _anchors(anchors, self.n)
        total = V[self.pool].sum(0, keepdim=True).expand(anchors.numel(), *V.shape[1:])
        excluded = self._excluded(anchors).to(V.device)
        shape = (-1,) + (1,) * (V.ndim - 1)
        size = (self.pool.numel() - excluded.to(V.dtype)).reshape(shape)
        return (total - excluded.to(V.dtype).reshape(shape) * V[anchors]) / size

    def apply_transpose(self, V: Tensor) -> Tensor:
        size = self.pool.numel()
        if self.include_self:
            col = V.sum(0, keepdim=True) / size
            return self.in_pool.to(V.device).reshape((-1,) + (1,) * (V.ndim - 1)) * col
        weights = torch.full((self.n,), 1.0 / size, dtype=V.dtype, device=V.device)
        weights[self.in_pool.to(V.device)] = 1.0 / (size - 1)
        w = weights.reshape((-1,) + (1,) * (V.ndim - 1))
        # j in the pool collects from every anchor i ≠ j
        col = (w * V).sum(0, keepdim=True) - w * V
        return self.in_pool.to(V.device).reshape(w.shape) * col


class KNearest(PartnerLaw):
    r"""Partners uniform over the k nearest neighbours of the anchor in Euclidean distance,
    the anchor itself excluded (``include_self=False``, default) or counted as its own nearest
    neighbour: ``π(j | i) = [j ∈ N_k(i)] / k``. Ties are broken by the lower index. Distances are
    computed in blocks of anchors (memory ``block · n``).

    ``X``: (n, d) or (n, *input_shape), flattened.

    >>> X = torch.tensor([[0.0], [1.0], [3.0], [10.0]], dtype=torch.float64)
    >>> KNearest(X, 1).neighbours[:, 0].tolist()
    [1, 0, 1, 2]
    """

    def __init__(self, X: Tensor, k: int, *, include_self: bool = False, block: int = 1024):
        X = torch.as_tensor(X, dtype=torch.float64)
        X = X.reshape(X.shape[0], -1)
        self.n = X.shape[0]
        limit = self.n if include_self else self.n - 1
        if int(k) != k or not 1 <= k <= limit:
            raise ValueError(f"k must be an integer in [1, {limit}], got {k!r}")
        self.k, self.include_self = int(k), bool(include_self)
        rows = []
        for start in range(0, self.n, block):
            xb = X[start : start + block]
            dist = torch.cdist(xb, X)
            idx = torch.arange(start, start + xb.shape[0])
            if not include_self:
                dist[torch.arange(xb.shape[0]), idx] = math.inf
            rows.append(torch.argsort(dist, dim=1, stable=True)[:, : self.k])
        self.neighbours = torch.cat(rows)

    def sample(self, anchors: Tensor | None = None, generator: Generator = None) -> Tensor:
        anchors = _anchors(anchors, self.n)
        pick = torch.randint(self.k, anchors.shape, generator=generator)
        return self.neighbours[anchors, pick]

    def apply(self, V: Tensor, anchors: Tensor | None = None) -> Tensor:
        return V[self.neighbours[_anchors(anchors, self.n)].to(V.device)].mean(1)

    def apply_transpose(self, V: Tensor) -> Tensor:
        out = torch.zeros(self.n, *V.shape[1:], dtype=V.dtype, device=V.device)
        src = V.repeat_interleave(self.k, 0) / self.k
        return out.index_add_(0, self.neighbours.reshape(-1).to(V.device), src)

    def partner_second_moment(self, X: Tensor, anchors: Tensor | None = None) -> Tensor:
        near = X[self.neighbours[_anchors(anchors, self.n)].to(X.device)]  # (m, k, d)
        return near.transpose(1, 2) @ near / self.k
