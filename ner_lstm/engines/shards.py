"""Inputs cut into shards, and the manifest of shards done: what makes a distributed run exactly once.

A shard is a piece of one input file that ends on a record boundary (a line; in a
CoNLL file, the blank line after a sentence, or before a `-DOCSTART-` line in a file that
marks documents; in Parquet, a row), cut once it holds `shard_bytes`. The cut depends
only on the file's bytes and that size, so a resumed run cuts the same shards, gives them
the same names and skips those its manifest lists. A shard carries its raw bytes and the
number of its first line (or row), and is read by the same readers as the local engine's,
so its records keep the ids the local engine gives them.

Files are reached through pyarrow's filesystems: a local or NFS path, `s3://`,
`gs://`, `hdfs://` alike.
"""
from __future__ import annotations

import fnmatch
import glob
import io
import json
import os
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data.lines import check_head, compression, decoded_lines
from ..data.sources import SPAN_INPUTS, Fields, Record, batch_records, expand_inputs, line_records, sniff_format
from ..errors import InputError, UsageError
from ..files import write_bytes_atomic

MANIFEST = "_manifest.json"
READ_BYTES = 1 << 20
PARQUET_BATCH_ROWS = 256
BLANK_LINE = re.compile(rb"\n[ \t\r\f\v]*\n")
DOCUMENT_START = re.compile(rb"\n(?=-DOCSTART-)")


def is_uri(name: str) -> bool:
    return "://" in name


def filesystem(name: str) -> tuple[Any, str]:
    """The pyarrow filesystem holding `name`, and the path within it."""
    import pyarrow.fs as pafs

    if is_uri(name):
        try:
            return pafs.FileSystem.from_uri(name)
        except Exception as err:  # pyarrow raises its own types for unknown schemes and missing credentials
            raise InputError(f"cannot be opened ({str(err).splitlines()[0][:200]})", name) from None
    return pafs.LocalFileSystem(), os.path.abspath(name)


def expand_sources(inputs: Iterable[str]) -> list[str]:
    """Local inputs as `tag` expands them; URIs (a file, a folder or a glob) through their filesystem."""
    found: list[str] = []
    for item in inputs:
        found.extend(_expand_uri(item) if is_uri(item) else expand_inputs([item]))
    if "-" in found:
        raise UsageError("--engine ray reads files, not stdin")
    return found


def _expand_uri(uri: str) -> list[str]:
    import pyarrow.fs as pafs

    fs, path = filesystem(uri)
    scheme = uri.split("://", 1)[0] + "://"
    pattern = path if glob.has_magic(path) else None
    base = path.split("*", 1)[0].rsplit("/", 1)[0] if pattern else path
    info = fs.get_file_info(base)
    if info.type == pafs.FileType.File and pattern is None:
        return [uri]
    if info.type != pafs.FileType.Directory:
        raise InputError("no such file or folder", uri)
    listing = fs.get_file_info(pafs.FileSelector(base, recursive=True))
    files = sorted(i.path for i in listing if i.type == pafs.FileType.File and not i.base_name.startswith("."))
    matches = [scheme + p for p in files if pattern is None or fnmatch.fnmatch(p, pattern)]
    if not matches:
        raise InputError("matches no files", uri)
    return matches


def source_identity(name: str) -> dict:
    """What a resumed run must find unchanged: the input's size and modification time."""
    import pyarrow.fs as pafs

    fs, path = filesystem(name)
    info = fs.get_file_info(path)
    if info.type != pafs.FileType.File:
        raise InputError("no such file", name)
    return {"source": name, "size": info.size, "mtime_ns": info.mtime_ns}


@dataclass(frozen=True)
class Shard:
    """A piece of one input: `first` is the number of its first line (or row) in the whole file."""

    file: int
    block: int
    source: str
    input_format: str
    first: int
    data: bytes

    def records(self, fields: Fields = Fields(), encoding: str = "utf-8") -> Iterator[Record]:
        """The shard's records, read as the local engine reads the whole file."""
        if self.input_format == "parquet":
            import pyarrow as pa

            return batch_records(pa.ipc.open_stream(self.data), self.source, fields, self.first)
        lines = decoded_lines(io.BytesIO(self.data), self.source, encoding, self.first)
        return line_records(lines, self.source, self.input_format, fields)


