"""Labelled data in the formats annotation tools write: one reader per format, all yielding `Record`s
whose sentences carry IOB2 tags (and, for span formats, the gold character spans).

| format      | what                                                          | reader            |
|-------------|---------------------------------------------------------------|-------------------|
| conll       | token and tag columns, `-DOCSTART-` documents                  | `corpus`          |
| jsonl       | doccano, Prodigy/spaCy spans, our `tag` output, tokens + tags  | `formats.jsonl`   |
| labelstudio | Label Studio JSON and JSON-MIN exports                         | `formats.labelstudio` |
| brat        | BRAT standoff, a folder of `.txt` + `.ann` (or one `.ann`)     | `formats.brat`    |
| spacy       | spaCy v3 DocBin (`.spacy`), with `ner-lstm[spacy]`             | `formats.docbin`  |

`train`, `evaluate`, `convert` and `tag` all read through `labelled_records`.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ...errors import InputError, UsageError
from ..corpus import Record, Sentence, conll_documents, conll_sentences, convert_corpus
from ..lines import decoded_lines, open_input
from .align import AlignmentReport, Span, map_tags, parse_label_map
from .options import SpanOptions

LABELLED_FORMATS = ("auto", "conll", "jsonl", "labelstudio", "brat", "spacy")

__all__ = ["LABELLED_FORMATS", "AlignmentReport", "Span", "SpanOptions", "convert_files", "labelled_format",
           "labelled_records", "parse_label_map", "read_labelled", "read_labelled_records"]


def labelled_format(path: str, given: str = "auto", encoding: str = "utf-8") -> str:
    """The format of a labelled input: `given`, or found from its name and first bytes."""
    if given != "auto":
        if given not in LABELLED_FORMATS:
            raise UsageError(f"unknown input format {given!r}; choose one of {', '.join(LABELLED_FORMATS)}")
        return given
    p = Path(path)
    if p.is_dir():
        if any(p.rglob("*.ann")):
            return "brat"
        raise InputError("is a directory; expected a file (or a folder of BRAT .ann files)", path)
    suffix = p.suffix.lower()
    if suffix == ".ann":
        return "brat"
    if suffix == ".spacy":
        return "spacy"
    if not p.is_file():  # a pipe is read once: not ahead of its reader
        return "jsonl" if suffix in (".jsonl", ".ndjson") else "labelstudio" if suffix == ".json" else "conll"
    with open_input(p, encoding) as handle:
        raw = handle.peek(4096)[:4096]  # type: ignore[attr-defined]
    head = raw.decode(encoding, "ignore").lstrip("\ufeff \t\r\n")  # a cut character at the end is dropped
    if head.startswith("["):
        return "labelstudio"
    if head.startswith("{"):
        first_line = head.split("\n", 1)[0].strip()
        return "jsonl" if first_line.endswith("}") or suffix in (".jsonl", ".ndjson") else "labelstudio"
    return "conll"


def labelled_records(path: str, input_format: str = "auto", options: SpanOptions | None = None,
                     tag_column: int = -1, encoding: str = "utf-8") -> Iterator[Record]:
    """The labelled records (documents) of one input, in its format."""
    options = options or SpanOptions()
    chosen = labelled_format(path, input_format, encoding)
    if chosen == "labelstudio":
        from .labelstudio import read_labelstudio

        yield from read_labelstudio(path, options, encoding)
    elif chosen == "brat":
        from .brat import read_brat

        yield from read_brat(path, options, encoding)
    elif chosen == "spacy":
        from .docbin import read_docbin

        yield from read_docbin(path, options)
    else:
        with open_input(Path(path), encoding) as handle:
            lines = decoded_lines(handle, path, encoding)
            if chosen == "jsonl":
                from .jsonl import read_labelled_jsonl

                yield from read_labelled_jsonl(lines, path, options)
            else:
                yield from _conll_records(lines, path, tag_column, options)


def _conll_records(lines, path: str, tag_column: int, options: SpanOptions) -> Iterator[Record]:
    for document in conll_documents(conll_sentences(lines, path, tag_column)):
        for sentence in document:
            sentence.tags = map_tags(sentence.tags or [], options.mapping, f"{path}:{sentence.line}")
        yield Record(path, document[0].line, document)


def read_labelled_records(path: str, input_format: str = "auto", options: SpanOptions | None = None,
                          tag_column: int = -1, encoding: str = "utf-8") -> list[Record]:
    """Every record of a labelled input, its sentences' tags in IOB2; an input without a sentence is an error."""
    records = list(labelled_records(path, input_format, options, tag_column, encoding))
    sentences = [s for record in records for s in record.sentences if len(s)]
    if not sentences:
        raise InputError("contains no sentences", path)
    convert_corpus(sentences)
    return records


def read_labelled(path: str, input_format: str = "auto", options: SpanOptions | None = None, tag_column: int = -1,
                  encoding: str = "utf-8") -> list[Sentence]:
    """Every non-empty sentence of a labelled input, tags in IOB2 (what training and scoring read)."""
    return [s for record in read_labelled_records(path, input_format, options, tag_column, encoding)
            for s in record.sentences if len(s)]



def convert_files(inputs: list[str], output: Path, to: str, input_format: str = "auto",
                  options: SpanOptions | None = None, overwrite: bool = False, tag_column: int = -1,
                  encoding: str = "utf-8") -> dict:
    """Read every input in its format and write all its records to `output` in format `to` (`ner-lstm convert`)."""
    from .writers import write_converted

    options = options or SpanOptions()
    resolved = {Path(name).resolve() for name in inputs}
    if output.resolve() in resolved:
        raise UsageError(f"{output}: is an input; refusing to overwrite it (choose another -o)")
    if output.exists() and not overwrite:
        raise UsageError(f"{output}: already exists; pass --overwrite to replace it")
    records: list[Record] = []
    for name in inputs:
        options.report = AlignmentReport()
        records += labelled_records(name, input_format, options, tag_column, encoding)
        options.report.announce(name)
    if not records:
        raise InputError("no records to convert", inputs[0])
    write_converted(records, output, to)
    sentences = [s for r in records for s in r.sentences]
    return {"records": len(records), "sentences": len(sentences),
            "entities": sum(t.startswith("B-") for s in sentences for t in s.tags or [])}
