"""How far an entity's score can be trusted, and the fit that makes it so.

An entity is right when its span and type are exactly a gold entity's; a calibrated score of 0.9 means nine
in ten such entities are right. Measured by the expected calibration error (15 equal-width bins), the Brier
score, and precision, coverage and recall at score thresholds.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from ..inference.calibration import CALIBRATION_FILE, METHODS, Calibration
from .confusion import entity_spans

BINS = 15
THRESHOLDS = (0.5, 0.9, 0.99)
# Measured on CoNLL-2003 (fit on valid, scored on test; docs/results): temperature scaling calibrates best there.
DEFAULT_METHOD = "temperature"
TEMPERATURES = np.round(np.geomspace(0.25, 8.0, 41), 4)  # the grid temperature scaling searches


def scored_entities(gold_tags: Sequence[Sequence[str]], tagged: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, int]:
    """(score, right) of every predicted entity, and the number of gold entities."""
    scores, right, n_gold = [], [], 0
    for gold, result in zip(gold_tags, tagged):
        wanted = set(entity_spans(gold))
        n_gold += len(wanted)
        for entity in result.entities:
            scores.append(entity.score)
            right.append(any(s.first == entity.token_start and s.last == entity.token_end and s.label == entity.label
                             for s in wanted))
    return np.asarray(scores, float), np.asarray(right, float), n_gold


def expected_calibration_error(scores: np.ndarray, right: np.ndarray, bins: int = BINS) -> float:
    """Sum over equal-width bins of |accuracy - mean score|, weighted by the bin's share of entities."""
    if not len(scores):
        return 0.0
    which = np.minimum((scores * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        chosen = which == b
        if chosen.any():
            total += chosen.mean() * abs(right[chosen].mean() - scores[chosen].mean())
    return float(total)


def summary(scores: np.ndarray, right: np.ndarray, n_gold: int, bins: int = BINS) -> dict:
    """ECE, Brier score, the reliability diagram's bins and the figures at each of THRESHOLDS."""
    which = np.minimum((scores * bins).astype(int), bins - 1) if len(scores) else np.zeros(0, int)
    diagram = [{"low": round(b / bins, 4), "high": round((b + 1) / bins, 4), "count": int((which == b).sum()),
                "accuracy": round(float(right[which == b].mean()), 6) if (which == b).any() else None,
                "score": round(float(scores[which == b].mean()), 6) if (which == b).any() else None}
               for b in range(bins)]
    at = []
    for threshold in THRESHOLDS:
        kept = scores >= threshold
        at.append({"threshold": threshold,
                   "precision": round(float(right[kept].mean()), 6) if kept.any() else None,
                   "coverage": round(float(kept.mean()), 6) if len(scores) else None,
                   "recall": round(float(right[kept].sum() / n_gold), 6) if n_gold else None})
    return {"entities": int(len(scores)), "gold_entities": n_gold, "accuracy": round(float(right.mean()), 6)
            if len(scores) else None, "ece": round(expected_calibration_error(scores, right, bins), 6),
            "brier": round(float(np.mean((scores - right) ** 2)), 6) if len(scores) else None,
            "bins": diagram, "thresholds": at}


def measure(tagger: Any, sentences: Sequence[Any], rows: Sequence[np.ndarray] | None = None) -> dict:
    """The calibration summary of `tagger` (with its current calibration) on labelled sentences."""
    rows = tagger.emission_rows(sentences) if rows is None else rows
    return summary(*scored_entities([s.tags for s in sentences], tagger.decode(sentences, rows)))


def fit(tagger: Any, sentences: Sequence[Any], method: str, rows: Sequence[np.ndarray] | None = None) -> Calibration:
    """Fit `method` on labelled (dev) sentences: the temperature minimising the entities' log loss, then
    (for `isotonic`) a monotone map of the scores to the rate at which entities of that score are right."""
    if method == "none":
        return Calibration()
    kept = tagger.calibration, tagger.patterns, tagger.min_score
    tagger.calibration, tagger.patterns, tagger.min_score = Calibration(), None, None  # the model's own scores
    try:
        rows = tagger.emission_rows(sentences) if rows is None else rows
        gold = [s.tags for s in sentences]
        temperature = 1.0
        if "temperature" in method:
            temperature = min(TEMPERATURES, key=lambda t: _log_loss(tagger, sentences, rows, gold, float(t)))
        knots = None
        if "isotonic" in method:
            tagger.calibration = Calibration(temperature=float(temperature))
            knots = _isotonic(*scored_entities(gold, tagger.decode(sentences, rows))[:2])
    finally:
        tagger.calibration, tagger.patterns, tagger.min_score = kept
    return Calibration(method, float(temperature), knots)


def _log_loss(tagger: Any, sentences: Sequence[Any], rows: Sequence[np.ndarray], gold: list,
              temperature: float) -> float:
    tagger.calibration = Calibration(temperature=temperature)
    scores, right, _ = scored_entities(gold, tagger.decode(sentences, rows))
    scores = np.clip(scores, 1e-6, 1 - 1e-6)
    return float(-np.mean(right * np.log(scores) + (1 - right) * np.log(1 - scores))) if len(scores) else 0.0


def _isotonic(scores: np.ndarray, right: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """scikit-learn's isotonic regression, kept as its knots (applied by interpolation, without scikit-learn)."""
    from sklearn.isotonic import IsotonicRegression

    if len(scores) < 2:
        return None
    fitted = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, right)
    return (tuple(round(float(x), 6) for x in fitted.X_thresholds_),
            tuple(round(float(y), 6) for y in fitted.y_thresholds_))


def calibrate_model(tagger: Any, model_dir: Path, method: str, dev: Sequence[Any],
                    test: Sequence[Any] | None = None) -> dict:
    """Fit `method` on `dev`, store it in the model directory (`calibration.json`, applied at every load) and
    record ECE and Brier score before and after, on dev and on test when given, in `metrics.json`."""
    from ..files import write_json
    from ..inference.bundle import read_json, update_bundle

    if method not in METHODS:
        raise UsageError(f"unknown calibration method {method!r}; choose one of {', '.join(METHODS)}")
    splits = {"dev": dev, **({"test": test} if test else {})}
    kept = tagger.patterns, tagger.min_score
    tagger.patterns = tagger.min_score = None
    try:
        rows = {name: tagger.emission_rows(sentences) for name, sentences in splits.items()}
        tagger.calibration = Calibration()
        before = {name: measure(tagger, splits[name], rows[name]) for name in splits}
        tagger.calibration = fit(tagger, dev, method, rows["dev"])
        after = {name: measure(tagger, splits[name], rows[name]) for name in splits}
    finally:
        tagger.patterns, tagger.min_score = kept
    record = {**tagger.calibration.to_json(), "fitted_on": "dev",
              **{name: {"entities": before[name]["entities"], "ece_before": before[name]["ece"],
                        "ece_after": after[name]["ece"], "brier_before": before[name]["brier"],
                        "brier_after": after[name]["brier"]} for name in splits}}
    record.pop("isotonic", None)

    def change(tmp: Path) -> None:
        write_json(tmp / CALIBRATION_FILE, tagger.calibration.to_json())
        metrics = read_json(tmp / "metrics.json") if (tmp / "metrics.json").exists() else {}
        write_json(tmp / "metrics.json", {**metrics, "calibration": record})

    update_bundle(Path(model_dir), change)
    return record
