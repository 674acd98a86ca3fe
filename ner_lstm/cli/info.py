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
    from ..inference.bundle import describe

    description = describe(model, verify)
    if as_json:
        typer.echo(json.dumps(description, indent=1))
        return
    typer.echo(_format_info(description))


def _vectors_line(v: dict) -> str:
    if v.get("source") == "none":
        return "none"
    return f"{v['source']} ({v['words']} words, {v['dim']} dimensions, {'cased' if v.get('cased') else 'lowercased'})"


def _calibration_line(c: dict) -> str:
    if c.get("method", "none") == "none":
        return "raw (the lowest CRF marginal of an entity's tags; not calibrated)"
    line = f"calibrated on dev ({c['method']}, temperature {c['temperature']:g})"
    for split in ("dev", "test"):
        if split in c:
            line += f"; {split} ECE {c[split]['ece_before']:.4f} -> {c[split]['ece_after']:.4f}"
    return line


def _distillation_line(r: dict) -> str:
    teachers = ", ".join(f"seed {t['seed']} dev F1 {100 * t['dev_f1']:.2f}" for t in r["teachers"])
    line = f"from {len(r['teachers'])} teachers ({teachers})"
    if "ensemble_dev_f1" in r:
        line += f", their ensemble dev F1 {100 * r['ensemble_dev_f1']:.2f}"
    return line + f"; weight {r['weight']:g}, temperature {r['temperature']:g}"


def _format_info(d: dict) -> str:
    lines = [f"model:        {d['model']} (format {d['format_version']})",
             f"labels:       {', '.join(d['labels'])}",
             f"vocabulary:   {d['vocabulary']['words']} training words, {d['vocabulary']['chars']} characters, "
             f"{d['vocabulary']['glove_words']} words with vectors",
             "vectors:      " + _vectors_line(d["vectors"]),
             "context:      " + ("each word's case elsewhere in its document" if d["network"].get("document_context")
                                 else "the sentence only"),
             "evidence:     " + ("other mentions' predicted types in the document" if d["network"].get("evidence")
                                 else "none")]
    for split, desc in d["data"].items():
        lines.append(f"{split + ':':<13} {desc.get('source')} ({desc.get('sentences')} sentences, "
                     f"{desc.get('tokens')} tokens)")
    if d.get("parent"):
        parent = d["parent"]
        lines.append(f"continued:    from {parent['path']} (manifest SHA-256 {parent['manifest_sha256'][:16]}…)")
    scores = d["scores"]
    if scores.get("distillation"):
        lines.append("distilled:    " + _distillation_line(scores["distillation"]))
    if scores:
        lines.append(f"selected:     epoch {scores.get('epoch')}")
        if "final" in scores:
            final = scores["final"]
            lines.append(f"final:        trained on train + dev for the {final['selected_epochs']} epochs "
                         f"chosen on dev (dev F1 {100 * final['selection_dev']['f1']:.2f} then)")
        for split in ("dev", "test"):
            if split in scores:
                s = scores[split]
                lines.append(f"{split + ' F1:':<13} {100 * s['f1']:.2f} (P {100 * s['precision']:.2f}, "
                             f"R {100 * s['recall']:.2f}; strict {100 * s['strict']['f1']:.2f})")
    lines.append("scores:       " + _calibration_line(d.get("calibration", {})))
    lines.append(f"patterns:     {d.get('patterns', 0)} entity pattern(s) applied after the network")
    lines.append("versions:     " + ", ".join(f"{k} {v}" for k, v in d["versions"].items()))
    if "verified_files" in d:
        lines.append(f"verified:     {d['verified_files']} files match the manifest's SHA-256")
    return "\n".join(lines)
