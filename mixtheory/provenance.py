"""Provenance of a result: what produced it, so that a CSV or a figure can be traced and re-run.

Every file the toolkit writes for a researcher (training logs, recorder tables, reproduced figures)
gets a JSON sidecar with the commit (when run from a git checkout), the versions of Python, torch,
numpy and mixtheory, the seeds, the device, the wall time and a description of the data.
"""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._io import write_json
from ._version import __version__

__all__ = ["provenance", "write_provenance", "git_commit"]


def git_commit(path: str | Path | None = None) -> str | None:
    """The commit of the git checkout holding ``path`` (default: this package), with ``+dirty``
    when the working tree has changes; None outside a checkout or without git."""
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def provenance(
    *,
    seeds: Any = None,
    device: str | torch.device | None = None,
    wall_time_s: float | None = None,
    data: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A JSON-ready record of what produced a result (``extra`` entries are added as given).

    >>> record = provenance(seeds=[0, 1], device="cpu", data="digits (bundled)")
    >>> sorted(record["versions"]) == ["mixtheory", "numpy", "python", "torch"]
    True
    """
    return {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "versions": {
            "mixtheory": __version__,
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
        "platform": platform.platform(),
        "command": " ".join(sys.argv),
        "seeds": seeds,
        "device": None if device is None else str(device),
        "threads": torch.get_num_threads(),
        "wall_time_s": wall_time_s,
        "data": data,
        **extra,
    }


def write_provenance(path: str | Path, **fields: Any) -> Path:
    """Write :func:`provenance` (with ``fields``) as indented JSON to ``path``, atomically
    (:func:`mixtheory._io.write_json`); returns the path."""
    return write_json(path, provenance(**fields), indent=2, default=str)
