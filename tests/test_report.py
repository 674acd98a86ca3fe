"""The error report: matching, confusion, SemEval modes and calibration figures against hand-counted cases;
`evaluate --report` and `--json` end to end, the page opened in Chromium."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from ner_lstm.data.corpus import Sentence
from ner_lstm.evaluation.calibration import expected_calibration_error, scored_entities, summary
from ner_lstm.evaluation.confusion import Span, confusion, match, outcomes, semeval, worst
from ner_lstm.evaluation.report import analyse
from ner_lstm.inference.tagger import Tagged

CHROMIUM = shutil.which("chromium")

# Sentence 1: PER right (0.99), LOC predicted ORG on the same span (0.8), MISC missed.
# Sentence 2: ORG "Acme Corp Ltd" predicted as "Acme Corp" (0.6), a spurious PER (0.7).
GOLD = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-MISC"], ["B-ORG", "I-ORG", "I-ORG", "O", "O"]]
PREDICTED = [["B-PER", "I-PER", "O", "B-ORG", "O", "O"], ["B-ORG", "I-ORG", "O", "O", "B-PER"]]
CONFIDENCE = [[0.99, 0.995, 0.9, 0.8, 0.9, 0.3], [0.6, 0.7, 0.9, 0.9, 0.7]]
TOKENS = [["Major", "Tom", "in", "Paris", "and", "German"], ["Acme", "Corp", "Ltd", "said", "Smith"]]


@pytest.fixture
def results():
    sentences = [Sentence(tokens, gold, source="hand.txt", line=1 + 8 * i)
                 for i, (tokens, gold) in enumerate(zip(TOKENS, GOLD))]
    return sentences, [Tagged(s, tags, conf) for s, tags, conf in zip(sentences, PREDICTED, CONFIDENCE)]


def test_matching_pairs_by_overlap_one_to_one():
    gold = [Span("ORG", 0, 3), Span("PER", 5, 6)]
    predicted = [Span("ORG", 0, 1), Span("ORG", 1, 3), Span("LOC", 7, 8)]
    pairs = match(gold, predicted)
    assert (Span("ORG", 0, 3), Span("ORG", 1, 3)) in pairs, "the largest overlap wins"
    assert (None, Span("ORG", 0, 1)) in pairs, "a second prediction over one gold entity is spurious"
    assert (Span("PER", 5, 6), None) in pairs and (None, Span("LOC", 7, 8)) in pairs
    assert len(pairs) == 4


def test_outcomes_kinds_and_scores_by_hand(results):
    sentences, tagged = results
    found = outcomes([s.tags for s in sentences], tagged)
    kinds = sorted((o.kind, o.sentence, o.score) for o in found)
    assert kinds == [("correct", 0, 0.99), ("missed", 0, 0.3), ("spurious", 1, 0.7), ("wrong boundary", 1, 0.6),
                     ("wrong type", 0, 0.8)]


def test_confusion_matrix_cells_with_missed_and_spurious(results):
    sentences, tagged = results
    matrix = confusion(outcomes([s.tags for s in sentences], tagged), ["LOC", "MISC", "ORG", "PER"])
    assert matrix["rows"] == ["LOC", "MISC", "ORG", "PER", "spurious"]
    assert matrix["columns"] == ["LOC", "MISC", "ORG", "PER", "missed"]
    cells = {(r, c): matrix["counts"][i][j] for i, r in enumerate(matrix["rows"])
             for j, c in enumerate(matrix["columns"]) if matrix["counts"][i][j]}
    assert cells == {("LOC", "ORG"): 1, ("MISC", "missed"): 1, ("ORG", "ORG"): 1, ("PER", "PER"): 1,
                     ("spurious", "PER"): 1}


def test_semeval_modes_by_hand(results):
    sentences, tagged = results
    modes = semeval([s.tags for s in sentences], [t.tags for t in tagged], ["LOC", "MISC", "ORG", "PER"])
    # 4 gold, 4 predicted. strict: PER right; LOC->ORG, ORG boundary incorrect; MISC missed; PER spurious.
    assert {k: modes["strict"]["overall"][k] for k in ("correct", "incorrect", "partial", "missed", "spurious")} == \
        {"correct": 1, "incorrect": 2, "partial": 0, "missed": 1, "spurious": 1}
    assert modes["strict"]["overall"]["precision"] == pytest.approx(1 / 4)
    # exact boundary: the LOC->ORG span is exact (correct), the ORG boundary is not.
    assert modes["exact boundary"]["overall"]["correct"] == 2
    # partial boundary: the ORG overlap is partial, counted half: (2 + 0.5) / 4.
    assert modes["partial boundary"]["overall"]["partial"] == 1
    assert modes["partial boundary"]["overall"]["precision"] == pytest.approx(2.5 / 4)
    # type: overlap with the same type is right (PER, ORG), LOC->ORG is not.
    assert modes["type"]["overall"]["correct"] == 2 and modes["type"]["overall"]["incorrect"] == 1
    assert modes["strict"]["per_type"]["PER"]["correct"] == 1


def test_calibration_figures_by_hand():
    scores = np.array([0.95, 0.95, 0.95, 0.95, 0.55, 0.55])
    right = np.array([1, 1, 1, 0, 1, 0], float)
    # bin 14 (0.933-1): 4 entities, accuracy 0.75, score 0.95; bin 8 (0.533-0.6): 2, accuracy 0.5, score 0.55.
    assert expected_calibration_error(scores, right) == pytest.approx(4 / 6 * 0.2 + 2 / 6 * 0.05)
    found = summary(scores, right, n_gold=8)
    assert found["brier"] == pytest.approx((3 * 0.05 ** 2 + 0.95 ** 2 + 0.45 ** 2 + 0.55 ** 2) / 6, abs=1e-6)
    at = {t["threshold"]: t for t in found["thresholds"]}
    assert at[0.5] == {"threshold": 0.5, "precision": pytest.approx(4 / 6, abs=1e-6), "coverage": 1.0, "recall": 0.5}
    assert at[0.9]["precision"] == 0.75 and at[0.9]["coverage"] == pytest.approx(4 / 6, abs=1e-6)
    assert at[0.99]["precision"] is None and at[0.99]["coverage"] == 0.0
    assert [b["count"] for b in found["bins"]][8] == 2 and found["bins"][14]["accuracy"] == 0.75


def test_scored_entities_are_right_only_on_exact_span_and_type(results):
    sentences, tagged = results
    scores, right, n_gold = scored_entities([s.tags for s in sentences], tagged)
    assert n_gold == 4
    assert sorted(zip(scores.tolist(), right.tolist())) == [(0.6, 0.0), (0.7, 0.0), (0.8, 0.0), (0.99, 1.0)]


def test_worst_errors_sorted_by_score_in_context(results):
    sentences, tagged = results
    errors = worst(outcomes([s.tags for s in sentences], tagged), sentences, per_kind=5)
    assert errors["wrong type"] == [{"sentence": "Major Tom in Paris and German", "where": "hand.txt:1",
                                     "gold": {"label": "LOC", "token_start": 3, "token_end": 4, "text": "Paris"},
                                     "predicted": {"label": "ORG", "token_start": 3, "token_end": 4, "text": "Paris"},
                                     "score": 0.8}]
    assert errors["missed"][0]["gold"]["text"] == "German" and errors["missed"][0]["predicted"] is None
    assert errors["wrong boundary"][0]["predicted"]["text"] == "Acme Corp"
    assert errors["spurious"][0]["where"] == "hand.txt:9"
    assert analyse(sentences, tagged)["error_counts"] == {"wrong type": 1, "wrong boundary": 1, "missed": 1,
                                                          "spurious": 1}


def test_evaluate_report_and_json_end_to_end_and_the_page_in_chromium(trained_model, sample, tmp_path):
    from typer.testing import CliRunner

    from ner_lstm.cli import app

    out = tmp_path / "report"
    out.mkdir()
    (out / "mine.txt").write_text("kept")
    result = CliRunner().invoke(app, ["evaluate", str(sample / "test.txt"), "--model", str(trained_model),
                                      "--report", str(out), "--errors-per-kind", "3"])
    assert result.exit_code == 0, result.output
    assert (out / "mine.txt").read_text() == "kept", "other files in the folder are left alone"
    report = json.loads((out / "report.json").read_text())
    as_json = json.loads(CliRunner().invoke(app, ["evaluate", str(sample / "test.txt"), "--model",
                                                  str(trained_model), "--json"]).stdout)
    assert as_json["f1"] == report["scores"]["f1"]
    for part in ("semeval", "confusion", "calibration"):
        assert as_json[part] == report[part], part
    counts = np.array(report["confusion"]["counts"])
    assert counts[:-1].sum() == report["scores"]["support"], "every gold entity is in one cell of its row"
    assert counts[:, :-1].sum() == report["calibration"]["entities"], "every prediction is in one column"
    assert all(len(items) <= 3 for items in report["errors"].values())
    if CHROMIUM is None:
        pytest.fail("chromium is not installed; .ci/run installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page()
        requested = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto((out / "report.html").as_uri())
        assert requested == [(out / "report.html").as_uri()], "nothing is fetched: the page is self-contained"
        for figure in ("#confusion-figure svg", "#reliability-figure svg"):
            box = page.locator(figure).bounding_box()
            assert box and box["width"] > 100 and box["height"] > 100, figure
        assert page.text_content("#ece") == f"{report['calibration']['ece']:.4f}"
        overall = page.locator("#scores tr").last.text_content()
        assert f"{100 * report['scores']['f1']:.2f}" in overall
        assert page.locator("#confusion tr").count() == len(report["confusion"]["rows"]) + 1
        browser.close()
