"""docs/mask_conventions.md is generated: it must equal analyses/mask_conventions.py's output."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mask_conventions_table_is_generated():
    spec = importlib.util.spec_from_file_location(
        "mask_conventions", ROOT / "analyses" / "mask_conventions.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "mask_conventions.md").read_text() == module.markdown()
