"""Distillation: the teachers' posteriors as stored and read, the student's run, its record, resume."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import SAMPLE

from ner_lstm.data.corpus import read_conll
from ner_lstm.errors import UsageError
from ner_lstm.inference.tagger import Tagger
from ner_lstm.model.network import ModelConfig
from ner_lstm.model.vocab import Vocab
from ner_lstm.training.corpora import Corpora
from ner_lstm.training.distill import distill_seeds, teachers_dir
from ner_lstm.training.posteriors import ensemble_tags, store_posteriors, teacher_posteriors
from ner_lstm.training.train import Trainer, TrainOptions, checkpoint_dir, epoch_batches, singleton_ids

TINY = ModelConfig(embeddings="none", word_dim=8, char_dim=8, char_filters=8, case_dim=4, lstm_units=8)


@pytest.fixture(scope="module")
def corpora():
    return Corpora(read_conll(SAMPLE / "train.txt")[:96], read_conll(SAMPLE / "dev.txt")[:40],
                   read_conll(SAMPLE / "test.txt")[:40], {"train": "train", "dev": "dev", "test": "test"})


def options(**kwargs) -> TrainOptions:
    return TrainOptions(**{"epochs": 1, "batch_size": 16, "verbose": 0, "model": TINY, **kwargs})


@pytest.fixture(scope="module")
def distilled(corpora, tmp_path_factory):
    """Two teachers (seeds 3 and 4) and a student (seed 5), one epoch each."""
    model = tmp_path_factory.mktemp("distilled") / "m"
    summary = distill_seeds(corpora, model, options(seed=5, distill_weight=0.5, distill_temperature=2.0), [3, 4])
    return model, summary


def test_stored_posteriors_are_the_teachers_average_read_back_per_batch(distilled, corpora, tmp_path):
    model, _ = distilled
    teachers = [str(teachers_dir(model) / f"seed{seed}") for seed in (3, 4)]
    train = corpora.train
    labels = Tagger.load(teachers[0]).vocab.labels[::-1]  # any order of the same labels
    stored = store_posteriors(teachers, train, labels, 2.0, tmp_path)
    assert isinstance(stored.table, np.memmap) and stored.table.dtype == np.float16
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posteriors.npy"], "the running sum is removed"
    each = [dict(teacher_posteriors(t, train, labels, 2.0)) for t in teachers]
    assert len(each[0]) == sum(1 for s in train if len(s))
    indices = [0, 5, 17]
    grid = stored.padded(indices, 60)
    for row, index in enumerate(indices):
        n = len(train[index])
        expected = (each[0][index] + each[1][index]) / 2
        np.testing.assert_allclose(grid[row, :n], expected, atol=2e-3)
        np.testing.assert_allclose(grid[row, :n].sum(axis=1), 1.0, atol=5e-3)
        assert not grid[row, n:].any()
    hotter = dict(teacher_posteriors(teachers[0], train, labels, 4.0))
    assert hotter[0].max() < each[0][0].max(), "a higher temperature flattens the posteriors"


def test_epoch_batches_pack_labels_and_the_teachers_posteriors(distilled, corpora, tmp_path):
    model, _ = distilled
    train = corpora.train
    vocab = Vocab.build(train, None)
    stored = store_posteriors([str(teachers_dir(model) / "seed3")], train, vocab.labels, 1.0, tmp_path)
    plain = list(epoch_batches(train, vocab, options(), 0, None, singleton_ids(train, vocab)))
    packed = list(epoch_batches(train, vocab, options(), 0, None, singleton_ids(train, vocab), stored))
    assert len(plain) == len(packed)
    for (_, labels), (_, targets) in zip(plain, packed):
        assert targets.shape == (*labels.shape, 1 + len(vocab.labels))
        np.testing.assert_array_equal(targets[:, :, 0], labels)
        real = labels >= 0
        np.testing.assert_allclose(targets[:, :, 1:].sum(axis=2)[real], 1.0, atol=5e-3)
        assert not targets[:, :, 1:][~real].any()


def test_the_student_records_its_teachers_and_their_ensemble(distilled, corpora):
    model, summary = distilled
    metrics = json.loads((model / "metrics.json").read_text())
    record = metrics["distillation"]
    assert [t["seed"] for t in record["teachers"]] == [3, 4]
    for teacher in record["teachers"]:
        own = json.loads((teachers_dir(model) / f"seed{teacher['seed']}" / "metrics.json").read_text())
        assert teacher["dev_f1"] == own["dev"]["f1"] and teacher["test_f1"] == own["test"]["f1"]
        assert teacher["minutes"] > 0
    assert (record["weight"], record["temperature"]) == (0.5, 2.0)
    assert 0 <= record["ensemble_dev_f1"] <= 1
    assert metrics["dev"]["f1"] == summary["best_dev_f1"] and "test" in metrics
    config = json.loads((model / "config.json").read_text())["training"]
    assert config["seed"] == 5 and len(config["teachers"]) == 2
    assert not list(model.parent.glob(".m.*")), "no posteriors or checkpoints left behind"
    tagged = Tagger.load(model).tag(corpora.dev[:3])
    assert [len(t.tags) for t in tagged] == [len(s) for s in corpora.dev[:3]]


def test_ensemble_of_one_teacher_tags_as_that_teacher_decodes(distilled, corpora):
    model, _ = distilled
    teacher = Tagger.load(teachers_dir(model) / "seed3")
    dev = [s for s in corpora.dev if len(s)]
    own = [t.tags for t in teacher.tag(dev, scores=False)]
    alone = ensemble_tags([str(teachers_dir(model) / "seed3")], dev, teacher.vocab)
    # Max-marginal decoding may differ from Viterbi on a few tokens; on most sentences it agrees.
    assert sum(a == b for a, b in zip(alone, own)) >= 0.9 * len(dev)


def test_teachers_with_other_labels_are_refused(distilled, corpora, tmp_path):
    model, _ = distilled
    labels = [*Tagger.load(teachers_dir(model) / "seed3").vocab.labels, "S-WEAPON"]
    with pytest.raises(UsageError, match="teachers must be trained on the same labels"):
        store_posteriors([str(teachers_dir(model) / "seed3")], corpora.train, labels, 1.0, tmp_path)


def test_resume_keeps_finished_teachers_and_continues_the_student(distilled, corpora, tmp_path, monkeypatch):
    model = tmp_path / "m"
    shutil.copytree(teachers_dir(distilled[0]), teachers_dir(model))  # teachers finished, no student yet
    original = Trainer.end_epoch

    def killed_after_the_students_first_epoch(self, *args):
        stop = original(self, *args)
        if self.model_dir == model and self.state["epoch"] == 1:
            raise RuntimeError("killed")
        return stop

    monkeypatch.setattr(Trainer, "end_epoch", killed_after_the_students_first_epoch)
    with pytest.raises(RuntimeError, match="killed"):
        distill_seeds(corpora, model, options(epochs=2, seed=5, resume=True), [3, 4])
    monkeypatch.setattr(Trainer, "end_epoch", original)
    assert checkpoint_dir(model).is_dir() and not (tmp_path / ".m.posteriors").exists()
    teacher_files = {p: p.stat().st_mtime_ns for p in teachers_dir(model).rglob("*") if p.is_file()}

    with pytest.raises(UsageError, match="--distill-weight 1.0, this one 0.5"):
        distill_seeds(corpora, model, options(epochs=2, seed=5, resume=True, distill_weight=0.5), [3, 4])
    summary = distill_seeds(corpora, model, options(epochs=2, seed=5, resume=True), [3, 4])
    assert summary["epochs"] == 2
    log = [json.loads(line) for line in (model / "training.jsonl").read_text().splitlines()]
    assert [entry["epoch"] for entry in log] == [1, 2]
    assert {p: p.stat().st_mtime_ns for p in teachers_dir(model).rglob("*") if p.is_file()} == teacher_files
    assert not checkpoint_dir(model).exists()


def cli(*args: str):
    from typer.testing import CliRunner

    from ner_lstm.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_distils_from_given_teachers_and_info_shows_them(distilled, corpora, tmp_path):
    model, _ = distilled
    teachers = [str(teachers_dir(model) / f"seed{seed}") for seed in (3, 4)]
    student = tmp_path / "student"
    train = tmp_path / "train.txt"  # the teachers' training data, whose labels they know
    train.write_text("".join("".join(f"{token} {tag}\n" for token, tag in zip(s.tokens, s.tags)) + "\n"
                             for s in corpora.train))
    result = cli("train", "--train", str(train), "--dev", str(SAMPLE / "dev.txt"), "--model",
                 str(student), "--embeddings", "none", "--epochs", "1", "--teachers", *teachers)
    assert result.exit_code == 0, result.output
    assert "the 2 teachers' ensemble: dev F1" in result.stdout and "student (seed 42)" in result.stdout
    info = cli("info", "--model", str(student)).stdout
    assert "distilled:    from 2 teachers (seed 3 dev F1" in info and "weight 1, temperature 1" in info


@pytest.mark.parametrize("arguments, message", [
    (["--distill"], "--distill needs teachers"),
    (["--distill", "--seeds", "1", "2", "--final"], "--final cannot be combined with distillation"),
    (["--teachers", "a", "--seeds", "1"], "give one of them"),
    (["--distill", "--seeds", "1", "1"], "two or more different --seeds"),
])
def test_cli_refuses_distillation_it_cannot_do(tmp_path, arguments, message):
    result = cli("train", "--train", str(SAMPLE / "train.txt"), "--model", str(tmp_path / "m"),
                 "--embeddings", "none", *arguments)
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_cli_names_a_teacher_that_is_not_a_model(tmp_path):
    result = cli("train", "--train", str(SAMPLE / "train.txt"), "--model", str(tmp_path / "m"),
                 "--embeddings", "none", "--teachers", str(tmp_path / "nothing"))
    assert result.exit_code != 0 and str(tmp_path / "nothing") in result.stderr
    assert "Traceback" not in result.output
