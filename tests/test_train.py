"""Training: resume from a checkpoint, seeded reproducibility, the time limit, refusing to overwrite."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import SAMPLE

from ner_lstm.data.corpus import read_conll
from ner_lstm.errors import UsageError
from ner_lstm.model.network import ModelConfig
from ner_lstm.model.vocab import Vocab
from ner_lstm.training.train import (Trainer, TrainOptions, check_target, checkpoint_dir, epoch_batches,
                                     singleton_ids)

TINY = ModelConfig(embeddings="none", word_dim=8, char_dim=8, char_filters=8, case_dim=4, lstm_units=8)


@pytest.fixture(scope="module")
def corpus(sample):
    return read_conll(sample / "train.txt")[:96], read_conll(sample / "dev.txt")[:40]


def trainer(path, epochs, seed=3, **kwargs):
    options = TrainOptions(epochs=epochs, batch_size=16, seed=seed, verbose=0, model=TINY, **kwargs)
    return Trainer(path, options, {"train": {"source": "sample"}}, fingerprint="sample-96")


def test_resume_restores_weights_optimizer_and_counters(corpus, tmp_path):
    train, dev = corpus
    model_dir = tmp_path / "m"
    first = trainer(model_dir, epochs=1)
    first.prepare(train, None)
    first.fit(train, dev)  # no finish(): as if the process died after epoch 1
    assert (checkpoint_dir(model_dir) / "state.json").is_file()
    assert (model_dir / "model.keras").is_file()
    weights = first.model.get_weights()

    second = trainer(model_dir, epochs=3, resume=True)
    second.restore(train, None)  # TINY trains without pretrained vectors
    assert int(second.model.optimizer.iterations.numpy()) == int(first.model.optimizer.iterations.numpy()) > 0
    for restored, saved in zip(second.model.get_weights(), weights):
        np.testing.assert_array_equal(restored, saved)
    assert any(rows[:, -1].any() for rows in first.evidence), "words repeated in a sentence lend evidence"
    for restored, saved in zip(second.evidence, first.evidence):  # what the next epoch would have been fed
        np.testing.assert_array_equal(restored, saved)
    summary = second.fit(train, dev)
    assert summary["epochs"] == 3
    log = [json.loads(line) for line in (model_dir / "training.jsonl").read_text().splitlines()]
    assert [entry["epoch"] for entry in log] == [1, 2, 3]
    second.finish(dev)
    assert json.loads((model_dir / "calibration.json").read_text())["method"] == "temperature"
    recorded = json.loads((model_dir / "metrics.json").read_text())["calibration"]
    assert recorded["fitted_on"] == "dev" and {"entities", "ece_before", "ece_after"} <= set(recorded["dev"])
    assert not checkpoint_dir(model_dir).exists()


def test_epoch_batches_cover_every_sentence_once_reshuffled_each_epoch_and_read_the_evidence(corpus):
    train, _ = corpus
    vocab = Vocab.build(train)
    options = TrainOptions(batch_size=16, seed=5, word_dropout=0.0)
    evidence = [np.full((len(s), 2), i, np.float32) for i, s in enumerate(train)]

    def epoch(number):
        return list(epoch_batches(train, vocab, options, number, evidence, singleton_ids(train, vocab)))

    first, again, second = epoch(0), epoch(0), epoch(1)
    assert [b["word"].tolist() for b, _ in first] == [b["word"].tolist() for b, _ in again], "seeded by epoch"
    assert [b["word"].tolist() for b, _ in first] != [b["word"].tolist() for b, _ in second], "reshuffled"
    seen = sorted(int(b["evidence"][row, 0, 0]) for b, _ in first for row in range(len(b["word"])))
    assert seen == list(range(len(train))), "every sentence once, with its own evidence"
    for batch, labels in first:
        assert labels.shape == batch["word"].shape and ((labels >= 0) == (batch["word"] > 0)).all()


def test_same_seed_same_model(corpus, tmp_path):
    train, dev = corpus
    runs = []
    for name in ("a", "b"):
        run = trainer(tmp_path / name, epochs=1, seed=11)
        run.prepare(train, None)
        run.fit(train, dev)
        runs.append(run.model.get_weights())
    for left, right in zip(*runs):
        np.testing.assert_allclose(left, right, rtol=1e-6, atol=1e-6)


def test_resume_never_replaces_a_better_model_saved_before_a_kill(corpus, tmp_path):
    train, dev = corpus
    model_dir = tmp_path / "m"
    first = trainer(model_dir, epochs=2)
    first.prepare(train, None)
    first.fit(train, dev)
    saved = json.loads((model_dir / "metrics.json").read_text())
    # As if killed after saving the best model but before the checkpoint recorded it.
    state_file = checkpoint_dir(model_dir) / "state.json"
    checkpoint = json.loads(state_file.read_text())
    checkpoint["state"].update(best_f1=saved["dev"]["f1"] - 0.5, best_epoch=saved["epoch"] - 1)
    state_file.write_text(json.dumps(checkpoint))
    second = trainer(model_dir, epochs=3, resume=True)
    second.restore(train, None)  # TINY trains without pretrained vectors
    assert second.state["best_f1"] == saved["dev"]["f1"] and second.state["best_epoch"] == saved["epoch"]
    second.fit(train, dev)
    assert json.loads((model_dir / "metrics.json").read_text())["dev"]["f1"] >= saved["dev"]["f1"]


def test_max_minutes_scores_the_partial_epoch_with_averaged_weights(corpus, tmp_path, capsys):
    train, dev = corpus
    run = trainer(tmp_path / "m", epochs=5, max_minutes=0.0)
    run.options.verbose = 1
    run.prepare(train, None)
    summary = run.fit(train, dev)
    assert summary["epochs"] == 1
    assert (tmp_path / "m" / "model.keras").is_file(), "the partial epoch is still scored and saved"
    from ner_lstm.inference.tagger import Tagger

    assert Tagger.load(tmp_path / "m").predict("Major Tom"), "complete before finish(): the ONNX export is in it"
    log = json.loads((tmp_path / "m" / "training.jsonl").read_text().splitlines()[0])
    assert log["partial_steps"] == [1, 6]
    assert "reached after 1 of 6 steps of epoch 1: the partial epoch was scored with its averaged weights" \
        in capsys.readouterr().out
    averaged = [v.numpy() for v in run.model.optimizer._model_variables_moving_average]
    for weight, average in zip(run.model.trainable_variables, averaged):
        np.testing.assert_array_equal(weight.numpy(), average)


def test_resuming_after_a_partial_epoch_ends_each_resumed_epoch_with_averaged_weights(corpus, tmp_path):
    train, dev = corpus
    cut = trainer(tmp_path / "m", epochs=5, max_minutes=0.0)
    cut.prepare(train, None)
    cut.fit(train, dev)  # 1 of 6 steps, then the time limit
    resumed = trainer(tmp_path / "m", epochs=2, resume=True)
    resumed.restore(train, None)
    assert int(resumed.model.optimizer.iterations.numpy()) == 6, "the partial epoch counts as a whole one"
    resumed.fit(train, dev)
    assert int(resumed.model.optimizer.iterations.numpy()) == 12
    averaged = [v.numpy() for v in resumed.model.optimizer._model_variables_moving_average]
    for weight, average in zip(resumed.model.trainable_variables, averaged):
        np.testing.assert_array_equal(weight.numpy(), average)


def test_refuses_to_overwrite_without_flag(tmp_path):
    (tmp_path / "m").mkdir()
    with pytest.raises(UsageError, match="already exists; pass --overwrite"):
        check_target(tmp_path / "m", resume=False, overwrite=False)
    check_target(tmp_path / "m", resume=False, overwrite=True)


def cli(*args: str):
    from typer.testing import CliRunner

    from ner_lstm.cli import app

    return CliRunner().invoke(app, list(args))


def train_sample(model, *options: str):
    """`ner-lstm train` on the sample's train/dev/test, without GloVe (fast)."""
    return cli("train", "--train", str(SAMPLE / "train.txt"), "--dev", str(SAMPLE / "dev.txt"),
               "--test", str(SAMPLE / "test.txt"), "--model", str(model), "--embeddings", "none", *options)


