"""Atomic, durable writes: a file or directory appears complete under its name, or not at all.

Model directories, checkpoints, tag outputs, converted corpora and the Ray engine's
shards all go through `publish`: the new content is written under a temporary sibling
name, flushed to disk (`fsync`), renamed into place, and the directory holding it is
flushed too, so neither a killed process nor a power loss leaves a half-written file, or
a "complete" file whose rename was never recorded, under a name a user relies on.
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


def sync(path: Path) -> None:
    """Flush a file's data, or a directory's entries, to disk."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    except OSError:  # some filesystems cannot sync a directory; the rename is still atomic there
        if not path.is_dir():
            raise
    finally:
        os.close(fd)


def _sync_tree(path: Path) -> None:
    if path.is_dir():
        for item in path.iterdir():
            _sync_tree(item)
    sync(path)


def publish(complete: Path, target: Path) -> None:
    """Move a complete temporary file or directory (a sibling of `target`) to `target`, durably.

    A directory replacing another swaps with the old one moved aside first: a kill at any
    moment leaves the old complete directory (at worst under `.NAME.old-*/previous`) or the
    new complete one.
    """
    _sync_tree(complete)
    if complete.is_dir():
        complete.chmod(0o777 & ~_umask())
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / "previous")
            os.replace(complete, target)
            sync(target.parent)
            shutil.rmtree(old, ignore_errors=True)
            return
    os.replace(complete, target)
    sync(target.parent)


def write_file_atomic(path: Path, write: Callable[[Path], Any]) -> None:
    """Call `write(tmp)` on a temporary sibling of `path`, then publish it as `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        tmp.chmod(0o666 & ~_umask())  # mkstemp makes files private; give the usual permissions
        publish(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    write_file_atomic(path, lambda tmp: tmp.write_bytes(data))


def write_json(path: Path, data: Any) -> None:
    """Write JSON under a temporary name and publish it."""
    write_file_atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), "utf-8"))


def write_dir_atomic(target: Path, fill: Callable[[Path], None]) -> None:
    """Fill a temporary sibling directory, then publish it as `target` (see `publish`)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        fill(tmp)
        publish(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
