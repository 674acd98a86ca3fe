"""Calibrated entity scores: fitted on dev, stored in the model, applied alike by ONNX, Keras, the server and the
CLI, batch-invariant; `--min-score` drops entities below a calibrated score."""
from __future__ import annotations

import json
import shutil

import httpx
import numpy as np
import pytest
from conftest import running_server
from typer.testing import CliRunner

from ner_lstm.cli import app
from ner_lstm.data.corpus import read_conll
from ner_lstm.errors import ModelError
from ner_lstm.evaluation.calibration import fit, measure
from ner_lstm.files import write_json
from ner_lstm.inference.bundle import update_bundle
from ner_lstm.inference.calibration import Calibration
from ner_lstm.inference.tagger import Tagger
from ner_lstm.model.crf_numpy import marginals_numpy

TEXTS = ["Major Tom is a great battle commander.", "Peter Blackburn met officials of the European Commission in "
         "Brussels on Tuesday.", "Germany 's representative to the European Union said so ."]
KNOTS = ((0.0, 0.5, 0.9, 1.0), (0.0, 0.2, 0.6, 0.95))


@pytest.fixture(scope="module")
def calibrated(trained_model, tmp_path_factory):
    """A copy of the trained model with a calibration whose effect is large: temperature 2 and isotonic knots."""
    model = tmp_path_factory.mktemp("calibrated") / "model"
    shutil.copytree(trained_model, model)
    chosen = Calibration("temperature+isotonic", 2.0, KNOTS)
    update_bundle(model, lambda tmp: write_json(tmp / "calibration.json", chosen.to_json()))
    return model


def expected_scores(tagger: Tagger, text: str) -> list[float]:
    """Entity scores computed by hand: marginals of the emissions and CRF scores divided by 2, the lowest over
    each entity's tags, through the knots."""
    tagged = tagger.predict(text)
    rows = tagger.emission_rows([t.sentence for t in tagged])
    evidence = tagger._document_evidence([t.sentence for t in tagged], dict(enumerate(rows)))
    found = []
    for index, (item, row) in enumerate(zip(tagged, rows)):
        added = evidence[index] @ tagger.evidence_map if tagger.evidence_map is not None else 0
        emissions = (row + added)[None] / 2
        probs = marginals_numpy(emissions, np.array([len(row)]), tagger.transitions / 2, tagger.start / 2,
                                tagger.end / 2)[0]
        labels = [tagger.vocab.labels.index(_bioes(item.tags, i)) for i in range(len(item.tags))]
        for entity in item.entities:
            raw = min(probs[t, labels[t]] for t in range(entity.token_start, entity.token_end))
            found.append(round(float(np.interp(raw, *KNOTS)), 4))
    return found


def _bioes(tags: list[str], i: int) -> str:
    tag = tags[i]
    if tag == "O":
        return tag
    ends = i + 1 == len(tags) or tags[i + 1] != "I-" + tag[2:]
    if tag.startswith("B-"):
        return ("S-" if ends else "B-") + tag[2:]
    return ("E-" if ends else "I-") + tag[2:]


def test_calibration_applies_alike_on_onnx_keras_and_the_server_and_as_computed_by_hand(calibrated):
    onnx, keras = Tagger.load(calibrated, "onnx"), Tagger.load(calibrated, "keras")
    raw = Tagger.load(calibrated)
    raw.calibration = Calibration()
    assert onnx.calibration.temperature == 2.0 and onnx.calibration.knots == KNOTS
    by_onnx = [[e.score for e in onnx.entities(text)] for text in TEXTS]
    by_keras = [[e.score for e in keras.entities(text)] for text in TEXTS]
    np.testing.assert_allclose(sum(by_onnx, []), sum(by_keras, []), atol=2e-4)
    assert sum(by_onnx, []) and sum(by_onnx, []) != [e.score for text in TEXTS for e in raw.entities(text)]
    for text, scores in zip(TEXTS, by_onnx):
        np.testing.assert_allclose(scores, expected_scores(onnx, text), atol=1e-4)
    with running_server(calibrated) as (url, _):
        answer = httpx.post(url + "/v1/entities", json={"texts": TEXTS}, timeout=60).json()
    assert [[e["score"] for e in result["entities"]] for result in answer["results"]] == by_onnx


