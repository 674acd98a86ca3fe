"""Training: length-bucketed batches, early stopping on dev entity F1, atomic saves, resume.

The model directory always holds the best model so far; a sibling checkpoint
directory (`.NAME.checkpoint`) holds weights, optimizer state and counters of the
last finished epoch, so `--resume` continues an interrupted run.
"""
from __future__ import annotations

import gc
import json
import platform
import shutil
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib import import_module
from pathlib import Path

import numpy as np

from ..data.corpus import Sentence
from .corpora import Corpora
from ..errors import ModelError, UsageError
from ..files import write_dir_atomic, write_file_atomic, write_json
from ..inference.bundle import FORMAT_VERSION, MODEL_FILE, read_json, save_bundle, update_bundle
from ..inference.patterns import store_patterns
from ..model.batching import drop_singletons, encode_batch, training_batches
from ..model.evidence import evidence_width
from ..model.glove import GloveTable
from ..model.network import ModelConfig, build_model
from ..model.vectors import describe_vectors, load_vectors
from ..model.vocab import Vocab
from ..evaluation.scores import score_tagger
from .continued import Parent, copy_weights, grown_vocab, load_parent
from .posteriors import Posteriors, store_posteriors

STATE_WEIGHTS = "state.weights.h5"


@dataclass
class TrainOptions:
    epochs: int = 30
    patience: int = 8
    batch_size: int = 32
    learning_rate: float = 0.002
    clipnorm: float = 5.0
    lr_decay: float = 0.05
    ema_momentum: float = 0.99
    word_dropout: float = 0.5
    seed: int = 42
    max_minutes: float | None = None
    resume: bool = False
    overwrite: bool = False
    verbose: int = 1
    calibration: str = "temperature"  # fitted on dev at the end (`evaluation.calibration`)
    patterns: str | None = None  # an entity pattern file stored in the model
    init_from: str | None = None  # a trained model to continue (`training.continued`)
    teachers: list[str] = field(default_factory=list)  # models whose posteriors a student learns (`distill`)
    distill_weight: float = 1.0  # the divergence to the teachers' weight beside the gold path's loss
    distill_temperature: float = 1.0  # teachers' and student's scores are divided by it in that divergence
    model: ModelConfig = field(default_factory=ModelConfig)


def checkpoint_dir(model_dir: Path) -> Path:
    return model_dir.parent / f".{model_dir.name}.checkpoint"


def _versions() -> dict:
    import keras

    from .. import __version__

    backend = keras.backend.backend()  # tensorflow, or jax where benchmarks/experiments/gpu.py trains
    return {"ner_lstm": __version__, "keras": keras.__version__, backend: import_module(backend).__version__,
            "python": platform.python_version()}


# Options that only decide when training stops; a resumed run may change them. Any other option
# changes what is learned, so a checkpoint made with another value cannot be continued.
STOPPING_OPTIONS = {"epochs", "patience", "max_minutes"}
RUN_OPTIONS = {"model", "resume", "overwrite", "verbose"}
AFTER_OPTIONS = {"calibration", "patterns"}  # applied to the selected model, after the epochs


def learning_options(options: TrainOptions) -> dict:
    """The options a checkpoint must be resumed with, model hyperparameters included."""
    kept = {k: v for k, v in asdict(options).items() if k not in STOPPING_OPTIONS | RUN_OPTIONS | AFTER_OPTIONS}
    return {**kept, **{f"model.{k}": v for k, v in options.model.to_json().items()}}


def _check_resumable(saved: dict, options: TrainOptions, fingerprint: str, ckpt: Path) -> None:
    if saved.get("data_fingerprint") != fingerprint:
        raise UsageError(f"{ckpt}: the interrupted run trained on other data (or another --dev/--tag-column); "
                         "resume with the same data, or start afresh with --overwrite")
    now = learning_options(options)
    for name, value in saved.get("options", {}).items():
        if now.get(name) != value:
            flag = "--" + name.removeprefix("model.").replace("_", "-")
            raise UsageError(f"{ckpt}: the interrupted run used {flag} {value}, this one {now.get(name)}; "
                             "resume with the same options, or start afresh with --overwrite")


