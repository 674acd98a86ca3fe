"""`Tagger`: a trained model as a library object. Load a model directory, tag sentences, get entities.

By default the exported ONNX network runs the model (no TensorFlow import, fast
start); `backend="keras"` runs `model.keras` instead. Both decode with the same
NumPy CRF, so they give the same tags.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ..data.corpus import Sentence, join_tokens
from ..data.text import split_text
from ..errors import ModelError, UsageError
from ..model.batching import encode_batch, sorted_batches
from ..model.crf_numpy import FORBIDDEN, bioes_constraints, marginals_numpy, viterbi_numpy
from ..model.evidence import evidence, evidence_width, type_map
from ..model.vocab import Vocab
from . import BATCH_SIZE
from .bundle import CRF_FILE, check_dir, crf_json, read_json, read_vocab
from .calibration import Calibration, read_calibration
from .entities import Entity, entities
from .patterns import PATTERNS_FILE, Match, Patterns, read_patterns

BACKENDS = ("auto", "onnx", "keras")
Emissions = Callable[[dict[str, np.ndarray]], np.ndarray]


@dataclass
class Tagged:
    """A sentence with its predicted tags, per-tag confidence and entities (found when first asked for:
    CoNLL output never needs them)."""

    sentence: Sentence
    tags: list[str]
    confidence: list[float] = field(default_factory=list)
    calibration: Calibration = field(default_factory=Calibration, repr=False)
    matches: list[Match] = field(default_factory=list)  # entity patterns written into `tags`

    @cached_property
    def entities(self) -> list[Entity]:
        if not self.confidence:
            return []
        return entities(self.tags, *_surface(self.sentence), self.confidence, self.calibration.entity_score,
                        self.matches)


def _surface(sentence: Sentence) -> tuple[list[tuple[int, int]], str]:
    """The sentence's token offsets and text; tokens without text are joined by single spaces."""
    if sentence.offsets is not None and sentence.text is not None:
        return sentence.offsets, sentence.text
    text, offsets = join_tokens(sentence.tokens)
    return offsets, text


