r"""Shared machinery of the symbolic proofs: :class:`Proof`, the step recorder, the registry.

Each proof is a function decorated with :func:`proof`; its id is the function's name with ``_``
replaced by ``-`` (``truncated_beta_moments`` → ``truncated-beta-moments``), written nowhere else.

>>> _is_zero(sp.Symbol("x") - sp.Symbol("x"))
True
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from ..verification import Evidence, Result

__all__ = ["Proof", "proof", "PROOFS", "SOURCE", "get_proof", "all_proofs", "proof_result", "ALPHA_GRID"]

#: the ``source`` of every proof's result
SOURCE = "mixtheory.symbolic"

#: α values of the numerical cross-checks: 29 points log-spaced over [1e-3, 1e4].
ALPHA_GRID: tuple[float, ...] = tuple(float(a) for a in np.logspace(-3.0, 4.0, 29))

_HALF = sp.Rational(1, 2)
_MPMATH_BETAINC_MAX_ALPHA = 100.0
_alpha = sp.Symbol("alpha", positive=True)


@dataclass
class Proof:
    r"""The result of one symbolic proof.

    Attributes:
        id: short identifier (``"truncated-beta-moments"``).
        statement: what is proved, in the notation of Carratino et al. (JMLR 2022).
        steps: the argument, one step per string, each checked by sympy or numerically.
        verdict: ``"holds"`` or ``"fails"``.
        details: numbers of the numerical cross-checks (max errors, grids, sizes).
    """

    id: str
    statement: str
    steps: list[str]
    verdict: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "statement": self.statement,
            "steps": list(self.steps),
            "verdict": self.verdict,
            "details": self.details,
        }

    def one_line_of(self, result: Result) -> str:
        """The table's evidence cell: the first failed step, else the statement."""
        return next((s for s in self.steps if s.startswith("FAILED")), self.statement)

    def json_fields(self) -> dict[str, Any]:
        """Nothing beyond the protocol's fields: the steps and numbers are the evidence."""
        return {}


def proof_result(p: Proof) -> Result:
    """A proof as the one result type, :class:`mixtheory.verification.Result`: evidence of kind
    ``proof`` whose text is the steps, whose ``steps`` are the steps and whose numbers are the
    numerical cross-checks; ``source`` :data:`SOURCE`; the :class:`Proof` is its sub-record."""
    evidence = Evidence("proof", " ".join(p.steps), p.details, steps=tuple(p.steps))
    return Result(p.id, p.verdict, evidence, subject="proof", statement=p.statement, source=SOURCE, record=p)


class _Recorder:
    """Collects steps and whether each check passed; a proof holds only if all of them did."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.ok = True

    def check(self, passed: bool, text: str) -> bool:
        self.steps.append(("" if passed else "FAILED: ") + text)
        self.ok = self.ok and bool(passed)
        return bool(passed)

    def zero(self, expr: sp.Expr, text: str) -> bool:
        return self.check(_is_zero(expr), text)

    def note(self, text: str) -> None:
        self.steps.append(text)

    def verdict(self) -> str:
        return "holds" if self.ok else "fails"


def _is_zero(expr) -> bool:
    """Whether a sympy expression (or matrix) simplifies to zero."""
    if isinstance(expr, sp.MatrixBase):
        return all(_is_zero(e) for e in expr)
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    num, _ = sp.together(sp.expand(expr)).as_numer_denom()
    if sp.expand(num) == 0:
        return True
    return sp.simplify(expr) == 0


def _rel_err(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def _symbolic_m(alpha: sp.Expr = _alpha) -> sp.Expr:
    """m(α) = 1/(α 4^α B(α, α)), B written through Γ."""
    return sp.gamma(2 * alpha) / (alpha * 4**alpha * sp.gamma(alpha) ** 2)


def _symbolic_truncated_moments(alpha: sp.Expr = _alpha) -> dict[str, sp.Expr]:
    m = _symbolic_m(alpha)
    return {
        "m": m,
        "theta_mean": _HALF + m,
        "theta_var": 1 / (4 * (2 * alpha + 1)) - m**2,
        "gamma2": (alpha + 1) / (2 * (2 * alpha + 1)) - m,
    }


def _mp_truncated_moments(alpha: float, dps: int = 40) -> dict[str, mpmath.mpf]:
    """The derived closed forms evaluated in high precision (mpmath, ``dps`` digits)."""
    with mpmath.workdps(dps):
        a = mpmath.mpf(alpha)
        m = 1 / (a * mpmath.power(4, a) * mpmath.beta(a, a))
        return {
            "m": +m,
            "theta_mean": mpmath.mpf(1) / 2 + m,
            "theta_var": 1 / (4 * (2 * a + 1)) - m * m,
            "gamma2": (a + 1) / (2 * (2 * a + 1)) - m,
        }


def _mp_integrate_upper(g: Callable, alpha) -> mpmath.mpf:
    r"""``∫_{1/2}^1 g(t) (1−t)^{α−1} dt`` in mpmath, through ``t = 1 − w^{1/α}`` which turns the
    endpoint singularity into a smooth integrand: ``(1/α) ∫_0^{2^{−α}} g(1 − w^{1/α}) dw``."""
    return mpmath.quad(lambda w: g(1 - w ** (1 / alpha)), [0, mpmath.power(2, -alpha)]) / alpha


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------
#: proof id → function, in registration order
PROOFS: dict[str, Callable[[], Proof]] = {}
_CACHE: dict[str, Result] = {}


def _proof(statement: str, steps: list[str], verdict: str, details: dict[str, Any] | None = None) -> Proof:
    """A :class:`Proof` whose id the :func:`proof` decorator fills in."""
    return Proof("", statement, steps, verdict, details or {})


def proof(fn: Callable[..., Proof]) -> Callable[..., Proof]:
    """Register ``fn`` as the proof with id ``fn.__name__`` (``_`` → ``-``) and stamp that id."""
    proof_id = fn.__name__.replace("_", "-")
    if proof_id in PROOFS:
        raise ValueError(f"duplicate proof id {proof_id}")

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Proof:
        result = fn(*args, **kwargs)
        result.id = proof_id
        return result

    PROOFS[proof_id] = run
    return run


def get_proof(proof_id: str) -> Result:
    """Run (once per process) the proof with this id and return its result (:func:`proof_result`;
    the :class:`Proof`'s steps and details read through it)."""
    if proof_id not in PROOFS:
        raise KeyError(f"unknown proof {proof_id!r}; known: {', '.join(PROOFS)}")
    if proof_id not in _CACHE:
        _CACHE[proof_id] = proof_result(PROOFS[proof_id]())
    return _CACHE[proof_id]


def all_proofs() -> list[Result]:
    """Run every proof (cached per process) and return their results in a fixed order."""
    return [get_proof(pid) for pid in PROOFS]
