r"""Running a registered figure: cached units, the CSV, the provenance JSON, the PNG and the PDF.

For a figure ``f`` and an output directory ``out``, :func:`run_figure` writes (``out`` for a quick
run; ``out/full/`` for a full one, so that the two scales never overwrite each other)

- ``out/<stem>.csv``: every measurement, one row each (long format: coordinates, ``seed``,
  ``metric``, ``value``);
- ``out/<stem>.json``: :func:`mixtheory.provenance.provenance` (commit, versions, seeds, device,
  wall time, data) plus the configuration, the per-unit timings, the measured headline and its
  checks;
- ``out/<stem>.png`` and ``out/<stem>.pdf``, drawn from the CSV alone (``redraw_figure`` redraws
  them without computing anything);
- ``out/.cache/<stem>/<unit>-seed<k>-<hash>.csv``: the rows of each (unit, seed), written when the
  unit finishes and reused by the next run. The hash covers the figure's version, the mode, the
  configuration, the unit and the device type, so a changed configuration never reuses old rows.

Every file is written atomically (:mod:`mixtheory._io`). ``out`` must be absent, empty or
mixtheory's results directory (marked by ``.mixtheory.json``, or holding a figure JSON or the
cache): a directory of someone else's files is refused, never written into. The hardware a
configuration needs (a GPU for some ``--full`` runs) is checked only when a unit has to be computed,
so stored results are redrawn and re-read on any machine.

:func:`run_figure` and :func:`redraw_figure` report the one result type,
:class:`mixtheory.verification.Result` (:func:`~._registry.figure_result`), whose sub-record
:class:`RunResult` (paths, headline, checks, timings) reads through it.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import math
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from .._io import atomic_open, check_output_dir, output_dir
from .._progress import progress_bar
from .._types import DeviceLike
from .._validation import check_device
from ..provenance import write_provenance
from ..verification import Provenance, Result
from ._registry import DrawInfo, Figure, Mode, Unit, figure_result

__all__ = [
    "Context",
    "check_out",
    "pending_units",
    "scale_dir",
    "RunResult",
    "aggregate",
    "check_requirements",
    "read_rows",
    "redraw_figure",
    "run_figure",
    "write_rows",
]

#: columns that come first in every CSV, in this order
LEADING = ("figure", "mode", "unit", "seed")
TRAILING = ("metric", "value")


@dataclass(frozen=True)
class Context:
    """What ``compute`` may use besides its parameters: the torch ``device``, the ``data`` path
    (the CIFAR-10 directory of a full run, else None), the ``mode`` and whether to show progress
    bars."""

    device: torch.device
    mode: Mode
    data: Path | None = None
    progress: bool | None = None

    def bar(self, total: int, desc: str) -> tqdm:
        """A progress bar over ``total`` steps (:func:`mixtheory._progress.progress_bar`: only on a
        terminal)."""
        return progress_bar(total, desc, self.progress if self.progress is not None else True)


@dataclass
class RunResult:
    """What a run produced: the paths, the headline and its checks, and the timings (``wall_s``
    and ``cpu_s`` of this process; units found in the cache cost nothing)."""

    figure: Figure
    paths: dict[str, Path]
    headline: dict[str, Any]
    checks: dict[str, bool]
    wall_s: float
    cpu_s: float
    units_computed: int = 0
    units_cached: int = 0
    unit_times: dict[str, float] = field(default_factory=dict)

    def one_line_of(self, result: Result) -> str:
        """The table's evidence cell: the measured headline's text."""
        return str(self.headline.get("text", ""))

    def json_fields(self) -> dict[str, Any]:
        """The run's own fields for a JSON record."""
        return {
            "figure": self.figure.name,
            "paths": {k: p.as_posix() for k, p in self.paths.items()},
            "wall_s": self.wall_s,
            "cpu_s": self.cpu_s,
            "units_computed": self.units_computed,
            "units_cached": self.units_cached,
        }

    def to_result(self, provenance: Provenance | None = None) -> Result:
        """This run as the one result type (:func:`~._registry.figure_result`)."""
        return figure_result(
            self.figure.name, self.headline, self.checks, self, provenance, self.figure.statement
        )


def _stored_provenance(path: Path) -> Provenance | None:
    """The provenance of the figure JSON at ``path`` (None when absent or unreadable)."""
    try:
        return Provenance.from_record(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError):
        return None


# ---------------------------------------------------------------------------------------------
# rows and tables
# ---------------------------------------------------------------------------------------------


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    middle = [k for k in seen if k not in LEADING and k not in TRAILING]
    return [k for k in LEADING if k in seen] + middle + [k for k in TRAILING if k in seen]


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))  # shortest round-trip representation
    return str(value)


