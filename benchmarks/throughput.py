"""Speed and footprint of ner-lstm against spaCy, whole process against whole process, in one run.

Usage: python benchmarks/throughput.py --data ../shared/data/conll2003 --model models/conll2003
       [--runs 5] [--spacy-python benchmarks/.venv-spacy/bin/python] [--inference-venv .venv-inference]
       [--baseline-model DIR] [--parts throughput cold_start memory footprint]

1. Throughput: every distinct sentence of CoNLL-2003 train + valid + test (no sentence twice, so no
   cache of repeated sentences can help) as one pre-tokenised CoNLL file. `ner-lstm tag --input-format
   conll --output-format conll` (default settings, and with --workers 2), beside a spaCy 3.8 process that
   reads the same file, runs its `ner` pipe (a blank English pipeline with an initialised `ner` on the
   same labels; its speed does not depend on its weights) with `n_process` 1 and 2, and writes CoNLL.
   Runs interleaved; tokens per second of wall time, median of --runs; the ratio is against spaCy's best.
   With --baseline-model, that model is timed in the same rounds and the ratio to it reported too.
2. Cold start: a fresh `ner-lstm predict "Major Tom ..."` process beside spacy.load + tag of it
   (files in the page cache: one unmeasured run of each first).
3. Memory: peak PSS and RSS, summed over the `ner-lstm tag` process and its workers, tagging 10 MB and
   100 MB of plain text (those sentences, one a line, repeated).
4. Footprint: the model directory on disk, and the installed size of an inference-only environment.
Prints the figures and writes benchmarks/results/throughput.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from measure import run_with_peak_memory  # noqa: E402

NER = [sys.executable, "-m", "ner_lstm"]
SENTENCE = "Major Tom is a great battle commander."
TRAINING_ONLY = {"model.keras", "training.jsonl", "training.png"}


def distinct_sentences(data: Path) -> list[list[str]]:
    from ner_lstm.data.corpus import read_conll

    seen: dict[tuple[str, ...], None] = {}
    for split in ("train", "valid", "test"):
        for sentence in read_conll(data / f"{split}.txt"):
            seen.setdefault(tuple(sentence.tokens))
    return [list(tokens) for tokens in seen]


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def count_tokens(conll: Path) -> int:
    with conll.open(encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def throughput(args, work: Path, sentences: list[list[str]]) -> dict:
    corpus = work / "all.conll"
    corpus.write_text("".join("".join(f"{t}\tO\n" for t in s) + "\n" for s in sentences), "utf-8")
    total = sum(len(s) for s in sentences)
    spacy = [args.spacy_python, str(HERE / "spacy_ner.py"), "tag", str(work / "spacy-ner"), str(corpus)]
    ours = NER + ["tag", "--model", str(args.model), str(corpus), "--input-format", "conll",
                  "--output-format", "conll", "-o"]
    commands = {
        "ner_lstm": ours + [str(work / "ours.conll")],
        "ner_lstm_workers_2": ours + [str(work / "ours-w2.conll"), "--processes", "2"],
        "spacy_n_process_1": spacy + [str(work / "spacy-1.conll"), "1"],
        "spacy_n_process_2": spacy + [str(work / "spacy-2.conll"), "2"],
    }
    if args.baseline_model:  # the model a recipe change replaces, timed in the same rounds
        baseline = [part if part != str(args.model) else str(args.baseline_model) for part in ours]
        commands["ner_lstm_baseline_model"] = baseline + [str(work / "baseline.conll")]
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):  # interleaved, so every setting sees the same machine load
        for name, command in commands.items():
            seconds[name].append(timed(command))
    for output in ("ours.conll", "ours-w2.conll", "spacy-1.conll", "spacy-2.conll"):
        assert count_tokens(work / output) == total, output
    assert (work / "ours.conll").read_bytes() == (work / "ours-w2.conll").read_bytes(), "workers change no tag"
    rates = {name: round(total / statistics.median(values)) for name, values in seconds.items()}
    spacy_best = max(rates["spacy_n_process_1"], rates["spacy_n_process_2"])
    result = {"sentences": len(sentences), "tokens": total, "runs": args.runs, "seconds": seconds,
              "tokens_per_s": rates, "spacy_best_tokens_per_s": spacy_best,
              "ratio_to_spacy_best": round(rates["ner_lstm"] / spacy_best, 2)}
    if args.baseline_model:
        result["baseline_model"] = str(args.baseline_model)
        result["ratio_to_baseline_model"] = round(rates["ner_lstm"] / rates["ner_lstm_baseline_model"], 3)
    return result


def cold_start(args, work: Path) -> dict:
    """A fresh process each run, after one unmeasured run of each: the files are in the page cache, as on
    any machine that has run the command before (the first run after a reboot reads them from disk)."""
    ner = NER + ["predict", "--model", str(args.model), SENTENCE]
    spacy = [args.spacy_python, str(HERE / "spacy_ner.py"), "predict", str(work / "spacy-ner"), SENTENCE]
    timed(ner), timed(spacy)
    ours, theirs = [], []
    for _ in range(args.runs):
        ours.append(timed(ner))
        theirs.append(timed(spacy))
    return {"ner_lstm_predict_seconds": ours, "spacy_load_and_tag_seconds": theirs,
            "ner_lstm_median_s": round(statistics.median(ours), 3), "spacy_median_s": round(statistics.median(theirs), 3)}


def load_check(args, work: Path) -> dict:
    """What checking the model directory costs each load (sizes of all files, SHA-256 of the small ones
    tagging reads) against hashing every file (`info --verify`), in this process, page cache warm."""
    from ner_lstm.inference.bundle import HASHED_AT_LOAD, verify_manifest

    def median_ms(full: bool) -> float:
        verify_manifest(args.model, full)
        times = []
        for _ in range(20):
            started = time.perf_counter()
            verify_manifest(args.model, full)
            times.append(time.perf_counter() - started)
        return round(1000 * statistics.median(times), 2)

    hashed = sum((args.model / n).stat().st_size for n in HASHED_AT_LOAD if (args.model / n).is_file())
    total = sum(p.stat().st_size for p in args.model.iterdir() if p.is_file())
    return {"every_load_ms": median_ms(False), "verify_all_ms": median_ms(True),
            "hashed_at_load_mb": round(hashed / 1e6, 1), "model_mb": round(total / 1e6, 1)}


def memory(args, work: Path, sentences: list[list[str]]) -> dict:
    lines = [" ".join(s) + "\n" for s in sentences]
    result = {}
    for megabytes in args.memory_sizes:
        path = work / f"text-{megabytes}mb.txt"
        with path.open("w", encoding="utf-8") as handle:
            size = 0
            while size < megabytes * 1_000_000:
                for line in lines:
                    handle.write(line)
                    size += len(line)
        measured = run_with_peak_memory(NER + ["tag", "--model", str(args.model), str(path), "-o",
                                               str(work / "text-out.jsonl")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        result[f"{megabytes}MB"] = {"peak_pss_mb": round(measured["peak_pss_mb"]),
                                    "peak_rss_mb": round(measured["peak_rss_mb"]),
                                    "seconds": round(measured["seconds"], 1), "bytes": path.stat().st_size}
        path.unlink()
    return result


def directory_mb(path: Path, skip: set[str] = frozenset()) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and p.name not in skip) / 1e6, 1)


def footprint(args) -> dict:
    result = {"model_dir_mb": directory_mb(args.model),
              "model_files_inference_reads_mb": directory_mb(args.model, TRAINING_ONLY)}
    if args.inference_venv and args.inference_venv.is_dir():
        result["inference_install_mb"] = directory_mb(args.inference_venv)
    full = HERE.parent / ".venv"
    if full.is_dir():
        result["full_install_mb"] = directory_mb(full)
    return result


def versions(spacy_python: str) -> dict:
    import onnxruntime

    import ner_lstm

    found = subprocess.run([spacy_python, "-c", "import spacy; print(spacy.__version__)"], capture_output=True,
                           text=True) if Path(spacy_python).exists() else None
    spacy_version = found.stdout.strip() if found is not None and found.returncode == 0 else None  # not every part
    return {"ner_lstm": ner_lstm.__version__, "onnxruntime": onnxruntime.__version__, "spacy": spacy_version,
            "python": platform.python_version()}


def report(result: dict) -> None:
    if "throughput" in result:
        t = result["throughput"]
        r = t["tokens_per_s"]
        print(f"tag {t['tokens']:,} tokens ({t['sentences']:,} distinct sentences), median of {t['runs']}: "
              f"ner-lstm {r['ner_lstm']:,} tokens/s (--workers 2: {r['ner_lstm_workers_2']:,}); spaCy NER-only "
              f"n_process=1 {r['spacy_n_process_1']:,}, n_process=2 {r['spacy_n_process_2']:,}; "
              f"{t['ratio_to_spacy_best']}x spaCy's best", flush=True)
        if "baseline_model" in t:
            print(f"baseline model {t['baseline_model']}: {r['ner_lstm_baseline_model']:,} tokens/s; this model "
                  f"{t['ratio_to_baseline_model']}x of it", flush=True)
    if "cold_start" in result:
        c = result["cold_start"]
        print(f"cold start: ner-lstm predict {c['ner_lstm_median_s']} s, spaCy load + tag {c['spacy_median_s']} s")
    if "load_check" in result:
        c = result["load_check"]
        print(f"model check at load: {c['every_load_ms']} ms ({c['hashed_at_load_mb']} of {c['model_mb']} MB hashed); "
              f"hashing every file (info --verify): {c['verify_all_ms']} ms")
    for size, m in result.get("memory", {}).items():
        if size == "command":
            continue
        print(f"tag {size} of text: peak PSS {m['peak_pss_mb']} MB (RSS {m['peak_rss_mb']} MB) in {m['seconds']} s")
    if "footprint" in result:
        print("footprint: " + ", ".join(f"{k} {v}" for k, v in result["footprint"].items() if k != "command"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with train.txt, valid.txt, test.txt")
    parser.add_argument("--model", type=Path, required=True, help="a trained ner-lstm model directory")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-model", type=Path, help="also time tagging with this model, in the same rounds")
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[10, 100], help="MB of generated text")
    parser.add_argument("--spacy-python", default=str(HERE / ".venv-spacy" / "bin" / "python"))
    parser.add_argument("--inference-venv", type=Path, default=HERE.parent / ".venv-inference")
    parser.add_argument("--parts", nargs="+", choices=["throughput", "cold_start", "load_check", "memory", "footprint"],
                        default=["throughput", "cold_start", "memory", "footprint"],
                        help="what to measure; other parts already in --out are kept")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "throughput.json")
    args = parser.parse_args()
    if not (args.model / "model.onnx").is_file():
        sys.exit(f"throughput.py: {args.model} is not a trained model with an ONNX export")
    sentences = distinct_sentences(args.data)
    labels = sorted({t[2:] for t in json.loads((args.model / "config.json").read_text())["labels"] if t != "O"})
    result = json.loads(args.out.read_text()) if args.out.is_file() else {}
    if {"throughput", "cold_start"} & set(args.parts) or not result:  # what the spaCy comparison ran with
        result.update({"machine": {"cores": os.cpu_count(), "platform": platform.platform()},
                       "versions": versions(args.spacy_python), "model": str(args.model)})
    command = " ".join(["python", "benchmarks/throughput.py", *sys.argv[1:]])  # parts may come from other runs
    with tempfile.TemporaryDirectory(prefix="ner-lstm-speed-") as tmp:
        work = Path(tmp)
        if {"throughput", "cold_start"} & set(args.parts):  # the parts that run spaCy beside us
            subprocess.run([args.spacy_python, str(HERE / "spacy_ner.py"), "save", str(work / "spacy-ner"), *labels],
                           check=True)
        parts = {"throughput": lambda: throughput(args, work, sentences), "cold_start": lambda: cold_start(args, work),
                 "load_check": lambda: load_check(args, work), "memory": lambda: memory(args, work, sentences),
                 "footprint": lambda: footprint(args)}
        for part in args.parts:
            result[part] = {**parts[part](), "command": command, "model": str(args.model),
                            "date": time.strftime("%Y-%m-%d")}
            report({part: result[part]})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
