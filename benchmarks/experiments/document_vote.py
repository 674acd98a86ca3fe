"""Does document-level label consistency at decode time help? An experiment on a split's documents.

Usage: python benchmarks/experiments/document_vote.py --data ../shared/data/conll2003 --models M1 M2 M3 [--split valid]

Each `-DOCSTART-` document is tagged as it is; then every mention of an entity string is given the
type with the highest summed score over that string's mentions in the document ("vote"), or only
mentions scored under a threshold whose string has 75% of its weight on another type ("gated").
Prints entity F1 (seqeval default mode) of each model as tagged and after each rule, and writes
benchmarks/results/archive/document-vote.json. Not part of the tagger: it did not pay (see docs/results/notes.md).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]  # benchmarks/
sys.path.insert(0, str(HERE.parent))
from seqeval.metrics import f1_score  # noqa: E402

from ner_lstm import Tagger  # noqa: E402
from ner_lstm.data.corpus import DOCSTART, Sentence  # noqa: E402
from ner_lstm.data.corpus import spans  # noqa: E402

Document = list[tuple[list[str], list[str]]]


def read_documents(path: Path) -> list[Document]:
    """Sentences (tokens, gold tags) grouped by `-DOCSTART-` lines."""
    documents: list[Document] = [[]]
    tokens: list[str] = []
    tags: list[str] = []
    for line in [*path.read_text("utf-8").splitlines(), ""]:
        columns = line.split()
        if (not columns or columns[0] == DOCSTART) and tokens:
            documents[-1].append((tokens, tags))
            tokens, tags = [], []
        if columns and columns[0] == DOCSTART:
            documents.append([])
        elif columns:
            tokens.append(columns[0])
            tags.append(columns[-1])
    return [d for d in documents if d]


def relabel(tagged: list, threshold: float | None) -> list[list[str]]:
    """The document's tags after the vote; `threshold` None relabels every mention (plain vote)."""
    votes: dict[tuple[str, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for item in tagged:
        for e in item.entities:
            votes[tuple(item.sentence.tokens[e.token_start:e.token_end])][e.label] += e.score
    relabelled = []
    for item in tagged:
        tags = list(item.tags)
        scores = {(e.token_start, e.token_end): e.score for e in item.entities}
        for label, start, end in spans(tags):
            weights = votes[tuple(item.sentence.tokens[start:end])]
            best = max(weights, key=weights.get)
            gated = threshold is None or (scores.get((start, end), 1.0) < threshold
                                          and weights[best] >= 0.75 * sum(weights.values()))
            if best != label and gated:
                tags[start:end] = [tag[:2] + best for tag in tags[start:end]]
        relabelled.append(tags)
    return relabelled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--models", type=Path, nargs="+", required=True)
    parser.add_argument("--split", default="valid")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "archive" / "document-vote.json")
    args = parser.parse_args()
    documents = read_documents(args.data / f"{args.split}.txt")
    rules = {"as tagged": "skip", "vote": None, "gated 0.6": 0.6, "gated 0.9": 0.9}
    results = {}
    for model in args.models:
        tagger = Tagger.load(model)
        gold: list[list[str]] = [tags for document in documents for _, tags in document]
        predicted: dict[str, list[list[str]]] = {rule: [] for rule in rules}
        for document in documents:
            tagged = tagger.tag([Sentence(tokens) for tokens, _ in document])
            for rule, threshold in rules.items():
                predicted[rule] += [list(t.tags) for t in tagged] if threshold == "skip" else relabel(tagged, threshold)
        results[str(model)] = {rule: round(100 * float(f1_score(gold, tags)), 2) for rule, tags in predicted.items()}
        print(model, results[str(model)], flush=True)
    means = {rule: round(float(sum(r[rule] for r in results.values())) / len(results), 2) for rule in rules}
    print("mean", means)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"split": args.split, "documents": len(documents), "f1": results, "mean": means},
                                   indent=1) + "\n")


if __name__ == "__main__":
    main()
