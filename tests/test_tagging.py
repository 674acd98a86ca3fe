"""`ner-lstm tag`: every input and output format, stdin/stdout, directories, order, resume, safety."""
from __future__ import annotations

import hashlib
import itertools
import json
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import write
from typer.testing import CliRunner

from ner_lstm.cli import app
from ner_lstm.data.corpus import Sentence, read_conll
from ner_lstm.data.sources import sniff_format
from ner_lstm.engines.outputs import plan_outputs
from ner_lstm.inference.tagger import Tagger

TEXT = "Major Tom left London.\n\nAda Lovelace works for NASA in Paris. She likes it.\n"


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def tag(model: Path, *args: str, input: str | None = None):
    result = run("tag", "--model", str(model), *args, input=input)
    assert result.exit_code == 0, result.output
    return result


def test_text_to_jsonl_keeps_order_and_offsets(trained_model, tmp_path):
    path = write(tmp_path / "notes.txt", TEXT)
    result = tag(trained_model, str(path))
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == [1, 3], "one record per non-empty line, in order"
    assert records[1]["tokens"][:2] == ["Ada", "Lovelace"] and len(records[1]["tags"]) == len(records[1]["tokens"])
    for record in records:
        for entity in record["entities"]:
            assert record["text"][entity["start"]:entity["end"]] == entity["text"]
    assert "reading as text" in result.stderr


def test_conll_input_keeps_gold_and_writes_conll(trained_model, sample, tmp_path):
    out = tmp_path / "tagged.conll"
    tag(trained_model, str(sample / "test.txt"), "-o", str(out), "--output-format", "conll")
    blocks = out.read_text().strip().split("\n\n")
    gold = read_conll(sample / "test.txt")
    assert len(blocks) == len(gold)
    first = [line.split("\t") for line in blocks[0].splitlines()]
    assert [row[0] for row in first] == gold[0].tokens
    assert [row[1] for row in first] == gold[0].tags, "the gold column is kept beside the prediction"


def test_conll_output_skips_the_marginals_it_never_shows_and_keeps_its_tags(trained_model, sample, tmp_path,
                                                                            monkeypatch):
    from ner_lstm.inference import tagger as tagging

    calls = []
    marginals = tagging.marginals_numpy
    monkeypatch.setattr(tagging, "marginals_numpy", lambda *args: calls.append(1) or marginals(*args))
    conll, jsonl = tmp_path / "tagged.conll", tmp_path / "tagged.jsonl"
    tag(trained_model, str(sample / "test.txt"), "-o", str(conll), "--output-format", "conll")
    assert not calls, "CoNLL shows no scores"
    tag(trained_model, str(sample / "test.txt"), "-o", str(jsonl))
    assert calls, "JSONL's entities carry scores"
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert any(e["score"] > 0 for r in records for e in r["entities"])
    blocks = conll.read_text().strip().split("\n\n")
    assert [[line.split("\t")[-1] for line in b.splitlines()] for b in blocks] == [r["tags"] for r in records]


@pytest.mark.parametrize("scheme, gold", [
    ("BIOES", ["S-PER", "O", "B-LOC", "E-LOC", "O"]),
    ("IOB1", ["I-PER", "O", "I-LOC", "I-LOC", "O"]),
    ("IOB2", ["B-PER", "O", "B-LOC", "I-LOC", "O"]),
])
def test_a_gold_column_in_any_scheme_is_written_in_iob2_beside_the_predictions(trained_model, tmp_path, scheme, gold):
    tokens = ["Tom", "flew", "New", "York", "."]
    path = write(tmp_path / "in.conll", "".join(f"{t} {g}\n" for t, g in zip(tokens, gold)))
    rows = [line.split("\t") for line in tag(trained_model, str(path), "--output-format", "conll").stdout.split("\n")
            if line.strip()]
    assert [row[1] for row in rows] == ["B-PER", "O", "B-LOC", "I-LOC", "O"], scheme
    assert all(row[2] == "O" or row[2][:2] in ("B-", "I-") for row in rows), "predictions are IOB2 too"


