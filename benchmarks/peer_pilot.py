"""Pilot: other mentions' predicted types as evidence (a document memory, after Luo et al. 2020).

Usage: python benchmarks/peer_pilot.py --data ../shared/data/conll2003 [--seed 1] [--out results/pilots.json]

Each token's word (lowercased, with a letter) may occur elsewhere in its `-DOCSTART-` document. After
every epoch the network's own emissions, without this evidence, are turned into a distribution over
entity types (O, PER, LOC, ...) for every training token; a token's evidence is the mean distribution of
its word's other occurrences, and a has-peers flag. A zero-initialised linear map adds it to the
emissions, so the exported network is unchanged and the evidence could be added in NumPy at tagging
(a first pass over the document gives the peer-free emissions it needs). On valid and test the same two
passes run with the current weights. Selection on valid, test scored once with the selected weights:
the recipe's rules, in a loop of its own because the product's trainer has no second input.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def peer_matrix(sentences):
    """A row-normalised sparse (tokens x tokens) matrix: each token's other occurrences in its document."""
    from scipy.sparse import csr_matrix

    offsets = np.cumsum([0] + [len(s) for s in sentences])
    groups: dict[tuple[int, str], list[int]] = {}
    for i, sentence in enumerate(sentences):
        document = id(sentence.peers[0]) if sentence.peers else id(sentence)
        for position, token in enumerate(sentence.tokens):
            if any(c.isalpha() for c in token):
                groups.setdefault((document, token.lower()), []).append(offsets[i] + position)
    rows, cols, vals = [], [], []
    for members in groups.values():
        if len(members) < 2:
            continue
        for a in members:
            for b in members:
                if a != b:
                    rows.append(a), cols.append(b), vals.append(1.0 / (len(members) - 1))
    n = offsets[-1]
    return csr_matrix((vals, (rows, cols)), shape=(n, n), dtype=np.float32), offsets


