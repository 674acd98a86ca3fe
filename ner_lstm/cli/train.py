"""`ner-lstm train`: train a model and keep the best epoch by dev entity F1."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .calibrate import Method, MethodOption
from .common import (DEFAULT_MODEL, Encoding, LabelledFormat, LabelledFormatOption, MapLabelOption, ModelOption,
                     StrictSpansOption, TagColumn, TextFieldOption, app, handle_errors, span_options)


@app.command(context_settings={"allow_extra_args": True})
@handle_errors
def train(
    ctx: typer.Context,
    train_file: Annotated[Optional[Path], typer.Option("--train", help=("Training data: CoNLL columns, or an "
        "annotation tool's export (see --input-format)."))] = None,
    dev: Annotated[Optional[Path], typer.Option(help=("Development corpus for early stopping; default: 10% of "
        "--train."))] = None,
    test: Annotated[Optional[Path], typer.Option(help="Test corpus, scored once with the selected model.")] = None,
    dataset: Annotated[Optional[str], typer.Option(help=("Hugging Face dataset id or local dataset folder, instead "
        "of --train."))] = None,
    revision: Annotated[Optional[str], typer.Option(
        help="Dataset revision (hub default: refs/convert/parquet).")] = None,
    model: ModelOption = DEFAULT_MODEL,
    epochs: Annotated[int, typer.Option(min=1, help="Most epochs to train.")] = 30,
    patience: Annotated[int, typer.Option(min=1, help="Stop after this many epochs without a better dev F1.")] = 8,
    batch_size: Annotated[int, typer.Option(min=1, help="Sentences per batch.")] = 32,
    learning_rate: Annotated[float, typer.Option(min=0.0, help="Adam learning rate.")] = 0.002,
    seed: Annotated[int, typer.Option(help="Random seed, for reproducible runs.")] = 42,
    seeds: Annotated[Optional[list[int]], typer.Option(help=("Train once per seed (--seeds 1 2 3), print dev/test F1"
        " per seed and mean ± std, keep the best-on-dev model."))] = None,
    embeddings: Annotated[str, typer.Option(help=("Pretrained word vectors: 'glove' (the packaged GloVe 6B 50d), "
        "'none', or a file: word2vec/GloVe/fastText text (.txt, .vec, with or without a 'count dim' first line, .gz "
        "or not) or word2vec binary (.bin), any dimension, any language. Cased files are looked up as written, then "
        "lowercased. The table is stored in the model directory."))] = "glove",
    lm_weight: Annotated[float, typer.Option(min=0.0, help=("Weight of the training-only loss in which the BiLSTM "
        "predicts each word's neighbours (Rei 2017); 0 turns it off."))] = 0.1,
    document_context: Annotated[bool, typer.Option(help=("Give each token how its word is written elsewhere in its "
        "document (a -DOCSTART- document, a text, a record), for capitalised sentence starts and all-caps headlines;"
        " no gain on CoNLL-2003 valid, so off by default."))] = False,
    evidence: Annotated[bool, typer.Option(help=("Add to each token's scores what the network predicts for its "
        "word's other mentions in the document (a -DOCSTART- document, a text, a record); +0.17 F1 on CoNLL-2003 "
        "valid (mean of 3 seeds)."))] = True,
    max_minutes: Annotated[Optional[float], typer.Option(min=0.0, help=("Stop training after this many minutes (the "
        "partial epoch is scored with averaged weights)."))] = None,
    resume: Annotated[bool, typer.Option(help=("Continue an interrupted run from its last checkpoint (same data and "
        "options)."))] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing model directory.")] = False,
    final: Annotated[bool, typer.Option(help=("After choosing the epoch count on dev, retrain on train + dev for "
        "that many epochs and keep that model (report its test F1 apart: it has no dev score)."))] = False,
    init_from: Annotated[Optional[Path], typer.Option(help=("Continue this trained model on the new data: its "
        "vocabularies grow with the new words, characters and labels, its weights are the start, the rest is a fresh "
        "run (early stopping on --dev, checkpoints, --resume). The new model names its parent in config.json."))
    ] = None,
    replay: Annotated[Optional[Path], typer.Option(help=("With --init-from: the parent's training data; a seeded "
        "share of it (--replay-fraction) joins the new data, so the model forgets less."))] = None,
    replay_fraction: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of --replay mixed in.")] = 0.5,
    distill: Annotated[bool, typer.Option(help=("With --seeds 1 2 3: train a teacher per seed (kept in "
        "MODEL.teachers/), then one student (--seed) on the gold tags plus the teachers' averaged token posteriors, "
        "to approach the ensemble's accuracy at one network's tagging cost."))] = False,
    teachers: Annotated[Optional[list[Path]], typer.Option(help=("Distil from these trained models (--teachers A B C)"
        " instead of training teachers; they must know the training data's labels."))] = None,
    distill_weight: Annotated[float, typer.Option(min=0.0, help=("Weight of the divergence from the teachers' token "
        "posteriors to the student's, beside the gold path's loss."))] = 1.0,
    distill_temperature: Annotated[float, typer.Option(min=0.01, help=("Teachers' and student's scores are divided "
        "by it in that divergence; above 1 the student learns more of the teachers' doubts."))] = 1.0,
    calibration: MethodOption = Method.temperature,
    patterns: Annotated[Optional[Path], typer.Option(help=("Entity patterns (spaCy EntityRuler JSONL) to store in "
        "the model: every use of it applies them after the network."))] = None,
    input_format: LabelledFormatOption = LabelledFormat.auto,
    map_label: MapLabelOption = None,
    strict_spans: StrictSpansOption = False,
    text_field: TextFieldOption = None,
    tag_column: TagColumn = -1,
    encoding: Encoding = "utf-8",
) -> None:
    """Train a model and save the best epoch (by dev entity F1) as a model directory.

    Any language written with spaces between words trains from any format; text in scripts written without
    them (Chinese, Japanese, Thai) must come pre-tokenised (CoNLL columns, or JSONL with tokens and tags).
    """
    seeds, teachers = _lists(seeds, teachers, ctx.args)
    _check_distill(distill, seeds, teachers, final)
    from ..extras import require
    from ..inference.runtime import import_tensorflow_quietly

    require("train", "training")
    import_tensorflow_quietly()
    from ..training.corpora import training_corpora
    from ..training.train import TrainOptions, check_target, train_model

    check_target(model, resume, overwrite)  # before reading any data: fail fast
    if replay is not None and init_from is None:
        from ..errors import UsageError

        raise UsageError("--replay mixes a parent model's training data back in; give --init-from MODEL too")
    if patterns is not None:
        from ..inference.patterns import read_patterns

        read_patterns(patterns)
    options = TrainOptions(epochs=epochs, patience=patience, batch_size=batch_size, learning_rate=learning_rate,
                           seed=seed, max_minutes=max_minutes, resume=resume, overwrite=overwrite,
                           verbose=1 if sys.stdout.isatty() else 2, calibration=calibration.value,
                           patterns=None if patterns is None else str(patterns.resolve()),
                           init_from=None if init_from is None else str(init_from.resolve()),
                           teachers=[str(path.resolve()) for path in teachers], distill_weight=distill_weight,
                           distill_temperature=distill_temperature)
    options.model.embeddings = embeddings if embeddings in ("glove", "none") else str(Path(embeddings).resolve())
    options.model.lm_weight = lm_weight
    options.model.document_context = document_context
    options.model.evidence = evidence
    if init_from is not None:  # an incompatible parent fails before any data is read
        from ..model.network import ModelConfig
        from ..training.continued import parent_network

        parent_network(init_from, options.model, ModelConfig())
    corpora = training_corpora(train_file, dev, test, dataset, revision, tag_column, encoding, seed,
                               input_format.value, span_options(map_label, strict_spans, text_field), replay,
                               replay_fraction)
    if corpora.held_out:
        typer.echo(f"no --dev given: holding out {len(corpora.dev)} of the training sentences for model selection",
                   err=True)
    if distill or teachers:
        _train_distilled(corpora, model, options, seeds)
        return
    run_one = train_model
    if final:
        from ..training.final import train_final as run_one
    if seeds:
        _train_seeds(corpora, model, options, seeds, run_one)
        return
    summary = run_one(corpora, model, options)
    if final:
        typer.echo(f"trained on train + dev for the {summary['best_epoch']} epochs chosen on dev "
                   f"(dev F1 {100 * summary['best_dev_f1']:.2f} then); model saved in {model}")
    else:
        typer.echo(f"best epoch {summary['best_epoch']}: dev F1 {100 * summary['best_dev_f1']:.2f}; "
                   f"model saved in {model}")
    if "test" in summary:
        typer.echo(f"test F1 {100 * summary['test']['f1']:.2f} (conlleval-compatible)")


def _lists(seeds: list[int] | None, teachers: list[Path] | None, extra: list[str]) -> tuple[list[int], list[Path]]:
    """`--seeds 1 2 3` and `--teachers A B C` as people write them: Typer takes one value per flag, the rest
    arrive as extra args (seeds if --seeds was given, models if --teachers was)."""
    from ..errors import UsageError

    seeds, teachers = list(seeds or []), list(teachers or [])
    if extra and seeds and teachers:
        raise UsageError(f"unexpected arguments: {' '.join(extra)} (give several values as --seeds 1 --seeds 2)")
    if extra and seeds and all(arg.isdigit() for arg in extra):
        return [*seeds, *map(int, extra)], teachers
    if extra and teachers and not any(arg.startswith("-") for arg in extra):
        return seeds, [*teachers, *map(Path, extra)]
    if extra:
        raise UsageError(f"unexpected arguments: {' '.join(extra)}")
    return seeds, teachers


def _check_distill(distill: bool, seeds: list[int], teachers: list[Path], final: bool) -> None:
    from ..errors import UsageError

    if teachers and seeds:
        raise UsageError("--teachers are models trained already; --seeds would train more: give one of them")
    if distill and not seeds and not teachers:
        raise UsageError("--distill needs teachers: --seeds 1 2 3 to train them, or --teachers DIR...")
    if (distill or teachers) and final:
        raise UsageError("--final cannot be combined with distillation (the student is selected on dev)")


def _train_distilled(corpora, model, options, seeds: list[int]) -> None:
    from ..training.distill import distill_seeds, teachers_dir, train_distilled

    def report(run: dict) -> None:
        test = f", test F1 {100 * run['test_f1']:.2f}" if run.get("test_f1") is not None else ""
        typer.echo(f"teacher seed {run['seed']}: dev F1 {100 * run['dev_f1']:.2f}{test} ({run['minutes']} min)")

    if seeds:
        summary = distill_seeds(corpora, model, options, seeds, report)
        typer.echo(f"teachers kept in {teachers_dir(model)} (distil again with --teachers)")
    else:
        summary = train_distilled(corpora, model, options)
    record = summary["distillation"]
    if "ensemble_dev_f1" in record:
        typer.echo(f"the {len(record['teachers'])} teachers' ensemble: dev F1 {100 * record['ensemble_dev_f1']:.2f}")
    typer.echo(f"student (seed {options.seed}), best epoch {summary['best_epoch']}: dev F1 "
               f"{100 * summary['best_dev_f1']:.2f}; model saved in {model}")
    if "test" in summary:
        typer.echo(f"test F1 {100 * summary['test']['f1']:.2f} (conlleval-compatible)")


def _train_seeds(corpora, model, options, seeds: list[int], run_one) -> None:
    from ..training.seeds import train_seeds

    def report(run: dict) -> None:
        test = f", test F1 {100 * run['test_f1']:.2f}" if "test_f1" in run else ""
        typer.echo(f"seed {run['seed']}: dev F1 {100 * run['dev_f1']:.2f}{test} "
                   f"(epoch {run['epoch']} of {run['epochs']})")

    figures = train_seeds(corpora, model, options, seeds, report, run_one)
    for split in ("dev_f1", "test_f1"):
        if split in figures:
            s = figures[split]
            typer.echo(f"{split.split('_')[0]} F1 over {len(seeds)} seeds: {s['mean']:.2f} ± {s['std']:.2f} "
                       f"(min {s['min']:.2f}, max {s['max']:.2f})")
    typer.echo(f"kept seed {figures['selected_seed']} (best dev F1) in {model}; "
               "every seed's figures are in its metrics.json")
