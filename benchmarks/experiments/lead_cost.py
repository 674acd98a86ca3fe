"""What the two leads of the accuracy issue left unbuilt would cost, before building them: a character-level
language model (LM-LSTM-CRF, Liu et al. 2018) and an ensemble of two models.

Usage: python benchmarks/experiments/lead_cost.py --data ../shared/data/conll2003 [--units 50 300] [--epochs 5] [--runs 5]
       [--out benchmarks/results/archive/lead-cost.json]

LM-LSTM-CRF runs a character BiLSTM over the whole sentence (words joined by a space) and feeds its
states at word ends, through highway layers, to the word BiLSTM; the same states train a language
model. Unlike the neighbour-word loss, that LSTM runs when tagging too. This measures its cheapest
part only, the character BiLSTM itself (30-d character embeddings, LM-LSTM-CRF's size; --units per
direction, 300 in the paper), so its figures are lower bounds on the real cost:

1. Training: epochs of the recipe network (`build_model` with the default `ModelConfig`, compiled and
   fed exactly as `ner-lstm train` does, other mentions' evidence as zeros) against epochs of the
   character BiLSTM with a next-character softmax as its loss, over the same sentences in the same
   batches (their characters made beforehand, as a merged network would share the recipe's batch
   encoding). The first epoch of each (tracing) is left out; medians of the others.
2. Tagging: `Tagger.tag` over every distinct sentence of train + valid + test, `throughput.py`'s set,
   each a document of its own (in process, as a library user calls it): the recipe's ONNX network
   alone; followed by the character BiLSTM (also ONNX, the same threads) on each batch, as one merged
   graph would run them; and two recipe networks whose emissions are averaged (an ensemble of two).
   Interleaved, median of --runs.
Weights are untrained: a network's cost does not depend on them. Prints the figures and writes --out.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]  # benchmarks/
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

CHAR_DIM = 30  # LM-LSTM-CRF's character embedding


def sentence_chars(char_grid: np.ndarray, lengths: np.ndarray, space: int) -> np.ndarray:
    """(batch, words, width) per-word character ids -> (batch, characters): each sentence's words joined by
    `space`, left-aligned, zero after its end."""
    batch, words, width = char_grid.shape
    grid = np.zeros((batch, words, width + 1), np.int32)
    grid[..., :width] = char_grid
    real = np.arange(words)[None, :] < lengths[:, None]
    grid[..., width] = np.where(real, space, 0)
    grid[np.arange(batch), lengths - 1, width] = 0  # no space after the last word
    flat = grid.reshape(batch, -1)
    order = np.argsort(flat == 0, axis=1, kind="stable")  # characters first, in order; padding last
    packed = np.take_along_axis(flat, order, axis=1)
    return packed[:, : max(1, int((flat != 0).sum(axis=1).max()))]


def char_lm(num_chars: int, units: int):
    """The character BiLSTM and a next-character softmax: the language model's cheapest form."""
    import keras
    from keras import layers

    chars = keras.Input((None,), dtype="int32", name="chars")
    x = layers.Embedding(num_chars, CHAR_DIM, mask_zero=True)(chars)
    x = layers.Bidirectional(layers.LSTM(units, return_sequences=True))(x)
    model = keras.Model(chars, layers.Dense(num_chars)(x))
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def char_batches(batches, space: int):
    """The recipe's own training batches as (characters, next characters)."""
    for inputs, _ in batches:
        lengths = (inputs["word"] != 0).sum(axis=1)
        chars = sentence_chars(inputs["char"], lengths, space)
        yield chars, np.concatenate([chars[:, 1:], np.zeros_like(chars[:, :1])], axis=1)


def epoch_timer():
    """A callback keeping the seconds of each epoch of a `fit` in `.seconds`."""
    import keras

    class Timer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.monotonic()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(round(time.monotonic() - self.started, 2))

    return Timer()


