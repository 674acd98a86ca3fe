"""Scores checked against figures computed by hand."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_lstm.data.corpus import spans
from ner_lstm.evaluation.scores import format_report, score


def test_hand_computed_scores():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-PER"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O", "O"]]
    # gold entities 4, predicted 3, correct 2 (PER 0-2, ORG 0-1): P 2/3, R 2/4, F1 4/7
    result = score(gold, pred)
    assert result["precision"] == pytest.approx(2 / 3, abs=1e-6)
    assert result["recall"] == pytest.approx(0.5)
    assert result["f1"] == pytest.approx(4 / 7, abs=1e-6)
    assert result["per_type"]["PER"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3, abs=1e-6),
                                         "support": 2}
    assert result["per_type"]["LOC"]["recall"] == 0.0
    assert result["per_type"]["ORG"]["precision"] == 0.5


def test_default_mode_is_lenient_about_stray_i_strict_is_not():
    gold = [["B-PER", "I-PER", "O"]]
    pred = [["I-PER", "I-PER", "O"]]
    result = score(gold, pred)
    assert result["f1"] == 1.0, "conlleval reads a stray I- as the start of an entity"
    assert result["strict"]["f1"] == 0.0, "strict IOB2 rejects an entity that starts with I-"
    assert "strict f1" in format_report(result)


@pytest.mark.parametrize("tags, expected", [
    (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 2), ("LOC", 3, 4)]),
    (["I-PER", "B-PER", "I-LOC"], [("PER", 0, 1), ("PER", 1, 2), ("LOC", 2, 3)]),
    (["O", "O"], []),
    (["B-ORG", "I-ORG", "I-ORG"], [("ORG", 0, 3)]),
])
def test_spans(tags, expected):
    assert spans(tags) == expected


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]), max_size=12))
def test_spans_are_seqevals_entities_on_any_iob_tags(tags):
    from seqeval.metrics.sequence_labeling import get_entities

    assert spans(tags) == [(label, first, last + 1) for label, first, last in get_entities(tags)]


def test_joined_tokens_offsets_slice_back():
    from ner_lstm.data.corpus import join_tokens

    text, offsets = join_tokens(["Major", "Tom", "", "😀"])
    assert text == "Major Tom  😀"
    assert [text[a:b] for a, b in offsets] == ["Major", "Tom", "", "😀"]
