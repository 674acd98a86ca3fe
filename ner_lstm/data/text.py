"""Raw text to sentences of tokens with character offsets, through syntok."""
from __future__ import annotations

from syntok import segmenter

from .corpus import Sentence


def split_text(text: str, source: str = "", line: int = 0) -> list[Sentence]:
    """Segment `text` into sentences; each token keeps its (start, end) offsets into `text`."""
    sentences: list[Sentence] = []
    for paragraph in segmenter.analyze(text):
        for tokens in paragraph:
            words = [token.value for token in tokens if token.value]
            offsets = [(token.offset, token.offset + len(token.value)) for token in tokens if token.value]
            if words:
                sentences.append(Sentence(words, offsets=offsets, source=source, line=line, text=text))
    return sentences
