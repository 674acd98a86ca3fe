"""IOB2 tags to entity spans with text, character offsets, a score and where each came from."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..data.corpus import spans


@dataclass
class Entity:
    label: str
    text: str
    start: int
    end: int
    token_start: int
    token_end: int
    score: float
    source: str = "model"  # or "pattern": an entity pattern matched it (`inference.patterns`)
    pattern_id: str | None = None

    def to_json(self) -> dict:
        found = {"label": self.label, "text": self.text, "start": self.start, "end": self.end,
                 "token_start": self.token_start, "token_end": self.token_end, "score": self.score,
                 "source": self.source}
        if self.pattern_id is not None:
            found["id"] = self.pattern_id
        return found


def entities(tags: Sequence[str], offsets: Sequence[tuple[int, int]], text: str, confidence: Sequence[float],
             calibrate: Callable[[float], float] = float, matches: Sequence = ()) -> list[Entity]:
    """Entities of one sentence. A model entity's score is its lowest tag marginal, calibrated; a pattern's
    is 1.0 (`matches`: the pattern matches written into `tags`)."""
    by_span = {(m.first, m.last): m for m in matches}
    result = []
    for label, first, last in spans(tags):
        start, end = offsets[first][0], offsets[last - 1][1]
        surface = text[start:end]
        match = by_span.get((first, last))
        if match is not None and match.label == label:
            result.append(Entity(label, surface, start, end, first, last, 1.0, "pattern", match.id))
        else:
            score = round(calibrate(float(min(confidence[first:last]))), 4)
            result.append(Entity(label, surface, start, end, first, last, score))
    return result