def test_no_evidence_trains_a_model_that_tags_without_it(tmp_path):
    model = tmp_path / "m"
    result = train_sample(model, "--epochs", "1", "--no-evidence")
    assert result.exit_code == 0, result.output
    assert "evidence" not in json.loads((model / "crf.json").read_text())
    assert "evidence:     none" in cli("info", "--model", str(model)).stdout
    assert cli("predict", "--model", str(model), "Major Tom met Ground Control.").exit_code == 0


def test_seeds_report_the_spread_and_keep_the_best_on_dev(tmp_path):
    model = tmp_path / "m"
    result = train_sample(model, "--epochs", "2", "--seeds", "3", "4")
    assert result.exit_code == 0, result.output
    assert json.loads((model / "vocab.json").read_text())["document_context"] is False, "off by default"
    assert "context:      the sentence only" in cli("info", "--model", str(model)).stdout
    assert [line.split(":")[0] for line in result.stdout.splitlines() if line.startswith("seed ")] == ["seed 3", "seed 4"]
    assert "dev F1 over 2 seeds:" in result.stdout and "test F1 over 2 seeds:" in result.stdout
    metrics = json.loads((model / "metrics.json").read_text())
    runs = metrics["seeds"]["runs"]
    assert [r["seed"] for r in runs] == [3, 4]
    best = max(runs, key=lambda r: r["dev_f1"])
    assert metrics["seeds"]["selected_seed"] == best["seed"] and metrics["dev"]["f1"] == best["dev_f1"]
    assert json.loads((model / "config.json").read_text())["training"]["seed"] == best["seed"]
    mean = sum(100 * r["test_f1"] for r in runs) / 2
    assert metrics["seeds"]["test_f1"]["mean"] == round(mean, 2)
    assert not list(tmp_path.glob(".m.*")), "no per-seed directories or checkpoints left behind"
    for bad, message in ((["--seeds", "1", "2", "--resume"], "cannot be combined with --seeds"),
                         (["--seeds", "1", "x"], "unexpected arguments: x")):
        refused = cli("train", "--train", str(SAMPLE / "train.txt"), "--model", str(tmp_path / "n"), "--embeddings", "none", *bad)
        assert refused.exit_code == 2 and message in refused.stderr, refused.output


