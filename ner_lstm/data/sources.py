"""Where records come from: input discovery, format sniffing, and one reader per input format.

A record is what one output record describes: a line of plain text, a sentence of
a CoNLL file, a line of a JSONL file, a row of a dataset. Every front-end (train,
evaluate, predict, tag, the library) reads through these readers, so a sentence is
built the same way whatever command sees it.
"""
from __future__ import annotations

import glob
import itertools
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, UsageError
from .corpus import (DOCSTART, TAG_PATTERN, Record, Sentence, as_iob2, conll_documents, conll_sentences,
                     convert_corpus)
from .formats import SpanOptions
from .lines import Lines, decoded_lines, json_lines, open_input

EXTENSIONS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".conll": "conll", ".conllu": "conll",
              ".iob": "conll", ".bio": "conll", ".tsv": "conll", ".txt": "text", ".text": "text", ".md": "text",
              ".ann": "brat", ".spacy": "spacy"}
SPAN_INPUTS = ("labelstudio", "brat", "spacy")  # read whole by their `formats` reader, gold spans kept
STDIN = "-"


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
    """Pick a reader by extension; a .txt file whose lines look like token-tag columns is CoNLL; a JSON
    list is a Label Studio export."""
    by_extension = EXTENSIONS.get(Path(name).suffix.lower(), "text")
    if by_extension == "jsonl" and head and head[0].lstrip().startswith("["):
        return "labelstudio"
    if by_extension != "text":
        return by_extension
    lines = [line.split() for line in head if line.strip()]
    if lines and (lines[0][0] == DOCSTART or all(len(c) >= 2 and TAG_PATTERN.match(c[-1]) for c in lines[:20])):
        return "conll"
    if lines and head[0].lstrip().startswith("{"):
        return "jsonl"
    return "text"


def read_text(lines: Lines, name: str) -> Iterator[Record]:
    """One record per non-empty line, split into sentences and tokens."""
    for number, line in lines:
        if line.strip():
            yield Record(name, number, None, text=line)  # split where it is tagged


def read_conll_records(lines: Lines, name: str) -> Iterator[Record]:
    """One record per `-DOCSTART-` document of a column file (per sentence where the file marks none), so a
    document is tagged with its context as `evaluate` tags it; a tag column, if every token has one, is gold,
    read in IOB2 (the scheme of the predictions written beside it) whatever its scheme."""
    for document in conll_documents(conll_sentences(lines, name, tags="optional")):
        for sentence in document:
            if sentence.tags is not None:
                sentence.tags = as_iob2(sentence.tags)
        yield Record(name, document[0].line, document)


@dataclass(frozen=True)
class Fields:
    """The fields of a JSONL object or Parquet row that hold the input: pre-tokenised, or raw text."""

    tokens: str = "tokens"
    text: str = "text"


def ner_lstm_output(fields: dict) -> bool:
    """A record that is our own output (tag -> correct -> tag again): it has our `tags` and `entities`."""
    return isinstance(fields.get("entities"), list) and isinstance(fields.get("tags"), list)


def object_record(obj: Any, name: str, number: int, fields: Fields = Fields()) -> Record:
    """A JSONL object or Parquet row as a record: its tokens kept one to one, or its text tokenised here
    (our own output is read from its text again); every other field passes through."""
    if not isinstance(obj, dict):
        raise InputError(f"expected an object with a {fields.text!r} or {fields.tokens!r} field", name, number)
    tokens, text = obj.get(fields.tokens), obj.get(fields.text)
    if isinstance(text, str) and ner_lstm_output(obj):
        tokens = None
    if isinstance(tokens, list) and all(isinstance(t, str) for t in tokens):
        rest = {k: v for k, v in obj.items() if k != fields.tokens}
        return Record(name, number, [Sentence(tokens, source=name, line=number)], fields=rest,
                      input_field=fields.tokens)
    if isinstance(text, str):
        rest = {k: v for k, v in obj.items() if k != fields.text}
        return Record(name, number, None, text=text, fields=rest, input_field=fields.text)
    raise InputError(f"expected a {fields.text!r} string or a {fields.tokens!r} list of strings", name, number)


def read_jsonl(lines: Lines, name: str, fields: Fields = Fields()) -> Iterator[Record]:
    """One record per JSON object (`object_record`)."""
    for number, obj in json_lines(lines, name):
        yield object_record(obj, name, number, fields)


def read_parquet(name: str, fields: Fields = Fields()) -> Iterator[Record]:
    """One record per row (`object_record`), read a batch of rows at a time; rows are numbered from 1."""
    from ..extras import require

    require("parquet", "reading Parquet")
    import pyarrow.parquet as pq

    if name == STDIN:
        raise UsageError("Parquet cannot be read from stdin; give the file's path")
    if not Path(name).is_file():
        raise InputError("no such file", name)
    try:
        table = pq.ParquetFile(name)
    except Exception as err:  # pyarrow raises its own types for files that are not Parquet
        raise InputError(f"not a readable Parquet file ({str(err).splitlines()[0][:200]})", name) from None
    yield from batch_records(table.iter_batches(batch_size=4096), name, fields)


def batch_records(batches: Iterable[Any], name: str, fields: Fields = Fields(), first_row: int = 1) -> Iterator[Record]:
    """Records of Arrow record batches (`object_record`), rows numbered from `first_row`."""
    number = first_row - 1
    for batch in batches:
        for row in batch.to_pylist():
            number += 1
            yield object_record(row, name, number, fields)


READERS = {"text": read_text, "conll": read_conll_records, "jsonl": read_jsonl}


