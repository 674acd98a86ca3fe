"""`--final`: choose the epoch count on dev, then retrain on train + dev for that many epochs.

Chiu & Nichols (2016) report CoNLL-2003 this way. The final model has seen dev, so its dev
score means nothing and only its test score is reported, apart from the headline recipe.
"""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from .corpora import Corpora
from ..errors import UsageError
from ..files import write_json
from ..inference.bundle import read_json, update_bundle
from .train import TrainOptions, check_target, train_model


def selection_dir(model_dir: Path) -> Path:
    return model_dir.parent / f".{model_dir.name}.selection"


def merged(corpora: Corpora) -> Corpora:
    """Train and dev as one training set, with no dev left to select on."""
    names = {"train": f"{corpora.names['train']} + {corpora.names['dev']}", "dev": "none (trained on)"}
    return Corpora(corpora.train + corpora.dev, [], corpora.test, names)


def train_final(corpora: Corpora, model_dir: Path, options: TrainOptions) -> dict:
    """A normal run (test unscored) picks the epoch; a fresh run with the same seed on train + dev
    trains exactly that many epochs and is the model kept. Returns train_model's summary with the
    selection run's dev F1 as `best_dev_f1`."""
    if options.resume:
        raise UsageError("--resume continues one interrupted run; it cannot be combined with --final")
    check_target(model_dir, False, options.overwrite)
    work = selection_dir(model_dir)
    shutil.rmtree(work, ignore_errors=True)
    selection = train_model(replace(corpora, test=None), work, replace(options, overwrite=True))
    epochs = selection["best_epoch"]
    if not epochs:
        raise UsageError("the selection run finished no epoch (--max-minutes too small?), so --final has no "
                         "epoch count")
    if options.verbose:
        print(f"selected {epochs} epochs on dev (F1 {100 * selection['best_dev_f1']:.2f}); "
              f"training on train + dev for {epochs} epochs", flush=True)
    final_options = replace(options, epochs=epochs, patience=epochs + 1, max_minutes=None, overwrite=True)
    summary = train_model(merged(corpora), model_dir, final_options)
    record = {"selected_epochs": epochs, "selection_dev": read_json(work / "metrics.json")["dev"],
              "selection_minutes": selection["minutes"], "selection_minutes_to_best": selection["minutes_to_best"],
              "trained_on": ["train", "dev"]}
    update_bundle(model_dir, lambda tmp: write_json(tmp / "metrics.json",
                                                    {**read_json(tmp / "metrics.json"), "final": record}))
    shutil.rmtree(work, ignore_errors=True)
    return {**summary, "best_dev_f1": selection["best_dev_f1"], "best_epoch": epochs,
            "minutes": round(selection["minutes"] + summary["minutes"], 2), "final": record}
