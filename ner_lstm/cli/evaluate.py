"""`ner-lstm evaluate`: entity-level precision, recall and F1 of a model on labelled data, and the error report."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import (DEFAULT_MODEL, Backend, BackendOption, Encoding, LabelledFormat, LabelledFormatOption,
                     MapLabelOption, ModelOption, PatternsModeOption, PatternsOption, StrictSpansOption, TagColumn,
                     TextFieldOption, app, handle_errors, span_options, with_rules)


@app.command()
@handle_errors
def evaluate(
    data: Annotated[Optional[Path], typer.Argument(help=("Labelled data to score: CoNLL columns or an annotation "
        "tool's export (see --input-format)."))] = None,
    model: ModelOption = DEFAULT_MODEL,
    dataset: Annotated[Optional[str], typer.Option(help="Hugging Face dataset id or local dataset folder.")] = None,
    split: Annotated[str, typer.Option(help="Split of --dataset to score.")] = "test",
    as_json: Annotated[bool, typer.Option("--json", help=("Print one JSON object: the scores, the SemEval 2013 modes,"
        " the confusion matrix and the calibration of entity scores."))] = False,
    report: Annotated[Optional[Path], typer.Option(help=("Write report.html (self-contained, figures inline) and "
        "report.json into this folder: scores per type, SemEval 2013 modes, confusion matrix with missed and "
        "spurious, calibration (reliability diagram, ECE, Brier, thresholds) and the worst errors in context."))
    ] = None,
    errors_per_kind: Annotated[int, typer.Option(min=0, help=("Worst errors the report shows per kind (wrong type, "
        "wrong boundary, missed, spurious)."))] = 20,
    input_format: LabelledFormatOption = LabelledFormat.auto,
    map_label: MapLabelOption = None,
    strict_spans: StrictSpansOption = False,
    text_field: TextFieldOption = None,
    tag_column: TagColumn = -1,
    encoding: Encoding = "utf-8",
    backend: BackendOption = Backend.auto,
    patterns: PatternsOption = None,
    patterns_mode: PatternsModeOption = None,
) -> None:
    """Score a model on labelled data: entity-level precision, recall and F1, overall and per type.

    Token formats (CoNLL, tokens with tags) are scored on tags, conlleval-compatible and strict.
    Span formats (doccano, Label Studio, BRAT, spaCy) are scored on exact character spans and types,
    so a tokenisation that disagrees with the annotation is an error in the score, never hidden;
    the report and the --json analysis of either are on tokens.
    """
    from ..data.formats import read_labelled_records
    from ..data.sources import dataset_corpus
    from ..errors import UsageError
    from ..evaluation.report import analyse, build_report, write_report
    from ..evaluation.scores import format_report, score, score_records
    from ..extras import require
    from ..inference.tagger import Tagger

    if (data is None) == (dataset is None):
        raise UsageError("give exactly one of a data FILE or --dataset ID")
    if report is not None:
        require("report", "evaluate --report")
    records = None
    if data is not None:
        options = span_options(map_label, strict_spans, text_field)
        records = read_labelled_records(str(data), input_format.value, options, tag_column, encoding)
        options.report.announce(str(data))
        every = [s for r in records for s in r.sentences]
    else:
        every = dataset_corpus(dataset, split)
    tagger = with_rules(Tagger.load(model, backend.value), patterns, patterns_mode, None)
    unseen = tagger.vocab.unseen_labels(every)
    if unseen:
        typer.echo(f"ner-lstm: warning: labels the model never saw in training (always missed): "
                   f"{', '.join(sorted(unseen))}", err=True)
    tagged = tagger.tag(every)
    sentences, results = zip(*[(s, t) for s, t in zip(every, tagged) if len(s)])
    scores = score([s.tags for s in sentences], [t.tags for t in results]) if records is None else \
        score_records(records, tagged)
    if report is not None:
        about = {"model": str(model), "data": str(data if data is not None else f"{dataset}[{split}]")}
        found = build_report(sentences, results, about, errors_per_kind)
        if records is not None and scores.get("mode") == "spans":
            found["span_scores"] = scores
        written = write_report(report, found)
        typer.echo(f"ner-lstm: wrote {written[1]} and {written[0]}", err=True)
    if as_json:
        analysis = analyse(sentences, results, 0)
        analysis.pop("errors")
        typer.echo(json.dumps({**scores, **analysis}, sort_keys=True))
    else:
        typer.echo(format_report(scores))