def shard_name(file: int, block: int, extension: str) -> str:
    return f"part-{file:05d}-{block:05d}{extension}"


def locate(name: str) -> str:
    """Where a worker finds an input: a URI as given, a local path made absolute here (a worker's
    current directory is not the driver's)."""
    return name if is_uri(name) else os.path.abspath(name)


def file_shards(source: str, file: int, input_format: str, shard_bytes: int,
                location: str | None = None) -> Iterator[Shard]:
    """Cut one input (read at `location`, by default `source`) into shards; `auto` picks the format as
    `tag` does (extension, then content)."""
    fs, path = filesystem(location or source)
    if input_format == "parquet" or (input_format == "auto" and Path(path).suffix.lower() == ".parquet"):
        with fs.open_input_file(path) as handle:
            for block, (first, data) in enumerate(_cut_parquet(handle, source, shard_bytes)):
                yield Shard(file, block, source, "parquet", first, data)
        return
    with fs.open_input_stream(path) as handle:
        head = handle.read(READ_BYTES)
        found = compression(head)
        if found is not None:
            raise InputError(f"is a {found[0]} file; the Ray engine cuts inputs into byte ranges, which a compressed "
                             "file has not: decompress it first, or tag it with the local engine", source)
        check_head(head[:4096], source)
        if input_format == "auto":
            lines = head.decode("utf-8", errors="replace").lstrip("\ufeff").split("\n")[:20]
            input_format = sniff_format(source, [line.rstrip("\r") for line in lines])
        if input_format in SPAN_INPUTS:
            raise InputError(f"a {input_format} export is read whole, not in shards: tag it with the local "
                             "engine, or 'ner-lstm convert' it to jsonl first", source)
        pieces = _cut_lines(head, handle, shard_bytes, _cut_after(input_format, head))
        for block, (first, data) in enumerate(pieces):
            yield Shard(file, block, source, input_format, first, data)


def _cut_after(input_format: str, head: bytes) -> re.Pattern[bytes] | None:
    """Where a piece may end: in CoNLL after a blank line (no sentence is split), or before a
    `-DOCSTART-` line in a file that marks documents (a document is tagged whole, with its context);
    elsewhere (None) after any line break."""
    if input_format != "conll":
        return None
    return DOCUMENT_START if DOCUMENT_START.search(b"\n" + head.lstrip(b"\xef\xbb\xbf")) else BLANK_LINE


def _cut_lines(head: bytes, handle: Any, shard_bytes: int,
               cut_after: re.Pattern[bytes] | None) -> Iterator[tuple[int, bytes]]:
    """(first line number, bytes) pieces of at least `shard_bytes`, each ending where `cut_after` allows;
    the last piece holds the rest."""
    buffer = bytearray(head)
    line = 1
    ended = False
    while buffer or not ended:
        cut = _boundary(buffer, shard_bytes, cut_after)
        if cut is None and not ended:
            block = handle.read(READ_BYTES)
            buffer += block
            ended = not block
            continue
        piece = bytes(buffer[: cut or len(buffer)])
        del buffer[: len(piece)]
        yield line, piece
        line += piece.count(b"\n")


def _boundary(buffer: bytearray, shard_bytes: int, cut_after: re.Pattern[bytes] | None) -> int | None:
    if len(buffer) < shard_bytes:
        return None
    if cut_after is not None:
        match = cut_after.search(buffer, shard_bytes - 1)
        return match.end() if match else None
    end = buffer.find(b"\n", shard_bytes - 1)
    return end + 1 if end >= 0 else None


