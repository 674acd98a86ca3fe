"""Other mentions' evidence: grouping by document and word, the mean of the others, decoding with it."""
from __future__ import annotations

import numpy as np
import pytest

from ner_lstm.data.corpus import Sentence
from ner_lstm.data.documents import mark_document
from ner_lstm.errors import ModelError
from ner_lstm.inference.tagger import Tagger
from ner_lstm.model.evidence import evidence, evidence_width, mention_groups, type_map
from ner_lstm.model.vocab import Vocab

LABELS = ["O", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "B-ORG", "I-ORG", "E-ORG", "S-ORG"]


def document(*token_lists: list[str]) -> list[Sentence]:
    sentences = [Sentence(tokens) for tokens in token_lists]
    mark_document(sentences)
    return sentences


def one_hot(label: str, words: int = 1) -> np.ndarray:
    """Emissions that make `label` (nearly) certain."""
    scores = np.full((words, len(LABELS)), -20.0, np.float32)
    scores[:, LABELS.index(label)] = 20.0
    return scores


def test_type_map_groups_bioes_labels_by_type():
    table = type_map(LABELS)
    assert table.shape == (9, 3) and evidence_width(LABELS) == 4
    assert table[LABELS.index("O")].tolist() == [1, 0, 0]
    assert all(table[LABELS.index(f"{p}-LOC")].tolist() == [0, 1, 0] for p in "BIES")
    assert all(table[LABELS.index(f"{p}-ORG")].tolist() == [0, 0, 1] for p in "BIES")


def test_groups_are_one_word_in_one_document_whatever_its_case():
    first = document(["Japan", "beat", "Syria"], ["JAPAN", "won", "2-1", "."])
    second = document(["Japan", "exports"])
    groups, count = mention_groups(first + second)
    japan, beat, syria, japan_caps, won, score, stop, japan_other, exports = groups.tolist()
    assert japan == japan_caps and japan_other != japan, "the same word, but only within a document"
    assert score == stop == -1, "tokens without a letter never count"
    assert len({japan, beat, syria, won, japan_other, exports}) == 6 == count


def test_a_token_gets_the_mean_of_its_words_other_mentions_and_never_its_own():
    sentences = document(["Japan", "won"], ["Japan", "lost"], ["in", "Japan"])
    emissions = [np.concatenate([one_hot("S-ORG"), one_hot("O")]),
                 np.concatenate([one_hot("S-LOC"), one_hot("O")]),
                 np.concatenate([one_hot("O"), one_hot("S-LOC")])]
    first, second, third = evidence(sentences, emissions, type_map(LABELS))
    np.testing.assert_allclose(first[0], [0, 1, 0, 1], atol=1e-6)  # both others say LOC
    np.testing.assert_allclose(second[0], [0, 0.5, 0.5, 1], atol=1e-6)  # one ORG, one LOC
    np.testing.assert_allclose(third[1], [0, 0.5, 0.5, 1], atol=1e-6)
    for row in (first[1], second[1], third[0]):
        np.testing.assert_array_equal(row, [0, 0, 0, 0])  # words said once: no evidence, flag off


def test_a_sentence_read_alone_is_a_document_of_its_own():
    alone = [Sentence(["Japan", "and", "Japan"]), Sentence(["Japan"])]
    first, second = evidence(alone, [one_hot("S-ORG", 3), one_hot("S-LOC")], type_map(LABELS))
    assert first[0, -1] == first[2, -1] == 1 and first[1, -1] == 0
    np.testing.assert_allclose(first[0, :3], [0, 0, 1], atol=1e-6)  # its own repetition, not the other sentence
    np.testing.assert_array_equal(second[0], [0, 0, 0, 0])


@pytest.fixture
def evidence_tagger():
    """A tagger whose network says ORG for "Japan" where a sports word follows, and is unsure otherwise;
    the evidence map adds 4 to a type for each unit of other mentions' belief in it."""
    vocab = Vocab(words=["japan", "won", "in", "exports"], chars=list("abcdefghijklmnopqrstuvwxyz"),
                  labels=LABELS)
    words = {vocab.word_id(w): w for w in ["japan", "won", "in", "exports"]}

    def emissions(inputs: dict) -> np.ndarray:
        ids = inputs["word"]
        scores = np.zeros(ids.shape + (len(LABELS),), np.float32)
        scores[..., 0] = 1.0  # O, unless the word is Japan
        for row, column in zip(*np.nonzero(ids)):
            if words.get(int(ids[row, column])) == "japan":
                following = words.get(int(ids[row, column + 1])) if column + 1 < ids.shape[1] else None
                scores[row, column, 0] = -5.0
                scores[row, column, LABELS.index("S-ORG")] = 3.0 if following == "won" else 0.0
                scores[row, column, LABELS.index("S-LOC")] = 0.5
        return scores

    crf = {"transitions": np.zeros((9, 9)).tolist(), "start": [0.0] * 9, "end": [0.0] * 9}
    plain = Tagger(emissions, vocab, crf)
    table = np.zeros((4, 9), np.float32)
    table[1, [1, 2, 3, 4]] = 4.0  # LOC belief -> LOC labels
    table[2, [5, 6, 7, 8]] = 4.0  # ORG belief -> ORG labels
    with_evidence = Tagger(emissions, vocab, {**crf, "evidence": table.tolist()})
    return plain, with_evidence


def test_other_mentions_settle_an_unsure_mention(evidence_tagger):
    plain, with_evidence = evidence_tagger
    sentences = document(["Japan", "won"], ["in", "Japan"])
    assert [t.tags for t in plain.tag(sentences)] == [["B-ORG", "O"], ["O", "B-LOC"]]
    assert [t.tags for t in with_evidence.tag(sentences)] == [["B-ORG", "O"], ["O", "B-ORG"]]
    alone = [Sentence(["Japan", "won"]), Sentence(["in", "Japan"])]
    assert [t.tags for t in with_evidence.tag(alone)] == [["B-ORG", "O"], ["O", "B-LOC"]], \
        "sentences of different documents lend nothing"


def test_evidence_does_not_depend_on_the_batch_or_on_other_documents(evidence_tagger):
    _, tagger = evidence_tagger
    story = document(["Japan", "won"], ["in", "Japan"], ["Japan", "exports", "Japan"])
    other = document(["Japan"], ["exports", "in", "Japan", "won"])
    together = tagger.tag(other + story)[len(other):]
    tagger.batch_size = 1
    alone = tagger.tag(story)
    for left, right in zip(together, alone):
        assert left.tags == right.tags and left.confidence == right.confidence


def test_a_malformed_evidence_map_is_refused(evidence_tagger):
    plain, _ = evidence_tagger
    with pytest.raises(ModelError, match="evidence map"):
        plain.set_crf({**plain.crf, "evidence": [[0.0] * 9] * 3})


def test_a_model_directory_with_a_malformed_evidence_map_is_a_one_line_error_naming_crf_json(trained_model, tmp_path):
    import json
    import shutil

    from ner_lstm.inference.bundle import write_manifest

    broken = tmp_path / "model"
    shutil.copytree(trained_model, broken)
    crf = json.loads((broken / "crf.json").read_text())
    (broken / "crf.json").write_text(json.dumps({**crf, "evidence": crf["evidence"][:-1]}))
    write_manifest(broken)
    with pytest.raises(ModelError, match=r"crf\.json: the evidence map"):
        Tagger.load(broken)
