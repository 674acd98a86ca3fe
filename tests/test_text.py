"""Raw text to tokens: CoNLL/Penn Treebank conventions, exact offsets, sentence cuts only where they belong."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_lstm.data.text import split_text


def tokens(text: str) -> list[list[str]]:
    return [s.tokens for s in split_text(text)]


def test_sentences_tokens_and_offsets():
    text = "Major Tom is a great battle commander. He lives in New York."
    sentences = split_text(text)
    assert [s.tokens for s in sentences] == [
        ["Major", "Tom", "is", "a", "great", "battle", "commander", "."],
        ["He", "lives", "in", "New", "York", "."],
    ]
    assert sentences[1].offsets[3] == (text.index("New"), text.index("New") + 3)


def test_the_issue_sentence_is_tokenised_as_conll_would():
    text = "McDonald's chief Jean-Pierre O'Neil met executives of YouTube in New York."
    assert tokens(text) == [["McDonald", "'s", "chief", "Jean-Pierre", "O'Neil", "met", "executives", "of",
                             "YouTube", "in", "New", "York", "."]]


@pytest.mark.parametrize("text, expected", [
    ("He didn't go", ["He", "did", "n't", "go"]),  # clitics apart, as in the Treebank
    ("They can't and won't", ["They", "ca", "n't", "and", "wo", "n't"]),
    ("the players' union", ["the", "players", "'", "union"]),
    ("a 20-year-old one-day match", ["a", "20-year-old", "one-day", "match"]),
    ("Mercedes-Benz and NationsBank", ["Mercedes-Benz", "and", "NationsBank"]),
    ("D'Alema met McGrath", ["D'Alema", "met", "McGrath"]),
    ("U.S. officials and the U.N. said", ["U.S.", "officials", "and", "the", "U.N.", "said"]),
    ("J. Smith of Acme Corp. said", ["J.", "Smith", "of", "Acme", "Corp.", "said"]),
    ("He batted .496 and paid US$ 5", ["He", "batted", ".496", "and", "paid", "US$", "5"]),
    ("Bonds rose +0.435 to 99", ["Bonds", "rose", "+0.435", "to", "99"]),
    ("in the U.S.", ["in", "the", "U.S."]),  # an abbreviation keeps its period at the end too
    ("They won 3-1.", ["They", "won", "3-1", "."]),
    ("He came in 1950.", ["He", "came", "in", "1950", "."]),
])
def test_conll_conventions(text, expected):
    assert [t for s in tokens(text) for t in s] == expected


@pytest.mark.parametrize("text", [
    "May 22 First one day international (at Headingley, Leeds)",
    "10. Johan Capiot (Belgium) Collstrop all same time",
    "ST. LOUIS 1996-08-30",
    '"He knows about the team situation even though he plays up front."',
    "7-6 (7-1) 6-2 4-6 6-1",
])
def test_a_record_that_is_one_sentence_is_not_cut(text):
    assert len(split_text(text)) == 1


def test_sentences_are_still_split_at_their_ends():
    assert len(split_text("He scored twice. Then he left. Was it 1950? Yes!")) == 4


def test_a_blank_line_ends_a_sentence_and_a_single_line_break_does_not():
    text = "SOCCER - JAPAN WIN\n\nAL-AIN 1996-12-06\n \nJapan began the\ndefence of their title."
    sentences = split_text(text)
    assert [s.tokens for s in sentences] == [
        ["SOCCER", "-", "JAPAN", "WIN"],
        ["AL-AIN", "1996-12-06"],
        ["Japan", "began", "the", "defence", "of", "their", "title", "."],
    ]
    assert text[slice(*sentences[2].offsets[3])] == "defence"
    assert all(s.in_document is sentences[0].in_document for s in sentences), "the text is still one document"


def test_emoji_and_combining_characters_keep_offsets():
    text = "Zoë 😀 met Jose\u0301 in Köln."
    for sentence in split_text(text):
        for token, (start, end) in zip(sentence.tokens, sentence.offsets):
            assert text[start:end] == token


def test_empty_and_whitespace_text():
    assert split_text("") == []
    assert split_text(" \n\t ") == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF) | st.sampled_from(list("-'.$+\"() ")),
               max_size=200))
def test_offsets_always_slice_back_to_tokens(text):
    for sentence in split_text(text):
        assert sentence.tokens, "no empty sentences"
        for token, (start, end) in zip(sentence.tokens, sentence.offsets):
            assert text[start:end] == token and token.strip() == token


# syntok decides only where it can: `_paragraph_sentences` reads the easy parts itself and must give what
# syntok gives when it reads the whole paragraph (`fast=False`).
TRICKY = [
    "Blackburn won. The club said so. He left in 1996. \"We know,\" he said. Then (at 3 p.m.) it rained. Yes!",
    "SAN MATEO, Calif. 1996-08-23", "NEW YORK 72 53 .576 -", "8 .Giuseppe Citterio (Italy) Aki",
    "It is not a level to own vol. You are not going to lose.", "Coughlan said.. -- Stephen Nisbet +44 171",
    "16. III.ker.TVE 3 - 1 2 2 7 1", "MORAV.CHEMIC. ZAV.", "He met McDonald. Then YouTube. NoSt. CoRp. X",
    "(Syrian President Hafez al-) Assad is ready. Tension rose. (It did. Really.) Then. ( a )) W. The b )",
    "\"deja-voodoo economics.... It's a plan.\" She said: \"No. 5 is in Jan. 5. Mr. Smith left.\" II. The end",
    "They did n't get hurt, \"said Stich.\" I feel that. \" Our not signing. \" The sea. 'Quote. 'Twas so.",
    "Sales rose 3.5 percent. 1,000 jobs. The 12. Jan. Apr. 1996. May. ST. LOUIS. a. B. U.S. Officials",
]


def pieces_agree(text: str) -> None:
    from ner_lstm.data.text import _paragraph_sentences, _paragraphs

    for start, end in _paragraphs(text):
        assert _paragraph_sentences(text, start, end) == _paragraph_sentences(text, start, end, fast=False), \
            repr(text[start:end])


@pytest.mark.parametrize("text", TRICKY)
def test_the_fast_path_cuts_as_syntok_does(text):
    pieces_agree(text)


WORDS = ["The", "he", "said", "U.S.", "Corp.", "Jan", "1996", "12", "No", "no", "II", "McDonald", "vol", "e.g.",
         "Mr", "a", "B", "3.5", "O'Neil", "did", "n't", "'s", "Jean-Pierre", "US$", "+0.4", ".496", "etc", "Calif"]
PUNCTUATION = list(".!?,;:\"'()[]-$") + ["...", "--", ".\"", ".)", "?!", "\u2019", "\u201c", "\u201d"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(WORDS + PUNCTUATION), st.sampled_from(["", " ", " ", "  ", "\n"])),
                max_size=40))
def test_the_fast_path_cuts_as_syntok_does_on_generated_text(parts):
    pieces_agree("".join(word + space for word, space in parts))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF) | st.sampled_from(list("-'.$+\"() \n")),
               max_size=200))
def test_the_fast_path_cuts_as_syntok_does_on_any_text(text):
    pieces_agree(text)


def test_the_pieces_kept_for_runs_with_punctuation_stay_few_and_change_nothing(monkeypatch):
    from ner_lstm.data import text as module

    expected = [tokens(text) for text in TRICKY]
    monkeypatch.setattr(module, "_CHUNK_PIECES", {})
    monkeypatch.setattr(module, "CHUNK_CACHE_SIZE", 3)
    sizes = []
    chunk_pieces = module._chunk_pieces
    monkeypatch.setattr(module, "_chunk_pieces", lambda run: (sizes.append(len(module._CHUNK_PIECES)),
                                                              chunk_pieces(run))[1])
    assert [tokens(text) for text in TRICKY] == expected
    assert max(sizes) == 2 and sizes.count(0) > 1, "at most 3 kept: cleared when full, then filled again"
    assert [tokens(text) for text in TRICKY] == expected, "and read again from what is kept"


def test_space_is_what_syntok_calls_space_on_every_code_point():
    import sys

    import regex

    from ner_lstm.data.text import SPACE

    ours, syntoks = re.compile(SPACE), regex.compile(r"\s")
    assert [c for c in range(sys.maxunicode + 1) if bool(ours.match(chr(c))) != bool(syntoks.match(chr(c)))] == []
