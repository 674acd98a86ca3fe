"""Your own data and the loop around it: annotation-tool formats, word vectors from files, calibrated scores,
entity patterns, continuing a model with --init-from.

Usage: python benchmarks/own_data.py formats --data ../shared/data/conll2003 [--seed 1] [--parallel 2] [--work DIR]
       python benchmarks/own_data.py vectors [--words 1000000] [--dim 300] [--work DIR] [--data DIR --epochs 2]

1. formats: CoNLL-2003 converted by `ner-lstm convert` to Label Studio JSON, doccano JSONL and BRAT, trained
   (one seed) from each and from the CoNLL files, and the CoNLL model scored on test in each format with
   `ner-lstm evaluate` (exact character spans there, conlleval on CoNLL). Every step is a whole `ner-lstm`
   process. Formats whose train and valid read back to the same sentences and tags (the same data
   fingerprint, as `train` computes it) train identically, so one run stands for them all; a model already
   in --work DIR is reused. Writes benchmarks/results/formats.json.
2. vectors: the packaged GloVe 6B 50d is written as a gzip'd word2vec text file (a `count dim` line, 9
   significant digits, so float32 survives the text) and read back by `train --embeddings`'s reader: the
   table must be the built-in one (same words in the same rows, same vectors). With --data, both train
   (`ner-lstm train --seed 1 --epochs N`, whole processes) and their dev F1 are compared. Then a synthetic
   `.vec` file of --words words and --dim dimensions (fastText's layout: header, trailing space) is
   converted by a whole process, as `train --embeddings` converts it; its wall time and peak memory (RSS
   and PSS of the process, sampled) are measured. Writes benchmarks/results/vectors.json.
3. calibration: a copy of --model is calibrated on valid by `ner-lstm calibrate` with each method (whole
   processes), then scored on test by `ner-lstm evaluate --json`: ECE (exact span and type, 15 bins), Brier,
   thresholds and the reliability diagram's bins, raw and after. Writes benchmarks/results/calibration.json.
4. patterns: --count patterns (entity phrases of CoNLL-2003 train, then generated names, half as LOWER token
   patterns) matched over every token of test (the matcher alone), and whole `ner-lstm tag` processes on every
   CoNLL-2003 token (train, valid and test as one CoNLL file) with none, 1k and --count patterns stored in the
   model, in rounds. Writes benchmarks/results/patterns.json.
5. init-from: a model trained on train and valid with MISC relabelled O (--base, or trained here with --epochs), then
   continued with `train --init-from` on the real train and valid: per-type valid F1 of both, against a model
   trained from scratch on the real data (--scratch), with epochs, epoch seconds and minutes. Writes init-from.json.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

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


def write_glove(path: Path) -> dict:
    from ner_lstm.model.embeddings import glove_matrix, glove_words

    words, matrix = glove_words(), glove_matrix()
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=3) as handle:
        handle.write(f"{len(words)} {matrix.shape[1]}\n")
        for word, vector in zip(words, matrix):
            handle.write(word + " " + " ".join(f"{x:.9g}" for x in vector) + "\n")
    return {"words": len(words), "dim": int(matrix.shape[1]), "bytes": path.stat().st_size}


def compare_with_package(path: Path, work: Path) -> dict:
    from ner_lstm.model.embeddings import package_glove
    from ner_lstm.model.vectors import convert_vectors

    built_in = package_glove()
    read = convert_vectors(path, work)
    ids = np.arange(2, len(built_in) + 2)
    same_words = bool(np.array_equal(built_in.short, read.short)) and built_in.long_words == read.long_words
    difference = float(np.abs(built_in.lookup(ids) - read.lookup(ids)).max())
    return {"same_words_in_same_rows": same_words, "max_abs_vector_difference": difference,
            "cased": read.cased, "built_in_cased": built_in.cased}


def train_both(data: Path, glove: Path, work: Path, epochs: int) -> dict:
    """Dev F1 per epoch of the same seed trained with the built-in GloVe and with the file written from it."""
    import subprocess

    curves = {}
    for name, embeddings in (("built_in", "glove"), ("file", str(glove))):
        model = work / f"model-{name}"
        subprocess.run([sys.executable, "-m", "ner_lstm", "train", "--train", str(data / "train.txt"), "--dev",
                        str(data / "valid.txt"), "--model", str(model), "--seed", "1", "--epochs", str(epochs),
                        "--embeddings", embeddings, "--overwrite"], check=True, stdout=subprocess.DEVNULL)
        log = [json.loads(line) for line in (model / "training.jsonl").read_text().splitlines()]
        curves[name] = {"dev_f1": [e["dev_f1"] for e in log], "epoch_seconds": [e["seconds"] for e in log]}
    curves["identical"] = curves["built_in"]["dev_f1"] == curves["file"]["dev_f1"]
    return curves


def write_synthetic(path: Path, words: int, dim: int) -> dict:
    rng = np.random.default_rng(0)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(f"{words} {dim}\n")
        for start in range(0, words, 10_000):
            block = rng.standard_normal((min(10_000, words - start), dim)).astype(np.float32)
            handle.write("".join(f"w{start + i:07d}é " + " ".join(f"{x:.4f}" for x in row) + " \n"
                                 for i, row in enumerate(block)))
    return {"words": words, "dim": dim, "bytes": path.stat().st_size}


def formats_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="folder with train.txt, valid.txt, test.txt")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--parallel", type=int, default=1, help="trainings at once (each is slower when > 1)")
    parser.add_argument("--work", type=Path, help="keep converted files and models here")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "formats.json")


def formats(args: argparse.Namespace) -> None:
    """Train from each format and score the CoNLL model in each (see the module's docstring, 1)."""
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


def vectors_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--work", type=Path, help="keep the files here")
    parser.add_argument("--data", type=Path, help="also train with both (a folder with train.txt, valid.txt)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of each --data training")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "vectors.json")