def test_jsonl_input_passes_fields_through(trained_model, tmp_path):
    lines = [{"id": "a", "text": "Major Tom left London.", "meta": {"k": 1}},
             {"id": "b", "tokens": ["Grace", "Hopper", "visited", "Oslo"]}]
    path = write(tmp_path / "in.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    records = [json.loads(x) for x in tag(trained_model, str(path), "--field-prefix", "ner_").stdout.splitlines()]
    assert [r["id"] for r in records] == ["a", "b"], "the user's own id is kept"
    assert [r["ner_id"] for r in records] == [1, 2], "ours goes under the prefix"
    assert records[0]["meta"] == {"k": 1} and records[0]["text"] == "Major Tom left London."
    assert records[1]["tokens"] == ["Grace", "Hopper", "visited", "Oslo"]
    assert len(records[1]["ner_tags"]) == 4 and "ner_tokens" not in records[1], "the input tokens are echoed once"


@pytest.mark.parametrize("field", ["tags", "entities", "offsets"])
def test_jsonl_fields_are_never_overwritten(trained_model, tmp_path, field):
    record = {"text": "Major Tom left London.", field: "mine"}
    path = write(tmp_path / "in.jsonl", json.dumps(record) + "\n")
    result = run("tag", "--model", str(trained_model), str(path))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{path}:1: the record's field {field!r} would be overwritten" in result.stderr
    assert "--field-prefix" in result.stderr
    prefixed = json.loads(tag(trained_model, str(path), "--field-prefix", "ner_").stdout)
    assert prefixed[field] == "mine" and "ner_tags" in prefixed


def test_a_records_own_id_is_kept_and_our_output_tags_again(trained_model, tmp_path):
    lines = [{"id": "doc-7", "source": "wire", "text": "Major Tom left London."}, {"text": "Grace Hopper visited Oslo."}]
    path = write(tmp_path / "in.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    first = [json.loads(x) for x in tag(trained_model, str(path)).stdout.splitlines()]
    assert [r["id"] for r in first] == ["doc-7", 2], "the user's id, else our line number"
    assert [r["source"] for r in first] == ["wire", str(path)]
    again_path = write(tmp_path / "again.jsonl", "".join(json.dumps(r) + "\n" for r in first))
    again = [json.loads(x) for x in tag(trained_model, str(again_path)).stdout.splitlines()]
    assert [r["id"] for r in again] == ["doc-7", 2] and [r["source"] for r in again] == ["wire", str(path)]
    for before, after in zip(first, again):
        assert after["entities"] == before["entities"] and after["tags"] == before["tags"]
    user = write(tmp_path / "user.jsonl", json.dumps({"text": "Major Tom.", "tags": "mine"}) + "\n")
    result = run("tag", "--model", str(trained_model), str(user))
    assert result.exit_code == 2 and "'tags' would be overwritten" in result.stderr, "the user's own data is no output"


def test_a_pipe_given_as_a_path_and_a_compressed_file_are_read_whole(trained_model, tmp_path):
    """`ner-lstm tag <(zcat corpus.gz)`: the pipe is read once, so nothing may read ahead of its reader."""
    import gzip
    import subprocess
    import sys
    import threading

    lines = [f"Major Tom flew to Paris on day {i}." for i in range(50)]
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("w") as handle:
            handle.write("\n".join(lines) + "\n")

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    # A reader that opened the pipe twice would wait for a second writer forever (or, behind `<(...)`, read
    # nothing and exit 0): the time limit makes that a failure.
    done = subprocess.run([sys.executable, "-m", "ner_lstm", "tag", "--model", str(trained_model), str(fifo)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    piped = [json.loads(x) for x in done.stdout.splitlines()]
    assert [r["text"] for r in piped] == lines
    compressed = tmp_path / "notes.txt.gz"
    compressed.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    unzipped = [json.loads(x) for x in tag(trained_model, str(compressed)).stdout.splitlines()]
    assert [r["entities"] for r in unzipped] == [r["entities"] for r in piped]


def test_jsonl_tokens_line_up_one_to_one(trained_model, tmp_path):
    tokens = ["Major", " ", "Tom", "", "left", "\u200b", "London"]
    path = write(tmp_path / "in.jsonl", json.dumps({"tokens": tokens}) + "\n")
    record = json.loads(tag(trained_model, str(path)).stdout)
    assert record["tokens"] == tokens and len(record["tags"]) == len(tokens)


def test_bad_jsonl_line_is_named(trained_model, tmp_path):
    path = write(tmp_path / "in.jsonl", '{"text": "fine"}\n{"text": broken\n')
    result = run("tag", "--model", str(trained_model), str(path))
    assert result.exit_code == 2
    assert f"{path}:2: not valid JSON" in result.stderr and "Traceback" not in result.output


def test_stdin_to_stdout_inline(trained_model):
    result = tag(trained_model, "-", "--input-format", "text", "--output-format", "inline", input=TEXT)
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].replace("[", "").replace("]", "").startswith("Major Tom")
    assert "[Major Tom](PER)" in lines[0]


def test_html_is_a_whole_page(trained_model, tmp_path):
    out = tmp_path / "page.html"
    tag(trained_model, str(write(tmp_path / "a.txt", "Major Tom <b>left</b> London.\n")), "-o", str(out),
        "--output-format", "html")
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<b>" not in page and "&lt;" in page and "&gt;" in page, "input text is escaped"
    assert '<mark class="PER"' in page


def test_directory_input_gives_one_output_each(trained_model, tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    write(folder / "a.txt", "Major Tom left London.\n")
    write(folder / "sub" / "b.txt", "Ada Lovelace visited Paris.\n")
    tag(trained_model, str(folder), "-o", str(tmp_path / "out"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.jsonl", "b.jsonl"]


def test_several_inputs_need_a_directory(trained_model, tmp_path):
    a, b = write(tmp_path / "a.txt", "x\n"), write(tmp_path / "b.txt", "y\n")
    result = run("tag", "--model", str(trained_model), str(a), str(b))
    assert result.exit_code == 2 and "-o DIR" in result.stderr


def test_refuses_to_overwrite_an_input(trained_model, tmp_path):
    path = write(tmp_path / "a.jsonl", '{"text": "Major Tom"}\n')
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    result = run("tag", "--model", str(trained_model), str(path), "-o", str(path))
    assert result.exit_code == 2 and "refusing to overwrite" in result.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    with pytest.raises(Exception, match="is an input"):
        plan_outputs([str(path)], tmp_path, "jsonl")


def test_resume_skips_complete_outputs_and_redoes_the_rest(trained_model, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "b", "c"):
        write(folder / f"{name}.txt", f"Major Tom left London {name}.\n")
    out = tmp_path / "out"
    tag(trained_model, str(folder), "-o", str(out))
    complete = (out / "a.jsonl").read_text()
    (out / "a.jsonl").write_text("KEEP\n")  # a complete output from an earlier run
    (out / "b.jsonl").unlink()  # the run was killed before b was renamed into place
    write(out / ".b.jsonl.x1.tmp", '{"half": ')  # its half-written temporary
    result = tag(trained_model, str(folder), "-o", str(out), "--resume")
    assert (out / "a.jsonl").read_text() == "KEEP\n"
    assert json.loads((out / "b.jsonl").read_text())["tokens"][:2] == ["Major", "Tom"]
    assert (out / "c.jsonl").read_text().count("\n") == 1
    assert "skipped 2" in result.stderr
    assert complete.count("\n") == 1


def test_auto_format_sniffing():
    assert sniff_format("x.jsonl", []) == "jsonl"
    assert sniff_format("x.txt", ["Acme NNP B-ORG", "hires VBZ O"]) == "conll"
    assert sniff_format("x.txt", ["-DOCSTART- -X- -X- O"]) == "conll"
    assert sniff_format("x.txt", ["Acme hires German staff ."]) == "text"
    assert sniff_format("notes", ['{"text": "hi"}']) == "jsonl"


def test_dataset_tagging_from_python(trained_model):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"tokens": [["Major", "Tom", "left"], ["Oslo", "is", "cold"]], "n": [1, 2]})
    tagged = Tagger.load(trained_model).tag_dataset(ds)
    assert tagged.column_names == ["tokens", "n", "pred_tags", "entities"]
    assert tagged[0]["pred_tags"][:2] == ["B-PER", "I-PER"]


CONLL = Path(os.environ.get("NER_LSTM_CONLL", Path(__file__).resolve().parents[2] / "shared/data/conll2003"))


@pytest.mark.skipif(not (CONLL / "test.txt").is_file(), reason="CoNLL-2003 not found (set NER_LSTM_CONLL)")
def test_onnx_and_keras_give_identical_tags_on_conll_test(trained_model):
    sentences = read_conll(CONLL / "test.txt")
    onnx = Tagger.load(trained_model, backend="onnx").predict_tags(sentences)
    keras_tags = Tagger.load(trained_model, backend="keras").predict_tags(sentences)
    assert len(onnx) == 3453
    assert onnx == keras_tags


def test_worker_processes_give_the_same_output_in_the_same_order(trained_model, sample, tmp_path, monkeypatch):
    from ner_lstm.engines import local as tagging

    monkeypatch.setattr(tagging, "WINDOW_TOKENS", 60)  # many small windows, so several are in flight
    tagger = Tagger.load(trained_model)
    outputs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}.jsonl"
        summary = tagging.tag_files(tagger, [str(sample / "test.txt")], out, "conll", "jsonl", workers=workers)
        assert summary["sentences"] == 80
        outputs[workers] = out.read_text()
    assert outputs[1] == outputs[2]
    assert [json.loads(line)["id"] for line in outputs[2].splitlines()] == sorted(
        json.loads(line)["id"] for line in outputs[2].splitlines())


def test_resumable_output_continues_only_the_same_input_and_options(tmp_path):
    from ner_lstm.data.corpus import Record
    from ner_lstm.engines.outputs import ResumableOutput

    records = [Record("a", i, [Sentence([word])]) for i, word in enumerate(["one", "two", "three"], start=1)]
    dest = tmp_path / "out.jsonl"
    first = ResumableOutput(dest, {"input": "a", "size": 1}, resume=False)
    read = first.remaining(iter(records), "a")
    for record in itertools.islice(read, 2):
        first.write(record.sentences[0].tokens[0] + "\n", 1)
    first.handle.write(b"half a wind")  # killed in the middle of a window, after its last progress record
    first.close()
    again = ResumableOutput(dest, {"input": "a", "size": 1}, resume=True)
    assert (again.records, again.size, again.resumed) == (2, 8, 2)
    assert [r.id for r in again.remaining(iter(records), "a")] == [3], "the records written are skipped"
    again.write("three\n", 1)
    again.finish()
    assert dest.read_text() == "one\ntwo\nthree\n" and not list(tmp_path.glob(".out.jsonl.*"))
    stale = ResumableOutput(tmp_path / "b.jsonl", {"input": "a", "size": 1}, resume=False)
    next(stale.remaining(iter(records), "a"))
    stale.write("old\n", 1)
    stale.close()
    for identity, resume in (({"input": "a", "size": 2}, True), ({"input": "a", "size": 1}, False)):
        fresh = ResumableOutput(tmp_path / "b.jsonl", identity, resume)
        assert fresh.records == 0 and fresh.partial.stat().st_size == 0, "another input or no --resume starts afresh"
        fresh.close()


def test_parquet_in_and_out_match_jsonl(trained_model, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"body": "Major Tom flew to Paris.", "words": None, "doc": 7, "meta": "a"},
            {"body": None, "words": ["Ground", "Control", "called", "Tom", "."], "doc": 8, "meta": "b"},
            {"body": "Nothing here.", "words": None, "doc": 9, "meta": None}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet", row_group_size=2)
    write(tmp_path / "in.jsonl", "".join(json.dumps(row) + "\n" for row in rows))
    fields = ["--text-field", "body", "--tokens-field", "words"]
    tag(trained_model, str(tmp_path / "in.parquet"), "-o", str(tmp_path / "out.parquet"), "--output-format", "parquet",
        *fields)
    tag(trained_model, str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"), *fields)
    from_parquet = pq.read_table(tmp_path / "out.parquet").to_pylist()
    from_jsonl = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["doc"] for r in from_parquet] == [7, 8, 9]
    for got, expected in zip(from_parquet, from_jsonl):
        for key in ("tokens", "tags", "entities", "meta", "doc"):
            assert got.get(key) == expected.get(key), key
    assert from_parquet[0]["body"] == rows[0]["body"] and from_parquet[1]["words"] == rows[1]["words"]
    assert [r["id"] for r in from_parquet] == [1, 2, 3], "rows are numbered from 1"
    assert not list(tmp_path.glob(".out.parquet*"))


def test_parquet_output_keeps_fields_the_first_record_lacks(trained_model, tmp_path):
    import pyarrow.parquet as pq

    records = [{"tokens": ["Ground", "Control"]}, {"text": "Major Tom flew to Paris.", "n": 2}]
    write(tmp_path / "in.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    tag(trained_model, str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.parquet"), "--output-format", "parquet")
    first, second = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert second["text"] == "Major Tom flew to Paris." and second["n"] == 2 and second["offsets"][0] == [0, 5]
    assert first["text"] is None and first["offsets"] is None and first["n"] is None


def test_parquet_output_needs_a_file(trained_model, tmp_path):
    write(tmp_path / "in.txt", "Major Tom\n")
    result = run("tag", "--model", str(trained_model), str(tmp_path / "in.txt"), "--output-format", "parquet")
    assert result.exit_code == 2 and "Parquet output goes to a file" in result.stderr
    bad = write(tmp_path / "bad.parquet", "not parquet")
    result = run("tag", "--model", str(trained_model), str(bad), "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 2 and "bad.parquet: not a readable Parquet file" in result.stderr


def test_a_conll_document_is_tagged_with_its_context_as_evaluate_tags_it(trained_model, sample, tmp_path):
    sentences = read_conll(sample / "test.txt")[:12]
    documents = ["-DOCSTART- O\n\n" + "".join(
        "\n".join(f"{token.upper() if k == 0 else token} {tag}" for token, tag in zip(s.tokens, s.tags)) + "\n\n"
        for k, s in enumerate(sentences[i:i + 4])) for i in range(0, 12, 4)]  # each opens with a shouted line
    data = write(tmp_path / "docs.conll", "".join(documents))
    out = tmp_path / "docs.jsonl"
    tag(trained_model, str(data), "-o", str(out), "--output-format", "jsonl")
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 3 and [len(r["tokens"]) for r in records] == \
        [sum(len(s) for s in sentences[i:i + 4]) for i in range(0, 12, 4)], "one record per document"

    tagger = Tagger.load(trained_model)
    read = read_conll(data)
    as_evaluated = tagger.tag(read)  # what `evaluate` scores: the reader marks the documents
    assert [tag for r in records for tag in r["tags"]] == [tag for t in as_evaluated for tag in t.tags]
    scores = [e["score"] for r in records for e in r["entities"]]
    assert scores == pytest.approx([e.score for t in as_evaluated for e in t.entities], abs=1e-6)
    alone = tagger.tag([Sentence(s.tokens) for s in read])
    assert any(not np.allclose(a.confidence, b.confidence, atol=1e-6) for a, b in zip(alone, as_evaluated)), \
        "the document context reaches the network"


def test_decoding_scores_are_what_the_crf_decodes_evidence_included(trained_model, sample):
    from ner_lstm.model.crf_numpy import viterbi_numpy

    tagger = Tagger.load(trained_model)
    assert tagger.evidence_map is not None, "the default recipe adds other mentions' evidence"
    sentences = read_conll(sample / "test.txt") + [Sentence([])]
    rows = tagger.decoding_scores(sentences)
    assert [len(r) for r in rows] == [len(s) for s in sentences]
    network = tagger.emission_rows(sentences)
    assert any(not np.allclose(r, n) for r, n in zip(rows, network)), "evidence changes some scores"
    tags = [tagger.vocab.tags_of(viterbi_numpy(r[None], np.array([len(r)]), tagger.transitions, tagger.start,
                                               tagger.end)[0]) if len(r) else [] for r in rows]
    assert tags == [t.tags for t in tagger.tag(sentences, scores=False)]


def test_decode_gives_what_tag_gives_in_batches_of_the_batch_size(trained_model, sample, monkeypatch):
    tagger = Tagger.load(trained_model)
    tagger.batch_size = 8
    sentences = read_conll(sample / "test.txt") + [Sentence([])]
    decoded_batches = []
    finish = tagger._finish
    monkeypatch.setattr(tagger, "_finish", lambda results, batch, *rest: (decoded_batches.append(len(batch)),
                                                                          finish(results, batch, *rest)))
    decoded = tagger.decode(sentences, tagger.emission_rows(sentences))
    assert 1 < len(decoded_batches) and max(decoded_batches) <= 8, "never one batch padded to the longest sentence"
    tagged = tagger.tag(sentences)
    assert [d.tags for d in decoded] == [t.tags for t in tagged]
    assert [d.confidence for d in decoded] == [t.confidence for t in tagged]


def test_the_first_windows_are_small_and_double_up_to_the_window_size(tmp_path, monkeypatch):
    from ner_lstm.data.sources import read_records
    from ner_lstm.engines import local

    source = write(tmp_path / "in.conll", "".join(f"w{i}\tO\n\n" for i in range(100)))  # a token a record
    records = list(read_records(str(source), "conll"))
    sizes = [len(w) for w in local.windows(records, window_tokens=16, first_tokens=2)]
    assert sizes == [2, 4, 8, 16, 16, 16, 16, 16, 6]
    assert [len(w) for w in local.windows(records, window_tokens=16)] == [16] * 6 + [4]
    monkeypatch.setattr(local, "WINDOW_TOKENS", 32)
    monkeypatch.setattr(local, "FIRST_WINDOW_TOKENS", 2)
    seen = []
    monkeypatch.setattr(local, "_pipelined", lambda tagger, threads, chunks, *rest: seen.extend(map(len, chunks)) or [])
    list(local.rendered_windows(Tagger.__new__(Tagger), records, str))
    assert seen == sizes, "tag's pipeline starts small"


def test_raw_text_is_split_where_it_is_tagged_not_where_it_is_read(tmp_path, monkeypatch):
    import pickle

    from ner_lstm.data import text
    from ner_lstm.data.sources import read_records
    from ner_lstm.engines.local import windows

    source = write(tmp_path / "in.jsonl", '{"text": "Major Tom left. He met Ann in Paris.", "n": 1}\n' * 3)
    calls = []
    monkeypatch.setattr(text, "split_text", lambda *a, **k: calls.append(a) or [])
    records = list(read_records(str(source), "auto"))
    assert [len(w) for w in windows(records, window_tokens=7)] == [1, 1, 1], "sized by words, before any split"
    assert calls == [], "reading and cutting windows tokenise nothing: worker processes do, each its own records"
    monkeypatch.undo()
    sent = pickle.loads(pickle.dumps(records[0]))  # what a worker process receives
    assert [s.tokens for s in sent.sentences] == [["Major", "Tom", "left", "."], ["He", "met", "Ann", "in", "Paris", "."]]
    assert sent.sentences[1].offsets[4] == (30, 35) and sent.fields == {"n": 1} and sent.split_from_text


@pytest.mark.parametrize("cpus, given, network, threads", [(1, None, 1, 1), (2, None, 1, 1), (8, None, 7, 1),
                                                         (8, 4, 1, 4), (16, 4, 3, 4)])
def test_one_process_runs_its_network_in_a_thread_per_cpu_but_one(trained_model, monkeypatch, cpus, given, network, threads):
    from ner_lstm.engines import local

    monkeypatch.setattr(local, "available_cpus", lambda: cpus)
    spec = local.ModelSpec(str(trained_model), threads=given)
    tagger, got = local.in_process(spec)
    assert (got, spec.threads) == (network, threads)
    assert tagger.emissions.session.get_session_options().intra_op_num_threads == threads
    assert local.in_process(spec) == (tagger, network), "the next input reuses the model and its threads"
    assert local.in_process(Tagger.load(trained_model))[1] == 1, "a Tagger loaded elsewhere keeps its threads"


def test_the_next_windows_network_runs_while_one_is_decoded_and_output_keeps_input_order(trained_model, sample,
                                                                                       tmp_path, monkeypatch):
    import threading
    import time

    from ner_lstm.engines import local

    monkeypatch.setattr(local, "available_cpus", lambda: 2)
    events, running, most, lock = [], [0], [0], threading.Lock()
    queue, decode = Tagger.queued_emissions, Tagger.decode

    def queued(self, sentences, network):
        events.append("queued")
        run = self.emissions
        if getattr(run, "watched", False):
            return queue(self, sentences, network)

        def watched(*inputs):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.02)  # long enough for the other network thread to start its batch
            try:
                return run(*inputs)
            finally:
                with lock:
                    running[0] -= 1

        watched.watched = True
        self.emissions = watched  # what the network threads and the waiting thread call
        return queue(self, sentences, network)

    def decoded(self, *args, **kwargs):
        events.append("decoded")
        return decode(self, *args, **kwargs)

    monkeypatch.setattr(Tagger, "queued_emissions", queued)
    monkeypatch.setattr(Tagger, "decode", decoded)
    whole = tmp_path / "whole.jsonl"
    local.tag_files(local.ModelSpec(str(trained_model), batch_size=4), [str(sample / "test.txt")], whole, "conll",
                    "jsonl")
    assert events == ["queued", "decoded"], "one window"
    events.clear()
    monkeypatch.setattr(local, "WINDOW_TOKENS", 120)  # many small windows
    windowed = tmp_path / "windowed.jsonl"
    local.tag_files(local.ModelSpec(str(trained_model), batch_size=4), [str(sample / "test.txt")], windowed, "conll",
                    "jsonl")
    count = events.count("queued")
    assert count > 3 and events == ["queued"] + ["queued", "decoded"] * (count - 1) + ["decoded"], \
        "each window's network runs are queued before the window ahead of it is decoded"
    assert most[0] == 2, "the network runs in a thread per CPU but one, and in the thread waiting for it"
    assert windowed.read_bytes() == whole.read_bytes()


def test_the_thread_waiting_for_the_network_runs_the_batches_no_network_thread_started(trained_model, sample):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    tagger = Tagger.load(trained_model, threads=1)
    tagger.batch_size = 2
    sentences = read_conll(sample / "test.txt")[:9]
    expected = tagger.emission_rows(sentences)
    ran_in, run = [], tagger.emissions
    tagger.emissions = lambda inputs: (ran_in.append(threading.current_thread()), run(inputs))[1]
    busy = threading.Event()
    with ThreadPoolExecutor(1) as network:
        network.submit(busy.wait, 30)  # the one network thread is busy the whole time
        rows = tagger.queued_emissions(sentences, network)()
        busy.set()
    assert len(ran_in) == 5 and set(ran_in) == {threading.current_thread()}, "every batch ran in the waiting thread"
    assert all(np.array_equal(a, b) for a, b in zip(rows, expected)) and len(rows) == len(expected)


def test_json_lines_are_compact_and_what_orjson_refuses_json_writes_or_refuses(trained_model, tmp_path):
    import datetime

    from ner_lstm.data.writers import json_text

    assert json_text({"a": [1, (2, 3)], "t": "Zürich", "s": 0.25}) == '{"a":[1,[2,3]],"t":"Zürich","s":0.25}'
    odd = {"n": 2**70, "s": "x\ud800y"}  # past 64 bits; a lone surrogate
    assert json_text(odd) == json.dumps(odd, ensure_ascii=False, separators=(",", ":"))
    with pytest.raises(TypeError):
        json_text({"when": datetime.date(2026, 12, 6)})
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"text": "Major Tom flew to Paris.", "big": 2**70}) + "\n")
    result = run("tag", "--model", str(trained_model), str(source), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "out.jsonl").read_text())
    assert written["big"] == 2**70 and written["offsets"][:2] == [[0, 5], [6, 9]]


