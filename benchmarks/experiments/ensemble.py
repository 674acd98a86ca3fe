"""The ceiling a distilled student aims at: a seed ensemble's F1 against its members', on one split.

Usage: python benchmarks/experiments/ensemble.py --data ../shared/data/conll2003 --models M1 M2 M3
       [--split valid] [--out benchmarks/results/ensemble.json]

Each model scores every sentence as its CRF decodes it (`Tagger.decoding_scores`: the network's
emissions plus other mentions' evidence, documents as read from the CoNLL file). Two ensembles:
- averaged emissions: the members' scores and CRF scores (transitions, start, end) averaged, then
  Viterbi with BIOES's constraints, as one model decodes;
- averaged marginals: each member's token posteriors (forward-backward), averaged, then the best
  path through their logarithms allowed by BIOES (no learned transitions): what a distilled student
  learns from (`ner_lstm.training.posteriors.ensemble_tags`).
Entity F1 (seqeval, conlleval-compatible) of each member and each ensemble; prints it and writes JSON.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from ner_lstm.data.corpus import read_conll  # noqa: E402
from ner_lstm.evaluation.scores import score  # noqa: E402
from ner_lstm.inference.tagger import Tagger  # noqa: E402
from ner_lstm.model.crf_numpy import viterbi_numpy  # noqa: E402
from ner_lstm.training.posteriors import ensemble_tags, stacked  # noqa: E402

HERE = Path(__file__).resolve().parent


def f1(gold: list[list[str]], tagger: Tagger, paths: list[np.ndarray]) -> float:
    return round(100 * score(gold, [tagger.vocab.tags_of(p) for p in paths])["f1"], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--models", type=Path, nargs="+", required=True)
    parser.add_argument("--split", default="valid")
    parser.add_argument("--out", type=Path, default=HERE.parent / "results" / "ensemble.json")
    args = parser.parse_args()
    sentences = [s for s in read_conll(args.data / f"{args.split}.txt") if len(s)]
    gold = [s.tags for s in sentences]
    taggers = [Tagger.load(path) for path in args.models]
    labels = taggers[0].vocab.labels
    if any(t.vocab.labels != labels for t in taggers):
        sys.exit("ensemble.py: the models' labels differ")
    scores = [stacked(t.decoding_scores(sentences)) for t in taggers]
    lengths = scores[0][1]
    members = []
    for tagger, (emissions, _) in zip(taggers, scores):
        paths = viterbi_numpy(emissions, lengths, tagger.transitions, tagger.start, tagger.end)
        check = [t.tags for t in tagger.tag(sentences, scores=False)]
        assert [tagger.vocab.tags_of(p) for p in paths] == check, "decoding_scores decode as tag() does"
        members.append(f1(gold, tagger, paths))
    mean = np.mean([e for e, _ in scores], axis=0)
    crf = [np.mean([getattr(t, name) for t in taggers], axis=0) for name in ("transitions", "start", "end")]
    averaged_emissions = f1(gold, taggers[0], viterbi_numpy(mean, lengths, *crf))
    averaged_marginals = round(100 * score(gold, ensemble_tags([str(m) for m in args.models], sentences,
                                                               taggers[0].vocab))["f1"], 2)
    result = {
        "split": args.split, "sentences": len(sentences), "models": [str(m) for m in args.models],
        "member_f1": members, "member_mean_f1": round(statistics.mean(members), 2),
        "ensemble_averaged_emissions_f1": averaged_emissions, "ensemble_averaged_marginals_f1": averaged_marginals,
        "date": time.strftime("%Y-%m-%d"), "machine": {"platform": platform.platform()},
        "command": " ".join(["python", "benchmarks/experiments/ensemble.py", *sys.argv[1:]]),
    }
    print(f"{args.split}: members {members} (mean {result['member_mean_f1']}); ensemble of {len(taggers)}: "
          f"averaged emissions {averaged_emissions}, averaged marginals {averaged_marginals}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
