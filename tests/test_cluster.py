"""`tag --engine ray`: shards cut on record boundaries, output equal to the local engine's, exactly once
through a killed worker and a killed driver. Ray runs locally: `ray.init(num_cpus=2)`, one shared fixture."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("ray")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from ner_lstm.data.corpus import read_conll  # noqa: E402
from ner_lstm.data.sources import Fields, read_records  # noqa: E402
from ner_lstm.engines.cluster import RayOptions, tag_on_ray  # noqa: E402
from ner_lstm.engines.local import ModelSpec, tag_files  # noqa: E402
from ner_lstm.engines.shards import MANIFEST, ShardManifest, file_shards, remove_temporaries  # noqa: E402
from ner_lstm.errors import NerError, UsageError  # noqa: E402
from ner_lstm.inference.tagger import Tagger  # noqa: E402

SHARD = 2_000  # bytes: a few sentences per shard, so small inputs make many shards


@pytest.fixture(scope="session")
def ray_cluster():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="session")
def inputs(tmp_path_factory, sample) -> dict[str, Path]:
    """The sample's test sentences in each input format (text and JSONL with extra fields)."""
    folder = tmp_path_factory.mktemp("inputs")
    sentences = [s.tokens for s in read_conll(sample / "test.txt")] * 3
    text = folder / "lines.txt"
    text.write_text("".join(" ".join(tokens) + "\n" + ("\n" if i % 7 == 0 else "") for i, tokens in enumerate(sentences)))
    jsonl = folder / "records.jsonl"
    jsonl.write_text("".join(json.dumps({"tokens": t, "n": i} if i % 2 else {"text": " ".join(t), "n": i}) + "\n"
                             for i, t in enumerate(sentences)))
    parquet = folder / "rows.parquet"
    pq.write_table(pa.Table.from_pylist([{"text": " ".join(t), "n": i} for i, t in enumerate(sentences)]), parquet,
                   row_group_size=50)
    conll = folder / "gold.conll"
    blocks = (sample / "test.txt").read_text().strip().split("\n\n")
    conll.write_text("".join("-DOCSTART- O\n\n" + "\n\n".join(blocks[i:i + 5]) + "\n\n"
                             for i in range(0, len(blocks), 5)) * 3)  # documents of five sentences
    return {"text": text, "jsonl": jsonl, "parquet": parquet, "conll": conll}


def records_by_key(paths) -> dict[tuple[str, int], dict]:
    """Every output record by (source, id); a record seen twice fails the test."""
    found: dict[tuple[str, int], dict] = {}
    for path in paths:
        rows = pq.read_table(path).to_pylist() if path.suffix == ".parquet" else map(json.loads, path.open())
        for row in rows:
            key = (row["source"], row["id"])
            assert key not in found, f"{key} written twice"
            found[key] = row
    return found


def local_output(model: Path, source: Path, tmp_path: Path, output_format: str = "jsonl") -> dict:
    out = tmp_path / f"local-{source.stem}.{output_format}"
    tag_files(ModelSpec(str(model)), [str(source)], out, output_format=output_format)
    return records_by_key([out])


