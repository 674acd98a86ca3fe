"""`ner-lstm calibrate`: fit a model's entity-score calibration on labelled dev data and store it in the model."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import (DEFAULT_MODEL, Encoding, LabelledFormat, LabelledFormatOption, ModelOption, TagColumn, app,
                     handle_errors)


class Method(str, Enum):
    temperature = "temperature"
    isotonic = "isotonic"
    both = "temperature+isotonic"
    none = "none"


MethodOption = Annotated[Method, typer.Option(help=("temperature: one divisor of the CRF scores, fitted by the "
    "entities' log loss (the default: best on CoNLL-2003 test); isotonic: a monotone map of entity scores; both; "
    "none: raw scores."))]


@app.command()
@handle_errors
def calibrate(
    dev: Annotated[Path, typer.Argument(help="Labelled data the model did not train on (its dev set).")],
    model: ModelOption = DEFAULT_MODEL,
    method: MethodOption = Method.temperature,
    test: Annotated[Optional[Path], typer.Option(
        help="Also report ECE before and after on this labelled data.")] = None,
    input_format: LabelledFormatOption = LabelledFormat.auto,
    tag_column: TagColumn = -1,
    encoding: Encoding = "utf-8",
) -> None:
    """Make entity scores mean the chance an entity is right (exact span and type), fitted on dev.

    Training does this at its end; use this for a model trained before, or to refit on other data. The
    calibration is stored in the model directory and applied by every command, the server and the library.
    """
    from ..evaluation.calibration import calibrate_model
    from ..inference.tagger import Tagger
    from ..training.corpora import labelled

    splits = {"dev": labelled(dev, input_format.value, None, tag_column, encoding)}
    if test is not None:
        splits["test"] = labelled(test, input_format.value, None, tag_column, encoding)
    record = calibrate_model(Tagger.load(model), model, method.value, splits["dev"], splits.get("test"))
    for split in splits:
        typer.echo(f"{split}: ECE {record[split]['ece_before']:.4f} -> {record[split]['ece_after']:.4f}, Brier "
                   f"{record[split]['brier_before']:.4f} -> {record[split]['brier_after']:.4f} "
                   f"({record[split]['entities']} entities)")
    typer.echo(f"calibration ({record['method']}, temperature {record['temperature']:g}) saved in {model}")
