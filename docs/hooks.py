"""MkDocs hook: the Results pages, generated at every build from `benchmarks/results/*.json`.

Each page is tables and matplotlib figures made from the benchmark files as they are now,
so re-running a benchmark updates its page; every figure names the machine and date it was
measured on. Nothing here is copied by hand from a result.
"""
from __future__ import annotations

import datetime
import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from mkdocs.structure.files import File, Files

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
ABLATIONS = {"accuracy.json": "defaults", "accuracy-batch16.json": "--batch-size 16",
             "accuracy-lm0.json": "--lm-weight 0 (no neighbour-word loss)", "accuracy-noevidence.json": "--no-evidence",
             "accuracy-epochs40.json": "--epochs 40", "accuracy-final.json": "--final (train + valid, fixed epochs)"}


def _load(name: str) -> dict | None:
    path = RESULTS / name
    return json.loads(path.read_text("utf-8")) if path.is_file() else None


def _when(name: str, data: dict) -> str:
    """The machine and date of a result (a file, or one part of a file that records its own): the date
    recorded, else the date the file was committed."""
    machine = data.get("machine") or {}
    if isinstance(machine, dict):
        cores = machine.get("cpus_usable", machine.get("cores", "?"))
        where = ", ".join(filter(None, [machine.get("cpu"), f"{cores} cores",
                                        machine.get("platform", "unknown platform")]))
        date = machine.get("date") or data.get("date")
    else:
        where, date = str(machine), None
    return f"{where}; measured {date or _committed(RESULTS / name)}"


def _committed(path: Path) -> str:
    """The date the result file was last committed (a checkout gives every file today's modification time),
    or its modification date outside git or before its first commit."""
    found = subprocess.run(["git", "log", "-1", "--format=%cs", "--", path.name], cwd=path.parent,
                           capture_output=True, text=True)
    return found.stdout.strip() or datetime.date.fromtimestamp(path.stat().st_mtime).isoformat()


def _figure(draw: Callable, caption: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 3.4), dpi=110)
    draw(axes)
    figure.text(0.01, 0.01, caption, fontsize=7, color="#555")
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _distillation() -> list[str]:
    """The teachers, their ensemble and each distillation setting tried (`benchmarks/distill.py`)."""
    data = _load("accuracy-distill.json")
    if data is None:
        return []
    ensemble = data["ensemble"]
    rows = [[f"teacher, seed {t['seed']}", f"{100 * t['test_f1']:.2f}", f"{100 * t['valid_f1']:.2f}", t["minutes"]]
            for t in data["teachers"]]
    rows.append([f"their ensemble (averaged marginals; {len(data['teachers'])}x the tagging cost)",
                 f"{100 * ensemble['test_f1']:.2f}", f"{100 * ensemble['valid_f1']:.2f}", ""])
    rows += [[f"student, weight {r['weight']:g}, temperature {r['temperature']:g}, seed {r['seed']}",
              f"{100 * r['test_f1']:.2f}", f"{100 * r['valid_f1']:.2f}", r["minutes"]] for r in data["runs"]]
    chosen = data["selected_setting"]
    return ["## Distillation\n",
            "Students of the same network trained on the gold tags plus the teachers' averaged token posteriors "
            f"(`benchmarks/distill.py`); the setting is chosen on valid: weight {chosen['weight']:g}, temperature "
            f"{chosen['temperature']:g}, students' test F1 **{data['students_test_f1']['mean']:.2f} ± "
            f"{data['students_test_f1']['std']:.2f}** against the teachers' {data['teachers_test_f1']['mean']:.2f}. "
            f"{_when('accuracy-distill.json', data)}.\n",
            _table(["model", "test F1", "valid F1", "training minutes"], rows)]


