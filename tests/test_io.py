"""The atomic writers of mixtheory._io: a failed or interrupted write leaves the old file whole."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mixtheory import _io


def test_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "table.csv"
    _io.write_csv(target, ["a", "b"], [[1, 2]])
    before = target.read_bytes()
    with pytest.raises(KeyboardInterrupt), _io.atomic_open(target) as fh:
        fh.write("half a fi")
        raise KeyboardInterrupt
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_writers_round_trip(tmp_path):
    _io.write_json(tmp_path / "p.json", {"x": 1.5})
    assert (tmp_path / "p.json").read_text() == '{\n  "x": 1.5\n}\n'
    _io.save_npz(tmp_path / "a.npz", x=np.arange(3))
    assert np.array_equal(np.load(tmp_path / "a.npz")["x"], np.arange(3))
    _io.save_torch(tmp_path / "sub" / "m.pt", {"w": torch.ones(2)})
    assert torch.equal(torch.load(tmp_path / "sub" / "m.pt")["w"], torch.ones(2))
    assert not list(tmp_path.rglob(f"*{_io.TMP_SUFFIX}"))


def test_atomic_open_refuses_a_read_mode(tmp_path):
    with pytest.raises(ValueError, match="mode"), _io.atomic_open(tmp_path / "x", "r"):
        pass
