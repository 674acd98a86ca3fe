"""One sentence gets one answer: alone or in batches of any size, any window, one or two workers, ONNX or Keras.
Also the library's edge cases: empty sentences and batches of them."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import write

from ner_lstm.data.corpus import Sentence, read_conll
from ner_lstm.engines import local
from ner_lstm.inference.tagger import Tagger

LONG = Sentence("Dr. Grace Hopper of the United States Navy met Ada Lovelace , Charles Babbage and "
                "Alan Turing at the Science Museum in London on Monday .".split())


@pytest.fixture(scope="module")
def sentences(sample):
    found = read_conll(sample / "test.txt")
    return found + [LONG, Sentence(["x" * 40, "Oslo"]), Sentence(["Tom"])]


def results(tagger: Tagger, sentences: list[Sentence], batch_size: int):
    tagger.batch_size = batch_size
    tagged = tagger.tag(sentences)
    return [t.tags for t in tagged], [np.array(t.confidence) for t in tagged]


def assert_same(expected, actual, tolerance: float) -> None:
    assert actual[0] == expected[0], "identical tags"
    for left, right in zip(expected[1], actual[1]):
        np.testing.assert_allclose(left, right, rtol=0, atol=tolerance)


@pytest.mark.parametrize("backend", ["onnx", "keras"])
def test_a_sentence_alone_or_in_any_batch_gets_the_same_tags_and_scores(trained_model, sentences, backend):
    tagger = Tagger.load(trained_model, backend=backend)
    alone = [tagger.tag([s])[0] for s in sentences]
    reference = ([t.tags for t in alone], [np.array(t.confidence) for t in alone])
    for batch_size in (1, 3, 32, 256):
        assert_same(reference, results(tagger, sentences, batch_size), 1e-5)


def test_onnx_and_keras_agree(trained_model, sentences):
    onnx = results(Tagger.load(trained_model, backend="onnx"), sentences, 256)
    keras_results = results(Tagger.load(trained_model, backend="keras"), sentences, 7)
    assert_same(onnx, keras_results, 1e-4)


def test_the_longest_word_in_a_batch_changes_nothing(trained_model):
    """The defect behind the review: padded characters reached the char CNN's window."""
    tagger = Tagger.load(trained_model)
    short = Sentence(["Ada", "met", "Tom", "in", "Oslo"])
    alone = tagger.tag([short])[0]
    beside_long_word = tagger.tag([short, Sentence(["Pneumonoultramicroscopicsilicovolcanoconiosis"])])[0]
    assert beside_long_word.tags == alone.tags
    np.testing.assert_allclose(beside_long_word.confidence, alone.confidence, rtol=0, atol=1e-5)


def tagged_records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_windows_workers_and_batch_sizes_give_the_same_output(trained_model, sample, tmp_path, monkeypatch):
    runs = {}
    for window, workers, batch_size in [(None, 1, 256), (60, 1, 1), (60, 2, 256), (200, 2, 5)]:
        monkeypatch.setattr(local, "WINDOW_TOKENS", window or 50_000)
        out = tmp_path / f"w{window}-{workers}-{batch_size}.jsonl"
        spec = local.ModelSpec(str(trained_model), batch_size=batch_size)
        local.tag_files(spec, [str(sample / "test.txt")], out, "conll", "jsonl", workers=workers)
        runs[(window, workers, batch_size)] = tagged_records(out)
    reference = runs.pop((None, 1, 256))
    for records in runs.values():
        assert [r["id"] for r in records] == [r["id"] for r in reference], "input order"
        assert [r["tags"] for r in records] == [r["tags"] for r in reference]
        for left, right in zip(reference, records):
            assert [e["score"] for e in left["entities"]] == pytest.approx([e["score"] for e in right["entities"]],
                                                                           abs=1.5e-4)  # scores are rounded to 4 places


def test_empty_sentences_and_batches(trained_model):
    tagger = Tagger.load(trained_model)
    assert tagger.tag([]) == []
    empty = tagger.tag([Sentence([]), Sentence([])])
    assert [(t.tags, t.confidence, t.entities) for t in empty] == [([], [], []), ([], [], [])]
    mixed = tagger.tag([Sentence([]), Sentence(["Major", "Tom"]), Sentence([])])
    assert [len(t.tags) for t in mixed] == [0, 2, 0]
    assert tagger.predict_tags([]) == []
    assert tagger.predict("   ") == [] and tagger.entities("") == []


def test_dataset_rows_without_tokens(trained_model, tmp_path):
    datasets = pytest.importorskip("datasets")
    rows = datasets.Dataset.from_dict({"tokens": [[], ["Major", "Tom"], []], "n": [1, 2, 3]})
    tagged = Tagger.load(trained_model).tag_dataset(rows)
    assert [len(t) for t in tagged["pred_tags"]] == [0, 2, 0]
    assert tagged["entities"][0] == []
    out = tmp_path / "out.jsonl"
    local.tag_dataset_split(local.ModelSpec(str(trained_model)), rows, "rows", out, "jsonl")
    records = tagged_records(out)
    assert [r["id"] for r in records] == [1, 2, 3] and records[0]["tags"] == [] and records[0]["n"] == 1


def test_text_records_are_not_cut_into_sentences_when_they_are_one(trained_model, tmp_path):
    path = write(tmp_path / "a.txt", "10. Johan Capiot (Belgium) Collstrop all same time\n")
    out = tmp_path / "a.jsonl"
    local.tag_files(local.ModelSpec(str(trained_model)), [str(path)], out, "text", "jsonl")
    record = tagged_records(out)[0]
    assert record["tokens"][:3] == ["10.", "Johan", "Capiot"] and "(" in record["tokens"]
