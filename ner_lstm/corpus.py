"""Reading labelled corpora into `Sentence` records, whatever their tag scheme.

Every reader yields the same record so that training, evaluation and tagging
share one data path. Tags are converted to IOB2 on the way in.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError

TAG_PATTERN = re.compile(r"^(O|[BIES]-[^\s]+)$")
DOCSTART = "-DOCSTART-"


@dataclass
class Sentence:
    """One sentence: its tokens, gold tags if known, and where it came from."""

    tokens: list[str]
    tags: list[str] | None = None
    offsets: list[tuple[int, int]] | None = None
    source: str = ""
    line: int = 0
    text: str | None = None

    def __len__(self) -> int:
        return len(self.tokens)


def _decode_line(raw: bytes, path: Path, lineno: int, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        raise InputError(
            f"not valid {encoding} at byte {err.start} of this line; pass --encoding if the file uses another one",
            path,
            lineno,
        ) from None


def _check_not_binary(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"\x1f\x8b"):
        raise InputError("is a gzip file; decompress it first (gunzip)", path)
    if b"\x00" in head:
        raise InputError("looks like a binary file, not a text corpus", path)


def open_checked(path: Path) -> Path:
    """Fail with a clear message before reading anything that is not a readable file."""
    if not path.exists():
        raise InputError("no such file", path)
    if path.is_dir():
        raise InputError("is a directory; expected a file", path)
    _check_not_binary(path)
    return path


def read_conll(
    path: str | Path, tag_column: int = -1, encoding: str = "utf-8", labelled: bool = True
) -> list[Sentence]:
    """Read a CoNLL-style column file: token first, tag in `tag_column` (last by default).

    Columns may be separated by spaces or tabs; CRLF endings and a UTF-8 BOM are
    accepted; `-DOCSTART-` lines and blank lines separate sentences.
    """
    path = open_checked(Path(path))
    sentences = list(_iter_conll(path, tag_column, encoding, labelled))
    if not sentences:
        raise InputError("contains no sentences", path)
    if labelled:
        convert_corpus(sentences)
    return sentences


def _iter_conll(path: Path, tag_column: int, encoding: str, labelled: bool) -> Iterator[Sentence]:
    tokens: list[str] = []
    tags: list[str] = []
    start = 0
    with path.open("rb") as handle:
        for lineno, raw in enumerate(handle, start=1):
            line = _decode_line(raw, path, lineno, encoding)
            if lineno == 1:
                line = line.lstrip("\ufeff")
            columns = line.split()
            if not columns or columns[0] == DOCSTART:
                if tokens:
                    yield Sentence(tokens, tags if labelled else None, source=str(path), line=start)
                tokens, tags = [], []
                continue
            if not tokens:
                start = lineno
            tokens.append(columns[0])
            if labelled:
                tags.append(_tag_of(columns, tag_column, path, lineno))
    if tokens:
        yield Sentence(tokens, tags if labelled else None, source=str(path), line=start)


def _tag_of(columns: list[str], tag_column: int, path: Path, lineno: int) -> str:
    if len(columns) < 2:
        raise InputError(
            f"expected at least 2 columns (token and tag), found {len(columns)}: {' '.join(columns)!r}",
            path,
            lineno,
        )
    try:
        tag = columns[tag_column]
    except IndexError:
        raise InputError(
            f"no column {tag_column} (the line has {len(columns)}); check --tag-column", path, lineno
        ) from None
    if not TAG_PATTERN.match(tag):
        raise InputError(
            f"tag {tag!r} fits no scheme; expected O or B-/I-/E-/S- followed by a type (e.g. B-PER)",
            path,
            lineno,
        )
    return tag


def detect_scheme(tag_sequences: Iterable[Sequence[str]]) -> str:
    """Name the tag scheme: 'BIOES' if E-/S- appear, 'IOB1' if a chunk opens with I-, else 'IOB2'."""
    iob1 = False
    for tags in tag_sequences:
        previous = "O"
        for tag in tags:
            if tag[0] in "ES":
                return "BIOES"
            if tag[0] == "I" and (previous == "O" or previous[2:] != tag[2:]):
                iob1 = True
            previous = tag
    return "IOB1" if iob1 else "IOB2"


def to_iob2(tags: Sequence[str], scheme: str) -> list[str]:
    """Convert one sentence's tags from `scheme` to IOB2."""
    if scheme == "BIOES":
        table = {"S": "B", "E": "I"}
        return [tag if tag == "O" else table.get(tag[0], tag[0]) + tag[1:] for tag in tags]
    if scheme == "IOB1":
        out: list[str] = []
        previous = "O"
        for tag in tags:
            if tag[0] == "I" and (previous == "O" or previous[2:] != tag[2:]):
                tag = "B" + tag[1:]
            out.append(tag)
            previous = tag
        return out
    return list(tags)


