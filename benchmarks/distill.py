"""Distillation on CoNLL-2003: trained teachers, their ensemble, and students of one setting, one per seed.

Usage: python benchmarks/distill.py --data ../shared/data/conll2003 --teachers T1 T2 T3 --seeds 1 2 3
       [--weight 1.0] [--temperature 1.0] [--keep DIR] [--out benchmarks/results/accuracy-distill.json]

The teachers are models trained already (e.g. `python benchmarks/accuracy.py --seeds 1 2 3 --keep DIR`:
seeds 1-3 of the default recipe). Each student is a fresh `ner-lstm train --teachers ...` process with the
given weight and temperature; its training minutes (epochs and dev scoring, as the teachers') and whole
process wall minutes (the teachers' posteriors, test scoring and calibration included) are recorded.
Runs accumulate in the output file across invocations, one setting at a time; `students` are the runs of
the setting with the best mean valid F1 (chosen on valid only; test never chooses).
"""
from __future__ import annotations

import argparse
import json
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from accuracy import versions  # noqa: E402
from measure import run_with_peak_memory  # noqa: E402

from ner_lstm.data.corpus import read_conll  # noqa: E402
from ner_lstm.evaluation.scores import score  # noqa: E402
from ner_lstm.inference.bundle import read_json, read_vocab  # noqa: E402
from ner_lstm.training.distill import teacher_record  # noqa: E402
from ner_lstm.training.posteriors import ensemble_tags  # noqa: E402
from ner_lstm.training.seeds import spread  # noqa: E402

CLI = [sys.executable, "-m", "ner_lstm"]


def machine() -> dict:
    import os

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cpu": model, "cores": len(os.sched_getaffinity(0)), "platform": platform.platform()}


def teacher(model: Path) -> dict:
    record = teacher_record(str(model))
    return {"seed": record["seed"], "valid_f1": record["dev_f1"], "test_f1": record["test_f1"],
            "minutes": record["minutes"], "model": str(model)}


def ensemble(teachers: list[Path], data: Path) -> dict:
    """The teachers' averaged marginals, decoded as the student learns them, on valid and test."""
    vocab = read_vocab(teachers[0], read_json(teachers[0] / "config.json"))
    found = {}
    for split in ("valid", "test"):
        sentences = [s for s in read_conll(data / f"{split}.txt") if len(s)]
        tags = ensemble_tags([str(t) for t in teachers], sentences, vocab)
        found[f"{split}_f1"] = score([s.tags for s in sentences], tags)["f1"]
    return found


def student(data: Path, teachers: list[Path], seed: int, weight: float, temperature: float, work: Path) -> dict:
    model = work / f"student-w{weight:g}-t{temperature:g}-seed{seed}"
    command = CLI + ["train", "--train", str(data / "train.txt"), "--dev", str(data / "valid.txt"),
                     "--test", str(data / "test.txt"), "--model", str(model), "--seed", str(seed), "--overwrite",
                     "--distill-weight", str(weight), "--distill-temperature", str(temperature),
                     "--teachers", *map(str, teachers)]
    measured = run_with_peak_memory(command, stdout=subprocess.DEVNULL)
    metrics = json.loads((model / "metrics.json").read_text())
    log = [json.loads(line) for line in (model / "training.jsonl").read_text().splitlines()]
    return {"seed": seed, "weight": weight, "temperature": temperature, "valid_f1": metrics["dev"]["f1"],
            "test_f1": metrics["test"]["f1"], "minutes": log[-1]["elapsed_minutes"],
            "wall_minutes_whole_process": round(measured["seconds"] / 60, 2),
            "peak_rss_mb": round(measured["peak_rss_mb"]), "selected_epoch": metrics["epoch"],
            "epochs_run": len(log), "epoch_seconds_median": round(statistics.median(e["seconds"] for e in log), 1),
            "model": str(model)}


def summarise(result: dict) -> None:
    """`students`: the runs of the setting with the best mean valid F1; a row per setting tried."""
    settings: dict[tuple, list[dict]] = {}
    for run in result["runs"]:
        settings.setdefault((run["weight"], run["temperature"]), []).append(run)
    rows = [{"weight": w, "temperature": t, "seeds": [r["seed"] for r in runs],
             "valid_f1": spread([r["valid_f1"] for r in runs]), "test_f1": spread([r["test_f1"] for r in runs])}
            for (w, t), runs in settings.items()]
    best = max(rows, key=lambda row: row["valid_f1"]["mean"])
    result["settings"] = rows
    result["selected_setting"] = {"weight": best["weight"], "temperature": best["temperature"]}
    result["students"] = [{k: r[k] for k in ("seed", "valid_f1", "test_f1", "minutes")}
                          for r in settings[(best["weight"], best["temperature"])]]
    result["teachers_test_f1"] = spread([t["test_f1"] for t in result["teachers"]])
    result["students_test_f1"] = best["test_f1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with train.txt, valid.txt, test.txt")
    parser.add_argument("--teachers", type=Path, nargs="+", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--weight", type=float, default=1.0)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--keep", type=Path, help="keep the students in this folder")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "accuracy-distill.json")
    args = parser.parse_args()
    teachers = [path.resolve() for path in args.teachers]
    result = json.loads(args.out.read_text()) if args.out.is_file() else {"runs": []}
    if result.get("teacher_models") not in (None, [str(t) for t in teachers]):
        sys.exit(f"{args.out}: holds runs distilled from other teachers; write to another --out")
    result["teacher_models"] = [str(t) for t in teachers]
    result["teachers"] = [teacher(t) for t in teachers]
    result.setdefault("commands", []).append(shlex.join(["python", "benchmarks/distill.py", *sys.argv[1:]]))
    if "ensemble" not in result:
        result["ensemble"] = ensemble(teachers, args.data)
        print(f"ensemble of {len(teachers)}: valid F1 {100 * result['ensemble']['valid_f1']:.2f}, "
              f"test F1 {100 * result['ensemble']['test_f1']:.2f}", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        for seed in args.seeds:
            run = student(args.data, teachers, seed, args.weight, args.temperature, work)
            print(f"student seed {seed} (weight {args.weight:g}, temperature {args.temperature:g}): valid F1 "
                  f"{100 * run['valid_f1']:.2f}, test F1 {100 * run['test_f1']:.2f}, {run['minutes']} min "
                  f"({run['epochs_run']} epochs, median {run['epoch_seconds_median']} s)", flush=True)
            result["runs"] = [r for r in result["runs"] if (r["seed"], r["weight"], r["temperature"])
                              != (seed, args.weight, args.temperature)] + [run]
            summarise(result)
            result.update(versions=versions(), machine=machine(), date=time.strftime("%Y-%m-%d"))
            args.out.write_text(json.dumps(result, indent=1) + "\n")
    for row in result["settings"]:
        print(f"weight {row['weight']:g}, temperature {row['temperature']:g}, seeds {row['seeds']}: valid "
              f"{row['valid_f1']['mean']:.2f} ± {row['valid_f1']['std']:.2f}, test {row['test_f1']['mean']:.2f} "
              f"± {row['test_f1']['std']:.2f}")
    print(f"teachers' test F1 {result['teachers_test_f1']['mean']:.2f}; selected setting "
          f"{result['selected_setting']}: students' test F1 {result['students_test_f1']['mean']:.2f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
