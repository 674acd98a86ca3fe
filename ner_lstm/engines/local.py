"""Tagging on this machine: records in bounded windows, tagged length-sorted, written in input order.

Memory is bounded by the windows in flight (about WINDOW_TOKENS tokens in all), whatever
the input size. One process is the default: one thread does the Python work (reading,
tokenising raw text, encoding, decoding, rendering, writing) while the network runs the
next window's batches in threads of its own, a CPU but one, and in that thread whenever it
waits for them (`_pipelined`). With several worker processes, windows are tagged in
parallel processes, each with its own model and a one-thread network (about 250 MB each).
Input of one or two windows never starts workers. A sentence's result never depends on its
window, batch or worker (the Tagger is batch-invariant), so any setting gives the same output.
"""
from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..cpus import available_cpus
from ..data.sources import Fields, Record, dataset_records, expand_inputs, read_records
from ..data.writers import SEPARATORS, UNSCORED, output_ends, writer_for
from ..errors import Interrupted, NerError, UsageError
from ..inference.patterns import Patterns
from ..inference import BATCH_SIZE
from ..data.corpus import Sentence
from ..inference.tagger import Tagged, Tagger
from .outputs import BratOutput, ParquetOutput, ResumableOutput, input_identity, plan_outputs, write_output

WINDOW_TOKENS = 50_000
# The pipeline's first window: tokenising it is all the network waits for (then 3k, 6k, ... up to 25k).
FIRST_WINDOW_TOKENS = 1_500
Writer = Callable[[Record, list], str | dict]  # text, or a row for Parquet
Rendered = str | list[dict]  # a window's output: its text, or its rows
_WORKER: dict[str, Any] = {}


@dataclass
class ModelSpec:
    """A model not loaded yet: worker processes load their own copies, this process only if it must
    (a parent holding a copy it never uses would add a third of the memory of two workers)."""

    path: str
    backend: str = "auto"
    batch_size: int = BATCH_SIZE
    patterns: tuple[str, ...] = ()  # entity pattern files applied besides the model's own
    patterns_mode: str | None = None
    min_score: float | None = None
    threads: int | None = None  # onnxruntime threads; None: every CPU this process may use
    rules: Patterns | None = None  # a loaded Tagger's patterns as they stand (its pattern files already read)
    loaded: Tagger | None = None

    @property
    def source(self) -> tuple[str, str]:
        return self.path, self.backend

    def get(self) -> Tagger:
        if self.loaded is None:
            self.loaded = Tagger.load(self.path, self.backend, self.threads)
            self.loaded.batch_size = self.batch_size
            if self.rules is not None:
                self.loaded.patterns = self.rules
            else:
                self.loaded.use_patterns(self.patterns, self.patterns_mode)
            self.loaded.min_score = self.min_score
        return self.loaded

    @classmethod
    def for_worker(cls, tagger: Tagger | ModelSpec, threads: int) -> ModelSpec:
        """What a worker process loads: the same model with the same options, on `threads` threads."""
        if isinstance(tagger, ModelSpec):
            return replace(tagger, threads=threads, loaded=None)
        path, backend = tagger.source  # type: ignore[misc]
        return cls(path, backend, tagger.batch_size, min_score=tagger.min_score, threads=threads,
                   rules=tagger.patterns)


class Counts:
    """Sentences and tokens tagged so far; the CLI passes one that also draws a progress bar."""

    def __init__(self) -> None:
        self.sentences = self.tokens = 0

    def update(self, sentences: int, tokens: int) -> None:
        self.sentences += sentences
        self.tokens += tokens

    def close(self) -> None:
        """Nothing to close here; a progress bar closes."""


def windows(records: Iterable[Record], window_tokens: int | None = None,
            first_tokens: int | None = None) -> Iterator[list[Record]]:
    """Consecutive groups of records holding about `window_tokens` tokens: the unit of bounded memory. With
    `first_tokens`, the first holds about that many and each next one twice as many as the one before, up to
    `window_tokens`: a pipeline's network starts on the first window sooner."""
    window_tokens = window_tokens or WINDOW_TOKENS
    limit = min(first_tokens or window_tokens, window_tokens)
    window: list[Record] = []
    size = 0
    for record in records:
        window.append(record)
        size += record.size()
        if size >= limit:
            yield window
            window, size, limit = [], 0, min(2 * limit, window_tokens)
    if window:
        yield window


