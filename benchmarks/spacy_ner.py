"""spaCy's side of the speed benchmark, run in its own virtual environment (benchmarks/.venv-spacy).

  save DIR LABELS...         write a blank English pipeline with an initialised `ner` pipe on LABELS
  tag DIR FILE               NER-only over pre-tokenised sentences (one JSON token list a line); prints words
  predict DIR TEXT           spacy.load + tag one sentence, print the entities (the cold-start run)
"""
from __future__ import annotations

import json
import sys


def save(directory: str, labels: list[str]) -> None:
    import spacy

    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for label in labels:
        ner.add_label(label)
    nlp.initialize()
    nlp.to_disk(directory)


def tag(directory: str, path: str) -> None:
    import spacy
    from spacy.tokens import Doc

    nlp = spacy.load(directory)
    ner = nlp.get_pipe("ner")
    with open(path, encoding="utf-8") as handle:
        docs = (Doc(nlp.vocab, words=json.loads(line)) for line in handle)
        words = entities = 0
        for doc in ner.pipe(docs, batch_size=256):
            words += len(doc)
            entities += len(doc.ents)
    print(json.dumps({"words": words, "entities": entities}))


def predict(directory: str, text: str) -> None:
    import spacy

    nlp = spacy.load(directory)
    print([(e.text, e.label_) for e in nlp(text).ents])


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"save": lambda: save(args[0], args[1:]), "tag": lambda: tag(*args), "predict": lambda: predict(*args)}[command]()
