"""spaCy v3 `.spacy` files (DocBin): each Doc's text and its `ents` as character spans.

Needs spaCy (`pip install 'ner-lstm[spacy]'`). The Doc's own tokens are not used:
its text is tokenised here like every other text, so a model trained on it tags
raw text the way it was trained.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ...errors import InputError
from ..corpus import Record
from .align import Span, align
from .options import SpanOptions


def read_docbin(path: str, options: SpanOptions) -> Iterator[Record]:
    """One labelled record per Doc."""
    from ...extras import require

    require("spacy", "reading .spacy files")
    import spacy
    from spacy.tokens import DocBin

    if not Path(path).is_file():
        raise InputError("no such file", path)
    try:
        docs = DocBin().from_disk(path).get_docs(spacy.blank("xx").vocab)
        for number, doc in enumerate(docs, start=1):
            spans = [Span(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents]
            where = f"{path}[doc {number}]"
            sentences, gold = align(doc.text, spans, where, options.report, options.mapping, options.strict, path,
                                    number)
            yield Record(path, number, sentences, text=doc.text, fields={"id": number}, gold_spans=gold)
    except (ValueError, KeyError) as err:  # srsly and spaCy raise these for files that are not DocBins
        raise InputError(f"not a readable spaCy DocBin ({str(err).splitlines()[0][:120]})", path) from None
