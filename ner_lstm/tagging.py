"""Batch tagging of files: read records in a bounded window, tag them length-sorted, write in input order.

A record is what one output record describes: a line of plain text, a sentence
of a CoNLL file, or a line of a JSONL file. Memory is bounded by the window,
whatever the input size.
"""
from __future__ import annotations

import glob
import itertools
import json
import multiprocessing
import os
import sys
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .corpus import DOCSTART, TAG_PATTERN, Sentence, open_checked
from .errors import InputError, UsageError
from .tagger import Tagger
from .text import split_text

EXTENSIONS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".conll": "conll", ".conllu": "conll",
              ".iob": "conll", ".bio": "conll", ".tsv": "conll", ".txt": "text", ".text": "text", ".md": "text"}
OUTPUT_EXTENSIONS = {"jsonl": ".jsonl", "conll": ".conll", "inline": ".txt", "html": ".html"}
STDIN = "-"


@dataclass
class Record:
    """One unit of input and output: its sentences, and what is carried through untouched."""

    source: str
    id: int
    sentences: list[Sentence]
    text: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


# --- finding inputs ------------------------------------------------------------------------------
def expand_inputs(inputs: Iterable[str]) -> list[str]:
    """Files, directories (recursed, sorted) and globs, in the order given; '-' is stdin."""
    found: list[str] = []
    for item in inputs:
        if item == STDIN:
            found.append(item)
            continue
        path = Path(item)
        if path.is_dir():
            found.extend(str(p) for p in sorted(path.rglob("*")) if p.is_file() and not p.name.startswith("."))
        elif path.exists():
            found.append(item)
        elif glob.has_magic(item):
            matches = sorted(p for p in glob.glob(item, recursive=True) if Path(p).is_file())
            if not matches:
                raise InputError("matches no files", item)
            found.extend(matches)
        else:
            raise InputError("no such file", item)
    if not found:
        raise UsageError("no input files found")
    return found


def sniff_format(name: str, head: list[str]) -> str:
    """Pick a reader by extension; a .txt file whose lines look like token-tag columns is CoNLL."""
    by_extension = EXTENSIONS.get(Path(name).suffix.lower(), "text")
    if by_extension != "text":
        return by_extension
    lines = [line.split() for line in head if line.strip()]
    if lines and (lines[0][0] == DOCSTART or all(len(c) >= 2 and TAG_PATTERN.match(c[-1]) for c in lines[:20])):
        return "conll"
    if lines and head[0].lstrip().startswith("{"):
        return "jsonl"
    return "text"


# --- reading records -----------------------------------------------------------------------------
def _lines(handle: IO[bytes], name: str, encoding: str) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(handle, start=1):
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError as err:
            raise InputError(f"not valid {encoding} at byte {err.start} of this line; pass --encoding", name, number) from None
        if number == 1:
            line = line.lstrip("\ufeff")
        yield number, line.rstrip("\r\n")


def read_text(lines: Iterator[tuple[int, str]], name: str) -> Iterator[Record]:
    for number, line in lines:
        if line.strip():
            yield Record(name, number, split_text(line, source=name), text=line)


def read_conll_records(lines: Iterator[tuple[int, str]], name: str) -> Iterator[Record]:
    """Sentences of a column file; a last column that is a tag is kept as gold."""
    tokens: list[str] = []
    gold: list[str] | None = []
    start = 0
    for number, line in _with_end(lines):
        columns = line.split() if line is not None else []
        if not columns or columns[0] == DOCSTART:
            if tokens:
                yield Record(name, start, [Sentence(tokens, gold or None, source=name, line=start)])
            tokens, gold = [], []
            continue
        if not tokens:
            start = number
        tokens.append(columns[0])
        if gold is not None and len(columns) >= 2 and TAG_PATTERN.match(columns[-1]):
            gold.append(columns[-1])
        else:
            gold = None


def _with_end(lines: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str | None]]:
    """The lines, then one end marker so the last sentence is closed."""
    yield from lines
    yield -1, None


