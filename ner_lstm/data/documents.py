"""Document context: how a word is written elsewhere in its document.

A capitalised word at the start of a sentence or in an all-caps headline may or
may not be a name; the same word written mid-sentence elsewhere in the document
says which ("LEICESTERSHIRE" in a headline, "Leicestershire" in the story). Each
token gets one class from the other occurrences of its lowercased form; the
encoder folds it into the token's case id, so the network sees it without a new
input. A sentence given without a document is a document of its own.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # corpus reads documents with this module
    from .corpus import Sentence

# What the other, informative occurrences of a word in the document look like.
NONE, CAPITALISED, LOWERCASE, MIXED = range(4)
CLASSES = MIXED + 1


def shouting(tokens: Sequence[str]) -> bool:
    """A headline or table line in capitals: its case says nothing about any one word."""
    words = [t for t in tokens if len(t) > 1 and any(c.isalpha() for c in t)]
    return bool(words) and sum(t.isupper() for t in words) * 2 > len(words)


def _informative(tokens: Sequence[str], shouted: bool) -> list[int]:
    """Per token: CAPITALISED or LOWERCASE where its case is evidence, NONE where it is not
    (sentence start, all-caps lines, tokens without letters)."""
    if shouted:
        return [NONE] * len(tokens)
    return [NONE if i == 0 or not token[:1].isalpha() else CAPITALISED if token[0].isupper()
            else LOWERCASE if token.islower() else NONE
            for i, token in enumerate(tokens)]


def context_classes(document: Sequence[Sequence[str]]) -> list[list[int]]:
    """For every token, the class of its word's other informative occurrences in `document` (its sentences'
    tokens)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    evidence = []
    for tokens in document:
        marks = _informative(tokens, shouting(tokens))
        evidence.append(marks)
        for token, mark in zip(tokens, marks):
            counts[token.lower()][mark] += 1
    classes = []
    for tokens, marks in zip(document, evidence):
        row = []
        for token, mark in zip(tokens, marks):
            seen = list(counts[token.lower()])
            seen[mark] -= 1  # only the other occurrences count
            capitalised, lowercase = seen[CAPITALISED], seen[LOWERCASE]
            row.append(MIXED if capitalised and lowercase else CAPITALISED if capitalised
                       else LOWERCASE if lowercase else NONE)
        classes.append(row)
    return classes


@dataclass(eq=False)
class Document:
    """Sentences read together as one document (a `-DOCSTART-` document, a text, a span-format record): other
    mentions' evidence and the document context look across them, never across documents. Compared by
    identity: two documents with the same sentences are still two.

    It holds its sentences' token lists and classes, not the sentences, so that a sentence and its document
    make no reference cycle: a tagged window is freed when it is written, not at the next full garbage
    collection (raw text made 170k objects of cycles per 100k tokens; `tag`'s peak memory on 10 MB of text
    was 385 MB, and 303 MB without them).
    """

    tokens: list[list[str]]
    classes: list[list[int]] | None = None


def mark_document(sentences: list[Sentence]) -> None:
    """Make `sentences` one document. Their classes are found when a model first asks, so reading costs
    nothing for a model without document context."""
    document = Document([sentence.tokens for sentence in sentences])
    for position, sentence in enumerate(sentences):
        sentence.in_document, sentence.document_position = document, position


def sentence_context(sentence: Sentence) -> list[int]:
    """A sentence's context classes, from its document (found once for all its sentences), or from itself
    if it was read alone."""
    if sentence.context is None:
        document = sentence.in_document
        if document is None:
            sentence.context = context_classes([sentence.tokens])[0]
        else:
            if document.classes is None:
                document.classes = context_classes(document.tokens)
            sentence.context = document.classes[sentence.document_position]
    return sentence.context
