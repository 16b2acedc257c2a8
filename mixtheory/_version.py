"""The package's version, in a module of its own so that :mod:`mixtheory.provenance` can read it
without importing the package ``__init__`` (which imports the training loop, which imports
provenance)."""

__version__ = "0.1.0"
