"""CRF decoding in NumPy: Viterbi paths and forward-backward marginals, vectorised over a batch.

The inference path uses these so that tagging never needs TensorFlow.
"""
from __future__ import annotations

import numpy as np


def viterbi_numpy(
    emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray, start: np.ndarray, end: np.ndarray
) -> list[np.ndarray]:
    """Best tag path for each sentence of a padded batch, vectorised over the batch."""
    batch, steps, _ = emissions.shape
    score = start[None, :] + emissions[:, 0]
    pointers = np.zeros((max(steps - 1, 0), batch, len(start)), dtype=np.int32)
    identity = np.arange(len(start), dtype=np.int32)
    for t in range(1, steps):
        candidates = score[:, :, None] + transitions[None]
        best_prev = candidates.argmax(axis=1).astype(np.int32)
        new = candidates.max(axis=1) + emissions[:, t]
        keep = (t < lengths)[:, None]
        score = np.where(keep, new, score)
        pointers[t - 1] = np.where(keep, best_prev, identity[None, :])
    tag = (score + end[None, :]).argmax(axis=1).astype(np.int32)
    path = np.empty((batch, steps), dtype=np.int32)
    path[:, steps - 1] = tag
    for t in range(steps - 1, 0, -1):
        tag = np.take_along_axis(pointers[t - 1], tag[:, None], axis=1)[:, 0]
        path[:, t - 1] = tag
    return [path[i, : lengths[i]] for i in range(batch)]


def _logsumexp(values: np.ndarray, axis: int) -> np.ndarray:
    peak = values.max(axis=axis, keepdims=True)
    return np.squeeze(peak, axis) + np.log(np.exp(values - peak).sum(axis=axis))


def marginals_numpy(
    emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """P(tag at t = k | sentence) by forward-backward: (batch, steps, tags), zero on padding."""
    batch, steps, tags = emissions.shape
    alpha = np.empty_like(emissions)
    beta = np.zeros_like(emissions)
    alpha[:, 0] = start[None, :] + emissions[:, 0]
    for t in range(1, steps):
        alpha[:, t] = _logsumexp(alpha[:, t - 1, :, None] + transitions[None], axis=1) + emissions[:, t]
    last = lengths - 1
    rows = np.arange(batch)
    beta[rows, last] = end[None, :]
    for t in range(steps - 2, -1, -1):
        inner = _logsumexp(transitions[None] + (emissions[:, t + 1] + beta[:, t + 1])[:, None, :], axis=2)
        beta[:, t] = np.where((t < last)[:, None], inner, beta[:, t])
    log_z = _logsumexp(alpha[rows, last] + end[None, :], axis=1)
    padding = np.arange(steps)[None, :, None] >= lengths[:, None, None]
    return np.exp(np.where(padding, -np.inf, alpha + beta - log_z[:, None, None]))
