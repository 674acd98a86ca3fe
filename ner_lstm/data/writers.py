"""Output formats for tagged records: JSON lines, CoNLL columns, inline markup, a self-contained HTML page.

`predict` and `tag` share them: a text given to `predict` is one record.
"""
from __future__ import annotations

import functools
import html
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

import orjson

from ..errors import InputError
from .corpus import Sentence, join_tokens
from .formats.align import Span
from .formats.brat import ann_text
from .formats.labelstudio import task_json
from .sources import ner_lstm_output



class Tagged(Protocol):
    """What the writers read of a tagged sentence (`inference.tagger.Tagged`, a layer above this one)."""

    sentence: Sentence
    tags: list[str]
    confidence: list[float]

    @property
    def entities(self) -> list: ...


def _record_surface(record, tagged: Sequence[Tagged]) -> tuple[str, list[tuple[int, int]]]:
    """The record's text and every token's offsets into it (tokens joined by spaces when no text)."""
    if record.text is not None:
        return record.text, [o for t in tagged for o in (t.sentence.offsets or [])]
    return join_tokens([tok for t in tagged for tok in t.sentence.tokens])


def _record_entities(record, tagged: Sequence[Tagged]) -> list:
    """Entities with offsets into the record's text (sentences of token records are joined by spaces)."""
    if record.text is not None:
        return [e for t in tagged for e in t.entities]
    found, shift = [], 0
    for item in tagged:
        for e in item.entities:
            found.append(replace(e, start=e.start + shift, end=e.end + shift))
        shift += len(" ".join(item.sentence.tokens)) + 1
    return found


def record_jsonl(record, tagged: Sequence[Tagged], field_prefix: str = "") -> str:
    """One JSON line: `record_fields`."""
    return json_text(record_fields(record, tagged, field_prefix)) + "\n"


# What `json` refuses too; orjson writes dates and dataclasses, `json` does not.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def json_text(value: dict) -> str:
    """`value` as compact JSON, non-ASCII as is. orjson writes it in a tenth of `json`'s time (CoNLL-2003's
    documents as JSON lines: 0.16 -> 0.02 s, a twentieth of tagging them); what orjson refuses (an integer
    past 64 bits, a lone surrogate, a value JSON has no type for) goes to `json`, which writes it or
    raises as it always did."""
    try:
        return orjson.dumps(value, option=_ORJSON_OPTIONS).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


IDENTITY = ("source", "id")  # a record's own values of these name it: kept, ours left out
OUTPUT = ("text", "tokens", "tags", "offsets", "gold", "entities")


def record_fields(record, tagged: Sequence[Tagged], field_prefix: str = "") -> dict:
    """One output record (a JSONL line, a Parquet row): the user's fields untouched, then source, id,
    text, tokens, tags, offsets, gold, entities.

    A record's own `id` and `source` identify it and are kept (ours are written only where it has
    none). Our output read back in has its tags, entities and the rest refreshed. Any other user's
    field that shares a name with an output field (after `field_prefix`) is an error naming the
    record, never overwritten. The field the record was read from (`text` or `tokens`) is echoed as it was.
    """
    ours: dict = {"source": record.source, "id": record.id}
    if record.text is not None:
        ours["text"] = record.text
    ours["tokens"] = [tok for t in tagged for tok in t.sentence.tokens]
    ours["tags"] = [tag for t in tagged for tag in t.tags]
    if record.text is not None:
        ours["offsets"] = _record_surface(record, tagged)[1]  # pairs: JSON arrays, lists in Parquet
    gold = [t.sentence.tags for t in tagged]
    if gold and all(g is not None for g in gold):
        ours["gold"] = [tag for g in gold for tag in g]
    ours["entities"] = [e.to_json() for e in _record_entities(record, tagged)]
    out = dict(record.fields)
    if not field_prefix and ner_lstm_output(out):
        out = {k: v for k, v in out.items() if k not in OUTPUT}
    if record.input_field is not None:
        # The input itself, as given, under the user's field name (--text-field, --tokens-field).
        out[record.input_field] = ours.pop("text" if record.text is not None else "tokens")
    for key, value in ours.items():
        name = field_prefix + key
        if key in IDENTITY and name in out:
            continue
        if name in out:
            raise InputError(f"the record's field {name!r} would be overwritten by ner-lstm's output; "
                             f"pass --field-prefix (for example ner_) to write {field_prefix or 'ner_'}{key} "
                             "and the other output fields under new names", record.source, record.id)
        out[name] = value
    return out


def record_conll(record, tagged: Sequence[Tagged]) -> str:
    """Token and predicted tag per line (gold tag between them when known), blank line after each sentence."""
    blocks = []
    for item in tagged:
        gold = item.sentence.tags
        rows = [f"{token}\t{gold[i]}\t{tag}" if gold is not None else f"{token}\t{tag}"
                for i, (token, tag) in enumerate(zip(item.sentence.tokens, item.tags))]
        blocks.append("\n".join(rows) + "\n\n")
    return "".join(blocks)


