"""Provenance records: versions, seeds, the commit of this checkout."""

from __future__ import annotations

import json
import subprocess

import torch

import mixtheory
from mixtheory.provenance import git_commit, provenance, write_provenance


def test_record_names_versions_seeds_and_device(tmp_path):
    path = write_provenance(
        tmp_path / "sub" / "run.json", seeds=[3, 4], device="cpu", data="digits", epochs=5
    )
    record = json.loads(path.read_text())
    assert record["versions"]["mixtheory"] == mixtheory.__version__
    assert record["versions"]["torch"] == torch.__version__
    assert record["seeds"] == [3, 4] and record["device"] == "cpu" and record["epochs"] == 5


def test_commit_matches_git_when_run_from_a_checkout():
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=mixtheory.__path__[0],
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        assert git_commit() is None
        return
    assert git_commit().split("+")[0] == head
    assert provenance()["commit"] == git_commit()


def test_outside_a_checkout_the_commit_is_none(tmp_path):
    assert git_commit(tmp_path) is None
