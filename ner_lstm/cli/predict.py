"""`ner-lstm predict`: tag raw text and print its entities."""
from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from .common import (DEFAULT_MODEL, Backend, BackendOption, MinScoreOption, ModelOption, OldWorkersOption,
                     PatternsModeOption, PatternsOption, ThreadsOption, app, handle_errors, renamed, with_rules)


class PredictFormat(str, Enum):
    inline = "inline"
    json = "json"
    conll = "conll"


@app.command()
@handle_errors
def predict(
    text: Annotated[str, typer.Argument(help="Text to tag; '-' reads standard input.")],
    model: ModelOption = DEFAULT_MODEL,
    output_format: Annotated[PredictFormat, typer.Option("--format", "-f", help=("inline, json (one object, as a "
        "line of 'tag' output) or conll."))] = PredictFormat.inline,
    backend: BackendOption = Backend.auto,
    threads: ThreadsOption = None,
    min_score: MinScoreOption = None,
    patterns: PatternsOption = None,
    patterns_mode: PatternsModeOption = None,
    workers: OldWorkersOption = None,
) -> None:
    """Tag raw text: split into sentences and tokens, then print entities with their offsets.

    The tokeniser handles Latin, Greek and Cyrillic scripts; it cannot find the words of scripts written
    without spaces (Chinese, Japanese, Thai): tag such text pre-tokenised with 'ner-lstm tag'.
    """
    from ..data.sources import Record
    from ..data.writers import writer_for
    from ..errors import InputError
    from ..inference.tagger import Tagger

    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise InputError("nothing to tag: the text is empty")
    tagger = with_rules(Tagger.load(model, backend.value, renamed(workers, threads, "--threads")), patterns,
                        patterns_mode, min_score)
    record = Record(source="text", id=1, sentences=[], text=text)
    write = writer_for("jsonl" if output_format is PredictFormat.json else output_format.value)
    typer.echo(write(record, tagger.predict(text)), nl=False)
