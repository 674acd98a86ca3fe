"""One training run with network or training settings the CLI does not expose, for screening a lead on valid.

Usage: python benchmarks/experiments/pilot.py --data ../shared/data/conll2003 --set '{"model": {"char_filters": 100}}'
       [--seed 1] [--model DIR] [--out benchmarks/results/archive/pilots.json]

The run is `train_model`, what `ner-lstm train` calls, with `TrainOptions`/`ModelConfig` fields replaced
by --set. It selects on valid and scores test once, like any run; a lead is judged on valid only. The
figures are printed and appended to --out. Pilots often share the machine, so their minutes are not
the recipe's: time a kept change with accuracy.py.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]  # benchmarks/
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with train.txt, valid.txt, test.txt")
    parser.add_argument("--set", default="{}", help='JSON: TrainOptions fields, and "model": ModelConfig fields')
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", type=Path, help="keep the model here (default: a temporary folder)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "archive" / "pilots.json")
    args = parser.parse_args()

    from ner_lstm.data.sources import training_corpora
    from ner_lstm.model.network import ModelConfig
    from ner_lstm.training.train import TrainOptions, train_model

    changes = json.loads(args.set)
    model = ModelConfig(**changes.pop("model", {}))
    options = TrainOptions(seed=args.seed, verbose=0, overwrite=True, model=model, **changes)
    corpora = training_corpora(args.data / "train.txt", args.data / "valid.txt", args.data / "test.txt", None, None)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ner-lstm-pilot-") as tmp:
        summary = train_model(corpora, args.model or Path(tmp) / "model", options)
    run = {"data": str(args.data), "set": json.loads(args.set), "seed": args.seed, "valid_f1": summary["best_dev_f1"],
           "selected_epoch": summary["best_epoch"], "epochs_run": summary["epochs"],
           "minutes_to_selected_model": summary["minutes_to_best"], "minutes_training": summary["minutes"],
           "test_f1": summary["test"]["f1"], "wall_minutes": round((time.monotonic() - started) / 60, 2)}
    print(json.dumps(run), flush=True)
    runs = json.loads(args.out.read_text()) if args.out.is_file() else []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([*runs, run], indent=1) + "\n")


if __name__ == "__main__":
    main()