def epoch_batches(sentences: Sequence[Sentence], vocab: Vocab, options: TrainOptions, epoch: int,
                  evidence: list[np.ndarray] | None, singletons: np.ndarray,
                  posteriors: Posteriors | None = None) -> Iterator[tuple[dict, np.ndarray]]:
    """One epoch's (inputs, targets) batches, shuffled with a seed derived from the epoch's number, rare words
    dropped; `evidence` is read as each batch is made. The targets are the labels, or for a distilled
    student the labels (channel 0) and the teachers' `posteriors` (the rest) in one array."""
    rng = np.random.default_rng([options.seed, epoch])
    for indices in training_batches(sentences, options.batch_size, rng):
        batch = encode_batch([sentences[i] for i in indices], vocab, with_labels=True)
        batch["word"] = drop_singletons(batch["word"], singletons, options.word_dropout, rng)
        if evidence is not None:
            batch["evidence"] = _padded([evidence[i] for i in indices], batch["word"].shape[1])
        labels = batch.pop("labels")
        if posteriors is not None:
            teachers = posteriors.padded(indices, labels.shape[1])
            labels = np.concatenate([labels[:, :, None].astype(np.float32), teachers], axis=2)
        yield batch, labels


def _dataset(sentences: Sequence[Sentence], vocab: Vocab, options: TrainOptions, first_epoch: int,
             evidence: list[np.ndarray] | None, posteriors: Posteriors | None = None):
    """A tf.data pipeline over `epoch_batches`, one epoch per pass.

    `evidence` (per sentence, replaced in place after each epoch) is read as each batch is made.
    """
    import tensorflow as tf

    count = steps_per_epoch(sentences, options.batch_size)
    singletons = singleton_ids(sentences, vocab)
    epoch = [first_epoch]

    def generate():
        number = epoch[0]
        epoch[0] += 1
        yield from epoch_batches(sentences, vocab, options, number, evidence, singletons, posteriors)

    spec = {"word": tf.TensorSpec((None, None), tf.int32), "case": tf.TensorSpec((None, None), tf.int32),
            "char": tf.TensorSpec((None, None, None), tf.int32)}
    if vocab.glove is not None:
        spec["glove"] = tf.TensorSpec((None, None, vocab.glove.dim), tf.float32)
    if evidence is not None:
        spec["evidence"] = tf.TensorSpec((None, None, evidence_width(vocab.labels)), tf.float32)
    targets = tf.TensorSpec((None, None), tf.int32) if posteriors is None else \
        tf.TensorSpec((None, None, 1 + posteriors.width), tf.float32)
    data = tf.data.Dataset.from_generator(generate, output_signature=(spec, targets))
    return data.apply(tf.data.experimental.assert_cardinality(count)).prefetch(2)


def _padded(rows: Sequence[np.ndarray], width: int) -> np.ndarray:
    grid = np.zeros((len(rows), width, rows[0].shape[1]), np.float32)
    for row, values in enumerate(rows):
        grid[row, : len(values)] = values
    return grid


def singleton_ids(sentences: Sequence[Sentence], vocab: Vocab) -> np.ndarray:
    counts = Counter(vocab.word_id(token) for sentence in sentences for token in sentence.tokens)
    return np.array(sorted(i for i, n in counts.items() if n == 1), dtype=np.int32)


def _compile(model, options: TrainOptions, steps_per_epoch: int) -> None:
    """Adam with inverse-time decay per epoch and clipping; the weights at each epoch's end are an
    exponential moving average of the last few hundred steps (what dev is scored and saved with)."""
    import keras

    from ..model.crf import CRFLoss, DistillLoss

    schedule = keras.optimizers.schedules.InverseTimeDecay(
        options.learning_rate, decay_steps=steps_per_epoch, decay_rate=options.lr_decay)
    # On a small corpus the average must not reach back past the epoch's first quarter, or it would
    # stay close to the random initial weights for many epochs.
    momentum = max(0.0, min(options.ema_momentum, 1 - 4 / steps_per_epoch))
    optimizer = keras.optimizers.Adam(
        learning_rate=schedule, clipnorm=options.clipnorm, use_ema=momentum > 0,
        ema_momentum=momentum or 0.99, ema_overwrite_frequency=steps_per_epoch)
    crf = model.get_layer("crf")
    loss = DistillLoss(crf, options.distill_weight, options.distill_temperature) if options.teachers else CRFLoss(crf)
    model.compile(optimizer=optimizer, loss=loss)


