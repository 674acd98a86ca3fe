"""Does the BiLSTM gain from reading past a sentence's end? A corpus for screening that lead on valid.

Usage: python benchmarks/chunk_corpus.py --data ../shared/data/conll2003 --to /tmp/chunked [--tokens 48]
then, for example, `python benchmarks/pilot.py --data /tmp/chunked --seed 1`.

Writes train, valid and test with each run of consecutive sentences of a `-DOCSTART-` document joined
into one sequence while it holds at most --tokens tokens (a longer sentence stays alone), so the
network sees its neighbours' words at the cost of no extra computation per token: the cheap form of
the cross-sentence context of Luo et al. 2020 and GCDoc. Lines are copied as they are, so the gold
entities are the same (the script checks that no entity crosses a join) and entity F1 on the joined
valid and test files scores the same entities. Not part of the tagger: it did not pay (see README, Results).
"""
from __future__ import annotations

import argparse
from pathlib import Path

Block = list[str]  # one sentence's lines, or a -DOCSTART- line


def blocks(path: Path) -> list[Block]:
    """The file's blank-line-separated blocks."""
    found: list[Block] = []
    block: Block = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            block.append(line)
        elif block:
            found.append(block)
            block = []
    return found + ([block] if block else [])


def joined(sentences: list[Block], tokens: int) -> list[Block]:
    """Runs of consecutive sentences (never across a -DOCSTART- line) of at most `tokens` lines each."""
    out: list[Block] = []
    run: list[Block] = []
    for block in sentences:
        is_start = block[0].startswith("-DOCSTART-")
        if run and (is_start or sum(map(len, run)) + len(block) > tokens):
            out.append(_join(run))
            run = []
        if is_start:
            out.append(block)
        else:
            run.append(block)
    return out + ([_join(run)] if run else [])


def _join(run: list[Block]) -> Block:
    for before, after in zip(run, run[1:]):
        if after[0].split()[-1].startswith("I-") and before[-1].split()[-1] != "O":
            raise ValueError(f"an entity would run on across a join: {before[-1]!r} then {after[0]!r}")
    return [line for block in run for line in block]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with train.txt, valid.txt, test.txt")
    parser.add_argument("--to", type=Path, required=True, help="folder to write the joined files to")
    parser.add_argument("--tokens", type=int, default=48, help="most tokens in a joined sequence")
    args = parser.parse_args()
    args.to.mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid", "test"):
        found = blocks(args.data / f"{split}.txt")
        out = joined(found, args.tokens)
        (args.to / f"{split}.txt").write_text("".join("\n".join(b) + "\n\n" for b in out), encoding="utf-8")
        sentences = sum(not b[0].startswith("-DOCSTART-") for b in found)
        sequences = sum(not b[0].startswith("-DOCSTART-") for b in out)
        print(f"{split}: {sentences} sentences in {sequences} sequences of at most {args.tokens} tokens")


if __name__ == "__main__":
    main()