def test_tag_in_one_process_checks_its_model_once_before_reading_input(trained_model, tmp_path, monkeypatch):
    from collections import Counter

    from ner_lstm.engines import local
    from ner_lstm.inference import bundle

    hashed, events = Counter(), []
    sha256 = bundle._sha256
    monkeypatch.setattr(bundle, "_sha256", lambda path: (hashed.update([path.name]), events.append("hash"),
                                                         sha256(path))[2])
    read = local.read_records
    monkeypatch.setattr(local, "read_records", lambda *a, **k: (events.append("read"), read(*a, **k))[1])
    source = write(tmp_path / "in.txt", "Major Tom flew to Paris.\n")
    result = run("tag", "--model", str(trained_model), str(source), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0, result.output
    assert hashed and set(hashed.values()) == {1}, hashed
    assert "read" in events and events.index("read") > max(i for i, e in enumerate(events) if e == "hash")


def test_an_error_in_a_window_is_the_users_error_and_nothing_is_written(trained_model, tmp_path, monkeypatch):
    from ner_lstm.engines import local

    monkeypatch.setattr(local, "WINDOW_TOKENS", 20)
    monkeypatch.setattr(local, "available_cpus", lambda: 2)
    source = tmp_path / "in.jsonl"
    lines = [{"text": f"Major Tom flew to Paris on day {i} ."} for i in range(40)]
    lines[25]["tags"] = ["O"]  # its own field named like ours: refused while its window is rendered
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = run("tag", "--model", str(trained_model), str(source), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code != 0
    assert "would be overwritten" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out.jsonl").exists()


def test_tagging_hands_the_interpreter_over_sooner_and_puts_its_settings_back(trained_model, sample, tmp_path,
                                                                             monkeypatch):
    import gc
    import sys

    from ner_lstm.engines import local

    monkeypatch.setattr(local, "WINDOW_TOKENS", 60)
    seen = []
    decode = Tagger.decode

    def watched(*args, **kwargs):
        seen.append((sys.getswitchinterval(), gc.get_threshold(), gc.get_freeze_count()))
        return decode(*args, **kwargs)

    monkeypatch.setattr(Tagger, "decode", watched)
    before = sys.getswitchinterval(), gc.get_threshold(), gc.get_freeze_count()
    local.tag_files(local.ModelSpec(str(trained_model)), [str(sample / "test.txt")], tmp_path / "out.jsonl", "conll",
                    "jsonl")
    assert seen and all(s[0] == pytest.approx(local.SWITCH_SECONDS) and s[1] == local.GC_THRESHOLD for s in seen)
    assert all(s[2] > 0 for s in seen), "the objects alive before tagging are frozen out of collections"
    assert (sys.getswitchinterval(), gc.get_threshold(), gc.get_freeze_count()) == before

    def failing(*args, **kwargs):
        raise local.NerError("stop")

    monkeypatch.setattr(Tagger, "decode", failing)
    with pytest.raises(local.NerError):
        local.tag_files(local.ModelSpec(str(trained_model)), [str(sample / "test.txt")], tmp_path / "out2.jsonl",
                        "conll", "jsonl")
    assert (sys.getswitchinterval(), gc.get_threshold(), gc.get_freeze_count()) == before


def test_tagging_leaves_a_callers_own_frozen_objects_frozen(trained_model, sample, tmp_path):
    import gc

    from ner_lstm.engines import local

    kept = [object() for _ in range(3)]
    gc.freeze()
    frozen = gc.get_freeze_count()
    try:
        local.tag_files(local.ModelSpec(str(trained_model)), [str(sample / "test.txt")], tmp_path / "out.jsonl",
                        "conll", "jsonl")
        # Frozen objects that die during the run leave the count (CI saw 2 go), so it can only shrink:
        # not frozen again by us (no more), and not released (gc.unfreeze would make it 0).
        assert frozen // 2 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()
    assert kept
