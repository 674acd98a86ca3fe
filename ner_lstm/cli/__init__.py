"""The command line: one thin Typer command per file, each over an importable library function.

`ner-lstm` is `ner_lstm.cli:app`; importing the command modules registers them.
"""
from __future__ import annotations

from . import calibrate, convert, evaluate, info, patterns, predict, serve, tag, train  # noqa: F401  (registers the commands)
from .common import app

__all__ = ["app"]
