"""A linear-chain CRF as a Keras 3 layer: training loss and Viterbi, written with `keras.ops`.

No maintained CRF exists for Keras 3. Inference decodes with the NumPy twin in
`crf_numpy.py`, which needs no TensorFlow.
The layer passes emissions through unchanged and owns the transition scores;
`CRFLoss` turns them into the sentence negative log-likelihood. Masks are
left-aligned: a sentence's real tokens come first, padding after.
"""
from __future__ import annotations

import keras
from keras import ops


def _time_major_with_mask(emissions, mask):
    """Steps 1..T-1 as (time, batch, tags + 1), the mask in the last channel.

    One tensor rather than a tuple: Keras' TensorFlow `scan` fails on several
    inputs whose time dimension is unknown when traced.
    """
    packed = ops.concatenate([emissions, ops.cast(mask, "float32")[:, :, None]], axis=2)
    return ops.transpose(packed[:, 1:], (1, 0, 2))


@keras.saving.register_keras_serializable(package="ner_lstm")
class CRF(keras.layers.Layer):
    """Holds transition, start and end scores; its output is its input."""

    def __init__(self, num_tags: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_tags = num_tags

    def build(self, input_shape) -> None:
        init = keras.initializers.Zeros()
        self.transitions = self.add_weight(shape=(self.num_tags, self.num_tags), initializer=init, name="transitions")
        self.start = self.add_weight(shape=(self.num_tags,), initializer=init, name="start")
        self.end = self.add_weight(shape=(self.num_tags,), initializer=init, name="end")

    def call(self, emissions):
        # A new tensor: returning the input itself would carry its padding mask into the loss.
        return ops.copy(emissions)

    def compute_mask(self, inputs, mask=None):
        # The loss takes its mask from the labels; a propagated mask would be applied twice.
        return None

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "num_tags": self.num_tags}

    def _forward(self, emissions, mask, scale: float = 1.0):
        """Forward scores of every step (steps - 1, batch, tags; the first step apart) and log Z, with every
        score divided by `scale` (a distillation temperature)."""
        emissions = ops.cast(emissions, "float32") / scale
        transitions = self.transitions / scale
        alpha0 = self.start[None, :] / scale + emissions[:, 0]
        steps = _time_major_with_mask(emissions, mask)

        def step(alpha, inputs):
            emission, keep = inputs[:, :-1], inputs[:, -1] > 0
            scores = alpha[:, :, None] + transitions[None] + emission[:, None, :]
            new = ops.where(keep[:, None], ops.logsumexp(scores, axis=1), alpha)
            return new, new

        alpha, alphas = ops.scan(step, alpha0, steps)
        return alpha0, alphas, ops.logsumexp(alpha + self.end[None, :] / scale, axis=1)

    def log_partition(self, emissions, mask):
        """log Z per sentence by the forward algorithm."""
        return self._forward(emissions, mask)[2]

    def log_marginals(self, emissions, mask, scale: float = 1.0):
        """log P(tag at t = k | sentence) by forward-backward (batch, steps, tags; padding arbitrary), every
        score divided by `scale`: what a distilled student is compared with its teachers by.

        One masked step is appended and dropped again: TensorFlow cannot stack the outputs of a traced scan
        over no steps, which a batch of one-token sentences would be.
        """
        emissions = ops.pad(ops.cast(emissions, "float32"), ((0, 0), (0, 1), (0, 0)))
        mask = ops.pad(ops.cast(mask, "bool"), ((0, 0), (0, 1)), constant_values=False)
        alpha0, alphas, log_z = self._forward(emissions, mask, scale)
        transitions, end = self.transitions / scale, self.end / scale
        steps = _time_major_with_mask(ops.cast(emissions, "float32") / scale, mask)

        # Step t takes t + 1's emission and mask; a row's last real step and its padding take the end scores.
        def step(beta, inputs):
            emission, keep = inputs[:, :-1], inputs[:, -1] > 0
            scores = transitions[None] + (emission + beta)[:, None, :]
            new = ops.where(keep[:, None], ops.logsumexp(scores, axis=2), end[None, :])
            return new, new

        last = ops.zeros_like(alpha0) + end[None, :]
        _, betas = ops.scan(step, last, steps, reverse=True)
        alpha = ops.concatenate([alpha0[None], alphas], axis=0)
        beta = ops.concatenate([betas, last[None]], axis=0)
        return ops.transpose(alpha + beta, (1, 0, 2))[:, :-1] - log_z[:, None, None]

    def gold_score(self, emissions, tags, mask):
        """The unnormalised score of the given tag paths."""
        emissions = ops.cast(emissions, "float32")
        maskf = ops.cast(mask, "float32")
        tags = ops.cast(tags, "int32")
        emitted = ops.take_along_axis(emissions, tags[:, :, None], axis=2)[:, :, 0]
        score = ops.sum(emitted * maskf, axis=1) + ops.take(self.start, tags[:, 0])
        pairs = tags[:, :-1] * self.num_tags + tags[:, 1:]
        transition = ops.take(ops.reshape(self.transitions, (-1,)), pairs)
        score = score + ops.sum(transition * maskf[:, 1:], axis=1)
        last = ops.cast(ops.sum(maskf, axis=1), "int32") - 1
        last_tags = ops.take_along_axis(tags, last[:, None], axis=1)[:, 0]
        return score + ops.take(self.end, last_tags)

    def log_likelihood(self, emissions, tags, mask):
        return self.gold_score(emissions, tags, mask) - self.log_partition(emissions, mask)

    def viterbi(self, emissions, mask):
        """Best tag path per sentence (padding positions repeat the last real tag)."""
        emissions = ops.cast(emissions, "float32")
        score0 = self.start[None, :] + emissions[:, 0]
        steps = _time_major_with_mask(emissions, mask)
        identity = ops.arange(self.num_tags, dtype="int32")

        # Keras' TensorFlow scan requires outputs shaped like the carry, so the carry holds a pointer too.
        def forward(carry, inputs):
            score, _ = carry
            emission, keep = inputs[:, :-1], inputs[:, -1] > 0
            candidates = score[:, :, None] + self.transitions[None]
            best_prev = ops.cast(ops.argmax(candidates, axis=1), "int32")
            new = ops.max(candidates, axis=1) + emission
            pointer = ops.where(keep[:, None], best_prev, identity[None, :])
            new = ops.where(keep[:, None], new, score)
            return (new, pointer), (new, pointer)

        init = (score0, ops.zeros_like(score0, dtype="int32"))
        (score, _), (_, pointers) = ops.scan(forward, init, steps)
        best_last = ops.cast(ops.argmax(score + self.end[None, :], axis=1), "int32")

        def backward(tag, pointer):
            previous = ops.take_along_axis(pointer, tag[:, None], axis=1)[:, 0]
            return previous, previous

        _, earlier = ops.scan(backward, best_last, pointers, reverse=True)
        path = ops.concatenate([earlier, best_last[None, :]], axis=0)
        return ops.transpose(path, (1, 0))


