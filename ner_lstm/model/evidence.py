"""Other mentions' evidence: what the network predicts for a word's other occurrences in its document.

A name keeps its type through a story: "Leicestershire" is the same team in the headline, the report
and the table, and the clearest of those contexts should decide the others. Once the network's
emissions are known for a whole document, each token gets the mean entity-type distribution
(O, then each type) predicted for its word's other occurrences there, and a flag saying it has some;
a linear map trained with the network adds this to the token's emissions before the CRF decodes
(Luo et al. 2020 keep a document memory of the same kind). The network itself is unchanged, so
it still runs once per sentence in any batch; only this NumPy step waits for the document.
A sentence given without a document is a document of its own.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..data.corpus import Sentence


def label_types(labels: Sequence[str]) -> list[str]:
    """The entity types of `labels`, in the order of the evidence columns after O."""
    return sorted({label[2:] for label in labels if label != "O"})


def type_map(labels: Sequence[str]) -> np.ndarray:
    """(labels, 1 + types) of 0/1: which column (O, then each type in sorted order) a label belongs to."""
    types = label_types(labels)
    table = np.zeros((len(labels), 1 + len(types)), np.float32)
    for row, label in enumerate(labels):
        table[row, 0 if label == "O" else 1 + types.index(label[2:])] = 1
    return table


def evidence_width(labels: Sequence[str]) -> int:
    """Columns of the evidence: the type distribution and the has-other-mentions flag."""
    return type_map(labels).shape[1] + 1


def mention_groups(sentences: Sequence[Sentence]) -> tuple[np.ndarray, int]:
    """Per token (all sentences' tokens in order), the id of its (document, lowercased word) group,
    or -1 for a token without a letter (numbers and punctuation say nothing about a name)."""
    ids: dict[tuple[object, str], int] = {}
    lettered: dict[str, bool] = {}  # token -> has a letter: tokens repeat, and the test is the cost here
    groups = []
    for position, sentence in enumerate(sentences):
        document = sentence.in_document if sentence.in_document is not None else position  # alone: its own
        for token in sentence.tokens:
            has_letter = lettered.get(token)
            if has_letter is None:
                has_letter = lettered[token] = token.isalpha() or any(c.isalpha() for c in token)
            groups.append(ids.setdefault((document, token.lower()), len(ids)) if has_letter else -1)
    return np.array(groups, dtype=np.int64), len(ids)


def evidence(sentences: Sequence[Sentence], emissions: Sequence[np.ndarray], types: np.ndarray) -> list[np.ndarray]:
    """Each sentence's evidence (words, width) from the peer-free `emissions` of `sentences`,
    one (words, labels) array per sentence; only the sentences given count as the document."""
    if not sentences:
        return []
    groups, count = mention_groups(sentences)
    scores = np.concatenate([np.asarray(e, np.float32) for e in emissions])
    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    predicted = (probs / probs.sum(axis=1, keepdims=True)) @ types  # (tokens, 1 + types)
    known = groups >= 0
    totals = np.zeros((count, predicted.shape[1]), np.float64)
    np.add.at(totals, groups[known], predicted[known])
    others = np.zeros(len(groups), np.int64)
    others[known] = np.bincount(groups[known], minlength=count)[groups[known]] - 1
    has = others > 0
    out = np.zeros((len(groups), predicted.shape[1] + 1), np.float32)
    out[has, :-1] = (totals[groups[has]] - predicted[has]) / others[has, None]
    out[has, -1] = 1.0
    return np.split(out, np.cumsum([len(s) for s in sentences])[:-1])
