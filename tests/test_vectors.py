"""Word vectors from files: every layout read to the same table, bad files refused with file and line."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from conftest import SAMPLE, write
from typer.testing import CliRunner

from ner_lstm.cli import app
from ner_lstm.errors import InputError
from ner_lstm.model.vectors import convert_vectors
from ner_lstm.model.vocab import Vocab

WORDS = ["the", "Paris", "paris", "Москва", "αθήνα", "a-word-longer-than-sixteen-bytes", "3.14"]


def vectors(dim: int, count: int = len(WORDS)) -> tuple[list[str], np.ndarray]:
    words = WORDS + [f"w{i}" for i in range(count - len(WORDS))]
    return words, np.random.default_rng(dim).standard_normal((len(words), dim)).astype(np.float32)


def text_file(path, words, table, header: bool = False, trailing: str = "") -> None:
    rows = [f"{w} {' '.join(f'{x:.7g}' for x in v)}{trailing}\n" for w, v in zip(words, table)]
    content = (f"{len(words)} {table.shape[1]}\n" if header else "") + "".join(rows)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(content)
    else:
        path.write_text(content, "utf-8")


def binary_file(path, words, table) -> None:
    with path.open("wb") as handle:
        handle.write(f"{len(words)} {table.shape[1]}\n".encode())
        for word, vector in zip(words, table):
            handle.write(word.encode() + b" " + vector.astype("<f4").tobytes() + b"\n")


@pytest.mark.parametrize("layout", ["glove.txt", "header.vec", "plain.txt.gz", "header.vec.gz", "w2v.bin"])
@pytest.mark.parametrize("dim", [3, 300])
def test_every_layout_reads_to_the_same_vectors(tmp_path, layout, dim):
    words, table = vectors(dim, count=40)
    path = tmp_path / layout
    if layout.endswith(".bin"):
        binary_file(path, words, table)
    else:
        text_file(path, words, table, header="header" in layout, trailing=" " if "vec" in layout else "")
    loaded = convert_vectors(path, tmp_path / "table")
    assert len(loaded) == len(words) and loaded.dim == dim and loaded.cased
    np.testing.assert_allclose(loaded.lookup(loaded.ids(words)), table, rtol=1e-6)
    assert isinstance(loaded.vectors, np.memmap), "memory-mapped, not held in memory"


def test_cased_words_are_looked_up_as_written_then_lowercased(tmp_path):
    words, table = vectors(3)
    path = tmp_path / "v.txt"
    text_file(path, words, table)
    loaded = convert_vectors(path, tmp_path / "table")
    vocab = Vocab(["x"], ["a"], ["O"], glove=loaded, vectors_cased=loaded.cased)
    found = vocab.glove_ids(["Paris", "PARIS", "The", "москва", "Москва", "3.14", "9.99"])
    rows = {w: i for i, w in enumerate(words)}
    expected = [loaded.ids([w])[0] for w in ("Paris", "paris", "the")]
    assert found[:3].tolist() == expected, "Paris as written; PARIS and The lowercased"
    assert found[3] == 1 and found[4] == loaded.ids(["Москва"])[0], "no lowercase Москва in the file"
    np.testing.assert_allclose(loaded.lookup(found[5:6])[0], table[rows["3.14"]], rtol=1e-6)
    assert found[6] == 1


@pytest.mark.parametrize("content,line,message", [
    ("2 3\nthe 1 2 3\n", 1, "the header says 2 words, the file has 1"),
    ("1 3\nthe 1 2\n", 2, "2 values after the word, expected 3 (as the header says)"),
    ("the 1 2 3\nof 1 2\n", 2, "2 values after the word, expected 3 (as the first row has)"),
    ("the 1 2 3\nof 1 x 3\n", 2, "'x' is not a number"),
    ("the 1 2 3\nof 1 2 3\nthe 4 5 6\n", 3, "the word 'the' appears twice (first at line 1)"),
])
def test_bad_vector_files_name_the_file_and_line(tmp_path, content, line, message):
    path = write(tmp_path / "bad.vec", content)
    with pytest.raises(InputError) as error:
        convert_vectors(path, tmp_path / "table")
    assert str(error.value) == f"{path}:{line}: {message}"


def test_a_truncated_binary_file_is_refused(tmp_path):
    words, table = vectors(4)
    path = tmp_path / "v.bin"
    binary_file(path, words, table)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(InputError, match=r"v.bin:\d+: ends inside row 7 of the 7 its header says"):
        convert_vectors(path, tmp_path / "table")


def test_train_with_a_vector_file_stores_it_and_info_shows_it(tmp_path):
    """The packaged GloVe's words for the sample, written out as a gzip'd word2vec text file of 7 dimensions."""
    from ner_lstm.data.corpus import read_conll

    words = sorted({t.lower() for s in read_conll(SAMPLE / "train.txt") for t in s.tokens})
    table = np.random.default_rng(0).standard_normal((len(words), 7)).astype(np.float32)
    path = tmp_path / "mine.vec.gz"
    text_file(path, words, table, header=True)
    model = tmp_path / "model"
    result = CliRunner().invoke(app, ["train", "--train", str(SAMPLE / "train.txt"), "--dev", str(SAMPLE / "dev.txt"),
                                      "--model", str(model), "--epochs", "1", "--embeddings", str(path)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / ".model.vectors").exists(), "the converted table is cleaned up"
    config = json.loads((model / "config.json").read_text())
    assert config["model"]["word_dim"] == 7
    assert config["vectors"] == {"source": "mine.vec.gz", "words": len(words), "dim": 7, "cased": False}
    info = CliRunner().invoke(app, ["info", "--model", str(model), "--verify"])
    assert "vectors:      mine.vec.gz (%d words, 7 dimensions, lowercased)" % len(words) in info.stdout
    from ner_lstm import Tagger

    tagger = Tagger.load(model)
    assert tagger.vocab.glove.dim == 7 and tagger.tag(read_conll(SAMPLE / "dev.txt")[:3])
    bad = CliRunner().invoke(app, ["train", "--train", str(SAMPLE / "train.txt"), "--model", str(tmp_path / "m2"),
                                   "--embeddings", str(tmp_path / "missing.vec")])
    assert bad.exit_code == 2 and "--embeddings" in bad.stderr and "no such file" in bad.stderr
