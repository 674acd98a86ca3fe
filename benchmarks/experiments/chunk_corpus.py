"""Does the BiLSTM gain from reading past a sentence's end? A corpus for screening that lead on valid.

Usage: python benchmarks/experiments/chunk_corpus.py --data ../shared/data/conll2003 --to /tmp/chunked [--tokens 48]
then, for example, `python benchmarks/experiments/pilot.py --data /tmp/chunked --seed 1`.

Writes train, valid and test (token and IOB2 tag columns, `-DOCSTART-` lines kept) with each run of
consecutive sentences of a document joined into one sequence while it holds at most --tokens tokens
(a longer sentence stays alone), so the network sees its neighbours' words at no extra computation
per token: the cheap form of the cross-sentence context of Luo et al. 2020 and GCDoc. The script
checks that the joined files hold the same gold entities, so entity F1 on the joined valid and test
scores the same entities. Not part of the tagger: it did not pay (see docs/results/notes.md).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]  # benchmarks/
sys.path.insert(0, str(HERE.parent))

from ner_lstm.data.corpus import DOCSTART, Sentence, conll_documents, read_conll  # noqa: E402
from ner_lstm.data.corpus import spans  # noqa: E402


def joined(document: list[Sentence], tokens: int) -> list[Sentence]:
    """Runs of the document's consecutive sentences of at most `tokens` tokens each."""
    out: list[Sentence] = []
    for sentence in document:
        if out and len(out[-1]) + len(sentence) <= tokens:
            out[-1] = Sentence(out[-1].tokens + sentence.tokens, (out[-1].tags or []) + (sentence.tags or []))
        else:
            out.append(Sentence(list(sentence.tokens), list(sentence.tags or [])))
    return out


def entities(sentences: list[Sentence]) -> list[tuple[str, str]]:
    """Every gold entity's label and words, in order."""
    return [(label, " ".join(s.tokens[first:last])) for s in sentences for label, first, last in spans(s.tags)]


def conll(documents: list[list[Sentence]]) -> str:
    lines = []
    for document in documents:
        lines.append(f"{DOCSTART} -X- -X- O\n")
        lines.extend("".join(f"{t} {tag}\n" for t, tag in zip(s.tokens, s.tags)) for s in document)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with train.txt, valid.txt, test.txt")
    parser.add_argument("--to", type=Path, required=True, help="folder to write the joined files to")
    parser.add_argument("--tokens", type=int, default=48, help="most tokens in a joined sequence")
    args = parser.parse_args()
    args.to.mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid", "test"):
        sentences = read_conll(args.data / f"{split}.txt")
        documents = [joined(document, args.tokens) for document in conll_documents(sentences)]
        sequences = [s for document in documents for s in document]
        if entities(sequences) != entities(sentences):
            sys.exit(f"{split}: an entity would run on across a join")
        (args.to / f"{split}.txt").write_text(conll(documents), encoding="utf-8")
        print(f"{split}: {len(sentences)} sentences in {len(sequences)} sequences of at most {args.tokens} tokens; "
              f"the same {len(entities(sentences))} gold entities")


if __name__ == "__main__":
    main()
