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
from ..data.documents import CLASSES as CONTEXT_CLASSES
from .glove import GloveTable

UNK = 1  # 0 is padding
MAX_WORD_CHARS = 20  # longer tokens keep their first and last 10 characters for the char CNN
TOKEN_CACHE_SIZE = 200_000
# A token's ids as one row of int32: word, case, GloVe, then MAX_WORD_CHARS characters (0-padded).
ROW_WIDTH = 3 + MAX_WORD_CHARS
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
    # The frozen GloVe vectors, looked up by the batch encoder: kept out of the network so the
    # exported graph stays small (a 400k-row constant in it took gigabytes to export).
    glove: GloveTable | None = field(default=None, repr=False)
    # Case ids also carry the token's document context class (`data.documents`): case + len(CASES) * class.
    document_context: bool = False
    vectors_cased: bool = False  # the vectors keep case: look a word up as written, then lowercased

    def __post_init__(self) -> None:
        self.word_index = {w: i + 2 for i, w in enumerate(self.words)}
        self.char_index = {c: i + 2 for i, c in enumerate(self.chars)}
        self.label_index = {t: i for i, t in enumerate(self.labels)}
        self._iob2 = np.array(to_iob2(self.labels, "BIOES"), dtype=object)  # BIOES -> IOB2 is per tag
        self._token_cache: dict[str, bytes] = {}

    @property
    def case_count(self) -> int:
        return len(CASES) * (CONTEXT_CLASSES if self.document_context else 1)

    @classmethod
    def build(cls, sentences: Iterable[Sentence], glove: GloveTable | None = None,
              document_context: bool = False) -> Vocab:
        """Collect every training word and character, and the label set (O first, then sorted)."""
        words: Counter[str] = Counter()
        chars: set[str] = set()
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
            chars=sorted(chars),
            labels=ordered_labels,
            glove=glove,
            document_context=document_context,
            vectors_cased=glove is not None and glove.cased,
        )

    def glove_ids(self, words: Sequence[str]) -> np.ndarray:
        """Vector ids (UNK if absent): a cased table is asked for the word as written, then lowercased
        (GloVe 6B has only lowercase); numbers it lacks fall back to their digit-folded form."""
        if self.glove is None:
            return np.full(len(words), UNK, np.int64)
        lower = [word.lower() for word in words]
        if self.vectors_cased:
            found = self.glove.ids(words)
            missing = np.flatnonzero(found == 0)
            if len(missing):
                found[missing] = self.glove.ids([lower[i] for i in missing])
        else:
            found = self.glove.ids(lower)
        retry = [i for i in np.flatnonzero(found == 0) if _DIGITS.search(lower[i])]
        if retry:
            found[retry] = self.glove.ids([_DIGITS.sub("0", lower[i]) for i in retry])
        return np.where(found == 0, UNK, found)

    def word_id(self, word: str) -> int:
        return self.word_index.get(normalise(word), UNK)

    def char_ids(self, word: str) -> list[int]:
        return [self.char_index.get(c, UNK) for c in word]

    def token_rows(self, tokens: Sequence[str]) -> np.ndarray:
        """(tokens, ROW_WIDTH) int32 ids, one row per token (see ROW_WIDTH).

        Rows are cached as bytes per distinct token (tokens repeat a lot), so a batch is
        one join away from an array; new tokens are looked up together.
        """
        cache = self._token_cache
        new = [token for token in dict.fromkeys(tokens) if token not in cache]
        fresh = dict(zip(new, (row.tobytes() for row in self._rows(new)))) if new else {}
        if len(cache) < TOKEN_CACHE_SIZE:  # bounded, for streams of unique tokens
            cache.update(fresh)
            joined = b"".join(map(cache.__getitem__, tokens))
        else:
            get = cache.get
            joined = b"".join([get(token) or fresh[token] for token in tokens])
        return np.frombuffer(joined, dtype=np.int32).reshape(-1, ROW_WIDTH)

    def _rows(self, words: Sequence[str]) -> np.ndarray:
        rows = np.zeros((len(words), ROW_WIDTH), np.int32)
        rows[:, 2] = self.glove_ids(words)
        for row, word in zip(rows, words):
            chars = self.char_ids(word) or [UNK]  # an empty token is a token, not padding
            if len(chars) > MAX_WORD_CHARS:
                chars = chars[: MAX_WORD_CHARS // 2] + chars[-(MAX_WORD_CHARS // 2) :]
            row[0], row[1], row[3 : 3 + len(chars)] = self.word_id(word), case_of(word), chars
        return rows

    def label_ids(self, tags: Sequence[str]) -> list[int]:
        """IOB2 tags to the model's label ids (the model is trained on BIOES, which marks entity ends)."""
        return [self.label_index[t] for t in iob2_to_bioes(tags)]

    def tags_of(self, ids: np.ndarray) -> list[str]:
        """Label ids to IOB2 tags."""
        return self._iob2[ids].tolist()

    def unseen_labels(self, sentences: Iterable[Sentence]) -> set[str]:
        """IOB2 tags in `sentences` this model can never predict (their type was not in training)."""
        known = set(to_iob2(self.labels, "BIOES"))
        return {t for s in sentences for t in (s.tags or ()) if t not in known}

    def to_json(self) -> dict:
        """The trained id tables; the GloVe table is saved on its own (`GloveTable.save`)."""
        return {"words": self.words, "chars": self.chars, "labels": self.labels,
                "document_context": self.document_context, "vectors_cased": self.vectors_cased}

    @classmethod
    def from_json(cls, data: dict, glove: GloveTable | None = None) -> Vocab:
        return cls(words=list(data["words"]), chars=list(data["chars"]), labels=list(data["labels"]), glove=glove,
                   document_context=bool(data.get("document_context", False)),
                   vectors_cased=bool(data.get("vectors_cased", False)))
