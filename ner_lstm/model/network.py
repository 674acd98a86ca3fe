"""The network: GloVe + trainable word vectors, a character CNN, case features, BiLSTM, CRF
(and, while training, a neighbour-word language-model loss on the BiLSTM); other mentions'
evidence (`evidence.py`) is added to the emissions before the CRF.

`build_model` builds the layers and nothing else; training and decoding live elsewhere.
The frozen GloVe vectors arrive as an input (looked up by the batch encoder from
a memory-mapped table), so the network holds only what training changes.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
from keras import layers, ops

from .crf import CRF
from .evidence import evidence_width
from .language_model import NeighbourWordLoss
from .vocab import Vocab


@dataclass
class ModelConfig:
    """Hyperparameters saved with the model, so a bundle rebuilds exactly."""

    embeddings: str = "glove"  # the packaged GloVe 6B 50d, "none", or the vector file the model was trained with
    word_dim: int = 50
    char_dim: int = 30
    char_filters: int = 50
    char_window: int = 3
    case_dim: int = 8
    lstm_units: int = 200
    dropout: float = 0.5
    lm_weight: float = 0.1  # the neighbour-word loss's weight (training only); 0 leaves it out
    lm_classes: int = 2000
    lm_hidden: int = 50
    document_context: bool = False  # case ids carry how each word is written elsewhere in its document
    evidence: bool = True  # other mentions' predicted types in the document are added to the emissions

    def to_json(self) -> dict:
        return asdict(self)


@keras.saving.register_keras_serializable(package="ner_lstm")
class CharCNN(keras.layers.Layer):
    """One vector per word: character embeddings, a convolution, max over the word's characters."""

    def __init__(self, num_chars: int, char_dim: int, filters: int, window: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_chars, self.char_dim, self.filters, self.window = num_chars, char_dim, filters, window
        self.embed = layers.Embedding(num_chars, char_dim, name="char_embedding")
        self.conv = layers.Conv2D(filters, (1, window), padding="same", activation="tanh", name="char_conv")

    def build(self, input_shape) -> None:
        self.embed.build(input_shape)
        self.conv.build(tuple(input_shape) + (self.char_dim,))

    def call(self, chars):
        present = ops.not_equal(chars, 0)
        # Padding characters become zeros, exactly what the convolution's own "same" padding adds,
        # so a word's last letters see the same neighbours whatever the longest word in the batch.
        embedded = self.embed(chars) * ops.cast(present, self.compute_dtype)[..., None]
        features = self.conv(embedded)
        features = ops.where(present[..., None], features, -1e4)
        pooled = ops.max(features, axis=2)
        return ops.where(ops.any(present, axis=2)[..., None], pooled, 0.0)

    def compute_mask(self, chars, mask=None):
        return ops.not_equal(chars[:, :, 0], 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:2]) + (self.filters,)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_chars": self.num_chars,
            "char_dim": self.char_dim,
            "filters": self.filters,
            "window": self.window,
        }


def build_model(config: ModelConfig, vocab: Vocab) -> keras.Model:
    """Inputs are id tensors (batch, words) and (batch, words, chars), plus the frozen GloVe
    vectors (batch, words, dim) unless `config.embeddings` is "none"; the output is CRF emissions.

    The padding mask (word id 0) is passed to the BiLSTM explicitly: Keras' merge layers
    drop a mask when one input has none and Concatenate 'or's masks, either of which
    would let padding into the LSTM.
    """
    word = keras.Input((None,), dtype="int32", name="word")
    case = keras.Input((None,), dtype="int32", name="case")
    char = keras.Input((None, None), dtype="int32", name="char")
    inputs = {"word": word, "case": case, "char": char}

    use_glove = config.embeddings != "none"
    word_init = "zeros" if use_glove else "uniform"
    words = layers.Embedding(len(vocab.words) + 2, config.word_dim, embeddings_initializer=word_init,
                             mask_zero=True, name="word_embedding")(word)
    if use_glove:
        glove = keras.Input((None, config.word_dim), dtype="float32", name="glove")
        inputs["glove"] = glove
        words = layers.Add(name="word_vectors")([glove, words])  # the mask comes from the word ids

    chars = CharCNN(len(vocab.chars) + 2, config.char_dim, config.char_filters, config.char_window,
                    name="char_cnn")(char)
    cases = layers.Embedding(vocab.case_count, config.case_dim, mask_zero=True, name="case_embedding")(case)

    x = layers.Concatenate(name="features")([words, chars, cases])
    x = layers.Dropout(config.dropout)(x)
    mask = ops.not_equal(word, 0)
    x = layers.Bidirectional(layers.LSTM(config.lstm_units, return_sequences=True), name="bilstm")(x, mask=mask)
    if config.lm_weight:
        classes = min(config.lm_classes, len(vocab.words) + 1)
        x = NeighbourWordLoss(classes, config.lm_hidden, config.lm_weight, name="neighbour_words")([x, word])
    x = layers.Dropout(config.dropout)(x)
    emissions = layers.Dense(len(vocab.labels), name="emissions")(x)
    if config.evidence:
        evidence = keras.Input((None, evidence_width(vocab.labels)), dtype="float32", name="evidence")
        inputs["evidence"] = evidence
        # Zero at first: until the first epoch's predictions exist the evidence is all zeros anyway.
        added = layers.Dense(len(vocab.labels), use_bias=False, kernel_initializer="zeros",
                             name="evidence_emissions")(evidence)
        emissions = layers.Add(name="emissions_with_evidence")([emissions, added])
    outputs = CRF(len(vocab.labels), name="crf")(emissions)
    return keras.Model(inputs, outputs, name="ner_lstm")


def peer_free(model: keras.Model) -> keras.Model:
    """The part of `model` that runs once per sentence: the emissions before other mentions' evidence
    (the whole model when it takes none). It shares `model`'s weights."""
    if "evidence" not in model.input:
        return model
    inputs = {name: tensor for name, tensor in model.input.items() if name != "evidence"}
    return keras.Model(inputs, model.get_layer("emissions").output, name="ner_lstm_peer_free")