def _parse(text: str) -> Any:
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def write_rows(path: str | Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write ``rows`` as a CSV (columns: :data:`LEADING`, the coordinates, ``metric``, ``value``),
    atomically: a reader never sees half a file."""
    path = Path(path)
    columns = _columns(rows)
    with atomic_open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_format(row.get(c)) for c in columns])
    return path


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a CSV written by :func:`write_rows`; numbers come back as int or float, empty
    cells as None."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: _parse(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def best_and_last(curves: Iterable[Mapping[str, Any]]) -> tuple[list[float], list[float]]:
    """Per seed, the best value over epochs > 0 and the value at the last epoch of a training curve
    (rows with ``seed``, ``epoch`` and ``value``), in seed order.

    >>> rows = [{"seed": 0, "epoch": e, "value": v} for e, v in enumerate([0.1, 0.9, 0.8])]
    >>> best_and_last(rows)
    ([0.9], [0.8])
    """
    curves = list(curves)
    best, last = [], []
    for seed in sorted({int(r["seed"]) for r in curves}):
        curve = sorted((int(r["epoch"]), float(r["value"])) for r in curves if int(r["seed"]) == seed)
        best.append(max(v for e, v in curve if e > 0))
        last.append(curve[-1][1])
    return best, last


def mean_and_std(values: Iterable[float]) -> list[float]:
    """[mean, standard deviation (ddof = 1; 0 for a single value)] of a list of per-seed values."""
    values = [float(v) for v in values]
    if len(values) < 2:
        return [values[0], 0.0]
    mean = sum(values) / len(values)
    return [mean, (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5]


def aggregate(rows: Iterable[Mapping[str, Any]], over: str = "seed") -> list[dict[str, Any]]:
    """Mean and standard deviation (ddof = 1; 0 for a single value) of ``value`` over ``over``,
    grouped by every other column. Returns one dict per group with the group's columns plus
    ``mean``, ``std`` and ``count``, in first-seen order.

    >>> rows = [{"seed": s, "metric": "m", "x": 1, "value": v} for s, v in enumerate([1.0, 3.0])]
    >>> aggregate(rows)
    [{'metric': 'm', 'x': 1, 'mean': 2.0, 'std': 1.4142135623730951, 'count': 2}]
    """
    groups: dict[tuple, list[float]] = {}
    keys: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        coords = {k: v for k, v in row.items() if k not in (over, "value")}
        key = tuple(sorted((k, str(v)) for k, v in coords.items()))
        groups.setdefault(key, []).append(float(row["value"]))
        keys.setdefault(key, coords)
    out = []
    for key, values in groups.items():
        arr = np.asarray(values, dtype=np.float64)
        std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
        out.append({**keys[key], "mean": float(arr.mean()), "std": std, "count": int(arr.size)})
    return out


def select(rows: Iterable[Mapping[str, Any]], **where: Any) -> list[Mapping[str, Any]]:
    """The rows whose columns equal ``where`` (floats compared with a relative 1e-12)."""

    def same(a: Any, b: Any) -> bool:
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)
        return a == b

    return [r for r in rows if all(k in r and same(r[k], v) for k, v in where.items())]


# ---------------------------------------------------------------------------------------------
# requirements, threads
# ---------------------------------------------------------------------------------------------


def resolve_device(device: DeviceLike, mode: Mode) -> torch.device:
    """``device`` as a torch device; None means CPU for a quick or standard run and CUDA for a full one."""
    if device is None:
        device = "cuda" if mode == "full" else "cpu"
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"--device {device!r} is not a torch device (cpu, cuda, cuda:1, …)") from exc


def check_requirements(
    figures: Sequence[Figure], mode: Mode, device: torch.device, data: str | Path | None
) -> None:
    """Raise a ValueError naming a ``device`` this machine does not have, and every requested
    figure whose ``mode`` configuration needs a GPU or the CIFAR-10 directory that this run does not
    have. (Call it for the figures with units still to compute: stored results need nothing.)"""
    problems = []
    if figures:
        try:
            check_device(str(device), "--device")
        except ValueError as exc:
            problems.append(str(exc))
    for figure in figures:
        needs = figure.config(mode).requires
        missing = []
        if "gpu" in needs and (device.type != "cuda" or not torch.cuda.is_available()):
            why = "no CUDA device is available" if not torch.cuda.is_available() else f"--device is {device}"
            missing.append(f"a CUDA GPU ({why}; pass --device cuda on a machine with one)")
        if "cifar10" in needs:
            if data is None:
                missing.append(
                    "the CIFAR-10 python-pickle directory (--data PATH, holding data_batch_1 … "
                    "data_batch_5, test_batch and batches.meta)"
                )
            elif not Path(data).is_dir():
                missing.append(f"the CIFAR-10 directory, but --data {data} is not a directory")
        if missing:
            problems.append(f"{figure.name} --{mode} needs " + " and ".join(missing))
    if problems:
        raise ValueError("; ".join(problems) + ". (--quick runs every figure on the CPU with bundled data.)")


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run with ``threads`` torch threads (None: leave as is); restores the setting."""
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ---------------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------------


def _unit_hash(figure: Figure, mode: Mode, unit: Unit, device: torch.device) -> str:
    payload = {
        "figure": figure.name,
        "version": figure.version,
        "mode": mode,
        "params": figure.config(mode).params,
        "unit": unit.params,
        "device": device.type,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _seeds(figure: Figure, mode: Mode, seeds: int | None) -> list[int]:
    if not figure.seeded:
        return [0]
    k = figure.config(mode).seeds if seeds is None else int(seeds)
    if k < 1:
        raise ValueError(f"--seeds must be at least 1, got {k}")
    return list(range(k))


def scale_dir(out_dir: str | Path, mode: Mode) -> Path:
    """Where a run of ``mode`` writes: ``out_dir`` for quick, ``out_dir/full`` for full."""
    return Path(out_dir) if mode == "quick" else Path(out_dir) / mode


def _paths(figure: Figure, out_dir: Path, mode: Mode = "quick") -> dict[str, Path]:
    where = scale_dir(out_dir, mode)
    return {ext: where / f"{figure.stem}.{ext}" for ext in ("csv", "json", "png", "pdf")}


def _holds_results(path: Path) -> bool:
    """A results directory written before markers existed: the cache, or a figure's JSON."""
    if (path / ".cache").is_dir():
        return True
    for json_path in path.glob("*.json"):
        try:
            record = json.loads(json_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and "figure" in record and "headline" in record:
            return True
    return False


def check_out(out_dir: str | Path, option: str = "out_dir") -> Path:
    """Check, creating nothing, that ``out_dir`` may receive figure results (module docstring);
    ``option`` names the argument in the message (``--out`` on the command line)."""
    return check_output_dir(
        out_dir, "reproduce", option, recognise=_holds_results, what="mixtheory reproduce results"
    )


def _draw(figure: Figure, rows: list[dict[str, Any]], paths: dict[str, Path]) -> None:
    from ._plotting import save

    mode = rows[0]["mode"] if rows else "quick"
    seeds = tuple(sorted({int(r["seed"]) for r in rows}))
    info = DrawInfo(figure=figure, mode=mode, config=figure.config(mode), seeds=seeds)
    save(figure.draw(rows, info), paths["png"], paths["pdf"])


def _cache_path(cache: Path, figure: Figure, mode: Mode, unit: Unit, seed: int, device: torch.device) -> Path:
    return cache / f"{unit.key}-seed{seed}-{_unit_hash(figure, mode, unit, device)}.csv"


def pending_units(
    figure: Figure,
    mode: Mode,
    out_dir: str | Path,
    *,
    seeds: int | None = None,
    device: torch.device,
    cache_dir: str | Path | None = None,
) -> int:
    """How many (unit, seed) of ``figure`` at ``mode`` are not in the cache (and must be computed)."""
    cache = Path(cache_dir) if cache_dir is not None else Path(out_dir) / ".cache" / figure.stem
    units = list(figure.units(figure.config(mode).params))
    work = [(u, s) for s in _seeds(figure, mode, seeds) for u in units]
    return sum(not _cache_path(cache, figure, mode, u, s, device).is_file() for u, s in work)


def _compute_unit(
    figure: Figure, mode: Mode, unit: Unit, seed: int, params: Mapping[str, Any], ctx: Context
) -> list[dict[str, Any]]:
    """The rows of one (unit, seed), computed, with the leading columns filled in."""
    produced = figure.compute(unit, seed, params, ctx)
    unit_rows = [{"figure": figure.name, "mode": mode, "unit": unit.key, "seed": seed, **r} for r in produced]
    bad = [r for r in unit_rows if "metric" not in r or "value" not in r]
    if bad:
        raise RuntimeError(f"{figure.name}: compute returned rows without metric/value: {bad[:2]}")
    return unit_rows


def _collect_rows(
    figure: Figure,
    mode: Mode,
    params: Mapping[str, Any],
    units: Sequence[Unit],
    seed_list: Sequence[int],
    ctx: Context,
    cache: Path,
) -> tuple[list[dict[str, Any]], dict[str, float], int, int]:
    """Every (unit, seed)'s rows, from the cache or computed (and then cached), seeds outermost;
    also the seconds of each computed unit and the counts computed and cached."""
    rows: list[dict[str, Any]] = []
    unit_times: dict[str, float] = {}
    computed = cached = 0
    work = [(u, s) for s in seed_list for u in units]
    with ctx.bar(len(work), f"{figure.name}: units") as bar:
        for unit, seed in work:
            path = _cache_path(cache, figure, mode, unit, seed, ctx.device)
            if path.is_file():
                unit_rows = read_rows(path)
                cached += 1
            else:
                t0 = time.perf_counter()
                unit_rows = _compute_unit(figure, mode, unit, seed, params, ctx)
                write_rows(path, unit_rows)
                unit_times[f"{unit.key}/seed{seed}"] = round(time.perf_counter() - t0, 3)
                computed += 1
            rows.extend(unit_rows)
            bar.update(1)
    return rows, unit_times, computed, cached


def run_figure(
    figure: Figure,
    mode: Mode = "quick",
    out_dir: str | Path = "results/reproduce",
    *,
    seeds: int | None = None,
    device: DeviceLike = None,
    data: str | Path | None = None,
    threads: int | None = None,
    cache_dir: str | Path | None = None,
    progress: bool | None = None,
) -> Result:
    """Compute (or take from the cache) every (unit, seed) of ``figure``, then write the CSV, the
    provenance JSON, the PNG and the PDF into ``out_dir`` (``out_dir/full`` for ``mode="full"``;
    module docstring).

    ``out_dir`` is checked first (absent, empty or mixtheory's results; never a directory of other
    files); the device and the configuration's requirements only when some unit is not cached.
    ``threads``: torch threads while computing (None: one for a quick run on the CPU, where the
    tensors are small and thread hand-offs cost more than they save; torch's default otherwise).
    Returns the run's :class:`~mixtheory.verification.Result` (a :class:`RunResult` its sub-record).
    """
    dev = resolve_device(device, mode)
    out_dir = check_out(out_dir)
    if pending_units(figure, mode, out_dir, seeds=seeds, device=dev, cache_dir=cache_dir):
        check_requirements([figure], mode, dev, data)
    config = figure.config(mode)
    cache = Path(cache_dir) if cache_dir is not None else out_dir / ".cache" / figure.stem
    paths = _paths(figure, out_dir, mode)
    seed_list = _seeds(figure, mode, seeds)
    units = list(figure.units(config.params))
    ctx = Context(device=dev, mode=mode, data=None if data is None else Path(data), progress=progress)
    if threads is None and mode in ("quick", "standard") and dev.type == "cpu":
        threads = 1

    wall0, cpu0 = time.perf_counter(), time.process_time()
    with output_dir(out_dir, "reproduce"):
        with torch_threads(threads):
            rows, unit_times, computed, cached = _collect_rows(
                figure, mode, config.params, units, seed_list, ctx, cache
            )
        write_rows(paths["csv"], rows)
        table = read_rows(paths["csv"])  # the headline and the drawing see exactly what the CSV holds
        headline = figure.headline(table)
        checks = {k: bool(v) for k, v in figure.checks(headline).items()}
        _draw(figure, table, paths)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        write_provenance(
            paths["json"],
            seeds=seed_list,
            device=dev,
            wall_time_s=round(wall, 3),
            data=config.describe,
            figure=figure.name,
            title=figure.title,
            claims=list(figure.claims),
            statement=figure.statement,
            mode=mode,
            configuration=dict(config.params),
            cpu_time_s=round(cpu, 3),
            torch_threads=threads if threads is not None else torch.get_num_threads(),
            units={"computed": computed, "cached": cached, "seconds": unit_times},
            headline=headline,
            checks=checks,
            outputs={k: p.name for k, p in paths.items()},
        )
    run = RunResult(figure, paths, headline, checks, wall, cpu, computed, cached, unit_times)
    return run.to_result(_stored_provenance(paths["json"]))


def redraw_figure(figure: Figure, out_dir: str | Path = "results/reproduce", mode: Mode = "quick") -> Result:
    """Redraw the PNG and the PDF of ``figure`` at ``mode`` from its CSV in ``out_dir`` (``out_dir/full``
    for full), computing nothing and needing no GPU; the headline is re-measured from the CSV (the JSON
    is left as the run wrote it)."""
    out_dir = check_out(out_dir)
    paths = _paths(figure, out_dir, mode)
    if not paths["csv"].is_file():
        raise FileNotFoundError(
            f"{paths['csv']} does not exist: run `mixtheory reproduce {figure.name} --{mode}` first "
            "(--redraw only redraws)"
        )
    wall0, cpu0 = time.perf_counter(), time.process_time()
    table = read_rows(paths["csv"])
    if not table:
        raise ValueError(f"{paths['csv']} holds no rows")
    headline = figure.headline(table)
    checks = {k: bool(v) for k, v in figure.checks(headline).items()}
    _draw(figure, table, paths)
    run = RunResult(figure, paths, headline, checks, time.perf_counter() - wall0, time.process_time() - cpu0)
    return run.to_result(_stored_provenance(paths["json"]))
