"""`ner-lstm tag`: tag files, directories, stdin or a dataset in bulk."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import DEFAULT_MODEL, Backend, BackendOption, Encoding, ModelOption, app, handle_errors


class InputFormat(str, Enum):
    auto = "auto"
    text = "text"
    conll = "conll"
    jsonl = "jsonl"
    parquet = "parquet"


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    conll = "conll"
    inline = "inline"
    html = "html"
    parquet = "parquet"


@app.command()
@handle_errors
def tag(
    inputs: Annotated[Optional[list[str]], typer.Argument(help="Files, directories (recursed) or globs; '-' reads stdin.")] = None,
    model: ModelOption = DEFAULT_MODEL,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output file, or directory for several inputs (default: stdout).")] = None,
    input_format: Annotated[InputFormat, typer.Option(help="auto picks by extension and content, and says what it picked.")] = InputFormat.auto,
    output_format: Annotated[OutputFormat, typer.Option(help="jsonl, conll, inline, html or parquet (needs ner-lstm[parquet]).")] = OutputFormat.jsonl,
    text_field: Annotated[str, typer.Option(help="JSONL field or Parquet column holding raw text.")] = "text",
    tokens_field: Annotated[str, typer.Option(help="JSONL field or Parquet column holding a list of tokens (used when present).")] = "tokens",
    field_prefix: Annotated[str, typer.Option(help="Prefix for the fields JSONL output adds (source, id, tokens, tags, offsets, gold, entities), so they never collide with an input record's own fields.")] = "",
    dataset: Annotated[Optional[str], typer.Option(help="Tag a Hugging Face dataset (id or local folder) instead of files.")] = None,
    split: Annotated[str, typer.Option(help="Split of --dataset to tag.")] = "test",
    batch_size: Annotated[int, typer.Option(min=1, help="Most sentences per inference batch (results do not depend on it).")] = 128,
    resume: Annotated[bool, typer.Option(help="Skip inputs whose output file is complete, and continue a killed or interrupted one after its last complete window.")] = False,
    backend: BackendOption = Backend.auto,
    workers: Annotated[int, typer.Option(min=1, help="Processes tagging in parallel. One (the default) runs the network on every CPU this process may use and holds the least memory; more also split raw-text tokenisation between them, at about 200 MB each.")] = 1,
    encoding: Encoding = "utf-8",
) -> None:
    """Tag files, directories or stdin in bulk: one output record per input line, sentence or JSON record.

    Outputs are written under a temporary name and renamed when complete; inputs are never overwritten.
    """
    from ..data.sources import Fields
    from ..engines.local import ModelSpec, tag_dataset_split, tag_files
    from ..errors import UsageError
    from ..inference.bundle import check_dir

    if not inputs and dataset is None:
        raise UsageError("give input files (or '-' for stdin) or --dataset ID")
    check_dir(model)  # fail before reading any input; the model itself loads where it runs
    tagger = ModelSpec(str(model), backend.value, batch_size)
    if dataset is not None:
        from ..data.sources import load_hub_dataset, require_split

        chosen = require_split(load_hub_dataset(dataset), split, dataset)
        tag_dataset_split(tagger, chosen, f"{dataset}[{split}]", output, output_format.value, workers, field_prefix)
        return
    summary = tag_files(tagger, inputs, output, input_format.value, output_format.value, resume, encoding, workers,
                        field_prefix, Fields(tokens=tokens_field, text=text_field))
    if summary["resumed_records"]:
        typer.echo(f"ner-lstm: resumed after {summary['resumed_records']} records already tagged (--resume)", err=True)
    if summary["skipped"]:
        typer.echo(f"ner-lstm: skipped {summary['skipped']} input(s) whose output was complete (--resume)", err=True)
