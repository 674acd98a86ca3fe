"""Tagging on a Ray cluster: Ray Data reads the inputs as shards, a pool of actors tags them.

Each read task cuts one input file into shards (`shards.file_shards`), one shard per
row, so however Ray groups rows, a shard is tagged whole by one call. Each actor
holds one onnxruntime session (sessions cannot be pickled, so the actor builds its
own from the model files it receives through the object store: workers need no
shared filesystem for the model) and writes each shard's output under a temporary
name, then moves it into place. The driver records every finished shard in the
manifest; `--resume` skips those. A killed actor is restarted by Ray and its shard
tagged again into the same name, so the output holds every record exactly once.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..extras import require

require("ray", "the Ray engine (--engine ray)")

import ray  # noqa: E402
from ray.data import ActorPoolStrategy, Datasource  # noqa: E402
from ray.data.block import BlockMetadata  # noqa: E402
from ray.data.datasource import ReadTask  # noqa: E402

from ..cpus import available_cpus  # noqa: E402
from ..data.sources import Fields  # noqa: E402
from ..data.writers import UNSCORED, writer_for  # noqa: E402
from ..errors import InputWarning, Interrupted, NerError, UsageError  # noqa: E402
from ..files import publish  # noqa: E402
from ..inference.bundle import MANIFEST_FILE, check_dir, plain_file_name, read_json  # noqa: E402
from ..inference import BATCH_SIZE  # noqa: E402
from ..inference.tagger import Tagger  # noqa: E402
from .local import render_window, windows  # noqa: E402
from .outputs import OUTPUT_EXTENSIONS, rows_table  # noqa: E402
from . import SHARD_BYTES  # noqa: E402
from .shards import (Shard, ShardManifest, expand_sources, file_shards, filesystem,  # noqa: E402
                     locate, remove_temporaries, shard_name, source_identity, write_atomic)

RAY_FORMATS = ("jsonl", "parquet")
SHARD_COLUMNS = ("file", "block", "source", "input_format", "first", "data")
MANIFEST_FIELDS = ("shard", "source", "file", "block", "input_format", "first_id", "last_id", "records", "sentences",
                   "tokens")
INTEGER_FIELDS = {"file", "block", "first_id", "last_id", "records", "sentences", "tokens"}


@dataclass
class RayOptions:
    """What shapes a run's output (recorded in its manifest) and how the work is spread."""

    input_format: str = "auto"
    output_format: str = "jsonl"
    fields: Fields = field(default_factory=Fields)
    field_prefix: str = ""
    encoding: str = "utf-8"
    shard_bytes: int = SHARD_BYTES
    batch_size: int = BATCH_SIZE
    workers: int | None = None  # actors; default: the cluster's CPUs / threads
    threads: int | None = None  # onnxruntime threads per actor; default 1 (faster: docs/results "On a cluster")
    address: str | None = None  # an existing cluster ("auto", "ray://host:10001"); None starts one here

    def identity(self) -> dict:
        return {"input_format": self.input_format, "output_format": self.output_format,
                "fields": asdict(self.fields), "field_prefix": self.field_prefix, "encoding": self.encoding,
                "shard_bytes": self.shard_bytes}


def model_files(path: Path) -> dict[str, bytes]:
    """Every file of a checked model directory, to send through Ray's object store."""
    check_dir(path)
    names = [*read_json(path / MANIFEST_FILE)["files"], MANIFEST_FILE]
    return {name: (path / name).read_bytes() for name in names}


MODEL_CACHE = Path(tempfile.gettempdir()) / "ner-lstm-models"
KEEP_CACHED_MODELS = 2


def materialise_model(files: dict[str, bytes], cache: Path = MODEL_CACHE) -> Path:
    """The model written once per machine under the temporary directory, named by its manifest's digest
    (several actors on one node share it; a copy already there is reused). Only the most recently used
    models are kept: an actor that needs an evicted one writes it again from the object store."""
    for name in files:
        if not plain_file_name(name):
            raise UsageError(f"the model's {MANIFEST_FILE} lists {name!r}, which is not a file name")
    digest = hashlib.sha256(files[MANIFEST_FILE]).hexdigest()[:24]
    target = cache / digest
    if (target / MANIFEST_FILE).is_file():
        os.utime(target)
        return target
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{digest}.", dir=cache))
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        publish(tmp, target)
    except OSError:
        if not (target / MANIFEST_FILE).is_file():  # not another actor's copy that won the race
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _evict(cache, keep=target)
    return target