def vectors(args: argparse.Namespace) -> None:
    """The packaged GloVe read back from a text file, and a large .vec converted (the module's docstring, 2)."""
    work = args.work or Path(tempfile.mkdtemp(prefix="ner-lstm-vectors-"))
    work.mkdir(parents=True, exist_ok=True)
    glove = work / "glove.6B.50d.w2v.txt.gz"
    written = write_glove(glove)
    roundtrip = {**written, **compare_with_package(glove, work / "glove-table")}
    if args.data:
        roundtrip["training"] = {"data": args.data.name, "seed": 1, "epochs": args.epochs,
                                 **train_both(args.data, glove, work, args.epochs)}
    print(json.dumps({"glove_roundtrip": roundtrip}), flush=True)
    big = work / f"synthetic-{args.words}x{args.dim}.vec"
    synthetic = write_synthetic(big, args.words, args.dim)
    command = [sys.executable, "-c", "import sys; from pathlib import Path; from ner_lstm.model.vectors import "
               "convert_vectors; t = convert_vectors(Path(sys.argv[1]), Path(sys.argv[2])); print(len(t), t.dim)",
               str(big), str(work / "big-table")]
    measured = run_with_peak_memory(command)
    converted = {**synthetic, "seconds": round(measured["seconds"], 1), "peak_rss_mb": round(measured["peak_rss_mb"]),
                 "peak_pss_mb": round(measured.get("peak_pss_mb", float("nan"))),
                 "table_bytes": sum(p.stat().st_size for p in (work / "big-table").iterdir())}
    print(json.dumps({"convert": converted}), flush=True)
    result = {"benchmark": "vector files: the packaged GloVe through the text reader, and a large .vec converted",
              "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor()},
              "glove_roundtrip": roundtrip, "convert": converted}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")


def machine() -> dict:
    return {"cores": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor()}


