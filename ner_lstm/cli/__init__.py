"""The command line: one thin Typer command per file, each over an importable library function.

`ner-lstm` is `ner_lstm.cli:app`; importing the command modules registers them.
"""
from __future__ import annotations

import os

# Numpy's BLAS on one thread, read when numpy loads (so before any command module imports it), and passed on
# to worker processes: decoding's larger matrix products were split over OpenBLAS's threads, which then spun
# waiting for more on the CPUs the network needs. Tagging CoNLL-2003 in one process on two CPUs spent 1.6 s
# of its 6.7 s of CPU in OpenBLAS's idle thread and took 3.58 s, 3.10 s with one. A user's own setting stays.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# importing the command modules registers the commands
from . import calibrate, convert, evaluate, info, patterns, predict, serve, tag, train  # noqa: F401
from .common import app

__all__ = ["app"]
