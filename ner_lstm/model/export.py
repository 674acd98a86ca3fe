"""The emissions network as an ONNX graph, built from the Keras layers' weights.

Why not tf2onnx (Keras' own `export(format="onnx")`): it turns Keras 3's masked
LSTM into a generic ONNX `Loop` of some forty small operators per word, which
onnxruntime runs at a fifth of the speed of its native `LSTM` operator, and it
traces the whole model through TensorFlow. No maintained converter emits the
fused operator for Keras 3, so this module writes the graph layer by layer: each
block below mirrors one layer of `network.build_model` and is checked against
Keras by the parity tests (same emissions within 1e-4, same tags).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

OPSET = 18
FLOAT = 1  # onnx.TensorProto.FLOAT; numbers keep `onnx` an import of `export_onnx` only
INT32 = 6
# The network reads a batch's distinct words in groups by length: up to 4 characters, up to 8, longer
# (`inference.runtime.char_groups` makes them).
CHAR_GROUPS = (4, 8)


class _Graph:
    """Nodes and initialisers under construction, with fresh names."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list = []
        self.weights: list = []
        self.names: set[str] = set()
        self.count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        """An initialiser; a name already given is the same constant again."""
        if name not in self.names:
            self.names.add(name)
            self.weights.append(self.numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, **attributes) -> str:
        """A node with one output; its name."""
        self.count += 1
        name = f"{op_type.lower()}_{self.count}"
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [name], **attributes))
        return name