def read_jsonl(lines: Iterator[tuple[int, str]], name: str) -> Iterator[Record]:
    """Objects with `text` (tokenised here) or `tokens`; every other field is passed through."""
    for number, line in lines:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"not valid JSON ({err.msg} at column {err.colno})", name, number) from None
        if not isinstance(obj, dict):
            raise InputError("expected a JSON object with a 'text' or 'tokens' field", name, number)
        fields = {k: v for k, v in obj.items() if k not in ("text", "tokens")}
        if isinstance(obj.get("tokens"), list) and all(isinstance(t, str) for t in obj["tokens"]):
            tokens = [t for t in obj["tokens"] if t.strip()]
            sentences = [Sentence(tokens, source=name, line=number)] if tokens else []
            yield Record(name, number, sentences, fields=fields)
        elif isinstance(obj.get("text"), str):
            yield Record(name, number, split_text(obj["text"], source=name), text=obj["text"], fields=fields)
        else:
            raise InputError("expected a 'text' string or a 'tokens' list of strings", name, number)


READERS = {"text": read_text, "conll": read_conll_records, "jsonl": read_jsonl}


def read_records(name: str, input_format: str, encoding: str, announce: bool = True) -> Iterator[Record]:
    """Stream the records of one input ('-' is stdin), choosing the reader for `auto`."""
    if name == STDIN:
        handle = sys.stdin.buffer
    else:
        handle = open_checked(Path(name)).open("rb")
    try:
        lines = _lines(handle, name, encoding)
        chosen = input_format
        if chosen == "auto":
            head = []
            for item in lines:
                head.append(item)
                if len(head) >= 20:
                    break
            chosen = sniff_format(name, [line for _, line in head])
            if announce:
                print(f"ner-lstm: {name}: reading as {chosen}", file=sys.stderr)
            lines = _chain(head, lines)
        yield from READERS[chosen](lines, name)
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def _chain(head: list, rest: Iterator) -> Iterator:
    yield from head
    yield from rest


# --- tagging in windows ----------------------------------------------------------------------------
WINDOW_TOKENS = 50_000
_WORKER: dict[str, Tagger] = {}


def windows(records: Iterable[Record], window_tokens: int | None = None) -> Iterator[list[Record]]:
    """Consecutive groups of records holding about `window_tokens` tokens: the unit of bounded memory."""
    window_tokens = window_tokens or WINDOW_TOKENS
    window: list[Record] = []
    size = 0
    for record in records:
        window.append(record)
        size += sum(len(s) for s in record.sentences)
        if size >= window_tokens:
            yield window
            window, size = [], 0
    if window:
        yield window


def render_window(tagger: Tagger, window: list[Record], output_format: str) -> tuple[str, int, int]:
    """Tag one window (length-sorted inside) and render its records in input order."""
    from .writers import RECORD_WRITERS

    write = RECORD_WRITERS[output_format]
    sentences = [s for record in window for s in record.sentences]
    tagged = iter(tagger.tag(sentences))
    text = "".join(write(record, [next(tagged) for _ in record.sentences]) for record in window)
    return text, len(sentences), sum(len(s) for s in sentences)


def _start_worker(model: str, backend: str, threads: int, batch_size: int) -> None:
    tagger = Tagger.load(model, backend, threads)
    tagger.batch_size = batch_size
    _WORKER["tagger"] = tagger


def _render_in_worker(window: list[Record], output_format: str) -> tuple[str, int, int]:
    return render_window(_WORKER["tagger"], window, output_format)


@dataclass
class ModelSpec:
    """A model not loaded yet: worker processes load their own copies, this process only if it must
    (a parent holding a copy it never uses would add a third of the memory of two workers)."""

    path: str
    backend: str = "auto"
    batch_size: int = 256
    loaded: Tagger | None = None

    @property
    def source(self) -> tuple[str, str]:
        return self.path, self.backend

    def get(self) -> Tagger:
        if self.loaded is None:
            self.loaded = Tagger.load(self.path, self.backend)
            self.loaded.batch_size = self.batch_size
        return self.loaded


