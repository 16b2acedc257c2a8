"""Atomic file writes: the one way the package puts a file on disk.

Every writer here builds the file under a temporary name in the target's own directory, flushes
and fsyncs it, then moves it into place with :func:`os.replace`, which is atomic on POSIX and
Windows when source and target share a file system. An interrupt (Ctrl-C, SIGTERM, a crash) at any
instant therefore leaves either the previous complete file or the new complete one, never a
truncated one. A Ctrl-C (SIGINT) that arrives during a write is held back until the file is in
place, then raised as usual; a temporary file left by a harder stop (SIGKILL, power loss) carries
the suffix ``.mixtheory-tmp`` so that it is recognisable.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

TMP_SUFFIX = ".mixtheory-tmp"
"""Suffix of the temporary files an atomic write uses (``.<name>.<random>.mixtheory-tmp``)."""


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back until the block is over, then deliver it (KeyboardInterrupt under
    Python's default handler). Only in the main thread and under a Python-level handler; elsewhere
    (other threads, an ignored or default OS action) the block runs unchanged."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):
        yield
        return
    received: list[Any] = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            previous(signal.SIGINT, received[0])


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``; on a clean exit of the block it replaces ``path``.

    Use it for writers that want a file name (``torch.save``, ``np.savez``, a figure's
    ``savefig``). The parent directory is created if missing. On an exception the temporary file is
    deleted and ``path`` is left as it was. A Ctrl-C during the block is held back until the file
    is in place (or removed), then raised: an interrupt never leaves a temporary file behind.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "a.txt").read_text(), sorted(p.name for p in d.iterdir())
    ('hello', ['a.txt'])
    """
    path = Path(path)
    with _sigint_deferred():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
        tmp = Path(tmp_name)
        try:
            os.close(fd)
            with contextlib.suppress(OSError):  # mkstemp makes 0600; give the file the mode open() would
                os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
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


def _umask() -> int:
    """The process's file-creation mask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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


# ---------------------------------------------------------------------------------------------
# output directories and files: never overwrite what mixtheory did not write
# ---------------------------------------------------------------------------------------------

MARKER = ".mixtheory.json"
"""The file that marks a directory as mixtheory's output (``{"kind": "train" | "reproduce", …}``);
written first, before any other file of a run."""


def read_marker(directory: str | Path) -> dict[str, Any] | None:
    """The marker of ``directory`` (a dict with at least ``kind``), or None when it has none or
    the marker is not a readable JSON object."""
    try:
        record = json.loads((Path(directory) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "kind" in record else None


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_creatable(path: str | Path, option: str, *, directory: bool) -> Path:
    """Check, leaving nothing behind, that ``path`` can be made: an existing entry has the right kind
    (a directory when ``directory``, else a file), and the nearest existing ancestor is a directory
    where a file can be created (tried with a probe file, removed at once). Raises ValueError naming
    ``option`` (e.g. ``--out``) and the fix."""
    path = Path(path)
    if path.exists():
        if directory and not path.is_dir():
            raise ValueError(f"{option} {path} exists and is not a directory; name a directory")
        if not directory and path.is_dir():
            raise ValueError(f"{option} {path} is a directory; name a file")
        target = path if directory else path.parent
    else:
        target = _nearest_existing(path.parent if not directory else path)
        if not target.is_dir():
            raise ValueError(
                f"{option} {path} cannot be created: {target} is not a directory; choose another path"
            )
    problem = None if os.access(target, os.W_OK | os.X_OK) else f"{target} is not writable"
    if problem is None:
        try:  # a read-only file system, or permissions os.access does not see: try it
            with _sigint_deferred():  # a Ctrl-C meanwhile must not leave the probe behind
                fd, probe = tempfile.mkstemp(prefix=".mixtheory-probe.", suffix=TMP_SUFFIX, dir=target)
                os.close(fd)
                os.unlink(probe)
        except OSError as exc:
            problem = f"{target}: {exc.strerror or exc}"
    if problem is not None:
        raise ValueError(f"{option} {path}: cannot write there ({problem}); choose another path")
    return path


def check_output_dir(
    path: str | Path,
    kind: str,
    option: str,
    *,
    recognise: Callable[[Path], bool] | None = None,
    what: str | None = None,
) -> Path:
    """Check that ``path`` may receive mixtheory's output of ``kind``, creating nothing: it is
    absent (and creatable), empty, or marked with this ``kind`` (:data:`MARKER`), or ``recognise``
    (for directories written before markers existed) accepts it. A directory holding anything else
    is a user's and is refused, naming ``option`` and the fix."""
    path = check_creatable(path, option, directory=True)
    if not path.exists() or not any(path.iterdir()):
        return path
    marker = read_marker(path)
    if marker is not None and marker.get("kind") == kind:
        return path
    if marker is None and recognise is not None and recognise(path):
        return path
    if marker is not None:
        raise ValueError(
            f"{option} {path} holds mixtheory {marker['kind']} output, not {what or kind + ' output'}: "
            f"choose a new or empty directory for {option}"
        )
    what = what or f"mixtheory {kind} output"
    raise ValueError(
        f"{option} {path} is not empty and holds no {what} (no {MARKER}); mixtheory never writes into "
        f"a directory it did not make: choose a new or empty directory for {option}"
    )


@contextlib.contextmanager
def output_dir(path: str | Path, kind: str, *, rewrite: bool = False, **record: Any) -> Iterator[Path]:
    """Create ``path`` (and missing parents) and mark it as ``kind`` output (``record``: more entries
    for the marker) unless already marked (``rewrite``: mark it anew, for a new run). If the block
    raises (including KeyboardInterrupt) while the directory holds nothing but the marker, everything
    this call created is removed again: a run that fails before writing anything leaves no empty
    directory behind."""
    path = Path(path)
    created = [p for p in reversed([path, *path.parents]) if not p.exists()]
    marked = False
    try:
        path.mkdir(parents=True, exist_ok=True)
        if rewrite or read_marker(path) is None:
            marked = True
            write_json(path / MARKER, {"kind": kind, **record})
        yield path
    except BaseException:
        if marked and path.is_dir() and [p.name for p in path.iterdir()] in ([], [MARKER]):
            with contextlib.suppress(OSError):
                (path / MARKER).unlink()
            for directory in reversed(created):
                with contextlib.suppress(OSError):
                    directory.rmdir()
        raise


def check_output_file(
    path: str | Path, option: str, ours: Callable[[Path], bool], what: str = "mixtheory"
) -> Path:
    """Check, creating nothing, that ``path`` may be written: creatable, and when it exists, a file
    ``ours`` recognises as written by mixtheory. Raises ValueError naming ``option`` and the fix."""
    path = check_creatable(path, option, directory=False)
    if path.exists() and not ours(path):
        raise ValueError(
            f"{option} {path} exists and was not written by {what}; mixtheory does not overwrite it: "
            f"move it away or choose another path for {option}"
        )
    return path


__all__ = [
    "MARKER",
    "TMP_SUFFIX",
    "check_creatable",
    "check_output_dir",
    "check_output_file",
    "output_dir",
    "read_marker",
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
