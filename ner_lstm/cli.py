"""The `ner-lstm` command line: a thin Typer layer over the library.

Each command parses its options, calls the library, and prints. Errors a user
can cause print one line on stderr and exit 2 (bad input or usage); internal
failures exit 1; `--debug` shows the traceback.
"""
from __future__ import annotations

import functools
import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Callable, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported anywhere

import typer  # noqa: E402

from .errors import EXIT_INTERNAL, InputError, NerError, UsageError  # noqa: E402

app = typer.Typer(
    help="Train, score and run a BiLSTM-CNN-CRF named-entity tagger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
DEBUG = {"on": False}

DEFAULT_MODEL = Path("models/default")
ModelOption = Annotated[Path, typer.Option("--model", "-m", help="Model directory.")]
TagColumn = Annotated[int, typer.Option(help="Column holding the tag (0-based; negative counts from the end).")]
Encoding = Annotated[str, typer.Option(help="Text encoding of input files.")]


class Embeddings(str, Enum):
    glove = "glove"
    none = "none"


class PredictFormat(str, Enum):
    inline = "inline"
    json = "json"
    conll = "conll"


class InputFormat(str, Enum):
    auto = "auto"
    text = "text"
    conll = "conll"
    jsonl = "jsonl"


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    conll = "conll"
    inline = "inline"
    html = "html"


class Backend(str, Enum):
    auto = "auto"
    onnx = "onnx"
    keras = "keras"


BackendOption = Annotated[Backend, typer.Option(help="Inference engine: the ONNX export (auto, when present) or Keras.")]
WorkersOption = Annotated[Optional[int], typer.Option(min=1, help="CPU threads for the network (default: all cores).")]


def fail(message: str, code: int) -> None:
    typer.echo(f"ner-lstm: error: {message}", err=True)
    raise typer.Exit(code)


def handle_errors(command: Callable) -> Callable:
    """Turn library errors into one line and an exit code instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except NerError as err:
            if DEBUG["on"]:
                raise
            fail(str(err), err.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except BrokenPipeError:  # the reader (head, less) went away: nothing left to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except MemoryError:
            fail("out of memory; try a smaller --batch-size", EXIT_INTERNAL)
        except Exception as err:  # noqa: BLE001 - the last line of defence
            if DEBUG["on"]:
                raise
            fail(f"internal error: {type(err).__name__}: {err} (rerun with --debug for details)", EXIT_INTERNAL)

    return wrapper


@app.callback()
def main(debug: Annotated[bool, typer.Option(help="Show Python tracebacks on errors.")] = False) -> None:
    DEBUG["on"] = debug


def _read(path: Path, tag_column: int, encoding: str):
    from .corpus import read_conll

    return read_conll(path, tag_column=tag_column, encoding=encoding)


@app.command()
@handle_errors
def train(
    train_file: Annotated[Optional[Path], typer.Option("--train", help="Training corpus (CoNLL columns).")] = None,
    dev: Annotated[Optional[Path], typer.Option(help="Development corpus for early stopping; default: 10% of --train.")] = None,
    test: Annotated[Optional[Path], typer.Option(help="Test corpus, scored once with the selected model.")] = None,
    dataset: Annotated[Optional[str], typer.Option(help="Hugging Face dataset id or local dataset folder, instead of --train.")] = None,
    revision: Annotated[Optional[str], typer.Option(help="Dataset revision (hub default: refs/convert/parquet).")] = None,
    model: ModelOption = DEFAULT_MODEL,
    epochs: Annotated[int, typer.Option(min=1, help="Most epochs to train.")] = 30,
    patience: Annotated[int, typer.Option(min=1, help="Stop after this many epochs without a better dev F1.")] = 8,
    batch_size: Annotated[int, typer.Option(min=1, help="Sentences per batch.")] = 32,
    learning_rate: Annotated[float, typer.Option(min=0.0, help="Adam learning rate.")] = 0.002,
    seed: Annotated[int, typer.Option(help="Random seed, for reproducible runs.")] = 42,
    embeddings: Annotated[Embeddings, typer.Option(help="Pretrained word vectors: GloVe 6B 50d, or none.")] = Embeddings.glove,
    max_minutes: Annotated[Optional[float], typer.Option(min=0.0, help="Stop training after this many minutes.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run from its last checkpoint.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing model directory.")] = False,
    tag_column: TagColumn = -1,
    encoding: Encoding = "utf-8",
) -> None:
    """Train a model and save the best epoch (by dev entity F1) as a model directory."""
    from .runtime import import_tensorflow_quietly

    import_tensorflow_quietly()
    from .train import TrainOptions, check_target, describe_data, split_dev, train_model

    check_target(model, resume, overwrite)  # before reading any data: fail fast
    options = TrainOptions(epochs=epochs, patience=patience, batch_size=batch_size, learning_rate=learning_rate,
                           seed=seed, max_minutes=max_minutes, resume=resume, overwrite=overwrite,
                           verbose=1 if sys.stdout.isatty() else 2)
    options.model.embeddings = embeddings.value
    train_set, dev_set, test_set, names = _training_data(train_file, dev, test, dataset, revision, tag_column, encoding)
    if dev_set is None:
        train_set, dev_set = split_dev(train_set, seed)
        typer.echo(f"no --dev given: holding out {len(dev_set)} of the training sentences for model selection", err=True)
    info = {"train": describe_data(train_set, names[0]), "dev": describe_data(dev_set, names[1])}
    summary = train_model(train_set, dev_set, model, options, info, test_set)
    typer.echo(f"best epoch {summary['best_epoch']}: dev F1 {100 * summary['best_dev_f1']:.2f}; model saved in {model}")
    if "test" in summary:
        typer.echo(f"test F1 {100 * summary['test']['f1']:.2f} (conlleval-compatible)")


def _training_data(train_file, dev, test, dataset, revision, tag_column, encoding):
    if (train_file is None) == (dataset is None):
        raise UsageError("give exactly one of --train FILE or --dataset ID")
    if dataset is not None:
        from .corpus import load_hub_dataset, require_split, sentences_from_dataset

        splits = load_hub_dataset(dataset, revision)
        require_split(splits, "train", dataset)
        parts = [sentences_from_dataset(splits[name], name=f"{dataset}[{name}]") if name in splits else None
                 for name in ("train", "validation", "test")]
        return parts[0], parts[1], parts[2], (f"{dataset}[train]", f"{dataset}[validation]")
    parts = [_read(p, tag_column, encoding) if p is not None else None for p in (train_file, dev, test)]
    return parts[0], parts[1], parts[2], (str(train_file), str(dev) if dev else f"10% of {train_file}")


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
    from .evaluate import format_report, score
    from .tagger import Tagger

    if (data is None) == (dataset is None):
        raise UsageError("give exactly one of a data FILE or --dataset ID")
    if dataset is not None:
        from .corpus import load_hub_dataset, require_split, sentences_from_dataset

        chosen = require_split(load_hub_dataset(dataset), split, dataset)
        sentences = sentences_from_dataset(chosen, name=f"{dataset}[{split}]")
    else:
        sentences = _read(data, tag_column, encoding)
    tagger = Tagger.load(model, backend.value)
    unseen = tagger.vocab.unseen_labels(sentences)
    if unseen:
        typer.echo(f"ner-lstm: warning: labels the model never saw in training (always missed): "
                   f"{', '.join(sorted(unseen))}", err=True)
    scores = score([s.tags for s in sentences], tagger.predict_tags(sentences))
    typer.echo(json.dumps(scores, sort_keys=True) if as_json else format_report(scores))


@app.command()
@handle_errors
def predict(
    text: Annotated[str, typer.Argument(help="Text to tag; '-' reads standard input.")],
    model: ModelOption = DEFAULT_MODEL,
    output_format: Annotated[PredictFormat, typer.Option("--format", "-f", help="inline, json (one object, as a line of 'tag' output) or conll.")] = PredictFormat.inline,
    backend: BackendOption = Backend.auto,
    workers: WorkersOption = None,
) -> None:
    """Tag raw text: split into sentences and tokens, then print entities with their offsets."""
    from .tagger import Tagger
    from .tagging import Record
    from .writers import RECORD_WRITERS

    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise InputError("nothing to tag: the text is empty")
    tagger = Tagger.load(model, backend.value, workers)
    record = Record(source="text", id=1, sentences=[], text=text)
    writer = RECORD_WRITERS["jsonl" if output_format is PredictFormat.json else output_format.value]
    typer.echo(writer(record, tagger.predict(text)), nl=False)


@app.command()
@handle_errors
def tag(
    inputs: Annotated[Optional[list[str]], typer.Argument(help="Files, directories (recursed) or globs; '-' reads stdin.")] = None,
    model: ModelOption = DEFAULT_MODEL,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output file, or directory for several inputs (default: stdout).")] = None,
    input_format: Annotated[InputFormat, typer.Option(help="auto picks by extension and content, and says what it picked.")] = InputFormat.auto,
    output_format: Annotated[OutputFormat, typer.Option(help="jsonl, conll, inline or html.")] = OutputFormat.jsonl,
    dataset: Annotated[Optional[str], typer.Option(help="Tag a Hugging Face dataset (id or local folder) instead of files.")] = None,
    split: Annotated[str, typer.Option(help="Split of --dataset to tag.")] = "test",
    batch_size: Annotated[int, typer.Option(min=1, help="Most sentences per inference batch.")] = 256,
    resume: Annotated[bool, typer.Option(help="Skip inputs whose output file is already complete.")] = False,
    backend: BackendOption = Backend.auto,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Worker processes tagging in parallel (default: one per core).")] = None,
    encoding: Encoding = "utf-8",
) -> None:
    """Tag files, directories or stdin in bulk: one output record per input line, sentence or JSON record.

    Outputs are written under a temporary name and renamed when complete; inputs are never overwritten.
    """
    from .bundle import check_dir
    from .tagging import ModelSpec, tag_dataset_split, tag_files

    if not inputs and dataset is None:
        raise UsageError("give input files (or '-' for stdin) or --dataset ID")
    check_dir(model)  # fail before reading any input; the model itself loads where it runs
    tagger = ModelSpec(str(model), backend.value, batch_size)
    workers = workers or os.cpu_count() or 1
    if dataset is not None:
        from .corpus import load_hub_dataset, require_split

        chosen = require_split(load_hub_dataset(dataset), split, dataset)
        tag_dataset_split(tagger, chosen, f"{dataset}[{split}]", output, output_format.value, workers)
        return
    summary = tag_files(tagger, inputs, output, input_format.value, output_format.value, resume, encoding, workers)
    if summary["skipped"]:
        typer.echo(f"ner-lstm: skipped {summary['skipped']} input(s) whose output was complete (--resume)", err=True)


@app.command()
@handle_errors
def info(
    model: ModelOption = DEFAULT_MODEL,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    verify: Annotated[bool, typer.Option(help="Also compare every file's SHA-256 with the model's manifest.")] = False,
) -> None:
    """Describe a model: labels, vocabulary sizes, training data, scores and versions."""
    from .bundle import check_dir, read_json, verify_manifest

    config = check_dir(model)
    verified = verify_manifest(model, full=True) if verify else None
    vocab = read_json(model / "vocab.json")
    metrics = read_json(model / "metrics.json") if (model / "metrics.json").exists() else {}
    description = {
        "model": str(model),
        "format_version": config["format_version"],
        "labels": config.get("labels", vocab.get("labels")),
        "vocabulary": {"words": len(vocab.get("words", [])), "chars": len(vocab.get("chars", [])),
                       "glove_words": len(vocab.get("glove_words", []))},
        "network": config.get("model", {}),
        "training": config.get("training", {}),
        "data": config.get("data", {}),
        "scores": {k: v for k, v in metrics.items()},
        "versions": config.get("versions", {}),
    }
    if verified is not None:
        description["verified_files"] = verified
    if as_json:
        typer.echo(json.dumps(description, indent=1))
        return
    typer.echo(_format_info(description))


def _format_info(d: dict) -> str:
    lines = [f"model:        {d['model']} (format {d['format_version']})",
             f"labels:       {', '.join(d['labels'])}",
             f"vocabulary:   {d['vocabulary']['words']} training words, {d['vocabulary']['chars']} characters, "
             f"{d['vocabulary']['glove_words']} GloVe words"]
    for split, desc in d["data"].items():
        lines.append(f"{split + ':':<13} {desc.get('source')} ({desc.get('sentences')} sentences, {desc.get('tokens')} tokens)")
    scores = d["scores"]
    if scores:
        lines.append(f"selected:     epoch {scores.get('epoch')}")
        for split in ("dev", "test"):
            if split in scores:
                s = scores[split]
                lines.append(f"{split + ' F1:':<13} {100 * s['f1']:.2f} (P {100 * s['precision']:.2f}, R {100 * s['recall']:.2f}; "
                             f"strict {100 * s['strict']['f1']:.2f})")
    lines.append("versions:     " + ", ".join(f"{k} {v}" for k, v in d["versions"].items()))
    if "verified_files" in d:
        lines.append(f"verified:     {d['verified_files']} files match the manifest's SHA-256")
    return "\n".join(lines)
