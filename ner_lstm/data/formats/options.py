"""What every labelled-format reader is given: label renames, strictness, and the report to fill."""
from __future__ import annotations

from dataclasses import dataclass, field

from .align import AlignmentReport


@dataclass
class SpanOptions:
    """`--map-label`, `--strict-spans` and `--text-field`, and where the readers count what they could not place."""

    mapping: dict[str, str] = field(default_factory=dict)
    strict: bool = False
    text_field: str | None = None  # Label Studio: the data field holding the text (default: found)
    report: AlignmentReport = field(default_factory=AlignmentReport)
