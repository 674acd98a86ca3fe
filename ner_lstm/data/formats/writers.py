"""Labelled records written back in the annotation tools' formats (what `convert` writes).

A record read from a span format keeps its text and its gold spans, so converting
between span formats loses nothing the aligner could not place. A record of tokens
(CoNLL, `tokens` JSONL) becomes a text: tokens joined by spaces, sentences by a blank
line (which always ends a sentence for the tokeniser), so reading it back gives the
same sentences wherever the tokeniser agrees with the tokens.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ...files import write_dir_atomic, write_file_atomic
from ..corpus import DOCSTART, Record
from .align import Span, tags_to_spans
from .brat import ann_text
from .labelstudio import task_json

SENTENCE_BREAK = "\n\n"


def record_text_spans(record: Record) -> tuple[str, list[Span]]:
    """The record's text and its entities as character spans."""
    if record.text is not None and record.gold_spans is not None:
        return record.text, list(record.gold_spans)
    if record.text is not None:
        return record.text, [span for s in record.sentences
                             for span in tags_to_spans(s.tokens, s.tags or ["O"] * len(s), s.offsets or [])]
    pieces, spans, position = [], [], 0
    for sentence in record.sentences:
        offsets = []
        for token in sentence.tokens:
            offsets.append((position, position + len(token)))
            position += len(token) + 1
        pieces.append(" ".join(sentence.tokens))
        spans += tags_to_spans(sentence.tokens, sentence.tags or ["O"] * len(sentence), offsets)
        position += len(SENTENCE_BREAK) - 1
    return SENTENCE_BREAK.join(pieces), spans


def _fields(record: Record) -> dict:
    return {k: v for k, v in record.fields.items() if k not in ("text", "label", "annotations", "predictions")}


def conll_text(records: Iterable[Record]) -> str:
    """Token and tag columns; a `-DOCSTART-` line before each record of more than one sentence."""
    out = []
    for record in records:
        if _is_document(record):
            out.append(f"{DOCSTART}\tO\n\n")
        for sentence in record.sentences:
            if len(sentence):
                tags = sentence.tags or ["O"] * len(sentence)
                out.append("".join(f"{t}\t{g}\n" for t, g in zip(sentence.tokens, tags)) + "\n")
    return "".join(out)


def tokens_jsonl(records: Iterable[Record]) -> str:
    """One `{"tokens", "tags"}` line per sentence; the sentences of a document share a `"document"` number."""
    lines = []
    for number, record in enumerate(records, start=1):
        document = {"document": number} if _is_document(record) else {}
        lines += [json.dumps({**document, "tokens": s.tokens, "tags": s.tags or ["O"] * len(s)}, ensure_ascii=False)
                  + "\n" for s in record.sentences if len(s)]
    return "".join(lines)


def _is_document(record: Record) -> bool:
    return len(record.sentences) > 1 or bool(record.sentences) and record.sentences[0].document is not None


def doccano_jsonl(records: Iterable[Record]) -> str:
    """doccano's sequence-labelling JSONL: `{"text", "label": [[start, end, label]]}` per record."""
    lines = []
    for record in records:
        text, spans = record_text_spans(record)
        lines.append(json.dumps({**_fields(record), "text": text,
                                 "label": [[s.start, s.end, s.label] for s in spans]}, ensure_ascii=False) + "\n")
    return "".join(lines)


def labelstudio_json(records: Iterable[Record]) -> str:
    """A Label Studio import: a list of tasks, each with its spans as an annotation."""
    tasks = []
    for record in records:
        text, spans = record_text_spans(record)
        tasks.append(json.dumps(task_json(text, spans, _fields(record)), ensure_ascii=False))
    return "[\n" + ",\n".join(tasks) + "\n]\n"


def write_brat(records: Iterable[Record], folder: Path, overwrite: bool = False) -> int:
    """A BRAT folder: `NAME.txt` and `NAME.ann` per record; returns how many documents."""
    names: set[str] = set()
    documents = []
    for number, record in enumerate(records, start=1):
        name = brat_name(record.fields.get("id"), number, names)
        documents.append((name, *record_text_spans(record)))

    def fill(tmp: Path) -> None:
        for name, text, spans in documents:
            (tmp / f"{name}.txt").write_text(text, "utf-8", newline="")
            (tmp / f"{name}.ann").write_text(ann_text(text, spans), "utf-8", newline="")

    write_dir_atomic(folder, fill)
    return len(documents)


def brat_name(own_id: object, number: int, taken: set[str]) -> str:
    """A file name for a record: its own id where it is a safe one, else its number; never twice."""
    own = "" if own_id is None else str(own_id)
    name = own if own and all(c.isalnum() or c in "-_." for c in own) and not own.startswith(".") else f"{number:06d}"
    while name in taken:
        name = f"{name}-{number}"
    taken.add(name)
    return name


TEXT_WRITERS = {"conll": conll_text, "jsonl": tokens_jsonl, "doccano": doccano_jsonl, "labelstudio": labelstudio_json}


def write_converted(records: list[Record], output: Path, to: str) -> None:
    """Write `records` to `output` in format `to`, atomically (a file, or a folder for BRAT)."""
    if to == "brat":
        write_brat(records, output)
        return
    text = TEXT_WRITERS[to](records)
    write_file_atomic(output, lambda tmp: tmp.write_text(text, "utf-8", newline=""))
