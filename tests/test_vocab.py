from __future__ import annotations

import json

import pytest

from ner_lstm.data.corpus import Sentence
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
    return Vocab.build(sentences, glove_words=["the", "tom", "mars", "0000", "venus"])


def test_build_ids_and_labels():
    vocab = make_vocab()
    assert vocab.labels == ["O", "S-LOC", "B-ORG", "E-ORG", "S-PER"], "BIOES inside the model"
    assert vocab.tags_of([1, 2, 3]) == ["B-LOC", "B-ORG", "I-ORG"]
    assert vocab.word_id("TOM") == vocab.word_id("tom") != UNK
    assert vocab.word_id("venus") == UNK
    assert vocab.glove_id("Venus") == 2 + 4, "a GloVe word unseen in training keeps its pretrained row"
    assert vocab.glove_id("2001") == 2 + 3, "numbers fall back to their digit-folded form"
    assert vocab.glove_id("zyzzyva") == UNK
    assert vocab.char_ids("Tø") == [vocab.char_index["T"], UNK]


def test_json_round_trip():
    vocab = make_vocab()
    again = Vocab.from_json(json.loads(json.dumps(vocab.to_json())))
    assert again.to_json() == vocab.to_json()
    assert again.glove_id("mars") == vocab.glove_id("mars")


def test_unseen_labels():
    vocab = make_vocab()
    assert vocab.unseen_labels([Sentence(["x", "y"], ["B-MISC", "B-PER"])]) == {"B-MISC"}
