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

syntok is pure Python, and ran at a third of the tagger's speed. Its work is done
here only where it decides something: runs of letters and digits with punctuation
around them are cut as syntok would cut them with two regular expressions, and its
segmenter reads only the parts of a paragraph between sure sentence ends that hold
terminal punctuation it might cut at. The result is the same as syntok's on every
text (tests/test_text.py compares both on generated text).
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterator

from syntok import segmenter
from syntok._segmentation_states import State
from syntok.tokenizer import Tokenizer

from .corpus import Sentence
from .documents import mark_document

Span = tuple[int, int]

CLITICS = {"'s", "'re", "'ve", "'ll", "'d", "'m", "n't", "'"}
ABBREVIATIONS = {
    "corp", "inc", "ltd", "co", "jr", "sr", "st", "mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "capt", "sgt",
    "sen", "rep", "gov", "pres", "rev", "no", "vs", "v", "jan", "feb", "mar", "apr", "aug", "sep", "sept", "oct",
    "nov", "dec", "mt", "ft", "bros", "dept", "est", "approx", "fig",
}
TERMINAL_CHARS = re.compile(r"[.!?]")
TERMINAL = re.compile(r"^(\.+|!+|\?+|[.!?][\"')\]]*)$")
CLOSING = re.compile(r"^[\"')\]}'`]+$")
INNER_PERIODS = re.compile(r"^[A-Za-z](\.[A-Za-z])+\.?$")
CURRENCY_PREFIX = re.compile(r"^[A-Z]{1,3}$")
# syntok's own units, with `re`: its `regex` patterns read \s as Unicode White_Space, which is str.isspace()
# less \x1c-\x1f (tests/test_text.py checks every code point).
SPACE = r"[^\S\x1c-\x1f]"
PARAGRAPH_BREAK = re.compile(rf"\r?\n(?:{SPACE}*\r?\n)+")
CHUNK = re.compile(r"(?:[^\s\u200b]|[\x1c-\x1f])+")  # a run without space or zero-width space
WORD = re.compile(r"([\W_]*)([^\W_]+)([\W_]*)")  # punctuation, one run of letters and digits, punctuation
TOKENIZER = Tokenizer(replace_not_contraction=False)
SYNTOK_ABBREVIATIONS = State.abbreviations | State.months  # words before a period syntok may not cut after


def split_text(text: str, source: str = "", line: int = 0) -> list[Sentence]:
    """Segment `text` into sentences; each token keeps its (start, end) offsets into `text`."""
    sentences: list[Sentence] = []
    for start, end in _paragraphs(text):
        for merged in _paragraph_sentences(text, start, end):
            sentences.append(Sentence([text[a:b] for a, b in merged], offsets=merged, source=source, line=line,
                                      text=text))
    mark_document(sentences)  # a text is a document
    return sentences


def _paragraphs(text: str) -> Iterator[Span]:
    start = 0
    for found in PARAGRAPH_BREAK.finditer(text):
        yield start, found.start()
        start = found.end()
    yield start, len(text)


def _paragraph_sentences(text: str, start: int, end: int, fast: bool = True) -> list[list[Span]]:
    """The paragraph's sentences as merged token spans.

    syntok's segmenter and tokeniser are pure Python and slow, so they run only where they could decide
    something: the paragraph is cut where syntok surely cuts (`_sure_cuts`), and a part without terminal
    punctuation before its end (`_may_cut`; only cuts after it are kept) is one sentence of `_pieces`.
    With `fast=False` syntok reads the whole paragraph (the tests check that both agree).
    """
    if not fast:
        return _syntok_sentences(text, start, end)
    spans, joins = _pieces(text, start, end)
    if not _may_cut(text, spans):
        return [_merge_tokens(text, spans, joins)] if spans else []
    sentences: list[list[Span]] = []
    first = 0
    for cut in [*_sure_cuts(text, spans), len(spans)]:
        part = spans[first:cut]
        if _may_cut(text, part):
            sentences.extend(_syntok_sentences(text, part[0][0], part[-1][1]))
        elif part:
            inside = joins[bisect.bisect_right(joins, first) : bisect.bisect_left(joins, cut)]
            sentences.append(_merge_tokens(text, part, [j - first for j in inside]))
        first = cut
    return sentences


