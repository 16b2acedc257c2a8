"""Evidence from the symbolic proofs of :mod:`mixtheory.symbolic`."""

from __future__ import annotations

from typing import Any

from .. import symbolic
from .claims import Evidence

__all__ = ["proof_evidence"]


def proof_evidence(
    *proof_ids: str, text: str, numbers: dict[str, Any] | None = None
) -> tuple[bool, Evidence]:
    """Whether every named proof holds, and proof evidence citing them (``text`` + their ids)."""
    proofs = [symbolic.get_proof(pid) for pid in proof_ids]
    ok = all(p.verdict == "holds" for p in proofs)
    nums: dict[str, Any] = {"proofs": {p.id: p.verdict for p in proofs}}
    nums.update(numbers or {})
    return ok, Evidence("proof", text + " (symbolic proofs: " + ", ".join(proof_ids) + ")", nums)
