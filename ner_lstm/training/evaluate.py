"""Entity-level scores with seqeval: conlleval-compatible (headline) and strict IOB2 beside it."""
from __future__ import annotations

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
    default = classification_report(gold, predicted, output_dict=True, zero_division=0)
    strict = classification_report(gold, predicted, output_dict=True, zero_division=0, mode="strict", scheme=IOB2)
    result = _summary(default)
    result["mode"] = "conlleval"
    result["strict"] = {k: v for k, v in _summary(strict).items()}
    return result


def score_tagger(tagger: Any, sentences: Sequence[Any]) -> dict:
    """Tag labelled sentences with `tagger` and score the result against their gold tags."""
    return score([s.tags for s in sentences], tagger.predict_tags(sentences))


def format_report(scores: dict) -> str:
    """A table for people: conlleval-compatible figures first, strict IOB2 figures beside them."""
    lines = [f"{'type':<8} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}   {'strict f1':>9}"]
    strict_types = scores["strict"]["per_type"]
    for label, v in sorted(scores["per_type"].items()):
        strict_f1 = strict_types.get(label, {}).get("f1", 0.0)
        lines.append(
            f"{label:<8} {100 * v['precision']:>9.2f} {100 * v['recall']:>7.2f} {100 * v['f1']:>7.2f}"
            f" {v['support']:>8}   {100 * strict_f1:>9.2f}"
        )
    lines.append(
        f"{'overall':<8} {100 * scores['precision']:>9.2f} {100 * scores['recall']:>7.2f} {100 * scores['f1']:>7.2f}"
        f" {scores['support']:>8}   {100 * scores['strict']['f1']:>9.2f}"
    )
    lines.append("Scores are entity-level, conlleval-compatible (seqeval default mode); 'strict f1' is seqeval strict IOB2.")
    return "\n".join(lines)
