"""`report.html`: the report as one self-contained page (figures as inline SVG, no script, nothing fetched)."""
from __future__ import annotations

import html
import io
from collections.abc import Sequence

from ..extras import require


def render(report: dict) -> str:
    require("report", "evaluate --report")
    parts = [_head(report), _scores(report["scores"]), _semeval(report["semeval"]),
             _confusion(report["confusion"]), _calibration(report["calibration"]), _errors(report)]
    return "\n".join(parts) + "\n</body></html>"


def _head(report: dict) -> str:
    title = f"ner-lstm report: {report.get('model', '')} on {report.get('data', '')}"
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title><style>"
            "body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:"
            ".5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-"
            "child{text-align:left}table[id^=errors-] td{text-align:left}figure{margin:0}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{report['scores']['support']} gold entities; "
            f"{report['calibration']['entities']} predicted. Scores are entity-level on tokens.</p>")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], table_id: str = "") -> str:
    ident = f' id="{table_id}"' if table_id else ""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table{ident}><tr>{head}</tr>{body}</table>"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{100 * value:.2f}" if value <= 1 else f"{value:.2f}"
    return "" if value is None else str(value)


def _scores(scores: dict) -> str:
    rows = [(label, v["precision"], v["recall"], v["f1"], scores["strict"]["per_type"].get(label, {}).get("f1", 0.0),
             v["support"]) for label, v in sorted(scores["per_type"].items())]
    rows.append(("overall", scores["precision"], scores["recall"], scores["f1"], scores["strict"]["f1"],
                 scores["support"]))
    return ("<h2>Scores per type</h2><p>Precision, recall and F1 (%), conlleval-compatible; strict F1 is "
            "seqeval's strict IOB2.</p>" + _table(("type", "precision", "recall", "F1", "strict F1", "support"), rows,
                                                  "scores"))


def _semeval(modes: dict) -> str:
    rows = []
    for mode, found in modes.items():
        for label, v in [*sorted(found["per_type"].items()), ("overall", found["overall"])]:
            rows.append((mode, label, v["correct"], v["incorrect"], v["partial"], v["missed"], v["spurious"],
                         v["precision"], v["recall"], v["f1"]))
    header = ("mode", "type", "correct", "incorrect", "partial", "missed", "spurious", "precision", "recall", "F1")
    return ("<h2>SemEval 2013 modes</h2><p>As the nervaluate library counts them: strict (span and type), exact "
            "boundary (span), partial boundary (overlap counts half), type (overlap and type).</p>"
            + _table(header, rows, "semeval"))


def _confusion(matrix: dict) -> str:
    rows = [(row, *counts) for row, counts in zip(matrix["rows"], matrix["counts"])]
    return ("<h2>Confusion of entity types</h2><p>Rows: gold type (spurious: predictions with no gold). Columns: "
            f"predicted type (missed: gold with no prediction). {html.escape(matrix['matching'])}.</p>"
            + _table(("gold \\ predicted", *matrix["columns"]), rows, "confusion")
            + _figure(_heat_map(matrix), "confusion-figure"))


def _calibration(found: dict) -> str:
    at = [(f"{t['threshold']:g}", t["precision"], t["coverage"], t["recall"]) for t in found["thresholds"]]
    return (f"<h2>Calibration of entity scores</h2><p>An entity is right when its span and type are a gold "
            f"entity's. ECE ({len(found['bins'])} equal-width bins): <b id=ece>{found['ece']:.4f}</b>; Brier score: "
            f"{found['brier'] if found['brier'] is None else format(found['brier'], '.4f')}; "
            f"right: {_cell(found['accuracy'])}% of {found['entities']} entities.</p>"
            + _table(("score at least", "precision", "coverage", "recall"), at, "thresholds")
            + _figure(_reliability(found), "reliability-figure"))


def _errors(report: dict) -> str:
    parts = ["<h2>Worst errors</h2><p>Per kind, the errors the model was surest of (for a missed entity, its "
             "confidence in what it tagged there instead).</p>",
             _table(("kind", "count"), list(report["error_counts"].items()), "error-counts")]
    for kind, items in report["errors"].items():
        rows = [(item["where"], _span(item["gold"]), _span(item["predicted"]), f"{item['score']:.4f}",
                 item["sentence"]) for item in items]
        parts.append(f"<h3>{html.escape(kind)}</h3>" + _table(("where", "gold", "predicted", "score", "sentence"),
                                                                rows, "errors-" + kind.replace(" ", "-")))
    return "".join(parts)


def _span(span: dict | None) -> str:
    return "—" if span is None else f"{span['text']} ({span['label']})"


def _figure(svg: str, ident: str) -> str:
    return f'<figure id="{ident}">{svg}</figure>'


def _svg(figure) -> str:
    import matplotlib.pyplot as plt

    out = io.StringIO()
    figure.savefig(out, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = out.getvalue()
    return text[text.index("<svg"):]  # inline: no XML prolog or doctype


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"  # text stays text: smaller, searchable
    return plt


def _heat_map(matrix: dict) -> str:
    plt = _pyplot()
    counts = matrix["counts"]
    figure, axis = plt.subplots(figsize=(1.2 + 0.8 * len(matrix["columns"]), 1 + 0.6 * len(matrix["rows"])))
    axis.imshow(counts, cmap="Blues")
    axis.set_xticks(range(len(matrix["columns"])), matrix["columns"], rotation=45, ha="right")
    axis.set_yticks(range(len(matrix["rows"])), matrix["rows"])
    axis.set_xlabel("predicted")
    axis.set_ylabel("gold")
    top = max((v for row in counts for v in row), default=0)
    for i, row in enumerate(counts):
        for j, value in enumerate(row):
            axis.text(j, i, str(value), ha="center", va="center", color="white" if value > top / 2 else "black")
    return _svg(figure)


def _reliability(found: dict) -> str:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(5, 4.5))
    axis.plot([0, 1], [0, 1], "--", color="grey", label="calibrated")
    bins = [b for b in found["bins"] if b["count"]]
    axis.bar([(b["low"] + b["high"]) / 2 for b in bins], [b["accuracy"] for b in bins],
             width=[b["high"] - b["low"] for b in bins], edgecolor="black", alpha=0.7, label="share right")
    axis.plot([b["score"] for b in bins], [b["accuracy"] for b in bins], "o", color="tab:red", label="mean score")
    axis.set_xlabel("entity score")
    axis.set_ylabel("share of entities right")
    axis.set_title(f"reliability (ECE {found['ece']:.4f})")
    axis.legend(loc="upper left")
    return _svg(figure)
