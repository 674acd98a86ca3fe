"""Speed of `ner-lstm tag` and `ner-lstm predict` against spaCy, measured side by side in one run.

Usage: python benchmarks/throughput.py --data ../shared/data/conll2003 --model models/conll2003
       [--repeat 10] [--spacy-python benchmarks/.venv-spacy/bin/python]

1. Throughput: the CoNLL-2003 test tokens repeated --repeat times, tagged by a whole `ner-lstm tag`
   process (pre-tokenised JSONL in, JSONL with entities out) and by a whole spaCy process running only
   its `ner` pipe on the same words (a blank English pipeline with an initialised `ner` on the same
   labels; its speed does not depend on its weights). Words per second of wall time, median of runs.
2. Cold start: a fresh `ner-lstm predict "Major Tom ..."` process, beside spacy.load + tag of the
   same sentence. Median wall seconds.
3. Memory: peak RSS of `ner-lstm tag` (its worker processes summed in) on generated plain text of
   10 MB and 100 MB (CoNLL-2003 test sentences, one a line, repeated).
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
from measure import run_with_peak_rss  # noqa: E402

NER = [sys.executable, "-m", "ner_lstm"]
SENTENCE = "Major Tom is a great battle commander."


def conll_sentences(path: Path) -> list[list[str]]:
    sys.path.insert(0, str(HERE.parent))
    from ner_lstm.data.corpus import read_conll

    return [s.tokens for s in read_conll(path)]


def timed(command: list[str], **kwargs) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)
    return time.perf_counter() - started, result.stdout


def peak_rss_mb(command: list[str]) -> float:
    return run_with_peak_rss(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def throughput(args, work: Path, sentences: list[list[str]]) -> dict:
    words_file = work / "words.jsonl"
    tokens_file = work / "tokens.jsonl"
    with words_file.open("w") as words, tokens_file.open("w") as tokens:
        for _ in range(args.repeat):
            for sentence in sentences:
                words.write(json.dumps(sentence) + "\n")
                tokens.write(json.dumps({"tokens": sentence}) + "\n")
    total = sum(len(s) for s in sentences) * args.repeat
    spacy_model = work / "spacy-ner"
    ours, theirs = [], []
    for _ in range(args.runs):  # interleaved, so both see the same machine load
        seconds, _ = timed(NER + ["tag", "--model", str(args.model), str(tokens_file), "-o", str(work / "out.jsonl"),
                                  "--input-format", "jsonl"])
        ours.append(seconds)
        seconds, out = timed([args.spacy_python, str(HERE / "spacy_ner.py"), "tag", str(spacy_model), str(words_file)])
        assert json.loads(out)["words"] == total
        theirs.append(seconds)
    tagged = sum(len(json.loads(line)["tags"]) for line in (work / "out.jsonl").open())
    assert tagged == total, (tagged, total)
    ours_wps, theirs_wps = total / statistics.median(ours), total / statistics.median(theirs)
    return {"tokens": total, "runs": args.runs, "ner_lstm_seconds": ours, "spacy_seconds": theirs,
            "ner_lstm_words_per_s": round(ours_wps), "spacy_ner_only_words_per_s": round(theirs_wps),
            "ratio": round(ours_wps / theirs_wps, 2)}


def cold_start(args, work: Path) -> dict:
    ours = [timed(NER + ["predict", "--model", str(args.model), SENTENCE])[0] for _ in range(args.runs)]
    spacy_model = work / "spacy-ner"
    theirs = [timed([args.spacy_python, str(HERE / "spacy_ner.py"), "predict", str(spacy_model), SENTENCE])[0]
              for _ in range(args.runs)]
    return {"ner_lstm_predict_seconds": ours, "spacy_load_and_tag_seconds": theirs,
            "ner_lstm_median_s": round(statistics.median(ours), 3), "spacy_median_s": round(statistics.median(theirs), 3)}


def memory(args, work: Path, sentences: list[list[str]]) -> dict:
    lines = [" ".join(s) + "\n" for s in sentences]
    result = {}
    for megabytes in args.memory_sizes:
        path = work / f"text-{megabytes}mb.txt"
        with path.open("w") as handle:
            size = 0
            while size < megabytes * 1_000_000:
                for line in lines:
                    handle.write(line)
                    size += len(line)
        started = time.perf_counter()
        rss = peak_rss_mb(NER + ["tag", "--model", str(args.model), str(path), "-o", str(work / "text-out.jsonl")])
        seconds = time.perf_counter() - started
        result[f"{megabytes}MB"] = {"peak_rss_mb": round(rss), "seconds": round(seconds, 1),
                                    "bytes": path.stat().st_size}
        path.unlink()
    return result


def versions(spacy_python: str) -> dict:
    import onnxruntime

    import ner_lstm

    spacy_version = subprocess.run([spacy_python, "-c", "import spacy; print(spacy.__version__)"],
                                   capture_output=True, text=True, check=True).stdout.strip()
    return {"ner_lstm": ner_lstm.__version__, "onnxruntime": onnxruntime.__version__, "spacy": spacy_version,
            "python": platform.python_version()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with test.txt")
    parser.add_argument("--model", type=Path, required=True, help="a trained ner-lstm model directory")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[10, 100], help="MB of generated text")
    parser.add_argument("--spacy-python", default=str(HERE / ".venv-spacy" / "bin" / "python"))
    parser.add_argument("--parts", nargs="+", choices=["throughput", "cold_start", "memory"],
                        default=["throughput", "cold_start", "memory"],
                        help="what to measure; other parts already in --out are kept")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "throughput.json")
    args = parser.parse_args()
    if not (args.model / "model.onnx").is_file():
        sys.exit(f"throughput.py: {args.model} is not a trained model with an ONNX export")
    sentences = conll_sentences(args.data / "test.txt")
    labels = sorted({t[2:] for t in json.loads((args.model / "vocab.json").read_text())["labels"] if t != "O"})
    result = json.loads(args.out.read_text()) if args.out.is_file() else {}
    result.update({"machine": {"cores": os.cpu_count(), "platform": platform.platform()},
                   "versions": versions(args.spacy_python), "model": str(args.model)})
    with tempfile.TemporaryDirectory(prefix="ner-lstm-speed-") as tmp:
        work = Path(tmp)
        spacy_model = work / "spacy-ner"
        subprocess.run([args.spacy_python, str(HERE / "spacy_ner.py"), "save", str(spacy_model), *labels], check=True)
        if "throughput" in args.parts:
            result["throughput"] = throughput(args, work, sentences)
            t = result["throughput"]
            print(f"tag: {t['ner_lstm_words_per_s']:,} words/s, spaCy NER-only {t['spacy_ner_only_words_per_s']:,} "
                  f"words/s: {t['ratio']}x ({t['tokens']:,} tokens, median of {t['runs']})", flush=True)
        if "cold_start" in args.parts:
            result["cold_start"] = cold_start(args, work)
            c = result["cold_start"]
            print(f"cold start: ner-lstm predict {c['ner_lstm_median_s']} s, spaCy load + tag {c['spacy_median_s']} s",
                  flush=True)
        if "memory" in args.parts:
            result["memory"] = memory(args, work, sentences)
            for size, m in result["memory"].items():
                print(f"tag {size} of text: peak RSS {m['peak_rss_mb']} MB in {m['seconds']} s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
