"""The model directory: `model.keras` plus JSON, written atomically and loaded in Keras safe mode.

```
NAME/model.keras     the network, uncompiled (no optimizer state)
NAME/config.json     format version, hyperparameters, training data, versions
NAME/vocab.json      words, characters, labels, GloVe words
NAME/crf.json        the CRF's transition, start and end scores (for decoding without Keras)
NAME/model.onnx      the network exported for onnxruntime (written when training ends)
NAME/metrics.json    scores of the selected epoch
NAME/training.jsonl  one line per epoch; training.png plots it
```
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ModelError

FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
CRF_FILE = "crf.json"
REQUIRED = (MODEL_FILE, "config.json", "vocab.json")


def write_json(path: Path, data: Any) -> None:
    """Write JSON under a temporary name and rename it into place."""
    write_file_atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), "utf-8"))


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


def write_dir_atomic(target: Path, fill: Callable[[Path], None]) -> None:
    """Fill a temporary sibling directory, then swap it in for `target`.

    A kill at any moment leaves either the old complete directory (possibly under
    a `.NAME.old-*` name) or the new complete one, never a half-written `target`.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        fill(tmp)
        tmp.chmod(0o777 & ~_umask())
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / "previous")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def save_bundle(
    target: Path, model: Any, config: dict, vocab: dict, metrics: dict, extra: Callable[[Path], None] | None = None
) -> None:
    """Write a complete model directory atomically; `extra` adds files (logs, plots) before the swap."""

    def fill(tmp: Path) -> None:
        model.save(tmp / MODEL_FILE)
        write_json(tmp / CRF_FILE, crf_json(model))
        write_json(tmp / "config.json", config)
        write_json(tmp / "vocab.json", vocab)
        write_json(tmp / "metrics.json", metrics)
        if extra is not None:
            extra(tmp)

    write_dir_atomic(target, fill)


def crf_json(model: Any) -> dict:
    """The CRF scores of a Keras model, as saved in `crf.json`."""
    layer = model.get_layer("crf")
    return {"transitions": layer.transitions.numpy().tolist(), "start": layer.start.numpy().tolist(),
            "end": layer.end.numpy().tolist()}


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"{path}: unreadable or not valid JSON ({err}); retrain or restore the model") from None


def check_dir(path: Path) -> None:
    """Fail clearly on a missing, incomplete or incompatible model directory."""
    if not path.exists():
        leftovers = sorted(path.parent.glob(f".{path.name}.old-*/previous"))
        if leftovers:  # killed in the instant between the two renames of write_dir_atomic
            raise ModelError(f"{path}: missing; a save was interrupted and the previous model is in "
                             f"{leftovers[-1]} (move it back to {path})")
        raise ModelError(f"{path}: no model here; train one with 'ner-lstm train --model {path}'")
    if not path.is_dir():
        raise ModelError(f"{path}: not a model directory")
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if missing:
        raise ModelError(f"{path}: incomplete model directory (missing {', '.join(missing)})")


def read_config(path: Path) -> dict:
    config = read_json(path / "config.json")
    if not isinstance(config, dict) or "format_version" not in config:
        raise ModelError(f"{path / 'config.json'}: not a ner-lstm model config")
    if config["format_version"] != FORMAT_VERSION:
        raise ModelError(
            f"{path / 'config.json'}: model format version {config['format_version']!r}, "
            f"this ner-lstm reads version {FORMAT_VERSION}; retrain the model with this version"
        )
    return config


def load_keras_model(path: Path) -> Any:
    """Load `model.keras` in safe mode: a file that would run code (a Lambda layer) is refused."""
    import keras

    from . import crf, model  # noqa: F401  (registers the custom layers)

    try:
        return keras.saving.load_model(path / MODEL_FILE, compile=False, safe_mode=True)
    except Exception as err:  # Keras raises many types for bad archives; all mean the same to a user
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelError(f"{path / MODEL_FILE}: cannot be loaded safely ({reason[:200]})") from None
