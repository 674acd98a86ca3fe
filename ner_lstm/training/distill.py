"""Knowledge distillation: one network trained towards a seed ensemble's token posteriors.

An ensemble of seeds tags more accurately than each of its members but costs their number in tagging
time; a student of the same architecture trained on the gold path plus the teachers' averaged CRF
marginals (posterior distillation: Kim & Rush 2016; Wang et al. 2020) keeps one network's speed.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from ..data.corpus import Sentence
from ..errors import UsageError
from ..files import write_json
from ..inference.bundle import read_json, update_bundle
from .corpora import Corpora
from .posteriors import ensemble_tags
from .train import TrainOptions, check_target, checkpoint_dir, train_model


def teacher_record(model: str) -> dict:
    """A teacher as the student's metrics.json names it: its seed, dev and test F1 and training minutes."""
    path = Path(model)
    config, metrics = read_json(path / "config.json"), read_json(path / "metrics.json")
    history = (path / "training.jsonl").read_text("utf-8").splitlines() if (path / "training.jsonl").is_file() else []
    record = {"model": str(path), "seed": config.get("training", {}).get("seed"),
              "dev_f1": metrics.get("dev", {}).get("f1"),
              "minutes": json.loads(history[-1])["elapsed_minutes"] if history else None}
    if "test" in metrics:
        record["test_f1"] = metrics["test"]["f1"]
    return record


def check_teachers(teachers: Sequence[str]) -> None:
    """Fail before any training when a teacher is not a complete model directory."""
    from ..inference.bundle import check_dir

    for model in teachers:
        check_dir(Path(model))


def record_distillation(model_dir: Path, options: TrainOptions, dev: Sequence[Sentence]) -> dict:
    """Add the teachers, their ensemble's dev F1 and the distillation's settings to the student's
    metrics.json; return that record."""
    from ..evaluation.scores import score
    from ..inference.bundle import read_vocab

    vocab = read_vocab(model_dir, read_json(model_dir / "config.json"))
    record = {"teachers": [teacher_record(model) for model in options.teachers],
              "weight": options.distill_weight, "temperature": options.distill_temperature}
    kept = [s for s in dev if len(s)]
    if kept:
        record["ensemble_dev_f1"] = score([s.tags for s in kept], ensemble_tags(options.teachers, kept, vocab))["f1"]
    update_bundle(model_dir, lambda tmp: write_json(
        tmp / "metrics.json", {**read_json(tmp / "metrics.json"), "distillation": record}))
    return record


def train_distilled(corpora: Corpora, model_dir: Path, options: TrainOptions) -> dict:
    """Train a student towards `options.teachers` (a `train_model` run whose loss adds the divergence to
    their posteriors), and record the teachers in its metrics.json."""
    check_teachers(options.teachers)
    summary = train_model(corpora, model_dir, options)
    summary["distillation"] = record_distillation(model_dir, options, corpora.dev)
    return summary


def teachers_dir(model_dir: Path) -> Path:
    return model_dir.parent / f"{model_dir.name}.teachers"


def _teacher_done(path: Path) -> bool:
    return (path / "metrics.json").is_file() and not checkpoint_dir(path).exists()


def distill_seeds(corpora: Corpora, model_dir: Path, options: TrainOptions, seeds: Sequence[int],
                  report: Callable[[dict], None] = lambda run: None) -> dict:
    """Train one teacher per seed into `MODEL.teachers/seedN` (kept, for `--teachers` later), then the
    student (seed `options.seed`) into `model_dir`. With `resume`, finished teachers are kept, an interrupted
    one continues, and so does the student."""
    if len(set(seeds)) < 2 or len(set(seeds)) != len(seeds):
        raise UsageError(f"--distill needs two or more different --seeds, not {' '.join(map(str, seeds))}")
    work = teachers_dir(model_dir)
    if not options.resume:
        check_target(model_dir, False, options.overwrite)
        check_target(work, False, options.overwrite)
        shutil.rmtree(work, ignore_errors=True)
    teachers = []
    for seed in seeds:
        path = work / f"seed{seed}"
        if not _teacher_done(path):
            resume = options.resume and checkpoint_dir(path).exists()
            train_model(corpora, path, replace(options, seed=seed, resume=resume, overwrite=True, teachers=[]))
        report(teacher_record(str(path)))
        teachers.append(str(path.resolve()))
    student = replace(options, teachers=teachers, resume=options.resume and checkpoint_dir(model_dir).exists())
    return train_distilled(corpora, model_dir, student)
