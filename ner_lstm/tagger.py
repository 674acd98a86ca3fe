"""`Tagger`: a trained model as a library object. Load a bundle, tag sentences, get entities."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .batching import encode_batch, sorted_batches
from .bundle import check_dir, load_keras_model, read_config, read_json
from .corpus import Sentence
from .crf import marginals_numpy, viterbi_numpy
from .entities import Entity, entities
from .errors import ModelError
from .text import split_text
from .vocab import Vocab


@dataclass
class Tagged:
    """A sentence with its predicted tags, per-tag confidence and entities."""

    sentence: Sentence
    tags: list[str]
    confidence: list[float]
    entities: list[Entity]


def _emission_function(model):
    """A traced call with unknown batch and length, so variable-size batches reuse one graph."""
    import tensorflow as tf

    spec = {name: tf.TensorSpec([None] * len(tensor.shape), tf.int32) for name, tensor in model.input.items()}

    @tf.function(input_signature=[spec])
    def run(inputs):
        return model(inputs, training=False)

    return run


def _surface(sentence: Sentence) -> tuple[list[tuple[int, int]], str]:
    """The sentence's token offsets and text; tokens without text are joined by single spaces."""
    if sentence.offsets is not None and sentence.text is not None:
        return sentence.offsets, sentence.text
    offsets, position = [], 0
    for token in sentence.tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    return offsets, " ".join(sentence.tokens)


class Tagger:
    """Tags tokenised sentences or raw text with a trained model."""

    def __init__(self, model, vocab: Vocab, config: dict | None = None) -> None:
        self.model = model
        self.vocab = vocab
        self.config = config or {}
        self._run = _emission_function(model)

    @classmethod
    def load(cls, path: str | Path) -> "Tagger":
        path = Path(path)
        check_dir(path)
        config = read_config(path)
        try:
            vocab = Vocab.from_json(read_json(path / "vocab.json"))
        except (KeyError, TypeError, AttributeError):
            raise ModelError(f"{path / 'vocab.json'}: missing or malformed vocabulary fields") from None
        model = load_keras_model(path)
        _check_consistent(path, model, vocab)
        return cls(model, vocab, config)

    @property
    def labels(self) -> list[str]:
        return self.vocab.labels

    def crf_parameters(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        crf = self.model.get_layer("crf")
        return crf.transitions.numpy(), crf.start.numpy(), crf.end.numpy()

    def tag(self, sentences: Sequence[Sentence], with_entities: bool = True, max_tokens: int = 8192) -> list[Tagged]:
        """Tag in length-sorted batches and return results in input order."""
        transitions, start, end = self.crf_parameters()
        results: list[Tagged | None] = [None] * len(sentences)
        for batch in sorted_batches([len(s) for s in sentences], max_tokens=max_tokens):
            chosen = [sentences[i] for i in batch]
            inputs = encode_batch(chosen, self.vocab)
            emissions = np.asarray(self._run(inputs), dtype=np.float32)
            lengths = np.array([len(s) for s in chosen])
            paths = viterbi_numpy(emissions, lengths, transitions, start, end)
            probs = marginals_numpy(emissions, lengths, transitions, start, end) if with_entities else None
            for row, (index, sentence, path) in enumerate(zip(batch, chosen, paths)):
                tags = [self.vocab.labels[k] for k in path]
                confidence = [] if probs is None else probs[row, np.arange(len(path)), path].tolist()
                found = entities(tags, *_surface(sentence), confidence) if with_entities else []
                results[index] = Tagged(sentence, tags, confidence, found)
        return results  # type: ignore[return-value]

    def predict(self, text: str) -> list[Tagged]:
        """Split raw text into sentences and tokens (syntok) and tag them; offsets index `text`."""
        return self.tag(split_text(text))

    def entities(self, text: str) -> list[Entity]:
        return [entity for tagged in self.predict(text) for entity in tagged.entities]

    def predict_tags(self, sentences: Iterable[Sentence]) -> list[list[str]]:
        return [t.tags for t in self.tag(list(sentences), with_entities=False)]


def _check_consistent(path: Path, model, vocab: Vocab) -> None:
    """Catch a vocab.json that does not belong to model.keras before it mislabels anything."""
    expected = {
        "crf": len(vocab.labels),
        "word_embedding": len(vocab.words) + 2,
    }
    if vocab.glove_words:
        expected["glove_embedding"] = len(vocab.glove_words) + 2
    sizes = {
        "crf": model.get_layer("crf").num_tags,
        "word_embedding": model.get_layer("word_embedding").input_dim,
    }
    if vocab.glove_words:
        try:
            sizes["glove_embedding"] = model.get_layer("glove_embedding").input_dim
        except ValueError:
            sizes["glove_embedding"] = -1
    for name, size in expected.items():
        if sizes[name] != size:
            raise ModelError(f"{path / 'vocab.json'}: does not match model.keras ({name}: {size} vs {sizes[name]})")