def training_epochs(train, vocab, units: list[int], epochs: int) -> dict:
    """Epoch seconds of the recipe network and of each character BiLSTM, over the same batches."""
    import tensorflow as tf

    from ner_lstm.model.evidence import evidence_width
    from ner_lstm.model.network import ModelConfig, build_model
    from ner_lstm.training.train import TrainOptions, _compile, _dataset, epoch_batches, singleton_ids, steps_per_epoch

    options = TrainOptions(epochs=epochs, model=ModelConfig())
    evidence = [np.zeros((len(s), evidence_width(vocab.labels)), np.float32) for s in train]
    model = build_model(options.model, vocab)
    steps = steps_per_epoch(train, options.batch_size)
    _compile(model, options, steps)
    timer = epoch_timer()
    print(f"recipe network: {epochs} epochs", flush=True)
    model.fit(_dataset(train, vocab, options, 0, evidence), epochs=epochs, callbacks=[timer], verbose=0, shuffle=False)
    found = {"recipe": timer.seconds}

    # Made before the clock starts: merged into the recipe, the BiLSTM would share its batch encoding.
    space = len(vocab.chars) + 2
    singletons = singleton_ids(train, vocab)
    made = [list(char_batches(epoch_batches(train, vocab, options, epoch, evidence, singletons), space))
            for epoch in range(epochs)]
    spec = (tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None, None), tf.int32))
    for size in units:
        counter = iter(range(epochs))

        def generate():
            yield from made[next(counter)]

        data = tf.data.Dataset.from_generator(generate, output_signature=spec)
        data = data.apply(tf.data.experimental.assert_cardinality(steps)).prefetch(2)
        timer = epoch_timer()
        print(f"character BiLSTM, {size} units: {epochs} epochs", flush=True)
        char_lm(space + 1, size).fit(data, epochs=epochs, callbacks=[timer], verbose=0, shuffle=False)
        found[f"char_bilstm_{size}"] = timer.seconds
    return found


def char_graph(num_chars: int, units: int, rng: np.random.Generator):
    """The character BiLSTM as ONNX: embeddings gathered, one native bidirectional LSTM."""
    from onnx import helper

    from ner_lstm.model.export import FLOAT, INT32, OPSET, _Graph

    g = _Graph()
    embedded = g.op("Gather", g.const("table", rng.normal(0, 0.1, (num_chars, CHAR_DIM)).astype(np.float32)), "chars")
    lengths = g.op("ReduceSum", g.op("Cast", g.op("Not", g.op("Equal", "chars", g.const("zero", np.array(0, np.int32)))),
                                     to=INT32), g.const("axis", np.array([1])), keepdims=0)
    shape = (2, 4 * units)
    hidden = g.op("LSTM", g.op("Transpose", embedded, perm=[1, 0, 2]),
                  g.const("w", rng.normal(0, 0.1, (*shape, CHAR_DIM)).astype(np.float32)),
                  g.const("r", rng.normal(0, 0.1, (*shape, units)).astype(np.float32)),
                  g.const("b", np.zeros((2, 8 * units), np.float32)), lengths, direction="bidirectional", hidden_size=units)
    g.nodes.append(helper.make_node("Identity", [hidden], ["states"]))
    graph = helper.make_graph(g.nodes, "char_bilstm", [helper.make_tensor_value_info("chars", INT32, ["batch", "chars"])],
                              [helper.make_tensor_value_info("states", FLOAT, None)], g.weights)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx_model.ir_version = 8
    return onnx_model


