"""The Hugging Face path, exercised on local parquet files through the same `datasets` calls."""
from __future__ import annotations

import pytest

datasets = pytest.importorskip("datasets")

from ner_lstm.corpus import load_hub_dataset, sentences_from_dataset  # noqa: E402
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