class CRFLoss(keras.losses.Loss):
    """Negative log-likelihood of the gold path; label -1 marks padding."""

    def __init__(self, crf: CRF, name: str = "crf_nll") -> None:
        super().__init__(name=name)
        self.crf = crf

    def call(self, y_true, y_pred):
        labels = ops.cast(y_true, "int32")
        mask = labels >= 0
        return -self.crf.log_likelihood(y_pred, ops.maximum(labels, 0), mask)


class DistillLoss(CRFLoss):
    """The gold path's negative log-likelihood plus `weight` x the KL divergence, summed over a sentence's
    tokens, from the teachers' token posteriors to the student's CRF marginals, both at `temperature`
    (scaled by its square, as Hinton et al. 2015, so that the weight means the same at any temperature).

    `y_true` packs the gold label (channel 0, -1 on padding) and the teachers' posteriors (the rest).
    """

    def __init__(self, crf: CRF, weight: float, temperature: float, name: str = "crf_distill") -> None:
        super().__init__(crf, name=name)
        self.weight = weight
        self.temperature = temperature

    def call(self, y_true, y_pred):
        labels = ops.cast(y_true[:, :, 0], "int32")
        teacher = ops.cast(y_true[:, :, 1:], "float32")
        mask = labels >= 0
        nll = super().call(labels, y_pred)
        student = self.crf.log_marginals(y_pred, mask, self.temperature)
        own = ops.log(ops.maximum(teacher, 1e-8))
        divergence = ops.sum(teacher * (own - student), axis=2) * ops.cast(mask, "float32")
        return nll + self.weight * self.temperature ** 2 * ops.sum(divergence, axis=1)
