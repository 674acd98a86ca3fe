"""CoNLL-2003 accuracy with default settings: train on train, select on valid, score test; one run per seed.

Usage: python benchmarks/accuracy.py --data ../shared/data/conll2003 [--seeds 1 2 3]
Each run is a fresh `ner-lstm train` process with default options; its peak resident memory (with any
child processes) is sampled every 0.2 s. Prints the figures and writes benchmarks/results/accuracy.json.
"""
from __future__ import annotations

import argparse
import json
import shlex
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import run_with_peak_memory  # noqa: E402

CLI = [sys.executable, "-m", "ner_lstm"]


def train_once(data: Path, seed: int, workdir: Path, options: list[str]) -> dict:
    model = workdir / f"seed{seed}"
    command = CLI + ["train", "--train", str(data / "train.txt"), "--dev", str(data / "valid.txt"),
                     "--test", str(data / "test.txt"), "--model", str(model), "--seed", str(seed), *options]
    measured = run_with_peak_memory(command, stdout=subprocess.DEVNULL)
    wall = measured["seconds"]
    metrics = json.loads((model / "metrics.json").read_text())
    log = [json.loads(line) for line in (model / "training.jsonl").read_text().splitlines()]
    selected = next(entry for entry in log if entry["epoch"] == metrics["epoch"])
    # A --final run: its valid F1 is the selection run's (the kept model trained on valid), and its
    # model exists only once the selection run and the train+valid run are both done.
    final = metrics.get("final")
    before = final["selection_minutes"] if final else 0.0
    return {
        "seed": seed,
        "test_f1": metrics["test"]["f1"],
        "test_f1_strict": metrics["test"]["strict"]["f1"],
        "test_per_type_f1": {k: v["f1"] for k, v in metrics["test"]["per_type"].items()},
        "valid_f1": final["selection_dev"]["f1"] if final else metrics["dev"]["f1"],
        "selected_epoch": metrics["epoch"],
        "epochs_run": len(log),
        "minutes_to_selected_model": round(before + selected["elapsed_minutes"], 2),
        "minutes_training": round(before + log[-1]["elapsed_minutes"], 2),
        "wall_minutes_whole_process": round(wall / 60, 2),
        "peak_rss_mb": round(measured["peak_rss_mb"]),
        **({"selection_minutes_to_selected_epoch": final["selection_minutes_to_best"]} if final else {}),
        "history": [{k: e[k] for k in ("epoch", "loss", "dev_f1", "seconds") if k in e} for e in log],  # the curves
    }


def spread(values: list[float]) -> dict:
    return {"mean": round(statistics.mean(values), 4), "stdev": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
            "min": round(min(values), 4), "max": round(max(values), 4), "median": round(statistics.median(values), 4)}


def versions() -> dict:
    import keras
    import tensorflow as tf

    import ner_lstm

    return {"ner_lstm": ner_lstm.__version__, "keras": keras.__version__, "tensorflow": tf.__version__,
            "python": platform.python_version()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with train.txt, valid.txt, test.txt")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "accuracy.json")
    parser.add_argument("--keep", type=Path, help="keep the trained models in this folder (seedN/)")
    parser.add_argument("--options", default="", help="more `ner-lstm train` options, e.g. '--epochs 40' (recorded)")
    args = parser.parse_args()
    for name in ("train.txt", "valid.txt", "test.txt"):
        if not (args.data / name).is_file():
            sys.exit(f"accuracy.py: {args.data / name} not found (pass --data FOLDER)")
    runs = []
    with tempfile.TemporaryDirectory(prefix="ner-lstm-accuracy-") as workdir:
        for seed in args.seeds:
            run = train_once(args.data, seed, args.keep or Path(workdir), shlex.split(args.options))
            print(json.dumps(run), flush=True)
            runs.append(run)
    result = {
        "benchmark": "CoNLL-2003 English, train on train, select on valid, score test"
                     + ("; --final: then retrain on train+valid for the selected epoch count" if "--final" in args.options else ""),
        "train_options": args.options or "defaults",
        "metric": "entity F1, seqeval default (conlleval-compatible) mode, in percent",
        "machine": {"cores": __import__("os").cpu_count(), "platform": platform.platform()},
        "versions": versions(),
        "seeds": args.seeds,
        "test_f1": spread([100 * r["test_f1"] for r in runs]),
        "valid_f1": spread([100 * r["valid_f1"] for r in runs]),
        "minutes_to_selected_model": spread([r["minutes_to_selected_model"] for r in runs]),
        "peak_rss_mb": spread([r["peak_rss_mb"] for r in runs]),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    t = result["test_f1"]
    print(f"test F1 {t['mean']:.2f} ± {t['stdev']:.2f} (min {t['min']:.2f}, max {t['max']:.2f}) over seeds {args.seeds}; "
          f"valid F1 {result['valid_f1']['mean']:.2f}; minutes to selected model: "
          f"median {result['minutes_to_selected_model']['median']:.1f}, max {result['minutes_to_selected_model']['max']:.1f}; "
          f"peak memory of a training process: max {result['peak_rss_mb']['max']:.0f} MB")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
