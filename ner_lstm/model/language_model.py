"""A training-only auxiliary loss: the BiLSTM's halves predict each word's neighbours (Rei 2017).

The forward half has read words 1..t and predicts word t+1; the backward half has read words
t..n and predicts word t-1. This asks the LSTM to model the language of the training text, not
only the tags. The layer adds the loss while training and passes its input through unchanged
otherwise, so tagging (and the ONNX export, which never reads this layer) costs nothing more.
"""
from __future__ import annotations

import keras
from keras import layers, ops

FIRST_WORD_ID = 2  # 0 is padding, 1 an unknown word; words follow by descending frequency


@keras.saving.register_keras_serializable(package="ner_lstm")
class NeighbourWordLoss(keras.layers.Layer):
    """Softmax over the `classes - 1` most frequent training words and one class for every other word."""

    def __init__(self, classes: int, hidden: int, weight: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.classes, self.hidden, self.weight = classes, hidden, weight
        self.supports_masking = True
        self.heads = {
            direction: (layers.Dense(hidden, activation="tanh", name=f"{direction}_hidden"),
                        layers.Dense(classes, name=f"{direction}_words"))
            for direction in ("forward", "backward")
        }

    def build(self, input_shape) -> None:
        states_shape = input_shape[0]
        half = states_shape[-1] // 2
        for hidden, words in self.heads.values():
            hidden.build(tuple(states_shape[:-1]) + (half,))
            words.build(tuple(states_shape[:-1]) + (self.hidden,))

    def call(self, inputs, training=None):
        states, word = inputs
        if training:
            half = ops.shape(states)[-1] // 2
            target = ops.where(ops.logical_and(word >= FIRST_WORD_ID, word < FIRST_WORD_ID + self.classes - 1),
                               word - FIRST_WORD_ID, self.classes - 1)
            present = ops.cast(ops.not_equal(word, 0), "float32")
            pairs = present[:, 1:] * present[:, :-1]  # both the word and its neighbour are real, not padding
            forward = self._loss("forward", states[:, :-1, :half], target[:, 1:], pairs)
            backward = self._loss("backward", states[:, 1:, half:], target[:, :-1], pairs)
            self.add_loss(self.weight * (forward + backward))
        return ops.copy(states)

    def _loss(self, direction: str, states, target, present):
        """Summed over the words of a sentence and averaged over sentences, as the CRF loss is."""
        hidden, words = self.heads[direction]
        logits = words(hidden(states))
        loss = keras.losses.sparse_categorical_crossentropy(target, logits, from_logits=True)
        return ops.sum(loss * present) / ops.cast(ops.shape(states)[0], "float32")

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs[1], 0)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self) -> dict:
        return {**super().get_config(), "classes": self.classes, "hidden": self.hidden, "weight": self.weight}
