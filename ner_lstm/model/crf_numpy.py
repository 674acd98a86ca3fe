"""CRF decoding in NumPy: Viterbi paths and forward-backward marginals, vectorised over a batch.

The inference path uses these so that tagging never needs TensorFlow. Both work
time-major on the rows still running at each step (rows ordered longest first),
so padding costs nothing and no step needs a mask.
"""
from __future__ import annotations

import numpy as np


def _longest_first(emissions: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row order (longest first), the time-major emissions in that order, and the rows alive at each step."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    ordered = np.asarray(lengths)[order]
    steps = emissions.shape[1]
    alive = (ordered[None, :] > np.arange(steps)[:, None]).sum(axis=1)  # rows still running at step t
    return order, np.ascontiguousarray(emissions[order].transpose(1, 0, 2)), alive


def viterbi_numpy(
    emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray, start: np.ndarray, end: np.ndarray
) -> list[np.ndarray]:
    """Best tag path for each sentence of a padded batch."""
    batch, steps, _ = emissions.shape
    order, steps_first, alive = _longest_first(emissions, lengths)
    score = start[None, :] + steps_first[0]
    incoming = np.ascontiguousarray(transitions.T)[None]  # (1, tag, previous tag): reductions run along rows
    pointers = []
    for t in range(1, steps):
        n = alive[t]
        candidates = score[:n, None, :] + incoming
        best = candidates.argmax(axis=2)
        pointers.append(best)
        score[:n] = np.take_along_axis(candidates, best[:, :, None], axis=2)[:, :, 0] + steps_first[t, :n]
    tag = (score + end[None, :]).argmax(axis=1)  # a row's score stops changing after its last step
    path = np.zeros((steps, batch), dtype=np.int64)
    ordered = np.asarray(lengths)[order]
    path[ordered - 1, np.arange(batch)] = tag
    for t in range(steps - 1, 0, -1):
        n = alive[t]  # rows running at t: their tag at t is set (their last, or followed back from t + 1)
        path[t - 1, :n] = pointers[t - 1][np.arange(n), path[t, :n]]
    out: list[np.ndarray] = [np.empty(0)] * batch
    for row, original in enumerate(order):
        out[original] = path[: ordered[row], row]
    return out


def marginals_numpy(
    emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """P(tag at t = k | sentence) by forward-backward: (batch, steps, tags), zero on padding.

    Computed in probability space with every step rescaled to sum to one (float64):
    one small matrix product a step instead of a log-sum-exp over tag pairs.
    """
    batch, steps, tags = emissions.shape
    order, steps_first, alive = _longest_first(emissions.astype(np.float64), lengths)
    ordered = np.asarray(lengths)[order]
    potentials = np.exp(steps_first - steps_first.max(axis=2, keepdims=True))
    moves = np.exp(transitions.astype(np.float64) - transitions.max())
    alpha = np.zeros((steps, batch, tags))
    alpha[0] = np.exp(start - start.max())[None, :] * potentials[0]
    alpha[0] /= alpha[0].sum(axis=1, keepdims=True)
    for t in range(1, steps):
        n = alive[t]
        step = (alpha[t - 1, :n] @ moves) * potentials[t, :n]
        alpha[t, :n] = step / step.sum(axis=1, keepdims=True)
    beta = np.zeros((steps, batch, tags))
    beta[ordered - 1, np.arange(batch)] = np.exp(end - end.max())[None, :]
    for t in range(steps - 2, -1, -1):
        n = alive[t + 1]  # rows going on past t; the others keep their end scores at their last step
        step = (beta[t + 1, :n] * potentials[t + 1, :n]) @ moves.T
        beta[t, :n] = step / step.sum(axis=1, keepdims=True)
    joint = alpha * beta
    total = joint.sum(axis=2, keepdims=True)
    probs = np.divide(joint, total, out=np.zeros_like(joint), where=total > 0)
    out = np.empty((batch, steps, tags), dtype=np.float32)
    out[order] = probs.transpose(1, 0, 2)
    return out


FORBIDDEN = -1e4  # a score no path can make up for: exp(-1e4) is 0 in float64


def bioes_constraints(labels: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which transitions, first tags and last tags BIOES allows: after B-X or I-X only I-X or E-X;
    after O, E- or S- only O, B- or S-; a sentence starts outside an entity and ends outside one.

    A trained CRF learns these softly; decoding with them hard never outputs a broken entity
    (O -> E-PER, B-PER -> I-LOC), whatever the emissions say.
    """
    def inside(tag: str) -> bool:  # the tag leaves an entity open
        return tag[:2] in ("B-", "I-")

    def continues(tag: str) -> bool:  # the tag needs an open entity before it
        return tag[:2] in ("I-", "E-")

    allowed = np.array([[continues(b) and a[2:] == b[2:] if inside(a) else not continues(b) for b in labels]
                        for a in labels])
    start = np.array([not continues(tag) for tag in labels])
    end = np.array([not inside(tag) for tag in labels])
    return allowed, start, end
