"""Emission functions: the exported ONNX network (`model/export.py`) run by onnxruntime, or Keras.

Both take the id arrays from `batching.encode_batch` and return emissions
(batch, words, tags) as float32; CRF decoding happens in NumPy either way.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..cpus import available_cpus
from ..model.export import CHAR_GROUPS


def input_spec(model) -> dict:
    """TensorSpecs with batch and length unknown, so one graph serves all batch shapes."""
    import tensorflow as tf

    return {name: tf.TensorSpec([None, None, *t.shape[2:]], t.dtype, name=name) for name, t in model.input.items()}


class OnnxEmissions:
    """Runs `model.onnx` with onnxruntime on `threads` intra-op threads."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or available_cpus()
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # No memory patterns: onnxruntime would plan and keep a block per input shape, and batch shapes
        # vary with every batch; measured, it held 40-50 MB more with the same speed and results.
        options.enable_mem_pattern = False
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.names = [i.name for i in self.session.get_inputs()]
        # Exports before format 4 convolve every word's characters (`char`), later ones the distinct words'.
        self.token_chars = "char_rows" in self.names

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        given = char_groups(inputs["token_chars"], inputs["char_rows"]) if self.token_chars else {}
        feed = {name: given[name] if name in given else inputs[name] for name in self.names}
        if len(feed["word"]) == 1:
            # onnxruntime multiplies a single row by another kernel than a batch, which rounds
            # differently (2e-6 here); run a lone sentence as a batch of two so that its scores
            # equal those it gets inside any batch.
            # The character groups hold distinct words, not sentences, and `char_rows` points into them as they are.
            groups = set(given) - {"char_rows"}
            return self.session.run(None, {k: v if k in groups else np.concatenate([v, v])
                                           for k, v in feed.items()})[0][:1]
        return self.session.run(None, feed)[0]


def char_groups(token_chars: np.ndarray, char_rows: np.ndarray) -> dict[str, np.ndarray]:
    """The exported network's character inputs: the distinct words' character ids (`token_chars`, 0-padded
    rows) in groups by length (`CHAR_GROUPS`), each cut to its longest word, and `char_rows` renumbered
    to the words' rows in the groups laid end to end."""
    lengths = np.count_nonzero(token_chars, axis=1)
    feed, order = {}, []
    for group, (low, high) in enumerate(zip((0, *CHAR_GROUPS), (*CHAR_GROUPS, token_chars.shape[1]))):
        chosen = np.flatnonzero((lengths > low) & (lengths <= high))
        feed[f"chars_{group}"] = np.ascontiguousarray(token_chars[chosen, : max(1, lengths[chosen].max(initial=0))])
        order.append(chosen)
    position = np.empty(len(lengths), np.int32)
    position[np.concatenate(order)] = np.arange(len(lengths), dtype=np.int32)
    feed["char_rows"] = position[char_rows]
    return feed


class KerasEmissions:
    """Runs the Keras model's peer-free part (what the ONNX export holds) through one traced function with
    unknown batch and length."""

    def __init__(self, model) -> None:
        import tensorflow as tf

        from ..model.network import peer_free

        self.model = model = peer_free(model)
        self.names = list(model.input)

        @tf.function(input_signature=[input_spec(model)])
        def run(inputs):
            return model(inputs, training=False)

        self._run = run

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self._run({name: inputs[name] for name in self.names}), dtype=np.float32)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and initialise its devices with stderr silenced.

    TensorFlow's C++ side prints INFO lines and a cuInit error on machines without
    a GPU, whatever TF_CPP_MIN_LOG_LEVEL says; users should not see them.
    """
    import sys

    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf

            tf.config.list_physical_devices()
            import keras  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