def steps_per_epoch(sentences: Sequence[Sentence], batch_size: int) -> int:
    return len(training_batches(sentences, batch_size, np.random.default_rng(0)))


def plot_history(history: list[dict], path: Path) -> None:
    """Loss and dev F1 per epoch, saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    figure, loss_axis = plt.subplots(figsize=(7, 4))
    loss_axis.plot(epochs, [h["loss"] for h in history], "o-", color="tab:blue", label="training loss")
    loss_axis.set_xlabel("epoch")
    loss_axis.set_ylabel("training loss (NLL per sentence)", color="tab:blue")
    if all("dev_f1" in h for h in history):
        f1_axis = loss_axis.twinx()
        f1_axis.plot(epochs, [100 * h["dev_f1"] for h in history], "s-", color="tab:red", label="dev F1")
        f1_axis.set_ylabel("dev entity F1 (%)", color="tab:red")
    figure.suptitle("ner-lstm training")
    figure.tight_layout()
    write_file_atomic(path, lambda tmp: figure.savefig(tmp, format="png", dpi=90))
    plt.close(figure)


def _write_history(directory: Path, history: list[dict]) -> None:
    lines = "".join(json.dumps(h, sort_keys=True) + "\n" for h in history)
    write_file_atomic(directory / "training.jsonl", lambda tmp: tmp.write_text(lines, "utf-8"))
    plot_history(history, directory / "training.png")


class Trainer:
    """Owns one training run: the model, its vocabulary, and the state that `--resume` restores."""

    def __init__(self, model_dir: Path, options: TrainOptions, data_info: dict, fingerprint: str = "") -> None:
        self.model_dir = model_dir
        self.options = options
        self.data_info = data_info
        self.fingerprint = fingerprint
        self.partial: tuple[int, int] | None = None  # (steps done, steps per epoch) when time ran out mid-epoch
        self.state = {"epoch": 0, "best_f1": -1.0, "best_epoch": 0, "wait": 0, "elapsed": 0.0, "history": []}
        self.model = None
        self.serving = None
        self.tagger = None
        self.vocab: Vocab | None = None
        # Per training sentence, other mentions' evidence from the last finished epoch's network (zeros
        # before the first); None for a model without the evidence input.
        self.evidence: list[np.ndarray] | None = None
        self.parent: dict | None = None  # what config.json says of the model this one continues
        self.posteriors: Posteriors | None = None  # the teachers' (`options.teachers`), for a distilled student

    # --- setting up --------------------------------------------------------------------------
    def prepare(self, train: Sequence[Sentence], glove: GloveTable | None, parent: Parent | None = None) -> None:
        """Build the vocabulary and a fresh model for `train`, or the `parent`'s grown by `train`'s new words,
        characters and labels, its weights copied in."""
        import keras

        keras.utils.set_random_seed(self.options.seed)
        if parent is None:
            self.vocab = Vocab.build(train, glove, document_context=self.options.model.document_context)
        else:
            self.vocab = grown_vocab(parent.vocab, train)
        self.model = build_model(self.options.model, self.vocab)
        self.serving = build_model(self.options.model, self.vocab)
        if parent is not None:
            copy_weights(parent, self.model, self.vocab)
        _compile(self.model, self.options, steps_per_epoch(train, self.options.batch_size))
        if self.options.model.evidence:
            width = evidence_width(self.vocab.labels)
            self.evidence = [np.zeros((len(s), width), np.float32) for s in train]
            if parent is not None:  # what the parent's network predicts, as training feeds it after an epoch
                self.evidence = self._tagger().evidence(train)

    def restore(self, train: Sequence[Sentence], glove: GloveTable | None) -> None:
        """Rebuild the model from the checkpoint and load weights, optimizer state and counters."""
        import keras

        ckpt = checkpoint_dir(self.model_dir)
        if not (ckpt / "state.json").is_file():
            raise UsageError(f"{ckpt}: no checkpoint to resume from; train without --resume")
        saved = read_json(ckpt / "state.json")
        _check_resumable(saved, self.options, self.fingerprint, ckpt)
        self.state = saved["state"]
        self._keep_a_better_saved_model()
        keras.utils.set_random_seed(self.options.seed + self.state["epoch"])
        self.vocab = Vocab.from_json(read_json(ckpt / "vocab.json"), glove)
        self.model = build_model(self.options.model, self.vocab)
        self.serving = build_model(self.options.model, self.vocab)
        steps = steps_per_epoch(train, self.options.batch_size)
        _compile(self.model, self.options, steps)
        self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(ckpt / STATE_WEIGHTS)
        # A partial epoch (--max-minutes) counts as a whole one: the step counter moves to the epoch's end,
        # so that Keras copies the averaged weights in at the end of each resumed epoch (it does so every
        # `steps` steps) and the learning rate is the one of that epoch.
        self.model.optimizer.iterations.assign(self.state["epoch"] * steps)
        if self.options.model.evidence:
            self.evidence = self._tagger().evidence(train)  # what the interrupted run had after that epoch

    def _keep_a_better_saved_model(self) -> None:
        """A kill between saving a new best model and writing the checkpoint leaves the model directory
        one epoch ahead: take its score as the best so far, so the resumed run cannot replace it
        with a worse one."""
        try:
            config, metrics = read_json(self.model_dir / "config.json"), read_json(self.model_dir / "metrics.json")
        except ModelError:  # no saved model yet (killed during the first epoch)
            return
        if config.get("data_fingerprint") != self.fingerprint:
            return
        saved_f1 = metrics.get("dev", {}).get("f1", -1.0)
        if saved_f1 > self.state["best_f1"]:
            self.state.update(best_f1=saved_f1, best_epoch=metrics.get("epoch", self.state["best_epoch"]), wait=0)

    # --- saving ------------------------------------------------------------------------------
    def config_json(self) -> dict:
        options = {k: v for k, v in asdict(self.options).items() if k not in RUN_OPTIONS}
        return {"format_version": FORMAT_VERSION, "model": self.options.model.to_json(), "training": options,
                "tag_scheme": "IOB2", "model_tag_scheme": "BIOES", "labels": self.vocab.labels,
                "data": self.data_info, "data_fingerprint": self.fingerprint, "versions": _versions(),
                "vectors": describe_vectors(self.options.model.embeddings, self.vocab.glove),
                **({"parent": self.parent} if self.parent else {})}

    def save_best(self, metrics: dict) -> None:
        """A complete model (`save_bundle` exports ONNX too), so that a run stopped at any point (Ctrl-C,
        --max-minutes, a kill) leaves a model that every command, the light install and the server load."""
        self.serving.set_weights(self.model.get_weights())  # an uncompiled twin: no optimizer state in the file
        save_bundle(self.model_dir, self.serving, self.config_json(), self.vocab, metrics,
                    extra=lambda tmp: _write_history(tmp, self.state["history"]))

    def save_checkpoint(self) -> None:
        def fill(tmp: Path) -> None:
            self.model.save_weights(tmp / STATE_WEIGHTS)
            write_json(tmp / "vocab.json", self.vocab.to_json())
            write_json(tmp / "state.json", {"state": self.state, "options": learning_options(self.options),
                                            "data_fingerprint": self.fingerprint})

        write_dir_atomic(checkpoint_dir(self.model_dir), fill)

    # --- one epoch's end -----------------------------------------------------------------------
    def _tagger(self):
        """One Tagger for the run, its traced function reused every epoch, with this epoch's CRF."""
        from ..inference.bundle import crf_json
        from ..inference.tagger import Tagger

        if self.tagger is None:
            self.tagger = Tagger.from_keras(self.model, self.vocab)
        self.tagger.set_crf(crf_json(self.model))
        return self.tagger

    def end_epoch(self, loss: float, train: Sequence[Sentence], dev: Sequence[Sentence], started: float) -> bool:
        """Score dev, renew the training evidence, log, keep the best model, checkpoint; return True when
        training should stop."""
        if self.partial is not None:
            # Keras copies the averaged weights in at each full epoch's end only; a cut epoch is
            # scored and saved with the average of its steps too, never with the raw weights.
            self.model.optimizer.finalize_variable_values(self.model.trainable_variables)
        dev_scores = None
        if dev:  # a --final run has no dev left to score
            dev_scores = score_tagger(self._tagger(), dev)
        if self.evidence is not None:
            self.evidence[:] = self._tagger().evidence(train)
        seconds = time.monotonic() - started  # the epoch's wall time, scoring dev included
        state = self.state
        state["epoch"] += 1
        state["elapsed"] += seconds
        entry = {"epoch": state["epoch"], "loss": round(float(loss), 4), "seconds": round(seconds, 1),
                 "elapsed_minutes": round(state["elapsed"] / 60, 2)}
        if dev_scores is not None:
            entry.update(dev_f1=dev_scores["f1"], dev_precision=dev_scores["precision"],
                         dev_recall=dev_scores["recall"])
        if self.partial is not None:
            entry["partial_steps"] = list(self.partial)
        state["history"].append(entry)
        # Without dev data (a --final run has trained on it) every epoch replaces the last.
        improved = dev_scores is None or dev_scores["f1"] > state["best_f1"]
        if improved:
            state.update(best_f1=dev_scores["f1"] if dev_scores else -1.0, best_epoch=state["epoch"], wait=0)
            self.save_best({"epoch": state["epoch"], **({"dev": dev_scores} if dev_scores else {})})
        else:
            state["wait"] += 1
            update_bundle(self.model_dir, lambda tmp: _write_history(tmp, state["history"]))
        self.save_checkpoint()
        self.say(self._epoch_line(loss, dev_scores, improved))
        if self.partial is not None:
            done, total = self.partial
            self.say(f"time limit (--max-minutes {self.options.max_minutes}) reached after {done} of {total} steps "
                     f"of epoch {state['epoch']}: the partial epoch was scored with its averaged weights")
        return state["wait"] >= self.options.patience

    def _epoch_line(self, loss: float, dev_scores: dict | None, improved: bool) -> str:
        state = self.state
        if dev_scores is None:
            return f"epoch {state['epoch']}: loss {loss:.3f} (saved)"
        mark = " (best, saved)" if improved else f" (best {100 * state['best_f1']:.2f} at epoch {state['best_epoch']})"
        return f"epoch {state['epoch']}: loss {loss:.3f}, dev F1 {100 * dev_scores['f1']:.2f}{mark}"

    def say(self, message: str) -> None:
        if self.options.verbose:
            print(message, flush=True)

    def out_of_time(self, started: float) -> bool:
        limit = self.options.max_minutes
        return limit is not None and self.state["elapsed"] + time.monotonic() - started > 60 * limit

    # --- the run -------------------------------------------------------------------------------
    def fit(self, train: Sequence[Sentence], dev: Sequence[Sentence]) -> dict:
        import keras

        trainer = self

        class EpochEnd(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.started = time.monotonic()

            def on_train_batch_end(self, batch, logs=None):
                if trainer.out_of_time(self.started) and batch + 1 < steps:
                    trainer.partial = (batch + 1, steps)
                    self.model.stop_training = True

            def on_epoch_end(self, epoch, logs=None):
                stop = trainer.end_epoch((logs or {}).get("loss", float("nan")), train, dev, self.started)
                if trainer.partial is None and not stop and trainer.out_of_time(time.monotonic()):
                    trainer.say(f"time limit (--max-minutes {trainer.options.max_minutes}) reached at the end "
                                f"of epoch {trainer.state['epoch']}")
                    self.model.stop_training = True
                elif stop or trainer.partial is not None:
                    self.model.stop_training = True

        steps = steps_per_epoch(train, self.options.batch_size)
        first = self.state["epoch"]
        if first >= self.options.epochs or self.state["wait"] >= self.options.patience:
            return self.summary()
        data = _dataset(train, self.vocab, self.options, first, self.evidence, self.posteriors)
        self.model.fit(data, epochs=self.options.epochs, initial_epoch=first, callbacks=[EpochEnd()],
                       verbose=self.options.verbose, shuffle=False)  # the batches are shuffled already
        return self.summary()

    def summary(self) -> dict:
        s = self.state
        to_best = next((h["elapsed_minutes"] for h in s["history"] if h["epoch"] == s["best_epoch"]), 0.0)
        return {"best_epoch": s["best_epoch"], "best_dev_f1": s["best_f1"], "epochs": s["epoch"],
                "minutes": round(s["elapsed"] / 60, 2), "minutes_to_best": to_best, "model_dir": str(self.model_dir)}

    def finish(self, dev: Sequence[Sentence], test: Sequence[Sentence] | None = None) -> dict | None:
        """Score `test` once with the selected model, fit its score calibration on `dev`, store its entity
        patterns, drop the checkpoint.

        Scored on the serving twin loaded with the saved weights: loading a second model,
        onnxruntime and the 400k-word vocabulary here would take training's peak past 2 GB.
        Returns the test scores (None without test data).
        """
        from ..evaluation.calibration import calibrate_model
        from ..inference.tagger import Tagger

        scores = None
        if self.state["best_epoch"]:
            self.model = self.tagger = None  # the training model and its traced function are done with
            gc.collect()
            self.serving.load_weights(self.model_dir / MODEL_FILE)  # exactly the model that was saved
            tagger = Tagger.from_keras(self.serving, self.vocab)
            if test:
                scores = score_tagger(tagger, test)
                update_bundle(self.model_dir, lambda tmp: write_json(
                    tmp / "metrics.json", {**read_json(tmp / "metrics.json"), "test": scores}))
            if dev and self.options.calibration != "none":
                record = calibrate_model(tagger, self.model_dir, self.options.calibration, dev, test)
                self.say(f"scores calibrated on dev ({record['method']}): ECE {record['dev']['ece_before']:.4f} -> "
                         f"{record['dev']['ece_after']:.4f}" + (f"; test {record['test']['ece_before']:.4f} -> "
                         f"{record['test']['ece_after']:.4f}" if "test" in record else ""))
            if self.options.patterns:
                store_patterns(self.model_dir, [self.options.patterns])
        shutil.rmtree(checkpoint_dir(self.model_dir), ignore_errors=True)
        return scores


def check_target(model_dir: Path, resume: bool, overwrite: bool) -> None:
    """Refuse to overwrite a model unless asked; refuse a resume with nothing to resume."""
    if resume:
        return
    if model_dir.exists() and not overwrite:
        raise UsageError(f"{model_dir}: already exists; pass --overwrite to replace it, or --resume to continue")
    if model_dir.exists() and not model_dir.is_dir():
        raise UsageError(f"{model_dir}: exists and is not a directory")
    shutil.rmtree(checkpoint_dir(model_dir), ignore_errors=True)


def train_model(corpora: Corpora, model_dir: Path, options: TrainOptions) -> dict:
    """Train (or resume), keep the best model by dev F1, score the test part with it; return a summary."""
    from ..errors import Interrupted

    check_target(model_dir, options.resume, options.overwrite)
    train, dev = corpora.train, corpora.dev
    vectors_dir = model_dir.parent / f".{model_dir.name}.vectors"  # a vector file's table, until it is saved
    teachers_dir = model_dir.parent / f".{model_dir.name}.posteriors"  # the teachers' posteriors, while training
    try:
        parent = None
        if options.init_from:
            parent, options.model = load_parent(Path(options.init_from), options.model, ModelConfig())
            glove = parent.vocab.glove
        else:
            glove = load_vectors(options.model.embeddings, vectors_dir)
        if glove is not None:
            options.model.word_dim = glove.dim
        trainer = Trainer(model_dir, options, corpora.describe(), corpora.fingerprint())
        if parent is not None:
            trainer.parent = parent.record()
        if options.resume:
            trainer.restore(train, glove)
        else:
            trainer.prepare(train, glove, parent)
        del parent  # the parent's network is copied: free it before the epochs
        if options.teachers:
            trainer.say(f"computing {len(options.teachers)} teachers' posteriors over the training data")
            trainer.posteriors = store_posteriors(options.teachers, train, trainer.vocab.labels,
                                                  options.distill_temperature, teachers_dir)
        try:
            summary = trainer.fit(train, dev)
        except KeyboardInterrupt:
            where = f"the best model so far (epoch {trainer.state['best_epoch']}) is in {model_dir}" \
                if trainer.state["best_epoch"] else "no epoch had finished, so no model was saved"
            raise Interrupted(f"interrupted: {where}; continue with --resume") from None
        test_scores = trainer.finish(dev, corpora.test)
    finally:
        shutil.rmtree(vectors_dir, ignore_errors=True)
        shutil.rmtree(teachers_dir, ignore_errors=True)
    if test_scores is not None:
        summary["test"] = test_scores
    return summary