def iob2_to_bioes(tags: Sequence[str]) -> list[str]:
    """IOB2 to BIOES: single-token entities become S-, last tokens of longer ones E-."""
    out = []
    for i, tag in enumerate(tags):
        following = tags[i + 1] if i + 1 < len(tags) else "O"
        ends = following != "I-" + tag[2:]
        if tag.startswith("B-"):
            out.append(("S-" if ends else "B-") + tag[2:])
        elif tag.startswith("I-"):
            out.append(("E-" if ends else "I-") + tag[2:])
        else:
            out.append(tag)
    return out


def convert_corpus(sentences: list[Sentence]) -> str:
    """Detect the corpus's scheme and rewrite its tags in IOB2 in place; return the scheme found."""
    scheme = detect_scheme(s.tags for s in sentences if s.tags)
    if scheme != "IOB2":
        for sentence in sentences:
            if sentence.tags is not None:
                sentence.tags = to_iob2(sentence.tags, scheme)
    return scheme


def load_hub_dataset(dataset_id: str, revision: str | None = None) -> Any:
    """Load a dataset with `datasets.load_dataset`: a hub id, or a local folder of data files.

    Hub ids default to the script-free parquet conversion, which current `datasets` can read.
    """
    import datasets

    local = Path(dataset_id).exists()
    if revision is None and not local:
        revision = "refs/convert/parquet"
    try:
        return datasets.load_dataset(dataset_id, revision=revision)
    except Exception as err:  # datasets raises many types: network, missing files, bad config
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"could not load dataset: {reason}", dataset_id) from None


def require_split(splits: Any, name: str, dataset_id: str) -> Any:
    """One split of a loaded `DatasetDict`, or a clear error naming the splits there are."""
    if name not in splits:
        raise InputError(f"has no split {name!r} (splits: {', '.join(splits)})", dataset_id)
    return splits[name]


def sentences_from_dataset(
    split: Any, token_field: str = "tokens", tag_field: str = "ner_tags", name: str = "dataset"
) -> list[Sentence]:
    """Turn one `datasets` split into Sentences, reading label names from its features."""
    if token_field not in split.column_names:
        raise InputError(f"has no column {token_field!r} (columns: {', '.join(split.column_names)})", name)
    labelled = tag_field in split.column_names
    names = _label_names(split, tag_field, name) if labelled else None
    sentences = []
    for index, row in enumerate(split):
        tags = None
        if labelled:
            tags = [names[i] if names is not None else str(i) for i in row[tag_field]]
            for tag in tags:
                if not TAG_PATTERN.match(tag):
                    raise InputError(f"tag {tag!r} fits no scheme", name, index + 1)
        if row[token_field]:
            sentences.append(Sentence(list(row[token_field]), tags, source=name, line=index + 1))
    convert_corpus(sentences)
    return sentences


def _label_names(split: Any, tag_field: str, name: str) -> list[str] | None:
    feature = split.features[tag_field]
    inner = getattr(feature, "feature", None)
    names = getattr(inner, "names", None)
    if names is None and inner is not None and getattr(inner, "dtype", "") != "string":
        raise InputError(
            f"column {tag_field!r} holds integers without label names in its features", name
        )
    return list(names) if names is not None else None