def line_records(lines: Lines, name: str, input_format: str, fields: Fields = Fields()) -> Iterator[Record]:
    """The records of numbered lines in a line format (text, conll, jsonl)."""
    return read_jsonl(lines, name, fields) if input_format == "jsonl" else READERS[input_format](lines, name)


def read_records(name: str, input_format: str, encoding: str = "utf-8", announce: bool = True,
                 fields: Fields = Fields()) -> Iterator[Record]:
    """Stream the records of one input ('-' is stdin), choosing the reader for `auto`."""
    if input_format == "parquet" or (input_format == "auto" and Path(name).suffix.lower() == ".parquet"):
        if announce and input_format == "auto":
            print(f"ner-lstm: {name}: reading as parquet", file=sys.stderr)
        yield from read_parquet(name, fields)
        return
    if input_format == "auto" and EXTENSIONS.get(Path(name).suffix.lower()) in SPAN_INPUTS:
        input_format = EXTENSIONS[Path(name).suffix.lower()]
        if announce:
            print(f"ner-lstm: {name}: reading as {input_format}", file=sys.stderr)
    if input_format in SPAN_INPUTS:
        yield from _span_records(name, input_format, encoding)
        return
    handle = sys.stdin.buffer if name == STDIN else open_input(Path(name), encoding)
    try:
        lines: Iterator[tuple[int, str]] = decoded_lines(handle, name, encoding)
        chosen = input_format
        if chosen == "auto":
            head = list(itertools.islice(lines, 20))
            chosen = sniff_format(name, [line for _, line in head])
            if announce:
                print(f"ner-lstm: {name}: reading as {chosen}", file=sys.stderr)
            if chosen in SPAN_INPUTS:
                yield from _span_records(name, chosen, encoding)
                return
            lines = itertools.chain(head, lines)
        yield from line_records(lines, name, chosen, fields)
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def _span_records(name: str, input_format: str, encoding: str) -> Iterator[Record]:
    """A span format's records to tag (their gold tags and spans kept), with what could not be aligned said."""
    from .formats import labelled_records

    if name == STDIN:
        raise UsageError(f"{input_format} input is read from files; give the path")
    options = SpanOptions()
    yield from labelled_records(name, input_format, options, encoding=encoding)
    options.report.announce(name)


# --- datasets (Hugging Face `datasets`) ---------------------------------------------------------------
def load_hub_dataset(dataset_id: str, revision: str | None = None) -> Any:
    """Load a dataset with `datasets.load_dataset`: a hub id, or a local folder of data files.

    Hub ids default to the script-free parquet conversion, which current `datasets` can read.
    """
    from ..extras import require

    require("datasets", "reading a Hugging Face dataset")
    import datasets

    local = Path(dataset_id).exists()
    if revision is None and not local:
        revision = "refs/convert/parquet"
    try:
        return datasets.load_dataset(dataset_id, revision=revision)
    except Exception as err:  # datasets raises many types: network, missing files, bad config
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"could not load dataset: {reason}", dataset_id) from None


def require_split(splits: Any, name: str, dataset_id: str) -> Any:
    """One split of a loaded `DatasetDict`, or a clear error naming the splits there are."""
    if name not in splits:
        raise InputError(f"has no split {name!r} (splits: {', '.join(splits)})", dataset_id)
    return splits[name]


def dataset_sentence(tokens: Sequence[str], tags: Sequence[Any] | None, names: list[str] | None, source: str,
                     row: int) -> Sentence:
    """One dataset row as a Sentence; integer tags are mapped through the split's label names."""
    labels = None
    if tags is not None:
        labels = [names[i] if names is not None else str(i) for i in tags]
        for tag in labels:
            if not TAG_PATTERN.match(tag):
                raise InputError(f"tag {tag!r} fits no scheme", source, row)
    return Sentence(list(tokens), labels, source=source, line=row)


def dataset_records(split: Any, name: str, token_field: str = "tokens",
                    tag_field: str = "ner_tags") -> Iterator[Record]:
    """Rows of a `datasets` split as records (rows numbered from 1); other columns pass through."""
    if token_field not in split.column_names:
        raise InputError(f"has no column {token_field!r} (columns: {', '.join(split.column_names)})", name)
    labelled = tag_field in split.column_names
    names = _label_names(split, tag_field, name) if labelled else None
    for index, row in enumerate(split, start=1):
        sentence = dataset_sentence(row[token_field], row[tag_field] if labelled else None, names, name, index)
        fields = {k: v for k, v in row.items() if k != token_field}
        yield Record(name, index, [sentence], fields=fields, input_field="tokens")


def sentences_from_dataset(split: Any, name: str = "dataset", token_field: str = "tokens",
                           tag_field: str = "ner_tags") -> list[Sentence]:
    """A labelled split for training or scoring: its non-empty sentences, tags converted to IOB2."""
    sentences = [s for record in dataset_records(split, name, token_field, tag_field) for s in record.sentences
                 if len(s)]
    convert_corpus(sentences)
    return sentences


def _label_names(split: Any, tag_field: str, name: str) -> list[str] | None:
    feature = split.features[tag_field]
    inner = getattr(feature, "feature", None)
    names = getattr(inner, "names", None)
    if names is None and inner is not None and getattr(inner, "dtype", "") != "string":
        raise InputError(
            f"column {tag_field!r} holds integers without label names in its features", name
        )
    return list(names) if names is not None else None


# --- labelled corpora for scoring -----------------------------------------------------------------------
def dataset_corpus(dataset: str, split: str = "test") -> list[Sentence]:
    """The labelled sentences of one split of a dataset, to score."""
    chosen = require_split(load_hub_dataset(dataset), split, dataset)
    return sentences_from_dataset(chosen, name=f"{dataset}[{split}]")
