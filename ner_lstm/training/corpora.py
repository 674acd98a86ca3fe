"""A training run's corpora: train, dev and test sentences from labelled files or a dataset's splits, dev held
out of train when none is given, and the fingerprint a resumed run checks."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..data.corpus import Sentence
from ..data.formats import SpanOptions, read_labelled
from ..data.sources import load_hub_dataset, require_split, sentences_from_dataset
from ..errors import UsageError

@dataclass
class Corpora:
    """What a training run learns from and is selected on, and where each part came from."""

    train: list[Sentence]
    dev: list[Sentence]
    test: list[Sentence] | None
    names: dict[str, str]
    held_out: bool = False  # dev is a seeded share of train

    def describe(self) -> dict:
        return {part: {"source": self.names[part], "sentences": len(sentences),
                       "tokens": sum(len(s) for s in sentences)}
                for part, sentences in (("train", self.train), ("dev", self.dev))}

    def fingerprint(self) -> str:
        """A digest of the training and dev sentences and tags: a resumed run must see the same data."""
        digest = hashlib.sha256()
        for sentences in (self.train, self.dev):
            for sentence in sentences:
                digest.update("\x1f".join(sentence.tokens + (sentence.tags or [])).encode("utf-8") + b"\x1e")
            digest.update(b"\x1d")
        return digest.hexdigest()


def split_dev(sentences: list[Sentence], seed: int, share: float = 0.1) -> tuple[list[Sentence], list[Sentence]]:
    """Hold out a seeded share of the training sentences for model selection."""
    import numpy as np

    order = np.random.default_rng(seed).permutation(len(sentences))
    cut = max(1, int(len(sentences) * share))
    held = set(order[:cut].tolist())
    return [s for i, s in enumerate(sentences) if i not in held], [sentences[i] for i in sorted(held)]


def training_corpora(train: Path | None, dev: Path | None, test: Path | None, dataset: str | None,
                     revision: str | None, tag_column: int = -1, encoding: str = "utf-8", seed: int = 42,
                     input_format: str = "auto", spans: SpanOptions | None = None, replay: Path | None = None,
                     replay_fraction: float = 0.5) -> Corpora:
    """Train, dev and test sentences from labelled files (any format of `data.formats`) or from a dataset's
    train/validation/test splits; with `replay`, a seeded `replay_fraction` of that file's sentences (the data a
    continued model was trained on) joins train, to limit forgetting."""
    if (train is None) == (dataset is None):
        raise UsageError("give exactly one of --train FILE or --dataset ID")
    if dataset is not None:
        splits = load_hub_dataset(dataset, revision)
        require_split(splits, "train", dataset)
        parts = [sentences_from_dataset(splits[name], name=f"{dataset}[{name}]") if name in splits else None
                 for name in ("train", "validation", "test")]
        names = {"train": f"{dataset}[train]", "dev": f"{dataset}[validation]"}
    else:
        parts = [labelled(p, input_format, spans, tag_column, encoding) if p is not None else None
                 for p in (train, dev, test)]
        names = {"train": str(train), "dev": str(dev)}
    train_set, dev_set, test_set = parts
    if dev_set is None:
        train_set, dev_set = split_dev(train_set, seed)
        names["dev"] = f"10% of {names['train']} (seed {seed})"
    if replay is not None:
        train_set = train_set + replayed(labelled(replay, input_format, spans, tag_column, encoding), replay_fraction,
                                         seed)
        names["train"] += f" + {replay_fraction:.0%} of {replay} (replayed, seed {seed})"
    return Corpora(train_set, dev_set, test_set, names, held_out=parts[1] is None)


def replayed(sentences: list[Sentence], fraction: float, seed: int) -> list[Sentence]:
    """A seeded share of old training sentences, in their order."""
    import numpy as np

    chosen = np.random.default_rng([seed, 1]).permutation(len(sentences))[: round(len(sentences) * fraction)]
    return [sentences[i] for i in sorted(chosen.tolist())]


def labelled(path: Path, input_format: str, spans: SpanOptions | None, tag_column: int,
              encoding: str) -> list[Sentence]:
    """One labelled file's sentences, with what its spans' alignment left out said on stderr."""
    options = SpanOptions(spans.mapping, spans.strict, spans.text_field) if spans else SpanOptions()
    sentences = read_labelled(str(path), input_format, options, tag_column, encoding)
    options.report.announce(str(path))
    return sentences