def accuracy() -> tuple[str, dict[str, bytes]]:
    main = _load("accuracy.json")
    if main is None:
        return "# Accuracy\n\nNo `benchmarks/results/accuracy.json` yet: run `make bench-accuracy`.\n", {}
    test, valid = main["test_f1"], main["valid_f1"]
    text = ["# Accuracy: CoNLL-2003 English\n",
            f"{main.get('benchmark', '')}; {main.get('metric', '')}. Seeds {', '.join(map(str, main['seeds']))}.\n",
            f"**Test F1 {test['mean']:.2f} ± {test['stdev']:.2f}** (valid {valid['mean']:.2f} ± {valid['stdev']:.2f}), "
            f"{main['minutes_to_selected_model']['median']:.1f} minutes to the selected model (median), peak RSS "
            f"{main['peak_rss_mb']['median']:.0f} MB. {_when('accuracy.json', main)}.\n",
            "![Test F1 per seed](img/accuracy.png)\n", "## Per seed\n",
            _table(["seed", "test F1", "valid F1", "selected epoch", "epochs run", "minutes to selected"],
                   [[r["seed"], f"{100 * r['test_f1']:.2f}", f"{100 * r['valid_f1']:.2f}", r.get("selected_epoch", ""),
                     r.get("epochs_run", ""), r.get("minutes_to_selected_model", "")] for r in main["runs"]]),
            "## Per type (mean over seeds)\n"]
    types = sorted(main["runs"][0].get("test_per_type_f1", {}))
    text.append(_table(["type", "test F1"], [[t, f"{100 * sum(r['test_per_type_f1'][t] for r in main['runs']) / len(main['runs']):.2f}"]
                                            for t in types]))
    rows = []
    for name, setting in ABLATIONS.items():
        found = _load(name)
        if found is not None:
            rows.append([setting, f"{found['test_f1']['mean']:.2f} ± {found['test_f1']['stdev']:.2f}",
                         f"{found['valid_f1']['mean']:.2f}", len(found["seeds"]), f"`{name}`"])
    text += ["## Settings compared\n", "Each row is `benchmarks/accuracy.py` with one option changed, over its seeds.\n",
             _table(["setting", "test F1", "valid F1", "seeds", "file"], rows), *_distillation()]

    def draw(axes):
        seeds = [r["seed"] for r in main["runs"]]
        axes.bar([str(s) for s in seeds], [100 * r["test_f1"] for r in main["runs"]], color="#4c72b0", label="test")
        axes.axhline(test["mean"], color="#c44e52", linestyle="--", label=f"mean {test['mean']:.2f}")
        low = min(100 * r["test_f1"] for r in main["runs"])
        axes.set_ylim(low - 1, low + 1.5)
        axes.set_xlabel("seed")
        axes.set_ylabel("test entity F1 (%)")
        axes.legend(loc="upper right", fontsize=8)

    figures = {"accuracy.png": _figure(draw, _when("accuracy.json", main))}
    curves = [r for r in main["runs"] if r.get("history")]
    text.append("## Training curves\n")
    if curves:
        def draw_curves(axes):
            for run in curves:
                axes.plot([e["epoch"] for e in run["history"]], [100 * e["dev_f1"] for e in run["history"]],
                          marker=".", label=f"seed {run['seed']}")
            axes.set_xlabel("epoch")
            axes.set_ylabel("valid entity F1 (%)")
            axes.legend(fontsize=8)

        figures["curves.png"] = _figure(draw_curves, _when("accuracy.json", main))
        text.append("![Valid F1 per epoch](img/curves.png)\n")
    else:
        text.append("This `accuracy.json` predates the per-epoch history; the next `make bench-accuracy` records it "
                    "and the curves appear here.\n")
    return "\n".join(text), figures


