"""The CRF against brute force: every path enumerated on small cases."""
from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_lstm.model.crf import CRF, DistillLoss
from ner_lstm.model.crf_numpy import marginals_numpy, viterbi_numpy


def path_scores(emissions, length, transitions, start, end):
    scores = {}
    for path in itertools.product(range(emissions.shape[-1]), repeat=length):
        total = start[path[0]] + end[path[-1]] + sum(emissions[t, path[t]] for t in range(length))
        total += sum(transitions[path[t - 1], path[t]] for t in range(1, length))
        scores[path] = total
    return scores


def random_case(seed, tags, steps, batch):
    rng = np.random.default_rng(seed)
    emissions = rng.normal(size=(batch, steps, tags)).astype("float32")
    lengths = rng.integers(1, steps + 1, size=batch)
    lengths[0] = steps
    params = [rng.normal(size=s).astype("float32") for s in ((tags, tags), (tags,), (tags,))]
    return emissions, lengths, params


def crf_layer(tags, params):
    layer = CRF(tags)
    layer.build((None, None, tags))
    for variable, value in zip((layer.transitions, layer.start, layer.end), params):
        variable.assign(value)
    return layer


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), tags=st.integers(1, 4), steps=st.integers(1, 5))
def test_partition_viterbi_and_marginals_match_brute_force(seed, tags, steps):
    emissions, lengths, params = random_case(seed, tags, steps, batch=3)
    layer = crf_layer(tags, params)
    mask = np.arange(steps)[None, :] < lengths[:, None]
    log_z = np.asarray(layer.log_partition(emissions, mask))
    keras_paths = np.asarray(layer.viterbi(emissions, mask))
    numpy_paths = viterbi_numpy(emissions, lengths, *params)
    marginals = marginals_numpy(emissions, lengths, *params)
    keras_marginals = np.exp(np.asarray(layer.log_marginals(emissions, mask)))
    for b in range(3):
        n = int(lengths[b])
        scores = path_scores(emissions[b], n, *params)
        values = np.array(list(scores.values()))
        expected_z = np.log(np.exp(values - values.max()).sum()) + values.max()
        np.testing.assert_allclose(log_z[b], expected_z, rtol=1e-5, atol=1e-4)
        best = max(scores, key=scores.get)
        assert tuple(keras_paths[b, :n]) == best
        assert tuple(numpy_paths[b]) == best
        probs = np.exp(values - expected_z)
        for t in range(n):
            expected = [sum(p for path, p in zip(scores, probs) if path[t] == k) for k in range(tags)]
            np.testing.assert_allclose(marginals[b, t], expected, atol=1e-4)
            np.testing.assert_allclose(keras_marginals[b, t], expected, atol=1e-4)
        assert not marginals[b, n:].any()


def test_log_likelihood_of_gold_path():
    emissions, lengths, params = random_case(3, tags=3, steps=4, batch=2)
    layer = crf_layer(3, params)
    mask = np.arange(4)[None, :] < lengths[:, None]
    gold = np.array([[0, 2, 1, 1], [2, 1, 0, 0]], dtype="int32")
    ll = np.asarray(layer.log_likelihood(emissions, gold, mask))
    for b in range(2):
        n = int(lengths[b])
        scores = path_scores(emissions[b], n, *params)
        values = np.array(list(scores.values()))
        log_z = np.log(np.exp(values).sum())
        np.testing.assert_allclose(ll[b], scores[tuple(gold[b, :n])] - log_z, rtol=1e-5, atol=1e-4)


def test_marginals_at_a_temperature_are_those_of_every_score_divided_by_it():
    emissions, lengths, params = random_case(5, tags=4, steps=6, batch=3)
    mask = np.arange(6)[None, :] < lengths[:, None]
    hot = np.asarray(crf_layer(4, params).log_marginals(emissions, mask, 2.5))
    cooled = np.asarray(crf_layer(4, [p / 2.5 for p in params]).log_marginals(emissions / 2.5, mask))
    np.testing.assert_allclose(hot[mask], cooled[mask], atol=1e-5)
    flat = np.exp(hot[mask])
    np.testing.assert_allclose(flat.sum(axis=1), 1.0, atol=1e-5)