def render_window(tagger: Tagger, window: list[Record], write: Writer, separator: str = "",
                  scores: bool = True) -> tuple[Rendered, int, int, int]:
    """Tag one window (length-sorted inside) and render its records in input order, `separator` between
    them; also return how many records, sentences and tokens it held. Without `scores`, entities and
    confidences are left out (an output that shows none)."""
    sentences = _sentences(window)
    return _render(window, sentences, tagger.tag(sentences, scores), write, separator)


def _sentences(window: list[Record]) -> list[Sentence]:
    """The window's sentences in input order (raw text is tokenised here, when first asked for)."""
    return [s for record in window for s in record.sentences]


def _render(window: list[Record], sentences: list[Sentence], tagged: list[Tagged], write: Writer,
            separator: str) -> tuple[Rendered, int, int, int]:
    """The window's records written from their sentences' results (in input order), and its counts."""
    results = iter(tagged)
    parts = [write(record, [next(results) for _ in record.sentences]) for record in window]
    rendered = separator.join(parts) if not parts or isinstance(parts[0], str) else parts  # rows: Parquet, BRAT
    return rendered, len(window), len(sentences), sum(len(s) for s in sentences)


def _start_worker(spec: ModelSpec) -> None:
    """Load the worker's model; a failure is kept and raised with the first task, so the parent
    reports the user's error (say, a damaged model) instead of a broken pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    try:
        _WORKER["tagger"] = spec.get()
    except NerError as err:
        _WORKER["error"] = err


def _exit_with(parent: int) -> None:
    """End this worker once its parent is gone (killed by SIGKILL or the OOM killer, which no handler sees):
    the pool's queues hold their own write ends, so a worker waiting for work would otherwise wait forever,
    holding its model's memory."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _render_in_worker(window: list[Record], write: Writer, separator: str,
                      scores: bool) -> tuple[Rendered, int, int, int]:
    if "error" in _WORKER:
        raise _WORKER["error"]
    return render_window(_WORKER["tagger"], window, write, separator, scores)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Processes started inside inherit an ignored SIGINT through exec: Ctrl-C at the terminal reaches
    the whole process group, and only the parent should answer it (no worker tracebacks)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop after Ctrl-C or an error: windows not started are cancelled, the ones running finish (a
    second or two; the workers ignore SIGINT), then the pool shuts down.

    Not terminated: a worker killed while sending its window's result leaves half a message in the
    result pipe, and the pool's manager thread then waits on it forever (the process hung after
    Ctrl-C when the signal came as a window was done). Not shut down without waiting either: that
    left the manager thread racing the interpreter's exit hook, which printed a traceback.
    """
    pool.shutdown(wait=True, cancel_futures=True)


def rendered_windows(tagger: Tagger | ModelSpec, records: Iterable[Record], write: Writer,
                     workers: int = 1, separator: str = "",
                     scores: bool = True) -> Iterator[tuple[Rendered, int, int, int]]:
    """Rendered windows in input order, tagged in this process (`_pipelined`) or, with several workers, in
    worker processes.

    In this process two windows of WINDOW_TOKENS / 2 are in flight (the first few smaller, so that the
    network starts sooner), and at most two windows per worker otherwise, so memory stays bounded. Input
    of at most two windows stays in this process, which spares the workers' start-up.
    """
    if workers <= 1 or tagger.source is None:
        chunks = windows(records, WINDOW_TOKENS // 2, FIRST_WINDOW_TOKENS)
        yield from _pipelined(*in_process(tagger), chunks, write, separator, scores)
        return
    chunks = windows(records)
    head = list(itertools.islice(chunks, 2))
    if len(head) < 2:
        yield from _pipelined(*in_process(tagger), head, write, separator, scores)
        return
    spec = ModelSpec.for_worker(tagger, threads=max(1, available_cpus() // workers))
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                               initargs=(spec,))
    try:
        pending: deque = deque()
        with _sigint_ignored():  # the first submissions start every worker
            for chunk in head:
                pending.append(pool.submit(_render_in_worker, chunk, write, separator, scores))
            for _ in range(workers - len(head)):
                pool.submit(int)
        for chunk in chunks:
            pending.append(pool.submit(_render_in_worker, chunk, write, separator, scores))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()


def in_process(tagger: Tagger | ModelSpec) -> tuple[Tagger, int]:
    """The model this process tags with, and how many threads run its network beside the tagging thread (which
    runs the batches not started yet whenever it waits for them: `Tagger.queued_emissions`).

    A model not loaded yet gets a one-thread network session, run by a thread a CPU but one (at least
    one) and by the tagging thread: one-thread runs side by side scaled better than one run on several
    threads (the network alone on two CPUs, 20,000 CoNLL-2003 sentences: 160k tokens/s against 154k),
    and a network thread for every CPU left three threads wanting two CPUs: `tag` on CoNLL-2003 as
    raw text, a document a record, took 4.08 s with them and 3.90 s with a network thread fewer (medians
    of 5). A Tagger loaded elsewhere keeps its session's threads and gets one network thread.
    """
    if not isinstance(tagger, ModelSpec):
        return tagger, 1
    if tagger.loaded is None and tagger.threads is None:
        tagger.threads = 1
    return tagger.get(), max(1, available_cpus() // (tagger.threads or available_cpus()) - 1)


def _pipelined(tagger: Tagger, threads: int, chunks: Iterable[list[Record]], write: Writer,
               separator: str, scores: bool = True) -> Iterator[tuple[Rendered, int, int, int]]:
    """Tag windows with the network on `threads` threads and every Python step (reading, tokenising,
    encoding, decoding, rendering) in this one; yield them in input order.

    A window's network runs are queued before the window ahead of it is decoded, so the network threads
    never wait for Python, and Python, when it must wait for the network, runs the window's batches not
    started yet itself: on two CPUs, one network thread and this one share them. Lanes that each ran a
    window's network and then decoded it (the layout before) ran in lockstep, both decoding while the
    network idled: `tag` on CoNLL-2003's documents took 3.89 s with them and 3.66 s with this pipeline,
    the same output. On Ctrl-C or an error, runs not started are cancelled; the running ones end in
    milliseconds.
    """
    network = ThreadPoolExecutor(threads, thread_name_prefix="ner-lstm-network")
    pending: deque[tuple[list[Record], list[Sentence], Callable[[], list]]] = deque()
    with _shared_interpreter():
        try:
            for window in chunks:
                sentences = _sentences(window)
                pending.append((window, sentences, tagger.queued_emissions(sentences, network)))
                if len(pending) > 1:
                    yield _decoded(tagger, *pending.popleft(), write, separator, scores)
            while pending:
                yield _decoded(tagger, *pending.popleft(), write, separator, scores)
        finally:
            network.shutdown(wait=True, cancel_futures=True)


def _decoded(tagger: Tagger, window: list[Record], sentences: list[Sentence], rows: Callable[[], list],
             write: Writer, separator: str, scores: bool) -> tuple[Rendered, int, int, int]:
    return _render(window, sentences, tagger.decode(sentences, rows(), scores), write, separator)


# How often the interpreter passes between threads that want it (CPython's default is 5 ms).
SWITCH_SECONDS = 0.0002
GC_THRESHOLD = (20_000, 20, 20)  # CPython's default is (700, 10, 10)


@contextlib.contextmanager
def _shared_interpreter() -> Iterator[None]:
    """While windows are tagged: hand the interpreter over sooner, and collect garbage less often, over fewer
    objects.

    A network run releases the interpreter and must take it back to return: with a thread doing Python
    work beside it (reading, decoding), that waited up to 5 ms a batch, and a collection over every
    object alive (the model, the modules) held it longer. Measured with the network in one thread and
    CoNLL reading in another: the network's 333 batches took 3.55 s alone and 7.08 s with the reading
    beside it; 3.67 s with a 0.2 ms switch and no collections. The model and the modules are frozen out
    of collections (`gc.freeze`); young objects are still collected, for cycles a caller's records may
    make (tagging's own make none: `data.documents`). All three are put back afterwards: library callers
    keep their settings.
    A caller that froze objects itself keeps them frozen and ours are not frozen: `gc.unfreeze` cannot
    tell its objects from ours.
    """
    switch, threshold = sys.getswitchinterval(), gc.get_threshold()
    ours = gc.get_freeze_count() == 0
    if ours:
        gc.freeze()
    sys.setswitchinterval(SWITCH_SECONDS)
    gc.set_threshold(*GC_THRESHOLD)
    try:
        yield
    finally:
        sys.setswitchinterval(switch)
        gc.set_threshold(*threshold)
        if ours:
            gc.unfreeze()


def tag_stream(tagger: Tagger | ModelSpec, records: Iterable[Record], write: Callable[[Rendered, int], None],
               output_format: str, title: str, progress: Counts, workers: int = 1, field_prefix: str = "",
               head_written: bool = False, records_written: bool = False) -> None:
    """Tag `records` and pass each window's output, with its record count, to `write`, in input order.
    A resumed output may hold the head already (no HTML head again), and records (a separator first)."""
    head, tail = output_ends(output_format, title)
    if head and not head_written:
        write(head, 0)
    started = records_written
    writer = writer_for(output_format, field_prefix, Path(tagger.source[0]).name if tagger.source else "")
    separator = SEPARATORS.get(output_format, "")
    for text, records_done, sentences, tokens in rendered_windows(tagger, records, writer, workers, separator,
                                                                   output_format not in UNSCORED):
        if separator and records_done and started:
            text = separator + text  # between this window's first record and the last one written
        started = started or records_done > 0
        write(text, records_done)
        progress.update(sentences, tokens)
    if tail:
        write(tail, 0)


def tag_files(tagger: Tagger | ModelSpec, inputs: list[str], output: Path | None, input_format: str = "auto",
              output_format: str = "jsonl", resume: bool = False, encoding: str = "utf-8",
              workers: int = 1, field_prefix: str = "", fields: Fields = Fields(),
              progress: Counts | None = None) -> dict:
    """Tag every input into its output; outputs appear complete (renamed into place) or not at all.

    With `resume`, complete outputs are skipped and a partial one continues after its last
    complete window (`ResumableOutput`).
    """
    names = expand_inputs(inputs)
    if input_format == "brat":  # a BRAT folder holds .txt beside each .ann: the .ann names the document
        names = [name for name in names if name.endswith(".ann")]
    destinations = plan_outputs(names, output, output_format)
    skipped = resumed = 0
    progress = progress or Counts()
    try:
        for name, dest in zip(names, destinations):
            if dest is not None and resume and dest.exists():
                skipped += 1
                continue
            records = read_records(name, input_format, encoding, fields=fields)
            if dest is None and output_format == "parquet":
                raise UsageError("Parquet output goes to a file: give -o FILE (or -o DIR for several inputs)")
            if dest is None and output_format == "brat":
                raise UsageError("BRAT output goes to a folder of .txt and .ann files: give -o DIR")
            if dest is None:
                write_output(None, lambda out, records=records, name=name: tag_stream(
                    tagger, records, lambda text, _: out.write(text), output_format, name, progress, workers,
                    field_prefix))
                continue
            identity = input_identity(name, input_format=input_format, output_format=output_format,
                                      encoding=encoding, field_prefix=field_prefix, model=(tagger.source or ("",))[0],
                                      fields=[fields.text, fields.tokens])
            target = ParquetOutput(dest) if output_format == "parquet" else BratOutput(dest) \
                if output_format == "brat" else ResumableOutput(dest, identity, resume)
            resumed += target.resumed
            try:
                rest = target.remaining(records, name) if isinstance(target, ResumableOutput) else records
                tag_stream(tagger, rest, target.write, output_format, name, progress, workers, field_prefix,
                           head_written=target.resumed_bytes > 0, records_written=target.records > 0)
            except KeyboardInterrupt:
                raise Interrupted(f"interrupted: {target.records} records of {name} are done; "
                                  "run the same command with --resume to continue from there") from None
            finally:
                target.close()
            target.finish()
    finally:
        progress.close()
    return {"inputs": len(names) - skipped, "skipped": skipped, "resumed_records": resumed,
            "sentences": progress.sentences, "tokens": progress.tokens}


def tag_dataset_split(tagger: Tagger | ModelSpec, split: Any, name: str, output: Path | None, output_format: str,
                      workers: int = 1, field_prefix: str = "", progress: Counts | None = None) -> None:
    """Tag one `datasets` split into a file (atomically) or stdout."""
    if output_format in ("parquet", "brat"):
        raise UsageError(f"--dataset writes a stream (jsonl, conll, inline, html, doccano, labelstudio); "
                         f"{output_format} output is for input files")
    progress = progress or Counts()
    try:
        write_output(output, lambda out: tag_stream(tagger, dataset_records(split, name),
                                                    lambda text, _: out.write(text), output_format, name, progress,
                                                    workers, field_prefix))
    finally:
        progress.close()
