"""Ctrl-C at random instants of a real ``mixtheory train`` process, then ``--resume``: the run always
completes, and its tables and model equal an uninterrupted run's bit for bit.

The instants come from a seeded generator, uniform between the time Python takes to import the
package and the expected end of the process (the uninterrupted run's duration, scaled to the epochs
left, and shrunk when a process finishes earlier: the machine's load varies); every third process
is instead interrupted as soon as the temporary file of an atomic write (of ``checkpoint.pt``, or of
any table) appears, so that interrupts land inside file writes too. Each interrupted process
continues the same run (``--resume``), so one chain of processes carries many interrupts; a chain
whose process finished before its signal is checked and a new one started.
A signal that arrives outside the command (while Python still imports torch and the package, or
shuts down after the command returned) ends the process the way Python ends any program there; the
test checks that it wrote nothing or finished the run, and does not count it among the interrupts.
"""

from __future__ import annotations

import contextlib
import csv
import fnmatch
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from mixtheory._io import TMP_SUFFIX

RECORD = "r,el2n,grand,forgetting,accuracy,mixup-loss"
TABLES = ("regularizers.csv", "el2n.csv", "grand.csv", "forgetting.csv", "accuracy.csv", "mixup_loss.csv")
INTERRUPTS = 20
EPOCHS = 5


def _command(out: Path, resume: bool) -> list[str]:
    argv = [sys.executable, "-m", "mixtheory.cli", "train", "--data", "digits", "--num-samples", "150"]
    argv += ["--epochs", str(EPOCHS), "--batch-size", "50", "--record", RECORD, "--record-samples", "12"]
    argv += ["--hidden", "32", "--out", str(out), "--quiet", "--seed", "3"]
    return argv + (["--resume"] if resume else [])


def _environment() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else ""), "OMP_NUM_THREADS": "1"}


def _default_sigint() -> None:
    """In the child before exec: SIGINT at its default action, so that Python installs its
    KeyboardInterrupt handler even if this test process ignores SIGINT (an ignored signal is
    inherited across exec, and `mixtheory.cli.main()` ignores it once a command is over)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(out: Path, resume: bool) -> subprocess.Popen:
    return subprocess.Popen(
        _command(out, resume),
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )


def _history_without_timing(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(fh)]


def _assert_same_run(run: Path, reference: Path) -> None:
    for name in (*TABLES, "model.json"):
        assert (run / name).read_bytes() == (reference / name).read_bytes(), name
    assert _history_without_timing(run / "history.csv") == _history_without_timing(reference / "history.csv")
    a, b = torch.load(run / "model.pt"), torch.load(reference / "model.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    with np.load(run / "forgetting.npz") as x, np.load(reference / "forgetting.npz") as y:
        assert sorted(x.files) == sorted(y.files) and all(np.array_equal(x[k], y[k]) for k in x.files)


def _wait_for_temporary(out: Path, pattern: str, process: subprocess.Popen, limit: float) -> bool:
    """Poll until a temporary file matching ``pattern`` exists in ``out``; False when the process
    ended or ``limit`` seconds passed first."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline and process.poll() is None:
        with contextlib.suppress(OSError):
            if any(fnmatch.fnmatch(name, pattern) for name in os.listdir(out)):
                return True
        time.sleep(0.001)
    return False


def _listing(out: Path) -> list[tuple[str, int]] | None:
    with contextlib.suppress(OSError):
        return sorted((p.name, p.stat().st_mtime_ns) for p in out.iterdir())
    return None


