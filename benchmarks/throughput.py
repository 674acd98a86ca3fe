"""Speed and footprint of ner-lstm against spaCy, whole process against whole process, in one run.

Usage: python benchmarks/throughput.py --data ../shared/data/conll2003 --model models/conll2003
       [--runs 5] [--spacy-python benchmarks/.venv-spacy/bin/python] [--inference-venv .venv-inference]
       [--baseline-model DIR] [--parts throughput documents rawtext cold_start memory footprint]

Every race below runs ner-lstm with default settings (one process) and with `--processes 2` (a worker
process a CPU, each with a one-thread network) beside spaCy 3.8 (a blank English pipeline with an
initialised `ner` on the same labels: its speed does not depend on its weights) with `n_process` 1 and
2; runs interleaved, tokens per second of wall time, median of --runs; the ratio is ner-lstm's default
against spaCy's best setting.
1. Throughput: every distinct sentence of CoNLL-2003 train + valid + test (no sentence twice, so no
   cache of repeated sentences can help) as one pre-tokenised CoNLL file, `tag --input-format conll
   --output-format conll`; spaCy reads the same file, runs `ner`, writes CoNLL.
   With --baseline-model, that model is timed in the same rounds and the ratio to it reported too.
   Documents: the same for every CoNLL-2003 token with its -DOCSTART- documents.
   Raw text: those sentences detokenised a line (plain text), and every document a JSONL record, beside
   ner-lstm on the same tokens pre-tokenised (raw text's speed against tokens'); spaCy tokenises and
   tags each record as a doc and writes its entities.
2. Cold start: a fresh `ner-lstm predict "Major Tom ..."` process beside spacy.load + tag of it
   (files in the page cache: one unmeasured run of each first).
3. Memory: peak PSS and RSS, summed over the `ner-lstm tag` process and its workers, tagging 10 MB and
   100 MB of plain text (those sentences, one a line, repeated).
4. Footprint: the model directory on disk, and the installed size of an inference-only environment.
ner-lstm runs from this checkout with its modules compiled to bytecode first, as `pip install` leaves
them and as spaCy's are: where PYTHONDONTWRITEBYTECODE is set, every timed process compiled all of them
again (a cold start of 0.27 s against 0.23 s, medians of 6).
Prints the figures and writes benchmarks/results/throughput.json.
"""
from __future__ import annotations

import argparse
import compileall
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
from measure import cpu_model, run_with_peak_memory  # noqa: E402

from ner_lstm.cpus import available_cpus  # noqa: E402

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


def race(args, commands: dict[str, list[str]], tokens: int) -> dict:
    """Run every command --runs times, interleaved so every setting sees the same machine load; tokens per
    second of wall time (median), and ner-lstm's default against spaCy's best setting."""
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            seconds[name].append(timed(command))
    rates = {name: round(tokens / statistics.median(values)) for name, values in seconds.items()}
    spacy_best = max(rate for name, rate in rates.items() if name.startswith("spacy"))
    return {"tokens": tokens, "runs": args.runs, "seconds": seconds, "tokens_per_s": rates,
            "spacy_best_tokens_per_s": spacy_best, "ratio_to_spacy_best": round(rates["ner_lstm"] / spacy_best, 2)}


def tokeniser(layouts: dict[str, list[str]], runs: int = 3) -> dict:
    """`split_text` alone, in this process, against syntok reading every paragraph whole (what it did before
    it ran only where it decides something): tokens per second, median of `runs`, and whether both agree."""
    from ner_lstm.data.text import _paragraph_sentences, _paragraphs

    def rate(texts: list[str], fast: bool) -> tuple[float, list]:
        times, out = [], []
        for _ in range(runs):
            started = time.perf_counter()
            out = [_paragraph_sentences(t, a, b, fast) for t in texts for a, b in _paragraphs(t)]
            times.append(time.perf_counter() - started)
        return sum(len(s) for p in out for s in p) / statistics.median(times), out

    result = {}
    for layout, texts in layouts.items():
        (ours, ours_out), (syntok, syntok_out) = rate(texts, True), rate(texts, False)
        result[layout] = {"tokens_per_s": round(ours), "syntok_whole_tokens_per_s": round(syntok),
                          "speedup": round(ours / syntok, 2), "same_sentences_and_tokens": ours_out == syntok_out}
    return result


