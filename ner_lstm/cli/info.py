"""`ner-lstm info`: describe a model directory, and verify its files against the manifest."""
from __future__ import annotations

import json
from typing import Annotated

import typer

from .common import DEFAULT_MODEL, ModelOption, app, handle_errors


@app.command()
@handle_errors
def info(
    model: ModelOption = DEFAULT_MODEL,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    verify: Annotated[bool, typer.Option(help="Also compare every file's SHA-256 with the model's manifest.")] = False,
) -> None:
    """Describe a model: labels, vocabulary sizes, training data, scores and versions."""
    from ..inference.bundle import check_dir, read_json, verify_manifest

    config = check_dir(model)
    verified = verify_manifest(model, full=True) if verify else None
    vocab = read_json(model / "vocab.json")
    metrics = read_json(model / "metrics.json") if (model / "metrics.json").exists() else {}
    description = {
        "model": str(model),
        "format_version": config["format_version"],
        "labels": config.get("labels", vocab.get("labels")),
        "vocabulary": {"words": len(vocab.get("words", [])), "chars": len(vocab.get("chars", [])),
                       "glove_words": _glove_words(model)},
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


def _glove_words(model) -> int:
    """How many GloVe words the model looks up (0 without GloVe), read without loading the vectors."""
    from ..inference.bundle import read_config, read_vocab

    glove = read_vocab(model, read_config(model)).glove
    return 0 if glove is None else len(glove)


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
