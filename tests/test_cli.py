"""End to end through the CLI: train a tiny model on the sample corpus, then score, describe and tag with it."""
from __future__ import annotations

import hashlib
import json

import pytest
from conftest import write
from typer.testing import CliRunner

from ner_lstm.cli import app

MAJOR_TOM = "Major Tom is a great battle commander."


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def assert_clean_error(result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ner-lstm: error: "), result.stderr
    assert "Traceback" not in result.output + result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_train_writes_a_complete_model_directory(trained_model):
    names = {p.name for p in trained_model.iterdir()}
    assert {"model.keras", "config.json", "vocab.json", "metrics.json", "training.jsonl", "training.png"} <= names
    metrics = json.loads((trained_model / "metrics.json").read_text())
    assert {"dev", "test", "epoch"} <= set(metrics)
    log = [json.loads(line) for line in (trained_model / "training.jsonl").read_text().splitlines()]
    assert [entry["epoch"] for entry in log] == list(range(1, 9))
    assert (trained_model / "training.png").read_bytes()[:4] == b"\x89PNG"
    assert not (trained_model.parent / f".{trained_model.name}.checkpoint").exists()
    assert metrics["test"]["f1"] > 0.5, "even a tiny model learns the sample corpus's names"


def test_predict_inline_json_and_conll(trained_model):
    inline = run("predict", "--model", str(trained_model), MAJOR_TOM)
    assert inline.exit_code == 0, inline.output
    assert "[Major Tom](PER)" in inline.stdout
    as_json = run("predict", "--model", str(trained_model), "--format", "json", MAJOR_TOM + " He flew to Paris.")
    record = json.loads(as_json.stdout)
    assert record["tokens"][-4:] == ["He", "flew", "to", "Paris"] or record["tokens"][-5:-1] == ["He", "flew", "to", "Paris"]
    assert len(record["tags"]) == len(record["tokens"]) == len(record["offsets"])
    for entity in record["entities"]:
        assert record["text"][entity["start"]:entity["end"]] == entity["text"]
        assert 0.0 < entity["score"] <= 1.0
    conll = run("predict", "--model", str(trained_model), "--format", "conll", MAJOR_TOM)
    rows = [line.split("\t") for line in conll.stdout.strip().splitlines()]
    assert rows[0] == ["Major", "B-PER"] and rows[1] == ["Tom", "I-PER"] and rows[-1] == [".", "O"]


def test_library_api_mirrors_the_cli(trained_model):
    from ner_lstm import Tagger

    entities = Tagger.load(trained_model).entities(MAJOR_TOM)
    assert [(e.label, e.text, e.start, e.end) for e in entities][0] == ("PER", "Major Tom", 0, 9)


def test_evaluate_json_and_table(trained_model, sample):
    result = run("evaluate", "--model", str(trained_model), str(sample / "test.txt"), "--json")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert {"f1", "precision", "recall", "per_type", "strict"} <= set(scores)
    stored = json.loads((trained_model / "metrics.json").read_text())["test"]
    assert scores["f1"] == stored["f1"], "evaluate and train --test score the same way"
    table = run("evaluate", "--model", str(trained_model), str(sample / "test.txt"))
    assert "overall" in table.stdout and "conlleval" in table.stdout


def test_evaluate_warns_about_labels_the_model_never_saw(trained_model, tmp_path):
    path = write(tmp_path / "gold.txt", "Tom B-PER\nsings O\nOpera B-ART\n")
    result = run("evaluate", "--model", str(trained_model), str(path), "--json")
    assert result.exit_code == 0, result.output
    assert "warning" in result.stderr and "B-ART" in result.stderr
    assert json.loads(result.stdout)["per_type"]["ART"]["recall"] == 0.0


def test_info(trained_model):
    result = run("info", "--model", str(trained_model))
    assert result.exit_code == 0, result.output
    assert "B-PER" in result.stdout and "dev F1" in result.stdout and "keras" in result.stdout
    assert "context:      each word's case elsewhere in its document" in result.stdout
    assert "evidence:     other mentions' predicted types in the document" in result.stdout
    described = json.loads(run("info", "--model", str(trained_model), "--json").stdout)
    assert described["vocabulary"]["glove_words"] == 400000 and described["network"]["document_context"] is True
    assert described["network"]["evidence"] is True
    assert set(described["versions"]) == {"ner_lstm", "keras", "tensorflow", "python"}, "the Keras backend's version"
    evidence_map = json.loads((trained_model / "crf.json").read_text())["evidence"]
    assert len(evidence_map) == 1 + 4 + 1 and len(evidence_map[0]) == len(described["labels"]), \
        "(O and 4 types, and the flag) x the model's labels"
    assert any(any(row) for row in evidence_map), "trained away from its zero start"


def test_missing_model_is_a_one_line_error(tmp_path):
    assert_clean_error(run("predict", "--model", str(tmp_path / "nope"), MAJOR_TOM), 2, "no model here")


def test_empty_text_is_refused(trained_model):
    assert_clean_error(run("predict", "--model", str(trained_model), "  \n "), 2, "nothing to tag")


def test_train_refuses_to_overwrite_a_model(trained_model, sample):
    before = hashlib.sha256((trained_model / "model.keras").read_bytes()).hexdigest()
    result = run("train", "--train", str(sample / "train.txt"), "--model", str(trained_model))
    assert_clean_error(result, 2, "already exists", "--overwrite")
    assert hashlib.sha256((trained_model / "model.keras").read_bytes()).hexdigest() == before


@pytest.mark.parametrize("content, fragment", [
    ("Tom B-PER\nsings\n", "bad.txt:2: expected at least 2 columns"),
    ("Tom PERSON\n", "bad.txt:1: tag 'PERSON' fits no scheme"),
])
def test_bad_training_file_names_file_and_line(tmp_path, content, fragment):
    path = write(tmp_path / "bad.txt", content)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    result = run("train", "--train", str(path), "--model", str(tmp_path / "m"))
    assert_clean_error(result, 2, fragment)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert not (tmp_path / "m").exists()


def test_train_needs_exactly_one_data_source(tmp_path):
    assert_clean_error(run("train", "--model", str(tmp_path / "m")), 2, "--train FILE or --dataset ID")


def test_help_for_every_command():
    for command in ("train", "evaluate", "predict", "info"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "--model" in result.stdout


def test_help_names_the_extras_and_rewraps_paragraphs():
    """Square brackets are not style tags ('needs ner-lstm[ray]' once printed 'needs ner-lstm'), and a
    docstring's line breaks are not kept (a sentence broken in the source read broken on a terminal)."""
    from typer.testing import CliRunner

    from ner_lstm.cli import app

    result = CliRunner().invoke(app, ["tag", "--help"], env={"COLUMNS": "200"})
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "ner-lstm[ray]" in text and "ner-lstm[parquet]" in text
    assert "each input is cut into shards tagged by a pool of Ray actors; --resume skips the shards" in text
    first = [line for line in result.stdout.splitlines() if "Outputs are written" in line]
    assert first and "With --engine ray" in first[0], "the docstring's next line joined on, at 200 columns"


def test_each_command_names_what_it_sets_and_the_old_workers_spelling_warns(trained_model, tmp_path):
    from typer.testing import CliRunner

    from ner_lstm.cli import app

    runner = CliRunner()
    threads = runner.invoke(app, ["predict", "--model", str(trained_model), "--threads", "1", "Major Tom"])
    old = runner.invoke(app, ["predict", "--model", str(trained_model), "--workers", "1", "Major Tom"])
    assert threads.exit_code == old.exit_code == 0 and threads.stdout == old.stdout
    assert "--threads" not in threads.stderr
    assert old.stderr.strip() == "ner-lstm: warning: --workers is now --threads; the old name will go"
    source = tmp_path / "in.txt"
    source.write_text("Major Tom flew to Paris .\n")
    tagged = runner.invoke(app, ["tag", "--model", str(trained_model), str(source), "--workers", "1"])
    assert tagged.exit_code == 0 and "--workers is now --processes" in tagged.stderr
    both = runner.invoke(app, ["tag", "--model", str(trained_model), str(source), "--workers", "1", "--processes", "1"])
    assert both.exit_code == 2 and "--workers is the old name of --processes" in both.stderr
    local = runner.invoke(app, ["tag", "--model", str(trained_model), str(source), "--actors", "2"])
    assert local.exit_code == 2 and "are for --engine ray" in local.stderr
    assert "--workers" not in runner.invoke(app, ["tag", "--help"]).stdout, "the old name is not advertised"
