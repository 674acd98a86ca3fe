"""Scoring a model against gold: entity scores, partial-match modes, confusion, calibration, the report."""
