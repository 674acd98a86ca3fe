"""Entity patterns in spaCy's EntityRuler JSONL format, matched on tokens after the model.

A line is `{"label": "ORG", "pattern": "Acme Corp", "id": "acme"}` (a phrase, tokenised as raw text is and
matched on exact token text) or `{"label": ..., "pattern": [{"LOWER": "acme"}, {"ORTH": "Corp"}]}` (one dict of
`ORTH`, `TEXT` or `LOWER` per token). Matching walks a trie of tokens from each position, so its cost grows
with the sentence, not with the number of patterns. Overlapping matches keep the longest (then the first),
as spaCy's `filter_spans` does.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..data.corpus import spans
from ..data.lines import decoded_lines, json_lines, open_input
from ..errors import InputError, UsageError

PATTERNS_FILE = "patterns.jsonl"
MODES = ("override", "fill")
TOKEN_KEYS = {"ORTH": "ORTH", "TEXT": "ORTH", "LOWER": "LOWER"}  # TEXT is ORTH in spaCy


@dataclass(frozen=True)
class Pattern:
    label: str
    tokens: tuple[tuple[str, str], ...]  # (ORTH or LOWER, value) per token
    id: str | None = None


@dataclass(frozen=True)
class Match:
    first: int
    last: int  # one past the last token
    label: str
    id: str | None


class _Node:
    """A trie node: the next token by its exact text and by its lowercased text, and the pattern ending here."""

    __slots__ = ("orth", "lower", "pattern")

    def __init__(self) -> None:
        self.orth: dict[str, _Node] = _NONE  # made when a first edge is added: most nodes have one kind or none
        self.lower: dict[str, _Node] = _NONE
        self.pattern: Pattern | None = None

    def child(self, kind: str, value: str) -> _Node:
        if kind == "ORTH":
            if self.orth is _NONE:
                self.orth = {}
            edges = self.orth
        else:
            if self.lower is _NONE:
                self.lower = {}
            edges = self.lower
        found = edges.get(value)
        if found is None:
            found = edges[value] = _Node()
        return found


_NONE: dict = {}  # the shared empty edge table of nodes without edges of a kind (never written)


def read_patterns(path: str | Path, encoding: str = "utf-8") -> list[Pattern]:
    """Every pattern of a JSONL file; anything malformed is an error naming its line."""
    name = str(path)
    try:
        with open_input(Path(path), encoding) as handle:
            return [_pattern(value, name, number) for number, value in json_lines(decoded_lines(handle, name, encoding),
                                                                                   name)]
    except OSError as err:
        raise InputError(f"cannot read the patterns ({err.strerror or err})", name) from None


def _pattern(value: object, name: str, line: int) -> Pattern:
    if not isinstance(value, dict) or not isinstance(value.get("label"), str) or not value["label"].strip():
        raise InputError('a pattern is an object with a "label" string and a "pattern"', name, line)
    label, given, found_id = value["label"], value.get("pattern"), value.get("id")
    if found_id is not None and not isinstance(found_id, (str, int)):
        raise InputError('"id" must be a string', name, line)
    if any(c.isspace() for c in label):
        raise InputError(f"the label {label!r} holds a space; entity types are single words", name, line)
    if isinstance(given, str):
        tokens = tuple(("ORTH", token) for token in phrase_tokens(given))
    elif isinstance(given, list):
        tokens = tuple(_token(item, name, line) for item in given)
    else:
        raise InputError('"pattern" must be a phrase (a string) or a list of token dicts', name, line)
    if not tokens:
        raise InputError("the pattern matches no token (an empty phrase or list)", name, line)
    return Pattern(label, tokens, None if found_id is None else str(found_id))


def _token(item: object, name: str, line: int) -> tuple[str, str]:
    if isinstance(item, dict) and len(item) == 1:
        (key, value), = item.items()
        kind = TOKEN_KEYS.get(key)
        if kind is not None and isinstance(value, str):
            return kind, value.lower() if kind == "LOWER" else value
        raise InputError(f"token attribute {key!r} with {type(value).__name__} value is not supported; use "
                         "ORTH, TEXT or LOWER with a string", name, line)
    raise InputError("each token of a pattern is one dict with one of ORTH, TEXT, LOWER", name, line)


def phrase_tokens(phrase: str) -> list[str]:
    """A phrase pattern's tokens, cut as `predict` cuts raw text within a sentence (where entities are: a
    phrase's final "Corp." keeps its period there), so a phrase matches what tagging sees."""
    from ..data.text import split_text

    tokens = [token for sentence in split_text(phrase.strip() + " and") for token in sentence.tokens]
    return tokens[:-1] if phrase.strip() else []