def shards_of(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*"))


# --- cutting inputs into shards (no Ray needed) ------------------------------------------------------
@pytest.mark.parametrize("fmt", ["text", "jsonl", "conll", "parquet"])
def test_shards_hold_the_same_records_as_the_whole_file(inputs, fmt):
    source = str(inputs[fmt])
    shards = list(file_shards(source, 3, "auto", SHARD))
    assert len(shards) > 3 and [s.block for s in shards] == list(range(len(shards)))
    assert {s.input_format for s in shards} == {fmt} and {s.file for s in shards} == {3}
    whole = [(r.id, [s.tokens for s in r.sentences], r.fields) for r in read_records(source, fmt, announce=False)]
    pieces = [(r.id, [s.tokens for s in r.sentences], r.fields) for shard in shards for r in shard.records(Fields())]
    assert pieces == whole
    if fmt != "parquet":
        assert b"".join(s.data for s in shards) == inputs[fmt].read_bytes()
    if fmt == "conll":
        assert all(s.data.startswith(b"-DOCSTART-") for s in shards), "no document is split between shards"
        assert {len(r.sentences) for shard in shards for r in shard.records(Fields())} == {5}, "a record per document"


def test_a_conll_file_without_documents_is_cut_between_sentences(inputs, tmp_path):
    plain = tmp_path / "plain.conll"
    plain.write_bytes(inputs["conll"].read_bytes().replace(b"-DOCSTART- O\n\n", b""))
    shards = list(file_shards(str(plain), 0, "auto", SHARD))
    assert len(shards) > 3 and all(s.data.endswith(b"\n\n") for s in shards[:-1]), "no sentence is split"
    assert {len(r.sentences) for shard in shards for r in shard.records(Fields())} == {1}, "a record per sentence"


def test_the_same_file_is_always_cut_the_same_way(inputs):
    first = [(s.first, s.data) for s in file_shards(str(inputs["jsonl"]), 0, "jsonl", SHARD)]
    assert first == [(s.first, s.data) for s in file_shards(str(inputs["jsonl"]), 0, "jsonl", SHARD)]


# --- Ray output equals the local engine's ---------------------------------------------------------
@pytest.mark.parametrize("fmt", ["text", "conll", "jsonl", "parquet"])
def test_ray_output_equals_the_local_engines(ray_cluster, trained_model, inputs, tmp_path, fmt):
    out = tmp_path / "shards"
    done = tag_on_ray(trained_model, [str(inputs[fmt])], str(out), RayOptions(shard_bytes=SHARD, workers=2))
    expected = local_output(trained_model, inputs[fmt], tmp_path)
    assert done["shards"] == len(shards_of(out)) > 3 and done["records"] == len(expected)
    assert records_by_key(shards_of(out)) == expected
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["complete"] and set(manifest["shards"]) == {p.name for p in shards_of(out)}
    assert sum(s["records"] for s in manifest["shards"].values()) == len(expected)
    assert not [p for p in out.iterdir() if ".tmp-" in p.name]


def test_parquet_shards_equal_the_local_parquet_output(ray_cluster, trained_model, inputs, tmp_path):
    out = tmp_path / "shards"
    tag_on_ray(trained_model, [str(inputs["jsonl"]), str(inputs["parquet"])], str(out),
               RayOptions(output_format="parquet", shard_bytes=SHARD))
    expected = {**local_output(trained_model, inputs["jsonl"], tmp_path, "parquet"),
                **local_output(trained_model, inputs["parquet"], tmp_path, "parquet")}
    got = records_by_key(shards_of(out))
    assert {p.suffix for p in shards_of(out)} == {".parquet"}
    assert got.keys() == expected.keys()
    for key, row in got.items():  # shards are separate files: a column absent from one shard is not null-filled
        assert {k: v for k, v in row.items() if v is not None} == {k: v for k, v in expected[key].items()
                                                                     if v is not None}


def test_uris_are_read_and_written_through_pyarrow_filesystems(ray_cluster, trained_model, inputs, tmp_path):
    """The code path of s3:// and gs:// inputs (listing, globbing, reading, writing), on file:// URIs."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in ("jsonl", "text"):
        (folder / inputs[name].name).write_bytes(inputs[name].read_bytes())
    out = tmp_path / "shards"
    done = tag_on_ray(trained_model, [f"file://{folder}/*.jsonl", f"file://{folder}/lines.txt"], f"file://{out}",
                      RayOptions(shard_bytes=SHARD))
    got = records_by_key(shards_of(out))
    assert done["records"] == len(got) and {source for source, _ in got} == {f"file://{folder}/records.jsonl",
                                                                              f"file://{folder}/lines.txt"}
    for path in (folder / "records.jsonl", folder / "lines.txt"):
        expected = local_output(trained_model, path, tmp_path)
        assert {(f"file://{s}", i): {**r, "source": f"file://{s}"} for (s, i), r in expected.items()} == {
            key: row for key, row in got.items() if key[0] == f"file://{path}"}
    assert json.loads((out / MANIFEST).read_text())["complete"]


# --- exactly once -----------------------------------------------------------------------------------
def actor_pids() -> list[int]:
    """Processes of the tagging actors (Ray names them after the map operator)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"ShardTagger" in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def big_input(tmp_path: Path, sample: Path, copies: int) -> Path:
    sentences = [s.tokens for s in read_conll(sample / "test.txt")]
    source = tmp_path / "big.jsonl"
    source.write_text("".join(json.dumps({"tokens": sentences[i % len(sentences)], "n": i}) + "\n"
                              for i in range(copies * len(sentences))))
    return source


def test_a_worker_killed_mid_run_is_retried_and_every_record_written_once(ray_cluster, trained_model, sample,
                                                                         tmp_path):
    source = big_input(tmp_path, sample, 60)
    out = tmp_path / "shards"
    result: dict = {}
    run = threading.Thread(target=lambda: result.update(tag_on_ray(
        trained_model, [str(source)], str(out), RayOptions(shard_bytes=SHARD, workers=1))))
    run.start()
    deadline = time.monotonic() + 120
    while not shards_of(out) or not actor_pids():
        assert time.monotonic() < deadline and run.is_alive(), "no shard was written"
        time.sleep(0.02)
    for pid in actor_pids():
        os.kill(pid, signal.SIGKILL)
    done_at_kill = len(shards_of(out))
    assert run.is_alive(), "the worker was killed before the run ended"
    run.join(180)
    assert result, "the run did not complete after its worker was killed"
    assert result["shards"] > done_at_kill, "shards were tagged after the kill, by a restarted worker"
    assert records_by_key(shards_of(out)) == local_output(trained_model, source, tmp_path)
    assert json.loads((out / MANIFEST).read_text())["complete"]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ner_lstm", "tag", "--engine", "ray", *args]


def test_driver_killed_then_resume_writes_the_rest_once_and_leaves_done_shards_alone(ray_cluster, trained_model,
                                                                                   sample, tmp_path):
    source = big_input(tmp_path, sample, 200)
    out = tmp_path / "shards"
    command = cli("--address", ray_cluster, "--model", str(trained_model), str(source), "-o", str(out),
                  "--shard-size", str(SHARD), "--actors", "1")
    driver = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = out / MANIFEST
    deadline = time.monotonic() + 120
    while not manifest.exists() or not json.loads(manifest.read_text())["shards"]:
        assert time.monotonic() < deadline and driver.poll() is None, "no shard was recorded"
        time.sleep(0.02)
    driver.kill()
    driver.wait()
    recorded = json.loads(manifest.read_text())
    assert not recorded["complete"]
    before = {name: (out / name).stat() for name in recorded["shards"]}
    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"skipped {len(before)} shard(s) already tagged" in resumed.stderr
    for name, stat in before.items():  # completed shards untouched: same file, not rewritten
        now = (out / name).stat()
        assert (now.st_ino, now.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns), name
    assert records_by_key(shards_of(out)) == local_output(trained_model, source, tmp_path)
    final = json.loads(manifest.read_text())
    assert final["complete"] and set(final["shards"]) == {p.name for p in shards_of(out)}


# --- errors a user can cause ------------------------------------------------------------------------
def test_a_bad_record_in_a_shard_is_one_line_naming_file_and_line(ray_cluster, trained_model, inputs, tmp_path):
    source = tmp_path / "bad.jsonl"
    lines = inputs["jsonl"].read_text().splitlines(keepends=True)
    source.write_text("".join(lines[:40]) + "{not json\n" + "".join(lines[40:]))
    # Relative paths, from a folder that is not the cluster's: workers must find the input all the same.
    result = subprocess.run(cli("--address", ray_cluster, "--model", str(trained_model), source.name, "-o", "out",
                                "--shard-size", str(SHARD)), capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "ner-lstm: warning: bad.jsonl:41: not valid JSON" in result.stderr
    assert "ner-lstm: error: bad.jsonl:41: not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert not manifest["complete"]
    assert all(type(info[key]) is int for info in manifest["shards"].values()  # noqa: E721 - not 1.0, not True
               for key in ("file", "block", "first_id", "last_id", "records")), "whole numbers beside the error row"
    lines_done = {n for info in manifest["shards"].values() for n in range(int(info["first_id"]), int(info["last_id"]) + 1)}
    assert {1, len(lines) + 1} <= lines_done, "the shards before and after the bad line are done"
    assert 41 not in lines_done, "the bad line's shard is not"


def test_an_input_the_read_task_refuses_is_an_error_naming_it(ray_cluster, trained_model, tmp_path):
    source = tmp_path / "notes.txt"
    source.write_bytes(b"\x1f\x8b" + bytes(100))
    with pytest.raises(NerError, match="notes.txt: is a gzip file"):
        tag_on_ray(trained_model, [str(source)], str(tmp_path / "out"), RayOptions())


def test_an_earlier_run_is_never_overwritten_and_resume_needs_the_same_run(tmp_path):
    import pyarrow.fs as pafs

    fs, root = pafs.LocalFileSystem(), str(tmp_path)
    ShardManifest(fs, root, {"inputs": ["a"]}, resume=False).save()
    with pytest.raises(UsageError, match="holds the shards of an earlier run; pass --resume"):
        ShardManifest(fs, root, {"inputs": ["a"]}, resume=False)
    with pytest.raises(UsageError, match="other inputs, options or model"):
        ShardManifest(fs, root, {"inputs": ["b"]}, resume=True)
    assert ShardManifest(fs, root, {"inputs": ["a"]}, resume=True).resumed == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "part-00000-00000.jsonl").write_text("mine\n")
    with pytest.raises(UsageError, match="part-\\* files but no _manifest.json"):
        ShardManifest(fs, str(other), {}, resume=False)


def test_the_manifest_is_written_before_any_shard_so_a_kill_after_the_first_shard_can_resume(tmp_path):
    import pyarrow.fs as pafs

    fs, root = pafs.LocalFileSystem(), str(tmp_path)
    ShardManifest(fs, root, {"inputs": ["a"]}, resume=False)
    assert json.loads((tmp_path / MANIFEST).read_text()) == {"identity": {"inputs": ["a"]}, "complete": False,
                                                              "shards": {}}
    (tmp_path / "part-00000-00000.jsonl").write_text("tagged, then the driver was killed\n")
    resumed = ShardManifest(fs, root, {"inputs": ["a"]}, resume=True)
    assert resumed.resumed == 0 and resumed.done() == set(), "the unrecorded shard is tagged again"


def test_model_file_names_are_file_names_and_the_node_cache_keeps_the_latest(trained_model, tmp_path):
    from ner_lstm.engines.cluster import KEEP_CACHED_MODELS, materialise_model, model_files

    files = model_files(trained_model)
    for bad in ("../escaped", "/tmp/absolute", "sub/dir"):
        with pytest.raises(UsageError, match="not a file name"):
            materialise_model({**files, bad: b"x"}, cache=tmp_path / "cache")
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "cache").exists()
    placed = []
    for i in range(4):  # four different models (their manifests differ)
        manifest = json.loads(files["manifest.json"])
        manifest["run"] = i
        placed.append(materialise_model({**files, "manifest.json": json.dumps(manifest).encode()},
                                        cache=tmp_path / "cache"))
        os.utime(placed[-1], (time.time() - 100 + i, time.time() - 100 + i))
    assert sorted((tmp_path / "cache").iterdir()) == sorted(placed[-KEEP_CACHED_MODELS:])
    assert Tagger.load(placed[-1]).predict("Major Tom")[0].tags


