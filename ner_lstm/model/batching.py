"""Sentences to padded id arrays, in length-sorted batches, and back to input order."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from ..data.corpus import Sentence
from ..data.documents import sentence_context
from .vocab import CASES, UNK, Vocab


def encode_batch(sentences: Sequence[Sentence], vocab: Vocab, with_labels: bool = False,
                 token_chars: bool = False) -> dict[str, np.ndarray]:
    """Pad a batch to its longest sentence; labels (if asked) use -1 on padding.

    `token_chars` adds the characters of the batch's distinct tokens (`token_chars`, one row each) and each
    word's row among them (`char_rows`, 0 on padding): the exported network reads these instead of `char`,
    so that a word's characters are convolved once a batch (half the words of a batch repeat one before).
    """
    lengths = np.array([len(s) for s in sentences])
    tokens = [token for sentence in sentences for token in sentence.tokens]
    if token_chars:
        numbers = {token: number for number, token in enumerate(dict.fromkeys(tokens))}
        which = np.fromiter(map(numbers.__getitem__, tokens), np.int32, len(tokens))
        distinct = vocab.token_rows(list(numbers))
        rows = distinct[which]
    else:
        rows = vocab.token_rows(tokens)
    width = max(1, int((rows[:, 3:] != 0).sum(axis=1).max()))
    where = np.arange(lengths.max())[None, :] < lengths[:, None]  # real tokens, row-major like `rows`
    grid = np.zeros((len(sentences), lengths.max(), 3 + width), np.int32)
    grid[where] = rows[:, : 3 + width]
    batch = {"word": grid[..., 0].copy(), "case": grid[..., 1].copy(), "char": grid[..., 3:].copy()}
    if token_chars:
        batch["token_chars"] = distinct[:, 3:]
        batch["char_rows"] = np.zeros(where.shape, np.int32)
        batch["char_rows"][where] = which
    if vocab.document_context:
        batch["case"][where] += len(CASES) * np.concatenate([sentence_context(s) for s in sentences]).astype(np.int32)
    if vocab.glove is not None:
        batch["glove"] = vocab.glove.lookup(grid[..., 2])
    if with_labels:
        labels = np.full(where.shape, -1, np.int32)
        labels[where] = [label for s in sentences for label in vocab.label_ids(s.tags or [])]
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
