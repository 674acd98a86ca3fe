"""Where tagged output goes: one file per input (or stdout), written atomically, with a progress bar."""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

from ..data.sources import STDIN
from ..errors import UsageError
from ..files import write_file_atomic

OUTPUT_EXTENSIONS = {"jsonl": ".jsonl", "conll": ".conll", "inline": ".txt", "html": ".html"}


def plan_outputs(names: list[str], output: Path | None, output_format: str) -> list[Path | None]:
    """Where each input's output goes: None is stdout. Refuses any plan that would overwrite an input."""
    if output is None:
        if len(names) > 1:
            raise UsageError("several inputs need -o DIR (one output file each)")
        return [None]
    if len(names) == 1 and not output.is_dir():
        destinations: list[Path | None] = [output]
    else:
        if output.exists() and not output.is_dir():
            raise UsageError(f"{output}: several inputs need -o to be a directory")
        output.mkdir(parents=True, exist_ok=True)
        extension = OUTPUT_EXTENSIONS[output_format]
        destinations = [output / ((Path(n).stem if n != STDIN else "stdin") + extension) for n in names]
        seen: dict[Path, str] = {}
        for name, dest in zip(names, destinations):
            if dest in seen:
                raise UsageError(f"{name} and {seen[dest]} would both be written to {dest}")
            seen[dest] = name
    inputs = {Path(n).resolve() for n in names if n != STDIN}
    for name, dest in zip(names, destinations):
        if dest is not None and dest.resolve() in inputs:
            raise UsageError(f"{dest}: is an input; refusing to overwrite it (choose another -o)")
    return destinations


def write_output(dest: Path | None, produce: Callable[[IO[str]], None]) -> None:
    """Run `produce(handle)` into `dest` atomically, or into stdout when `dest` is None."""
    if dest is None:
        produce(sys.stdout)
        sys.stdout.flush()
        return

    def fill(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as handle:
            produce(handle)

    write_file_atomic(dest, fill)


class Progress:
    """Sentences done and tokens per second on stderr, shown only when stderr is a terminal."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(unit=" sentences", disable=not sys.stderr.isatty(), file=sys.stderr, dynamic_ncols=True)
        self.sentences = self.tokens = 0

    def update(self, sentences: int, tokens: int) -> None:
        self.sentences += sentences
        self.tokens += tokens
        self.bar.update(sentences)
        if not self.bar.disable:
            elapsed = self.bar.format_dict["elapsed"] or 1e-9
            self.bar.set_postfix_str(f"{self.tokens / elapsed:,.0f} tokens/s", refresh=False)

    def close(self) -> None:
        self.bar.close()