def record_inline(record, tagged: Sequence[Tagged]) -> str:
    """The record's text with each entity written as `[text](LABEL)`."""
    text, _ = _record_surface(record, tagged)
    pieces, position = [], 0
    for e in _record_entities(record, tagged):
        pieces += [text[position : e.start], f"[{text[e.start : e.end]}]({e.label})"]
        position = e.end
    return "".join(pieces) + text[position:] + "\n"


# The look of entities, shared by `tag --output-format html` and the server's page.
ENTITY_CSS = """
body { font: 16px/1.7 system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; color: #222; }
p { margin: 0.3em 0; } mark { padding: 0.1em 0.3em; border-radius: 0.3em; }
mark::after { content: attr(data-label); font-size: 0.65em; font-weight: bold; margin-left: 0.4em; opacity: 0.7; }
.PER { background: #fde2e4; } .LOC { background: #d8f3dc; } .ORG { background: #dbeafe; }
.MISC { background: #fef3c7; } .other { background: #e9d5ff; }
"""
HTML_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>{css}</style></head><body>
<h1>{title}</h1>
"""
KNOWN_CLASSES = {"PER", "LOC", "ORG", "MISC"}


def record_html(record, tagged: Sequence[Tagged]) -> str:
    """One paragraph with entities highlighted; the label and score show on hover."""
    text, _ = _record_surface(record, tagged)
    pieces, position = [], 0
    for e in _record_entities(record, tagged):
        css = e.label if e.label in KNOWN_CLASSES else "other"
        pieces += [html.escape(text[position : e.start]),
                   f'<mark class="{css}" data-label="{html.escape(e.label)}" '
                   f'title="{html.escape(e.label)} {e.score:.2f}">'
                   f"{html.escape(text[e.start : e.end])}</mark>"]
        position = e.end
    return "<p>" + "".join(pieces) + html.escape(text[position:]) + "</p>\n"


def html_head(title: str) -> str:
    return HTML_HEAD.format(title=html.escape(title), css=ENTITY_CSS)


def _span_fields(record) -> dict:
    """The user's fields a pre-annotation keeps: all but the annotations (and our own output's fields)."""
    dropped = {"label", "labels", "spans", "annotations", "predictions", *OUTPUT}
    return {k: v for k, v in record.fields.items() if k not in dropped}


def record_doccano(record, tagged: Sequence[Tagged]) -> str:
    """doccano's JSONL: the text and the predicted entities as `label: [[start, end, LABEL]]`, to import
    as pre-annotations; the record's other fields pass through, its own labels do not."""
    text, _ = _record_surface(record, tagged)
    labels = [[e.start, e.end, e.label] for e in _record_entities(record, tagged)]
    return json_text({**_span_fields(record), "text": text, "label": labels}) + "\n"


def record_labelstudio(record, tagged: Sequence[Tagged], model_version: str = "") -> str:
    """One Label Studio task with the predicted entities as a prediction (`score` per region and overall,
    `model_version`): Label Studio shows them as pre-labels to accept or correct. Tasks are separated by
    `SEPARATORS["labelstudio"]` inside the list that `tag` opens and closes."""
    text, _ = _record_surface(record, tagged)
    found = _record_entities(record, tagged)
    spans = [Span(e.start, e.end, e.label) for e in found]
    return json_text(task_json(text, spans, _span_fields(record), "predictions", [e.score for e in found],
                               model_version))


def record_brat(record, tagged: Sequence[Tagged]) -> dict:
    """A BRAT document: the record's text and its entities as `T` lines (the output folder names the files)."""
    text, _ = _record_surface(record, tagged)
    spans = [Span(e.start, e.end, e.label) for e in _record_entities(record, tagged)]
    return {"id": record.fields.get("id", record.id), "text": text, "ann": ann_text(text, spans)}


# Parquet's and BRAT's writers give a dict per record (a row, a document); the others give text.
RECORD_WRITERS = {"jsonl": record_jsonl, "conll": record_conll, "inline": record_inline, "html": record_html,
                  "parquet": record_fields, "doccano": record_doccano, "labelstudio": record_labelstudio,
                  "brat": record_brat}
# Outputs that show neither entities nor scores: tagging for them skips the CRF marginals (a third of decoding).
UNSCORED = {"conll"}
# What goes between two records' text, and what opens and closes a whole output, where not nothing.
SEPARATORS = {"labelstudio": ",\n"}


def writer_for(output_format: str, field_prefix: str = "", model_version: str = "") -> Callable:
    """The record writer for a format; JSONL and Parquet name their output fields with `field_prefix`, Label
    Studio predictions carry `model_version`."""
    if output_format in ("jsonl", "parquet"):
        return functools.partial(RECORD_WRITERS[output_format], field_prefix=field_prefix)
    if output_format == "labelstudio":
        return functools.partial(record_labelstudio, model_version=model_version)
    return RECORD_WRITERS[output_format]


def output_ends(output_format: str, title: str) -> tuple[str, str]:
    """What an output opens and closes with: an HTML page's head and end, a Label Studio list's brackets."""
    if output_format == "html":
        return html_head(title), "</body></html>\n"
    if output_format == "labelstudio":
        return "[\n", "\n]\n"
    return "", ""
