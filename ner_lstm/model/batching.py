"""Sentences to padded id arrays, in length-sorted batches, and back to input order."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from ..data.corpus import Sentence
from .vocab import UNK, Vocab


def encode_batch(sentences: Sequence[Sentence], vocab: Vocab, with_labels: bool = False) -> dict[str, np.ndarray]:
    """Pad a batch to its longest sentence; labels (if asked) use -1 on padding."""
    size = len(sentences)
    steps = max(len(s) for s in sentences)
    features = [[vocab.token_ids(t) for t in s.tokens] for s in sentences]
    width = max(len(f[3]) for row in features for f in row)
    word, case, glove = (np.zeros((size, steps), np.int32) for _ in range(3))
    char = np.zeros((size, steps, width), np.int32)
    for i, row in enumerate(features):
        n = len(row)
        word[i, :n], case[i, :n], glove[i, :n] = zip(*((f[0], f[1], f[2]) for f in row))
        for j, f in enumerate(row):
            char[i, j, : len(f[3])] = f[3]
    batch = {"word": word, "case": case, "char": char}
    if vocab.glove_table is not None:
        batch["glove"] = vocab.glove_vectors(glove)
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
