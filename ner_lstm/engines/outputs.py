"""Where tagged output goes: one file per input (or stdout), written atomically and resumably."""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from ..data.corpus import Record
from ..data.sources import STDIN
from ..errors import InputError, UsageError
from ..files import publish, write_file_atomic, write_json

OUTPUT_EXTENSIONS = {"jsonl": ".jsonl", "conll": ".conll", "inline": ".txt", "html": ".html", "parquet": ".parquet",
                     "doccano": ".jsonl", "labelstudio": ".json", "brat": ""}  # BRAT: a folder per input


def plan_outputs(names: list[str], output: Path | None, output_format: str) -> list[Path | None]:
    """Where each input's output goes: None is stdout. Refuses any plan that would overwrite an input."""
    if output is None:
        if len(names) > 1:
            raise UsageError("several inputs need -o DIR (one output file each)")
        return [None]
    if len(names) == 1 and not output.is_dir():
        destinations: list[Path | None] = [output]
    else:
        if output.exists() and not output.is_dir():
            raise UsageError(f"{output}: several inputs need -o to be a directory")
        output.mkdir(parents=True, exist_ok=True)
        extension = OUTPUT_EXTENSIONS[output_format]
        destinations = [output / ((Path(n).stem if n != STDIN else "stdin") + extension) for n in names]
        seen: dict[Path, str] = {}
        for name, dest in zip(names, destinations):
            if dest in seen:
                raise UsageError(f"{name} and {seen[dest]} would both be written to {dest}")
            seen[dest] = name
    inputs = {Path(n).resolve() for n in names if n != STDIN}
    for name, dest in zip(names, destinations):
        if dest is not None and dest.resolve() in inputs:
            raise UsageError(f"{dest}: is an input; refusing to overwrite it (choose another -o)")
    return destinations