def _evict(cache: Path, keep: Path) -> None:
    """Remove all but the KEEP_CACHED_MODELS most recently used models (a loaded model's memory-mapped
    files stay readable to the process using them after removal)."""
    cached = sorted((p for p in cache.iterdir() if p.is_dir() and not p.name.startswith(".") and p != keep),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for old in cached[KEEP_CACHED_MODELS - 1:]:
        shutil.rmtree(old, ignore_errors=True)


class ShardSource(Datasource):
    """A Ray Data datasource: one read task per input file, one row per shard not yet done."""

    def __init__(self, sources: list[str], sizes: list[int], options: RayOptions, done: set[tuple[int, int]]) -> None:
        super().__init__()
        self.sources, self.sizes, self.options, self.done = sources, sizes, options, done

    def get_name(self) -> str:
        return "NerLstmShards"

    def estimate_inmemory_data_size(self) -> int:
        return sum(self.sizes)

    def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None,
                       data_context: Any = None) -> list[ReadTask]:
        return [ReadTask(_ReadFile(source, locate(source), index, self.options.input_format, self.options.shard_bytes,
                                   {block for file, block in self.done if file == index}),
                         BlockMetadata(num_rows=None, size_bytes=size, exec_stats=None, input_files=[source]))
                for index, (source, size) in enumerate(zip(self.sources, self.sizes))]


@dataclass
class _ReadFile:
    """A read task's function: the shards of one file as one-row Arrow tables (picklable, unlike a
    closure). An input that cannot be read becomes a row holding the error, for the driver to print."""

    source: str
    location: str
    index: int
    input_format: str
    shard_bytes: int
    done: set[int]  # blocks of this file already tagged

    def __call__(self) -> Any:
        try:
            for shard in file_shards(self.source, self.index, self.input_format, self.shard_bytes, self.location):
                if shard.block not in self.done:
                    yield _shard_row(shard)
        except NerError as err:
            yield _shard_row(Shard(self.index, -1, self.source, self.input_format, 0, b""), str(err))
        except OSError as err:
            yield _shard_row(Shard(self.index, -1, self.source, self.input_format, 0, b""),
                             f"{self.source}: cannot be read ({str(err).splitlines()[0][:200]})")


def _shard_row(shard: Shard, error: str | None = None) -> Any:
    import pyarrow as pa

    columns = {name: pa.array([getattr(shard, name)], pa.large_binary() if name == "data" else None)
               for name in SHARD_COLUMNS}
    return pa.table({**columns, "error": pa.array([error], pa.string())})


class ShardTagger:
    """A Ray actor: one tagger (one onnxruntime session), tagging shards into output files."""

    def __init__(self, model: list, output: str, options: RayOptions, threads: int) -> None:
        self.tagger = Tagger.load(materialise_model(ray.get(model[0])), "onnx", threads)
        self.tagger.batch_size = options.batch_size
        self.options = options
        self.write = writer_for(options.output_format, options.field_prefix)
        self.scores = options.output_format not in UNSCORED
        self.fs, self.root = filesystem(output)

    def __call__(self, batch: dict) -> dict:
        done = [self.tag_or_report(Shard(**{name: _plain(batch[name][i]) for name in SHARD_COLUMNS}),
                                   _error(batch["error"][i])) for i in range(len(batch["file"]))]
        return {key: [info[key] for info in done] for key in done[0]} if done else {}

    def tag_or_report(self, shard: Shard, error: str | None) -> dict:
        """The shard's manifest entry, or the user's error (the read task's, or the shard's) as data:
        Ray would retry a raised one and keep only its traceback's text, and the driver must print one
        line naming the file and line."""
        if not error:
            try:
                return {**self.tag(shard), "error": None}
            except NerError as err:
                error = str(err)
        return {**dict.fromkeys(MANIFEST_FIELDS), "records": 0, "sentences": 0, "tokens": 0, "error": error}

    def tag(self, shard: Shard) -> dict:
        """Tag one shard into its output file; return what the manifest records of it."""
        options = self.options
        parts: list = []
        records = sentences = tokens = 0
        first = last = None
        for window in windows(shard.records(options.fields, options.encoding)):
            rendered, n_records, n_sentences, n_tokens = render_window(self.tagger, window, self.write,
                                                                       scores=self.scores)
            if isinstance(rendered, list):  # Parquet rows
                parts.extend(rendered)
            else:
                parts.append(rendered)
            records, sentences, tokens = records + n_records, sentences + n_sentences, tokens + n_tokens
            first = window[0].id if first is None else first
            last = window[-1].id
        name = shard_name(shard.file, shard.block, OUTPUT_EXTENSIONS[options.output_format])
        write_atomic(self.fs, f"{self.root}/{name}", self.serialise(parts, first))
        return dict(zip(MANIFEST_FIELDS, (name, shard.source, shard.file, shard.block, shard.input_format, first, last,
                                          records, sentences, tokens)))

    def serialise(self, parts: list, first: int | None) -> bytes:
        if self.options.output_format == "jsonl":
            return "".join(parts).encode("utf-8")
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        pq.write_table(rows_table(parts, first or 1) if parts else pa.table({}), sink)
        return sink.getvalue().to_pybytes()


def _plain(value: Any) -> Any:
    """A numpy scalar from a Ray batch as the Python value a Shard holds."""
    return value.item() if hasattr(value, "item") and not isinstance(value, bytes) else value