def speed() -> tuple[str, dict[str, bytes]]:
    data = _load("throughput.json")
    if data is None or "throughput" not in data:
        return "# Speed and memory\n\nNo `benchmarks/results/throughput.json` yet: run `make bench-speed`.\n", {}
    rates = data["throughput"]["tokens_per_s"]
    text = ["# Speed and memory\n",
            f"Tagging {data['throughput']['tokens']:,} tokens ({data['throughput']['sentences']:,} distinct CoNLL-2003 "
            f"sentences), whole process against whole process, median of {data['throughput']['runs']} runs. "
            f"{_when('throughput.json', _part(data, 'throughput'))}.\n", "![Tokens per second](img/speed.png)\n",
            _table(["setting", "tokens/s"], [[name, f"{rate:,}"] for name, rate in rates.items()]),
            f"ner-lstm is **{data['throughput']['ratio_to_spacy_best']}x** spaCy's best setting here.\n"]
    text += _races(data)
    if "cold_start" in data:
        c = data["cold_start"]
        text += ["## Cold start\n", f"{_when('throughput.json', _part(data, 'cold_start'))}.\n", _table(["", "median seconds"], [["ner-lstm predict", c["ner_lstm_median_s"]],
                                                                    ["spaCy load + tag", c["spacy_median_s"]]])]
    if "load_check" in data:
        c = data["load_check"]
        text += ["## Checking the model at load\n",
                 _table(["", "ms"], [[f"every load ({c['hashed_at_load_mb']} of {c['model_mb']} MB hashed)", c["every_load_ms"]],
                                     ["`info --verify` (every file hashed)", c["verify_all_ms"]]])]
    if "memory" in data:
        text += ["## Memory\n", f"{_when('throughput.json', _part(data, 'memory'))}.\n",
                 _table(["text tagged", "peak PSS MB", "peak RSS MB", "seconds"],
                        [[size, m["peak_pss_mb"], m["peak_rss_mb"], m["seconds"]]
                         for size, m in data["memory"].items() if isinstance(m, dict) and "peak_pss_mb" in m])]
    if "footprint" in data:
        text += ["## Footprint\n", _table(["", "MB"], [[k, v] for k, v in data["footprint"].items()
                                                      if isinstance(v, (int, float))])]

    def draw(axes):
        names = list(rates)
        axes.barh(names, [rates[n] for n in names], color=["#4c72b0" if n.startswith("ner") else "#dd8452" for n in names])
        axes.set_xlabel("tokens per second")

    return "\n".join(text), {"speed.png": _figure(draw, _when("throughput.json", _part(data, "throughput")))}


def _part(data: dict, name: str) -> dict:
    """One part of a result file, with the file's machine where the part records none."""
    return {"machine": data.get("machine"), **data[name]}


def _races(data: dict) -> list[str]:
    """The pre-tokenised documents and the raw-text layouts, each against spaCy and against tokens."""
    text = []
    if "documents" in data:
        d = data["documents"]
        text += ["## Pre-tokenised, with documents\n",
                 f"Every CoNLL-2003 token ({d['tokens']:,}) with its {d['documents']:,} `-DOCSTART-` documents, "
                 f"median of {d['runs']} runs. {_when('throughput.json', _part(data, 'documents'))}.\n",
                 _table(["setting", "tokens/s"], [[name, f"{rate:,}"] for name, rate in d["tokens_per_s"].items()]),
                 f"ner-lstm is **{d['ratio_to_spacy_best']}x** spaCy's best setting here.\n"]
    raw = {k: v for k, v in data.get("rawtext", {}).items() if isinstance(v, dict) and "tokens_per_s" in v}
    if raw:
        text += ["## Raw text\n", "The same sentences detokenised (Moses): a sentence a line, and a document a "
                 "JSONL record; the rates count the CoNLL tokens they were made from, for every tool. "
                 "`ner_lstm_pre_tokenised` tags those tokens as CoNLL in the same rounds. "
                 f"{_when('throughput.json', _part(data, 'rawtext'))}.\n",
                 _table(["layout", "ner-lstm", "--processes 2", "pre-tokenised", "raw / pre-tokenised", "spaCy best",
                         "ratio to spaCy"],
                        [[layout.replace("_", " "), f"{r['tokens_per_s']['ner_lstm']:,}",
                          f"{r['tokens_per_s']['ner_lstm_processes_2']:,}",
                          f"{r['tokens_per_s']['ner_lstm_pre_tokenised']:,}", r["raw_to_pre_tokenised"],
                          f"{r['spacy_best_tokens_per_s']:,}", f"**{r['ratio_to_spacy_best']}x**"]
                         for layout, r in raw.items()])]
    alone = data.get("rawtext", {}).get("tokeniser")
    if alone:
        text += ["### The tokeniser alone\n", "`split_text` in one process against syntok reading every paragraph "
                 "whole, as it did before it ran only where it decides something; both give the same sentences and "
                 "tokens (checked on every record).\n",
                 _table(["layout", "tokens/s", "syntok whole", "speed-up", "same output"],
                        [[layout.replace("_", " "), f"{t['tokens_per_s']:,}", f"{t['syntok_whole_tokens_per_s']:,}",
                          f"{t['speedup']}x", t["same_sentences_and_tokens"]] for layout, t in alone.items()])]
    return text


