"""The Hugging Face path, exercised on local parquet files through the same `datasets` calls."""
from __future__ import annotations

import pytest

datasets = pytest.importorskip("datasets")

from ner_lstm.data.sources import load_hub_dataset, sentences_from_dataset  # noqa: E402
from ner_lstm.errors import InputError  # noqa: E402

NAMES = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]  # deliberately not CoNLL-2003's order


def make_split(rows):
    features = datasets.Features({
        "tokens": datasets.Sequence(datasets.Value("string")),
        "ner_tags": datasets.Sequence(datasets.ClassLabel(names=NAMES)),
    })
    return datasets.Dataset.from_dict(
        {"tokens": [r[0] for r in rows], "ner_tags": [r[1] for r in rows]}, features=features)


def test_local_parquet_dataset_reads_label_names_from_features(tmp_path):
    make_split([(["Ada", "Lovelace", "visited", "Paris"], [1, 2, 0, 3])]).to_parquet(str(tmp_path / "train.parquet"))
    make_split([(["Tom", "left"], [1, 0])]).to_parquet(str(tmp_path / "validation.parquet"))
    splits = load_hub_dataset(str(tmp_path))
    assert set(splits) == {"train", "validation"}
    sentences = sentences_from_dataset(splits["train"], name="local[train]")
    assert sentences[0].tokens == ["Ada", "Lovelace", "visited", "Paris"]
    assert sentences[0].tags == ["B-PER", "I-PER", "O", "B-LOC"]


def test_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="could not load dataset"):
        load_hub_dataset(str(tmp_path / "nothing-here"))


def test_dataset_without_token_column(tmp_path):
    split = datasets.Dataset.from_dict({"words": [["a"]]})
    with pytest.raises(InputError, match="has no column 'tokens'"):
        sentences_from_dataset(split, name="x")


def write_local_dataset(folder, rows_per_split: int = 40):
    rows = [(["Ada", "Lovelace", "visited", "Paris"], [1, 2, 0, 3]), (["Tom", "left", "Oslo"], [1, 0, 3])]
    for split in ("train", "validation", "test"):
        make_split(rows * (rows_per_split // 2)).to_parquet(str(folder / f"{split}.parquet"))
    return folder


def test_cli_trains_scores_and_tags_a_local_dataset(tmp_path):
    import json

    from typer.testing import CliRunner

    from ner_lstm.cli import app

    data = write_local_dataset(tmp_path)
    model = tmp_path / "model"
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "--dataset", str(data), "--model", str(model), "--epochs", "1",
                                  "--embeddings", "none"])
    assert trained.exit_code == 0, trained.output
    info = json.loads((model / "config.json").read_text())
    assert info["data"]["train"]["sentences"] == 40 and info["data"]["dev"]["source"].endswith("[validation]")
    assert "test" in json.loads((model / "metrics.json").read_text())
    scored = runner.invoke(app, ["evaluate", "--model", str(model), "--dataset", str(data), "--json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["support"] == 80
    tagged = runner.invoke(app, ["tag", "--model", str(model), "--dataset", str(data), "--split", "validation"])
    assert tagged.exit_code == 0, tagged.output
    records = [json.loads(line) for line in tagged.stdout.splitlines()]
    assert len(records) == 40 and records[0]["tokens"] == ["Ada", "Lovelace", "visited", "Paris"]
    assert records[0]["ner_tags"] == [1, 2, 0, 3], "other columns pass through"
    missing = runner.invoke(app, ["evaluate", "--model", str(model), "--dataset", str(data), "--split", "dev"])
    assert missing.exit_code == 2 and "has no split 'dev'" in missing.stderr