def write_output(dest: Path | None, produce: Callable[[IO[str]], None]) -> None:
    """Run `produce(handle)` into `dest` atomically, or into stdout when `dest` is None."""
    if dest is None:
        produce(sys.stdout)
        sys.stdout.flush()
        return

    def fill(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as handle:
            produce(handle)

    write_file_atomic(dest, fill)


class InputDigest:
    """A running SHA-256 of the records read, known at every record count a window can end on: what
    `--resume` compares to be sure the records it skips are the ones already tagged (standard input
    has no size or modification time to go by)."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.count = 0
        self.at = {0: self.hash.hexdigest()}

    def follow(self, records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            sentences = None if record.split_from_text else [[s.tokens, s.tags] for s in record.sentences]
            self.hash.update(json.dumps([record.text, sentences, record.fields],
                                        ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"))
            self.count += 1
            self.at[self.count] = self.hash.hexdigest()
            yield record

    def after(self, count: int) -> str:
        """The digest of the first `count` records (earlier counts are forgotten: windows only move on)."""
        for passed in [c for c in self.at if c < count]:
            del self.at[passed]
        return self.at[count]


class ResumableOutput:
    """An output file written window by window, resumable after a kill.

    Windows are appended to `.NAME.partial`, each flushed to disk before `.NAME.progress.json`
    records how many input records and output bytes are complete, and the digest of those records;
    the finished file is published as NAME. `--resume` truncates the partial file to its last
    recorded size, reads that many records again, and continues only when their digest matches: a
    run killed at 90% of a large file does the last 10% again, not all of it, and different input
    (another file, other piped content) is refused, never spliced on. The progress also names the
    input (path, size, modification time) and the options, so a changed file or other options start
    afresh.
    """

    def __init__(self, dest: Path, identity: dict, resume: bool) -> None:
        self.dest = dest
        self.partial = dest.parent / f".{dest.name}.partial"
        self.progress = dest.parent / f".{dest.name}.progress.json"
        self.identity = identity
        self.records = self.size = 0
        self.expected_digest: str | None = None
        self.digest = InputDigest()
        if resume and self.partial.is_file() and self.progress.is_file():
            saved = _read_progress(self.progress)
            if saved.get("identity") == identity and self.partial.stat().st_size >= saved.get("bytes", -1) >= 0:
                self.records, self.size = saved["records"], saved["bytes"]
                self.expected_digest = saved.get("input_sha256")
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.partial.open("r+b" if self.size else "wb")
        self.handle.truncate(self.size)
        self.handle.seek(self.size)
        self.resumed, self.resumed_bytes = self.records, self.size

    def remaining(self, records: Iterable[Record], name: str) -> Iterator[Record]:
        """The records after those already written, once the skipped ones are known to be those written."""
        followed = self.digest.follow(records)
        skipped = sum(1 for _ in itertools.islice(followed, self.records))
        if self.records and (skipped < self.records or self.digest.after(self.records) != self.expected_digest):
            raise UsageError(f"{name}: its first {self.records} records are not those of the run being resumed "
                             f"(the input changed); run without --resume to start {self.dest} afresh")
        return followed

    def write(self, text: str, records: int) -> None:
        """Append one window's output for `records` input records, durably, then record the progress."""
        data = text.encode("utf-8")
        self.handle.write(data)
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.records += records
        self.size += len(data)
        write_json(self.progress, {"identity": self.identity, "records": self.records, "bytes": self.size,
                                   "input_sha256": self.digest.after(self.records)})

    def finish(self) -> None:
        self.handle.close()
        publish(self.partial, self.dest)
        self.progress.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop without finishing: the partial file and its progress stay for --resume."""
        self.handle.close()


def _read_progress(path: Path) -> dict:
    try:
        saved = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return saved if isinstance(saved, dict) else {}


def input_identity(name: str, **options: object) -> dict:
    """What a partial output was written from: the input file as it was, and the options that shape the output."""
    if name == STDIN:
        return {"input": STDIN, **options}
    stat = Path(name).stat()
    return {"input": str(Path(name).resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, **options}


class BratOutput:
    """A BRAT folder, `NAME.txt` and `NAME.ann` per record (NAME: the record's own id, else its number),
    filled under `.NAME.partial` and renamed into place when complete. Like Parquet, `--resume` redoes
    a partial one."""

    def __init__(self, dest: Path) -> None:
        self.dest, self.partial = dest, dest.parent / f".{dest.name}.partial"
        shutil.rmtree(self.partial, ignore_errors=True)
        self.partial.mkdir(parents=True)
        self.records = self.resumed = self.resumed_bytes = 0
        self.names: set[str] = set()

    def write(self, documents: list[dict], records: int) -> None:
        from ..data.formats.writers import brat_name

        for offset, document in enumerate(documents, start=1):
            name = brat_name(document["id"], self.records + offset, self.names)
            (self.partial / f"{name}.txt").write_text(document["text"], "utf-8", newline="")
            (self.partial / f"{name}.ann").write_text(document["ann"], "utf-8", newline="")
        self.records += records

    def finish(self) -> None:
        publish(self.partial, self.dest)

    def close(self) -> None:
        """A folder not finished is not kept: it is redone."""


class ParquetOutput:
    """Rows written a window at a time as Parquet row groups, under `.NAME.partial`, renamed when complete.

    A Parquet file's footer comes last, so a killed run's partial file cannot be continued:
    `--resume` redoes it (complete outputs are still skipped).
    """

    def __init__(self, dest: Path) -> None:
        from ..extras import require

        require("parquet", "writing Parquet")
        self.dest, self.partial = dest, dest.parent / f".{dest.name}.partial"
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.writer = None
        self.records = self.resumed = self.resumed_bytes = 0

    def write(self, rows: list[dict], records: int) -> None:
        import pyarrow.parquet as pq

        if not rows:
            return
        table = rows_table(rows, self.records + 1, None if self.writer is None else self.writer.schema)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.partial, table.schema)
        self.writer.write_table(table)
        self.records += records

    def finish(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.writer is None:
            pq.write_table(pa.table({}), self.partial)  # no records: an empty table, still a Parquet file
        else:
            self.writer.close()
        publish(self.partial, self.dest)

    def close(self) -> None:
        if self.writer is not None and self.writer.is_open:
            self.writer.close()


def rows_table(rows: list[dict], first: int, schema: Any = None) -> Any:
    """Output rows as an Arrow table: in `schema`'s columns when given, else in every column any row has
    (a row without one holds null there). Rows that do not fit are an error naming the first record
    (`first`) of the group."""
    import pyarrow as pa

    if schema is not None:
        extra = set().union(*rows) - set(schema.names)
        if extra:
            raise InputError(f"record {first} and after have fields the first records lacked "
                             f"({', '.join(sorted(extra))}); Parquet needs one set of columns")
    try:
        if schema is not None:
            return pa.Table.from_pylist(rows, schema=schema)
        columns = dict.fromkeys(key for row in rows for key in row)  # every row's fields, not the first's alone
        return pa.Table.from_pydict({key: [row.get(key) for row in rows] for key in columns})
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        raise InputError(f"records from {first} on do not fit one set of Parquet columns "
                         f"({str(err).splitlines()[0][:200]})") from None
