"""Bad input, broken models and interruptions through the real CLI: one clear line, the right exit code,
no traceback, and no input file changed."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ner_lstm.cli import app
from ner_lstm.data.corpus import read_conll
from ner_lstm.data.sources import read_records
from ner_lstm.errors import InputError, InputWarning
from ner_lstm.inference.bundle import write_manifest

GOOD = "Major B-PER\nTom I-PER\nleft O\nLondon B-LOC\n"

# name: (file bytes, exit code, the one-line message's fragment, or for accepted files the entity count)
BAD_CORPORA = {
    "empty": (b"", 2, "contains no sentences"),
    "only_docstart": (b"-DOCSTART- -X- -X- O\n\n", 2, "contains no sentences"),
    "too_few_columns": (b"Major B-PER\nTom\n", 2, ":2: expected at least 2 columns"),
    "tag_PERSON": (b"Major PERSON\n", 2, ":1: tag 'PERSON' fits no scheme"),
    "tag_B_PER": (b"Major B_PER\n", 2, ":1: tag 'B_PER' fits no scheme"),
    "invalid_utf8": (b"Major B-PER\nM\xfcller I-PER\n", 2, ":2: not valid utf-8 at byte 1"),
    "gzip": (gzip.compress(GOOD.encode()), 0, 2),  # corpora ship compressed: read as the text they hold
    "damaged_gzip": (b"\x1f\x8b" + bytes(100), 2, "cannot be decompressed"),
    "binary": (b"\x7fELF\x00\x00\x01\x02", 2, "binary file"),
    "iob1": (b"Major I-PER\nTom I-PER\nleft O\nLondon I-LOC\n", 0, 2),
    "mixed_tabs_spaces": (b"Major\tNNP B-PER\nTom NNP\tI-PER\nleft O\n", 0, 1),
    "crlf_bom": (b"\xef\xbb\xbfMajor B-PER\r\nTom I-PER\r\n", 0, 1),
}


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_one_line_error(result, code: int, fragment: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ner-lstm: error: ") and fragment in lines[0], lines[0]
    assert "Traceback" not in result.output + result.stderr


@pytest.mark.parametrize("name", sorted(BAD_CORPORA))
def test_evaluate_on_each_corpus(trained_model, tmp_path, name):
    content, code, fragment = BAD_CORPORA[name]
    path = tmp_path / f"{name}.txt"
    path.write_bytes(content)
    before = digest(path)
    result = run("evaluate", "--model", str(trained_model), str(path), "--json")
    if code == 0:
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["support"] == fragment, "every entity read (IOB1 converted)"
    else:
        assert_one_line_error(result, code, fragment)
        assert str(path) in result.stderr
    assert digest(path) == before


@pytest.mark.parametrize("name", ["too_few_columns", "tag_B_PER", "damaged_gzip", "empty"])
def test_train_on_bad_corpus_writes_nothing(tmp_path, name):
    content, code, fragment = BAD_CORPORA[name]
    path = tmp_path / "train.txt"
    path.write_bytes(content)
    result = run("train", "--train", str(path), "--model", str(tmp_path / "m"))
    assert_one_line_error(result, code, fragment)
    assert not (tmp_path / "m").exists()


def test_invalid_utf8_reads_with_explicit_encoding(trained_model, tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Major B-PER\nMüller I-PER\n".encode("latin-1"))
    result = run("evaluate", "--model", str(trained_model), str(path), "--encoding", "latin-1", "--json")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("args, fragment", [
    (["evaluate", "{missing}"], "no such file"),
    (["evaluate", "{dir}"], "is a directory"),
    (["tag", "{missing}"], "no such file"),
    (["tag", "{dir}/*.nothing"], "matches no files"),
])
def test_missing_inputs(trained_model, tmp_path, args, fragment):
    filled = [a.format(missing=tmp_path / "missing.txt", dir=tmp_path) for a in args]
    result = run(filled[0], "--model", str(trained_model), *filled[1:])
    assert_one_line_error(result, 2, fragment)


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_empty_predict_text(trained_model, text):
    assert_one_line_error(run("predict", "--model", str(trained_model), text), 2, "nothing to tag")


def test_long_sentence_and_long_token_are_tagged_whole(trained_model, tmp_path):
    tokens = ["London"] * 10_000
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps({"tokens": tokens}) + "\n" + json.dumps({"tokens": ["x" * 5000, "Tom"]}) + "\n")
    result = run("tag", "--model", str(trained_model), str(path))
    assert result.exit_code == 0, result.output
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(first["tags"]) == 10_000
    assert len(second["tokens"][0]) == 5000 and len(second["tags"]) == 2


def test_emoji_and_combining_characters_keep_offsets(trained_model):
    text = "Zoë 😀 met Jose\u0301 Marti\u0301 in Köln 🇩🇪 and Major Tom."
    result = run("predict", "--model", str(trained_model), "--format", "json", text)
    record = json.loads(result.stdout)
    for token, (start, end) in zip(record["tokens"], record["offsets"]):
        assert text[start:end] == token
    for entity in record["entities"]:
        assert text[entity["start"]:entity["end"]] == entity["text"]


# --- models ----------------------------------------------------------------------------------------
def broken_copy(trained_model: Path, tmp_path: Path, damage) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(trained_model, copy)
    damage(copy)
    return copy


# Damage the manifest does not see (it was rewritten after the damage): the loader's own checks.
@pytest.mark.parametrize("damage, fragment", [
    (lambda m: (m / "config.json").unlink(), "incomplete model directory (missing config.json)"),
    (lambda m: (m / "model.keras").write_bytes(b"PK\x03\x04 truncated"), "model.keras: cannot be loaded"),
    (lambda m: (m / "model.onnx").write_bytes(b"garbage"), "model.onnx: cannot be loaded"),
    (lambda m: (m / "vocab.json").write_text('{"words": [}'), "vocab.json: unreadable or not valid JSON"),
    (lambda m: (m / "crf.json").write_text('{"transitions": [[1]], "start": [0], "end": [0]}'), "do not match"),
    (lambda m: (m / "config.json").write_text(json.dumps({"format_version": 0})), "model format version 0"),
    (lambda m: np.save(m / "glove.npy", np.zeros((3, 50), np.float32)), "glove.npy: shape (3, 50) does not match the 400000 GloVe words"),
])
def test_damaged_models(trained_model, tmp_path, damage, fragment):
    model = broken_copy(trained_model, tmp_path, lambda m: (damage(m), write_manifest(m)))
    backend = "keras" if "model.keras" in fragment else "auto"
    result = run("predict", "--model", str(model), "--backend", backend, "Major Tom")
    assert_one_line_error(result, 2, fragment)


@pytest.mark.parametrize("damage, fragment", [
    (lambda m: (m / "glove.npy").unlink(), "glove.npy: missing (listed in manifest.json)"),
    (lambda m: (m / "model.onnx").write_bytes(b"garbage"), "model.onnx: 7 bytes, the manifest says"),
    (lambda m: (m / "vocab.json").write_text("{}"), "vocab.json: 2 bytes, the manifest says"),
])
def test_damage_after_saving_is_caught_by_the_manifest(trained_model, tmp_path, damage, fragment):
    model = broken_copy(trained_model, tmp_path, damage)
    assert_one_line_error(run("predict", "--model", str(model), "Major Tom"), 2, fragment)
    assert_one_line_error(run("tag", "--model", str(model), "-"), 2, fragment)


def test_info_verify_compares_hashes(trained_model, tmp_path):
    model = broken_copy(trained_model, tmp_path, lambda m: None)
    result = run("info", "--model", str(model), "--verify")
    assert result.exit_code == 0 and "files match the manifest's SHA-256" in result.stdout
    labels = (model / "crf.json").read_text()
    (model / "crf.json").write_text(labels.replace("0", "1", 1))  # same size: hashed at every load
    assert_one_line_error(run("info", "--model", str(model)), 2, "crf.json: SHA-256 differs")
    assert_one_line_error(run("predict", "--model", str(model), "Major Tom"), 2, "crf.json: SHA-256 differs")
    (model / "crf.json").write_text(labels)
    table = np.load(model / "glove.npy")
    table[5, 1] = -table[5, 1] + 1.0
    np.save(model / "glove.npy", table)  # same size and shape: only --verify hashes the vector table
    assert run("info", "--model", str(model)).exit_code == 0
    assert_one_line_error(run("info", "--model", str(model), "--verify"), 2, "glove.npy: SHA-256 differs")


def test_a_model_without_its_onnx_export_is_an_error_never_a_fallback(trained_model, tmp_path):
    model = broken_copy(trained_model, tmp_path, lambda m: ((m / "model.onnx").unlink(), write_manifest(m)))
    for command in (["predict", "--model", str(model), "Major Tom"], ["tag", "--model", str(model), "-"],
                    ["predict", "--model", str(model), "--backend", "keras", "Major Tom"]):
        assert_one_line_error(run(*command), 2, "incomplete model directory (missing model.onnx)")
    added = broken_copy(trained_model, tmp_path / "added", lambda m: None)
    manifest = json.loads((added / "manifest.json").read_text())
    del manifest["files"]["model.onnx"]
    (added / "manifest.json").write_text(json.dumps(manifest))
    assert_one_line_error(run("predict", "--model", str(added), "Major Tom"), 2,
                          "model.onnx: not listed in manifest.json")


def test_half_written_model_directory(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    assert_one_line_error(run("info", "--model", str(model)), 2, "incomplete model directory")


# --- properties ------------------------------------------------------------------------------------
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400) | st.text(max_size=400).map(lambda t: t.encode("utf-8")))
def test_conll_reader_accepts_or_explains(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("prop") / "any.txt"
    path.write_bytes(content)
    try:
        sentences = read_conll(path)
    except InputError as err:
        assert str(err).startswith(str(path)) and "\n" not in str(err)
    else:
        assert all(len(s.tokens) == len(s.tags) > 0 for s in sentences)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300), st.sampled_from(["text", "conll", "jsonl"]))
def test_tag_readers_accept_or_explain(tmp_path_factory, text, input_format):
    path = tmp_path_factory.mktemp("prop") / "any"
    path.write_text(text, encoding="utf-8")
    try:
        records = list(read_records(str(path), input_format, "utf-8", announce=False))
    except InputError as err:
        assert str(err).startswith(str(path)) and "\n" not in str(err)
    else:
        for record in records:
            for sentence in record.sentences:
                if sentence.offsets:
                    for token, (start, end) in zip(sentence.tokens, sentence.offsets):
                        assert sentence.text[start:end] == token


# --- interruptions ---------------------------------------------------------------------------------
def start_training(model: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "ner_lstm", "train", "--train", str(SAMPLE / "train.txt"),
               "--dev", str(SAMPLE / "dev.txt"), "--model", str(model), "--embeddings", "none", "--seed", "5", *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)


def default_sigint() -> None:
    """A runner started in the background has SIGINT ignored, and children inherit that; these tests
    need the process a terminal would start."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.2)


