"""Raw text end to end against gold tokens: how much accuracy tokenisation and sentence splitting cost.

Usage: python benchmarks/rawtext.py --data ../shared/data/conll2003 --model models/conll2003 [--split test]

1. Gold tokens: `ner-lstm evaluate --json` on the split (entity F1, conlleval-compatible).
2. Raw text: every sentence of the split is detokenised into natural text by sacremoses' Moses
   detokenizer (a third-party rule set, so the text is not shaped by our tokeniser), one sentence a
   line; a whole `ner-lstm tag --input-format text` process tags the file; an entity counts as
   right only with the exact character span and label of a gold entity on the same line.
Prints both F1s and the gap, with how often our tokens equal the gold tokens, and writes
benchmarks/results/rawtext.json.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
NER = [sys.executable, "-m", "ner_lstm"]

from ner_lstm.data.corpus import read_conll  # noqa: E402
from ner_lstm.inference.entities import spans  # noqa: E402

Span = tuple[int, int, int, str]  # line, start, end, label


def detokenise(tokens: list[str], detokenizer) -> tuple[str, list[tuple[int, int]]]:
    """Natural text for a token list, and each token's character offsets in it."""
    text = detokenizer.detokenize(tokens)
    offsets, position = [], 0
    for token in tokens:
        start = text.index(token, position)
        if text[position:start].strip():
            raise ValueError(f"the detokenizer changed {token!r} in {text!r}")
        offsets.append((start, start + len(token)))
        position = start + len(token)
    return text, offsets


def gold_spans(sentences, detokenizer) -> tuple[list[str], set[Span]]:
    lines, gold = [], set()
    for number, sentence in enumerate(sentences, start=1):
        text, offsets = detokenise(sentence.tokens, detokenizer)
        lines.append(text)
        gold |= {(number, offsets[first][0], offsets[last - 1][1], label)
                 for label, first, last in spans(sentence.tags)}
    return lines, gold


def f1(gold: set, predicted: set) -> dict:
    right = len(gold & predicted)
    precision = right / len(predicted) if predicted else 0.0
    recall = right / len(gold) if gold else 0.0
    score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(100 * precision, 2), "recall": round(100 * recall, 2), "f1": round(100 * score, 2),
            "gold": len(gold), "predicted": len(predicted), "right": right}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with the split's .txt file")
    parser.add_argument("--model", type=Path, required=True, help="a trained ner-lstm model directory")
    parser.add_argument("--split", default="test", help="file name without .txt (tune on valid, report test)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "rawtext.json")
    args = parser.parse_args()
    from sacremoses import MosesDetokenizer

    path = args.data / f"{args.split}.txt"
    sentences = read_conll(path)
    lines, gold = gold_spans(sentences, MosesDetokenizer(lang="en"))
    evaluated = subprocess.run(NER + ["evaluate", "--model", str(args.model), str(path), "--json"],
                               check=True, capture_output=True, text=True)
    token_f1 = round(100 * json.loads(evaluated.stdout)["f1"], 2)
    with tempfile.TemporaryDirectory(prefix="ner-lstm-rawtext-") as tmp:
        text_file = Path(tmp) / "raw.txt"
        text_file.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        tagged = subprocess.run(NER + ["tag", "--model", str(args.model), str(text_file), "--input-format", "text"],
                                check=True, capture_output=True, text=True).stdout
    records = [json.loads(line) for line in tagged.splitlines()]
    predicted = {(r["id"], e["start"], e["end"], e["label"]) for r in records for e in r["entities"]}
    same_tokens = sum(r["tokens"] == s.tokens for r, s in zip(records, sentences))
    raw = f1(gold, predicted)
    result = {
        "benchmark": f"CoNLL-2003 {args.split}: raw text (Moses-detokenised, one sentence a line) vs gold tokens",
        "model": str(args.model), "machine": {"platform": platform.platform()},
        "sentences": len(sentences),
        "gold_token_f1": token_f1,
        "raw_text": raw,
        "gap_f1": round(token_f1 - raw["f1"], 2),
        "lines_tokenised_as_gold": same_tokens,
        "lines_tokenised_as_gold_percent": round(100 * same_tokens / len(sentences), 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{args.split}: gold tokens F1 {token_f1:.2f}, raw text F1 {raw['f1']:.2f} (exact span and label), "
          f"gap {result['gap_f1']:.2f}; {same_tokens} of {len(sentences)} lines tokenised exactly as gold "
          f"({result['lines_tokenised_as_gold_percent']}%)")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
