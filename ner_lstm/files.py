"""Atomic writes: a file or directory appears complete under its name, or not at all.

Model directories, checkpoints and tag outputs all go through here, so a killed
process never leaves a half-written file under a name a user relies on.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_file_atomic(path: Path, write: Callable[[Path], Any]) -> None:
    """Call `write(tmp)` on a temporary sibling of `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        tmp.chmod(0o666 & ~_umask())  # mkstemp makes files private; give the usual permissions
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, data: Any) -> None:
    """Write JSON under a temporary name and rename it into place."""
    write_file_atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), "utf-8"))


def write_dir_atomic(target: Path, fill: Callable[[Path], None]) -> None:
    """Fill a temporary sibling directory, then swap it in for `target`.

    A kill at any moment leaves either the old complete directory (possibly under
    a `.NAME.old-*` name) or the new complete one, never a half-written `target`.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        fill(tmp)
        replace_dir(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def replace_dir(complete: Path, target: Path) -> None:
    """Swap a complete directory in for `target` (a sibling of it), the old one moved aside first."""
    complete.chmod(0o777 & ~_umask())
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, old / "previous")
        os.replace(complete, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(complete, target)
