"""Atomic file writes: the one way the package puts a file on disk.

Every writer here builds the file under a temporary name in the target's own directory, flushes
and fsyncs it, then moves it into place with :func:`os.replace`, which is atomic on POSIX and
Windows when source and target share a file system. An interrupt (Ctrl-C, SIGTERM, a crash) at any
instant therefore leaves either the previous complete file or the new complete one, never a
truncated one; the temporary file of an interrupted write is removed on the way out when Python
still runs, and otherwise carries the suffix ``.mixtheory-tmp`` so that it is recognisable.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

TMP_SUFFIX = ".mixtheory-tmp"
"""Suffix of the temporary files an atomic write uses (``.<name>.<random>.mixtheory-tmp``)."""


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``; on a clean exit of the block it replaces ``path``.

    Use it for writers that want a file name (``torch.save``, ``np.savez``, a figure's
    ``savefig``). The parent directory is created if missing. On an exception (including
    KeyboardInterrupt) the temporary file is deleted and ``path`` is left as it was.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "a.txt").read_text(), sorted(p.name for p in d.iterdir())
    ('hello', ['a.txt'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """``open(path, mode)`` whose result appears at ``path`` only when the block completes.

    ``mode`` must be a write mode ("w", "wb", "wt"); text modes default to UTF-8.
    """
    if mode not in ("w", "wt", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w', 'wt' or 'wb', got {mode!r}")
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_open(path, "w", newline="") as fh:
        fh.write(text)
    return Path(path)


def write_json(path: str | Path, payload: Any, *, indent: int | None = 2, **kwargs: Any) -> Path:
    """Write ``payload`` as JSON (with a trailing newline) atomically; returns the path."""
    kwargs.setdefault("default", str)
    return write_text(path, json.dumps(payload, indent=indent, **kwargs) + "\n")


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Write a CSV with ``header`` and ``rows`` atomically; returns the path."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(list(header))
    writer.writerows(rows)
    return write_text(path, buffer.getvalue())


def save_with(path: str | Path, saver: Callable[[Path], Any]) -> Path:
    """Call ``saver(tmp)`` on a temporary path and move the result to ``path`` atomically.

    For example ``save_with(p, lambda t: torch.save(obj, t))`` or
    ``save_with(p, lambda t: np.savez(t, **arrays))`` (``np.savez`` appends ``.npz`` to a name
    without that suffix; the temporary name is passed as an open file to prevent it).
    """
    with atomic_path(path) as tmp:
        saver(tmp)
    return Path(path)


def save_torch(path: str | Path, obj: Any) -> Path:
    """``torch.save(obj, path)``, atomically."""
    import torch

    return save_with(path, lambda tmp: torch.save(obj, tmp))


def save_npz(path: str | Path, **arrays: Any) -> Path:
    """``np.savez(path, **arrays)``, atomically and without numpy renaming the file."""
    import numpy as np

    def saver(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    return save_with(path, saver)


def _fsync_file(path: Path) -> None:
    with contextlib.suppress(OSError), open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


__all__ = [
    "TMP_SUFFIX",
    "atomic_open",
    "atomic_path",
    "save_npz",
    "save_torch",
    "save_with",
    "write_bytes",
    "write_csv",
    "write_json",
    "write_text",
]
