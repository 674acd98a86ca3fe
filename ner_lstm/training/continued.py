"""`train --init-from MODEL`: continue a trained model on new data.

The parent's vocabularies grow (new words, characters and labels are appended, so every old id keeps its
row), the network is the parent's with those rows added, and every weight the parent has is copied in:
old labels' emissions and CRF scores are unchanged at the start; new labels start from zero emissions and
transitions. Other mentions' evidence has a column per entity type (in sorted order), so its rows are moved
by type name. The rest is a fresh run: new optimizer, early stopping on dev, checkpoints, resume.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..data.corpus import Sentence
from ..errors import UsageError
from ..inference.bundle import MANIFEST_FILE, check_dir, load_keras_model, read_vocab
from ..model.evidence import label_types
from ..model.network import ModelConfig
from ..model.vocab import Vocab

LABEL_LAYERS = ("emissions", "evidence_emissions", "crf")  # weights with a row or column per label
# Network options a continued model takes from its parent; giving another value is refused.
INHERITED = ("embeddings", "document_context", "evidence", "lm_weight")


@dataclass
class Parent:
    path: Path
    config: dict
    vocab: Vocab
    model: Any  # the parent's Keras model

    def record(self) -> dict:
        """What the child's config.json and `info` say of its parent."""
        digest = hashlib.sha256((self.path / MANIFEST_FILE).read_bytes()).hexdigest()
        return {"path": str(self.path.resolve()), "manifest_sha256": digest,
                "labels": self.config.get("labels", self.vocab.labels)}


def parent_network(path: Path, given: ModelConfig, defaults: ModelConfig) -> tuple[dict, Vocab, ModelConfig]:
    """The parent's config, vocabulary and the network the child must use, checked without loading Keras (so the
    command fails before reading data); an option that contradicts the parent's network (given on the command
    line, not left at its default) is an error naming both values."""
    config = check_dir(path)  # a damaged, incomplete or other-format model is refused here, in one line
    network = ModelConfig(**config["model"])
    for name in INHERITED:
        mine, theirs, default = getattr(given, name), getattr(network, name), getattr(defaults, name)
        if mine != default and mine != theirs:
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"--init-from {path}: the model was trained with {flag} {theirs!r}, this run asks for "
                             f"{mine!r}; a continued model keeps its parent's network (leave {flag} out)")
    vocab = read_vocab(path, config)
    if vocab.document_context != network.document_context:
        raise UsageError(f"{path / 'vocab.json'}: its case features do not match its config.json; retrain it")
    return config, vocab, network


def load_parent(path: Path, given: ModelConfig, defaults: ModelConfig) -> tuple[Parent, ModelConfig]:
    """The parent model (its Keras network loaded in safe mode) and the network config the child must use."""
    config, vocab, network = parent_network(path, given, defaults)
    return Parent(path, config, vocab, load_keras_model(path)), network


def grown_vocab(parent: Vocab, train: Sequence[Sentence]) -> Vocab:
    """The parent's vocabulary with the new data's words, characters and labels appended."""
    new = Vocab.build(train, parent.glove, parent.document_context)

    def grown(old: list[str], found: list[str]) -> list[str]:
        known = set(old)
        return [*old, *(item for item in found if item not in known)]

    return Vocab(grown(parent.words, new.words), grown(parent.chars, new.chars), grown(parent.labels, new.labels),
                 parent.glove, parent.document_context, parent.vectors_cased)


def copy_weights(parent: Parent, model: Any, vocab: Vocab) -> None:
    """Every weight of the parent into `model` (built for the grown `vocab`): old rows and columns in place,
    the added ones zero for labels (so old labels' scores do not move) and freshly initialised for words and
    characters."""
    evidence_rows = _evidence_rows(parent.vocab.labels, vocab.labels)
    old_labels = len(parent.vocab.labels)
    before = {layer.name: layer for layer in parent.model.layers if layer.weights}
    for layer in model.layers:
        if not layer.weights or layer.name not in before:
            continue
        values = []
        for fresh, old in zip(layer.get_weights(), before[layer.name].get_weights()):
            grown = np.zeros_like(fresh) if layer.name in LABEL_LAYERS else fresh.copy()  # new labels start at 0
            if layer.name == "evidence_emissions":
                grown[evidence_rows, :old_labels] = old
            else:  # ids are appended, so the old rows and columns come first
                grown[tuple(slice(0, n) for n in old.shape)] = old
            values.append(grown)
        layer.set_weights(values)


def _evidence_rows(old: list[str], new: list[str]) -> list[int]:
    """Where each row of the parent's evidence map goes: O, each old type by name, the has-mentions flag."""
    new_types = label_types(new)
    return [0, *(1 + new_types.index(t) for t in label_types(old)), 1 + len(new_types)]
