"""Label Studio: its JSON export read as labelled records, and tasks written for import.

The JSON export is a list of tasks: `data` holds the text (under `text`, or the one
string field there, or `--text-field`), `annotations` (`completions` in exports
before 1.0) each a `result` list whose `labels` regions give `value.start/end/labels`.
As Label Studio's own converter does, the latest annotation (by `created_at`) that
was not cancelled is the one read; `predictions` are not annotations and are ignored.
A task with no annotation left is left out, counted. The JSON-MIN export (one flat row
per annotation, regions under the control's name, absent where it has none) is read too, the latest
row per task.
Offsets are Python string indices (code points); Label Studio's browser side counts
UTF-16 units, so a region after an emoji whose text does not match is read again in
those units before it counts as a mismatch.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...errors import InputError
from ..corpus import Record
from ..lines import parse_json
from .align import Span, align
from .options import SpanOptions

FROM_NAME, TO_NAME = "label", "text"


def read_labelstudio(path: str, options: SpanOptions, encoding: str = "utf-8") -> Iterator[Record]:
    """Labelled records of a Label Studio JSON or JSON-MIN export."""
    tasks = _load(path, encoding)
    if all(isinstance(t, dict) and "data" in t for t in tasks):
        for index, task in enumerate(tasks, start=1):
            record = _task_record(task, path, index, options)
            if record is not None:
                yield record
        return
    yield from _min_records(tasks, path, options)


def _load(path: str, encoding: str) -> list:
    try:
        data = parse_json(Path(path).read_text(encoding))
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON ({err.msg} at column {err.colno})", path, err.lineno) from None
    except UnicodeDecodeError:
        raise InputError(f"not valid {encoding}; pass --encoding if the file uses another one", path) from None
    if isinstance(data, dict) and "data" in data:
        data = [data]  # one task, as Label Studio also imports
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        raise InputError("not a Label Studio export: expected a JSON list of tasks", path)
    return data


def _where(path: str, index: int, task: dict) -> str:
    return f"{path}[task {task.get('id', index)}]"


def _text(data: Any, where: str, field: str | None) -> str:
    if not isinstance(data, dict):
        raise InputError(f"{where}: 'data' is not an object")
    if field is not None:
        if not isinstance(data.get(field), str):
            raise InputError(f"{where}: no text field {field!r} in 'data' (fields: {', '.join(data)})")
        return data[field]
    if isinstance(data.get("text"), str):
        return data["text"]
    strings = [k for k, v in data.items() if isinstance(v, str)]
    if len(strings) != 1:
        raise InputError(f"{where}: cannot tell which of the data fields ({', '.join(data)}) holds the text; "
                         "name it with --text-field")
    return data[strings[0]]


def _task_record(task: dict, path: str, index: int, options: SpanOptions) -> Record | None:
    where = _where(path, index, task)
    text = _text(task["data"], where, options.text_field)
    annotations = task.get("annotations", task.get("completions"))
    if annotations is None:
        raise InputError(f"{where}: a task without 'annotations' (is this an import file of tasks, not an export?)")
    kept = [a for a in annotations if isinstance(a, dict) and not (a.get("was_cancelled") or a.get("skipped"))]
    if not kept:
        options.report.skip("tasks with no annotation that was not cancelled, left out")
        return None
    if len(kept) > 1:
        options.report.skip("annotations older than a task's latest, not read (several annotators)", len(kept) - 1)
    latest = max(kept, key=lambda a: (str(a.get("created_at") or ""), a.get("id") or 0))
    regions = [r for r in latest.get("result") or [] if isinstance(r, dict)]
    others = [r for r in regions if r.get("type") != "labels"]
    if others:
        options.report.skip("regions of other kinds (choices, relations, text areas), not read", len(others))
    values = [r.get("value") for r in regions if r.get("type") == "labels"]
    return _record(text, values, where, path, index, options, {"id": task.get("id", index)})


def _min_records(rows: list[dict], path: str, options: SpanOptions) -> Iterator[Record]:
    """JSON-MIN: a row per annotation; the latest row of each task id is read."""
    latest: dict[Any, tuple[int, dict]] = {}
    for index, row in enumerate(rows, start=1):
        key = row.get("id", index)
        if key in latest:
            options.report.skip("annotations older than a task's latest, not read (several annotators)")
            if str(row.get("created_at") or "") < str(latest[key][1].get("created_at") or ""):
                continue
        latest[key] = (index, row)
    for index, row in sorted(latest.values(), key=lambda pair: pair[0]):
        where = _where(path, index, row)
        regions = [name for name, value in row.items() if _is_regions(value)]
        if len(regions) > 1:
            raise InputError(f"{where}: several fields of regions ({', '.join(regions)}); keep one labelling control")
        if not regions and "annotation_id" not in row:
            raise InputError(f"{where}: not a Label Studio JSON or JSON-MIN row (no 'data', no list of regions)")
        data = {k: v for k, v in row.items() if isinstance(v, str) and k not in ("created_at", "updated_at")}
        text = _text(data, where, options.text_field)
        values = row[regions[0]] if regions else []  # an annotation with no entity has no regions field
        yield _record(text, values, where, path, index, options, {"id": row.get("id", index)})


def _is_regions(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and "start" in v for v in value)


def _record(text: str, values: list, where: str, path: str, index: int, options: SpanOptions, fields: dict) -> Record:
    spans = []
    for value in values:
        if not isinstance(value, dict) or not isinstance(value.get("start"), int) \
                or not isinstance(value.get("end"), int) or not isinstance(value.get("labels"), list):
            raise InputError(f"{where}: a labels region without integer start/end and a list of labels: "
                             f"{json.dumps(value)[:80]}")
        if len(value["labels"]) != 1:
            options.report.skip("regions with several labels at once, not read")
            continue
        span = Span(value["start"], value["end"], str(value["labels"][0]), value.get("text"))
        spans.append(_code_points(text, span))
    sentences, gold = align(text, spans, where, options.report, options.mapping, options.strict, path, index)
    return Record(path, index, sentences, text=text, fields=fields, gold_spans=gold)


def _code_points(text: str, span: Span) -> Span:
    """A region counted in UTF-16 units (text after an emoji) as code points, where that makes its text match."""
    if span.text is None or text[span.start : span.end] == span.text or text.isascii():
        return span
    units = text.encode("utf-16-le")
    try:
        start = len(units[: 2 * span.start].decode("utf-16-le"))
        end = len(units[: 2 * span.end].decode("utf-16-le"))
    except UnicodeDecodeError:  # an offset inside a surrogate pair: not UTF-16 units after all
        return span
    return Span(start, end, span.label, span.text) if text[start:end] == span.text else span


def task_json(text: str, spans: list[Span], fields: dict, kind: str = "annotations", scores: list[float] | None = None,
              model_version: str = "") -> dict:
    """One Label Studio task: the text under `data.text`, the spans as `labels` regions of an annotation (what
    `convert` writes) or of a prediction with scores (`tag`'s pre-annotations)."""
    result = []
    for i, span in enumerate(spans):
        region = {"id": f"r{i}", "from_name": FROM_NAME, "to_name": TO_NAME, "type": "labels",
                  "value": {"start": span.start, "end": span.end, "text": text[span.start : span.end],
                            "labels": [span.label]}}
        if scores is not None:
            region["score"] = scores[i]
        result.append(region)
    task: dict = {"data": {"text": text, **{k: v for k, v in fields.items() if k != "text"}}}
    if kind == "predictions":
        overall = min(scores) if scores else 1.0
        task["predictions"] = [{"model_version": model_version, "score": overall, "result": result}]
    else:
        task["annotations"] = [{"result": result}]
    return task


def labelling_config(labels: list[str]) -> str:
    """The labelling interface these tasks fit (paste it into the project's settings)."""
    tags = "".join(f'<Label value="{label}"/>' for label in labels)
    return (f'<View><Labels name="{FROM_NAME}" toName="{TO_NAME}">{tags}</Labels>'
            f'<Text name="{TO_NAME}" value="$text"/></View>')
