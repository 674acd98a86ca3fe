"""Labelled JSON lines: character spans over a text (doccano, Prodigy/spaCy, our own `tag` output) or
tokens with tags.

The shapes read, one object a line:
- doccano: `{"text", "label": [[start, end, "LABEL"], ...]}` (older exports: `"labels"`), its
  relation-style export `{"text", "entities": [{"start_offset", "end_offset", "label"}]}`, and the 1.0
  exports' `{"text", "annotations": [{"label": 3, "start_offset", "end_offset", "user"}]}` (label ids,
  named with `--map-label 3=PER`; with several users, the lowest user id's spans are read, the rest counted);
- Prodigy / spaCy: `{"text", "spans": [{"start", "end", "label"}], "answer": "accept"}`; records
  answered `reject` or `ignore` are left out (counted);
- `ner-lstm tag --output-format jsonl`: `{"text", "entities": [{"start", "end", "label", "text"}]}`
  (entities win over its `tags`, so a corrected file trains as corrected);
- tokens with tags: `{"tokens": [...], "tags": [...]}` (also `ner_tags`), taken one to one.
A record with a text and no annotation key at all is left out (counted): unannotated is not "no entities".
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ...errors import InputError
from ..corpus import TAG_PATTERN, Record, Sentence, join_tokens
from ..documents import mark_document
from ..lines import Lines, json_lines
from .align import Span, align, located, map_tags
from .options import SpanOptions

SPAN_KEYS = ("entities", "spans", "label", "labels", "annotations")
TAG_KEYS = ("tags", "ner_tags")
SKIPPED_ANSWERS = {"reject", "ignore"}


def read_labelled_jsonl(lines: Lines, name: str, options: SpanOptions) -> Iterator[Record]:
    """One labelled record per annotated JSON object; consecutive `tokens` lines with the same `"document"`
    (what `convert --to jsonl` writes for a document) are one record, one document."""
    document: list[Record] = []
    for number, obj in json_lines(lines, name):
        record = labelled_object(obj, name, number, options)
        if record is None:
            continue
        if document and record.fields.get("document") != document[0].fields.get("document"):
            yield _joined(document)
            document = []
        if record.fields.get("document") is None:
            yield record
        else:
            document.append(record)
    if document:
        yield _joined(document)


def _joined(records: list[Record]) -> Record:
    sentences = [s for record in records for s in record.sentences]
    for sentence in sentences:
        sentence.document = records[0].fields["document"]
    mark_document(sentences)
    return Record(records[0].source, records[0].id, sentences, fields=records[0].fields)


def labelled_object(obj: Any, name: str, number: int, options: SpanOptions) -> Record | None:
    """A record of one JSON object, or None when it is marked to ignore or carries no annotation."""
    where = f"{name}:{number}"
    if not isinstance(obj, dict):
        raise InputError("expected a JSON object", name, number)
    if obj.get("answer") in SKIPPED_ANSWERS:
        options.report.skip(f"records answered {obj['answer']!r} (Prodigy), left out")
        return None
    fields = {k: v for k, v in obj.items() if k in ("id", "meta", "document")}
    text, tokens = obj.get("text"), obj.get("tokens")
    key = next((k for k in SPAN_KEYS if k in obj), None)
    if key is None and isinstance(tokens, list) and any(k in obj for k in TAG_KEYS):
        return _token_record(obj, tokens, name, number, options, fields)
    if key is None:
        if isinstance(text, str) or isinstance(tokens, list):
            options.report.skip("records without annotations (no 'label', 'spans', 'entities' or 'tags'), left out")
            return None
        raise InputError("expected a 'text' with 'label'/'spans'/'entities', or 'tokens' with 'tags'", name, number)
    spans = [_span(item, key, where, options) for item in _one_annotator(_items(obj[key], key, where), options)]
    if isinstance(text, str):
        sentences, gold = align(text, spans, where, options.report, options.mapping, options.strict, name, number)
        return Record(name, number, sentences, text=text, fields=fields, gold_spans=gold)
    if isinstance(tokens, list) and all(isinstance(t, str) for t in tokens):
        # Spans over tokens given without a text (our own output of tokenised input): the tokens joined by spaces.
        text, offsets = join_tokens(tokens)
        sentences, gold = align(text, spans, where, options.report, options.mapping, options.strict, name, number)
        return Record(name, number, sentences, text=text, fields=fields, gold_spans=gold)
    raise InputError(f"has {key!r} but no 'text' string to take its offsets in", name, number)


def _items(value: Any, key: str, where: str) -> list:
    if not isinstance(value, list):
        raise InputError(f"{key!r} is not a list of spans", *located(where))
    return value


def _one_annotator(items: list, options: SpanOptions) -> list:
    """doccano 1.0 kept every user's spans in one list: read one user's (the lowest id), count the others."""
    users = sorted({item["user"] for item in items if isinstance(item, dict) and "user" in item}, key=str)
    if len(users) < 2:
        return items
    kept = [item for item in items if not isinstance(item, dict) or item.get("user") == users[0]]
    options.report.skip("spans of other annotators than the first user, not read", len(items) - len(kept))
    return kept


def _span(item: Any, key: str, where: str, options: SpanOptions) -> Span:
    """One span in any of the shapes above; a shape that is not one of them is refused, never guessed."""
    if isinstance(item, list) and len(item) == 3 and all(isinstance(v, int) for v in item[:2]):
        start, end, label = item
    elif isinstance(item, dict) and ("start" in item or "start_offset" in item):
        start, end = item.get("start", item.get("start_offset")), item.get("end", item.get("end_offset"))
        label = item.get("label")
    elif isinstance(item, dict) and "result" in item:
        raise InputError("a Label Studio task; read it with --input-format labelstudio", *located(where))
    elif isinstance(item, str):
        raise InputError(f"{key!r} holds a document category ({item!r}), not entity spans", *located(where))
    else:
        raise InputError(f"a {key!r} item is not [start, end, label] or {{start, end, label}}: "
                         f"{json.dumps(item)[:80]}", *located(where))
    if not (isinstance(start, int) and isinstance(end, int)):
        raise InputError(f"span offsets must be integers: {json.dumps(item)[:80]}", *located(where))
    if isinstance(label, int) and not isinstance(label, bool):
        if str(label) not in options.mapping:
            raise InputError(f"span label {label} is a label id, not a name; name it with --map-label "
                             f"{label}=NAME (the ids are in the project's label settings)", *located(where))
        label = str(label)
    if not isinstance(label, str):
        raise InputError(f"span label must be a string: {json.dumps(item)[:80]}", *located(where))
    stated = item.get("text") if isinstance(item, dict) and isinstance(item.get("text"), str) else None
    return Span(start, end, label, stated)


def _token_record(obj: dict, tokens: list, name: str, number: int, options: SpanOptions, fields: dict) -> Record:
    tags = next(obj[k] for k in TAG_KEYS if k in obj)
    if not all(isinstance(t, str) for t in tokens) or not isinstance(tags, list) or len(tags) != len(tokens):
        raise InputError(f"'tokens' and 'tags' must be lists of strings of the same length "
                         f"({len(tokens)} tokens, {len(tags) if isinstance(tags, list) else 'no'} tags)", name, number)
    for tag in tags:
        if not isinstance(tag, str) or not TAG_PATTERN.match(tag):
            raise InputError(f"tag {tag!r} fits no scheme; expected O or B-/I-/E-/S- followed by a type", name, number)
    tags = map_tags(tags, options.mapping, f"{name}:{number}")
    return Record(name, number, [Sentence(list(tokens), tags, source=name, line=number)], fields=fields)