class Pilot:
    def __init__(self, train, dev, test, seed: int, epochs: int) -> None:
        import keras
        from keras import layers

        from ner_lstm.model.embeddings import package_glove
        from ner_lstm.model.network import ModelConfig, build_model
        from ner_lstm.model.vocab import Vocab
        from ner_lstm.training.train import TrainOptions, _compile, steps_per_epoch

        self.options = TrainOptions(seed=seed, epochs=epochs)
        keras.utils.set_random_seed(seed)
        self.vocab = Vocab.build(train, package_glove())
        base = build_model(ModelConfig(), self.vocab)
        labels = len(self.vocab.labels)
        types = sorted({label[2:] for label in self.vocab.labels if label != "O"})
        self.to_types = np.zeros((labels, len(types) + 1), np.float32)  # O first, then each type
        for i, label in enumerate(self.vocab.labels):
            self.to_types[i, 0 if label == "O" else 1 + types.index(label[2:])] = 1
        peer = keras.Input((None, len(types) + 2), name="peer")
        emissions = base.get_layer("emissions").output
        added = layers.Dense(labels, use_bias=False, kernel_initializer="zeros", name="peer_emissions")(peer)
        total = layers.Add()([emissions, added])
        self.model = keras.Model({**base.input, "peer": peer}, base.get_layer("crf")(total))
        self.peer_free = keras.Model(base.input, emissions)
        _compile(self.model, self.options, steps_per_epoch(train, self.options.batch_size))
        self.parts = {name: (part, *peer_matrix(part)) for name, part in
                      (("train", train), ("dev", dev), ("test", test))}
        self.memory = {name: np.zeros((offsets[-1], len(types) + 2), np.float32)
                       for name, (_, _, offsets) in self.parts.items()}
        self.runs: dict[int, object] = {}  # one traced function per network

    def emissions(self, model, name: str, with_peers: bool) -> list[np.ndarray]:
        from ner_lstm.model.batching import encode_batch, sorted_batches
        from ner_lstm.inference.runtime import KerasEmissions

        sentences, _, offsets = self.parts[name]
        if id(model) not in self.runs:
            self.runs[id(model)] = KerasEmissions(model)
        run = self.runs[id(model)]
        out: list[np.ndarray | None] = [None] * len(sentences)
        for batch in sorted_batches([len(s) for s in sentences], max_tokens=4096, max_size=128):
            inputs = encode_batch([sentences[i] for i in batch], self.vocab)
            if with_peers:
                inputs["peer"] = self.peer_inputs(name, batch, inputs["word"].shape[1])
            values = run(inputs)
            for row, i in enumerate(batch):
                out[i] = values[row, : len(sentences[i])]
        return out

    def refresh(self, name: str) -> None:
        """Each token's evidence from the peer-free emissions of its word's other occurrences."""
        _, matrix, _ = self.parts[name]
        scores = np.concatenate(self.emissions(self.peer_free, name, with_peers=False))
        probs = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        evidence = matrix @ (probs @ self.to_types)
        flag = (matrix.getnnz(axis=1) > 0).astype(np.float32)[:, None]
        self.memory[name] = np.concatenate([evidence, flag], axis=1).astype(np.float32)

    def peer_inputs(self, name: str, batch, width: int) -> np.ndarray:
        sentences, _, offsets = self.parts[name]
        grid = np.zeros((len(batch), width, self.memory[name].shape[1]), np.float32)
        for row, i in enumerate(batch):
            grid[row, : len(sentences[i])] = self.memory[name][offsets[i] : offsets[i + 1]]
        return grid

    def dataset(self, epoch: int):
        import tensorflow as tf

        from ner_lstm.model.batching import drop_singletons, encode_batch, training_batches
        from ner_lstm.training.train import _singleton_ids, steps_per_epoch

        sentences = self.parts["train"][0]
        singletons = _singleton_ids(sentences, self.vocab)

        def generate():
            rng = np.random.default_rng([self.options.seed, epoch])
            for indices in training_batches(sentences, self.options.batch_size, rng):
                batch = encode_batch([sentences[i] for i in indices], self.vocab, with_labels=True)
                batch["word"] = drop_singletons(batch["word"], singletons, self.options.word_dropout, rng)
                batch["peer"] = self.peer_inputs("train", indices, batch["word"].shape[1])
                yield batch, batch.pop("labels")

        spec = {"word": tf.TensorSpec((None, None), tf.int32), "case": tf.TensorSpec((None, None), tf.int32),
                "char": tf.TensorSpec((None, None, None), tf.int32),
                "glove": tf.TensorSpec((None, None, self.vocab.glove.dim), tf.float32),
                "peer": tf.TensorSpec((None, None, self.memory["train"].shape[1]), tf.float32)}
        data = tf.data.Dataset.from_generator(generate, output_signature=(spec, tf.TensorSpec((None, None), tf.int32)))
        return data.apply(tf.data.experimental.assert_cardinality(steps_per_epoch(sentences, self.options.batch_size)))

    def score(self, name: str) -> float:
        from ner_lstm.inference.bundle import crf_json
        from ner_lstm.inference.tagger import Tagger
        from ner_lstm.training.evaluate import score

        sentences = self.parts[name][0]
        self.refresh(name)
        tagger = Tagger(lambda inputs: inputs, self.vocab, crf_json(self.model))
        full = self.emissions(self.model, name, with_peers=True)
        predicted = []
        for sentence, values in zip(sentences, full):
            predicted.append(tagger._decode([sentence], values[None], scores=False)[0].tags)
        return score([s.tags for s in sentences], predicted)["f1"]

    def run(self) -> dict:
        best, best_epoch, best_weights, wait, history = -1.0, 0, None, 0, []
        started = time.monotonic()
        for epoch in range(self.options.epochs):
            t0 = time.monotonic()
            self.model.fit(self.dataset(epoch), epochs=epoch + 1, initial_epoch=epoch, verbose=0, shuffle=False)
            self.refresh("train")
            f1 = self.score("dev")
            history.append({"epoch": epoch + 1, "dev_f1": f1, "seconds": round(time.monotonic() - t0, 1),
                            "peer_weight_norm": float(np.linalg.norm(self.model.get_layer("peer_emissions").kernel))})
            print(json.dumps(history[-1]), flush=True)
            if f1 > best:
                best, best_epoch, best_weights, wait = f1, epoch + 1, self.model.get_weights(), 0
                minutes_to_best = (time.monotonic() - started) / 60
            else:
                wait += 1
                if wait >= self.options.patience:
                    break
        self.model.set_weights(best_weights)
        return {"valid_f1": best, "selected_epoch": best_epoch, "epochs_run": len(history),
                "minutes_to_selected_model": round(minutes_to_best, 2),
                "minutes_training": round((time.monotonic() - started) / 60, 2),
                "test_f1": self.score("test"), "history": history}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "pilots.json")
    args = parser.parse_args()

    from ner_lstm.data.sources import training_corpora

    corpora = training_corpora(args.data / "train.txt", args.data / "valid.txt", args.data / "test.txt", None, None)
    result = {"set": {"peer_evidence": "document memory of other mentions' predicted types"}, "seed": args.seed,
              **Pilot(corpora.train, corpora.dev, corpora.test, args.seed, args.epochs).run()}
    print(json.dumps({k: v for k, v in result.items() if k != "history"}), flush=True)
    runs = json.loads(args.out.read_text()) if args.out.is_file() else []
    args.out.write_text(json.dumps([*runs, result], indent=1) + "\n")


if __name__ == "__main__":
    main()