def serving() -> tuple[str, dict[str, bytes]]:
    data, hostile = _load("serve.json"), _load("serve-overload.json")
    text, figures = ["# Serving\n"], {}
    if data is not None:
        levels = data["levels"]
        text += ["One CoNLL-2003 test sentence (raw text) per request, an aiohttp load process on the same cores, "
                 f"loopback. {_when('serve.json', data)}.\n", "![Latency per concurrency](img/serving.png)\n",
                 _table(["concurrency", "requests/s", "p50 ms", "p99 ms", "errors", "server PSS MB start -> end"],
                        [[lv["concurrency"], lv["requests_per_s"], lv["p50_ms"], lv["p99_ms"], lv["errors"],
                          f"{lv['server_pss_mb_start']} -> {lv['server_pss_mb_end']}"] for lv in levels])]

        def draw(axes):
            concurrency = [lv["concurrency"] for lv in levels]
            axes.plot(concurrency, [lv["p50_ms"] for lv in levels], marker="o", label="p50")
            axes.plot(concurrency, [lv["p99_ms"] for lv in levels], marker="o", label="p99")
            axes.set_xscale("log", base=2)
            axes.set_xlabel("concurrent clients")
            axes.set_ylabel("latency (ms)")
            axes.legend(fontsize=8)

        figures["serving.png"] = _figure(draw, _when("serve.json", data))
    if hostile is not None:
        text.append("## Under overload\n")
        if "overload" in hostile:
            o = hostile["overload"]
            text += [f"`{o['command']}`: {o['concurrency']} clients for {o['seconds']} s, each sending "
                     f"{o['sentences_per_request']} sentences per request. {_when('serve-overload.json', o)}.\n",
                     _table(["accepted", "refused (503)", "other errors", "accepted p50 ms", "accepted p99 ms",
                             "server PSS MB start -> end (peak)"],
                            [[o["requests"], o["refused_503"], o["errors"], o["p50_ms"], o["p99_ms"],
                              f"{o['server_pss_mb_start']} -> {o['server_pss_mb_end']} ({o['server_pss_mb_peak']})"]])]
        if "health_during_maximal_request" in hostile:
            h = hostile["health_during_maximal_request"]
            text.append(f"`/health` asked every 50 ms while one request of {h['request_sentences']} sentences was "
                        f"tagged ({h['request_seconds']} s, status {h['request_status']}): p50 {h['health_p50_ms']} ms, "
                        f"max {h['health_max_ms']} ms over {h['health_checks']} checks.\n")
        if "soak" in hostile:
            s = hostile["soak"]
            text += [f"## Soak\n\n{s['concurrency']} clients for {s['seconds']} s: {s['requests']:,} requests, "
                     f"{s['errors']} errors, p99 {s['p99_ms']} ms; server PSS median "
                     f"{s['pss_mb_median_first_minute']} MB in the first minute, {s['pss_mb_median_last_minute']} MB "
                     f"in the last. {_when('serve-overload.json', s)}.\n", "![Server memory during the soak](img/soak.png)\n"]

            def draw_soak(axes):
                memory = s["server_pss_mb_every_half_second"]
                axes.plot([i / 2 for i in range(len(memory))], memory, linewidth=0.8)
                axes.set_xlabel("seconds")
                axes.set_ylabel("server PSS (MB)")
                axes.set_ylim(0, max(memory) * 1.2)

            figures["soak.png"] = _figure(draw_soak, _when("serve-overload.json", s))
    return "\n".join(text), figures


