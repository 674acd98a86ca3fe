"""BRAT standoff: a document is `NAME.txt` and `NAME.ann`, whose `T` lines are its entities.

`T1<TAB>LABEL START END<TAB>text`, offsets in characters of the `.txt` file. A
discontinuous entity (`0 5;10 15`) cannot be tags on consecutive tokens: it is left
out, counted, as are relations (R), events (E), attributes (A, M), normalisations
(N), equivalences (*) and notes (#), which a tagger does not learn.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ...errors import InputError
from ..corpus import Record
from .align import Span, align
from .options import SpanOptions

OTHER_KINDS = {"R": "relations", "E": "events", "A": "attributes", "M": "attributes", "N": "normalisations",
               "*": "equivalences", "#": "notes"}


def brat_documents(path: str) -> list[Path]:
    """The `.ann` files of a folder (recursed, sorted), or the one given."""
    given = Path(path)
    if given.is_dir():
        found = sorted(p for p in given.rglob("*.ann") if not p.name.startswith("."))
        if not found:
            raise InputError("holds no .ann files (BRAT standoff)", path)
        return found
    if given.suffix != ".ann":
        raise InputError("is not a BRAT .ann file or a folder of them", path)
    if not given.is_file():
        raise InputError("no such file", path)
    return [given]


def read_brat(path: str, options: SpanOptions, encoding: str = "utf-8") -> Iterator[Record]:
    """One labelled record per `.ann` file and its `.txt`."""
    for number, ann in enumerate(brat_documents(path), start=1):
        text_file = ann.with_suffix(".txt")
        if not text_file.is_file():
            raise InputError(f"has no text beside it ({text_file.name})", ann)
        try:
            text = text_file.read_bytes().decode(encoding)
            lines = ann.read_bytes().decode(encoding).splitlines()
        except UnicodeDecodeError:
            raise InputError(f"not valid {encoding}; pass --encoding if the files use another one", ann) from None
        spans = []
        for line_number, line in enumerate(lines, start=1):
            span = _entity(line, str(ann), line_number, options)
            if span is not None:
                spans.append(span)
        sentences, gold = align(text, spans, str(ann), options.report, options.mapping, options.strict, str(ann), 1)
        yield Record(str(ann), number, sentences, text=text, fields={"id": ann.stem}, gold_spans=gold)


def _entity(line: str, name: str, number: int, options: SpanOptions) -> Span | None:
    if not line.strip():
        return None
    kind = line[0]
    if kind != "T":
        if kind not in OTHER_KINDS:
            raise InputError(f"not a BRAT annotation line: {line[:60]!r}", name, number)
        options.report.skip(f"BRAT {OTHER_KINDS[kind]}, not read")
        return None
    parts = line.split("\t")
    if len(parts) < 2:
        raise InputError(f"a T line needs tab-separated ID, 'LABEL START END' and text: {line[:60]!r}", name, number)
    label, _, offsets = parts[1].partition(" ")
    if ";" in offsets:
        options.report.skip("discontinuous BRAT entities (START END;START END), left out")
        return None
    try:
        start, end = (int(v) for v in offsets.split())
    except ValueError:
        raise InputError(f"expected 'LABEL START END', found {parts[1]!r}", name, number) from None
    stated = parts[2] if len(parts) > 2 else None
    return Span(start, end, label, stated)


def ann_text(text: str, spans: list[Span]) -> str:
    """The `.ann` file of `spans` over `text`."""
    return "".join(f"T{i}\t{s.label} {s.start} {s.end}\t{text[s.start : s.end]}\n" for i, s in enumerate(spans, 1))
