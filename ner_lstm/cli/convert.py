"""`ner-lstm convert`: labelled data from one format to another (a reader into a writer)."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .common import (Encoding, LabelledFormat, LabelledFormatOption, MapLabelOption, StrictSpansOption, TagColumn,
                     TextFieldOption, app, handle_errors, span_options)


class ConvertFormat(str, Enum):
    conll = "conll"
    jsonl = "jsonl"
    doccano = "doccano"
    labelstudio = "labelstudio"
    brat = "brat"


@app.command()
@handle_errors
def convert(
    inputs: Annotated[list[str], typer.Argument(help=("Labelled files (or BRAT folders), read in order into one "
        "output."))],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file (a folder for --to brat).")],
    to: Annotated[ConvertFormat, typer.Option(help=("conll (token and tag columns), jsonl (tokens and tags per "
        "sentence), doccano (JSONL with character spans), labelstudio (JSON tasks with annotations, to import) or "
        "brat (a folder of .txt + .ann)."))],
    input_format: LabelledFormatOption = LabelledFormat.auto,
    map_label: MapLabelOption = None,
    strict_spans: StrictSpansOption = False,
    text_field: TextFieldOption = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output.")] = False,
    tag_column: TagColumn = -1,
    encoding: Encoding = "utf-8",
) -> None:
    """Convert labelled data between CoNLL, JSONL, doccano, Label Studio, BRAT (and from spaCy .spacy).

    Spans are placed on the tokens of the tokeniser `predict` uses; what cannot be placed is counted and
    reported per file (--strict-spans makes it an error). Between span formats the spans are kept as they
    are. The output is written under a temporary name and renamed when complete.
    """
    from ..data.formats import convert_files

    summary = convert_files(inputs, output, to.value, input_format.value,
                            span_options(map_label, strict_spans, text_field), overwrite, tag_column, encoding)
    typer.echo(f"ner-lstm: wrote {summary['records']} records ({summary['sentences']} sentences, "
               f"{summary['entities']} entities) to {output} as {to.value}", err=True)
