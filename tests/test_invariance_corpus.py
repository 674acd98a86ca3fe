"""Batch invariance on a real corpus (slow): every sentence of the CoNLL-2003 test split gets the same tags and
scores alone or in batches of 1024, with either backend, and whole `ner-lstm tag` processes with other batch
sizes, windows and worker processes write the same records. The corpus is `../shared/data/conll2003` (or
NER_LSTM_CONLL_DIR); it is never copied into the repository."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from ner_lstm.data.corpus import read_conll
from ner_lstm.inference.tagger import Tagger

CONLL = Path(os.environ.get("NER_LSTM_CONLL_DIR", ROOT.parent / "shared" / "data" / "conll2003"))
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (CONLL / "test.txt").is_file(), reason=f"no CoNLL-2003 test split in {CONLL}")]


@pytest.fixture(scope="module")
def sentences():
    return read_conll(CONLL / "test.txt")


def tagged(tagger: Tagger, sentences, batch_size: int) -> tuple[list[list[str]], list[np.ndarray]]:
    tagger.batch_size = batch_size
    results = tagger.tag(sentences)
    return [t.tags for t in results], [np.asarray(t.confidence) for t in results]


def assert_same(left, right, tolerance: float) -> None:
    assert left[0] == right[0], "a token tagged differently"
    largest = max(float(np.abs(a - b).max()) for a, b in zip(left[1], right[1]) if len(a))
    assert largest <= tolerance, largest


def test_every_test_sentence_alone_or_in_a_batch_of_1024_with_either_backend(trained_model, sentences):
    onnx, keras = Tagger.load(trained_model, backend="onnx"), Tagger.load(trained_model, backend="keras")
    onnx_alone, onnx_batched = tagged(onnx, sentences, 1), tagged(onnx, sentences, 1024)
    assert_same(onnx_alone, onnx_batched, 0.0)
    first = sentences[:500]  # Keras one sentence at a time is slow; 500 sentences of every length suffice
    assert_same(tagged(keras, first, 1), tagged(keras, first, 1024), 1e-6)
    assert_same(onnx_batched, tagged(keras, sentences, 1024), 1e-4)


def test_whole_tag_processes_with_other_batches_windows_and_workers_write_the_same(trained_model, tmp_path):
    def run(out: Path, batch_size: int, processes: int) -> list[dict]:
        subprocess.run([sys.executable, "-m", "ner_lstm", "tag", "--model", str(trained_model), str(CONLL / "test.txt"),
                        "-o", str(out), "--input-format", "conll", "--batch-size", str(batch_size),
                        "--processes", str(processes)], check=True, capture_output=True)
        return [json.loads(line) for line in out.read_text().splitlines()]

    small, large = run(tmp_path / "a.jsonl", 1, 1), run(tmp_path / "b.jsonl", 1024, 2)
    assert len(small) == len(large) == 231
    assert [r["tags"] for r in small] == [r["tags"] for r in large]
    assert [r["entities"] for r in small] == [r["entities"] for r in large]
