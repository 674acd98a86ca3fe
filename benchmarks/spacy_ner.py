"""spaCy's side of the speed benchmark, run in its own virtual environment (benchmarks/.venv-spacy).

  save DIR LABELS...                 write a blank English pipeline with an initialised `ner` pipe on LABELS
  tag DIR IN.conll OUT.conll N       NER over the pre-tokenised sentences of a CoNLL file (token first,
                                     blank line between sentences), `nlp.pipe(n_process=N)`; writes token
                                     and IOB tag per line, prints the word count
  text DIR IN OUT N                  NER over raw text: IN is plain text (a record a line) or JSONL records with
                                     a "text" field; `nlp.pipe(n_process=N)` tokenises and tags each record as a
                                     doc; writes each record's entities as JSONL, prints the record count
  predict DIR TEXT                   spacy.load + tag one sentence, print the entities (the cold-start run)

The same work as `ner-lstm tag --input-format conll --output-format conll`: read the file, tag, write.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterator


def save(directory: str, labels: list[str]) -> None:
    import spacy

    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for label in labels:
        ner.add_label(label)
    nlp.initialize()
    nlp.to_disk(directory)


def conll_sentences(path: str) -> Iterator[list[str]]:
    tokens: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            columns = line.split()
            if not columns or columns[0] == "-DOCSTART-":
                if tokens:
                    yield tokens
                tokens = []
            else:
                tokens.append(columns[0])
    if tokens:
        yield tokens


def tag(directory: str, source: str, target: str, processes: str) -> None:
    import spacy
    from spacy.tokens import Doc

    nlp = spacy.load(directory)
    docs = (Doc(nlp.vocab, words=tokens) for tokens in conll_sentences(source))
    words = 0
    with open(target, "w", encoding="utf-8") as out:
        for doc in nlp.pipe(docs, batch_size=256, n_process=int(processes)):
            words += len(doc)
            out.write("".join(f"{t.text}\t{t.ent_iob_ + '-' + t.ent_type_ if t.ent_type_ else 'O'}\n"
                              for t in doc) + "\n")
    print(json.dumps({"words": words}))


def text(directory: str, source: str, target: str, processes: str) -> None:
    import spacy

    nlp = spacy.load(directory)
    with open(source, encoding="utf-8") as handle:
        lines = (line.rstrip("\n") for line in handle)
        texts = (json.loads(line)["text"] for line in lines) if source.endswith(".jsonl") else lines
        records = 0
        with open(target, "w", encoding="utf-8") as out:
            for doc in nlp.pipe(texts, batch_size=256, n_process=int(processes)):
                records += 1
                out.write(json.dumps({"entities": [[e.start_char, e.end_char, e.label_] for e in doc.ents]}) + "\n")
    print(json.dumps({"records": records}))


def predict(directory: str, text: str) -> None:
    import spacy

    nlp = spacy.load(directory)
    print([(e.text, e.label_) for e in nlp(text).ents])


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"save": lambda: save(args[0], args[1:]), "tag": lambda: tag(*args), "text": lambda: text(*args),
     "predict": lambda: predict(*args)}[command]()
