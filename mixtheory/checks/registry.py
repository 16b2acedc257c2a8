r"""The registry of checks: each check is a small function of a shared prepared context that
returns its rows (:class:`CheckResult`); :func:`check` registers one under a short name, so
``mixtheory check --only NAME`` runs it alone and ``--list`` lists them.

A row is the check's typed sub-record: the runner (:mod:`.runner`) reports each as the package's one
result type, :class:`mixtheory.verification.Result` (:meth:`CheckResult.to_result`), its verdict
mapped as ``docs/verification.md`` says: pass → ``holds``, fail → ``fails``, a number reported
without a tolerance → ``reported``, a check that does not apply to the law → ``skipped``."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..verification import Evidence, Result

if TYPE_CHECKING:
    from ..laws import MixingLaw
    from .context import CheckContext

__all__ = ["CheckResult", "Check", "CHECKS", "check", "select_checks"]

Kind = Literal["relative", "z-score", "slope", "count", "info", "skipped"]


@dataclass
class CheckResult:
    """One row: a quantity, its closed form, the independent reference, the error of the kind
    named by ``kind``, the derived tolerance and the verdict (``tolerance = inf``: reported only)."""

    name: str
    closed_form: float
    reference: float
    error: float
    tolerance: float
    kind: str  # one of Kind
    passed: bool
    detail: str = ""

    def __post_init__(self) -> None:
        # plain Python types (numpy scalars are not JSON serializable)
        self.passed = bool(self.passed)
        self.closed_form, self.reference = float(self.closed_form), float(self.reference)
        self.error, self.tolerance = float(self.error), float(self.tolerance)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def informational(self) -> bool:
        return math.isinf(self.tolerance)

    @property
    def verdict(self) -> str:
        """The row's verdict in the one vocabulary (module docstring)."""
        if self.kind == "skipped":
            return "skipped"
        if not self.passed:
            return "fails"
        return "reported" if self.informational else "holds"

    def json_fields(self) -> dict[str, Any]:
        """The row's own fields for a JSON record (non-finite numbers as null, as before)."""
        row = self.as_dict()
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}

    def one_line_of(self, result: Result) -> str:
        """The table's evidence cell: closed form, reference, error against tolerance, detail."""
        if self.kind == "skipped":
            return self.detail
        if self.kind == "z-score":
            err = f"z = {self.error:.2f}"
        elif self.kind == "count":
            err = f"count {int(self.error)}"
        else:
            err = f"{self.kind} error {self.error:.2e}"
        tol = " (reported)" if self.informational else f" (tolerance {self.tolerance:.3g})"
        cf = "" if math.isnan(self.closed_form) else f"closed form {self.closed_form:.6g}, "
        ref = "" if math.isnan(self.reference) else f"reference {self.reference:.6g}, "
        return f"{cf}{ref}{err}{tol}" + (f"; {self.detail}" if self.detail else "")

    def to_result(self) -> Result:
        """This row as the one result type (id = the row's name, source ``mixtheory.checks``)."""
        numbers = {
            "closed_form": self.closed_form,
            "reference": self.reference,
            "error": self.error,
            "tolerance": self.tolerance,
        }
        evidence = Evidence(self.kind, self.detail, numbers)
        source = "mixtheory.checks"
        return Result(self.name, self.verdict, evidence, subject="check", source=source, record=self)


@dataclass(frozen=True)
class Check:
    """A registered check: ``name`` (for ``--only``), a one-line ``summary`` and ``run(context)``."""

    name: str
    summary: str
    run: Callable[[CheckContext], list[CheckResult]]
    applies: Callable[[MixingLaw], str | None] | None = None

    def skip_reason(self, law: MixingLaw) -> str | None:
        """Why the check does not hold for ``law`` (it is then skipped with this reason), or None."""
        return None if self.applies is None else self.applies(law)

    def skipped_row(self, reason: str) -> CheckResult:
        """The row of a check that does not hold for the law: passed, with the reason."""
        nan = float("nan")
        return CheckResult(self.name, nan, nan, nan, math.inf, "skipped", True, f"skipped: {reason}")


def symmetric_lambda_only(law: MixingLaw) -> str | None:
    """A non-uniform pairing folds only when λ's law is symmetric about ½ (docs/theory.md §8.1)."""
    from ..geometry._common import require_symmetric_lambda

    try:
        require_symmetric_lambda(law)
    except ValueError:
        return f"{law!r} is not symmetric about 1/2, and a non-uniform pairing folds only for symmetric laws"
    return None


#: every registered check, in table order
CHECKS: dict[str, Check] = {}


def check(
    name: str, summary: str, applies: Callable[[MixingLaw], str | None] | None = None
) -> Callable[[Callable[[CheckContext], list[CheckResult]]], Any]:
    """Register ``fn(context) -> list[CheckResult]`` under ``name``; ``applies(law)`` says why the
    check does not hold for a law (then it is skipped with that reason), or None."""

    def register(fn: Callable[[CheckContext], list[CheckResult]]):
        if name in CHECKS:
            raise ValueError(f"check {name!r} is registered twice")
        CHECKS[name] = Check(name, summary, fn, applies)
        return fn

    return register


def select_checks(only: Iterable[str] | None = None) -> list[Check]:
    """The checks named in ``only`` (all of them when None), in table order; unknown names raise."""
    if only is None:
        return list(CHECKS.values())
    wanted = list(only)
    unknown = [n for n in wanted if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(map(repr, unknown))}; choose from {', '.join(CHECKS)}")
    return [c for name, c in CHECKS.items() if name in wanted]


def relative_row(name: str, closed: float, ref: float, tol: float, detail: str = "") -> CheckResult:
    """A row comparing two numbers by relative error |closed − ref| / |ref|."""
    closed, ref = float(closed), float(ref)
    err = abs(closed - ref) / max(abs(ref), 1e-300)
    return CheckResult(name, closed, ref, err, tol, "relative", err <= tol, detail)
