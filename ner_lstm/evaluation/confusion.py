"""Where a model errs: gold and predicted entities matched one to one, each pair (or lone entity) given a kind,
the confusion matrix of entity types with its `missed` column and `spurious` row, the SemEval 2013 modes.

A gold and a predicted entity are matched when their tokens overlap, the largest overlaps first; what is left
unmatched is missed (gold) or spurious (predicted). A matched pair is correct (same span and type), of the
wrong type (same span), or of the wrong boundary (the spans differ; the types may too).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..data.corpus import spans

KINDS = ("wrong type", "wrong boundary", "missed", "spurious")
SEMEVAL_MODES = {"strict": "strict", "exact": "exact boundary", "partial": "partial boundary", "ent_type": "type"}


@dataclass(frozen=True)
class Span:
    label: str
    first: int
    last: int  # one past the last token


@dataclass(frozen=True)
class Outcome:
    kind: str  # "correct" or one of KINDS
    sentence: int
    gold: Span | None
    predicted: Span | None
    score: float  # the predicted entity's score; for a missed one, the lowest confidence of what was predicted there


def entity_spans(tags: Sequence[str]) -> list[Span]:
    return [Span(label, first, last) for label, first, last in spans(tags)]


def match(gold: Sequence[Span], predicted: Sequence[Span]) -> list[tuple[Span | None, Span | None]]:
    """One-to-one pairs by token overlap (largest first, then leftmost), then the unmatched of each side."""
    overlaps = sorted(((min(g.last, p.last) - max(g.first, p.first), -g.first, i, j)
                       for i, g in enumerate(gold) for j, p in enumerate(predicted)
                       if g.first < p.last and p.first < g.last), reverse=True)
    gold_used, predicted_used, pairs = set(), set(), []
    for _, _, i, j in overlaps:
        if i not in gold_used and j not in predicted_used:
            gold_used.add(i)
            predicted_used.add(j)
            pairs.append((gold[i], predicted[j]))
    pairs += [(g, None) for i, g in enumerate(gold) if i not in gold_used]
    pairs += [(None, p) for j, p in enumerate(predicted) if j not in predicted_used]
    return pairs


def kind_of(gold: Span | None, predicted: Span | None) -> str:
    if predicted is None:
        return "missed"
    if gold is None:
        return "spurious"
    if (gold.first, gold.last) != (predicted.first, predicted.last):
        return "wrong boundary"
    return "correct" if gold.label == predicted.label else "wrong type"


def outcomes(gold_tags: Sequence[Sequence[str]], tagged: Sequence[Any]) -> list[Outcome]:
    """Every gold and predicted entity of every sentence, once, with its kind and score (`tagged`: the
    tagger's results, whose `entities` carry scores)."""
    found = []
    for index, (gold, result) in enumerate(zip(gold_tags, tagged)):
        scores = {(e.token_start, e.token_end): e.score for e in result.entities}
        for g, p in match(entity_spans(gold), entity_spans(result.tags)):
            if p is not None:
                score = scores.get((p.first, p.last), 1.0)
            else:  # how sure the model was of what it tagged over the missed entity
                score = round(min(result.confidence[g.first : g.last], default=1.0), 4)
            found.append(Outcome(kind_of(g, p), index, g, p, float(score)))
    return found


def confusion(found: Sequence[Outcome], labels: Sequence[str]) -> dict:
    """Counts of gold type (rows, then `spurious`) against predicted type (columns, then `missed`)."""
    rows, columns = [*labels, "spurious"], [*labels, "missed"]
    counts = [[0] * len(columns) for _ in rows]
    for outcome in found:
        row = rows.index(outcome.gold.label) if outcome.gold else len(labels)
        column = columns.index(outcome.predicted.label) if outcome.predicted else len(labels)
        counts[row][column] += 1
    return {"rows": rows, "columns": columns, "counts": counts,
            "matching": "gold and predicted entities matched one to one by token overlap"}


def semeval(gold_tags: Sequence[Sequence[str]], predicted_tags: Sequence[Sequence[str]], labels: Sequence[str]) -> dict:
    """The four SemEval 2013 modes (strict, exact boundary, partial boundary, type), overall and per type, as the
    `nervaluate` library computes them."""
    from nervaluate import Evaluator

    def documents(tag_lists: Sequence[Sequence[str]]) -> list[list[dict]]:  # nervaluate's ends are inclusive
        return [[{"label": s.label, "start": s.first, "end": s.last - 1} for s in entity_spans(tags)]
                for tags in tag_lists]

    results = Evaluator(documents(gold_tags), documents(predicted_tags), tags=list(labels), loader="dict").evaluate()

    def figures(result: Any) -> dict:
        return {"correct": result.correct, "incorrect": result.incorrect, "partial": result.partial,
                "missed": result.missed, "spurious": result.spurious, "precision": round(result.precision, 6),
                "recall": round(result.recall, 6), "f1": round(result.f1, 6)}

    return {name: {"overall": figures(results["overall"][mode]),
                   "per_type": {label: figures(results["entities"][label][mode])
                                for label in sorted(results["entities"])}}
            for mode, name in SEMEVAL_MODES.items() if mode in results["overall"]}


def worst(found: Sequence[Outcome], sentences: Sequence[Any], per_kind: int = 20) -> dict[str, list[dict]]:
    """Per kind of error, the `per_kind` the model was surest of, each in its sentence."""
    def shown(span: Span | None, tokens: Sequence[str]) -> dict | None:
        return None if span is None else {"label": span.label, "token_start": span.first, "token_end": span.last,
                                          "text": " ".join(tokens[span.first : span.last])}

    result = {}
    for kind in KINDS:
        chosen = sorted((o for o in found if o.kind == kind), key=lambda o: (-o.score, o.sentence))[:per_kind]
        result[kind] = [{"sentence": " ".join(sentences[o.sentence].tokens), "where": _where(sentences[o.sentence]),
                         "gold": shown(o.gold, sentences[o.sentence].tokens),
                         "predicted": shown(o.predicted, sentences[o.sentence].tokens), "score": o.score}
                        for o in chosen]
    return result


def _where(sentence: Any) -> str:
    return f"{sentence.source}:{sentence.line}" if sentence.source else ""
