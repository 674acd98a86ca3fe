"""Entity-level scores with seqeval: conlleval-compatible (headline) and strict IOB2 beside it."""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from seqeval.metrics import classification_report
from seqeval.scheme import IOB2


def _summary(report: dict) -> dict:
    overall = report["micro avg"]
    per_type = {
        label: {
            "precision": round(float(v["precision"]), 6),
            "recall": round(float(v["recall"]), 6),
            "f1": round(float(v["f1-score"]), 6),
            "support": int(v["support"]),
        }
        for label, v in report.items()
        if label not in {"micro avg", "macro avg", "weighted avg"}
    }
    return {
        "precision": round(float(overall["precision"]), 6),
        "recall": round(float(overall["recall"]), 6),
        "f1": round(float(overall["f1-score"]), 6),
        "support": int(overall["support"]),
        "per_type": per_type,
    }


def score(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict:
    """Precision, recall and F1 (0..1) overall and per type; `strict` holds the strict-mode figures."""
    gold, predicted = [list(g) for g in gold], [list(p) for p in predicted]
    with warnings.catch_warnings():  # data without a single entity: seqeval averages empty arrays (0 is right)
        warnings.simplefilter("ignore", RuntimeWarning)
        default = classification_report(gold, predicted, output_dict=True, zero_division=0)
        strict = classification_report(gold, predicted, output_dict=True, zero_division=0, mode="strict",
                                       scheme=IOB2)
    result = _summary(default)
    result["mode"] = "conlleval"
    result["strict"] = {k: v for k, v in _summary(strict).items()}
    return result


def score_spans(gold: Sequence[Sequence[tuple[int, int, str]]],
                predicted: Sequence[Sequence[tuple[int, int, str]]]) -> dict:
    """Precision, recall and F1 of exact character spans and types, per record: what a span format's
    gold says, so a token that the tokeniser cut otherwise than the annotator is an error here."""
    labels = sorted({s[2] for spans in (*gold, *predicted) for s in spans})
    counts = {label: [0, 0, 0] for label in labels}  # true positives, predicted, gold
    for gold_spans, predicted_spans in zip(gold, predicted):
        wanted, found = set(gold_spans), set(predicted_spans)
        for span in found:
            counts[span[2]][1] += 1
            counts[span[2]][0] += span in wanted
        for span in wanted:
            counts[span[2]][2] += 1

    def figures(tp: int, n_predicted: int, n_gold: int) -> dict:
        precision = tp / n_predicted if n_predicted else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": round(precision, 6), "recall": round(recall, 6), "f1": round(f1, 6),
                "support": n_gold}

    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    return {**figures(*total), "mode": "spans",
            "per_type": {label: figures(*c) for label, c in counts.items() if c[2]}}


def score_records(records: Sequence[Any], tagged: Sequence[Any]) -> dict:
    """Score labelled records from their tagged sentences (`tagged`, one per sentence of every record, in order):
    a span format's on exact character spans against its gold spans, a token format's (no gold spans) on tags."""
    if not all(record.gold_spans is not None for record in records):
        pairs = [(s.tags, t.tags) for s, t in zip((s for r in records for s in r.sentences), tagged) if len(s)]
        return score([g for g, _ in pairs], [p for _, p in pairs])
    results = iter(tagged)
    predicted = []
    for record in records:
        entities = [e for _ in record.sentences for e in next(results).entities]
        predicted.append([(e.start, e.end, e.label) for e in entities])
    gold = [[(s.start, s.end, s.label) for s in record.gold_spans] for record in records]
    return score_spans(gold, predicted)


def score_tagger(tagger: Any, sentences: Sequence[Any]) -> dict:
    """Tag labelled sentences with `tagger` and score the result against their gold tags."""
    return score([s.tags for s in sentences], tagger.predict_tags(sentences))


def format_report(scores: dict) -> str:
    """A table for people: conlleval-compatible figures first, strict IOB2 figures beside them."""
    strict = scores.get("strict")
    header = f"{'type':<8} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}"
    lines = [header + ("   strict f1" if strict else "")]
    for label, v in [*sorted(scores["per_type"].items()), ("overall", scores)]:
        row = (f"{label:<8} {100 * v['precision']:>9.2f} {100 * v['recall']:>7.2f} {100 * v['f1']:>7.2f} "
               f"{v['support']:>8}")
        if strict:
            strict_f1 = strict if label == "overall" else strict["per_type"].get(label, {})
            row += f"   {100 * strict_f1.get('f1', 0.0):>9.2f}"
        lines.append(row)
    if strict:
        lines.append("Scores are entity-level, conlleval-compatible (seqeval default mode); "
                     "'strict f1' is seqeval strict IOB2.")
    else:
        lines.append("Scores are exact character spans and types against the file's own spans: a token the "
                     "tokeniser cut otherwise than the annotator counts as an error.")
    return "\n".join(lines)
