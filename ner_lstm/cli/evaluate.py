"""`ner-lstm evaluate`: entity-level precision, recall and F1 of a model on labelled data."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import DEFAULT_MODEL, Backend, BackendOption, Encoding, ModelOption, TagColumn, app, handle_errors


@app.command()
@handle_errors
def evaluate(
    data: Annotated[Optional[Path], typer.Argument(help="Labelled corpus to score (CoNLL columns).")] = None,
    model: ModelOption = DEFAULT_MODEL,
    dataset: Annotated[Optional[str], typer.Option(help="Hugging Face dataset id or local dataset folder.")] = None,
    split: Annotated[str, typer.Option(help="Split of --dataset to score.")] = "test",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
    tag_column: TagColumn = -1,
    encoding: Encoding = "utf-8",
    backend: BackendOption = Backend.auto,
) -> None:
    """Score a model on labelled data: entity-level precision, recall and F1, overall and per type."""
    from ..data.sources import labelled_corpus
    from ..inference.tagger import Tagger
    from ..training.evaluate import format_report, score_tagger

    sentences = labelled_corpus(data, dataset, split, tag_column, encoding)
    tagger = Tagger.load(model, backend.value)
    unseen = tagger.vocab.unseen_labels(sentences)
    if unseen:
        typer.echo(f"ner-lstm: warning: labels the model never saw in training (always missed): "
                   f"{', '.join(sorted(unseen))}", err=True)
    scores = score_tagger(tagger, sentences)
    typer.echo(json.dumps(scores, sort_keys=True) if as_json else format_report(scores))