def ours_and_spacy(args, work: Path, source: Path, name: str, spacy_command: str, options: list[str]) -> dict:
    """ner-lstm with default settings (one process) and with two worker processes, spaCy with n_process 1 and 2."""
    ours = NER + ["tag", "--model", str(args.model), str(source), *options, "-o"]
    spacy = [args.spacy_python, str(HERE / "spacy_ner.py"), spacy_command, str(work / "spacy-ner"), str(source)]
    return {"ner_lstm": ours + [str(work / f"{name}-ours.out")],
            "ner_lstm_processes_2": ours + [str(work / f"{name}-ours-2.out"), "--processes", "2"],
            "spacy_n_process_1": spacy + [str(work / f"{name}-spacy-1.out"), "1"],
            "spacy_n_process_2": spacy + [str(work / f"{name}-spacy-2.out"), "2"]}


def throughput(args, work: Path, sentences: list[list[str]]) -> dict:
    corpus = work / "all.conll"
    corpus.write_text("".join("".join(f"{t}\tO\n" for t in s) + "\n" for s in sentences), "utf-8")
    total = sum(len(s) for s in sentences)
    commands = ours_and_spacy(args, work, corpus, "all", "tag", ["--input-format", "conll", "--output-format", "conll"])
    if args.baseline_model:  # the model a recipe change replaces, timed in the same rounds
        commands["ner_lstm_baseline_model"] = [part if part != str(args.model) else str(args.baseline_model)
                                               for part in commands["ner_lstm"][:-1]] + [str(work / "baseline.out")]
    result = {"sentences": len(sentences), **race(args, commands, total)}
    for output in ("all-ours.out", "all-ours-2.out", "all-spacy-1.out", "all-spacy-2.out"):
        assert count_tokens(work / output) == total, output
    assert (work / "all-ours.out").read_bytes() == (work / "all-ours-2.out").read_bytes(), "processes change no tag"
    if args.baseline_model:
        result["baseline_model"] = str(args.baseline_model)
        result["ratio_to_baseline_model"] = round(result["tokens_per_s"]["ner_lstm"]
                                                  / result["tokens_per_s"]["ner_lstm_baseline_model"], 3)
    return result


def documents(args, work: Path) -> dict:
    """Every CoNLL-2003 token (train, valid, test) pre-tokenised, with its -DOCSTART- documents: other
    mentions' evidence is gathered per document."""
    corpus = work / "documents.conll"
    corpus.write_text("".join((args.data / f"{split}.txt").read_text("utf-8") for split in ("train", "valid", "test")),
                      "utf-8")
    total = count_tokens(corpus) - corpus.read_text("utf-8").count("-DOCSTART-")
    commands = ours_and_spacy(args, work, corpus, "docs", "tag", ["--input-format", "conll", "--output-format", "conll"])
    return {"documents": corpus.read_text("utf-8").count("-DOCSTART-"), **race(args, commands, total)}


