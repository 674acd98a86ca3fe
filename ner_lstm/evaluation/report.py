"""The error report of `evaluate --report DIR`: `report.json` and a self-contained `report.html` holding the same.

Everything is computed from the gold tags and the tagger's results on token spans: scores per type
(conlleval-compatible and strict), the SemEval 2013 modes, the confusion matrix, the calibration of entity
scores, and the worst errors in context.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .calibration import scored_entities, summary
from .confusion import KINDS, confusion, entity_spans, outcomes, semeval, worst
from .scores import score

PER_KIND = 20


def entity_types(gold_tags: Sequence[Sequence[str]], predicted_tags: Sequence[Sequence[str]]) -> list[str]:
    return sorted({s.label for tags in (*gold_tags, *predicted_tags) for s in entity_spans(tags)})


def analyse(sentences: Sequence[Any], tagged: Sequence[Any], per_kind: int = PER_KIND) -> dict:
    """What `evaluate --json` adds to the scores (SemEval modes, confusion, calibration), and the worst errors."""
    gold, predicted = [s.tags for s in sentences], [t.tags for t in tagged]
    labels = entity_types(gold, predicted)
    found = outcomes(gold, tagged)
    return {"semeval": semeval(gold, predicted, labels), "confusion": confusion(found, labels),
            "calibration": summary(*scored_entities(gold, tagged)),
            "error_counts": {kind: Counter(o.kind for o in found)[kind] for kind in KINDS},
            "errors": worst(found, sentences, per_kind)}


def build_report(sentences: Sequence[Any], tagged: Sequence[Any], about: dict, per_kind: int = PER_KIND) -> dict:
    """The whole report: what was scored (`about`: model, data), the scores, and `analyse`'s parts."""
    scores = score([s.tags for s in sentences], [t.tags for t in tagged])
    return {**about, "scores": scores, **analyse(sentences, tagged, per_kind)}


def write_report(directory: Path, report: dict) -> list[Path]:
    """Write `report.json` and `report.html` into `directory` (made if missing), each atomically; other files
    there are left alone."""
    import json

    from ..files import write_bytes_atomic
    from .report_page import render

    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / "report.json", directory / "report.html"]
    write_bytes_atomic(written[0], (json.dumps(report, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    write_bytes_atomic(written[1], render(report).encode("utf-8"))
    return written
