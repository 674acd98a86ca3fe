"""`train --init-from`: the parent's vocabularies grown, its weights copied so old labels' scores do not move,
a new label learned, the parent recorded, incompatible parents refused in one line; `--replay`."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import write
from typer.testing import CliRunner

from ner_lstm.cli import app
from ner_lstm.data.corpus import Sentence, read_conll
from ner_lstm.files import write_json
from ner_lstm.inference.bundle import read_json, read_vocab, update_bundle
from ner_lstm.model.batching import encode_batch
from ner_lstm.model.evidence import evidence_width
from ner_lstm.model.network import ModelConfig, build_model
from ner_lstm.training.continued import copy_weights, grown_vocab, load_parent
from ner_lstm.training.corpora import replayed

NEW_WORDS = "Zorblax Quintessa Vandermeer".split()


def renamed(source, target, old: str = "MISC", new: str = "FAC"):
    """The sample with one type renamed (FAC sorts before every old type, so evidence rows must move) and a
    sentence of words the parent never saw."""
    text = source.read_text().replace(f"-{old}\n", f"-{new}\n")
    extra = "".join(f"{w} B-PER\n" if i == 0 else f"{w} O\n" for i, w in enumerate(NEW_WORDS)) + "\n"
    return write(target, extra + text)


def test_grown_vocab_appends_and_copied_weights_keep_old_scores(trained_model, sample, tmp_path):
    parent, network = load_parent(trained_model, ModelConfig(), ModelConfig())
    new = read_conll(renamed(sample / "train.txt", tmp_path / "new.txt"))
    vocab = grown_vocab(parent.vocab, new)
    old = parent.vocab
    assert vocab.words[: len(old.words)] == old.words and vocab.chars[: len(old.chars)] == old.chars
    added = vocab.labels[len(old.labels):]
    assert vocab.labels[: len(old.labels)] == old.labels and "B-FAC" in added and all(a[2:] == "FAC" for a in added)
    assert {"zorblax", "quintessa"} <= set(vocab.words[len(old.words):])
    child = build_model(network, vocab)
    copy_weights(parent, child, vocab)
    sentences = [s for s in read_conll(sample / "dev.txt")[:16] if len(s)]
    before, after = encode_batch(sentences, old), encode_batch(sentences, vocab)
    rng = np.random.default_rng(0)
    # evidence for the old types (O, LOC, MISC, ORG, PER, flag), then the same at the child's columns
    old_evidence = rng.random(before["word"].shape + (evidence_width(old.labels),)).astype(np.float32)
    new_evidence = np.zeros(after["word"].shape + (evidence_width(vocab.labels),), np.float32)
    new_evidence[..., [0, 2, 3, 4, 5, 6]] = old_evidence  # FAC is column 1 now
    expected = np.asarray(parent.model({**before, "evidence": old_evidence}))
    found = np.asarray(child({**after, "evidence": new_evidence}))
    mask = before["word"] > 0
    np.testing.assert_allclose(found[..., : len(old.labels)][mask], expected[mask], atol=1e-4)
    assert not found[..., len(old.labels):][mask].any(), "new labels start with zero scores"
    np.testing.assert_array_equal(child.get_layer("crf").transitions.numpy()[: len(old.labels), : len(old.labels)],
                                  parent.model.get_layer("crf").transitions.numpy())


@pytest.fixture(scope="module")
def child(trained_model, sample, tmp_path_factory):
    work = tmp_path_factory.mktemp("continued")
    train, dev = renamed(sample / "train.txt", work / "train.txt"), renamed(sample / "dev.txt", work / "dev.txt")
    result = CliRunner().invoke(app, ["train", "--train", str(train), "--dev", str(dev), "--init-from",
                                      str(trained_model), "--model", str(work / "child"), "--epochs", "4",
                                      "--replay", str(sample / "train.txt"), "--replay-fraction", "0.25"])
    assert result.exit_code == 0, result.output
    return work / "child"


def test_a_continued_model_learns_the_new_label_and_names_its_parent(child, trained_model):
    config = read_json(child / "config.json")
    assert config["parent"]["path"] == str(trained_model.resolve())
    assert len(config["parent"]["manifest_sha256"]) == 64
    assert config["model"] == read_json(trained_model / "config.json")["model"], "the parent's network"
    assert "25% of" in config["data"]["train"]["source"] and "replayed" in config["data"]["train"]["source"]
    metrics = read_json(child / "metrics.json")
    assert metrics["dev"]["per_type"]["FAC"]["f1"] > 0, "the new label is learned"
    labels = read_vocab(child, config).labels
    old = read_vocab(trained_model, read_json(trained_model / "config.json")).labels
    assert labels[: len(old)] == old and "B-FAC" in labels[len(old):]
    info = CliRunner().invoke(app, ["info", "--model", str(child)])
    assert f"continued:    from {trained_model.resolve()}" in info.stdout
    predicted = CliRunner().invoke(app, ["predict", "Zorblax met the Vandermeer people .", "--model", str(child)])
    assert predicted.exit_code == 0


def test_incompatible_parents_and_options_are_refused_in_one_line(trained_model, sample, tmp_path):
    runner = CliRunner()
    args = ["train", "--train", str(sample / "train.txt"), "--epochs", "1", "--model", str(tmp_path / "out")]

    def refused(parent, *extra) -> str:
        result = runner.invoke(app, [*args, "--init-from", str(parent), *extra])
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
        return result.output

    assert "the model was trained with --embeddings 'glove', this run asks for 'none'" in \
        refused(trained_model, "--embeddings", "none")
    old = tmp_path / "old"
    shutil.copytree(trained_model, old)
    config = json.loads((old / "config.json").read_text())
    (old / "config.json").write_text(json.dumps({**config, "format_version": 2}))
    assert "model format version 2, this ner-lstm reads versions 3 and 4" in refused(old)
    other = tmp_path / "other"
    shutil.copytree(trained_model, other)
    update_bundle(other, lambda tmp: write_json(tmp / "vocab.json", {**read_json(tmp / "vocab.json"),
                                                                      "document_context": False}))
    assert "its case features do not match" in refused(other)
    no_parent = runner.invoke(app, [*args, "--replay", str(sample / "train.txt")])
    assert no_parent.exit_code == 2 and "give --init-from MODEL too" in no_parent.output
    assert not (tmp_path / "out").exists()


def test_replay_takes_a_seeded_share_in_order():
    sentences = [Sentence([str(i)], ["O"]) for i in range(100)]
    chosen = replayed(sentences, 0.3, seed=5)
    assert len(chosen) == 30 and chosen == replayed(sentences, 0.3, seed=5) != replayed(sentences, 0.3, seed=6)
    assert [int(s.tokens[0]) for s in chosen] == sorted(int(s.tokens[0]) for s in chosen)


def test_a_continued_run_resumes_from_its_checkpoint(sample, tmp_path):
    from dataclasses import replace

    from ner_lstm.training.corpora import Corpora
    from ner_lstm.training.train import Trainer, TrainOptions, checkpoint_dir, train_model

    tiny = ModelConfig(embeddings="none", word_dim=8, char_dim=8, char_filters=8, case_dim=4, lstm_units=8)
    train, dev = read_conll(sample / "train.txt")[:96], read_conll(sample / "dev.txt")[:40]
    parent = tmp_path / "parent"
    train_model(Corpora(train, dev, None, {"train": "t", "dev": "d"}), parent,
                TrainOptions(epochs=1, batch_size=16, verbose=0, model=tiny, calibration="none"))
    new = Corpora(read_conll(renamed(sample / "train.txt", tmp_path / "new.txt"))[:97],
                  read_conll(renamed(sample / "dev.txt", tmp_path / "dev.txt"))[:41], None, {"train": "n", "dev": "m"})
    loaded, network = load_parent(parent, tiny, ModelConfig())
    options = TrainOptions(epochs=1, batch_size=16, verbose=0, model=network, init_from=str(parent), calibration="none")
    child = tmp_path / "child"
    first = Trainer(child, options, new.describe(), new.fingerprint())
    first.prepare(new.train, None, loaded)
    first.fit(new.train, new.dev)  # no finish(): as if the process died after epoch 1
    assert (checkpoint_dir(child) / "state.json").is_file()
    summary = train_model(new, child, replace(options, epochs=2, resume=True))
    assert summary["epochs"] == 2 and not checkpoint_dir(child).exists()
    assert "B-FAC" in read_json(child / "vocab.json")["labels"]
    assert read_json(child / "config.json")["training"]["init_from"] == str(parent)
