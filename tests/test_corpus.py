from __future__ import annotations

import bz2
import gzip
import lzma

import pytest
from conftest import write

from ner_lstm.data.corpus import Sentence, convert_corpus, detect_scheme, iob2_to_bioes, read_conll, to_iob2
from ner_lstm.data.sources import read_records
from ner_lstm.errors import InputError

CONLL = """-DOCSTART- -X- -X- O

Acme NNP B-NP B-ORG
hires VBZ B-VP O
German JJ B-NP B-MISC
staff NN I-NP O

Ada NNP B-NP B-PER
Lovelace NNP I-NP I-PER
"""


def test_reads_four_columns_and_docstart(tmp_path):
    sentences = read_conll(write(tmp_path / "a.txt", CONLL))
    assert [s.tokens for s in sentences] == [["Acme", "hires", "German", "staff"], ["Ada", "Lovelace"]]
    assert sentences[1].tags == ["B-PER", "I-PER"]
    assert sentences[1].line == 8


def test_crlf_bom_tabs_and_mixed_separators(tmp_path):
    text = "\ufeffAcme\tNNP B-ORG\r\nhires  VBZ\tO\r\n\r\nAda NNP B-PER\r\n"
    sentences = read_conll(write(tmp_path / "a.txt", text))
    assert sentences[0].tokens == ["Acme", "hires"]
    assert sentences[0].tags == ["B-ORG", "O"]
    assert sentences[1].tags == ["B-PER"]


def test_tag_column_option(tmp_path):
    text = "Acme B-ORG NNP\nsays O VBZ\n"
    assert read_conll(write(tmp_path / "a.txt", text), tag_column=1)[0].tags == ["B-ORG", "O"]
    with pytest.raises(InputError, match=r"a.txt:1: no column 5"):
        read_conll(tmp_path / "a.txt", tag_column=5)


@pytest.mark.parametrize("line, message", [
    ("Acme\n", "expected at least 2 columns"),
    ("Acme NNP PERSON\n", "tag 'PERSON' fits no scheme"),
    ("Acme NNP B_PER\n", "tag 'B_PER' fits no scheme"),
])
def test_malformed_lines_name_file_and_line(tmp_path, line, message):
    path = write(tmp_path / "bad.txt", "Ada NNP B-PER\n\n" + line)
    with pytest.raises(InputError) as caught:
        read_conll(path)
    assert str(caught.value).startswith(f"{path}:3: ")
    assert message in str(caught.value)


@pytest.mark.parametrize("text", ["", "\n\n", "-DOCSTART- -X- -X- O\n\n"])
def test_no_sentences_is_an_error(tmp_path, text):
    with pytest.raises(InputError, match="contains no sentences"):
        read_conll(write(tmp_path / "empty.txt", text))


def test_invalid_utf8_names_line_and_byte(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Ada B-PER\n".encode() + "Müller I-PER\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin.txt:2: not valid utf-8 at byte 1"):
        read_conll(path)
    assert read_conll(path, encoding="latin-1")[0].tokens == ["Ada", "Müller"]


def test_compressed_files_are_read_and_binary_missing_and_directory_are_not(tmp_path):
    plain = [(s.tokens, s.tags) for s in read_conll(write(tmp_path / "a.txt", CONLL))]
    for name, compress in (("a.txt.gz", gzip.compress), ("a.txt.bz2", bz2.compress), ("a.conll.xz", lzma.compress)):
        (tmp_path / name).write_bytes(compress(CONLL.encode()))
        assert [(s.tokens, s.tags) for s in read_conll(tmp_path / name)] == plain, name
    (tmp_path / "bad.gz").write_bytes(b"\x1f\x8b" + bytes(100))
    with pytest.raises(InputError, match="bad.gz: cannot be decompressed"):
        read_conll(tmp_path / "bad.gz")
    (tmp_path / "zipped_binary.gz").write_bytes(gzip.compress(b"\x00\x01\x02abc"))
    with pytest.raises(InputError, match="binary"):
        read_conll(tmp_path / "zipped_binary.gz")
    binary = tmp_path / "a.bin"
    binary.write_bytes(b"\x00\x01\x02abc")
    with pytest.raises(InputError, match="binary"):
        read_conll(binary)
    with pytest.raises(InputError, match="no such file"):
        read_conll(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="is a directory"):
        read_conll(tmp_path)


@pytest.mark.parametrize("tags, scheme", [
    (["B-PER", "I-PER", "O", "B-LOC"], "IOB2"),
    (["I-PER", "I-PER", "O", "I-LOC"], "IOB1"),
    (["O", "I-PER", "B-PER", "O"], "IOB1"),
    (["B-PER", "E-PER", "S-LOC"], "BIOES"),
    (["O", "O"], "IOB2"),
])
def test_detect_scheme(tags, scheme):
    assert detect_scheme([tags]) == scheme


def test_iob1_to_iob2():
    assert to_iob2(["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG"], "IOB1") == [
        "B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG"]


def test_bioes_to_iob2():
    assert to_iob2(["B-PER", "I-PER", "E-PER", "S-LOC", "O"], "BIOES") == ["B-PER", "I-PER", "I-PER", "B-LOC", "O"]


def test_iob1_file_is_converted_on_read(tmp_path):
    sentences = read_conll(write(tmp_path / "iob1.txt", "Ada I-PER\nLovelace I-PER\nsaid O\n"))
    assert sentences[0].tags == ["B-PER", "I-PER", "O"]


def test_convert_corpus_reports_scheme():
    sentences = [Sentence(["a", "b"], ["S-PER", "O"])]
    assert convert_corpus(sentences) == "BIOES"
    assert sentences[0].tags == ["B-PER", "O"]


def test_iob2_to_bioes_and_back():
    tags = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "I-LOC", "O", "B-ORG"]
    bioes = iob2_to_bioes(tags)
    assert bioes == ["B-PER", "E-PER", "O", "S-LOC", "B-LOC", "I-LOC", "E-LOC", "O", "S-ORG"]
    assert to_iob2(bioes, "BIOES") == tags


def test_utf16_files_over_a_megabyte_read_as_their_utf8_twins(tmp_path):
    # U+010A is the bytes 0A 01 in UTF-16-LE: a 0x0A that is no line break, at every block boundary too.
    rows = "".join(f"\u010aorge{i} B-PER\nwent O\nto O\nParis B-LOC\n\n" for i in range(40_000))
    utf16, utf8 = tmp_path / "big16.txt", tmp_path / "big8.txt"
    utf16.write_bytes(rows.encode("utf-16"))
    utf8.write_bytes(rows.encode("utf-8"))
    assert utf16.stat().st_size > 3 * (1 << 20)
    read16, read8 = read_conll(utf16, encoding="utf-16"), read_conll(utf8)
    assert len(read16) == 40_000 and [(s.tokens, s.tags) for s in read16] == [(s.tokens, s.tags) for s in read8]
    with pytest.raises(InputError, match="looks like a binary file"):  # NUL bytes mean binary in UTF-8 only
        read_conll(utf16)
    tagged_input = [s.tokens for record in read_records(str(utf16), "auto", "utf-16") for s in record.sentences]
    assert tagged_input == [s.tokens for s in read8], "what `tag --encoding utf-16` reads"


def test_a_decoding_error_names_its_line_in_any_block(tmp_path):
    rows = "word O\n" * 300_000  # 2.1 MB: the bad byte lies in the third block
    path = tmp_path / "bad.txt"
    path.write_bytes(rows.encode() + b"M\xfcller B-PER\n")
    with pytest.raises(InputError, match=r"bad.txt:300001: not valid utf-8 at byte 1"):
        read_conll(path)
