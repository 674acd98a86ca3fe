"""The teachers' token posteriors: computed once over the training set, read a batch at a time.

A seed ensemble's averaged CRF marginals are what a distilled student learns from (`distill.py`); they
are written as float16 rows, one per training token, into a file that training memory-maps, so a corpus
of any size costs disk, not memory.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..data.corpus import Sentence
from ..errors import UsageError
from ..model.batching import sorted_batches
from ..model.crf_numpy import FORBIDDEN, bioes_constraints, marginals_numpy, viterbi_numpy
from ..model.vocab import Vocab

POSTERIORS_FILE = "posteriors.npy"


class Posteriors:
    """The teachers' averaged token posteriors, one row per training token, memory-mapped."""

    def __init__(self, path: Path, lengths: Sequence[int]) -> None:
        self.table = np.load(path, mmap_mode="r")
        self.offsets = np.concatenate([[0], np.cumsum(lengths)])
        if self.table.shape[0] != self.offsets[-1]:
            raise UsageError(f"{path}: {self.table.shape[0]} token rows for {self.offsets[-1]} training tokens")

    @property
    def width(self) -> int:
        return self.table.shape[1]

    def padded(self, indices: Sequence[int], steps: int) -> np.ndarray:
        """The rows of these sentences as (sentences, steps, labels) float32, zero on padding."""
        grid = np.zeros((len(indices), steps, self.width), np.float32)
        for row, index in enumerate(indices):
            begin, end = self.offsets[index], self.offsets[index + 1]
            grid[row, : end - begin] = self.table[begin:end]
        return grid


def _batches(sentences: Sequence[Sentence]) -> Iterator[list[int]]:
    lengths = [len(s) for s in sentences]
    for batch in sorted_batches(lengths):
        if batch := [i for i in batch if lengths[i]]:
            yield batch


def stacked(rows: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of different lengths as one zero-padded batch, and their lengths."""
    lengths = np.array([len(r) for r in rows])
    grid = np.zeros((len(rows), lengths.max(), rows[0].shape[1]), np.float32)
    for row, values in enumerate(rows):
        grid[row, : len(values)] = values
    return grid, lengths


def _label_order(model: str, theirs: Sequence[str], ours: Sequence[str]) -> list[int]:
    """Where each of our labels sits in a teacher's; a teacher must know every label we train."""
    if sorted(theirs) != sorted(ours):
        raise UsageError(f"{model}: the teacher's labels ({', '.join(theirs)}) are not the training data's "
                         f"({', '.join(ours)}); teachers must be trained on the same labels")
    return [list(theirs).index(label) for label in ours]


def teacher_posteriors(model: str, sentences: Sequence[Sentence], labels: Sequence[str],
                       temperature: float = 1.0) -> Iterator[tuple[int, np.ndarray]]:
    """(index, tokens x labels) for each non-empty sentence: a model's CRF marginals as it decodes (network,
    other mentions' evidence, BIOES constraints), every score divided by `temperature`, in `labels`' order."""
    from ..inference.tagger import Tagger

    tagger = Tagger.load(model)
    order = _label_order(model, tagger.vocab.labels, labels)
    rows = tagger.decoding_scores(sentences)
    crf = [tagger.transitions / temperature, tagger.start / temperature, tagger.end / temperature]
    for batch in _batches(sentences):
        scores, lengths = stacked([rows[i] for i in batch])
        probs = marginals_numpy(scores / temperature, lengths, *crf)
        for row, index in enumerate(batch):
            yield index, probs[row, : lengths[row]][:, order]


def store_posteriors(teachers: Sequence[str], sentences: Sequence[Sentence], labels: Sequence[str],
                     temperature: float, directory: Path) -> Posteriors:
    """Average the teachers' posteriors over `sentences` into `directory`, and open them.

    One teacher is loaded at a time, and the running sum lives in a file, not in memory.
    """
    directory.mkdir(parents=True, exist_ok=True)
    lengths = [len(s) for s in sentences]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    total = np.lib.format.open_memmap(directory / "sum.npy", "w+", np.float32, (int(offsets[-1]), len(labels)))
    for model in teachers:
        for index, probs in teacher_posteriors(model, sentences, labels, temperature):
            total[offsets[index]: offsets[index + 1]] += probs
    final = np.lib.format.open_memmap(directory / POSTERIORS_FILE, "w+", np.float16, total.shape)
    chunk = 1 << 20
    for begin in range(0, total.shape[0], chunk):
        final[begin: begin + chunk] = total[begin: begin + chunk] / len(teachers)
    final.flush()
    del total, final
    (directory / "sum.npy").unlink()
    return Posteriors(directory / POSTERIORS_FILE, lengths)


def ensemble_tags(teachers: Sequence[str], sentences: Sequence[Sentence], vocab: Vocab) -> list[list[str]]:
    """The ensemble's IOB2 tags: the teachers' averaged posteriors, decoded by the best path through their
    logarithms that BIOES allows (no learned transitions)."""
    sums: dict[int, np.ndarray] = {}
    for model in teachers:
        for index, probs in teacher_posteriors(model, sentences, vocab.labels):
            sums[index] = sums.get(index, 0) + probs
    allowed = [np.where(a, 0.0, FORBIDDEN).astype(np.float32) for a in bioes_constraints(vocab.labels)]
    tags: list[list[str]] = [[] for _ in sentences]
    for batch in _batches(sentences):
        logs, lengths = stacked([np.log(np.maximum(sums[i] / len(teachers), 1e-12)) for i in batch])
        for index, path in zip(batch, viterbi_numpy(logs, lengths, *allowed)):
            tags[index] = vocab.tags_of(path)
    return tags
