"""`ner-lstm evaluate`: entity-level precision, recall and F1 of a model on labelled data."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import (DEFAULT_MODEL, Backend, BackendOption, Encoding, LabelledFormat, LabelledFormatOption,
                     MapLabelOption, ModelOption, StrictSpansOption, TagColumn, TextFieldOption, app, handle_errors,
                     span_options)


@app.command()
@handle_errors
def evaluate(
    data: Annotated[Optional[Path], typer.Argument(help=("Labelled data to score: CoNLL columns or an annotation "
        "tool's export (see --input-format)."))] = None,
    model: ModelOption = DEFAULT_MODEL,
    dataset: Annotated[Optional[str], typer.Option(help="Hugging Face dataset id or local dataset folder.")] = None,
    split: Annotated[str, typer.Option(help="Split of --dataset to score.")] = "test",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
    input_format: LabelledFormatOption = LabelledFormat.auto,
    map_label: MapLabelOption = None,
    strict_spans: StrictSpansOption = False,
    text_field: TextFieldOption = None,
    tag_column: TagColumn = -1,
    encoding: Encoding = "utf-8",
    backend: BackendOption = Backend.auto,
) -> None:
    """Score a model on labelled data: entity-level precision, recall and F1, overall and per type.

    Token formats (CoNLL, tokens with tags) are scored on tags, conlleval-compatible and strict.
    Span formats (doccano, Label Studio, BRAT, spaCy) are scored on exact character spans and types,
    so a tokenisation that disagrees with the annotation is an error in the score, never hidden.
    """
    from ..data.corpus import convert_corpus
    from ..data.formats import labelled_records
    from ..data.sources import dataset_corpus
    from ..errors import InputError, UsageError
    from ..inference.tagger import Tagger
    from ..training.evaluate import format_report, score_records, score_tagger

    if (data is None) == (dataset is None):
        raise UsageError("give exactly one of a data FILE or --dataset ID")
    options = span_options(map_label, strict_spans, text_field)
    records = None
    if data is not None:
        records = list(labelled_records(str(data), input_format.value, options, tag_column, encoding))
        options.report.announce(str(data))
        sentences = [s for r in records for s in r.sentences if len(s)]
        if not sentences:
            raise InputError("contains no sentences", data)
        convert_corpus(sentences)  # IOB1 or BIOES columns to IOB2, as training reads them
    else:
        sentences = dataset_corpus(dataset, split)
    tagger = Tagger.load(model, backend.value)
    unseen = tagger.vocab.unseen_labels(sentences)
    if unseen:
        typer.echo(f"ner-lstm: warning: labels the model never saw in training (always missed): "
                   f"{', '.join(sorted(unseen))}", err=True)
    scores = score_tagger(tagger, sentences) if records is None else score_records(tagger, records)
    typer.echo(json.dumps(scores, sort_keys=True) if as_json else format_report(scores))