def _lstm_weights(layer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keras LSTM weights (gates i, f, c, o; input-major) as ONNX W, R, B (gates i, o, f, c; gate-major)."""
    cell = layer.cell
    if (cell.activation.__name__, cell.recurrent_activation.__name__, cell.use_bias) != ("tanh", "sigmoid", True):
        raise ValueError("the ONNX LSTM here has Keras' default activations (tanh, sigmoid) and a bias")
    kernel, recurrent, bias = (np.asarray(w, np.float32) for w in cell.get_weights())

    def reorder(matrix: np.ndarray) -> np.ndarray:
        i, f, c, o = np.split(matrix, 4, axis=-1)
        return np.concatenate([i, o, f, c], axis=-1)

    return reorder(kernel).T, reorder(recurrent).T, np.concatenate([reorder(bias), np.zeros_like(bias)])


def _char_features(g: _Graph, model, groups: list[str]) -> str:
    """CharCNN as lookups, once per distinct word of a batch: a convolution over embedded characters
    is a sum, over the window's taps, of per-tap tables (embedding @ kernel tap), gathered at the shifted
    character ids; each word's row of the groups' features is then gathered by `char_rows`.

    The distinct words come in `groups` (by length, `CHAR_GROUPS`), each padded only to its own longest
    word: one grid padded to a batch's longest word held 20 characters a word for 4.4 real ones.
    Row 0 (padding) is zero in the side taps, as the layer zeroes padding before its 'same'
    convolution; in the centre tap it is -1e4, so a padding position comes out of tanh as -1,
    never above a real character's value: the max over a word equals the layer's masked max,
    whatever its group's width.
    """
    layer = model.get_layer("char_cnn")
    table = np.asarray(layer.embed.get_weights()[0], np.float32)
    kernel, bias = (np.asarray(w, np.float32) for w in layer.conv.get_weights())  # (1, window, dim, filters)
    window = kernel.shape[1]
    left = (window - 1) // 2  # TensorFlow's "same": the extra column of an even window goes right
    taps = []
    for tap in range(window):
        lookup = table @ kernel[0, tap]
        lookup[0] = 0.0
        if tap == left:
            lookup += bias
            lookup[0] = -1e4
        taps.append(g.const(f"char_tap_{tap}", lookup))
    features = []
    for chars in groups:  # (words, characters)
        padded = g.op("Pad", chars, g.const("char_pads", np.array([0, left, 0, window - 1 - left], np.int64)))
        width = g.op("Slice", g.op("Shape", chars), g.const("from_1", np.array([1])), g.const("to_2", np.array([2])))
        total = None
        for tap, lookup in enumerate(taps):
            shifted = g.op("Slice", padded, g.const(f"tap_{tap}", np.array([tap])),
                           g.op("Add", width, g.const(f"tap_end_{tap}", np.array([tap]))),
                           g.const("axis_1", np.array([1])))
            gathered = g.op("Gather", lookup, shifted)
            total = gathered if total is None else g.op("Add", total, gathered)
        features.append(g.op("ReduceMax", g.op("Tanh", total), g.const("axis_chars", np.array([1])), keepdims=0))
    return g.op("Gather", g.op("Concat", *features, axis=0), "char_rows")


def emissions_graph(model):
    """The ONNX model computing `model`'s emissions from the same named inputs."""
    from onnx import helper

    g = _Graph()
    word, case = "word", "case"
    groups = [f"chars_{k}" for k in range(len(CHAR_GROUPS) + 1)]
    words = g.op("Gather", g.const("word_table", np.asarray(model.get_layer("word_embedding").get_weights()[0])), word)
    inputs = [helper.make_tensor_value_info(word, INT32, ["batch", "words"]),
              helper.make_tensor_value_info(case, INT32, ["batch", "words"]),
              *(helper.make_tensor_value_info(name, INT32, [f"{name}_words", f"{name}_length"]) for name in groups),
              helper.make_tensor_value_info("char_rows", INT32, ["batch", "words"])]
    if "glove" in model.input:
        dim = model.input["glove"].shape[-1]
        inputs.append(helper.make_tensor_value_info("glove", FLOAT, ["batch", "words", dim]))
        words = g.op("Add", "glove", words)
    cases = g.op("Gather", g.const("case_table", np.asarray(model.get_layer("case_embedding").get_weights()[0])), case)
    features = g.op("Concat", words, _char_features(g, model, groups), cases, axis=-1)

    bilstm = model.get_layer("bilstm")
    w, r, b = zip(_lstm_weights(bilstm.forward_layer), _lstm_weights(bilstm.backward_layer))
    units = bilstm.forward_layer.units
    present = g.op("Not", g.op("Equal", word, g.const("zero_i32", np.array(0, np.int32))))
    lengths = g.op("ReduceSum", g.op("Cast", present, to=INT32), g.const("axis_words", np.array([1])), keepdims=0)
    hidden = g.op("LSTM", g.op("Transpose", features, perm=[1, 0, 2]), g.const("lstm_w", np.stack(w)),
                  g.const("lstm_r", np.stack(r)), g.const("lstm_b", np.stack(b)), lengths,
                  direction="bidirectional", hidden_size=units)  # (words, 2, batch, units), zero past each length
    hidden = g.op("Reshape", g.op("Transpose", hidden, perm=[2, 0, 1, 3]),
                  g.const("merge_directions", np.array([0, 0, 2 * units], np.int64)))  # forward, then backward
    kernel, bias = model.get_layer("emissions").get_weights()
    emissions = g.op("Add", g.op("MatMul", hidden, g.const("emissions_kernel", np.asarray(kernel, np.float32))),
                     g.const("emissions_bias", np.asarray(bias, np.float32)))
    g.nodes.append(helper.make_node("Identity", [emissions], ["emissions"]))
    output = helper.make_tensor_value_info("emissions", FLOAT, ["batch", "words", len(bias)])
    graph = helper.make_graph(g.nodes, "ner_lstm_emissions", inputs, [output], g.weights)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="ner-lstm")
    onnx_model.ir_version = 8  # read by every onnxruntime since 1.14
    return onnx_model


def export_onnx(model, directory: Path, name: str = "model.onnx") -> None:
    """Write the emissions network of `model` as `directory/name`, atomically."""
    import onnx

    from ..files import write_file_atomic

    onnx_model = emissions_graph(model)
    onnx.checker.check_model(onnx_model)
    write_file_atomic(directory / name, lambda tmp: onnx.save(onnx_model, str(tmp)))
