"""Batch invariance on a real corpus: one sentence, one answer, whatever batch, window, worker or backend.

Usage: python benchmarks/invariance.py --data ../shared/data/conll2003 --model models/conll2003 [--split test]

1. Library: every sentence of the split tagged with batch sizes 1 and 1024, by the ONNX runtime and
   by Keras: tokens tagged differently and the largest difference of a token's confidence (marginal).
2. CLI: whole `ner-lstm tag` processes on the CoNLL file, `--batch-size 1 --workers 1` against
   `--batch-size 1024 --workers 2` (other windows, other processes): records tagged differently,
   and the F1 of each output against the gold column.
Prints the figures and writes benchmarks/results/invariance.json.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
NER = [sys.executable, "-m", "ner_lstm"]

from ner_lstm.data.corpus import read_conll  # noqa: E402
from ner_lstm.inference.tagger import Tagger  # noqa: E402
from ner_lstm.training.evaluate import score  # noqa: E402


def tag_all(tagger: Tagger, sentences, batch_size: int) -> tuple[list[list[str]], list[np.ndarray]]:
    tagger.batch_size = batch_size
    tagged = tagger.tag(sentences)
    return [t.tags for t in tagged], [np.asarray(t.confidence) for t in tagged]


def compare(left, right) -> dict:
    differing = sum(a != b for tags_a, tags_b in zip(left[0], right[0]) for a, b in zip(tags_a, tags_b))
    largest = max(float(np.abs(a - b).max()) for a, b in zip(left[1], right[1]) if len(a))
    return {"tokens_tagged_differently": differing, "largest_confidence_difference": largest}


def cli_run(model: Path, path: Path, out: Path, batch_size: int, workers: int) -> list[dict]:
    subprocess.run(NER + ["tag", "--model", str(model), str(path), "-o", str(out), "--input-format", "conll",
                          "--batch-size", str(batch_size), "--processes", str(workers)], check=True, capture_output=True)
    return [json.loads(line) for line in out.read_text().splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "invariance.json")
    args = parser.parse_args()
    path = args.data / f"{args.split}.txt"
    sentences = read_conll(path)
    onnx, keras = Tagger.load(args.model, backend="onnx"), Tagger.load(args.model, backend="keras")
    runs = {(name, size): tag_all(tagger, sentences, size) for name, tagger in (("onnx", onnx), ("keras", keras))
            for size in (1, 1024)}
    library = {"onnx_batch_1_vs_1024": compare(runs["onnx", 1], runs["onnx", 1024]),
               "keras_batch_1_vs_1024": compare(runs["keras", 1], runs["keras", 1024]),
               "onnx_vs_keras_batch_1024": compare(runs["onnx", 1024], runs["keras", 1024])}
    with tempfile.TemporaryDirectory(prefix="ner-lstm-invariance-") as tmp:
        small = cli_run(args.model, path, Path(tmp) / "a.jsonl", 1, 1)
        large = cli_run(args.model, path, Path(tmp) / "b.jsonl", 1024, 2)
    cli = {"records": len(small),
           "records_tagged_differently": sum(a["tags"] != b["tags"] for a, b in zip(small, large)),
           "entity_scores_differing": sum(a["entities"] != b["entities"] for a, b in zip(small, large)),
           "f1_batch_1_workers_1": round(100 * score([r["gold"] for r in small], [r["tags"] for r in small])["f1"], 2),
           "f1_batch_1024_workers_2": round(100 * score([r["gold"] for r in large], [r["tags"] for r in large])["f1"], 2)}
    result = {"benchmark": f"CoNLL-2003 {args.split}: the same sentences in different batches, workers, backends",
              "model": str(args.model), "sentences": len(sentences), "library": library, "cli": cli}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for name, figures in library.items():
        print(f"{name}: {figures['tokens_tagged_differently']} tokens tagged differently, largest confidence "
              f"difference {figures['largest_confidence_difference']:.2e}")
    print(f"tag --batch-size 1 --workers 1 vs --batch-size 1024 --workers 2: {cli['records_tagged_differently']} of "
          f"{cli['records']} records tagged differently, {cli['entity_scores_differing']} with other entity scores; "
          f"F1 {cli['f1_batch_1_workers_1']:.2f} vs {cli['f1_batch_1024_workers_2']:.2f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
