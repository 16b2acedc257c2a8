"""Shared fixtures: small smooth float64 models and data sets, everything seeded."""

from __future__ import annotations

import pytest
import torch
from hypothesis import settings

# Property tests search deterministically: the same examples on every run and in CI, so a run is
# reproducible from the commit alone (every other test seeds its own generators).
settings.register_profile("mixtheory", derandomize=True, print_blob=True)
settings.load_profile("mixtheory")


def make_data(n: int, d: int, c: int, seed: int, *, soft: bool = False, constant_features: int = 0):
    """Gaussian inputs with ``constant_features`` constant columns (singular Σ_xx) and one-hot
    or soft (softmax of Gaussian) labels that sum to 1."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    if constant_features:
        X[:, :constant_features] = 0.5
    if soft:
        Y = torch.softmax(torch.randn(n, c, generator=g, dtype=torch.float64) * 2, -1)
    else:
        Y = torch.nn.functional.one_hot(torch.randint(c, (n,), generator=g), c).to(torch.float64)
    return X, Y


def make_mlp(d: int, c: int, seed: int, hidden: int = 8, activation=torch.nn.Tanh, scale=1.0):
    """A float64 MLP with a smooth activation, in eval mode."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(d, hidden), activation(), torch.nn.Linear(hidden, c)).to(
        torch.float64
    )
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(scale)
    return model.eval()


@pytest.fixture
def small_problem():
    X, Y = make_data(24, 5, 3, seed=0)
    return X, Y, make_mlp(5, 3, seed=1)


@pytest.fixture(autouse=True)
def _sigint_handler_restored():
    """Each test leaves SIGINT's handler as it found it: `mixtheory.cli.main()` called without argv
    ignores SIGINT once its command is over (the program is ending), and an ignored SIGINT would be
    inherited by every subprocess a later test starts."""
    import signal

    before = signal.getsignal(signal.SIGINT)
    yield
    if signal.getsignal(signal.SIGINT) is not before and before is not None:
        signal.signal(signal.SIGINT, before)