def test_calibrated_scores_do_not_depend_on_the_batch(calibrated, sample):
    tagger = Tagger.load(calibrated)
    sentences = [s for s in read_conll(sample / "test.txt") if len(s)][:40]
    together = [[e.score for e in t.entities] for t in tagger.tag(sentences)]
    assert sum(together, []), "the sample's sentences have entities"
    tagger.batch_size = 3
    assert [[e.score for e in t.entities] for t in tagger.tag(sentences)] == together


def test_fitting_lowers_the_dev_calibration_error(trained_model, sample):
    tagger = Tagger.load(trained_model)
    tagger.calibration = Calibration()
    dev = [s for s in read_conll(sample / "dev.txt") if len(s)]
    before = measure(tagger, dev)["ece"]
    for method in ("temperature", "isotonic", "temperature+isotonic"):
        fitted = fit(tagger, dev, method)
        assert fitted.method == method and (fitted.knots is None) == (method == "temperature")
        tagger.calibration = fitted
        assert measure(tagger, dev)["ece"] <= before + 1e-9, method
        tagger.calibration = Calibration()


def test_the_trained_model_is_calibrated_and_says_so(trained_model):
    metrics = json.loads((trained_model / "metrics.json").read_text())
    record = metrics["calibration"]
    assert record["method"] == "temperature" and {"dev", "test"} <= set(record)
    assert record["dev"]["ece_after"] <= record["dev"]["ece_before"] + 1e-9
    info = CliRunner().invoke(app, ["info", "--model", str(trained_model)])
    assert f"dev ECE {record['dev']['ece_before']:.4f} -> {record['dev']['ece_after']:.4f}" in info.stdout


def test_calibrate_command_refits_and_a_malformed_calibration_is_refused(trained_model, sample, tmp_path):
    model = tmp_path / "m"
    shutil.copytree(trained_model, model)
    result = CliRunner().invoke(app, ["calibrate", str(sample / "dev.txt"), "--model", str(model), "--method",
                                      "isotonic", "--test", str(sample / "test.txt")])
    assert result.exit_code == 0, result.output
    assert "dev: ECE" in result.stdout and "test: ECE" in result.stdout
    assert json.loads((model / "calibration.json").read_text())["method"] == "isotonic"
    update_bundle(model, lambda tmp: write_json(tmp / "calibration.json", {"method": "magic", "temperature": 1}))
    with pytest.raises(ModelError, match="calibration.json: unknown calibration method"):
        Tagger.load(model)
    update_bundle(model, lambda tmp: write_json(tmp / "calibration.json", {"method": "isotonic", "temperature": 1,
                                                                            "isotonic": {"x": [1, 0], "y": [0, 1]}}))
    failed = CliRunner().invoke(app, ["predict", "Major Tom", "--model", str(model)])
    assert failed.exit_code == 2 and "calibration.json: malformed calibration" in failed.output


def test_min_score_leaves_out_entities_below_it_and_tags_their_tokens_o(calibrated):
    runner = CliRunner()
    every = json.loads(runner.invoke(app, ["predict", TEXTS[1], "--model", str(calibrated), "-f", "json"]).stdout)
    scores = sorted(e["score"] for e in every["entities"])
    assert len(scores) >= 2 and scores[0] < scores[-1]
    threshold = (scores[0] + scores[-1]) / 2
    kept = json.loads(runner.invoke(app, ["predict", TEXTS[1], "--model", str(calibrated), "-f", "json",
                                          "--min-score", str(threshold)]).stdout)
    assert kept["entities"] and all(e["score"] >= threshold for e in kept["entities"])
    assert len(kept["entities"]) < len(every["entities"])
    dropped = [e for e in every["entities"] if e["score"] < threshold]
    for entity in dropped:
        assert set(kept["tags"][entity["token_start"] : entity["token_end"]]) == {"O"}
