"""`ner-lstm tag`: tag files, directories, stdin or a dataset in bulk."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from ..data.sources import Fields

from ..engines import SHARD_BYTES
from ..inference import BATCH_SIZE
from .common import (DEFAULT_MODEL, Backend, BackendOption, Encoding, MinScoreOption, ModelOption, OldWorkersOption,
                     PatternsModeOption, PatternsOption, app, handle_errors, renamed)


class InputFormat(str, Enum):
    auto = "auto"
    text = "text"
    conll = "conll"
    jsonl = "jsonl"
    parquet = "parquet"
    labelstudio = "labelstudio"
    brat = "brat"
    spacy = "spacy"


class Engine(str, Enum):
    local = "local"
    ray = "ray"


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    conll = "conll"
    inline = "inline"
    html = "html"
    parquet = "parquet"
    doccano = "doccano"
    labelstudio = "labelstudio"
    brat = "brat"


@app.command()
@handle_errors
def tag(
    inputs: Annotated[Optional[list[str]], typer.Argument(help=("Files, directories (recursed) or globs; '-' reads "
        "stdin."))] = None,
    model: ModelOption = DEFAULT_MODEL,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help=("Output file, or directory for several "
        "inputs (default: stdout)."))] = None,
    input_format: Annotated[InputFormat, typer.Option(help=("text (a record per line), conll, jsonl, parquet, or an "
        "annotation tool's export (labelstudio, brat: .ann files, spacy: .spacy); auto picks by extension and "
        "content, and says what it picked."))] = InputFormat.auto,
    output_format: Annotated[OutputFormat, typer.Option(help=("jsonl, conll, inline, html, parquet (needs "
        "ner-lstm[parquet]), or pre-annotations to import into an annotation tool: doccano (JSONL), labelstudio "
        "(JSON tasks with scored predictions), brat (a folder of .txt + .ann; -o names it)."))] = OutputFormat.jsonl,
    text_field: Annotated[str, typer.Option(help="JSONL field or Parquet column holding raw text.")] = "text",
    tokens_field: Annotated[str, typer.Option(help=("JSONL field or Parquet column holding a list of tokens (used "
        "when present)."))] = "tokens",
    field_prefix: Annotated[str, typer.Option(help=("Prefix for the fields JSONL output adds (source, id, tokens, "
        "tags, offsets, gold, entities), so they never collide with an input record's own fields."))] = "",
    dataset: Annotated[Optional[str], typer.Option(help=("Tag a Hugging Face dataset (id or local folder) instead of"
        " files."))] = None,
    split: Annotated[str, typer.Option(help="Split of --dataset to tag.")] = "test",
    batch_size: Annotated[int, typer.Option(min=1, help=("Most sentences per inference batch (results do not depend "
        "on it)."))] = BATCH_SIZE,
    resume: Annotated[bool, typer.Option(help=("Skip inputs whose output file is complete, and continue a killed or "
        "interrupted one after its last complete window."))] = False,
    backend: BackendOption = Backend.auto,
    processes: Annotated[Optional[int], typer.Option(min=1, help=("Local engine: processes tagging in parallel. One "
        "(the default) runs the network in threads beside the one that reads, decodes and writes: every CPU "
        "used at the memory of one model. More start worker processes, each with its own model and a "
        "one-thread network (about 250 MB each), for machines with more CPUs."))] = None,
    actors: Annotated[Optional[int], typer.Option(min=1, help=("Ray engine: tagging actors (default: the cluster's "
        "CPUs / --threads)."))] = None,
    workers: OldWorkersOption = None,
    engine: Annotated[Engine, typer.Option(help=("local: this machine. ray: a Ray cluster (needs ner-lstm[ray]); "
        "writes a folder of jsonl or parquet shards and _manifest.json to -o."))] = Engine.local,
    address: Annotated[Optional[str], typer.Option(help=("Ray engine: the cluster to join ('auto' finds one started "
        "with 'ray start'); without it a Ray on this machine is started for the run."))] = None,
    threads: Annotated[Optional[int], typer.Option(min=1, help=("Ray engine: onnxruntime threads per actor (default:"
        " 1, or the cluster's CPUs / --actors)."))] = None,
    shard_size: Annotated[int, typer.Option(min=1, help=("Ray engine: bytes of input per output shard, the unit of "
        "work, retry and --resume."))] = SHARD_BYTES,
    encoding: Encoding = "utf-8",
    min_score: MinScoreOption = None,
    patterns: PatternsOption = None,
    patterns_mode: PatternsModeOption = None,
) -> None:
    """Tag files, directories or stdin in bulk: one output record per input line, sentence or JSON record.

    Outputs are written under a temporary name and renamed when complete; inputs are never overwritten.
    With --engine ray, each input is cut into shards tagged by a pool of Ray actors; --resume skips
    the shards the output's manifest lists, so every record is written exactly once.
    """
    from ..data.sources import Fields
    from ..engines.local import ModelSpec, in_process, tag_dataset_split, tag_files
    from ..errors import UsageError
    from ..inference.bundle import check_dir
    from .progress import Progress

    if not inputs and dataset is None:
        raise UsageError("give input files (or '-' for stdin) or --dataset ID")
    fields = Fields(tokens=tokens_field, text=text_field)
    if engine is Engine.ray:
        check_dir(model)  # fail before reading any input; the actors load the model
        if patterns or patterns_mode or min_score is not None:
            raise UsageError("--engine ray applies the model's own patterns and writes every entity with its score; "
                             "store patterns in the model with 'ner-lstm patterns', filter scores downstream")
        if processes is not None:
            raise UsageError("--processes is for the local engine; --engine ray runs --actors")
        _tag_on_ray(inputs, model, output, dataset, backend, input_format.value, output_format.value, fields,
                    field_prefix, encoding, shard_size, batch_size, renamed(workers, actors, "--actors"), threads,
                    address, resume)
        return
    if address is not None or threads is not None or actors is not None:
        raise UsageError("--address, --threads and --actors are for --engine ray")
    workers = renamed(workers, processes, "--processes") or 1
    from ..inference.patterns import read_patterns

    for file in patterns or []:
        read_patterns(file)  # a malformed pattern file fails before any input is read
    tagger = ModelSpec(str(model), backend.value, batch_size, tuple(map(str, patterns or [])),
                       patterns_mode.value if patterns_mode else None, min_score)
    # Fail before reading any input: one process checks and loads the model it tags with (checking it first
    # as well hashed its files twice, 20 ms); with worker processes, each loads its own.
    if workers == 1:
        in_process(tagger)
    else:
        check_dir(model)
    if dataset is not None:
        from ..data.sources import load_hub_dataset, require_split

        chosen = require_split(load_hub_dataset(dataset), split, dataset)
        tag_dataset_split(tagger, chosen, f"{dataset}[{split}]", output, output_format.value, workers, field_prefix,
                          Progress())
        return
    summary = tag_files(tagger, inputs, output, input_format.value, output_format.value, resume, encoding, workers,
                        field_prefix, fields, Progress())
    if summary["resumed_records"]:
        typer.echo(f"ner-lstm: resumed after {summary['resumed_records']} records already tagged (--resume)", err=True)
    if summary["skipped"]:
        typer.echo(f"ner-lstm: skipped {summary['skipped']} input(s) whose output was complete (--resume)", err=True)


def _tag_on_ray(inputs: Optional[list[str]], model: Path, output: Optional[Path], dataset: Optional[str],
                backend: Backend, input_format: str, output_format: str, fields: Fields, field_prefix: str,
                encoding: str, shard_size: int, batch_size: int, workers: Optional[int], threads: Optional[int],
                address: Optional[str], resume: bool) -> None:
    from ..errors import UsageError
    from ..extras import require

    require("ray", "--engine ray")
    from ..engines.cluster import RayOptions, tag_on_ray

    if dataset is not None or not inputs:
        raise UsageError("--engine ray tags files (local paths or URIs); --dataset is for the local engine")
    if input_format in ("labelstudio", "brat", "spacy"):
        raise UsageError(f"--engine ray reads text, conll, jsonl and parquet in shards; tag a {input_format} "
                         "export with the local engine, or 'ner-lstm convert' it to jsonl first")
    if output is None:
        raise UsageError("--engine ray writes a folder of shards: give -o DIR")
    if backend is Backend.keras:
        raise UsageError("--engine ray tags with onnxruntime; --backend keras is for the local engine")
    options = RayOptions(input_format, output_format, fields, field_prefix, encoding, shard_size, batch_size, workers,
                         threads, address)
    done = tag_on_ray(model, inputs, str(output), options, resume)
    if done["skipped_shards"]:
        typer.echo(f"ner-lstm: skipped {done['skipped_shards']} shard(s) already tagged (--resume)", err=True)
    typer.echo(f"ner-lstm: {done['shards']} shard(s), {done['records']:,} records, {done['tokens']:,} tokens tagged "
               f"by {done['workers']} actor(s) of {done['threads']} thread(s) into {output}", err=True)
