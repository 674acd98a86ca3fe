"""Raw text end to end against gold tokens: how much accuracy tokenisation and sentence splitting cost.

Usage: python benchmarks/rawtext.py --data ../shared/data/conll2003 --model models/conll2003 [--split test]

1. Gold tokens: `ner-lstm evaluate --json` on the split (entity F1, conlleval-compatible; other mentions'
   evidence comes from each `-DOCSTART-` document).
2. Raw text: every sentence of the split is detokenised into natural text by sacremoses' Moses
   detokenizer (a third-party rule set, so the text is not shaped by our tokeniser) and laid out as
   JSONL records (`{"text": ...}`) three ways:
   - one sentence a record: a document of its own, so no other mentions;
   - one document a record, laid out as news is: a sentence with a final stop runs on after a space,
     one without (a headline, a dateline, a table row) ends its paragraph (a blank line follows);
     our tokeniser splits the sentences inside paragraphs, other mentions come from the document;
   - one document a record on a single line, sentences joined by a space: text without layout, where
     headlines and table rows run together into long sentences;
   a whole `ner-lstm tag --input-format jsonl` process tags each layout; an entity counts as right only
   with the exact character span and label of a gold entity in the same record.
Prints the F1s and gaps, with how often our tokens equal the gold tokens, and writes
benchmarks/results/rawtext.json.
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
NER = [sys.executable, "-m", "ner_lstm"]

from ner_lstm.data.corpus import Sentence, conll_documents, read_conll  # noqa: E402
from ner_lstm.data.corpus import spans  # noqa: E402

Span = tuple[int, int, int, str]  # record, start, end, label
FINAL_STOP = re.compile(r"[.!?][\"')]*$")


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


def gold_spans(records: list[list[Sentence]], detokenizer, paragraphs: bool) -> tuple[list[str], set[Span]]:
    """Each record's text and the gold entities' spans in it; sentences are joined by a space, or (with
    `paragraphs`) by a blank line after those without a final stop."""
    texts, gold = [], set()
    for number, sentences in enumerate(records, start=1):
        text = ""
        for sentence in sentences:
            if text:
                text += "\n\n" if paragraphs and not FINAL_STOP.search(text) else " "
            line, offsets = detokenise(sentence.tokens, detokenizer)
            gold |= {(number, len(text) + offsets[first][0], len(text) + offsets[last - 1][1], label)
                     for label, first, last in spans(sentence.tags)}
            text += line
        texts.append(text)
    return texts, gold


def f1(gold: set, predicted: set) -> dict:
    right = len(gold & predicted)
    precision = right / len(predicted) if predicted else 0.0
    recall = right / len(gold) if gold else 0.0
    score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(100 * precision, 2), "recall": round(100 * recall, 2), "f1": round(100 * score, 2),
            "gold": len(gold), "predicted": len(predicted), "right": right}


def tag_records(records: list[list[Sentence]], model: Path, paragraphs: bool) -> dict:
    """Tag the records' text in one `ner-lstm tag` process; F1 against gold, and how many records
    our tokeniser gave exactly gold's tokens."""
    from sacremoses import MosesDetokenizer

    texts, gold = gold_spans(records, MosesDetokenizer(lang="en"), paragraphs)
    with tempfile.TemporaryDirectory(prefix="ner-lstm-rawtext-") as tmp:
        jsonl = Path(tmp) / "raw.jsonl"
        jsonl.write_text("".join(json.dumps({"text": text}) + "\n" for text in texts), encoding="utf-8")
        tagged = subprocess.run(NER + ["tag", "--model", str(model), str(jsonl), "--input-format", "jsonl"],
                                check=True, capture_output=True, text=True).stdout
    out = [json.loads(line) for line in tagged.splitlines()]
    predicted = {(r["id"], e["start"], e["end"], e["label"]) for r in out for e in r["entities"]}
    same = sum(r["tokens"] == [t for s in sentences for t in s.tokens] for r, sentences in zip(out, records))
    return {**f1(gold, predicted), "records": len(texts), "records_tokenised_as_gold": same,
            "records_tokenised_as_gold_percent": round(100 * same / len(texts), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with the split's .txt file")
    parser.add_argument("--model", type=Path, required=True, help="a trained ner-lstm model directory")
    parser.add_argument("--split", default="test", help="file name without .txt (tune on valid, report test)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "rawtext.json")
    args = parser.parse_args()

    path = args.data / f"{args.split}.txt"
    sentences = read_conll(path)
    evaluated = subprocess.run(NER + ["evaluate", "--model", str(args.model), str(path), "--json"],
                               check=True, capture_output=True, text=True)
    token_f1 = round(100 * json.loads(evaluated.stdout)["f1"], 2)
    documents = list(conll_documents(sentences))
    layouts = {"sentence_a_record": ([[s] for s in sentences], False),
               "document_a_record_in_paragraphs": (documents, True),
               "document_a_record_on_one_line": (documents, False)}
    result = {
        "benchmark": f"CoNLL-2003 {args.split}: raw text (Moses-detokenised, three layouts) vs gold tokens",
        "model": str(args.model), "machine": {"platform": platform.platform()},
        "sentences": len(sentences), "documents": len(documents),
        "gold_token_f1": token_f1,
    }
    for layout, (records, paragraphs) in layouts.items():
        raw = tag_records(records, args.model, paragraphs)
        result[layout] = {**raw, "gap_f1": round(token_f1 - raw["f1"], 2)}
        print(f"{args.split}, {layout.replace('_', ' ')}: gold tokens F1 {token_f1:.2f}, raw text F1 "
              f"{raw['f1']:.2f} (exact span and label), gap {token_f1 - raw['f1']:.2f}; "
              f"{raw['records_tokenised_as_gold']} of {raw['records']} records tokenised exactly as gold "
              f"({raw['records_tokenised_as_gold_percent']}%)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
