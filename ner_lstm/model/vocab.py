"""Word, character and label vocabularies, and the features each token is turned into.

Index 0 is padding and 1 is unknown in every id table except labels.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..data.corpus import Sentence, iob2_to_bioes, to_iob2

UNK = 1  # 0 is padding
MAX_WORD_CHARS = 20  # longer tokens keep their first and last 10 characters for the char CNN
TOKEN_CACHE_SIZE = 200_000
_DIGITS = re.compile(r"\d")

# Case classes: what lowercased GloVe lookups lose.
CASES = ("pad", "lower", "upper", "title", "numeric", "has_digit", "punct", "other")
CASE_IDS = {name: index for index, name in enumerate(CASES)}


def normalise(word: str) -> str:
    """The trainable-vocabulary key: lowercased, digits folded to 0."""
    return _DIGITS.sub("0", word.lower())


def case_of(word: str) -> int:
    """The case class id of a token (never 0, which marks padding)."""
    if word.isdigit():
        name = "numeric"
    elif any(c.isdigit() for c in word):
        name = "has_digit"
    elif word.islower():
        name = "lower"
    elif word.isupper():
        name = "upper"
    elif word[:1].isupper() and (len(word) == 1 or word[1:].islower() or not any(c.isalpha() for c in word[1:])):
        name = "title"
    elif not any(c.isalnum() for c in word):
        name = "punct"
    else:
        name = "other"
    return CASE_IDS[name]


@dataclass
class Vocab:
    """The id tables a model was trained with; saved beside it as JSON."""

    words: list[str]
    chars: list[str]
    labels: list[str]  # BIOES, the scheme the model is trained on; tags in and out are IOB2
    glove_words: list[str] = field(default_factory=list)
    # The frozen GloVe rows (len(glove_words), dim), usually memory-mapped; row i belongs to id i + 2.
    # Kept out of the network so the exported graph stays small (a 400k-row constant cost 9 GB to export).
    glove_table: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.word_index = {w: i + 2 for i, w in enumerate(self.words)}
        self.char_index = {c: i + 2 for i, c in enumerate(self.chars)}
        self.label_index = {t: i for i, t in enumerate(self.labels)}
        self.glove_index = {w: i + 2 for i, w in enumerate(self.glove_words)}
        self._token_cache: dict[str, tuple[int, int, int, list[int]]] = {}

    @classmethod
    def build(
        cls, sentences: Iterable[Sentence], glove_words: Sequence[str] = (), min_char_count: int = 1
    ) -> "Vocab":
        """Collect every training word and character, and the label set (O first, then sorted)."""
        words: Counter[str] = Counter()
        chars: Counter[str] = Counter()
        labels: set[str] = set()
        for sentence in sentences:
            for token in sentence.tokens:
                words[normalise(token)] += 1
                chars.update(token)
            labels.update(iob2_to_bioes(sentence.tags or ()))
        labels.discard("O")
        ordered_labels = ["O"] + sorted(labels, key=lambda t: (t[2:], t[0]))
        return cls(
            words=sorted(words, key=lambda w: (-words[w], w)),
            chars=sorted(c for c, n in chars.items() if n >= min_char_count),
            labels=ordered_labels,
            glove_words=list(glove_words),
        )

    def glove_id(self, word: str) -> int:
        lower = word.lower()
        found = self.glove_index.get(lower)
        if found is None:
            found = self.glove_index.get(_DIGITS.sub("0", lower), UNK)
        return found

    def glove_vectors(self, ids: np.ndarray) -> np.ndarray:
        """Frozen vectors for an array of GloVe ids; padding (0) and unknown (1) get zeros."""
        assert self.glove_table is not None
        vectors = np.asarray(self.glove_table[np.maximum(ids - 2, 0)], dtype=np.float32)
        vectors[ids < 2] = 0.0
        return vectors

    def word_id(self, word: str) -> int:
        return self.word_index.get(normalise(word), UNK)

    def char_ids(self, word: str) -> list[int]:
        return [self.char_index.get(c, UNK) for c in word]

    def token_ids(self, token: str) -> tuple[int, int, int, list[int]]:
        """(word, case, GloVe, character) ids of a token; cached, since tokens repeat a lot."""
        found = self._token_cache.get(token)
        if found is None:
            chars = self.char_ids(token) or [UNK]  # an empty token is a token, not padding
            if len(chars) > MAX_WORD_CHARS:
                chars = chars[: MAX_WORD_CHARS // 2] + chars[-(MAX_WORD_CHARS // 2) :]
            found = (self.word_id(token), case_of(token), self.glove_id(token), chars)
            if len(self._token_cache) < TOKEN_CACHE_SIZE:  # bounded, for streams of unique tokens
                self._token_cache[token] = found
        return found

    def label_ids(self, tags: Sequence[str]) -> list[int]:
        """IOB2 tags to the model's label ids (the model is trained on BIOES, which marks entity ends)."""
        return [self.label_index[t] for t in iob2_to_bioes(tags)]

    def tags_of(self, ids: Iterable[int]) -> list[str]:
        """Label ids to IOB2 tags."""
        return to_iob2([self.labels[i] for i in ids], "BIOES")

    def unseen_labels(self, sentences: Iterable[Sentence]) -> set[str]:
        """IOB2 tags in `sentences` this model can never predict (their type was not in training)."""
        known = set(to_iob2(self.labels, "BIOES"))
        return {t for s in sentences for t in (s.tags or ()) if t not in known}

    def to_json(self) -> dict:
        return {"words": self.words, "chars": self.chars, "labels": self.labels, "glove_words": self.glove_words}

    @classmethod
    def from_json(cls, data: dict) -> "Vocab":
        return cls(
            words=list(data["words"]),
            chars=list(data["chars"]),
            labels=list(data["labels"]),
            glove_words=list(data.get("glove_words", [])),
        )