def test_final_retrains_on_train_and_dev_for_the_epochs_chosen_on_dev(tmp_path):
    model = tmp_path / "m"
    result = train_sample(model, "--epochs", "4", "--patience", "1", "--final")
    assert result.exit_code == 0, result.output
    metrics = json.loads((model / "metrics.json").read_text())
    chosen = metrics["final"]["selected_epochs"]
    assert 1 <= chosen <= 4 and metrics["epoch"] == chosen and "dev" not in metrics and "test" in metrics
    selection_f1 = 100 * metrics["final"]["selection_dev"]["f1"]
    assert f"selected {chosen} epochs on dev (F1 {selection_f1:.2f})" in result.stdout
    assert f"epoch {chosen}: " in result.stdout and "(best, saved)" in result.stdout.split(f"epoch {chosen}: ")[1].splitlines()[0]
    log = [json.loads(line) for line in (model / "training.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in log] == list(range(1, chosen + 1)), "exactly the chosen epochs, never stopped early"
    assert all("dev_f1" not in h for h in log)
    config = json.loads((model / "config.json").read_text())
    sentences = sum(len(read_conll(SAMPLE / f"{part}.txt")) for part in ("train", "dev"))
    assert config["data"]["train"]["sentences"] == sentences and config["data"]["dev"]["sentences"] == 0
    assert f"trained on train + dev for the {chosen} epochs chosen on dev" in result.stdout
    assert not list(tmp_path.glob(".m.*")), "no selection run or checkpoint left behind"
    described = cli("info", "--model", str(model))
    assert f"final:        trained on train + dev for the {chosen} epochs chosen on dev (dev F1 {selection_f1:.2f} then)" \
        in described.stdout, described.output
    refused = cli("train", "--train", str(SAMPLE / "train.txt"), "--model", str(tmp_path / "n"), "--embeddings", "none",
                  "--final", "--resume")
    assert refused.exit_code == 2 and "cannot be combined with --final" in refused.stderr, refused.output


@pytest.mark.parametrize("style", ["wnut17", "wikiann"])
def test_other_corpus_styles_train_and_evaluate(tmp_path, style):
    """WNUT-17 (tweets, tab-separated, lowercase types with hyphens) and WikiANN (`en:` prefixed tokens,
    no -DOCSTART-, one-token sentences) train with the default recipe, language-model loss included."""
    if style == "wnut17":
        sentences = [[("@paul", "O"), ("loves", "O"), ("the", "O"), ("new", "O"), ("star", "B-creative-work"),
                      ("wars", "I-creative-work"), ("http://t.co/x", "O")],
                     [("apple", "B-corporation"), ("stock", "O"), ("up", "O"), ("in", "O"), ("nyc", "B-location")],
                     [("lol", "O")]]
        separator = "\t"
    else:
        sentences = [[("en:Paris", "B-LOC"), ("en:Saint-Germain", "I-LOC")],
                     [("en:Born", "O"), ("en:in", "O"), ("en:Oslo", "B-LOC"), ("en:,", "O"), ("en:Norway", "B-LOC")],
                     [("en:Acme", "B-ORG")], [("en:Ada", "B-PER"), ("en:Lovelace", "I-PER")]]
        separator = " "
    text = "\n\n".join("\n".join(f"{token}{separator}{tag}" for token, tag in s) for s in sentences * 6) + "\n"
    data = tmp_path / f"{style}.txt"
    data.write_text(text, "utf-8")
    model = tmp_path / "m"
    trained = cli("train", "--train", str(data), "--dev", str(data), "--model", str(model), "--embeddings", "none",
                  "--epochs", "2")
    assert trained.exit_code == 0, trained.output
    labels = json.loads((model / "config.json").read_text())["labels"]
    assert {tag[2:] for _, tag in sum(sentences, []) if tag != "O"} == {label[2:] for label in labels if label != "O"}
    scored = cli("evaluate", "--model", str(model), str(data), "--json")
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["support"] == 6 * sum(tag.startswith("B-") for _, tag in sum(sentences, []))