def test_a_killed_runs_temporaries_are_removed_and_nothing_else(tmp_path):
    import pyarrow.fs as pafs

    for name in (".part-00000-00001.jsonl.tmp-0a1b", "._manifest.json.tmp-2c3d", ".part-00000-00002.jsonl.x1y2.tmp",
                 ".keep", "part-00000-00000.jsonl", "notes.tmp-1"):
        (tmp_path / name).write_text("x")
    remove_temporaries(pafs.LocalFileSystem(), str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".keep", "notes.tmp-1", "part-00000-00000.jsonl"]


@pytest.mark.parametrize("args, message", [
    (["--output-format", "conll"], "writes jsonl or parquet shards, not conll"),
    ([], "give -o DIR"),
    (["--backend", "keras"], "tags with onnxruntime"),
    (["--patterns", "rules.jsonl"], "store patterns in the model with 'ner-lstm patterns'"),
    (["--min-score", "0.5"], "filter scores downstream"),
])
def test_ray_option_errors_are_one_line(trained_model, inputs, tmp_path, args, message):
    out = [] if message == "give -o DIR" else ["-o", str(tmp_path / "out")]
    result = subprocess.run(cli("--model", str(trained_model), str(inputs["text"]), *out, *args),
                            capture_output=True, text=True)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("ner-lstm: error: ")
    assert message in lines[0]
