"""The progress bar of `tag`: sentences done and tokens per second on stderr, shown only on a terminal."""
from __future__ import annotations

import sys

from ..engines.local import Counts


class Progress(Counts):
    def __init__(self) -> None:
        from tqdm import tqdm

        super().__init__()
        self.bar = tqdm(unit=" sentences", disable=not sys.stderr.isatty(), file=sys.stderr, dynamic_ncols=True)

    def update(self, sentences: int, tokens: int) -> None:
        super().update(sentences, tokens)
        self.bar.update(sentences)
        if not self.bar.disable:
            elapsed = self.bar.format_dict["elapsed"] or 1e-9
            self.bar.set_postfix_str(f"{self.tokens / elapsed:,.0f} tokens/s", refresh=False)

    def close(self) -> None:
        self.bar.close()