class Tagger:
    """Tags tokenised sentences or raw text with a trained model."""

    def __init__(self, emissions: Emissions, vocab: Vocab, crf: dict, config: dict | None = None) -> None:
        self.emissions = emissions
        self.vocab = vocab
        self.batch_size = BATCH_SIZE
        self.source: tuple[str, str] | None = None  # (model directory, backend), to load it again elsewhere
        self.config = config or {}
        self.calibration = Calibration()  # the model's calibration.json, when `load` finds one
        self.min_score: float | None = None  # entities scored below it are left out (their tokens tagged O)
        self.patterns: Patterns | None = None  # entity patterns applied after the CRF
        self.set_crf(crf)

    def set_crf(self, crf: dict) -> None:
        """The CRF's scores, with what BIOES forbids forbidden (`bioes_constraints`)."""
        transitions = np.asarray(crf["transitions"], dtype=np.float32)
        start, end = np.asarray(crf["start"], dtype=np.float32), np.asarray(crf["end"], dtype=np.float32)
        if transitions.shape != (len(self.vocab.labels),) * 2:
            raise ModelError(f"CRF scores ({transitions.shape}) do not match {len(self.vocab.labels)} labels")
        allowed = bioes_constraints(self.vocab.labels)
        transitions, start, end = (np.where(a, s, FORBIDDEN).astype(np.float32)
                                   for a, s in zip(allowed, (transitions, start, end)))
        self.crf = crf
        self.transitions, self.start, self.end = transitions, start, end
        self.types = type_map(self.vocab.labels)
        self.evidence_map = None  # (evidence width, labels): other mentions' evidence added to the emissions
        if "evidence" in crf:
            self.evidence_map = np.asarray(crf["evidence"], dtype=np.float32)
            if self.evidence_map.shape != (evidence_width(self.vocab.labels), len(self.vocab.labels)):
                raise ModelError(f"the evidence map ({self.evidence_map.shape}) does not match "
                                 f"{len(self.vocab.labels)} labels")

    @classmethod
    def from_keras(cls, model, vocab: Vocab, config: dict | None = None) -> Tagger:
        from .runtime import KerasEmissions

        return cls(KerasEmissions(model), vocab, crf_json(model), config)

    @classmethod
    def load(cls, path: str | Path, backend: str = "auto", threads: int | None = None) -> Tagger:
        """Load a model directory; `auto` and `onnx` run its ONNX export, `keras` its Keras model.

        A directory without the export is incomplete (`check_dir` says so), never a quiet switch to Keras:
        that would import TensorFlow where it is installed and fail where it is not (the light install,
        the server, Ray actors).
        """
        if backend not in BACKENDS:
            raise UsageError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        path = Path(path)
        config = check_dir(path)
        vocab = read_vocab(path, config)
        if backend == "keras":
            tagger = cls._load_keras(path, vocab, config)
        else:
            tagger = cls._load_onnx(path, vocab, config, threads)
        tagger.source = (str(path), backend)
        tagger.calibration = read_calibration(path)
        if (path / PATTERNS_FILE).is_file():
            tagger.patterns = Patterns(read_patterns(path / PATTERNS_FILE))
        return tagger

    def use_patterns(self, files: Sequence[str | Path] = (), mode: str | None = None) -> None:
        """Add the patterns of `files` after the model's own, and choose how matches meet model entities."""
        added = [pattern for file in files for pattern in read_patterns(file)]
        own = self.patterns.patterns if self.patterns is not None else []
        mode = mode or (self.patterns.mode if self.patterns is not None else "override")
        if added:
            self.patterns = Patterns([*own, *added], mode)
        elif self.patterns is not None:
            self.patterns.set_mode(mode)  # the model's own trie, kept

    @classmethod
    def _load_keras(cls, path: Path, vocab: Vocab, config: dict) -> Tagger:
        from ..extras import require
        from .bundle import load_keras_model
        from .runtime import import_tensorflow_quietly

        require("train", "the Keras backend", ("tensorflow", "keras"))
        import_tensorflow_quietly()
        model = load_keras_model(path)
        _check_consistent(path, model, vocab)
        return cls.from_keras(model, vocab, config)

    @classmethod
    def _load_onnx(cls, path: Path, vocab: Vocab, config: dict, threads: int | None) -> Tagger:
        from .bundle import ONNX_FILE
        from .runtime import OnnxEmissions

        try:
            emissions = OnnxEmissions(path / ONNX_FILE, threads)
        except Exception as err:  # onnxruntime raises its own types for bad files
            raise ModelError(f"{path / ONNX_FILE}: cannot be loaded ({str(err).splitlines()[0][:200]})") from None
        crf = read_json(path / CRF_FILE)
        try:
            return cls(emissions, vocab, crf, config)
        except (KeyError, TypeError, ValueError):
            raise ModelError(f"{path / CRF_FILE}: malformed CRF scores") from None
        except ModelError as err:  # scores of the wrong shape: name the file they came from
            raise ModelError(f"{path / CRF_FILE}: {err}") from None

    def tag(self, sentences: Sequence[Sentence], scores: bool = True) -> list[Tagged]:
        """Tag in length-sorted batches and return results in input order.

        Sentences read together as one document (`read_conll`'s `-DOCSTART-` documents, `split_text`'s
        text) carry their document context; any other sentence is a document of its own. With other
        mentions' evidence, decoding waits until every sentence given has its emissions.
        """
        if self.evidence_map is not None:
            return self.decode(sentences, self.emission_rows(sentences), scores)
        results: list[Tagged | None] = [Tagged(s, []) if not len(s) else None for s in sentences]
        for batch, chosen, emissions in self._emissions(sentences):
            self._finish(results, batch, chosen, emissions, scores)  # while the network runs the next batch
        return results  # type: ignore[return-value]

    def emission_rows(self, sentences: Sequence[Sentence]) -> list[np.ndarray]:
        """Each sentence's network emissions (tokens x labels), for `decode`: the server runs the network on
        fair slices of many requests and decodes each request whole, as `tag` would have."""
        return self._rows(sentences, ((batch, emissions) for batch, _, emissions in self._emissions(sentences)))

    def queued_emissions(self, sentences: Sequence[Sentence], network: Executor) -> Callable[[], list[np.ndarray]]:
        """Queue every batch of `sentences` on `network` (encoded first, all at once: a bounded window's
        worth) and return what waits for their `emission_rows`: the local engine queues a window's network
        runs, then decodes the one before while they run.

        The thread that waits runs the batches no network thread has started yet itself, from the last
        back, instead of idling: a network thread fewer than CPUs then keeps every CPU busy, and no
        thread waits for a CPU (`engines.local.in_process`).
        """
        runs = []
        for batch in self._batches(sentences):
            inputs = self._encode([sentences[i] for i in batch])
            runs.append((batch, inputs, network.submit(self.emissions, inputs)))

        def rows() -> list[np.ndarray]:
            stolen = {k: self.emissions(inputs) for k, (_, inputs, run) in reversed(list(enumerate(runs)))
                      if run.cancel()}
            return self._rows(sentences, ((batch, np.asarray(stolen[k] if k in stolen else run.result(), np.float32))
                                          for k, (batch, _, run) in enumerate(runs)))
        return rows

    def _rows(self, sentences: Sequence[Sentence], done: Iterable[tuple[list[int], np.ndarray]]) -> list[np.ndarray]:
        """Each sentence's row of its batch's emissions (its own length), in input order."""
        rows = [np.zeros((0, len(self.vocab.labels)), np.float32)] * len(sentences)
        for batch, emissions in done:
            for row, index in enumerate(batch):
                rows[index] = emissions[row, : len(sentences[index])]
        return rows

    def decoding_scores(self, sentences: Sequence[Sentence]) -> list[np.ndarray]:
        """Each sentence's emission scores as the CRF decodes them (tokens x labels): the network's, plus
        other mentions' evidence. What an ensemble of models averages, with their CRF scores."""
        return self._with_evidence(sentences, self.emission_rows(sentences))

    def decode(self, sentences: Sequence[Sentence], rows: Sequence[np.ndarray], scores: bool = True) -> list[Tagged]:
        """What `tag(sentences)` returns, from their `emission_rows` (gathered in any number of calls).

        Decoded in `tag`'s length-sorted batches: one batch padded to the longest sentence of a whole split
        (calibration decodes dev and test dozens of times) took training's peak memory up by 300 MB.
        """
        results: list[Tagged | None] = [Tagged(s, []) if not len(s) else None for s in sentences]
        rows = self._with_evidence(sentences, rows)
        for batch in self._batches(sentences):
            chosen = [sentences[i] for i in batch]
            emissions = np.zeros((len(batch), max(len(s) for s in chosen), len(self.vocab.labels)), np.float32)
            for row, index in enumerate(batch):
                emissions[row, : len(sentences[index])] = rows[index]
            self._finish(results, batch, chosen, emissions, scores)
        return results  # type: ignore[return-value]

    def _with_evidence(self, sentences: Sequence[Sentence], rows: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The rows with other mentions' evidence added, sentence by sentence as `tag` adds it."""
        if self.evidence_map is None:
            return list(rows)
        found = self._document_evidence(sentences, {i: rows[i] for i, s in enumerate(sentences) if len(s)})
        return [rows[i] + found[i] @ self.evidence_map if i in found else rows[i] for i in range(len(sentences))]

    def _batches(self, sentences: Sequence[Sentence]) -> Iterator[list[int]]:
        """Indices of the non-empty sentences in length-sorted batches (empty ones have their result already)."""
        lengths = [len(s) for s in sentences]
        for batch in sorted_batches(lengths, max_tokens=32 * self.batch_size, max_size=self.batch_size):
            batch = [i for i in batch if lengths[i]]
            if batch:
                yield batch

    def _emissions(self, sentences: Sequence[Sentence]) -> Iterator[tuple[list[int], list[Sentence], np.ndarray]]:
        """(indices, sentences, emissions) of each length-sorted batch of the non-empty sentences.

        The network runs in a helper thread (it releases the GIL) while this one encodes the next
        batch and the caller decodes the previous, so both cores stay busy.
        """
        with ThreadPoolExecutor(max_workers=1) as network:
            pending = None
            for batch in self._batches(sentences):
                chosen = [sentences[i] for i in batch]
                running = (batch, chosen, network.submit(self.emissions, self._encode(chosen)))
                if pending is not None:
                    yield pending[0], pending[1], np.asarray(pending[2].result(), dtype=np.float32)
                pending = running
            if pending is not None:
                yield pending[0], pending[1], np.asarray(pending[2].result(), dtype=np.float32)

    def _encode(self, sentences: Sequence[Sentence]) -> dict[str, np.ndarray]:
        """The network's inputs, for every runtime: a format-4 ONNX graph reads each distinct word's characters
        once (`token_chars`), a format-3 graph and Keras every word's (`char`)."""
        return encode_batch(sentences, self.vocab, token_chars=True)

    def _finish(self, results: list, batch: list[int], chosen: list[Sentence], emissions: np.ndarray,
                scores: bool) -> None:
        for index, tagged in zip(batch, self._decode(chosen, emissions, scores)):
            results[index] = tagged

    def evidence(self, sentences: Sequence[Sentence]) -> list[np.ndarray]:
        """Each sentence's evidence from its document's other mentions (`model.evidence`), from the network's
        current emissions: what training feeds the network's evidence input."""
        rows = self.emission_rows(sentences)
        found = self._document_evidence(sentences, {i: rows[i] for i, s in enumerate(sentences) if len(s)})
        empty = np.zeros((0, self.types.shape[1] + 1), np.float32)
        return [found.get(index, empty) for index in range(len(sentences))]

    def _document_evidence(self, sentences: Sequence[Sentence], rows: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
        """Sentence index -> evidence, from the non-empty sentences' emission rows, found in input order, so
        that the sums over a document run in one order however the sentences were batched."""
        order = sorted(rows)
        return dict(zip(order, evidence([sentences[i] for i in order], [rows[i] for i in order], self.types)))

    def _decode(self, sentences: Sequence[Sentence], emissions: np.ndarray, scores: bool) -> list[Tagged]:
        """Viterbi paths, then marginals at the calibrated temperature (the paths do not depend on it), then
        the entity patterns and `min_score`."""
        lengths = np.array([len(s) for s in sentences])
        params = (self.transitions, self.start, self.end)
        paths = viterbi_numpy(emissions, lengths, *params)
        scores = scores or self.min_score is not None
        probs = None
        if scores:
            if self.calibration.temperature != 1.0:  # scaled copies only when there is a temperature
                scale = np.float32(1 / self.calibration.temperature)
                emissions, params = emissions * scale, tuple(p * scale for p in params)
            probs = marginals_numpy(emissions, lengths, *params)
        # The batch's tags and confidences in one lookup each, then cut per sentence: NumPy's cost is per call.
        path = np.concatenate(paths)
        tags = self.vocab.tags_of(path)
        confidences = [] if probs is None else \
            probs[np.repeat(np.arange(len(lengths)), lengths), _steps(lengths), path].tolist()
        ends = np.cumsum(lengths).tolist()
        out = []
        for row, sentence in enumerate(sentences):
            start, end = ends[row] - len(sentence), ends[row]
            tagged = Tagged(sentence, tags[start:end], confidences[start:end], self.calibration)
            if self.patterns is not None or self.min_score is not None:
                tagged = self._rules(tagged, None if probs is None else probs[row])
            out.append(tagged)
        return out

    def _rules(self, tagged: Tagged, probs: np.ndarray | None) -> Tagged:
        """Leave out entities scored below `min_score`, then write the pattern matches in; a token whose tag
        changed gets its new tag's confidence (the marginal of O, or 1.0 inside a match)."""
        tags = tagged.tags
        if self.min_score is not None:
            low = [entity for entity in tagged.entities if entity.score < self.min_score]
            if low:
                tags = list(tags)
                for entity in low:
                    tags[entity.token_start : entity.token_end] = ["O"] * (entity.token_end - entity.token_start)
        matches: list[Match] = []
        if self.patterns is not None:
            tags, matches = self.patterns.apply(tags, tagged.sentence.tokens)  # the same list when nothing matched
        if tags is tagged.tags:
            return tagged
        confidence = tagged.confidence
        if probs is not None:
            outside, inside = self.vocab.labels.index("O"), {t for m in matches for t in range(m.first, m.last)}
            confidence = [c if new == old else 1.0 if t in inside else float(probs[t, outside])
                          for t, (c, new, old) in enumerate(zip(confidence, tags, tagged.tags))]
        return Tagged(tagged.sentence, tags, confidence, self.calibration, matches)

    def predict(self, text: str) -> list[Tagged]:
        """Split raw text into sentences and tokens (`data.text`, CoNLL's conventions) and tag them;
        offsets index `text`."""
        return self.tag(split_text(text))

    def entities(self, text: str) -> list[Entity]:
        return [entity for tagged in self.predict(text) for entity in tagged.entities]

    def predict_tags(self, sentences: Iterable[Sentence]) -> list[list[str]]:
        return [t.tags for t in self.tag(list(sentences), scores=False)]

    def tag_dataset(self, dataset, token_field: str = "tokens", batch_size: int = 256):
        """Add `pred_tags` and `entities` columns to a Hugging Face `datasets.Dataset`."""
        from ..data.sources import dataset_sentence

        def add_columns(batch: dict, indices: list[int]) -> dict:
            tagged = self.tag([dataset_sentence(tokens, None, None, "dataset", i + 1)
                               for tokens, i in zip(batch[token_field], indices)])
            return {"pred_tags": [t.tags for t in tagged],
                    "entities": [[e.to_json() for e in t.entities] for t in tagged]}

        return dataset.map(add_columns, batched=True, batch_size=batch_size, with_indices=True)


def _steps(lengths: np.ndarray) -> np.ndarray:
    """Each token's position in its sentence, for sentences of `lengths` laid end to end."""
    return np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def _check_consistent(path: Path, model, vocab: Vocab) -> None:
    """Catch a vocab.json that does not belong to model.keras before it mislabels anything."""
    expected = {"crf": len(vocab.labels), "word_embedding": len(vocab.words) + 2,
                "glove": -1 if vocab.glove is None else vocab.glove.dim}
    glove_input = model.input.get("glove")
    sizes = {"crf": model.get_layer("crf").num_tags, "word_embedding": model.get_layer("word_embedding").input_dim,
             "glove": -1 if glove_input is None else glove_input.shape[-1]}
    for name, size in expected.items():
        if sizes[name] != size:
            raise ModelError(f"{path / 'vocab.json'}: does not match model.keras ({name}: {size} vs {sizes[name]})")