def test_marginals_traced_on_one_token_sentences():
    import tensorflow as tf

    emissions, _, params = random_case(9, tags=3, steps=1, batch=2)
    layer = crf_layer(3, params)
    traced = tf.function(layer.log_marginals, input_signature=[tf.TensorSpec((None, None, 3)),
                                                                tf.TensorSpec((None, None), tf.bool)])
    marginals = np.exp(traced(emissions, np.ones((2, 1), bool)).numpy())
    np.testing.assert_allclose(marginals, marginals_numpy(emissions, np.array([1, 1]), *params), atol=1e-5)


def test_distill_loss_is_the_likelihood_plus_the_weighted_divergence_to_the_teachers():
    emissions, lengths, params = random_case(7, tags=3, steps=4, batch=2)
    layer = crf_layer(3, params)
    mask = np.arange(4)[None, :] < lengths[:, None]
    gold = np.where(mask, np.array([[0, 2, 1, 1], [2, 1, 0, 0]]), -1)
    student = np.exp(np.asarray(layer.log_marginals(emissions, mask)))
    nll = -np.asarray(layer.log_likelihood(emissions, np.maximum(gold, 0), mask))

    def loss(teacher, weight=0.5):
        y_true = np.concatenate([gold[:, :, None], teacher], axis=2).astype("float32")
        return np.asarray(DistillLoss(layer, weight, 1.0).call(y_true, emissions))

    # Teachers that agree with the student add nothing; any others add their divergence, times the weight.
    np.testing.assert_allclose(loss(np.where(mask[:, :, None], student, 0)), nll, rtol=1e-5, atol=1e-4)
    uniform = np.where(mask[:, :, None], 1 / 3, 0)
    kl = (uniform * (np.log(1 / 3) - np.log(student))).sum(axis=2)
    np.testing.assert_allclose(loss(uniform), nll + 0.5 * (kl * mask).sum(axis=1), rtol=1e-5, atol=1e-4)


def test_layer_config_round_trip():
    layer = CRF(5, name="crf")
    again = CRF.from_config(layer.get_config())
    assert again.num_tags == 5 and again.name == "crf"


def test_bioes_constraints_forbid_broken_entities():
    from ner_lstm.model.crf_numpy import bioes_constraints

    labels = ["O", "B-LOC", "E-LOC", "I-LOC", "S-LOC", "B-PER", "E-PER", "I-PER", "S-PER"]
    allowed, start, end = bioes_constraints(labels)
    ok = {(a, b) for i, a in enumerate(labels) for j, b in enumerate(labels) if allowed[i, j]}
    assert ("O", "B-PER") in ok and ("E-LOC", "S-PER") in ok and ("B-PER", "I-PER") in ok and ("I-PER", "E-PER") in ok
    assert ("O", "E-PER") not in ok and ("B-PER", "I-LOC") not in ok and ("B-PER", "O") not in ok
    assert ("S-PER", "I-PER") not in ok and ("I-LOC", "B-LOC") not in ok
    assert [t for t, a in zip(labels, start) if a] == ["O", "B-LOC", "S-LOC", "B-PER", "S-PER"]
    assert [t for t, a in zip(labels, end) if a] == ["O", "E-LOC", "S-LOC", "E-PER", "S-PER"]


def test_constrained_decoding_never_outputs_a_broken_entity():
    from ner_lstm.model.crf_numpy import FORBIDDEN, bioes_constraints

    labels = ["O", "B-PER", "E-PER", "I-PER", "S-PER"]
    allowed, start, end = bioes_constraints(labels)
    emissions = np.zeros((1, 3, 5), np.float32)
    emissions[0, :, 3] = 5.0  # every emission says I-PER, which cannot open or close an entity
    params = [np.where(a, 0.0, FORBIDDEN).astype(np.float32) for a in (allowed, start, end)]
    path = [labels[i] for i in viterbi_numpy(emissions, np.array([3]), *params)[0]]
    assert path == ["B-PER", "I-PER", "E-PER"]
    free = [labels[i] for i in viterbi_numpy(emissions, np.array([3]), *(np.zeros_like(p) for p in params))[0]]
    assert free == ["I-PER"] * 3