def write_result(path: Path, result: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")


def calibration_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="folder with valid.txt and test.txt")
    parser.add_argument("--model", type=Path, required=True, help="a trained model (copied; left unchanged)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "calibration.json")


def calibration(args: argparse.Namespace) -> None:
    """Each calibration method fitted on valid, scored on test (the module's docstring, 3)."""
    work = Path(tempfile.mkdtemp(prefix="ner-lstm-calibration-"))
    methods = {}
    for method in ("none", "temperature", "isotonic", "temperature+isotonic"):
        model = work / method.replace("+", "-")
        shutil.copytree(args.model, model)
        started = time.monotonic()
        subprocess.run(CLI + ["calibrate", str(args.data / "valid.txt"), "--model", str(model), "--method", method],
                       check=True, stdout=subprocess.DEVNULL)
        fit_seconds = time.monotonic() - started
        scored = {}
        for split in ("valid", "test"):
            out = subprocess.run(CLI + ["evaluate", str(args.data / f"{split}.txt"), "--model", str(model), "--json"],
                                 check=True, capture_output=True, text=True).stdout
            scored[split] = json.loads(out)["calibration"]
        methods[method] = {"temperature": json.loads((model / "calibration.json").read_text())["temperature"],
                           "fit_seconds_whole_process": round(fit_seconds, 1),
                           "valid": {k: scored["valid"][k] for k in ("ece", "brier")}, "test": scored["test"]}
        print(json.dumps({method: {"valid_ece": scored["valid"]["ece"], "test_ece": scored["test"]["ece"],
                                   "test_brier": scored["test"]["brier"]}}), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    oracle = temperature_on_test(args.model, args.data / "test.txt")
    print(json.dumps({"diagnostic_best_temperature_on_test": oracle}), flush=True)
    fitted = {m: v for m, v in methods.items() if m != "none"}
    best = min(fitted, key=lambda m: fitted[m]["test"]["ece"])
    write_result(args.out, {
        "benchmark": "entity-score calibration: fitted on CoNLL-2003 valid, measured on test (exact span and type)",
        "machine": machine(), "model": args.model.name, "methods": methods, "best_on_test": best,
        "default": "temperature", "target_test_ece": 0.02,
        "test_ece_before": methods["none"]["test"]["ece"], "test_ece_after": methods["temperature"]["test"]["ece"],
        "diagnostic_best_temperature_on_test": oracle})


def temperature_on_test(model: Path, test: Path) -> dict:
    """A diagnostic, not a method (it looks at test): the temperature that calibrates test best, and its ECE, to
    show how much of the gap to the target is the shift between valid and test."""
    from ner_lstm.data.corpus import read_conll
    from ner_lstm.evaluation.calibration import TEMPERATURES, measure
    from ner_lstm.inference.calibration import Calibration
    from ner_lstm.inference.tagger import Tagger

    tagger = Tagger.load(model)
    sentences = [s for s in read_conll(test) if len(s)]
    rows = tagger.emission_rows(sentences)
    found = {}
    for temperature in TEMPERATURES:
        tagger.calibration = Calibration(temperature=float(temperature))
        found[float(temperature)] = measure(tagger, sentences, rows)["ece"]
    best = min(found, key=found.get)
    return {"temperature": best, "test_ece": found[best]}


def patterns_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="folder with train.txt and test.txt")
    parser.add_argument("--model", type=Path, required=True, help="a trained model (copied; left unchanged)")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "patterns.json")


def make_patterns(train: Path, count: int, seed: int = 0) -> list[dict]:
    """CoNLL-2003 train's entity phrases, then generated two- and three-word names; every other one as LOWER
    token dicts."""
    from ner_lstm.data.corpus import read_conll, spans

    found = {}
    for sentence in read_conll(train):
        for label, first, last in spans(sentence.tags or []):
            found.setdefault(" ".join(sentence.tokens[first:last]), label)
    rng = np.random.default_rng(seed)
    syllables = ["ka", "lo", "mir", "zan", "tor", "vel", "qui", "bex", "dra", "sun", "ol", "rey"]
    while len(found) < count:
        words = ["".join(rng.choice(syllables, rng.integers(2, 4))).title() for _ in range(rng.integers(2, 4))]
        found.setdefault(" ".join(words), str(rng.choice(["PER", "ORG", "LOC", "MISC"])))
    rows = []
    for i, (phrase, label) in enumerate(list(found.items())[:count]):
        pattern = phrase if i % 2 else [{"LOWER": token.lower()} for token in phrase.split()]
        rows.append({"label": label, "pattern": pattern, "id": f"p{i}"})
    return rows


