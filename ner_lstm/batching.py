"""Sentences to padded id arrays, in length-sorted batches, and back to input order."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from .corpus import Sentence
from .vocab import UNK, Vocab, case_of

MAX_WORD_CHARS = 20  # longer tokens keep their first and last 10 characters for the char CNN


def _clip_chars(ids: list[int]) -> list[int]:
    if len(ids) <= MAX_WORD_CHARS:
        return ids
    half = MAX_WORD_CHARS // 2
    return ids[:half] + ids[-half:]


def encode_batch(sentences: Sequence[Sentence], vocab: Vocab, with_labels: bool = False) -> dict[str, np.ndarray]:
    """Pad a batch to its longest sentence; labels (if asked) use -1 on padding."""
    size = len(sentences)
    steps = max(len(s) for s in sentences)
    char_ids = [[_clip_chars(vocab.char_ids(t)) for t in s.tokens] for s in sentences]
    width = max(len(c) for chars in char_ids for c in chars)
    batch = {
        "word": np.zeros((size, steps), np.int32),
        "case": np.zeros((size, steps), np.int32),
        "char": np.zeros((size, steps, width), np.int32),
    }
    if vocab.glove_words:
        batch["glove"] = np.zeros((size, steps), np.int32)
    for i, sentence in enumerate(sentences):
        n = len(sentence)
        batch["word"][i, :n] = [vocab.word_id(t) for t in sentence.tokens]
        batch["case"][i, :n] = [case_of(t) for t in sentence.tokens]
        if vocab.glove_words:
            batch["glove"][i, :n] = [vocab.glove_id(t) for t in sentence.tokens]
        for j, chars in enumerate(char_ids[i]):
            batch["char"][i, j, : len(chars)] = chars
    if with_labels:
        labels = np.full((size, steps), -1, np.int32)
        for i, sentence in enumerate(sentences):
            labels[i, : len(sentence)] = vocab.label_ids(sentence.tags or [])
        batch["labels"] = labels
    return batch


def drop_singletons(word_ids: np.ndarray, singletons: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Replace words seen once in training by UNK with probability `rate` (Lample et al. 2016).

    Words unseen in training reach the model as UNK (with their GloVe vector);
    this teaches the model what to do with them.
    """
    drop = np.isin(word_ids, singletons) & (rng.random(word_ids.shape) < rate)
    return np.where(drop, UNK, word_ids).astype(word_ids.dtype)


def training_batches(
    sentences: Sequence[Sentence], batch_size: int, rng: np.random.Generator, window: int = 50
) -> list[list[int]]:
    """Indices of shuffled batches of similar length: sort within windows of `window` batches."""
    order = rng.permutation(len(sentences))
    chunk = batch_size * window
    batches: list[list[int]] = []
    for begin in range(0, len(order), chunk):
        part = sorted(order[begin : begin + chunk], key=lambda i: len(sentences[i]))
        batches.extend(part[k : k + batch_size] for k in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def sorted_batches(lengths: Sequence[int], max_tokens: int = 8192, max_size: int = 256) -> Iterator[list[int]]:
    """Batches of indices in length order, capped in sentences and in padded tokens."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batch: list[int] = []
    for index in order:
        if batch and (len(batch) + 1) * lengths[index] > max_tokens or len(batch) >= max_size:
            yield batch
            batch = []
        batch.append(index)
    if batch:
        yield batch