class Patterns:
    """A trie of patterns and the rule that merges its matches with the model's entities."""

    def __init__(self, patterns: Sequence[Pattern], mode: str = "override") -> None:
        self.set_mode(mode)
        self.patterns = list(patterns)
        self.root = _Node()
        for pattern in self.patterns:
            node = self.root
            for kind, value in pattern.tokens:
                node = node.child(kind, value)
            if node.pattern is None:  # the same tokens twice: the first line wins
                node.pattern = pattern

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise UsageError(f"unknown patterns mode {mode!r}; choose one of {', '.join(MODES)}")
        self.mode = mode

    def __len__(self) -> int:
        return len(self.patterns)

    def find(self, tokens: Sequence[str]) -> list[Match]:
        """Non-overlapping matches in token order: the longest first, then the earliest."""
        orth, lower = self.root.orth, self.root.lower
        lowered = [token.lower() for token in tokens] if lower else tokens
        found = [match for start, (token, low) in enumerate(zip(tokens, lowered)) if token in orth or low in lower
                 if (match := self._longest(tokens, lowered, start))]
        if len(found) > 1:
            found.sort(key=lambda m: (m.first - m.last, m.first))
            taken: list[Match] = []
            used = [False] * len(tokens)
            for match in found:
                if not any(used[match.first : match.last]):
                    taken.append(match)
                    used[match.first : match.last] = [True] * (match.last - match.first)
            found = sorted(taken, key=lambda m: m.first)
        return found

    def _longest(self, tokens: Sequence[str], lowered: Sequence[str], start: int) -> Match | None:
        """The longest pattern match starting at `start` (both exact and lowercased edges are followed)."""
        best: Match | None = None
        frontier = [self.root]
        for position in range(start, len(tokens)):
            token, low = tokens[position], lowered[position]
            following = []
            for node in frontier:
                if (child := node.orth.get(token)) is not None:
                    following.append(child)
                if (child := node.lower.get(low)) is not None:
                    following.append(child)
            if not following:
                break
            frontier = following
            ended = next((node.pattern for node in frontier if node.pattern is not None), None)
            if ended is not None:  # each step is longer than the last
                best = Match(start, position + 1, ended.label, ended.id)
        return best

    def apply(self, tags: list[str], tokens: Sequence[str]) -> tuple[list[str], list[Match]]:
        """IOB2 tags with the matches written in, and the matches kept. `override`: a match replaces every
        model entity it overlaps; `fill`: a match is kept only where the model found nothing."""
        matches = self.find(tokens)
        if not matches:
            return tags, []
        tags = list(tags)
        entities = spans(tags)
        kept = []
        for match in matches:
            overlapping = [(first, last) for _, first, last in entities if first < match.last and match.first < last]
            if overlapping and self.mode == "fill":
                continue
            for first, last in overlapping:
                tags[first:last] = ["O"] * (last - first)
            kept.append(match)
        for match in kept:
            width = match.last - match.first
            tags[match.first : match.last] = [f"B-{match.label}"] + [f"I-{match.label}"] * (width - 1)
        return tags, kept


def pattern_json(pattern: Pattern) -> dict:
    """EntityRuler's token form (a phrase is stored as the tokens it was cut into, so loading needs no tokeniser)."""
    found: dict = {"label": pattern.label, "pattern": [{key: value} for key, value in pattern.tokens]}
    if pattern.id is not None:
        found["id"] = pattern.id
    return found


def store_patterns(model_dir: Path, files: Sequence[str | Path], replace: bool = False) -> int:
    """Add the patterns of `files` to the model's own (or replace them), so every use of the model applies
    them; returns how many the model holds."""
    import json

    from ..files import write_bytes_atomic
    from .bundle import check_dir, update_bundle

    check_dir(model_dir)
    own = [] if replace or not (model_dir / PATTERNS_FILE).is_file() else read_patterns(model_dir / PATTERNS_FILE)
    patterns = [*own, *(pattern for file in files for pattern in read_patterns(file))]
    text = "".join(json.dumps(pattern_json(p), ensure_ascii=False) + "\n" for p in patterns)

    def change(tmp: Path) -> None:
        if patterns:
            write_bytes_atomic(tmp / PATTERNS_FILE, text.encode("utf-8"))
        else:
            (tmp / PATTERNS_FILE).unlink(missing_ok=True)

    update_bundle(model_dir, change)
    return len(patterns)