def rawtext(args, work: Path, sentences: list[list[str]]) -> dict:
    """Raw text made of the same sentences by sacremoses' Moses detokenizer: the distinct sentences a line,
    and every document as a JSONL record (sentences with a final stop run on, others end a paragraph),
    each beside ner-lstm on the same tokens pre-tokenised; rates count those tokens for every tool."""
    from rawtext import gold_spans
    from sacremoses import MosesDetokenizer

    from ner_lstm.data.corpus import conll_documents, read_conll

    detokenizer = MosesDetokenizer(lang="en")
    lines = work / "sentences.txt"
    lines.write_text("".join(detokenizer.detokenize(s) + "\n" for s in sentences), "utf-8")
    tokenised = work / "sentences.conll"
    tokenised.write_text("".join("".join(f"{t}\tO\n" for t in s) + "\n" for s in sentences), "utf-8")
    docs = [d for split in ("train", "valid", "test") for d in conll_documents(read_conll(args.data / f"{split}.txt"))]
    texts, _ = gold_spans(docs, detokenizer, paragraphs=True)
    records = work / "documents.jsonl"
    records.write_text("".join(json.dumps({"text": text}) + "\n" for text in texts), "utf-8")
    conll = work / "documents-tokens.conll"
    conll.write_text("".join((args.data / f"{split}.txt").read_text("utf-8") for split in ("train", "valid", "test")),
                     "utf-8")
    one_line = [" ".join(detokenizer.detokenize(s.tokens) for s in d) for d in docs]
    result = {"tokeniser": tokeniser({"sentence_a_line": lines.read_text("utf-8").splitlines(),
                                      "document_a_record": texts, "document_on_one_line": one_line})}
    layouts = {"sentence_a_line": (lines, tokenised, sum(len(s) for s in sentences)),
               "document_a_record": (records, conll, sum(len(s) for d in docs for s in d))}
    for layout, (raw, tokens_file, total) in layouts.items():
        commands = ours_and_spacy(args, work, raw, layout, "text", [])
        commands["ner_lstm_pre_tokenised"] = NER + ["tag", "--model", str(args.model), str(tokens_file),
                                                    "--input-format", "conll", "-o", str(work / f"{layout}-tok.out")]
        raced = race(args, commands, total)
        rates = raced["tokens_per_s"]
        result[layout] = {"records": sum(1 for _ in raw.open(encoding="utf-8")), "bytes": raw.stat().st_size, **raced,
                          "raw_to_pre_tokenised": round(rates["ner_lstm"] / rates["ner_lstm_pre_tokenised"], 3)}
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
        for name, options in ((f"{megabytes}MB", []), (f"{megabytes}MB, --processes 2", ["--processes", "2"])):
            measured = run_with_peak_memory(NER + ["tag", "--model", str(args.model), str(path), "-o",
                                                   str(work / "text-out.jsonl"), *options],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            result[name] = {"peak_pss_mb": round(measured["peak_pss_mb"]), "peak_rss_mb": round(measured["peak_rss_mb"]),
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
              f"ner-lstm {r['ner_lstm']:,} tokens/s (--processes 2: {r['ner_lstm_processes_2']:,}); spaCy NER-only "
              f"n_process=1 {r['spacy_n_process_1']:,}, n_process=2 {r['spacy_n_process_2']:,}; "
              f"{t['ratio_to_spacy_best']}x spaCy's best", flush=True)
        if "baseline_model" in t:
            print(f"baseline model {t['baseline_model']}: {r['ner_lstm_baseline_model']:,} tokens/s; this model "
                  f"{t['ratio_to_baseline_model']}x of it", flush=True)
    if "documents" in result:
        t = result["documents"]
        r = t["tokens_per_s"]
        print(f"CoNLL-2003 with its {t['documents']:,} documents, {t['tokens']:,} tokens: ner-lstm {r['ner_lstm']:,} "
              f"tokens/s (--processes 2: {r['ner_lstm_processes_2']:,}); spaCy best {t['spacy_best_tokens_per_s']:,}; "
              f"{t['ratio_to_spacy_best']}x", flush=True)
    for layout, t in result.get("rawtext", {}).get("tokeniser", {}).items():
        print(f"tokeniser alone, {layout.replace('_', ' ')}: {t['tokens_per_s']:,} tokens/s, syntok on whole "
              f"paragraphs {t['syntok_whole_tokens_per_s']:,} ({t['speedup']}x); the same sentences and tokens: "
              f"{t['same_sentences_and_tokens']}", flush=True)
    for layout, t in result.get("rawtext", {}).items():
        if not isinstance(t, dict) or "tokens_per_s" not in t:
            continue
        r = t["tokens_per_s"]
        print(f"raw text, {layout.replace('_', ' ')} ({t['bytes']:,} bytes): ner-lstm {r['ner_lstm']:,} tokens/s "
              f"(--processes 2: {r['ner_lstm_processes_2']:,}; the same tokens pre-tokenised {r['ner_lstm_pre_tokenised']:,}, "
              f"raw/pre-tokenised {t['raw_to_pre_tokenised']}); spaCy best {t['spacy_best_tokens_per_s']:,}; "
              f"{t['ratio_to_spacy_best']}x", flush=True)
    if "cold_start" in result:
        c = result["cold_start"]
        print(f"cold start: ner-lstm predict {c['ner_lstm_median_s']} s, spaCy load + tag {c['spacy_median_s']} s")
    if "load_check" in result:
        c = result["load_check"]
        print(f"model check at load: {c['every_load_ms']} ms ({c['hashed_at_load_mb']} of {c['model_mb']} MB hashed); "
              f"hashing every file (info --verify): {c['verify_all_ms']} ms")
    for size, m in result.get("memory", {}).items():
        if not isinstance(m, dict) or "peak_pss_mb" not in m:
            continue
        print(f"tag {size} of text: peak PSS {m['peak_pss_mb']} MB (RSS {m['peak_rss_mb']} MB) in {m['seconds']} s")
    if "footprint" in result:
        print("footprint: " + ", ".join(f"{k} {v}" for k, v in result["footprint"].items()
                                         if isinstance(v, (int, float))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with train.txt, valid.txt, test.txt")
    parser.add_argument("--model", type=Path, required=True, help="a trained ner-lstm model directory")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-model", type=Path, help="also time tagging with this model, in the same rounds")
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[10, 100], help="MB of generated text")
    parser.add_argument("--spacy-python", default=str(HERE / ".venv-spacy" / "bin" / "python"))
    parser.add_argument("--inference-venv", type=Path, default=HERE.parent / ".venv-inference")
    parser.add_argument("--parts", nargs="+", choices=["throughput", "documents", "rawtext", "cold_start", "load_check",
                                                       "memory", "footprint"],
                        default=["throughput", "documents", "rawtext", "cold_start", "memory", "footprint"],
                        help="what to measure; other parts already in --out are kept")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "throughput.json")
    args = parser.parse_args()
    if not (args.model / "model.onnx").is_file():
        sys.exit(f"throughput.py: {args.model} is not a trained model with an ONNX export")
    compileall.compile_dir(HERE.parent / "ner_lstm", quiet=1)
    sentences = distinct_sentences(args.data)
    labels = sorted({t[2:] for t in json.loads((args.model / "config.json").read_text())["labels"] if t != "O"})
    result = json.loads(args.out.read_text()) if args.out.is_file() else {}
    spacy_parts = {"throughput", "documents", "rawtext", "cold_start"} & set(args.parts)
    machine = {"cores": os.cpu_count(), "cpus_usable": available_cpus(), "cpu": cpu_model(),
               "platform": platform.platform()}
    if spacy_parts or not result:  # what the spaCy comparison ran with
        result.update({"machine": machine, "versions": versions(args.spacy_python), "model": str(args.model)})
    command = " ".join(["python", "benchmarks/throughput.py", *sys.argv[1:]])  # parts may come from other runs
    with tempfile.TemporaryDirectory(prefix="ner-lstm-speed-") as tmp:
        work = Path(tmp)
        if spacy_parts:
            subprocess.run([args.spacy_python, str(HERE / "spacy_ner.py"), "save", str(work / "spacy-ner"), *labels],
                           check=True)
        parts = {"throughput": lambda: throughput(args, work, sentences), "documents": lambda: documents(args, work),
                 "rawtext": lambda: rawtext(args, work, sentences), "cold_start": lambda: cold_start(args, work),
                 "load_check": lambda: load_check(args, work), "memory": lambda: memory(args, work, sentences),
                 "footprint": lambda: footprint(args)}
        for part in args.parts:
            result[part] = {**parts[part](), "command": command, "model": str(args.model),
                            "date": time.strftime("%Y-%m-%d"), "machine": machine}  # parts may come from other runs
            report({part: result[part]})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
