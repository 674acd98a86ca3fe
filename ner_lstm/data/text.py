"""Raw text to sentences of tokens with character offsets: syntok, then merges to CoNLL's conventions.

syntok (maintained, fast to import, exact offsets) segments and tokenises. Its
tokens differ from those of CoNLL-2003 and the Penn Treebank, which the model was
trained on, in a few regular ways; these rules merge its pieces back, never moving
a character, so every token still slices out of the input:

- hyphenated words are one token: `Jean-Pierre`, `one-day`, `20-year-old`
  (syntok treats the hyphen as spacing);
- a word is not cut at a change of case: `McDonald`, `YouTube`, `NationsBank`;
- a name with an apostrophe after its first letters stays whole: `O'Neil`,
  `D'Alema`; clitics stay apart as in the Treebank: `McDonald 's`, `did n't`, and a
  clitic already written apart stays one token (`England 's`);
- a period belongs to the abbreviation, initial or list number before it when
  the sentence goes on: `U.S.`, `J.`, `Corp.`, `1.`; abbreviations with inner
  periods keep it at the end of a sentence too (`U.S.`);
- a decimal fraction, a signed number and a currency prefix stay whole: `.496`,
  `+0.435`, `C$`, `US$`.

Sentences end at every paragraph break (a blank line), and inside a paragraph where
syntok ends one on terminal punctuation that is not the period of an abbreviation,
initial or list number (`ST. LOUIS`, `10. Johan`); its other cuts (before an opening
bracket, or a closing quote left alone) are joined back, so a record that is one
sentence is tagged as one sequence. A single line break is a space: hard-wrapped
prose breaks lines inside sentences, so a headline or a table row that has no final
period needs a blank line after it to be a sentence of its own.
"""
from __future__ import annotations

import re

from syntok import segmenter

from .corpus import Sentence
from .documents import mark_document

Span = tuple[int, int]

CLITICS = {"'s", "'re", "'ve", "'ll", "'d", "'m", "n't", "'"}
ABBREVIATIONS = {
    "corp", "inc", "ltd", "co", "jr", "sr", "st", "mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "capt", "sgt",
    "sen", "rep", "gov", "pres", "rev", "no", "vs", "v", "jan", "feb", "mar", "apr", "aug", "sep", "sept", "oct",
    "nov", "dec", "mt", "ft", "bros", "dept", "est", "approx", "fig",
}
TERMINAL = re.compile(r"^(\.+|!+|\?+|[.!?][\"')\]]*)$")
CLOSING = re.compile(r"^[\"')\]}'`]+$")
INNER_PERIODS = re.compile(r"^[A-Za-z](\.[A-Za-z])+\.?$")
CURRENCY_PREFIX = re.compile(r"^[A-Z]{1,3}$")


def split_text(text: str, source: str = "", line: int = 0) -> list[Sentence]:
    """Segment `text` into sentences; each token keeps its (start, end) offsets into `text`."""
    sentences: list[Sentence] = []
    for paragraph in _syntok_paragraphs(text):
        for spans in _join_sentences(text, paragraph):
            merged = _merge_tokens(text, spans)
            sentences.append(Sentence([text[a:b] for a, b in merged], offsets=merged, source=source, line=line,
                                      text=text))
    mark_document(sentences)  # a text is a document
    return sentences


def _syntok_paragraphs(text: str) -> list[list[list[Span]]]:
    """syntok's sentences of each paragraph, as token spans."""
    found = []
    for paragraph in segmenter.analyze(text):
        sentences = [[(t.offset, t.offset + len(t.value)) for t in tokens if t.value] for tokens in paragraph]
        sentences = [spans for spans in sentences if spans]
        if sentences:
            found.append(sentences)
    return found


def _join_sentences(text: str, sentences: list[list[Span]]) -> list[list[Span]]:
    """Keep a cut only after terminal punctuation and before a sentence that is not closing punctuation alone."""
    joined: list[list[Span]] = []
    for spans in sentences:
        if joined:
            previous = joined[-1]
            last = text[slice(*previous[-1])]
            closing_only = all(CLOSING.match(text[a:b]) for a, b in spans)
            abbreviation = last == "." and len(previous) > 1 and previous[-2][1] == previous[-1][0] \
                and _takes_period(text[slice(*previous[-2])])
            if closing_only or abbreviation or not TERMINAL.match(last):
                joined[-1] = joined[-1] + spans
                continue
        joined.append(list(spans))
    return joined


def _merge_tokens(text: str, spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for index, (start, end) in enumerate(spans):
        if merged and _belongs_to_previous(text, merged[-1], (start, end), is_last=index == len(spans) - 1):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _takes_period(word: str) -> bool:
    """An initial, a list number (up to two digits) or a known abbreviation: a period after it is its own."""
    return len(word) == 1 and word.isalpha() or word.isdigit() and len(word) <= 2 or word.lower() in ABBREVIATIONS \
        or bool(INNER_PERIODS.match(word))


def _belongs_to_previous(text: str, previous: Span, current: Span, is_last: bool) -> bool:
    """The merge rules of the module docstring, for one pair of neighbouring syntok tokens."""
    gap = text[previous[1] : current[0]]
    left, right = text[slice(*previous)], text[slice(*current)]
    if gap == "-":
        return left[-1:].isalnum() and right[:1].isalnum()
    if gap:
        return False
    if left == "'" and (left + right).lower() in CLITICS:
        return True  # a clitic written apart, as tokenised text has it: `England 's`
    if right.lower() in CLITICS or left.lower().endswith("n't"):
        return False
    if left[-1:].isalpha() and right[:1].isalpha():
        return True
    if right[:1] == "'" and right[1:2].isalpha() and len(left) <= 2 and left.isalpha():
        return True
    if right == ".":
        return bool(INNER_PERIODS.match(left)) or _takes_period(left) and not is_last
    if left in (".", "+") and right[:1].isdigit():
        return previous[0] == 0 or not text[previous[0] - 1].isalnum()
    return right == "$" and bool(CURRENCY_PREFIX.match(left))
