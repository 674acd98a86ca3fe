"""The `ner-lstm` command line: a thin Typer layer over the library.

Each command parses its options, calls the library, and prints. Errors a user
can cause print one line on stderr and exit 2 (bad input or usage); internal
failures exit 1; `--debug` shows the traceback.
"""
from __future__ import annotations

import functools
import os
import sys
import warnings
from enum import Enum
from pathlib import Path
from typing import Annotated, Callable, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported anywhere

import typer  # noqa: E402

from ..errors import EXIT_INTERNAL, InputWarning, NerError  # noqa: E402

app = typer.Typer(
    help="Train, score and run a BiLSTM-CNN-CRF named-entity tagger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # paragraphs rewrapped to the terminal; "ner-lstm[ray]" is not a style tag
    add_completion=False,
)
DEBUG = {"on": False}

DEFAULT_MODEL = Path("models/default")
ModelOption = Annotated[Path, typer.Option("--model", "-m", help="Model directory.")]
TagColumn = Annotated[int, typer.Option(help="Column holding the tag (0-based; negative counts from the end).")]
Encoding = Annotated[str, typer.Option(help="Text encoding of input files.")]


class LabelledFormat(str, Enum):
    auto = "auto"
    conll = "conll"
    jsonl = "jsonl"
    labelstudio = "labelstudio"
    brat = "brat"
    spacy = "spacy"


LabelledFormatOption = Annotated[LabelledFormat, typer.Option(
    "--input-format", help="Format of labelled files: conll (token and tag columns), jsonl (doccano, Prodigy/spaCy "
    "spans, 'ner-lstm tag' output, or tokens with tags), labelstudio (JSON or JSON-MIN export), brat (a folder of "
    ".txt + .ann, or one .ann), spacy (.spacy DocBin, needs ner-lstm[spacy]); auto picks by name and content.")]
MapLabelOption = Annotated[Optional[list[str]], typer.Option(
    "--map-label", help="Rename a label, SRC=DST (repeatable); DST O drops it. Also names label ids: 3=PER.")]
StrictSpansOption = Annotated[bool, typer.Option(
    help="Make any span that cannot be placed on tokens (off token boundaries, overlapping, outside the text, "
    "text not matching, across sentences) an error instead of a counted, reported omission.")]
TextFieldOption = Annotated[Optional[str], typer.Option(
    "--text-field", help="Label Studio: the task data field holding the text (default: 'text', or the only one).")]


def span_options(map_label: Optional[list[str]], strict_spans: bool, text_field: Optional[str] = None):
    """The span readers' options from the command line's."""
    from ..data.formats import SpanOptions, parse_label_map

    return SpanOptions(parse_label_map(map_label or []), strict_spans, text_field)


class Backend(str, Enum):
    auto = "auto"
    onnx = "onnx"
    keras = "keras"


BackendOption = Annotated[Backend, typer.Option(help=("Inference engine: the ONNX export (auto, when present) or "
    "Keras."))]
ThreadsOption = Annotated[Optional[int], typer.Option("--threads", min=1, help=("CPU threads for the network "
    "(default: the CPUs this process may use)."))]


class PatternsMode(str, Enum):
    override = "override"
    fill = "fill"


PatternsOption = Annotated[Optional[list[Path]], typer.Option("--patterns", help=("Entity patterns in spaCy's "
    "EntityRuler JSONL ({\"label\": \"ORG\", \"pattern\": \"Acme Corp\"}, or token patterns with ORTH, TEXT, "
    "LOWER), matched on the tokens after the model, besides the model's own (repeatable)."))]
PatternsModeOption = Annotated[Optional[PatternsMode], typer.Option(help=("override: a pattern match replaces the "
    "model entities it overlaps (the default); fill: a match is kept only where the model found nothing."))]
MinScoreOption = Annotated[Optional[float], typer.Option(min=0.0, max=1.0, help=("Leave out entities whose "
    "(calibrated) score is below this; their tokens are tagged O."))]


def with_rules(tagger, patterns: Optional[list[Path]], mode: Optional[PatternsMode], min_score: Optional[float]):
    """The tagger with the command line's entity patterns and score threshold."""
    tagger.use_patterns(patterns or [], mode.value if mode else None)
    tagger.min_score = min_score
    return tagger


# The old name of --threads (predict) and of --processes / --actors (tag): accepted, with a warning.
OldWorkersOption = Annotated[Optional[int], typer.Option("--workers", min=1, hidden=True)]


def renamed(old: Optional[int], new: Optional[int], name: str) -> Optional[int]:
    """The value of an option given under its old name --workers, with a warning saying its new name."""
    if old is None:
        return new
    from ..errors import UsageError

    if new is not None:
        raise UsageError(f"--workers is the old name of {name}; give one of them")
    typer.echo(f"ner-lstm: warning: --workers is now {name}; the old name will go", err=True)
    return old


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


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if issubclass(category, InputWarning):
        typer.echo(f"ner-lstm: warning: {message}", err=True)
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


_python_show_warning = warnings.showwarning


@app.callback()
def main(debug: Annotated[bool, typer.Option(help="Show Python tracebacks on errors.")] = False) -> None:
    DEBUG["on"] = debug
    warnings.showwarning = _show_warning


