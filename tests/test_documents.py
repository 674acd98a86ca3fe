"""Document context: each token's class from how its word is written elsewhere in the document, the same
through every reader (CoNLL documents, texts, JSONL records, lone sentences) and folded into the case ids."""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from conftest import write

from ner_lstm.data.corpus import Sentence, read_conll
from ner_lstm.data.documents import CAPITALISED, LOWERCASE, MIXED, NONE, context_classes, mark_document, \
    sentence_context, shouting
from ner_lstm.data.sources import read_records
from ner_lstm.data.text import split_text
from ner_lstm.model.batching import encode_batch
from ner_lstm.model.vocab import CASES, Vocab, case_of

HEADLINE = "CRICKET - LEICESTERSHIRE TAKE OVER AT TOP".split()
STORY = "Players from Leicestershire take the top spot .".split()
SECOND = "Top teams take over .".split()


def test_a_headline_word_written_mid_sentence_elsewhere_is_capitalised_there():
    headline, story, second = context_classes([HEADLINE, STORY, SECOND])
    assert headline[HEADLINE.index("LEICESTERSHIRE")] == CAPITALISED
    assert headline[HEADLINE.index("TAKE")] == LOWERCASE  # "take" twice, lowercase, mid-sentence
    assert headline[HEADLINE.index("TOP")] == LOWERCASE  # "top" in the story; "Top" opens a sentence: no evidence
    assert second[0] == LOWERCASE, "a sentence's first word is judged by its other occurrences"
    assert headline[HEADLINE.index("OVER")] == LOWERCASE and second[SECOND.index("over")] == NONE, \
        "the headline's OVER is no evidence for the lowercase over"
    assert story[STORY.index("Leicestershire")] == NONE, "a token's own occurrence is not evidence"
    assert headline[0] == NONE and headline[1] == NONE, "a word seen nowhere else has no context"


def test_mixed_evidence_and_case_insensitive_matching():
    classes = context_classes(["The Apple deal".split(), "An apple fell".split(), ["APPLE"]])
    assert classes[2] == [MIXED]
    assert classes[0][1] == LOWERCASE and classes[1][1] == CAPITALISED


@pytest.mark.parametrize("tokens, expected", [
    (HEADLINE, True), (STORY, False), (["LONDON", "1996-08-30"], True), (["I", "saw", "NATO"], False),
    (["1", "-", "2"], False),
])
def test_shouting_lines_are_mostly_capitals(tokens, expected):
    assert shouting(tokens) is expected


def test_conll_documents_are_marked_and_a_file_without_docstart_is_sentences_alone(tmp_path):
    text = "-DOCSTART- O\n\nHEADLINE O\nSMITH B-PER\n\nA O\nman O\nnamed O\nSmith B-PER\n\n" \
           "-DOCSTART- O\n\nSMITH B-PER\n"
    sentences = read_conll(write(tmp_path / "docs.txt", text))
    assert [s.document for s in sentences] == [0, 0, 1]
    assert sentences[0].context is None, "found only when a model asks"
    assert sentence_context(sentences[0]) == [NONE, CAPITALISED] and sentence_context(sentences[2]) == [NONE], \
        "the second document does not see the first"
    assert sentences[1].in_document.classes == [[NONE, CAPITALISED], [NONE] * 4], "found for the whole document at once"
    plain = read_conll(write(tmp_path / "plain.txt", text.replace("-DOCSTART- O\n", "")))
    assert [s.in_document for s in plain] == [None] * 3
    assert [sentence_context(s) for s in plain] == [[NONE, NONE], [NONE] * 4, [NONE]], "each sentence alone"


def test_every_reader_gives_a_document_the_same_context(tmp_path):
    text = "-DOCSTART- O\n\nHEADLINE O\nSMITH O\n\nA O\nman O\nnamed O\nSmith O\n\n"
    (conll,) = read_records(str(write(tmp_path / "docs.conll", text)), "auto", announce=False)
    assert [sentence_context(s) for s in conll.sentences] == \
        [sentence_context(s) for s in read_conll(tmp_path / "docs.conll")] == [[NONE, CAPITALISED], [NONE] * 4]
    assert [sentence_context(s) for s in split_text("HEADLINE SMITH.\n\nA man named Smith.")] == \
        [[NONE, CAPITALISED, NONE], [NONE, NONE, NONE, NONE, NONE]]
    (jsonl,) = read_records(str(write(tmp_path / "r.jsonl", '{"text": "HEADLINE SMITH. A man named Smith."}\n')),
                            "auto", announce=False)
    assert sentence_context(jsonl.sentences[0]) == [NONE, CAPITALISED, NONE]


def test_a_document_and_its_sentences_are_freed_without_a_garbage_collection():
    """No reference cycle: a tagged window is freed when it is written, not at the next full collection."""
    sentences = split_text("HEADLINE SMITH.\n\nA man named Smith. He left.")
    kept, dropped = sentences[0], weakref.ref(sentences[1])
    document = weakref.ref(kept.in_document)
    collecting = gc.isenabled()
    gc.disable()
    try:
        del sentences
        assert dropped() is None, "a sentence no one holds is freed at once"
        assert sentence_context(kept) == [NONE, CAPITALISED, NONE], "its document still counts the others"
        del kept
        assert document() is None
    finally:
        if collecting:
            gc.enable()


def test_case_ids_carry_the_context_and_do_not_depend_on_the_batch():
    vocab = Vocab(words=["smith"], chars=list("SMITHsmith"), labels=["O"], document_context=True)
    document = [Sentence(["HEADLINE", "SMITH"]), Sentence(["A", "man", "named", "Smith"])]
    mark_document(document)
    alone = encode_batch(document[:1], vocab)["case"]
    together = encode_batch([document[1], document[0]], vocab)["case"]
    expected = [case_of("HEADLINE"), case_of("SMITH") + len(CASES) * CAPITALISED]
    assert alone.tolist() == [expected] and together[1, :2].tolist() == expected
    assert together[1, 2:].tolist() == [0, 0], "padding stays 0"
    assert vocab.case_count == len(CASES) * 4
    plain = Vocab(words=["smith"], chars=list("SMITHsmith"), labels=["O"])
    assert np.array_equal(encode_batch(document[:1], plain)["case"], [[case_of("HEADLINE"), case_of("SMITH")]])
    assert Vocab.from_json(vocab.to_json()).document_context and not Vocab.from_json(plain.to_json()).document_context