def _cut_parquet(handle: Any, source: str, shard_bytes: int) -> Iterator[tuple[int, bytes]]:
    """(first row number, Arrow IPC stream) pieces of about `shard_bytes` of rows."""
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(handle)
    except Exception as err:  # pyarrow raises its own types for files that are not Parquet
        raise InputError(f"not a readable Parquet file ({str(err).splitlines()[0][:200]})", source) from None
    first, batches, size = 1, [], 0
    for batch in table.iter_batches(batch_size=PARQUET_BATCH_ROWS):
        while len(batch):
            row_bytes = max(1, batch.nbytes // len(batch))
            take = min(len(batch), -(-(shard_bytes - size) // row_bytes))  # rows to reach shard_bytes
            batches.append(batch.slice(0, take))
            size += take * row_bytes
            batch = batch.slice(take)
            if size >= shard_bytes:
                yield first, _ipc(batches)
                first += sum(len(b) for b in batches)
                batches, size = [], 0
    if batches:
        yield first, _ipc(batches)


def _ipc(batches: list) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batches[0].schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def write_atomic(fs: Any, path: str, data: bytes) -> None:
    """Write `data` under a temporary name beside `path`, then move it into place: on a local disk with
    the one durable helper (`files.publish`), elsewhere with the filesystem's own move."""
    import pyarrow.fs as pafs

    if isinstance(fs, pafs.LocalFileSystem):
        write_bytes_atomic(Path(path), data)
        return
    parent, name = path.rsplit("/", 1)
    tmp = f"{parent}/.{name}.tmp-{uuid.uuid4().hex}"
    with fs.open_output_stream(tmp) as out:
        out.write(data)
    fs.move(tmp, path)


def remove_temporaries(fs: Any, root: str) -> None:
    """Drop the half-written shards (and manifest) of a killed run, never a finished file."""
    import pyarrow.fs as pafs

    for info in fs.get_file_info(pafs.FileSelector(root)):
        name = info.base_name
        temporary = ".tmp-" in name or name.endswith(".tmp")  # another filesystem's, or files.publish's
        if info.type == pafs.FileType.File and name.startswith((".part-", f".{MANIFEST}")) and temporary:
            fs.delete_file(info.path)


class ShardManifest:
    """The shards of a run that are complete, kept in OUTDIR/_manifest.json (rewritten atomically).

    The manifest names the inputs (size, modification time), the options and the
    model, so `--resume` continues only the run that wrote it. A shard on disk but not
    yet in the manifest (the driver was killed in between) is written again with the
    same content, so every record still ends up exactly once.
    """

    def __init__(self, fs: Any, root: str, identity: dict, resume: bool, save_every_s: float = 1.0) -> None:
        import pyarrow.fs as pafs

        self.fs, self.root, self.identity = fs, root, identity
        self.path = f"{root}/{MANIFEST}"
        self.save_every_s = save_every_s
        self.saved_at = 0.0
        self.shards: dict[str, dict] = {}
        listing = {i.base_name for i in fs.get_file_info(pafs.FileSelector(root)) if i.type == pafs.FileType.File}
        if MANIFEST in listing:
            if not resume:
                raise UsageError(f"{root} holds the shards of an earlier run; pass --resume to finish it, "
                                 "or choose another -o")
            saved = self._load()
            if saved.get("identity") != identity:
                raise UsageError(f"{self.path}: written from other inputs, options or model; "
                                 "--resume continues only the same run (choose another -o)")
            self.shards = {name: info for name, info in saved.get("shards", {}).items() if name in listing}
        elif any(name.startswith("part-") for name in listing):
            raise UsageError(f"{root} holds part-* files but no {MANIFEST}; refusing to overwrite them "
                             "(choose another -o)")
        else:
            self.save()  # before any shard: a run killed after its first shard can still be resumed
        self.resumed = len(self.shards)

    def _load(self) -> dict:
        try:
            with self.fs.open_input_stream(self.path) as handle:
                saved = json.loads(handle.read().decode("utf-8"))
        except (OSError, ValueError):
            raise UsageError(f"{self.path}: unreadable; remove the folder's shards or choose another -o") from None
        return saved if isinstance(saved, dict) else {}

    def done(self) -> set[tuple[int, int]]:
        """(file, block) of every completed shard."""
        return {(info["file"], info["block"]) for info in self.shards.values()}

    def add(self, info: dict) -> None:
        self.shards[info["shard"]] = {k: v for k, v in info.items() if k != "shard"}
        if time.monotonic() - self.saved_at >= self.save_every_s:
            self.save()

    def save(self, complete: bool = False) -> None:
        body = {"identity": self.identity, "complete": complete, "shards": dict(sorted(self.shards.items()))}
        write_atomic(self.fs, self.path, json.dumps(body, indent=1, ensure_ascii=False).encode("utf-8"))
        self.saved_at = time.monotonic()