def _syntok_sentences(text: str, start: int, end: int) -> list[list[Span]]:
    """syntok's sentences of text[start:end] (no paragraph break inside), joined and merged to our rules."""
    found = []
    for paragraph in segmenter.analyze(text[start:end]):
        for tokens in paragraph:
            spans = [(start + t.offset, start + t.offset + len(t.value)) for t in tokens if t.value]
            if spans:
                found.append(spans)
    return [_merge_tokens(text, spans, _joins(text, spans)) for spans in _join_sentences(text, found)]


def _sure_cuts(text: str, spans: list[Span]) -> Iterator[int]:
    """Where syntok's segmenter always ends a sentence that we keep, and then reads on as a fresh segmenter
    would: after a period against a word that no rule of syntok's or ours keeps it with, before a
    capitalised word (or a quote and one) after a space, outside brackets (syntok skips over bracketed
    text): `He left. The`, `in 1996. "We`. Each part between is segmented alone."""
    depth = 0
    for index, (start, end) in enumerate(spans):
        if end != start + 1:
            continue
        char = text[start]
        if char in State.opening_brackets:
            depth += 1
        elif char in State.closing_brackets:
            depth = max(0, depth - 1)
        elif char == "." and not depth and 0 < index < len(spans) - 1 and spans[index - 1][1] == start \
                and spans[index + 1][0] != end:
            before, following = text[slice(*spans[index - 1])], text[slice(*spans[index + 1])]
            if following == '"' and index + 2 < len(spans) and spans[index + 2][0] == spans[index + 1][1]:
                following = text[slice(*spans[index + 2])]  # an opening quote goes with the word after it
            if following.isalpha() and following[0].isupper() and _ends_sentence(before, following):
                yield index + 1


def _ends_sentence(before: str, following: str) -> bool:
    """Whether a period between these words is always a sentence's end, to syntok and to `_join_sentences`."""
    return len(before) > 1 and before.isalnum() and before not in SYNTOK_ABBREVIATIONS \
        and before not in State.roman_numerals and before not in ("no", "No", "NO") and not _takes_period(before) \
        and not (before.isnumeric() and following in State.months)


def _pieces(text: str, start: int, end: int) -> tuple[list[Span], list[int]]:
    """syntok's tokens of a paragraph, except that a run of letters and digits is one piece: syntok cuts it
    only where a lowercase letter meets an uppercase one, and `_merge_tokens` joins those cuts again. Also
    the pieces written against the one before (`_joins`): only those may merge.

    syntok tokenises each run of non-space characters alone, so a run's pieces depend on its characters
    only: those of a run with punctuation are kept (`_CHUNK_PIECES`) for its next occurrences (in
    CoNLL-2003's text, 48,329 of 263,894 runs have punctuation, 19,273 of them distinct).
    """
    spans: list[Span] = []
    joins: list[int] = []
    known = _CHUNK_PIECES
    for chunk in CHUNK.finditer(text, start, end):
        a, run = chunk.start(), chunk.group()
        if run.isalnum():
            spans.append((a, a + len(run)))
            continue
        found = known.get(run)
        if found is None:
            if len(known) >= CHUNK_CACHE_SIZE:
                known.clear()
            pieces = _chunk_pieces(run)
            found = known[run] = pieces, tuple(_joins(run, pieces))
        pieces, inner = found
        if inner:
            joins.extend([len(spans) + j for j in inner])
        spans.extend([(a + s, a + e) for s, e in pieces])
    return spans, joins


CHUNK_CACHE_SIZE = 20_000  # distinct runs with punctuation kept: at most about 7 MB (6,080 held 2 MB)
_CHUNK_PIECES: dict[str, tuple[list[Span], tuple[int, ...]]] = {}  # run -> its pieces and their joins


def _chunk_pieces(run: str) -> list[Span]:
    """The pieces of one run of non-space characters with punctuation, as offsets into it: punctuation
    before and after its run of letters and digits is one piece a character (a trailing `...` one piece), a
    run without letters or digits is one piece. Anything else (a hyphen, an apostrophe, a period inside)
    goes to syntok's tokeniser."""
    word = WORD.fullmatch(run)
    lead = word.group(1) if word else ""
    if word is None or lead[-1:] in ("'", ".", "+"):  # inner punctuation, or a lead the merges read
        return [(t.offset, t.offset + len(t.value)) for t in TOKENIZER.tokenize(run) if t.value]
    spans = [(i, i + 1) for i in range(word.start(2))]
    core, tail = word.span(2), word.group(3)
    spans.extend(_lower_upper_cuts(run, *core) if tail[:1] == "." else [core])
    position = core[1]
    if tail.startswith("..."):
        spans.append((position, position + 3))
        position += 3
    spans.extend((i, i + 1) for i in range(position, len(run)))
    return spans


