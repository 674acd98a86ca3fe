"""Output formats for tagged text: inline markup, JSON, CoNLL columns."""
from __future__ import annotations

import json
from collections.abc import Sequence

from .tagger import Tagged


def inline(text: str, tagged: Sequence[Tagged]) -> str:
    """The input text with each entity written as `[text](LABEL)`."""
    pieces, position = [], 0
    for entity in (e for t in tagged for e in t.entities):
        pieces.append(text[position : entity.start])
        pieces.append(f"[{text[entity.start : entity.end]}]({entity.label})")
        position = entity.end
    pieces.append(text[position:])
    return "".join(pieces)


def sentence_record(tagged: Tagged) -> dict:
    """One sentence as a JSON-ready dict: tokens, offsets, tags and entities."""
    sentence = tagged.sentence
    record = {"tokens": sentence.tokens, "tags": tagged.tags, "entities": [e.to_json() for e in tagged.entities]}
    if sentence.offsets is not None:
        record["offsets"] = [list(o) for o in sentence.offsets]
    if sentence.tags is not None:
        record["gold"] = sentence.tags
    return record


def text_record(text: str, tagged: Sequence[Tagged]) -> str:
    """A whole text as one JSON object; entity offsets index `text`."""
    return json.dumps(
        {"text": text, "entities": [e.to_json() for t in tagged for e in t.entities],
         "sentences": [sentence_record(t) for t in tagged]},
        ensure_ascii=False,
    )


def conll(tagged: Sequence[Tagged]) -> str:
    """Token and predicted tag per line (gold tag between them when known), blank line between sentences."""
    blocks = []
    for item in tagged:
        gold = item.sentence.tags
        rows = [
            f"{token}\t{gold[i]}\t{tag}" if gold is not None else f"{token}\t{tag}"
            for i, (token, tag) in enumerate(zip(item.sentence.tokens, item.tags))
        ]
        blocks.append("\n".join(rows) + "\n")
    return "\n".join(blocks)
