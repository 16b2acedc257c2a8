"""Verdicts given to the audit's entries (issue 19): the R1 and R3 readings by computation, and the
figure rules of the blobs, approximate-mixup and α-schedule entries on fabricated per-seed data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mixtheory import ledger
from mixtheory.ledger.audit_interpretations import r1_wls_identity, r3_entropy_order
from mixtheory.provenance import write_provenance
from mixtheory.reproduce import get_figure
from mixtheory.reproduce._runner import read_rows, write_rows
from mixtheory.reproduce.decision_boundaries_blobs import boundary_distance, offset_toward_confused

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "figures" / "reproduce"


def test_r1_is_the_excess_weighted_least_squares_risk_even_with_singular_covariances():
    # d > n: Σ_xx^(i) is singular and J^(i) uses its pseudo-inverse; the identities still hold
    err = r1_wls_identity(seed=5, n=6, d=9, c=4)
    assert max(err.values()) < 1e-10, err


def test_r3_follows_the_entropy_for_two_classes_only_and_the_h_form_reverses_it():
    r = r3_entropy_order(num_predictions=150, seed=2)
    assert r["binary_tau"] > 0.999 and r["binary_tau_h"] < -0.999
    assert r["binary_closed_form_error"] < 1e-12
    assert 0 < r["tau_min"] <= r["tau_max"] < 0.6  # ten classes: positive but far from monotone
    assert r["tau_h_max"] < 0
    # the witness: a lower-entropy prediction with a higher (less negative) R3
    assert r["witness_low_entropy"] < r["witness_high_entropy"]
    assert r["witness_low_entropy_r3"] > r["witness_high_entropy_r3"]


def test_r1_and_r3_entries():
    assert ledger.get_claim("seed001-r1-jacobian-wls").verdict == "holds"
    c = ledger.get_claim("seed001-r3-lowers-entropy")
    assert c.verdict == "conditional" and "two classes" in c.condition


def test_offset_toward_confused_is_signed_and_scaled():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 1, (200, 2)), rng.normal([6, 0], 1, (200, 2))])
    y = np.repeat([0, 1], 200)
    prob = np.tile([0.5, 0.5], (400, 1))
    z = offset_toward_confused(X, y, prob)
    assert abs(np.median(z)) < 0.2 and abs(z.std() - 1) < 0.1  # within-class SDs
    toward = (y == 0) & (X[:, 0] > 1.5)  # class 0 points far toward class 1
    assert (z[toward] > 1.2).all()


def test_boundary_distance_against_brute_force():
    rng = np.random.default_rng(1)
    grid = rng.uniform(-1, 1, (300, 2))
    cls = (grid[:, 0] > 0).astype(int)
    pts = rng.uniform(-1, 1, (20, 2))
    pred = (pts[:, 0] > 0).astype(int)
    want = [np.sqrt(((grid[cls != p] - x) ** 2).sum(1)).min() for x, p in zip(pts, pred)]
    np.testing.assert_allclose(boundary_distance(pts, pred, grid, cls), want, rtol=0, atol=1e-15)


def _store(tmp: Path, figure: str, rows: list[dict[str, Any]], like: Path) -> None:
    """A stored standard-scale result of ``figure`` from ``rows`` (CSV, and the JSON with the figure's
    own headline and the configuration of the committed JSON ``like``)."""
    path = ledger.figures.result_path(figure, tmp, "standard")
    rows = [{**r, "mode": "standard"} for r in rows]
    write_rows(path.with_suffix(".csv"), rows)
    write_provenance(
        path,
        seeds=sorted({int(r["seed"]) for r in rows}),
        device="cpu",
        wall_time_s=1.0,
        data=f"fabricated {figure} data",
        figure=figure,
        claims=[],
        mode="standard",
        configuration=json.loads(like.read_text(encoding="utf-8"))["configuration"],
        headline=get_figure(figure).headline(rows),
        checks={},
    )


def _verdict(tmp: Path, claim_id: str, figure: str, shift, noise: float, seeds: int = 10) -> str:
    """The verdict of ``claim_id`` on ``seeds`` copies of the committed seed-0 rows of ``figure``,
    each value moved by ``shift(row)`` plus seeded N(0, noise²) per (seed, unit, metric)."""
    stem = figure.replace("-", "_")
    where = COMMITTED / "standard" if (COMMITTED / "standard" / f"{stem}.csv").is_file() else COMMITTED
    # seed 0's per-seed readouts (not the grid and per-sample rows a drawing needs)
    base = [
        r
        for r in read_rows(where / f"{stem}.csv")
        if int(r["seed"]) == 0 and r.get("grid_x") is None and r.get("sample") is None
    ]
    rows = []
    for k in range(seeds):
        rng = np.random.default_rng(k)
        noise_of: dict[tuple, float] = {}
        for r in base:
            key = (r["unit"], r["metric"])
            e = noise_of.setdefault(key, float(rng.normal(0, noise)))
            rows.append({**r, "seed": k, "value": float(r["value"]) + shift(r) + e})
    _store(tmp, figure, rows, where / f"{stem}.json")
    return ledger.decide_from_results(ledger.get_claim(claim_id), tmp).verdict


def _set(metric: str, target: float, units=None):
    """A shift that moves ``metric`` (of ``units``) to ``target`` before noise."""

    def shift(r: dict[str, Any]) -> float:
        if r["metric"] != metric or (units and r["unit"] not in units) or r.get("sample") is not None:
            return 0.0
        return target - float(r["value"])

    return shift


@pytest.mark.parametrize(
    ("target", "noise", "seeds", "verdict"),
    [(1.0, 0.02, 10, "holds"), (0.05, 0.02, 10, "fails"), (0.3, 0.8, 4, "inconclusive")],
)
def test_outside_cluster_rule(tmp_path: Path, target: float, noise: float, seeds: int, verdict: str):
    shift = _set("offset_hard_minus_all", target)
    got = _verdict(tmp_path, "seed000-hard-outside-cluster", "decision-boundaries-blobs", shift, noise, seeds)
    assert got == verdict


@pytest.mark.parametrize(("ratio", "verdict"), [(0.6, "holds"), (0.97, "fails")])
def test_hard_pairing_rule(tmp_path: Path, ratio: float, verdict: str):
    shift = _set("mixed_distance_ratio_hard_over_random", ratio, {"hard-pairing"})
    got = _verdict(tmp_path, "seed000-hard-pairing-near-boundary", "decision-boundaries-blobs", shift, 0.02)
    assert got == verdict


def _accuracy_gain(size: float):
    return lambda r: size if r["unit"] == "sine-lambda" and r["metric"] == "test_accuracy" else 0.0


@pytest.mark.parametrize(("gain", "verdict"), [(0.02, "holds"), (-0.02, "fails")])
def test_alpha_schedule_rule(tmp_path: Path, gain: float, verdict: str):
    got = _verdict(
        tmp_path, "seed000-alpha-vs-lambda-scheduler", "alpha-schedules", _accuracy_gain(gain), 0.002
    )
    assert got == verdict


_BETWEEN = {"erm": 1e4, "approx": 50.0, "mixup": 5.0}
_BELOW = {"erm": 1e4, "approx": 1.0, "mixup": 5.0}


@pytest.mark.parametrize(("r1", "verdict"), [(_BETWEEN, "holds"), (_BELOW, "fails")])
def test_approximate_mixup_rule(tmp_path: Path, r1: dict[str, float], verdict: str):
    def shift(r: dict[str, Any]) -> float:
        return r1[r["unit"]] - float(r["value"]) if r["metric"] == "R1" else 0.0

    got = _verdict(tmp_path, "seed000-approximate-mixup", "approximate-mixup", shift, 0.01)
    assert got == verdict
