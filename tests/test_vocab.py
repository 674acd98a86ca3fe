from __future__ import annotations

import json

import numpy as np
import pytest

from ner_lstm.data.corpus import Sentence
from ner_lstm.model.glove import GloveTable
from ner_lstm.model.vocab import CASE_IDS, UNK, Vocab, case_of, normalise


@pytest.mark.parametrize("word, case", [
    ("tom", "lower"), ("NASA", "upper"), ("Tom", "title"), ("1996", "numeric"), ("F-16", "has_digit"),
    (",", "punct"), ("McDonald", "other"), ("O'Neil", "other"), ("I", "upper"), ("A.", "upper"), ("Mr.", "title"),
])
def test_case_classes(word, case):
    assert case_of(word) == CASE_IDS[case]


def test_normalise_folds_case_and_digits():
    assert normalise("Route66") == "route00"


def make_vocab():
    sentences = [Sentence(["Tom", "flew", "to", "Mars", "in", "1969"], ["B-PER", "O", "O", "B-LOC", "O", "O"]),
                 Sentence(["Ground", "Control"], ["B-ORG", "I-ORG"])]
    words = ["the", "tom", "mars", "0000", "venus", "pneumonoultramicroscopic"]
    return Vocab.build(sentences, GloveTable.from_words(words, np.arange(12, dtype=np.float32).reshape(6, 2)))


def test_build_ids_and_labels():
    vocab = make_vocab()
    assert vocab.labels == ["O", "S-LOC", "B-ORG", "E-ORG", "S-PER"], "BIOES inside the model"
    assert vocab.tags_of([1, 2, 3]) == ["B-LOC", "B-ORG", "I-ORG"]
    assert vocab.word_id("TOM") == vocab.word_id("tom") != UNK
    assert vocab.word_id("venus") == UNK
    ids = vocab.glove_ids(["Venus", "2001", "Pneumonoultramicroscopic", "zyzzyva", "venu", "venuss", "", "THE"])
    vectors = vocab.glove.lookup(ids)
    assert vectors[0].tolist() == [8, 9], "a GloVe word unseen in training keeps its pretrained row"
    assert vectors[1].tolist() == [6, 7], "numbers fall back to their digit-folded form"
    assert vectors[2].tolist() == [10, 11], "a word longer than the fixed-width array is found too"
    assert ids[3:7].tolist() == [UNK] * 4 and vectors[3:7].tolist() == [[0, 0]] * 4
    assert vectors[7].tolist() == [0, 1], "GloVe is lowercased"
    assert vocab.glove.lookup(np.array([0, UNK])).tolist() == [[0, 0], [0, 0]], "padding and unknown get zeros"
    assert vocab.char_ids("Tø") == [vocab.char_index["T"], UNK]


def test_json_round_trip():
    vocab = make_vocab()
    again = Vocab.from_json(json.loads(json.dumps(vocab.to_json())), vocab.glove)
    assert again.to_json() == vocab.to_json()
    assert again.glove_ids(["mars"]).tolist() == vocab.glove_ids(["mars"]).tolist() != [UNK]


def test_glove_table_saved_and_memory_mapped(tmp_path):
    vocab = make_vocab()
    vocab.glove.save(tmp_path)
    loaded = GloveTable.load(tmp_path)
    assert isinstance(loaded.short, np.memmap) and isinstance(loaded.vectors, np.memmap)
    words = ["the", "Tom", "1969", "pneumonoultramicroscopic", "x"]
    again = Vocab.from_json(vocab.to_json(), loaded)
    ids = again.glove_ids(words)
    assert ids.tolist() == vocab.glove_ids(words).tolist()
    np.testing.assert_array_equal(loaded.lookup(ids), vocab.glove.lookup(ids))
    assert loaded.lookup(ids)[:, 0].tolist() == [0, 2, 6, 10, 0]


def test_unseen_labels():
    vocab = make_vocab()
    assert vocab.unseen_labels([Sentence(["x", "y"], ["B-MISC", "B-PER"])]) == {"B-MISC"}


def test_token_rows_match_the_per_token_ids():
    vocab = make_vocab()
    tokens = ["Tom", "flew", "", "Tom", "x" * 30, "1969", "Mars"]
    first = vocab.token_rows(tokens)
    assert first.tolist() == vocab.token_rows(tokens).tolist(), "cached rows equal fresh ones"
    assert first[:, 0].tolist() == [vocab.word_id(t) for t in tokens]
    assert first[:, 1].tolist() == [case_of(t) for t in tokens]
    assert first[:, 2].tolist() == vocab.glove_ids(tokens).tolist()
    assert first[2, 3:].tolist() == [UNK] + [0] * 19, "an empty token has one unknown character"
    assert first[4, 3:].tolist() == [vocab.char_index.get("x", UNK)] * 20, "long words keep 20 characters"
    assert first[0, 3:6].tolist() == vocab.char_ids("Tom") and not first[0, 6:].any()
