"""Errors a user can cause, each with the exit code the CLI ends with.

The CLI prints ``str(error)`` on one line and exits with ``error.exit_code``;
anything else that escapes is an internal failure (exit 1).
"""
from __future__ import annotations

from pathlib import Path

EXIT_USAGE = 2
EXIT_INTERNAL = 1


class NerError(Exception):
    """Base class: a message meant for the user, and the exit code to end with."""

    exit_code = EXIT_USAGE


class InputError(NerError):
    """A corpus or text input is unreadable or malformed."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = None if path is None else str(path)
        self.line = line


class InputWarning(UserWarning):
    """Something in an input was read in a way the user should know about (the CLI prints one line)."""


class ModelError(NerError):
    """A model directory is missing, incomplete, tampered with or incompatible."""


class UsageError(NerError):
    """Options that contradict each other or the state on disk."""


class Interrupted(NerError):
    """Ctrl-C: what was saved is named in the message."""

    exit_code = 130
