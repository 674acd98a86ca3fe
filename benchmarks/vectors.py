"""Word vectors from files: the packaged GloVe written out and read back, and a large file converted.

Usage: python benchmarks/vectors.py [--words 1000000] [--dim 300] [--work DIR] [--data DIR --epochs 2]
1. The packaged GloVe 6B 50d is written as a gzip'd word2vec text file (a `count dim` line, 9 significant
   digits, so float32 survives the text) and read back by `train --embeddings`'s reader: the table must be
   the built-in one (same words in the same rows, same vectors), so training with it is the built-in run.
   With --data, both train (`ner-lstm train --seed 1 --epochs N`, whole processes) and their dev F1 are
   compared.
2. A synthetic `.vec` file of --words words and --dim dimensions (fastText's layout: header, trailing
   space) is converted by a whole process, as `train --embeddings` converts it; its wall time and peak
   memory (RSS and PSS of the process, sampled) are measured.
Prints the figures and writes benchmarks/results/vectors.json.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import run_with_peak_memory  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--work", type=Path, help="keep the files here")
    parser.add_argument("--data", type=Path, help="also train with both (a folder with train.txt, valid.txt)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of each --data training")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "vectors.json")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