def cluster() -> tuple[str, dict[str, bytes]]:
    data = _load("cluster.json")
    if data is None:
        return "# On a cluster\n\nNo `benchmarks/results/cluster.json` yet: run `make bench-cluster`.\n", {}
    rates = data["tokens_per_s"]
    corpus = data.get("corpus", {})
    text = ["# On a cluster\n",
            f"`tag` on {corpus.get('files', '?')} files ({corpus.get('records', '?'):,} records) with the local engine "
            f"and with `--engine ray` on the same {data.get('cpus', '?')} CPUs, median of {data.get('runs', '?')} runs; "
            f"Ray {data.get('versions', {}).get('ray', '?')}. {_when('cluster.json', data)}.\n",
            "![Tokens per second per setting](img/cluster.png)\n",
            _table(["setting", "tokens/s", "ratio to local"], [[k, f"{v:,}", data["ratio_by_setting"].get(k, "")]
                                                           for k, v in rates.items()]),
            f"Starting a local Ray cluster takes {data.get('ray_cluster_start_median_s', '?')} s (median); a run that "
            f"starts its own took {data.get('ray_run_starting_its_own_cluster_s', '?')} s in all.\n"]

    def draw(axes):
        axes.barh(list(rates), list(rates.values()), color="#4c72b0")
        axes.set_xlabel("tokens per second")

    return "\n".join(text), {"cluster.png": _figure(draw, _when("cluster.json", data))}


def rawtext() -> tuple[str, dict[str, bytes]]:
    data = _load("rawtext.json")
    if data is None:
        return "# Raw text\n\nNo `benchmarks/results/rawtext.json` yet: run `make bench-rawtext`.\n", {}
    layouts = [k for k, v in data.items() if isinstance(v, dict) and "f1" in v]
    text = ["# Raw text against gold tokens\n", f"{data.get('benchmark', '')}. {_when('rawtext.json', data)}.\n",
            f"Gold tokens: F1 {data['gold_token_f1']}.\n",
            _table(["layout", "F1", "precision", "recall", "gap to gold tokens", "records tokenised as gold %"],
                   [[k.replace("_", " "), data[k]["f1"], data[k]["precision"], data[k]["recall"], data[k]["gap_f1"],
                     data[k]["records_tokenised_as_gold_percent"]] for k in layouts])]
    return "\n".join(text), {}


def formats() -> tuple[str, dict[str, bytes]]:
    text = ["# Your own data: formats and vectors\n"]
    for name in ("formats.json", "vectors.json"):
        data = _load(name)
        if data is not None:
            body = json.dumps({k: v for k, v in data.items() if k != "machine"}, indent=1, ensure_ascii=False)
            text += [f"## `{name}`\n", f"{_when(name, data)}.\n", f"```json\n{body}\n```\n"]
    return "\n".join(text), {}


