"""`Sentence`, the record every input becomes; the CoNLL column reader; tag schemes (IOB1, IOB2, BIOES).

Training, evaluation and tagging read column files through the same reader, so
what is scored is exactly what is tagged. Labelled corpora are converted to IOB2.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from pathlib import Path

from ..errors import InputError
from .documents import Document, mark_document
from .lines import decoded_lines, open_input

TAG_PATTERN = re.compile(r"^(O|[BIES]-[^\s]+)$")
DOCSTART = "-DOCSTART-"


@dataclass
class Sentence:
    """One sentence: its tokens, gold tags if known, and where it came from."""

    tokens: list[str]
    tags: list[str] | None = None
    offsets: list[tuple[int, int]] | None = None
    source: str = ""
    line: int = 0
    text: str | None = None
    document: int | None = None  # which `-DOCSTART-` document of its file (None: the file marks none)
    # The document it was read in (None: a document of its own), and per token how its word is written
    # elsewhere there, found when a model first asks (`data.documents`).
    in_document: Document | None = field(default=None, repr=False, compare=False)
    document_position: int = field(default=0, repr=False, compare=False)  # its sentence number there
    context: list[int] | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass
class Record:
    """One unit of input and output: its sentences, and what is carried through untouched.

    `sentences` given as None are split from `text` (`data.text.split_text`) when first asked for: a
    record of raw text is tokenised where it is tagged (in a worker process, beside the others), not
    where it is read.
    `input_field` names the JSONL field the sentences came from ("text" or "tokens"),
    which the output echoes rather than treats as a field of the user's to keep apart.
    """

    source: str
    id: int
    sentences: list[Sentence]
    text: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    input_field: str | None = None
    gold_spans: list | None = None  # the entities of a span format, as scored (`formats.align.Span`)

    @property
    def split_from_text(self) -> bool:
        """Whether the sentences are (or will be) split from the text: the text alone says what they are."""
        return self._split

    def size(self) -> int:
        """Its tokens, or, before its text is split, its words (a window's measure needs no more)."""
        if self._sentences is None:
            return len(self.text.split()) if self.text else 0
        return sum(len(s) for s in self._sentences)


def _sentences(record: Record) -> list[Sentence]:
    if record._sentences is None:
        from .text import split_text

        record._sentences = split_text(record.text or "", source=record.source, line=record.id)
    return record._sentences


def _set_sentences(record: Record, sentences: list[Sentence] | None) -> None:
    record._sentences = sentences
    record._split = sentences is None


Record.sentences = property(_sentences, _set_sentences)  # type: ignore[assignment]  # after the dataclass's __init__


def read_conll(path: str | Path, tag_column: int = -1, encoding: str = "utf-8") -> list[Sentence]:
    """Read a labelled CoNLL-style column file (train, evaluate): tags required, converted to IOB2."""
    with open_input(Path(path), encoding) as handle:
        lines = decoded_lines(handle, str(path), encoding)
        sentences = [s for document in conll_documents(conll_sentences(lines, str(path), tag_column)) for s in document]
    if not sentences:
        raise InputError("contains no sentences", path)
    convert_corpus(sentences)
    return sentences


def conll_documents(sentences: Iterable[Sentence]) -> Iterator[list[Sentence]]:
    """The sentences of each `-DOCSTART-` document, made one document (`data.documents`); in a file that
    marks none, each sentence alone. Holds one document at a time."""
    document: list[Sentence] = []
    for sentence in sentences:
        if document and sentence.document != document[0].document:
            mark_document(document)
            yield document
            document = []
        if sentence.document is None:
            yield [sentence]
        else:
            document.append(sentence)
    if document:
        mark_document(document)
        yield document


def conll_sentences(
    lines: Iterable[tuple[int, str]], name: str, tag_column: int = -1, tags: str = "required"
) -> Iterator[Sentence]:
    """The one CoNLL column reader: token first, tag in `tag_column`, blank or `-DOCSTART-` lines between sentences.

    `tags` is "required" (a missing or malformed tag is an error naming the line) or
    "optional" (a sentence keeps gold tags only if every token has a well-formed
    one: `tag` input may or may not carry them).
    """
    tokens: list[str] = []
    gold: list[str] = []
    complete = True  # every token so far has a well-formed tag
    start = 0
    document = None
    for number, line in itertools.chain(lines, [(0, "")]):  # a last blank line closes the last sentence
        columns = line.split()
        if not columns or columns[0] == DOCSTART:
            if tokens:
                yield Sentence(tokens, gold if complete else None, source=name, line=start, document=document)
            tokens, gold, complete = [], [], True
            if columns:
                document = 0 if document is None else document + 1
            continue
        if not tokens:
            start = number
        tokens.append(columns[0])
        if tags == "required":
            gold.append(_tag_of(columns, tag_column, name, number))
        elif tags == "optional" and complete:
            tag = columns[tag_column] if len(columns) >= 2 and -len(columns) <= tag_column < len(columns) else ""
            complete = bool(TAG_PATTERN.match(tag))
            gold.append(tag)


def _tag_of(columns: list[str], tag_column: int, path: str, lineno: int) -> str:
    if len(columns) < 2:
        raise InputError(
            f"expected at least 2 columns (token and tag), found {len(columns)}: {' '.join(columns)!r}",
            path,
            lineno,
        )
    try:
        tag = columns[tag_column]
    except IndexError:
        raise InputError(
            f"no column {tag_column} (the line has {len(columns)}); check --tag-column", path, lineno
        ) from None
    if not TAG_PATTERN.match(tag):
        raise InputError(
            f"tag {tag!r} fits no scheme; expected O or B-/I-/E-/S- followed by a type (e.g. B-PER)",
            path,
            lineno,
        )
    return tag


def spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """(label, first token, one past last token) for each entity; a stray I- opens one, as conlleval does."""
    found: list[tuple[str, int, int]] = []
    label, begin = None, 0
    for i, tag in enumerate(tags):
        if tag == "O":  # most tags: nothing to do but close an open entity
            if label is not None:
                found.append((label, begin, i))
                label = None
        elif label is None or tag[:2] != "I-" or tag[2:] != label:
            if label is not None:
                found.append((label, begin, i))
            label, begin = tag[2:], i
    if label is not None:
        found.append((label, begin, len(tags)))
    return found


def join_tokens(tokens: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """A text for tokens that came without one (space-joined), and each token's offsets into it."""
    offsets, position = [], 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    return " ".join(tokens), offsets


def detect_scheme(tag_sequences: Iterable[Sequence[str]]) -> str:
    """Name the tag scheme: 'BIOES' if E-/S- appear, 'IOB1' if a chunk opens with I-, else 'IOB2'."""
    iob1 = False
    for tags in tag_sequences:
        previous = "O"
        for tag in tags:
            if tag[0] in "ES":
                return "BIOES"
            if tag[0] == "I" and (previous == "O" or previous[2:] != tag[2:]):
                iob1 = True
            previous = tag
    return "IOB1" if iob1 else "IOB2"


def to_iob2(tags: Sequence[str], scheme: str) -> list[str]:
    """Convert one sentence's tags from `scheme` to IOB2."""
    if scheme == "BIOES":
        table = {"S": "B", "E": "I"}
        return [tag if tag == "O" else table.get(tag[0], tag[0]) + tag[1:] for tag in tags]
    if scheme == "IOB1":
        out: list[str] = []
        previous = "O"
        for tag in tags:
            if tag[0] == "I" and (previous == "O" or previous[2:] != tag[2:]):
                tag = "B" + tag[1:]
            out.append(tag)
            previous = tag
        return out
    return list(tags)


def as_iob2(tags: Sequence[str]) -> list[str]:
    """One sentence's tags in IOB2 whatever their scheme, for a stream whose scheme cannot be detected
    first: S-/E- read as B-/I- (BIOES), then an I- that opens an entity read as B- (IOB1); IOB2 is unchanged."""
    return to_iob2(to_iob2(tags, "BIOES"), "IOB1")


def iob2_to_bioes(tags: Sequence[str]) -> list[str]:
    """IOB2 to BIOES: single-token entities become S-, last tokens of longer ones E-."""
    out = []
    for i, tag in enumerate(tags):
        following = tags[i + 1] if i + 1 < len(tags) else "O"
        ends = following != "I-" + tag[2:]
        if tag.startswith("B-"):
            out.append(("S-" if ends else "B-") + tag[2:])
        elif tag.startswith("I-"):
            out.append(("E-" if ends else "I-") + tag[2:])
        else:
            out.append(tag)
    return out


def convert_corpus(sentences: list[Sentence]) -> str:
    """Detect the corpus's scheme and rewrite its tags in IOB2 in place; return the scheme found."""
    scheme = detect_scheme(s.tags for s in sentences if s.tags)
    if scheme != "IOB2":
        for sentence in sentences:
            if sentence.tags is not None:
                sentence.tags = to_iob2(sentence.tags, scheme)
    return scheme
