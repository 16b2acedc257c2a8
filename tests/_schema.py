"""Validation of printed and stored results against the one schema of
:mod:`mixtheory.verification` (``jsonschema``, draft 2020-12)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema

from mixtheory.verification import DOCUMENT_SCHEMA, RESULT_SCHEMA

RECORD = jsonschema.Draft202012Validator(RESULT_SCHEMA)
DOCUMENT = jsonschema.Draft202012Validator(DOCUMENT_SCHEMA)


def assert_records(records: list[dict[str, Any]]) -> None:
    """Every record validates against :data:`RESULT_SCHEMA` (the error names the record)."""
    assert records, "no records"
    for r in records:
        errors = [e.message for e in RECORD.iter_errors(r)]
        assert not errors, (r.get("id"), errors)


def load_document(path: Path, command: str) -> dict[str, Any]:
    """The results document at ``path``, validated against :data:`DOCUMENT_SCHEMA`."""
    import json

    doc = json.loads(path.read_text(encoding="utf-8"))
    errors = [e.message for e in DOCUMENT.iter_errors(doc)]
    assert not errors and doc["command"] == command, errors
    return doc
