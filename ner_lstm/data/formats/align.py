"""Character spans to token tags: the one aligner every span format goes through.

Annotation tools store entities as character offsets into a text; the tagger learns
tags on tokens. A text is split into sentences and tokens by the project's own
tokeniser (`data.text.split_text`, what `predict` uses), and each span becomes B-/I-
tags on the tokens it covers exactly. Spans that cannot be placed are never dropped
silently: each is counted by kind in an `AlignmentReport`, with the first few
`file:line` examples, and `strict` makes the first one an error.
"""
from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ...errors import InputError, UsageError
from ..corpus import Sentence, spans
from ..documents import mark_document
from ..text import split_text

# Problems a span can have, as the report names them.
PROBLEMS = {
    "boundary": "not on token boundaries",
    "overlap": "overlapping or nested with another span (the first kept)",
    "outside": "offsets outside the text (or empty, or reversed)",
    "mismatch": "stated text differs from the text at its offsets",
    "sentence": "crosses a sentence boundary",
}
EXAMPLES = 3
# Scripts written without spaces between words (kana, CJK ideographs, Thai, Lao, Myanmar, Khmer): the
# tokeniser cannot find their words. Korean is written with spaces and is read.
UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\u0e80-\u0eff"
                      r"\u1000-\u109f\u1780-\u17ff]")


@dataclass(frozen=True)
class Span:
    """An entity as an annotation tool stores it: character offsets into its text, a label, and the
    text the tool says it covers (None where the format does not repeat it)."""

    start: int
    end: int
    label: str
    text: str | None = None


@dataclass
class AlignmentReport:
    """What could not be aligned, per kind, with examples; read by `train`, `evaluate`, `convert` and `tag`."""

    spans: int = 0
    aligned: int = 0
    problems: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    skipped: Counter = field(default_factory=Counter)  # records or annotations left out, by reason

    def problem(self, kind: str, where: str, detail: str, strict: bool) -> None:
        if strict:
            raise InputError(f"span {detail}: {PROBLEMS[kind]} (--strict-spans)", *located(where))
        self.problems[kind] += 1
        if len(self.examples[kind]) < EXAMPLES:
            self.examples[kind].append(f"{where}: {detail}")

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] += count

    def lines(self, name: str) -> list[str]:
        """One line per kind of problem or skip, for stderr; nothing when every span was placed."""
        out = [f"{name}: {count} of {self.spans} spans {PROBLEMS[kind]}, left out "
               f"(e.g. {'; '.join(self.examples[kind])})" for kind, count in sorted(self.problems.items())]
        out += [f"{name}: {count} {reason}" for reason, count in sorted(self.skipped.items())]
        return out

    def announce(self, name: str) -> None:
        for line in self.lines(name):
            print(f"ner-lstm: warning: {line}", file=sys.stderr)


def located(where: str) -> tuple[str, int | None]:
    """`file:line` as InputError's path and line (a place without a line number is all path)."""
    name, _, line = where.rpartition(":")
    return (name, int(line)) if line.isdigit() else (where, None)


def parse_label_map(pairs: Iterable[str]) -> dict[str, str]:
    """`--map-label SRC=DST` options as a dict; DST `O` drops the label."""
    mapping = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source or not target or any(c.isspace() for c in target):
            raise UsageError(f"--map-label {pair!r}: expected SRC=DST (DST without spaces; O drops SRC)")
        mapping[source] = target
    return mapping


def map_label(label: str, mapping: dict[str, str], where: str) -> str | None:
    """The label a span is trained and scored as (None: dropped); a label that cannot be a tag type is an error."""
    label = mapping.get(label, label)
    if label == "O":
        return None
    if not label or any(c.isspace() for c in label):
        renamed = "_".join(label.split())
        raise InputError(f"label {label!r} contains spaces; rename it, e.g. --map-label '{label}={renamed}'",
                         *located(where))
    return label


def map_tags(tags: Sequence[str], mapping: dict[str, str], where: str) -> list[str]:
    """Rename or drop the types of IOB tags (`--map-label` on token formats)."""
    if not mapping:
        return list(tags)
    out = []
    for tag in tags:
        label = None if tag == "O" else map_label(tag[2:], mapping, where)
        out.append("O" if label is None else f"{tag[:2]}{label}")
    return out


def refuse_unspaced(text: str, where: str) -> None:
    """Span formats over Chinese, Japanese, Thai (...) text would be mis-tokenised: refuse them."""
    found = UNSPACED.search(text)
    if found:
        raise InputError(f"text in a script written without spaces between words ({found.group()!r}); the "
                         "tokeniser cannot find its words: give such data pre-tokenised (CoNLL columns, or JSONL "
                         "with 'tokens' and 'tags')", *located(where))


def align(text: str, spans: Sequence[Span], where: str, report: AlignmentReport, mapping: dict[str, str],
          strict: bool = False, source: str = "", line: int = 0) -> tuple[list[Sentence], list[Span]]:
    """Tokenise `text` and tag its tokens from `spans`; return the sentences (one document) and the gold
    spans as scored (labels mapped, whitespace at the edges trimmed, unplaceable ones included)."""
    refuse_unspaced(text, where)
    sentences = split_text(text, source=source, line=line)
    starts, ends = {}, {}
    for s, sentence in enumerate(sentences):
        sentence.tags = ["O"] * len(sentence)
        for t, (a, b) in enumerate(sentence.offsets or []):
            starts[a], ends[b] = (s, t), (s, t)
    gold: list[Span] = []
    taken: list[tuple[int, int]] = []
    for span in sorted(spans, key=lambda sp: (sp.start, -sp.end)):
        label = map_label(span.label, mapping, where)
        if label is None:
            continue
        report.spans += 1
        detail = f"[{span.start}, {span.end}) {span.label}"
        if not (0 <= span.start < span.end <= len(text)):
            why = "empty or reversed" if span.start >= span.end else f"the text has {len(text)} characters"
            report.problem("outside", where, f"{detail} ({why})", strict)
            continue
        if span.text is not None and text[span.start : span.end] != span.text:
            report.problem("mismatch", where, f"{detail} says {span.text!r}, the text has "
                           f"{text[span.start : span.end]!r}", strict)
            continue
        start, end = _trimmed(text, span.start, span.end)
        gold.append(Span(start, end, label))
        if any(start < b and a < end for a, b in taken):
            report.problem("overlap", where, f"{detail} {text[start:end]!r}", strict)
            continue
        first, last = starts.get(start), ends.get(end)
        if first is None or last is None:
            report.problem("boundary", where, f"{detail} {text[start:end]!r}", strict)
            continue
        if first[0] != last[0]:
            report.problem("sentence", where, f"{detail} {text[start:end]!r}", strict)
            continue
        tags = sentences[first[0]].tags
        tags[first[1]] = f"B-{label}"
        for t in range(first[1] + 1, last[1] + 1):
            tags[t] = f"I-{label}"
        taken.append((start, end))
        report.aligned += 1
    mark_document(sentences)
    return sentences, gold


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """Annotators often take a space with a word; the entity is the word."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def tags_to_spans(tokens: Sequence[str], tags: Sequence[str], offsets: Sequence[tuple[int, int]]) -> list[Span]:
    """IOB2 tags as character spans (for writing span formats)."""
    return [Span(offsets[a][0], offsets[b - 1][1], label) for label, a, b in spans(tags)]