def test_sigkill_then_resume(tmp_path):
    model = tmp_path / "m"
    checkpoint = tmp_path / ".m.checkpoint" / "state.json"
    process = start_training(model, "--epochs", "40", "--patience", "40")
    wait_for(checkpoint, process)
    time.sleep(1.5)  # somewhere inside a later epoch, perhaps mid-save
    process.kill()
    process.wait()
    assert (model / "model.keras").is_file() and (model / "config.json").is_file(), "the model directory is complete"
    assert run("info", "--model", str(model)).exit_code == 0
    state = json.loads(checkpoint.read_text())["state"]
    result = subprocess.run([sys.executable, "-m", "ner_lstm", "train", "--train", str(SAMPLE / "train.txt"),
                             "--dev", str(SAMPLE / "dev.txt"), "--model", str(model), "--resume", "--seed", "5", "--embeddings", "none",
                             "--epochs", str(state["epoch"] + 2), "--patience", "40"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    log = [json.loads(line) for line in (model / "training.jsonl").read_text().splitlines()]
    assert [entry["epoch"] for entry in log] == list(range(1, state["epoch"] + 3))
    assert (model / "model.onnx").is_file() and not checkpoint.exists()


def test_resume_refuses_other_options_or_data(tmp_path):
    model = tmp_path / "m"
    process = start_training(model, "--epochs", "40", "--patience", "40")
    wait_for(tmp_path / ".m.checkpoint" / "state.json", process)
    process.kill()
    process.wait()
    base = ["train", "--train", str(SAMPLE / "train.txt"), "--model", str(model), "--resume", "--embeddings", "none"]
    assert_one_line_error(run(*base, "--dev", str(SAMPLE / "dev.txt"), "--seed", "5", "--batch-size", "8"), 2,
                          "the interrupted run used --batch-size 32, this one 8")
    assert_one_line_error(run(*base, "--dev", str(SAMPLE / "test.txt"), "--seed", "5"), 2,
                          "the interrupted run trained on other data")


def test_ctrl_c_keeps_the_best_model(tmp_path):
    model = tmp_path / "m"
    process = start_training(model, "--epochs", "40", "--patience", "40")
    wait_for(tmp_path / ".m.checkpoint" / "state.json", process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted: the best model so far" in stderr and str(model) in stderr and "--resume" in stderr
    assert "Traceback" not in stderr
    assert run("info", "--model", str(model)).exit_code == 0


# --- tag worker processes --------------------------------------------------------------------------
def many_records(path: Path, lines: int) -> Path:
    """Pre-tokenised JSONL, cheap to read, enough for several windows."""
    record = json.dumps({"tokens": "Major Tom left London for Paris on Monday .".split()}) + "\n"
    path.write_text(record * lines)
    return path


def test_a_model_that_fails_to_load_in_a_worker_is_a_one_line_error(trained_model, tmp_path):
    def damage(m: Path) -> None:
        (m / "model.onnx").write_bytes(b"garbage")
        write_manifest(m)  # consistent on disk: only loading it fails, inside the workers

    model = broken_copy(trained_model, tmp_path, damage)
    source = many_records(tmp_path / "in.jsonl", 14_000)  # 126k tokens: three windows, so workers start
    result = run("tag", "--model", str(model), str(source), "-o", str(tmp_path / "out.jsonl"), "--processes", "2",
                 "--input-format", "jsonl")
    assert_one_line_error(result, 2, "model.onnx: cannot be loaded")
    assert not (tmp_path / "out.jsonl").exists()


def test_ctrl_c_during_tag_prints_no_worker_tracebacks(trained_model, tmp_path):
    source = many_records(tmp_path / "in.jsonl", 400_000)  # minutes of work: still running at the Ctrl-C
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "ner_lstm", "tag", "--model", str(trained_model), str(source),
                                "-o", str(out), "--processes", "2"], stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=default_sigint)
    progress = tmp_path / ".out.jsonl.progress.json"
    deadline = time.monotonic() + 120
    while not progress.exists():  # the workers are started and have finished a window
        assert time.monotonic() < deadline and process.poll() is None, "still tagging when interrupted"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C does: the whole process group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0] == f"ner-lstm: {source}: reading as jsonl", stderr
    assert lines[1].startswith("ner-lstm: error: interrupted: ") and "--resume" in lines[1], "no worker tracebacks"
    assert not out.exists(), "no half-written output under the output's name"
    assert (tmp_path / ".out.jsonl.partial").is_file(), "the complete windows are kept for --resume"


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f"PPid:\t{pid}\n" in (entry / "status").read_text():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_worker_processes_end_when_tag_is_killed(trained_model, tmp_path):
    source = many_records(tmp_path / "in.jsonl", 400_000)  # minutes of work: still running at the kill
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "ner_lstm", "tag", "--model", str(trained_model), str(source),
                                "-o", str(out), "--processes", "2"], stderr=subprocess.DEVNULL)
    progress = tmp_path / ".out.jsonl.progress.json"
    deadline = time.monotonic() + 120
    while not progress.exists():  # the workers are started and have finished a window
        assert time.monotonic() < deadline and process.poll() is None, "still tagging when killed"
        time.sleep(0.05)
    workers = children(process.pid)
    assert len(workers) >= 2, "worker processes (and the pool's resource tracker) are running"
    process.kill()  # SIGKILL: no handler of ours runs
    process.wait()
    deadline = time.monotonic() + 10
    while [pid for pid in workers if Path(f"/proc/{pid}").exists()
           and "multiprocessing.spawn" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")]:
        assert time.monotonic() < deadline, "a worker outlived its killed parent, holding its model's memory"
        time.sleep(0.1)


def test_sigkill_mid_file_then_resume_gives_the_uninterrupted_output(trained_model, tmp_path, sample):
    sentences = [s.tokens for s in read_conll(sample / "test.txt")]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"tokens": sentences[i % len(sentences)], "n": i}) + "\n"
                              for i in range(40_000)))
    command = [sys.executable, "-m", "ner_lstm", "tag", "--model", str(trained_model), str(source), "-o"]
    subprocess.run(command + [str(tmp_path / "whole.jsonl")], check=True, capture_output=True)
    out, progress = tmp_path / "out.jsonl", tmp_path / ".out.jsonl.progress.json"
    process = subprocess.Popen(command + [str(out)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not progress.exists() or json.loads(progress.read_text())["records"] == 0:
        assert time.monotonic() < deadline and process.poll() is None, "no window was completed"
        time.sleep(0.05)
    process.kill()
    process.wait()
    done = json.loads(progress.read_text())["records"]
    assert 0 < done < 40_000 and not out.exists()
    resumed = subprocess.run(command + [str(out), "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed after {done} records" in resumed.stderr
    assert out.read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    assert not progress.exists() and not (tmp_path / ".out.jsonl.partial").exists()


def test_every_writer_publishes_durably_file_and_directory(trained_model, tmp_path, monkeypatch):
    import ner_lstm.files as files
    from ner_lstm.engines.local import tag_files
    from ner_lstm.inference.tagger import Tagger

    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(files.os, "fsync", spy)
    files.write_json(tmp_path / "a.json", {"a": 1})
    assert str(tmp_path) in synced and any(p.startswith(str(tmp_path / ".a.json.")) for p in synced), synced
    source = tmp_path / "in.txt"
    source.write_text("Major Tom flew to Paris .\n")
    synced.clear()
    tag_files(Tagger.load(trained_model), [str(source)], tmp_path / "out" / "tagged.jsonl")
    assert str(tmp_path / "out") in synced and str(tmp_path / "out" / ".tagged.jsonl.partial") in synced, synced


def interrupt_reading(monkeypatch, after: int) -> None:
    """Windows of a few records, and a Ctrl-C as the record numbered `after` is read."""
    import ner_lstm.engines.local as local

    real = local.read_records

    def reader(*args, **kwargs):
        for number, record in enumerate(real(*args, **kwargs)):
            if number == after:
                raise KeyboardInterrupt
            yield record

    monkeypatch.setattr(local, "read_records", reader)


@pytest.mark.parametrize("output_format", ["html", "labelstudio", "jsonl"])
@pytest.mark.parametrize("after", [0, 9])
def test_interrupted_then_resumed_output_equals_the_uninterrupted_one(trained_model, tmp_path, monkeypatch,
                                                                      output_format, after):
    import ner_lstm.engines.local as local
    from ner_lstm.engines.local import tag_files
    from ner_lstm.errors import Interrupted
    from ner_lstm.inference.tagger import Tagger

    tagger = Tagger.load(trained_model)
    monkeypatch.setattr(local, "WINDOW_TOKENS", 20)
    source = tmp_path / "in.txt"
    source.write_text("".join(f"Major Tom flew to Paris on day {i} .\n" for i in range(30)))
    whole, out = tmp_path / "whole", tmp_path / "out"
    tag_files(tagger, [str(source)], whole, output_format=output_format)
    with monkeypatch.context() as interrupted:
        interrupt_reading(interrupted, after)
        with pytest.raises(Interrupted):
            tag_files(tagger, [str(source)], out, output_format=output_format)
    assert not out.exists() and (tmp_path / ".out.partial").is_file()
    tag_files(tagger, [str(source)], out, output_format=output_format, resume=True)
    assert out.read_bytes() == whole.read_bytes(), "no NUL bytes, no second head, no stray separator"


def test_resume_on_standard_input_refuses_other_content(trained_model, tmp_path, monkeypatch):
    import io

    import ner_lstm.engines.local as local
    from ner_lstm.engines.local import tag_files
    from ner_lstm.errors import Interrupted, UsageError
    from ner_lstm.inference.tagger import Tagger

    tagger = Tagger.load(trained_model)
    monkeypatch.setattr(local, "WINDOW_TOKENS", 20)
    first = "".join(f"Major Tom flew to Paris on day {i} .\n" for i in range(30)).encode()
    other = "".join(f"Ground Control called Oslo on day {i} .\n" for i in range(30)).encode()

    def tag_stdin(data: bytes, out: Path, resume: bool = False) -> dict:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        return tag_files(tagger, ["-"], out, input_format="text", resume=resume)

    tag_stdin(first, tmp_path / "whole.jsonl")
    out = tmp_path / "out.jsonl"
    with monkeypatch.context() as interrupted:
        interrupt_reading(interrupted, 12)
        with pytest.raises(Interrupted):
            tag_stdin(first, out)
    partial = (tmp_path / ".out.jsonl.partial").read_bytes()
    with pytest.raises(UsageError, match="-: its first .* records are not those of the run being resumed"):
        tag_stdin(other, out, resume=True)
    assert (tmp_path / ".out.jsonl.partial").read_bytes() == partial and not out.exists(), "nothing spliced on"
    assert tag_stdin(first, out, resume=True)["resumed_records"] > 0
    assert out.read_bytes() == (tmp_path / "whole.jsonl").read_bytes()


# --- invisible characters ---------------------------------------------------------------------------
def test_lines_of_invisible_characters_read_as_blank_with_one_warning(trained_model, tmp_path):
    path = tmp_path / "wnut_like.txt"
    path.write_text("Major B-PER\nTom I-PER\n\ufeff\nleft O\n\u200b\nLondon B-LOC\n\u00a0\nOslo B-LOC\n", "utf-8")
    with pytest.warns(InputWarning, match="3 line\\(s\\) holding only invisible characters .* first at line 3"):
        assert [s.tokens for s in read_conll(path)] == [["Major", "Tom"], ["left"], ["London"], ["Oslo"]]
    result = run("evaluate", "--model", str(trained_model), str(path), "--json")
    assert result.exit_code == 0, result.output
    warnings_printed = [line for line in result.stderr.splitlines() if line.startswith("ner-lstm: warning:")]
    assert len(warnings_printed) == 1 and "3 line(s)" in warnings_printed[0] and str(path) in warnings_printed[0]
    assert json.loads(result.stdout)["support"] == 3
