"""The frozen GloVe vectors and their word lookup, without a Python dict of 400,000 words.

A dict of GloVe's words costs every process 75 MB and a fifth of a second to build.
Here the words of up to 16 UTF-8 bytes (99% of them) are one sorted fixed-width
array, searched by bisection and memory-mapped from the model directory, so worker
processes share one copy through the page cache; the few longer words are a small
dict. Vector rows follow that order: the short words sorted, then the long ones.
"""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SHORT_BYTES = 16
VECTORS_FILE = "glove.npy"
WORDS_FILE = "glove_words.npy"
LONG_WORDS_FILE = "glove_long_words.json"
FILES = (VECTORS_FILE, WORDS_FILE, LONG_WORDS_FILE)


class GloveTable:
    """Row `i` of `vectors` belongs to id `i + 2` (0 is padding, 1 unknown, as in every id table)."""

    def __init__(self, short: np.ndarray, long_words: Sequence[str], vectors: np.ndarray,
                 rows: np.ndarray | None = None) -> None:
        self.short = short
        self.long_words = list(long_words)
        self.long = {word: len(short) + i + 2 for i, word in enumerate(self.long_words)}
        self.vectors = vectors
        self.rows = rows  # our row -> row of `vectors`, while `vectors` is still in GloVe's own order
        self.directory: Path | None = None  # where a loaded table's files are (saved again by linking them)
        # Whether the words keep their case (fastText, word2vec), so that a word is looked up as written
        # first; GloVe 6B is lowercased. Known when a table is built; a model stores it in vocab.json.
        self.cased = False

    @classmethod
    def from_words(cls, words: Sequence[str], vectors: np.ndarray) -> GloveTable:
        """The table for GloVe's words and vectors in GloVe's order; the vectors are not copied."""
        encoded = [word.encode("utf-8") for word in words]
        short_rows = np.array([i for i, key in enumerate(encoded) if len(key) <= SHORT_BYTES], dtype=np.int64)
        long_rows = np.array([i for i, key in enumerate(encoded) if len(key) > SHORT_BYTES], dtype=np.int64)
        short = np.array([encoded[i] for i in short_rows], dtype=f"S{SHORT_BYTES}")
        order = np.argsort(short, kind="stable")
        rows = np.concatenate([short_rows[order], long_rows])
        table = cls(short[order], [words[i] for i in long_rows], vectors, rows)
        table.cased = any(word != word.lower() for word in words)
        return table

    def __len__(self) -> int:
        return len(self.short) + len(self.long_words)

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def ids(self, words: Sequence[str]) -> np.ndarray:
        """The ids of GloVe words, 0 for words GloVe lacks; one bisection for all the short ones."""
        keys = [word.encode("utf-8", "surrogatepass") for word in words]  # a lone surrogate is in no table
        found = np.zeros(len(keys), np.int64)
        short = [i for i, key in enumerate(keys) if len(key) <= SHORT_BYTES]
        if short and len(self.short):
            query = np.array([keys[i] for i in short], dtype=self.short.dtype)
            where = np.searchsorted(self.short, query)
            hit = self.short[np.minimum(where, len(self.short) - 1)] == query
            found[np.array(short)[hit]] = where[hit] + 2
        for i, key in enumerate(keys):
            if len(key) > SHORT_BYTES:
                found[i] = self.long.get(words[i], 0)
        return found

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """Vectors for an array of ids; padding (0) and unknown (1) get zeros."""
        rows = np.maximum(ids - 2, 0)
        if self.rows is not None:
            rows = self.rows[rows]
        vectors = np.asarray(self.vectors[rows], dtype=np.float32)
        vectors[ids < 2] = 0.0
        return vectors

    def save(self, directory: Path) -> None:
        """Write the three files, vectors in this table's row order; a table loaded from files is linked
        (or copied), never read into memory."""
        if self.directory is not None:
            for name in FILES:
                try:
                    os.link(self.directory / name, directory / name)
                except OSError:  # another filesystem
                    shutil.copyfile(self.directory / name, directory / name)
            return
        vectors = self.vectors if self.rows is None else self.vectors[self.rows]
        np.save(directory / VECTORS_FILE, np.asarray(vectors, dtype=np.float32))
        np.save(directory / WORDS_FILE, self.short)
        (directory / LONG_WORDS_FILE).write_text(json.dumps(self.long_words, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, directory: Path) -> GloveTable:
        """Memory-map a saved table; ValueError (its message starts with the file's name) when the files
        do not fit together, OSError when one cannot be read."""
        short = np.load(directory / WORDS_FILE, mmap_mode="r")
        vectors = np.load(directory / VECTORS_FILE, mmap_mode="r")
        try:
            long_words = json.loads((directory / LONG_WORDS_FILE).read_text("utf-8"))
        except ValueError as err:  # bad JSON or bad UTF-8
            raise ValueError(f"{LONG_WORDS_FILE}: unreadable ({err})") from None
        if short.dtype != np.dtype(f"S{SHORT_BYTES}"):
            raise ValueError(f"{WORDS_FILE}: not a sorted array of {SHORT_BYTES}-byte words ({short.dtype})")
        if not isinstance(long_words, list):
            raise ValueError(f"{LONG_WORDS_FILE}: not a list of words")
        if vectors.dtype != np.float32:
            raise ValueError(f"{VECTORS_FILE}: {vectors.dtype} vectors, not float32")
        if vectors.ndim != 2 or len(vectors) != len(short) + len(long_words):
            raise ValueError(f"{VECTORS_FILE}: shape {vectors.shape} does not match the "
                             f"{len(short) + len(long_words)} GloVe words of {WORDS_FILE} and {LONG_WORDS_FILE}")
        table = cls(short, long_words, vectors)
        table.directory = directory
        return table