def tagging(sentences, vocab, units: list[int], runs: int) -> dict:
    """Seconds of `Tagger.tag` over `sentences`: the recipe network alone, with each character BiLSTM, and
    two networks averaged."""
    import onnx

    from ner_lstm.inference.bundle import crf_json
    from ner_lstm.inference.runtime import OnnxEmissions
    from ner_lstm.inference.tagger import Tagger
    from ner_lstm.model.export import export_onnx
    from ner_lstm.model.network import ModelConfig, build_model

    model, other = build_model(ModelConfig(), vocab), build_model(ModelConfig(), vocab)
    space = len(vocab.chars) + 2
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="lead-cost-") as tmp:
        export_onnx(model, Path(tmp))
        export_onnx(other, Path(tmp), "other.onnx")
        network, second = OnnxEmissions(Path(tmp) / "model.onnx"), OnnxEmissions(Path(tmp) / "other.onnx")
        extra = {}
        for size in units:
            onnx.save(char_graph(space + 1, size, rng), f"{tmp}/char{size}.onnx")
            extra[size] = OnnxEmissions(Path(f"{tmp}/char{size}.onnx"))

    def with_chars(session):
        def emissions(inputs):
            found = network(inputs)
            lengths = (inputs["word"] != 0).sum(axis=1)
            session({"chars": sentence_chars(inputs["char"], lengths, space)})
            return found
        return emissions

    def ensemble(inputs):
        return (network(inputs) + second(inputs)) / 2

    taggers = {"recipe": Tagger(network, vocab, crf_json(model))}
    taggers.update({f"char_bilstm_{size}": Tagger(with_chars(extra[size]), vocab, crf_json(model)) for size in units})
    taggers["ensemble_of_2"] = Tagger(ensemble, vocab, crf_json(model))
    seconds: dict[str, list[float]] = {name: [] for name in taggers}
    for tagger in taggers.values():
        tagger.tag(sentences[:2000])  # warm up each session once
    for run in range(runs):
        for name, tagger in taggers.items():
            started = time.monotonic()
            tagger.tag(sentences)
            seconds[name].append(round(time.monotonic() - started, 2))
        print(f"tagging run {run + 1}: {seconds}", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with train.txt, valid.txt, test.txt")
    parser.add_argument("--units", type=int, nargs="+", default=[50, 300], help="character LSTM units a direction")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs timed per network (the first is left out)")
    parser.add_argument("--runs", type=int, default=5, help="tagging runs per setting")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "archive" / "lead-cost.json")
    args = parser.parse_args()

    from throughput import distinct_sentences

    from ner_lstm.data.corpus import Sentence, read_conll
    from ner_lstm.model.embeddings import package_glove
    from ner_lstm.model.vocab import Vocab

    train = read_conll(args.data / "train.txt")
    vocab = Vocab.build(train, package_glove())
    distinct = [Sentence(tokens) for tokens in distinct_sentences(args.data)]  # throughput.py's set
    tokens = sum(len(s) for s in distinct)

    tag_seconds = tagging(distinct, vocab, args.units, args.runs)
    epoch_seconds = training_epochs(train, vocab, args.units, args.epochs)

    def median_epoch(name: str) -> float:
        return round(statistics.median(epoch_seconds[name][1:]), 2)

    recipe_epoch, recipe_tag = median_epoch("recipe"), statistics.median(tag_seconds["recipe"])
    result = {"command": "python " + " ".join(sys.argv), "cores": len(os.sched_getaffinity(0)),
              "sentences_tagged": len(distinct), "tokens_tagged": tokens, "units": args.units,
              "epoch_seconds": epoch_seconds, "tag_seconds": tag_seconds,
              "recipe": {"epoch_seconds": recipe_epoch, "tokens_per_second": round(tokens / recipe_tag)}}
    print(f"recipe network: epoch {recipe_epoch:.1f} s (median); tagging {tokens} tokens in {recipe_tag:.2f} s, "
          f"{tokens / recipe_tag:,.0f} tokens/s")
    for size in args.units:
        name = f"char_bilstm_{size}"
        epoch, tag = median_epoch(name), statistics.median(tag_seconds[name])
        result[name] = {"epoch_seconds": epoch, "epoch_with_recipe_ratio": round((recipe_epoch + epoch) / recipe_epoch, 2),
                        "tokens_per_second": round(tokens / tag), "tagging_speed_ratio": round(recipe_tag / tag, 3)}
        print(f"+ character BiLSTM of {size} units: its epoch {epoch:.1f} s, recipe + it "
              f"{(recipe_epoch + epoch) / recipe_epoch:.2f}x the recipe's epoch; tagging {tokens / tag:,.0f} tokens/s, "
              f"{recipe_tag / tag:.3f}x the recipe's")
    tag = statistics.median(tag_seconds["ensemble_of_2"])
    result["ensemble_of_2"] = {"tokens_per_second": round(tokens / tag), "tagging_speed_ratio": round(recipe_tag / tag, 3)}
    print(f"ensemble of two networks: tagging {tokens / tag:,.0f} tokens/s, {recipe_tag / tag:.3f}x the recipe's")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
