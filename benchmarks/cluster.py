"""The Ray engine against the local engine on one machine, whole process against whole process.

Usage: python benchmarks/cluster.py --data ../shared/data/conll2003 --model models/conll2003 [--runs 3]

Corpus: every sentence of CoNLL-2003 train + valid + test, ten times, as ten CoNLL files (copy-0 ..
copy-9), so every record has a distinct (source, id): about 3M tokens. Each setting reads the ten files
and writes JSONL:
- local: `ner-lstm tag DIR -o OUT` (default settings: one process, its network on a one-thread session run by
  a thread a CPU but one, and by the thread doing the Python work while it waits for the network), and with
  `--processes 2` (a worker process a CPU, each with a one-thread network);
- ray, 1 actor of 2 threads and 2 actors of 1 thread: `ner-lstm tag --engine ray --address auto`
  against a Ray started beforehand with `ray start --head --num-cpus N` (N = the CPUs this process may
  use), so the figure excludes the cluster's start, which is timed on its own (`ray start` to the
  cluster answering), as is a whole `--engine ray` run with default settings that starts its own Ray
  (no --address).
Settings run interleaved, --runs times each; tokens per second of wall time, medians, and the ratio of
the Ray engine's to the local engine's. Every run's records are counted against the corpus.
Prints the figures and writes benchmarks/results/cluster.json.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
import ray  # noqa: E402

from measure import cpu_model  # noqa: E402

from ner_lstm.cpus import available_cpus  # noqa: E402

NER = [sys.executable, "-m", "ner_lstm", "tag"]
RAY = str(Path(sys.executable).parent / "ray")
COPIES = 10


def write_corpus(data: Path, folder: Path) -> tuple[int, int]:
    """Ten copies of train + valid + test as CoNLL files; returns (records, tokens) of all of them."""
    from ner_lstm.data.sources import read_records

    text = "\n\n".join((data / f"{split}.txt").read_text("utf-8").strip("\n") for split in ("train", "valid", "test"))
    folder.mkdir(parents=True)
    for copy in range(COPIES):
        (folder / f"copy-{copy}.conll").write_text(text + "\n", "utf-8")
    records = list(read_records(str(folder / "copy-0.conll"), "conll", announce=False))
    return COPIES * len(records), COPIES * sum(len(s) for r in records for s in r.sentences)


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - started


def count_records(folder: Path) -> int:
    return sum(sum(1 for _ in path.open("rb")) for path in folder.glob("*.jsonl"))


def start_cluster(cpus: int) -> float:
    """`ray start --head` until the cluster answers; returns the seconds it took."""
    started = time.perf_counter()
    subprocess.run([RAY, "start", "--head", f"--num-cpus={cpus}", "--include-dashboard=false", "--disable-usage-stats"],
                   check=True, capture_output=True)
    subprocess.run([sys.executable, "-c", "import ray; ray.init(address='auto', logging_level='ERROR'); ray.shutdown()"],
                   check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with CoNLL-2003 train/valid/test.txt")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "cluster.json")
    args = parser.parse_args()
    cpus = available_cpus()
    with tempfile.TemporaryDirectory(prefix="ner-lstm-cluster-") as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        records, tokens = write_corpus(args.data, corpus)
        print(f"corpus: {COPIES} files, {records:,} records, {tokens:,} tokens", flush=True)
        base = ["--model", str(args.model), str(corpus), "--input-format", "conll", "--output-format", "jsonl", "-o"]
        joined = ["--engine", "ray", "--address", "auto"]
        settings = {
            "local": NER + base + [str(work / "local")],
            "local_processes_2": NER + base + [str(work / "local2"), "--processes", "2"],
            "ray_1_actor_2_threads": NER + joined + ["--actors", "1", "--threads", "2"] + base + [str(work / "ray1")],
            "ray_2_actors_1_thread": NER + joined + ["--actors", "2", "--threads", "1"] + base + [str(work / "ray2")],
        }
        outputs = {"local": "local", "local_processes_2": "local2", "ray_1_actor_2_threads": "ray1", "ray_2_actors_1_thread": "ray2"}
        seconds: dict[str, list[float]] = {name: [] for name in settings}
        cluster_start = [start_cluster(cpus)]
        try:
            for run in range(args.runs):
                for name, command in settings.items():
                    shutil.rmtree(work / outputs[name], ignore_errors=True)
                    seconds[name].append(timed(command))
                    assert count_records(work / outputs[name]) == records, f"{name}: records lost or doubled"
                    print(f"run {run + 1}: {name}: {seconds[name][-1]:.1f} s", flush=True)
        finally:
            subprocess.run([RAY, "stop"], capture_output=True)
        shutil.rmtree(work / "ray1", ignore_errors=True)
        own = NER + ["--engine", "ray"] + base + [str(work / "ray1")]  # default settings; starts and stops its own Ray
        with_start = timed(own)
        assert count_records(work / "ray1") == records
        for _ in range(args.runs - 1):
            cluster_start.append(start_cluster(cpus))
            subprocess.run([RAY, "stop"], capture_output=True)
    rates = {name: round(tokens / statistics.median(values)) for name, values in seconds.items()}
    best_ray = max(rates["ray_1_actor_2_threads"], rates["ray_2_actors_1_thread"])
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "corpus": {"files": COPIES, "records": records, "tokens": tokens},
        "cpus": cpus, "runs": args.runs, "seconds": seconds, "tokens_per_s": rates,
        "ratio_ray_best_to_local": round(best_ray / rates["local"], 3),
        "ratio_by_setting": {name: round(rate / rates["local"], 3) for name, rate in rates.items()},
        "ray_cluster_start_s": [round(s, 2) for s in cluster_start],
        "ray_cluster_start_median_s": round(statistics.median(cluster_start), 2),
        "ray_run_starting_its_own_cluster_s": round(with_start, 1),
        "ray_run_starting_its_own_cluster_tokens_per_s": round(tokens / with_start),
        "commands": {name: " ".join(command) for name, command in settings.items()},
        "model": str(args.model),
        "versions": {"python": platform.python_version(), "ray": ray.__version__},
        "machine": {"cpu": cpu_model(), "cpus_usable": cpus, "platform": platform.platform()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("tokens_per_s", "ratio_by_setting", "ray_cluster_start_median_s",
                                             "ray_run_starting_its_own_cluster_s")}, indent=1))


if __name__ == "__main__":
    main()
