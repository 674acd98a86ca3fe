"""`ner-lstm patterns`: store entity patterns in a model, so every use of it applies them."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import DEFAULT_MODEL, ModelOption, app, handle_errors


@app.command()
@handle_errors
def patterns(
    files: Annotated[list[Path], typer.Argument(help=("Pattern files in spaCy's EntityRuler JSONL (a phrase or a "
        "list of ORTH, TEXT or LOWER token dicts per line, with \"label\" and an optional \"id\")."))],
    model: ModelOption = DEFAULT_MODEL,
    replace: Annotated[bool, typer.Option(help="Replace the model's patterns instead of adding to them.")] = False,
) -> None:
    """Add entity patterns to a model: matched on the tokens after the network, by predict, tag, evaluate, serve,
    the Ray engine and the library alike. An empty file with --replace removes them."""
    from ..inference.patterns import store_patterns

    count = store_patterns(model, files, replace)
    typer.echo(f"{model} holds {count} entity pattern(s)")
