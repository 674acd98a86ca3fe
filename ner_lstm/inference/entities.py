"""IOB2 tags to entity spans with text, character offsets and confidence."""
from __future__ import annotations

from collections.abc import Sequence
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

    def to_json(self) -> dict:
        return {"label": self.label, "text": self.text, "start": self.start, "end": self.end,
                "token_start": self.token_start, "token_end": self.token_end, "score": self.score}


def entities(
    tags: Sequence[str], offsets: Sequence[tuple[int, int]], text: str, confidence: Sequence[float]
) -> list[Entity]:
    """Entities of one sentence; the score is the lowest tag marginal inside the span."""
    result = []
    for label, first, last in spans(tags):
        start, end = offsets[first][0], offsets[last - 1][1]
        surface = text[start:end]
        result.append(Entity(label, surface, start, end, first, last, round(float(min(confidence[first:last])), 4)))
    return result
