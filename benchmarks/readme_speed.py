"""Write the README's speed sections from the stored benchmark results, never by hand.

Each section sits between ``<!-- speed-NAME:begin -->`` and ``<!-- speed-NAME:end -->`` in
README.md and is rendered from one JSON in ``benchmarks/results/``:

- ``estimators``: ``bench_estimators.json`` (``bench_estimators.py``; reportable runs only: load
  at most 1.5, not ``--quick``);
- ``scaling``: ``bench_scaling.json`` (``bench_scaling.py``; not ``--quick``);
- ``gpu``: ``gpu_resnet18_cifar.json`` (``gpu_resnet18_cifar.py``, on a GPU, not ``--smoke``).

A missing or unreportable result renders as a line that says how to produce it.
``tests/test_readme_speed.py`` checks that the README equals what this script renders.

    python benchmarks/readme_speed.py          # rewrite the sections in README.md
    python benchmarks/readme_speed.py --check  # exit 1 if README.md differs
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
SOURCES = {
    "estimators": "bench_estimators.json",
    "scaling": "bench_scaling.json",
    "gpu": "gpu_resnet18_cifar.json",
}
ROWS = (
    ("library default", "`estimate_regularizers` default: collapsed Taylor mode, R13 from the probes"),
    ("library uncollapsed", '`method="taylor"` (one second-order row per probe)'),
    ("library r1=exact", '`r1="exact"` (R13 exact by c reverse passes)'),
    ("taylor collapsed g=8", "collapsed Taylor kernel alone (R2 only)"),
    ("competent double-backward loop", "competent double-backward loop (per probe: forward, backward, HVP)"),
    ("double-backward loop", "double-backward loop, shared graph (PyHessian style)"),
    ("vmap(jvp(grad))", "`vmap(jvp(grad))`"),
    ("forward", "forward pass over all m·K inputs at once"),
    ("forward in passes", "forward pass in the library's pass size"),
)
KINDS = {"cnn": "3×32×32 GELU CNN", "resnet": "ResNet-18 layout, width 8"}


def load(name: str) -> dict | None:
    path = RESULTS / SOURCES[name]
    return json.loads(path.read_text()) if path.exists() else None


def _fmt(stats, unit: str = "") -> str:
    med, lo, hi = stats
    return f"{med:.2f}{unit} [{lo:.2f}–{hi:.2f}]"


def render_estimators(record: dict | None) -> str:
    if record is None or not record.get("reportable") or record.get("quick"):
        return (
            "_Not yet measured on a quiet machine._ Run `python benchmarks/bench_estimators.py` where the "
            "load average stays at most 1.5 (it refuses otherwise), then `python benchmarks/readme_speed.py`."
        )
    results = record["results"]
    head = [f"{KINDS[r['kind']]}, {r['threads']} thr" for r in results]
    lines = [
        f"Forward units per probe (time ÷ the faster warm forward pass over the same m·K inputs, all at "
        f"once or in the library's pass size), median "
        f"[min–max] over {record['rounds']} paired rounds; {record['probes']} Gaussian probes, float32; "
        f"{record['machine']}; {record['date']}; load average at most "
        f"{max(max(r['load_before'], r['load_after']) for r in record['load']['runs']):.2f}.",
        "",
        "| route | " + " | ".join(head) + " |",
        "|---|" + "---|" * len(head),
    ]
    for key, label in ROWS:
        lines.append(f"| {label} | " + " | ".join(_fmt(r["units"][key]) for r in results) + " |")
    lines.append("")
    for base in ("competent double-backward loop", "double-backward loop"):
        cells = [
            f"{KINDS[r['kind']]} {r['threads']} thr {_fmt(r['speedups'][f'library default vs {base}'], '×')}"
            for r in results
        ]
        lines.append(f"Default over the {base} at equal probes: " + "; ".join(cells) + ".")
    k16 = _load_path(RESULTS / "bench_estimators_k16.json")
    if k16 is not None and k16.get("reportable") and not k16.get("quick"):
        cells = [
            f"{KINDS[r['kind']]} {r['threads']} thr {_fmt(r['units']['library default'])} "
            f"(collapsed kernel alone {_fmt(r['units']['taylor collapsed g=8'])})"
            for r in k16["results"]
        ]
        lines += [
            "",
            f"The same default route at {k16['probes']} probes per sample (still 8 groups; "
            f"`bench_estimators.py --probes {k16['probes']}`, {k16['date']}), forward units per probe: "
            + "; ".join(cells)
            + ". Eight collapsed second-order rows over 16 probes put the arithmetic alone near "
            "(1 + 16 + 8)/16 ≈ 1.56 forward passes per probe, hence the default of 32.",
        ]
    return "\n".join(lines)


def _load_path(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def render_scaling(record: dict | None) -> str:
    if record is None or record.get("quick"):
        return (
            "_Not yet measured._ Run `python benchmarks/bench_scaling.py` (each point in a fresh process), "
            "then `python benchmarks/readme_speed.py`."
        )
    lines = [
        f"Time and peak memory (whole process) against n at d = {record['d']} ({record['machine']}; "
        f"{record['date']}; {record['threads']} thread; each point a fresh process):",
        "",
        "| n | " + " | ".join(f"{route} s | {route} MiB" for route in record["routes"]) + " |",
        "|---|" + "---|---|" * len(record["routes"]),
    ]
    for row in record["rows"]:
        cells = []
        for route in record["routes"]:
            point = row["routes"].get(route)
            if point is None:
                cells += ["–", "–"]
            elif point["samples"] < row["n"]:
                projected = f"all n ≈ {point['projected_seconds']:.0f}"
                cells += [
                    f"{point['seconds']:.1f} ({point['samples']} samples; {projected})",
                    f"{point['peak_mib']:.0f}",
                ]
            else:
                cells += [f"{point['seconds']:.1f}", f"{point['peak_mib']:.0f}"]
        lines.append(f"| {row['n']:,} | " + " | ".join(cells) + " |")
    notes = record.get("notes")
    if notes:
        lines += ["", notes]
    return "\n".join(lines)


def render_gpu(record: dict | None) -> str:
    if record is None or record.get("smoke"):
        return (
            "_Not yet measured on a GPU._ `python benchmarks/gpu_resnet18_cifar.py` prints the line for "
            "this place (CIFAR-10-shaped smooth ResNet-18, 50,000 samples × 32 probes, the default)."
        )
    return record["readme_line"]


RENDER = {"estimators": render_estimators, "scaling": render_scaling, "gpu": render_gpu}


def section(text: str, name: str) -> re.Match:
    match = re.search(rf"(<!-- speed-{name}:begin -->\n)(.*?)(<!-- speed-{name}:end -->)", text, re.S)
    if match is None:
        raise SystemExit(f"README.md has no speed-{name} section markers")
    return match


def rendered_readme(text: str) -> str:
    for name, render in RENDER.items():
        match = section(text, name)
        text = text[: match.start(2)] + render(load(name)) + "\n" + text[match.end(2) :]
    return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only check; exit 1 if README.md differs")
    args = ap.parse_args(argv)
    text = README.read_text()
    new = rendered_readme(text)
    if args.check:
        print("README speed sections " + ("up to date" if new == text else "differ from the results"))
        return int(new != text)
    if new != text:
        sys.path.insert(0, str(ROOT))
        from mixtheory._io import write_text

        write_text(README, new)
        print(f"rewrote the speed sections of {os.path.relpath(README)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