def _wait_for_command(out: Path, before, process: subprocess.Popen, limit: float) -> None:
    """Poll until the command itself runs, past Python's start-up: it has written something in
    ``out`` (the marker of a new run first; a temporary file or a new table of a resumed one)."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline and process.poll() is None:
        now = _listing(out)
        if now is not None and now != before:
            return
        time.sleep(0.001)


def _interrupt(
    process: subprocess.Popen,
    out: Path,
    rng: random.Random,
    trial: int,
    window: tuple[float, float],
    before=None,
):
    """Send SIGINT at this trial's instant (``window``: the process's start-up time and its expected
    end; every third trial: as soon as a file is being written). A random instant is drawn after
    the command has begun writing (so that the machine's load, which stretches Python's start-up,
    cannot make every signal land before the command runs), uniform over the rest of the run.
    Returns the return code, stderr and whether a file was being written when the signal was sent."""
    in_write = False
    if trial % 3 == 2:
        pattern = f".checkpoint.pt.*{TMP_SUFFIX}" if trial % 2 else f".*{TMP_SUFFIX}"
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.8 * window[0])  # no file is written while Python starts
        if _wait_for_temporary(out, pattern, process, 4 * window[1]):
            process.send_signal(signal.SIGINT)
            in_write = any(out.glob(pattern))
    else:
        began = time.perf_counter()
        _wait_for_command(out, before, process, 4 * window[1])
        rest = max(window[1] - (time.perf_counter() - began), 0.05)
        try:
            process.wait(timeout=rng.uniform(0.0, rest))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=300)
    return process.returncode, _without_swallowed_interrupts(err), in_write


def _without_swallowed_interrupts(err: str) -> str:
    """stderr without the notes Python prints when a SIGINT lands inside its own import machinery
    (a lazy import in the command: "Exception ignored in: <function _get_module_lock...>", then the
    KeyboardInterrupt it swallowed). No code of the package can catch that one; the command goes on
    and its result is checked like any other."""
    pattern = r"Exception ignored in: <function _get_module_lock.*?\nKeyboardInterrupt: ?\n"
    return re.sub(pattern, "", err, flags=re.S)


@pytest.mark.slow
def test_sigint_at_random_instants_then_resume_equals_the_uninterrupted_run(tmp_path):
    reference = tmp_path / "reference"
    started = time.perf_counter()
    done = subprocess.run(_command(reference, False), env=_environment(), capture_output=True, text=True)
    duration = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import mixtheory.cli"], env=_environment(), check=True)
    startup = min(time.perf_counter() - started, 0.5 * duration)

    rng = random.Random(20240615)
    interrupts = writes = chains = launches = 0
    out, fresh, done_epochs = tmp_path / "chain0", True, 0
    while interrupts < INTERRUPTS:
        assert launches < 4 * INTERRUPTS, f"only {interrupts} of {launches} processes were interrupted"
        # the rest of the run: start-up, then the epochs still to do (and the final writes)
        remaining = max(EPOCHS - done_epochs, 0.5) / EPOCHS
        window = (startup, startup + (duration - startup) * remaining)
        process = _start(out, resume=not fresh)
        launches += 1
        began = time.perf_counter()
        before = sorted((p.name, p.stat().st_mtime_ns) for p in out.iterdir()) if out.exists() else None
        code, err, in_write = _interrupt(process, out, rng, launches, window, before)
        elapsed = time.perf_counter() - began
        if code == 0:  # the machine is faster than when it was timed: shrink the window to this run
            startup = min(startup, 0.5 * elapsed)
            duration = min(duration, startup + (elapsed - startup) / remaining)
        if code == -signal.SIGINT:
            # outside the command: still starting up (nothing written) or already shutting down after a
            # complete run; either way the next process resumes (or starts) the run
            after = sorted((p.name, p.stat().st_mtime_ns) for p in out.iterdir()) if out.exists() else None
            assert after == before or (out / "checkpoint.pt").is_file(), err
            if after == before:  # still starting up when the signal came: start-up takes longer
                startup = min(max(startup, elapsed), 0.8 * duration)
            fresh = not (out / "checkpoint.pt").is_file()
            done_epochs = 0 if fresh else torch.load(out / "checkpoint.pt", weights_only=False)["epoch"]
            continue
        assert "Traceback" not in err, err
        if code == 0:  # finished before the signal: the run is complete; check it, start another
            _assert_same_run(out, reference)
            chains += 1
            out, fresh, done_epochs = tmp_path / f"chain{chains}", True, 0
            continue
        assert code == 130, err
        lines = [line for line in err.splitlines() if line.strip()][-1:]  # after any warnings
        assert lines and lines[0].startswith("mixtheory train: interrupted"), err
        assert not list(out.glob(f"*{TMP_SUFFIX}")) if out.exists() else True
        interrupts += 1
        writes += in_write
        if (out / "checkpoint.pt").is_file():
            assert "--resume" in lines[0]
            # whole: never a truncated file
            done_epochs = torch.load(out / "checkpoint.pt", weights_only=False)["epoch"]
            fresh = False
        else:  # interrupted before the first checkpoint: nothing was saved, nothing is left
            assert "nothing was saved" in lines[0]
            assert not out.exists(), sorted(p.name for p in out.iterdir())
            fresh, done_epochs = True, 0
    if not fresh:
        finish = subprocess.run(_command(out, True), env=_environment(), capture_output=True, text=True)
        assert finish.returncode == 0, finish.stderr
        _assert_same_run(out, reference)
    print(
        f"{interrupts} interrupts ({writes} during a write), {launches} processes, {chains} complete chains"
    )
    assert writes >= 1, "no interrupt landed while a file was being written"