def patterns(args: argparse.Namespace) -> None:
    """The matcher over test, and tagging with 0, 1k and --count stored patterns (the module's docstring, 4)."""
    from ner_lstm.data.corpus import read_conll
    from ner_lstm.inference.patterns import Patterns, read_patterns

    work = Path(tempfile.mkdtemp(prefix="ner-lstm-patterns-"))
    rows = make_patterns(args.data / "train.txt", args.count)
    sizes = {"none": 0, "1k": 1000, f"{args.count // 1000}k": args.count}
    models = {}
    for name, size in sizes.items():
        model = models[name] = work / f"model-{name}"
        shutil.copytree(args.model, model)
        if size:
            file = work / f"patterns-{name}.jsonl"
            file.write_text("".join(json.dumps(r) + "\n" for r in rows[:size]))
            subprocess.run(CLI + ["patterns", str(file), "--model", str(model)], check=True, stdout=subprocess.DEVNULL)
    sentences = [s.tokens for s in read_conll(args.data / "test.txt") if len(s)]
    tokens = sum(map(len, sentences))
    every = work / "all.txt"  # tagging: every token, so that start-up is a small part of each process
    every.write_text("".join((args.data / f"{split}.txt").read_text() for split in SPLITS))
    all_tokens = sum(len(s) for s in read_conll(every))
    started = time.monotonic()
    matcher = Patterns(read_patterns(models[list(sizes)[-1]] / "patterns.jsonl"))
    load_seconds = time.monotonic() - started
    started = time.monotonic()
    matches = sum(len(matcher.find(s)) for s in sentences)
    match_seconds = time.monotonic() - started
    print(json.dumps({"matcher": {"patterns": len(matcher), "load_seconds": round(load_seconds, 2), "matches": matches,
                                  "tokens_per_second": round(tokens / match_seconds)}}), flush=True)
    timings = {name: [] for name in sizes}
    for _ in range(args.rounds):  # rounds: every setting once per round, so drift hits all alike
        for name, model in models.items():
            started = time.monotonic()
            subprocess.run(CLI + ["tag", str(every), "--input-format", "conll", "--model", str(model),
                                  "-o", str(work / "out.jsonl")], check=True, stderr=subprocess.DEVNULL)
            timings[name].append(time.monotonic() - started)
            (work / "out.jsonl").unlink()
    tagging = {name: {"median_seconds": round(float(np.median(t)), 2), "seconds": [round(x, 2) for x in t],
                      "tokens_per_second": round(all_tokens / float(np.median(t)))} for name, t in timings.items()}
    for name in sizes:
        tagging[name]["speed_vs_none"] = round(tagging[name]["tokens_per_second"] / tagging["none"]["tokens_per_second"],
                                               3)
    print(json.dumps({"tagging": tagging}), flush=True)
    steady = in_process(models, every, args.rounds)
    print(json.dumps({"in_process": steady}), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    write_result(args.out, {"benchmark": "entity patterns: the matcher alone on CoNLL-2003 test, and whole ner-lstm "
                                         "tag processes on every CoNLL-2003 token with patterns stored in the model",
                            "machine": machine(), "test_tokens": tokens, "tagged_tokens": all_tokens,
                            "matcher": {"patterns": len(matcher), "load_seconds": round(load_seconds, 2),
                                        "matches": matches, "tokens_per_second": round(tokens / match_seconds)},
                            "tagging": tagging, "in_process": steady, "rounds": args.rounds})


def in_process(models: dict[str, Path], source: Path, rounds: int) -> dict:
    """`Tagger.tag` over every sentence, models loaded once: the steady cost of matching, without start-up and
    the patterns' loading (rounds alternate the models)."""
    from ner_lstm.data.corpus import read_conll
    from ner_lstm.inference.tagger import Tagger

    sentences = read_conll(source)
    tokens = sum(len(s) for s in sentences)
    taggers = {name: Tagger.load(model) for name, model in models.items()}
    seconds = {name: [] for name in taggers}
    for _ in range(rounds):
        for name, tagger in taggers.items():
            started = time.monotonic()
            tagger.tag(sentences)
            seconds[name].append(time.monotonic() - started)
    found = {name: {"median_seconds": round(float(np.median(t)), 3), "tokens_per_second": round(tokens / np.median(t))}
             for name, t in seconds.items()}
    for name in found:
        found[name]["speed_vs_none"] = round(found[name]["tokens_per_second"] / found["none"]["tokens_per_second"], 3)
    return found


def init_from_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="folder with train.txt and valid.txt")
    parser.add_argument("--scratch", type=Path, required=True, help="a model trained from scratch on the real data")
    parser.add_argument("--base", type=Path, help="a model trained without MISC (trained here when not given)")
    parser.add_argument("--work", type=Path, help="keep the data and models here")
    parser.add_argument("--epochs", type=int, default=10, help="most epochs of the base run and of the continued run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "init-from.json")


def without_misc(data: Path, work: Path) -> Path:
    folder = work / "no-misc"
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid"):
        lines = (data / f"{split}.txt").read_text().splitlines(keepends=True)
        (folder / f"{split}.txt").write_text("".join(
            line.rsplit(" ", 1)[0] + " O\n" if line.rstrip().endswith("-MISC") else line for line in lines))
    return folder


def run_summary(model: Path) -> dict:
    metrics = json.loads((model / "metrics.json").read_text())
    log = [json.loads(line) for line in (model / "training.jsonl").read_text().splitlines()]
    return {"valid_f1": metrics["dev"]["f1"], "valid_per_type_f1": {k: v["f1"] for k, v in
                                                                    metrics["dev"]["per_type"].items()},
            "selected_epoch": metrics["epoch"], "epochs_run": len(log),
            "minutes_training": log[-1]["elapsed_minutes"],
            "minutes_to_selected": next(e["elapsed_minutes"] for e in log if e["epoch"] == metrics["epoch"]),
            "median_epoch_seconds": float(np.median([e["seconds"] for e in log]))}


def init_from(args: argparse.Namespace) -> None:
    """A model without MISC continued on data with MISC (the module's docstring, 5)."""
    work = args.work or Path(tempfile.mkdtemp(prefix="ner-lstm-init-from-"))
    work.mkdir(parents=True, exist_ok=True)
    base = args.base
    if base is None:
        folder, base = without_misc(args.data, work), work / "base"
        subprocess.run(CLI + ["train", "--train", str(folder / "train.txt"), "--dev", str(folder / "valid.txt"),
                              "--model", str(base), "--seed", str(args.seed), "--epochs", str(args.epochs),
                              "--overwrite"], check=True)
    child = work / "continued"
    subprocess.run(CLI + ["train", "--train", str(args.data / "train.txt"), "--dev", str(args.data / "valid.txt"),
                          "--init-from", str(base), "--model", str(child), "--seed", str(args.seed), "--epochs",
                          str(args.epochs), "--overwrite"], check=True)
    runs = {"base_without_misc": run_summary(base), "continued": run_summary(child), "scratch": run_summary(args.scratch)}
    # the base scored on the real valid: what it knows of the old types, measured as the continued model is
    real = json.loads(subprocess.run(CLI + ["evaluate", str(args.data / "valid.txt"), "--model", str(base), "--json"],
                                     check=True, capture_output=True, text=True).stdout)
    runs["base_without_misc"]["real_valid_per_type_f1"] = {k: v["f1"] for k, v in real["per_type"].items()}
    old = ("LOC", "ORG", "PER")
    change = {t: round(100 * (runs["continued"]["valid_per_type_f1"][t] -
                              runs["base_without_misc"]["real_valid_per_type_f1"][t]), 2) for t in old}
    result = {"benchmark": "train --init-from: a model trained without MISC, continued on CoNLL-2003 with MISC",
              "machine": machine(), "epochs_limit": args.epochs, "runs": runs,
              "old_types_f1_change_points": change,
              "misc_valid_f1": runs["continued"]["valid_per_type_f1"]["MISC"],
              "scratch_misc_valid_f1": runs["scratch"]["valid_per_type_f1"]["MISC"]}
    print(json.dumps({k: result[k] for k in ("old_types_f1_change_points", "misc_valid_f1", "scratch_misc_valid_f1")}))
    write_result(args.out, result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parts = parser.add_subparsers(dest="part", required=True)
    formats_arguments(parts.add_parser("formats", help="train from each annotation format"))
    vectors_arguments(parts.add_parser("vectors", help="word vectors from files"))
    calibration_arguments(parts.add_parser("calibration", help="calibrated entity scores"))
    patterns_arguments(parts.add_parser("patterns", help="entity patterns: matching and tagging cost"))
    init_from_arguments(parts.add_parser("init-from", help="continue a model without MISC on data with it"))
    args = parser.parse_args()
    {"formats": formats, "vectors": vectors, "calibration": calibration, "patterns": patterns,
     "init-from": init_from}[args.part](args)


if __name__ == "__main__":
    main()
