"""Training from annotation-tool formats: CoNLL-2003 converted by `ner-lstm convert` to Label Studio JSON,
doccano JSONL and BRAT, trained (one seed) from each and from the CoNLL files, and the CoNLL model scored on
test in each format with `ner-lstm evaluate` (exact character spans there, conlleval on CoNLL).

Usage: python benchmarks/formats.py --data ../shared/data/conll2003 [--seed 1] [--parallel 2] [--work DIR]
Every step is a whole `ner-lstm` process. Formats whose train and valid read back to the same sentences and
tags (the same data fingerprint, as `train` computes it) train identically, so one run stands for them all;
a model already in --work DIR is reused. Prints the figures and writes benchmarks/results/formats.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import run_with_peak_memory  # noqa: E402

CLI = [sys.executable, "-m", "ner_lstm"]
SPLITS = ("train", "valid", "test")
FORMATS = {"conll": ".txt", "labelstudio": ".json", "doccano": ".jsonl", "brat": ""}


def convert(data: Path, work: Path, to: str) -> dict:
    """Each split converted by one `ner-lstm convert` process; the alignment report it printed is kept."""
    timings, reports = {}, {}
    for split in SPLITS:
        output = work / to / f"{split}{FORMATS[to]}"
        output.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        done = subprocess.run(CLI + ["convert", str(data / f"{split}.txt"), "-o", str(output), "--to", to, "--overwrite"],
                              capture_output=True, text=True, check=True)
        timings[split] = round(time.monotonic() - started, 2)
        reports[split] = done.stderr.strip().splitlines()
    return {"seconds": timings, "stderr": reports}


def split_path(data: Path, work: Path, fmt: str, split: str) -> Path:
    return data / f"{split}.txt" if fmt == "conll" else work / fmt / f"{split}{FORMATS[fmt]}"


def fingerprint(data: Path, work: Path, fmt: str) -> str:
    """The digest of train and valid as `ner-lstm train` reads them from `fmt` (what a resumed run checks)."""
    from ner_lstm.data.sources import training_corpora

    paths = [split_path(data, work, fmt, split) for split in SPLITS]
    return training_corpora(paths[0], paths[1], None, None, None).fingerprint()


def train(data: Path, work: Path, fmt: str, seed: int) -> dict:
    model = work / "models" / fmt
    paths = {split: str(split_path(data, work, fmt, split)) for split in SPLITS}
    command = CLI + ["train", "--train", paths["train"], "--dev", paths["valid"], "--test", paths["test"],
                     "--model", str(model), "--seed", str(seed)]
    measured = {"seconds": None, "peak_rss_mb": None, "reused": True}  # a model trained by an earlier run
    if not (model / "model.onnx").is_file():
        measured = run_with_peak_memory(command, stdout=subprocess.DEVNULL)
    metrics = json.loads((model / "metrics.json").read_text())
    log = [json.loads(line) for line in (model / "training.jsonl").read_text().splitlines()]
    selected = next(entry for entry in log if entry["epoch"] == metrics["epoch"])
    config = json.loads((model / "config.json").read_text())
    return {"format": fmt, "seed": seed, "valid_f1": metrics["dev"]["f1"], "test_f1_tokens": metrics["test"]["f1"],
            "selected_epoch": metrics["epoch"], "epochs_run": len(log),
            "median_epoch_seconds": sorted(e["seconds"] for e in log)[len(log) // 2],
            "minutes_to_selected_model": selected["elapsed_minutes"],
            "wall_minutes_whole_process": None if measured["seconds"] is None else round(measured["seconds"] / 60, 2),
            "peak_rss_mb": None if measured["peak_rss_mb"] is None else round(measured["peak_rss_mb"]),
            "reused_model": bool(measured.get("reused")), "data_fingerprint": config["data_fingerprint"],
            "train_sentences": config["data"]["train"]["sentences"], "dev_sentences": config["data"]["dev"]["sentences"]}


def evaluate(data: Path, work: Path, model: Path, fmt: str) -> dict:
    """The CoNLL-trained model on test in `fmt`, as `ner-lstm evaluate --json` scores it."""
    done = subprocess.run(CLI + ["evaluate", str(split_path(data, work, fmt, "test")), "--model", str(model), "--json"],
                          capture_output=True, text=True, check=True)
    scores = json.loads(done.stdout)
    return {"format": fmt, "mode": scores["mode"], "f1": scores["f1"], "precision": scores["precision"],
            "recall": scores["recall"], "support": scores["support"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with train.txt, valid.txt, test.txt")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--parallel", type=int, default=1, help="trainings at once (each is slower when > 1)")
    parser.add_argument("--work", type=Path, help="keep converted files and models here")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "formats.json")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="ner-lstm-formats-"))
    conversions = {fmt: convert(args.data, work, fmt) for fmt in FORMATS if fmt != "conll"}
    print(json.dumps({"conversions": conversions}), flush=True)
    digests = {fmt: fingerprint(args.data, work, fmt) for fmt in FORMATS}
    print(json.dumps({"fingerprints": digests}), flush=True)
    distinct = list({digest: fmt for fmt, digest in reversed(digests.items())}.values())  # first of each
    with ThreadPoolExecutor(args.parallel) as pool:
        trained = dict(zip(distinct, pool.map(lambda fmt: train(args.data, work, fmt, args.seed), distinct)))
    runs = []
    for fmt, digest in digests.items():
        stands_for = next(f for f in distinct if digests[f] == digest)
        runs.append({**trained[stands_for], "format": fmt, "trained_as": stands_for})
        print(json.dumps(runs[-1]), flush=True)
    scored = [evaluate(args.data, work, work / "models" / "conll", fmt) for fmt in FORMATS]
    for row in scored:
        print(json.dumps(row), flush=True)
    base = runs[0]
    result = {
        "benchmark": "CoNLL-2003 through ner-lstm convert: train from each format (valid F1 against the CoNLL files'), "
                     "and the CoNLL model's test F1 in each format",
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor()},
        "parallel_trainings": args.parallel,
        "conversions": conversions,
        "data_fingerprints": digests,
        "runs": runs,
        "valid_f1_difference": {r["format"]: round(100 * (r["valid_f1"] - base["valid_f1"]), 2) for r in runs},
        "evaluate_test": scored,
        "test_f1_difference": {s["format"]: round(100 * (s["f1"] - scored[0]["f1"]), 2) for s in scored},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("valid_f1_difference", "test_f1_difference")}))


if __name__ == "__main__":
    main()
