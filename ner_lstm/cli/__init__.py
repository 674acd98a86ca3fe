"""The command line: one thin Typer command per file, each over an importable library function.

`ner-lstm` is `ner_lstm.cli:app`; importing the command modules registers them.
"""
from __future__ import annotations

# importing the command modules registers the commands
from . import calibrate, convert, evaluate, info, patterns, predict, serve, tag, train  # noqa: F401
from .common import app

__all__ = ["app"]
