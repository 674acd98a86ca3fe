"""Calibrated entity scores: what a model's `calibration.json` says, applied wherever scores appear.

An entity's raw score is the lowest CRF marginal of its tags. Two maps make it mean "the chance the span and
type are right" (fitted on dev by `evaluation.calibration`): a temperature that divides every CRF score before
the marginals are computed (the Viterbi path does not change), and a monotone (isotonic) map of the
entity score, stored as knots and applied by linear interpolation. Both are NumPy only, so the light
install, the server and Ray actors apply them alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelError

CALIBRATION_FILE = "calibration.json"
METHODS = ("none", "temperature", "isotonic", "temperature+isotonic")


@dataclass(frozen=True)
class Calibration:
    method: str = "none"
    temperature: float = 1.0
    knots: tuple[tuple[float, ...], tuple[float, ...]] | None = None  # isotonic map: raw scores -> calibrated

    def entity_score(self, raw: float) -> float:
        """The calibrated score of an entity whose (temperature-scaled) lowest marginal is `raw`."""
        if self.knots is None:
            return raw
        return float(np.interp(raw, self.knots[0], self.knots[1]))

    def to_json(self) -> dict:
        found = {"method": self.method, "temperature": self.temperature}
        if self.knots is not None:
            found["isotonic"] = {"x": list(self.knots[0]), "y": list(self.knots[1])}
        return found

    @classmethod
    def from_json(cls, data: object, where: Path | str) -> Calibration:
        """Read `calibration.json`; anything malformed is a model error naming the file."""
        try:
            method, temperature = data["method"], float(data["temperature"])  # type: ignore[index]
            knots = None
            if "isotonic" in data:  # type: ignore[operator]
                x, y = (tuple(float(v) for v in data["isotonic"][k]) for k in ("x", "y"))  # type: ignore[index]
                if not x or len(x) != len(y) or any(b < a for a, b in zip(x, x[1:])):
                    raise ValueError("isotonic knots")
                knots = (x, y)
        except (KeyError, TypeError, ValueError):
            raise ModelError(f"{where}: malformed calibration (method, temperature, isotonic knots)") from None
        if method not in METHODS or not 0.05 <= temperature <= 20:
            raise ModelError(f"{where}: unknown calibration method {method!r} or temperature {temperature}")
        return cls(method, temperature, knots)


def read_calibration(path: Path) -> Calibration:
    """A model directory's calibration; a model saved without one keeps its raw scores."""
    from .bundle import read_json

    file = path / CALIBRATION_FILE
    return Calibration.from_json(read_json(file), file) if file.is_file() else Calibration()
