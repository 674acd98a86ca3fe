"""Bytes to numbered text lines: the one decoder every reader uses.

It names the file and line of undecodable bytes, drops a UTF-8 BOM and line
endings, and reads lines that hold only invisible characters (a stray BOM, a
zero-width space, a no-break space) as blank lines, with one warning per file:
such lines are common in public corpora (the WNUT-17 dev file has one) and mean
a sentence break.
"""
from __future__ import annotations

import bz2
import codecs
import gzip
import json
import lzma
import re
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import InputError, InputWarning

Lines = Iterable[tuple[int, str]]  # (line number, text) pairs, what every line reader takes
INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060\u00a0"  # BOM, zero-width space/non-joiner/joiner, word joiner, NBSP


# A lone UTF-16 surrogate is valid in JSON ("\\udc00") but is no character: it cannot be encoded or written.
_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(value: Any) -> Any:
    """`value` (parsed JSON) with every lone surrogate in its strings read as U+FFFD, one for one, so that
    character offsets are unchanged and the text can be written out again."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {without_surrogates(key): without_surrogates(item) for key, item in value.items()}
    return value


def parse_json(text: str) -> Any:
    """`json.loads`, lone surrogates replaced (only escapes make them, so other texts are not walked)."""
    value = json.loads(text)
    return without_surrogates(value) if "\\u" in text else value


# Corpora ship compressed: these are read as the text they hold.
COMPRESSED = {b"\x1f\x8b": ("gzip", gzip.open), b"BZh": ("bzip2", bz2.open), b"\xfd7zXZ\x00": ("xz", lzma.open)}


def compression(head: bytes) -> tuple[str, Any] | None:
    """(name, opener) of the compression a file's first bytes show, or None for plain bytes."""
    return next((found for magic, found in COMPRESSED.items() if head.startswith(magic)), None)


def open_input(path: Path, encoding: str = "utf-8") -> IO[bytes]:
    """An input file's bytes, decompressed when it is gzip, bzip2 or xz, refused when it is binary (holds
    NUL bytes, in an encoding that writes none: UTF-16 and UTF-32 text is full of them).

    A pipe given as a path (`<(zcat corpus.gz)`, a FIFO, /dev/stdin) can be read only once, so
    nothing reads ahead of the one handle returned: its head is looked at with `peek`.
    """
    if not path.exists():
        raise InputError("no such file", path)
    if path.is_dir():
        raise InputError("is a directory; expected a file", path)
    handle: IO[bytes] = path.open("rb")
    if path.is_file():
        found = compression(handle.peek(8))  # type: ignore[attr-defined]
        if found is not None:
            handle.close()
            handle = found[1](path, "rb")
    try:
        check_head(handle.peek(4096), path, encoding)  # type: ignore[attr-defined]
    except (OSError, EOFError, lzma.LZMAError) as err:  # a damaged compressed file
        handle.close()
        raise InputError(f"cannot be decompressed ({err})", path) from None
    except InputError:
        handle.close()
        raise
    return handle


def check_head(head: bytes, name: str | Path, encoding: str = "utf-8") -> None:
    """Refuse binary input from its first bytes (local files and remote ones alike)."""
    if b"\x00" in head and b"\x00" not in "\n".encode(encoding):
        raise InputError("looks like a binary file, not a text file", name)


def decoded_lines(handle: IO[bytes], name: str, encoding: str = "utf-8",
                  first_line: int = 1) -> Iterator[tuple[int, str]]:
    """(line number, text without its line ending) for every line of `handle`; `first_line` numbers a
    piece cut from the middle of a file (a shard of the Ray engine) as the whole file would.

    Decodes about a megabyte at a time (a line at a time costs a third of reading a CoNLL
    file) with an incremental decoder, so a block may end inside a character or a line, as it
    does in UTF-16, where the byte 0x0A is also half of other characters; the line of a
    decoding error is found when one occurs.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    invisible: list[int] = []
    number = first_line - 1
    blank = INVISIBLE + " \t\f\v"
    pending = ""  # the last line of the blocks so far, maybe incomplete
    while True:
        block = b"".join(handle.readlines(1 << 20))
        lines = (pending + _decode(decoder, block, name, encoding, number, pending)).split("\n")
        pending = lines.pop()
        if not block:
            if pending:
                lines.append(pending)
        for line in lines:
            number += 1
            if number == 1:
                line = line.lstrip("\ufeff")
            line = line.rstrip("\r")
            if line and not line.strip(blank):
                if any(c in INVISIBLE for c in line):  # spaces and tabs alone make an ordinary blank line
                    invisible.append(number)
                line = ""
            yield number, line
        if not block:
            break
    if invisible:
        warnings.warn(InputWarning(
            f"{name}: {len(invisible)} line(s) holding only invisible characters (BOM, zero-width space, "
            f"no-break space) read as blank lines, the first at line {invisible[0]}"), stacklevel=2)


def _decode(decoder: codecs.IncrementalDecoder, block: bytes, name: str, encoding: str, before: int,
            pending: str) -> str:
    try:
        return decoder.decode(block, final=not block)
    except UnicodeDecodeError as err:
        good = block[: err.start].decode(encoding, "replace") if err.start else ""
        line = before + (pending + good).count("\n") + 1
        start = len(block[: err.start].rsplit(b"\n", 1)[-1]) if encoding.lower().replace("-", "") == "utf8" else None
        where = f" at byte {start} of this line" if start is not None else ""
        raise InputError(f"not valid {encoding}{where}; pass --encoding if the file uses another one",
                         name, line) from None


def json_lines(lines: Lines, name: str) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) of every non-blank line of a JSON-lines input; bad JSON names its line."""
    for number, line in lines:
        if not line.strip():
            continue
        try:
            yield number, parse_json(line)
        except json.JSONDecodeError as err:
            raise InputError(f"not valid JSON ({err.msg} at column {err.colno})", name, number) from None
