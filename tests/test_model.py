"""The network: masking, saving and safe loading."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest

from ner_lstm.data.corpus import Sentence
from ner_lstm.errors import ModelError
from ner_lstm.inference.bundle import FORMAT_VERSION, save_bundle, verify_manifest, write_manifest
from ner_lstm.model.export import export_onnx
from ner_lstm.model.glove import GloveTable
from ner_lstm.inference.runtime import char_groups
from ner_lstm.inference.tagger import Tagger
from ner_lstm.model.batching import encode_batch
from ner_lstm.model.network import ModelConfig, build_model, peer_free
from ner_lstm.model.vocab import Vocab

SENTENCES = [
    Sentence(["Major", "Tom", "is", "a", "great", "battle", "commander", "."],
             ["B-PER", "I-PER", "O", "O", "O", "O", "O", "O"]),
    Sentence(["Ground", "Control", "calls", "."], ["B-ORG", "I-ORG", "O", "O"]),
]
DATA = Path(__file__).parent / "data"
SMALL = ModelConfig(embeddings="glove", word_dim=4, char_dim=4, char_filters=6, case_dim=3, lstm_units=5)


@pytest.fixture
def small_model():
    keras.utils.set_random_seed(1)
    vectors = np.random.default_rng(0).normal(size=(5, SMALL.word_dim)).astype("float32")
    vocab = Vocab.build(SENTENCES, GloveTable.from_words(["major", "tom", "is", "a", "unseen"], vectors))
    model = build_model(SMALL, vocab)
    # Non-zero weights everywhere, so a masking mistake would show in the numbers.
    model.set_weights([np.random.default_rng(i).normal(size=w.shape).astype("float32")
                       for i, w in enumerate(model.get_weights())])
    return model, vocab


def test_padding_does_not_change_real_tokens(small_model):
    model, vocab = small_model
    short = SENTENCES[1]
    network = peer_free(model)
    alone = np.asarray(network(encode_batch([short], vocab), training=False))
    padded = np.asarray(network(encode_batch([short, SENTENCES[0]], vocab), training=False))
    np.testing.assert_allclose(padded[0, : len(short)], alone[0], rtol=1e-4, atol=1e-4)


def bundle(path, model, vocab, version=FORMAT_VERSION):
    config = {"format_version": version, "model": SMALL.to_json(), "labels": vocab.labels}
    save_bundle(path, model, config, vocab, {"epoch": 1})
    return path


def test_save_load_round_trip_gives_identical_predictions(small_model, tmp_path):
    model, vocab = small_model
    loaded = Tagger.load(bundle(tmp_path / "m", model, vocab), backend="keras")
    inputs = encode_batch(SENTENCES, vocab)
    np.testing.assert_array_equal(loaded.emissions(inputs), np.asarray(peer_free(model)(inputs, training=False)))
    assert loaded.predict_tags(SENTENCES) == Tagger.from_keras(model, vocab).predict_tags(SENTENCES)


def test_onnx_export_matches_keras(small_model, tmp_path):
    model, vocab = small_model
    path = bundle(tmp_path / "m", model, vocab)  # the export is part of every saved model
    onnx, keras_tagger = Tagger.load(path, backend="onnx"), Tagger.load(path, backend="keras")
    inputs = encode_batch(SENTENCES, vocab, token_chars=True)
    np.testing.assert_allclose(onnx.emissions(inputs), keras_tagger.emissions(inputs), rtol=1e-4, atol=1e-4)
    assert onnx.predict_tags(SENTENCES) == keras_tagger.predict_tags(SENTENCES)
    assert type(Tagger.load(path).emissions).__name__ == "OnnxEmissions", "auto prefers the export"


def test_char_groups_hold_each_distinct_word_once_in_its_length_group():
    lengths = [3, 20, 5, 1, 8, 9, 4]  # around the group bounds (4, 8), and a word cut to 20 characters
    token_chars = np.zeros((len(lengths), 20), np.int32)
    for row, length in enumerate(lengths):
        token_chars[row, :length] = np.arange(1, length + 1) + 10 * row
    char_rows = np.array([[1, 0, 6, 1], [3, 5, 0, 0]], np.int32)
    feed = char_groups(token_chars, char_rows)
    assert [feed[f"chars_{k}"].shape for k in range(3)] == [(3, 4), (2, 8), (2, 20)]
    laid = np.concatenate([np.pad(feed[f"chars_{k}"], ((0, 0), (0, 20 - feed[f"chars_{k}"].shape[1])))
                           for k in range(3)])
    np.testing.assert_array_equal(laid[feed["char_rows"]], token_chars[char_rows])
    short = char_groups(token_chars[[0, 3]], np.array([[0, 1, 1]], np.int32))
    assert [short[f"chars_{k}"].shape for k in range(3)] == [(2, 3), (0, 1), (0, 1)]


@pytest.mark.parametrize("sentences", [
    [["a", "Tom", "a", "is"], ["Tom"]],  # only short words: two groups empty
    [["Supercalifragilisticexpialidocious", "commander", "Tom", "Tom"], ["commander", "."], ["unseenword"]],
    [["Supercalifragilisticexpialidocious", "commander", "Tom", "a", "Tom"]],  # one sentence, run as two
])
def test_onnx_export_matches_keras_whatever_the_words_lengths(small_model, tmp_path, sentences):
    model, vocab = small_model
    path = bundle(tmp_path / "m", model, vocab)
    onnx, keras_tagger = Tagger.load(path, backend="onnx"), Tagger.load(path, backend="keras")
    batch = [Sentence(tokens, ["O"] * len(tokens)) for tokens in sentences]
    inputs = encode_batch(batch, vocab, token_chars=True)
    assert len(inputs["token_chars"]) == len({t for s in sentences for t in s})
    np.testing.assert_allclose(onnx.emissions(inputs), keras_tagger.emissions(inputs), rtol=1e-4, atol=1e-4)
    assert onnx.predict_tags(batch) == keras_tagger.predict_tags(batch)


def test_a_format_3_model_is_still_tagged(small_model, tmp_path):
    """tests/data/format3-model: this small model saved by ner-lstm 0b342f6 (its ONNX graph reads `char`,
    every word's characters), model.keras left out."""
    model, vocab = small_model
    old = Tagger.load(DATA / "format3-model")
    assert not old.emissions.token_chars and "char" in old.emissions.names
    new = Tagger.load(bundle(tmp_path / "m", model, vocab))
    assert new.emissions.token_chars and "char" not in new.emissions.names
    inputs = encode_batch(SENTENCES, vocab, token_chars=True)
    np.testing.assert_allclose(old.emissions(inputs), new.emissions(inputs), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(old.emissions(inputs), np.asarray(peer_free(model)(encode_batch(SENTENCES, vocab),
                                                                                  training=False)), rtol=1e-4, atol=1e-4)
    assert old.predict_tags(SENTENCES) == new.predict_tags(SENTENCES)
    assert json.loads((tmp_path / "m" / "manifest.json").read_text())["format_version"] == FORMAT_VERSION == 4


def test_model_file_with_lambda_layer_is_refused(small_model, tmp_path):
    model, vocab = small_model
    path = bundle(tmp_path / "m", model, vocab)
    inputs = keras.Input((None,), dtype="int32", name="word")
    evil = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    evil.save(path / "model.keras")
    write_manifest(path)  # a crafted model with a consistent manifest: safe mode is what stops it
    with pytest.raises(ModelError, match="cannot be loaded safely"):
        Tagger.load(path, backend="keras")


def test_corrupted_model_file(small_model, tmp_path):
    model, vocab = small_model
    path = bundle(tmp_path / "m", model, vocab)
    (path / "model.keras").write_bytes(b"not a zip archive")
    with pytest.raises(ModelError, match="model.keras: 17 bytes, the manifest says"):
        Tagger.load(path)
    write_manifest(path)
    with pytest.raises(ModelError, match="model.keras: cannot be loaded"):
        Tagger.load(path, backend="keras")


def test_tampered_vocabulary(small_model, tmp_path):
    model, vocab = small_model
    path = bundle(tmp_path / "m", model, vocab)
    data = json.loads((path / "vocab.json").read_text())
    data["labels"] = data["labels"][:-1]
    (path / "vocab.json").write_text(json.dumps(data))
    write_manifest(path)
    with pytest.raises(ModelError, match="vocab.json: does not match model.keras"):
        Tagger.load(path, backend="keras")
    with pytest.raises(ModelError, match=r"crf.json: CRF scores \(\(5, 5\)\) do not match 4 labels"):
        Tagger.load(path)
    (path / "vocab.json").write_text("{broken")
    write_manifest(path)
    with pytest.raises(ModelError, match="not valid JSON"):
        Tagger.load(path)


def test_incompatible_format_version_and_incomplete_directory(small_model, tmp_path):
    model, vocab = small_model
    path = bundle(tmp_path / "m", model, vocab, version=99)
    with pytest.raises(ModelError, match="format version 99"):
        Tagger.load(path)
    path = bundle(tmp_path / "m", model, vocab)
    (path / "model.keras").unlink()
    with pytest.raises(ModelError, match=r"model.keras: missing \(listed in manifest.json\)"):
        Tagger.load(path)
    (path / "manifest.json").unlink()
    with pytest.raises(ModelError, match=r"incomplete model directory \(missing manifest.json\)"):
        Tagger.load(path)
    with pytest.raises(ModelError, match="no model here"):
        Tagger.load(tmp_path / "absent")


def test_failed_save_keeps_the_previous_model(small_model, tmp_path):
    model, vocab = small_model
    path = bundle(tmp_path / "m", model, vocab)
    before = {p.name: p.read_bytes() for p in path.iterdir()}

    def explode(tmp):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        save_bundle(path, model, {"format_version": FORMAT_VERSION}, vocab, {}, extra=explode)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["m"], "no temporary directories left behind"
    shutil.rmtree(path)


def test_interrupted_swap_points_at_the_previous_model(tmp_path):
    from ner_lstm.inference.bundle import check_dir

    leftover = tmp_path / ".m.old-abc" / "previous"
    leftover.mkdir(parents=True)
    with pytest.raises(ModelError, match=r"previous model is in .*\.m\.old-abc/previous"):
        check_dir(tmp_path / "m")


def test_manifest_catches_a_swapped_or_damaged_file(small_model, tmp_path):
    model, vocab = small_model
    path = bundle(tmp_path / "m", model, vocab)
    assert verify_manifest(path, full=True) == len([p for p in path.iterdir() if p.name != "manifest.json"])
    crf = (path / "crf.json").read_bytes()
    swapped = crf.replace(b"0", b"1", 1)  # same size: only the hash tells
    assert len(swapped) == len(crf) and swapped != crf
    (path / "crf.json").write_bytes(swapped)
    with pytest.raises(ModelError, match="crf.json: SHA-256 differs"):
        Tagger.load(path)  # the small files are hashed at every load
    (path / "crf.json").write_bytes(crf)
    vectors = np.load(path / "glove.npy")
    vectors[0, 0] += 1.0
    np.save(path / "glove.npy", vectors)  # same size: the large table is hashed by --verify only
    Tagger.load(path)
    with pytest.raises(ModelError, match="glove.npy: SHA-256 differs"):
        verify_manifest(path, full=True)
    (path / "crf.json").write_bytes(crf + b" ")
    with pytest.raises(ModelError, match=r"crf.json: \d+ bytes, the manifest says"):
        Tagger.load(path)
    (path / "crf.json").write_bytes(crf)
    (path / "glove.npy").unlink()
    with pytest.raises(ModelError, match="glove.npy: missing"):
        verify_manifest(path)


def test_neighbour_word_loss_predicts_each_words_neighbours_and_leaves_tagging_alone(small_model, tmp_path):
    from dataclasses import replace

    _, vocab = small_model
    plain = build_model(replace(SMALL, lm_weight=0.0, dropout=0.0, evidence=False), vocab)
    # The 3 commonest words and "any other"; no dropout, so training-mode states equal inference's.
    config = replace(SMALL, lm_weight=0.5, lm_classes=4, dropout=0.0, evidence=False)
    model = build_model(config, vocab)
    model.set_weights([np.random.default_rng(9 + i).normal(size=w.shape).astype("float32")
                       for i, w in enumerate(model.get_weights())])
    for layer in plain.layers:
        if layer.weights:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    inputs = encode_batch(SENTENCES, vocab)
    np.testing.assert_array_equal(np.asarray(model(inputs, training=False)), np.asarray(plain(inputs, training=False)))
    assert not model.losses, "no loss outside training"

    model(inputs, training=True)
    (added,) = model.losses
    states = np.asarray(keras.Model(model.inputs, model.get_layer("bilstm").output)(inputs, training=False))
    head = model.get_layer("neighbour_words")
    words, half, total = inputs["word"], states.shape[-1] // 2, 0.0
    for direction, part, step in (("forward", slice(None, half), 1), ("backward", slice(half, None), -1)):
        hidden_kernel, hidden_bias = (np.asarray(w) for w in head.heads[direction][0].weights)
        out_kernel, out_bias = (np.asarray(w) for w in head.heads[direction][1].weights)
        for b, sentence in enumerate(SENTENCES):
            for t in range(len(sentence)):
                if not 0 <= t + step < len(sentence):
                    continue
                target = words[b, t + step] - 2 if 2 <= words[b, t + step] < 5 else 3
                logits = np.tanh(states[b, t, part] @ hidden_kernel + hidden_bias) @ out_kernel + out_bias
                total -= logits[target] - np.log(np.exp(logits).sum())
    assert float(added) == pytest.approx(0.5 * total / len(SENTENCES), rel=1e-3)

    path = tmp_path / "m"
    save_bundle(path, model, {"format_version": FORMAT_VERSION, "model": config.to_json(), "labels": vocab.labels},
                vocab, {"epoch": 1})
    onnx, keras_tagger = Tagger.load(path, backend="onnx"), Tagger.load(path, backend="keras")
    inputs = encode_batch(SENTENCES, vocab, token_chars=True)
    np.testing.assert_allclose(onnx.emissions(inputs), keras_tagger.emissions(inputs), rtol=1e-4, atol=1e-4)

    # Tagging costs what it cost without the loss: the exported graph is the same, node for node.
    import onnx as onnx_format

    (tmp_path / "plain").mkdir()
    export_onnx(plain, tmp_path / "plain")
    graphs = [onnx_format.load(str(p / "model.onnx")).graph for p in (path, tmp_path / "plain")]
    assert [n.op_type for n in graphs[0].node] == [n.op_type for n in graphs[1].node]
    assert [tuple(w.dims) for w in graphs[0].initializer] == [tuple(w.dims) for w in graphs[1].initializer]