def _joins(text: str, spans: list[Span]) -> list[int]:
    """The indices of the spans written against the one before, or with only a hyphen between."""
    return [i for i in range(1, len(spans)) if spans[i][0] == spans[i - 1][1]
            or spans[i][0] == spans[i - 1][1] + 1 and text[spans[i - 1][1]] == "-"]


def _lower_upper_cuts(text: str, start: int, end: int) -> list[Span]:
    """syntok's cuts of a run of letters and digits, where a lowercase letter meets an uppercase one: the
    period after it is an abbreviation's by the last piece (`_may_cut`), as syntok's sentences have it."""
    cuts = [i for i in range(start + 1, end) if unicodedata.category(text[i - 1]) == "Ll"
            and unicodedata.category(text[i]) == "Lu"]
    bounds = [start, *cuts, end]
    return list(zip(bounds, bounds[1:]))


def _may_cut(text: str, spans: list[Span]) -> bool:
    """Whether a sentence we keep could end before the paragraph does. syntok ends one only after terminal
    punctuation and what it keeps with it (`_absorbed`), never before a lowercase word, a comma, colon or
    semicolon, a number written against it or one of three digits or more; `_join_sentences` keeps the cut
    only after terminal punctuation that is not an abbreviation's period, with more than closing quotes and
    brackets after it."""
    last = len(spans) - 1
    while last >= 0 and CLOSING.match(text[slice(*spans[last])]):
        last -= 1
    if last <= 0 or not TERMINAL_CHARS.search(text, spans[0][0], spans[last][0]):
        return False
    index = 0
    while index < last:
        if TERMINAL.match(text[slice(*spans[index])]):
            end = _absorbed(text, spans, index)
            if end < last and TERMINAL.match(text[slice(*spans[end])]) \
                    and not (end and _abbreviation_period(text, spans[end - 1], spans[end])):
                following = text[slice(*spans[end + 1])]
                written_against = spans[end + 1][0] == spans[end][1]
                if not (following[:1].islower() or following in (",", ";", ":")
                        or following.isnumeric() and (written_against or len(following) > 2)):
                    return True
            index = end
        index += 1
    return False


def _absorbed(text: str, spans: list[Span], index: int) -> int:
    """The last token syntok keeps with the terminal at `index`: terminals and closing brackets after it,
    and one closing quote written against what comes before."""
    end, quoted = index, False
    while end + 1 < len(spans):
        token = text[slice(*spans[end + 1])]
        if token in State.terminals or token in State.closing_brackets:
            end += 1
        elif not quoted and token in State.closing_quotes and spans[end + 1][0] == spans[end][1]:
            end, quoted = end + 1, True
        else:
            break
    return end


def _join_sentences(text: str, sentences: list[list[Span]]) -> list[list[Span]]:
    """Keep a cut only after terminal punctuation and before a sentence that is not closing punctuation alone."""
    joined: list[list[Span]] = []
    for spans in sentences:
        if joined:
            previous = joined[-1]
            last = text[slice(*previous[-1])]
            closing_only = all(CLOSING.match(text[a:b]) for a, b in spans)
            abbreviation = len(previous) > 1 and _abbreviation_period(text, previous[-2], previous[-1])
            if closing_only or abbreviation or not TERMINAL.match(last):
                joined[-1] = joined[-1] + spans
                continue
        joined.append(list(spans))
    return joined


def _merge_tokens(text: str, spans: list[Span], joins: list[int]) -> list[Span]:
    """The sentence's spans merged by `_belongs_to_previous`; only those at `joins` (`_joins`) may join the
    one before, so the others are copied as they are."""
    merged: list[Span] = []
    done = 0
    for index in joins:
        merged.extend(spans[done:index])
        current = spans[index]
        if _belongs_to_previous(text, merged[-1], current, is_last=index == len(spans) - 1):
            merged[-1] = (merged[-1][0], current[1])
        else:
            merged.append(current)
        done = index + 1
    merged.extend(spans[done:])
    return merged


def _abbreviation_period(text: str, before: Span, period: Span) -> bool:
    """A period written against an abbreviation, initial or list number: no sentence ends there."""
    return text[slice(*period)] == "." and before[1] == period[0] and _takes_period(text[slice(*before)])


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