def correcting() -> tuple[str, dict[str, bytes]]:
    """Calibration (with the reliability diagram), entity patterns' cost, continuing a model (--init-from)."""
    text, figures = ["# Understanding and correcting a model\n"], {}
    run = "python benchmarks/own_data.py {} --data ../shared/data/conll2003"
    data = _load("calibration.json")
    if data is None:
        text.append(f"No `benchmarks/results/calibration.json` yet: run `{run.format('calibration')} --model M`.\n")
    else:
        methods = data["methods"]
        text += ["## Calibrated scores\n", f"{data['benchmark']}. {_when('calibration.json', data)}. Target: test "
                 f"ECE <= {data['target_test_ece']}; the default method is `{data['default']}`.\n",
                 _table(["method", "temperature", "valid ECE", "test ECE", "test Brier", "test precision at 0.9",
                         "test coverage at 0.9"],
                        [[m, v["temperature"], v["valid"]["ece"], v["test"]["ece"], v["test"]["brier"],
                          v["test"]["thresholds"][1]["precision"], v["test"]["thresholds"][1]["coverage"]]
                         for m, v in methods.items()]),
                 "![reliability](img/reliability.png)\n"]

        def draw(axes) -> None:
            axes.plot([0, 1], [0, 1], "--", color="grey", label="calibrated")
            for method, style in (("none", "o-"), (data["default"], "s-")):
                bins = [b for b in methods[method]["test"]["bins"] if b["count"] >= 10]
                axes.plot([b["score"] for b in bins], [b["accuracy"] for b in bins], style,
                          label=f"{method} (test ECE {methods[method]['test']['ece']:.3f})")
            axes.set_xlabel("entity score (bins of 10 or more entities)")
            axes.set_ylabel("share right on test")
            axes.legend(loc="upper left", fontsize=8)

        figures["reliability.png"] = _figure(draw, _when("calibration.json", data))
    data = _load("patterns.json")
    if data is None:
        text.append(f"No `benchmarks/results/patterns.json` yet: run `{run.format('patterns')} --model M`.\n")
    else:
        text += ["## Entity patterns\n", f"{data['benchmark']}. {_when('patterns.json', data)}.\n",
                 f"The matcher alone: {data['matcher']['patterns']:,} patterns, {data['matcher']['tokens_per_second']:,}"
                 f" tokens/s ({data['matcher']['load_seconds']} s to load).\n",
                 "Whole `ner-lstm tag` processes (start-up and loading the patterns included):\n",
                 _table(["patterns", "median seconds", "tokens/s", "speed against none"],
                        [[k, v["median_seconds"], f"{v['tokens_per_second']:,}", v["speed_vs_none"]]
                         for k, v in data["tagging"].items()])]
        if "in_process" in data:
            text += ["`Tagger.tag` in one process, models loaded once (the steady cost of matching):\n",
                     _table(["patterns", "median seconds", "tokens/s", "speed against none"],
                            [[k, v["median_seconds"], f"{v['tokens_per_second']:,}", v["speed_vs_none"]]
                             for k, v in data["in_process"].items()])]
    data = _load("init-from.json")
    if data is None:
        text.append(f"No `benchmarks/results/init-from.json` yet: run `{run.format('init-from')} --scratch M`.\n")
    else:
        runs = data["runs"]
        base_real = runs["base_without_misc"]["real_valid_per_type_f1"]
        text += ["## Continuing a model (`train --init-from`)\n", f"{data['benchmark']}. {_when('init-from.json', data)}."
                 f" At most {data['epochs_limit']} epochs for the base and the continued run.\n",
                 _table(["model", "LOC", "MISC", "ORG", "PER", "epochs", "minutes", "median epoch s"],
                        [[name.replace("_", " "), *[round(100 * f.get(t, 0.0), 2) for t in ("LOC", "MISC", "ORG", "PER")],
                          runs[key]["epochs_run"], runs[key]["minutes_training"], runs[key]["median_epoch_seconds"]]
                         for name, key, f in (("base without MISC", "base_without_misc", base_real),
                                              ("continued with MISC", "continued", runs["continued"]["valid_per_type_f1"]),
                                              ("from scratch", "scratch", runs["scratch"]["valid_per_type_f1"]))]),
                 "Valid F1 per type (%). Old types' change from the base (points): "
                 + ", ".join(f"{t} {v:+.2f}" for t, v in data["old_types_f1_change_points"].items()) + ".\n"]
    return "\n".join(text), figures


PAGES = {"accuracy": accuracy, "speed": speed, "serving": serving, "cluster": cluster, "rawtext": rawtext,
         "formats": formats, "correcting": correcting}


def on_files(files: Files, config) -> Files:
    """Add the generated Results pages and their figures to the site."""
    for name, make in PAGES.items():
        page, figures = make()
        files.append(File.generated(config, f"results/{name}.md", content=page))
        for figure, data in figures.items():
            files.append(File.generated(config, f"results/img/{figure}", content=data))
    return files
