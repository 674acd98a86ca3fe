from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from ner_lstm.data.text import split_text


def test_sentences_tokens_and_offsets():
    text = "Major Tom is a great battle commander. He lives in New York."
    sentences = split_text(text)
    assert [s.tokens for s in sentences] == [
        ["Major", "Tom", "is", "a", "great", "battle", "commander", "."],
        ["He", "lives", "in", "New", "York", "."],
    ]
    assert sentences[1].offsets[3] == (text.index("New"), text.index("New") + 3)


def test_emoji_and_combining_characters_keep_offsets():
    text = "Zoë 😀 met Jose\u0301 in Köln."
    for sentence in split_text(text):
        for token, (start, end) in zip(sentence.tokens, sentence.offsets):
            assert text[start:end] == token


def test_empty_and_whitespace_text():
    assert split_text("") == []
    assert split_text(" \n\t ") == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_offsets_always_slice_back_to_tokens(text):
    for sentence in split_text(text):
        assert sentence.tokens, "no empty sentences"
        for token, (start, end) in zip(sentence.tokens, sentence.offsets):
            assert text[start:end] == token