def _manifest_entry(info: dict) -> dict:
    """A shard's manifest entry from its row: a batch column holding a null (an error row, an empty shard's
    first id) reaches numpy as floats, and the manifest keeps whole numbers, or null, never 3.0 or NaN."""
    def whole(value: Any) -> Any:
        return (None if value != value else int(value)) if isinstance(value, float) else value

    return {key: whole(value) if key in INTEGER_FIELDS else value for key, value in info.items() if key != "error"}


def _error(value: Any) -> str | None:
    """An error column's value: a message, or None (an all-null column reaches numpy as NaN)."""
    return value if isinstance(value, str) and value else None


def connect(address: str | None) -> bool:
    """Join the cluster at `address`, or start a local one on the CPUs this process may use; True when
    this call started Ray (and so should stop it)."""
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"address": address} if address else {"num_cpus": available_cpus(),
                                                                     "include_dashboard": False}
    try:
        ray.init(logging_level="WARNING", **kwargs)
    except ConnectionError as err:
        raise UsageError(f"cannot reach a Ray cluster at {address!r} ({str(err).splitlines()[0][:200]}); "
                         "start one with 'ray start --head' or leave out --address") from None
    return True


def tag_on_ray(model: Path, inputs: list[str], output: str, options: RayOptions, resume: bool = False) -> dict:
    """Tag `inputs` into shards under `output` on a Ray cluster; return what was done.

    Outputs: `part-FFFFF-BBBBB.jsonl` (or `.parquet`) per shard (input file F, piece B)
    and `_manifest.json`, which maps each shard to its source and record ids.
    """
    if options.output_format not in RAY_FORMATS:
        raise UsageError(f"--engine ray writes {' or '.join(RAY_FORMATS)} shards, not {options.output_format}")
    if "\n".encode(options.encoding) != b"\n":
        raise UsageError(f"--engine ray cuts inputs at line breaks, which {options.encoding} does not write "
                         "as one byte")
    sources = expand_sources(inputs)
    seen = [source_identity(s) for s in sources]
    files = model_files(model)
    identity = {"inputs": seen, "model": hashlib.sha256(files[MANIFEST_FILE]).hexdigest(), **options.identity()}
    fs, root = filesystem(output)
    _make_folder(fs, root, output)
    manifest = ShardManifest(fs, root, identity, resume)
    remove_temporaries(fs, root)
    started = connect(options.address)
    new = {"shards": 0, "records": 0, "sentences": 0, "tokens": 0}
    try:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        threads = options.threads or max(1, cpus // options.workers if options.workers else 1)
        workers = options.workers or max(1, cpus // threads)
        source = ShardSource(sources, [s["size"] for s in seen], options, manifest.done())
        model_ref = ray.put(files)  # held here for the whole run: a restarted actor reads it again
        tagged = ray.data.read_datasource(source, num_cpus=0).map_batches(
            ShardTagger, fn_constructor_args=([model_ref], output if "://" in output else root, options, threads),
            batch_size=1, compute=ActorPoolStrategy(size=workers), num_cpus=threads, batch_format="numpy")
        errors: list[str] = []
        # Read to the end even after a shard failed: Ray Data's reading threads outlive an abandoned
        # iterator, and one touching Ray after the shutdown below ends the process (exit 1, our error
        # line unprinted). The other shards are tagged meanwhile.
        for batch in tagged.iter_batches(batch_size=None, batch_format="numpy"):
            for index in range(len(batch["records"])):
                info = {key: _plain(values[index]) for key, values in batch.items()}
                if _error(info["error"]):
                    errors.append(info["error"])
                    if len(errors) == 1:
                        warnings.warn(InputWarning(f"{info['error']}; tagging the other shards, then stopping"))
                    continue
                entry = _manifest_entry(info)
                manifest.add(entry)
                new = {key: new[key] + (1 if key == "shards" else entry[key]) for key in new}
        if errors:  # the manifest is saved, not complete, on the way out
            others = f" ({len(errors) - 1} other shard(s) failed too)" if len(errors) > 1 else ""
            raise NerError(f"{errors[0]}{others}; the other shards are tagged in {output} (its manifest lists "
                           "them, marked incomplete)")
        manifest.save(complete=True)
    except KeyboardInterrupt:
        manifest.save()
        raise Interrupted(f"interrupted: {len(manifest.shards)} shards are done in {output}; run the same command "
                          "with --resume to tag the rest") from None
    except BaseException:
        manifest.save()
        raise
    finally:
        if started:
            ray.shutdown()
    return {**new, "skipped_shards": manifest.resumed, "workers": workers, "threads": threads}


def _make_folder(fs: Any, root: str, output: str) -> None:
    import pyarrow.fs as pafs

    if fs.get_file_info(root).type == pafs.FileType.File:
        raise UsageError(f"{output}: is a file; --engine ray writes a folder of shards (give -o DIR)")
    fs.create_dir(root, recursive=True)
