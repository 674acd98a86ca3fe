"""Several training runs that differ only in their seed: the spread of the scores, and the best-on-dev model.

Single runs mislead (Reimers & Gurevych 2017: seeds alone move CoNLL-2003 F1 by a point), so a recipe
is judged by the mean and spread over seeds, and the model kept is the one dev prefers; test never
chooses.
"""
from __future__ import annotations

import shutil
import statistics
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from .corpora import Corpora
from ..errors import UsageError
from ..files import write_json
from ..inference.bundle import read_json, update_bundle
from .train import TrainOptions, check_target, train_model


def spread(values: Sequence[float]) -> dict:
    """Mean, sample standard deviation, min and max (F1 in percent, two decimals)."""
    values = [100 * v for v in values]
    return {"mean": round(statistics.mean(values), 2),
            "std": round(statistics.stdev(values), 2) if len(values) > 1 else 0.0,
            "min": round(min(values), 2), "max": round(max(values), 2)}


def seeds_dir(model_dir: Path) -> Path:
    return model_dir.parent / f".{model_dir.name}.seeds"


def train_seeds(corpora: Corpora, model_dir: Path, options: TrainOptions, seeds: Sequence[int],
                report: Callable[[dict], None] = lambda run: None, run_one: Callable[..., dict] = train_model) -> dict:
    """Train once per seed (each a complete run of `run_one`: `train_model`, or `train_final`), keep the
    best by dev F1 as `model_dir`, and add every run's figures to its metrics.json under "seeds"."""
    if options.resume:
        raise UsageError("--resume continues one interrupted run; it cannot be combined with --seeds")
    if len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds repeats a seed: {' '.join(map(str, seeds))}")
    check_target(model_dir, False, options.overwrite)
    work = seeds_dir(model_dir)
    shutil.rmtree(work, ignore_errors=True)
    runs = []
    for seed in seeds:
        summary = run_one(corpora, work / f"seed{seed}", replace(options, seed=seed, overwrite=True))
        run = {"seed": seed, "dev_f1": summary["best_dev_f1"], "epoch": summary["best_epoch"],
               "epochs": summary["epochs"], "minutes": summary["minutes"]}
        if "test" in summary:
            run["test_f1"] = summary["test"]["f1"]
        runs.append(run)
        report(run)
    best = max(runs, key=lambda run: run["dev_f1"])
    figures = {"runs": runs, "selected_seed": best["seed"], "dev_f1": spread([r["dev_f1"] for r in runs])}
    if all("test_f1" in run for run in runs):
        figures["test_f1"] = spread([r["test_f1"] for r in runs])
    chosen = work / f"seed{best['seed']}"
    update_bundle(model_dir, lambda tmp: write_json(tmp / "metrics.json",
                                                    {**read_json(chosen / "metrics.json"), "seeds": figures}),
                  source=chosen)
    shutil.rmtree(work, ignore_errors=True)
    return figures