def rendered_windows(tagger: Tagger | ModelSpec, records: Iterable[Record], output_format: str,
                     workers: int = 1) -> Iterator[tuple[str, int, int]]:
    """Rendered windows in input order; with several workers, windows are tagged in parallel processes.

    The network's loop over words uses one core well and two poorly, so processes,
    each with its own model, are what fill several cores. At most two windows per
    worker are in flight, so memory stays bounded. Inputs of one window stay in
    this process, which spares the workers' start-up.
    """
    chunks = windows(records)
    head = list(itertools.islice(chunks, 2))
    if workers <= 1 or len(head) < 2 or tagger.source is None:
        local = tagger.get() if isinstance(tagger, ModelSpec) else tagger
        for chunk in itertools.chain(head, chunks):
            yield render_window(local, chunk, output_format)
        return
    model, backend = tagger.source
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(model, backend, threads, tagger.batch_size)) as pool:
        pending: deque = deque()
        for chunk in itertools.chain(head, chunks):
            pending.append(pool.submit(_render_in_worker, chunk, output_format))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


# --- outputs ---------------------------------------------------------------------------------------
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


class Progress:
    """Sentences done and tokens per second on stderr, shown only when stderr is a terminal."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(unit=" sentences", disable=not sys.stderr.isatty(), file=sys.stderr, dynamic_ncols=True)
        self.sentences = self.tokens = 0

    def update(self, sentences: int, tokens: int) -> None:
        self.sentences += sentences
        self.tokens += tokens
        self.bar.update(sentences)
        if not self.bar.disable:
            elapsed = self.bar.format_dict["elapsed"] or 1e-9
            self.bar.set_postfix_str(f"{self.tokens / elapsed:,.0f} tokens/s", refresh=False)

    def close(self) -> None:
        self.bar.close()


def tag_stream(tagger: Tagger | ModelSpec, records: Iterable[Record], out: IO[str], output_format: str, title: str,
               progress: Progress, workers: int = 1) -> None:
    """Tag `records` and write them to `out` in input order."""
    from .writers import html_head

    if output_format == "html":
        out.write(html_head(title))
    for text, sentences, tokens in rendered_windows(tagger, records, output_format, workers):
        out.write(text)
        progress.update(sentences, tokens)
    if output_format == "html":
        out.write("</body></html>\n")


def write_output(dest: Path | None, produce) -> None:
    """Run `produce(handle)` into `dest` atomically, or into stdout when `dest` is None."""
    from .bundle import write_file_atomic

    if dest is None:
        produce(sys.stdout)
        sys.stdout.flush()
        return

    def fill(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as handle:
            produce(handle)

    write_file_atomic(dest, fill)


def tag_files(tagger: Tagger | ModelSpec, inputs: list[str], output: Path | None, input_format: str = "auto",
              output_format: str = "jsonl", resume: bool = False, encoding: str = "utf-8",
              workers: int = 1) -> dict:
    """Tag every input into its output; outputs appear complete (renamed into place) or not at all."""
    names = expand_inputs(inputs)
    destinations = plan_outputs(names, output, output_format)
    skipped = 0
    progress = Progress()
    try:
        for name, dest in zip(names, destinations):
            if dest is not None and resume and dest.exists():
                skipped += 1
                continue
            records = read_records(name, input_format, encoding)
            write_output(dest, lambda out, records=records, name=name:
                         tag_stream(tagger, records, out, output_format, name, progress, workers))
    finally:
        progress.close()
    return {"inputs": len(names) - skipped, "skipped": skipped, "sentences": progress.sentences,
            "tokens": progress.tokens}


def tag_dataset_split(tagger: Tagger | ModelSpec, split: Any, name: str, output: Path | None, output_format: str,
                      workers: int = 1) -> None:
    """Tag one `datasets` split into a file (atomically) or stdout."""
    progress = Progress()
    try:
        write_output(output, lambda out: tag_stream(tagger, dataset_records(split, name), out, output_format,
                                                    name, progress, workers))
    finally:
        progress.close()


def dataset_records(split: Any, name: str, token_field: str = "tokens") -> Iterator[Record]:
    """Rows of a `datasets` split as records; columns other than the tokens are passed through."""
    if token_field not in split.column_names:
        raise InputError(f"has no column {token_field!r} (columns: {', '.join(split.column_names)})", name)
    for index, row in enumerate(split):
        tokens = [t for t in row[token_field] if t.strip()]
        fields = {k: v for k, v in row.items() if k != token_field}
        yield Record(name, index, [Sentence(tokens, source=name, line=index)] if tokens else [], fields=fields)
