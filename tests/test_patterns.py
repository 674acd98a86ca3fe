"""Entity patterns (spaCy EntityRuler JSONL): reading, matching, the overlap rules, and every command applying them."""
from __future__ import annotations

import json
import shutil

import httpx
import pytest
from conftest import running_server, write
from typer.testing import CliRunner

from ner_lstm.cli import app
from ner_lstm.errors import InputError, UsageError
from ner_lstm.inference.patterns import Match, Pattern, Patterns, read_patterns
from ner_lstm.inference.tagger import Tagger

RULES = "\n".join(json.dumps(line) for line in [
    {"label": "ORG", "pattern": "battle commander", "id": "bc"},
    {"label": "PER", "pattern": [{"LOWER": "major"}, {"TEXT": "Tom"}]},
    {"label": "LOC", "pattern": [{"ORTH": "New"}, {"ORTH": "York"}, {"ORTH": "City"}]},
    {"label": "ORG", "pattern": [{"ORTH": "New"}, {"ORTH": "York"}]},
]) + "\n"


def test_reading_phrases_and_token_patterns(tmp_path):
    patterns = read_patterns(write(tmp_path / "p.jsonl", RULES + "\n"))
    assert patterns[0] == Pattern("ORG", (("ORTH", "battle"), ("ORTH", "commander")), "bc")
    assert patterns[1] == Pattern("PER", (("LOWER", "major"), ("ORTH", "Tom")), None), "TEXT is ORTH, LOWER lowered"
    phrase = read_patterns(write(tmp_path / "q.jsonl", '{"label": "ORG", "pattern": "U.S. Steel Corp."}\n'))[0]
    assert [value for _, value in phrase.tokens] == ["U.S.", "Steel", "Corp."], "cut as raw text is cut"


@pytest.mark.parametrize("line, message", [
    ('{"label": "ORG", "pattern": "x"', "not valid JSON"),
    ('{"pattern": "x"}', 'a "label" string'),
    ('{"label": "ORG", "pattern": 3}', '"pattern" must be a phrase'),
    ('{"label": "ORG", "pattern": [{"POS": "NOUN"}]}', "token attribute 'POS'"),
    ('{"label": "ORG", "pattern": [{"LOWER": "a", "ORTH": "b"}]}', "one dict with one of"),
    ('{"label": "ORG", "pattern": [{"LOWER": {"IN": ["a"]}}]}', "with dict value is not supported"),
    ('{"label": "ORG", "pattern": []}', "matches no token"),
    ('{"label": "NEW ORG", "pattern": "x"}', "holds a space"),
])
def test_a_malformed_pattern_file_names_its_line(tmp_path, line, message):
    path = write(tmp_path / "bad.jsonl", RULES.splitlines()[0] + "\n\n" + line + "\n")
    with pytest.raises(InputError, match=message) as caught:
        read_patterns(path)
    assert str(caught.value).startswith(f"{path}:3: ")


def test_matching_keeps_the_longest_then_the_earliest():
    patterns = Patterns([Pattern("LOC", (("ORTH", "New"), ("ORTH", "York"), ("ORTH", "City"))),
                         Pattern("ORG", (("ORTH", "New"), ("ORTH", "York"))),
                         Pattern("ORG", (("LOWER", "york"), ("LOWER", "city"), ("LOWER", "council"))),
                         Pattern("PER", (("LOWER", "tom"),), "t")])
    tokens = "in New York City Council , TOM and Tom".split()
    assert patterns.find(tokens) == [Match(1, 4, "LOC", None), Match(6, 7, "PER", "t"), Match(8, 9, "PER", "t")], \
        "of two matches of three tokens the earlier wins"
    assert patterns.find("New York City council".split()) == [Match(0, 3, "LOC", None)]
    assert patterns.find("New York city council".split()) == [Match(1, 4, "ORG", None)], "the longer beats the earlier"
    assert patterns.find("new york city".split()) == [], "ORTH is case-sensitive"


def test_override_replaces_overlapping_model_entities_and_fill_keeps_them():
    pattern = [Pattern("ORG", (("ORTH", "York"), ("ORTH", "Times")))]
    tags = ["O", "B-LOC", "I-LOC", "O", "B-PER"]
    tokens = ["the", "New", "York", "Times", "Smith"]
    overridden, kept = Patterns(pattern, "override").apply(tags, tokens)
    assert overridden == ["O", "O", "B-ORG", "I-ORG", "B-PER"] and kept == [Match(2, 4, "ORG", None)]
    filled, kept = Patterns(pattern, "fill").apply(tags, tokens)
    assert filled == tags and kept == []
    free, kept = Patterns([Pattern("ORG", (("ORTH", "the"),))], "fill").apply(tags, tokens)
    assert free[0] == "B-ORG" and kept == [Match(0, 1, "ORG", None)], "fill writes where the model found nothing"
    with pytest.raises(UsageError, match="unknown patterns mode"):
        Patterns(pattern, "merge")


def test_entities_say_where_they_came_from(trained_model, tmp_path):
    tagger = Tagger.load(trained_model)
    tagger.use_patterns([write(tmp_path / "p.jsonl", RULES)])
    entities = tagger.entities("Major Tom is a great battle commander in New York City .")
    by_text = {e.text: e for e in entities}
    assert by_text["battle commander"].to_json()["source"] == "pattern" and by_text["battle commander"].pattern_id == "bc"
    assert by_text["Major Tom"].label == "PER" and by_text["Major Tom"].score == 1.0
    assert by_text["New York City"].label == "LOC"
    plain = Tagger.load(trained_model)
    assert all(e.source == "model" and "id" not in e.to_json() for e in plain.entities("Major Tom is here ."))


def test_worker_processes_apply_given_patterns_and_min_score(trained_model, tmp_path, monkeypatch):
    from ner_lstm.engines import local

    monkeypatch.setattr(local, "WINDOW_TOKENS", 8)  # a window a line: worker processes tag all but the first two
    rules = write(tmp_path / "p.jsonl", RULES)
    source = write(tmp_path / "in.txt", "Major Tom is a great battle commander .\n" * 6)
    outputs = []
    for processes in ("1", "2"):
        out = tmp_path / f"out{processes}.jsonl"
        result = CliRunner().invoke(app, ["tag", str(source), "--model", str(trained_model), "--patterns", str(rules),
                                          "--min-score", "0.999", "--processes", processes, "-o", str(out)])
        assert result.exit_code == 0, result.output
        outputs.append([json.loads(line) for line in out.read_text().splitlines()])
    assert outputs[0] == outputs[1]
    assert all(r["tags"][5:7] == ["B-ORG", "I-ORG"] for r in outputs[1]), "the given patterns, in every worker"
    assert all(e["source"] == "pattern" or e["score"] >= 0.999 for r in outputs[1] for e in r["entities"])


def test_every_command_applies_given_and_stored_patterns(trained_model, sample, tmp_path):
    runner = CliRunner()
    rules = write(tmp_path / "p.jsonl", RULES)
    text = "Major Tom is a great battle commander ."
    predicted = json.loads(runner.invoke(app, ["predict", text, "--model", str(trained_model), "-f", "json",
                                               "--patterns", str(rules)]).stdout)
    assert {"battle commander", "Major Tom"} <= {e["text"] for e in predicted["entities"] if e["source"] == "pattern"}
    source = write(tmp_path / "in.txt", text + "\n")
    result = runner.invoke(app, ["tag", str(source), "--model", str(trained_model), "--patterns", str(rules),
                                 "--processes", "2", "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    tagged = json.loads((tmp_path / "out.jsonl").read_text())
    assert tagged["tags"][:2] == ["B-PER", "I-PER"] and tagged["tags"][5:7] == ["B-ORG", "I-ORG"]
    gold = write(tmp_path / "gold.txt", "battle B-ORG\ncommander I-ORG\nwon O\n")
    scores = [json.loads(runner.invoke(app, ["evaluate", str(gold), "--model", str(trained_model), "--json", *extra])
                         .stdout)["f1"] for extra in ([], ["--patterns", str(rules)])]
    assert scores[1] == 1.0 and scores[0] < 1.0
    bad = runner.invoke(app, ["tag", str(source), "--model", str(trained_model), "--patterns",
                              str(write(tmp_path / "bad.jsonl", "{}\n"))])
    assert bad.exit_code == 2 and f"{tmp_path / 'bad.jsonl'}:1:" in bad.output and "Traceback" not in bad.output

    model = tmp_path / "with-patterns"
    shutil.copytree(trained_model, model)
    stored = runner.invoke(app, ["patterns", str(rules), "--model", str(model)])
    assert stored.exit_code == 0 and "holds 4 entity pattern(s)" in stored.stdout
    assert "patterns:     4 entity pattern(s)" in runner.invoke(app, ["info", "--model", str(model), "--verify"]).stdout
    inline = runner.invoke(app, ["predict", text, "--model", str(model)]).stdout
    assert "[Major Tom](PER)" in inline and "[battle commander](ORG)" in inline
    with running_server(model) as (url, _):
        answer = httpx.post(url + "/v1/entities", json={"texts": [text]}, timeout=60).json()
    assert {"source": "pattern", "id": "bc", "text": "battle commander"}.items() <= \
        next(e for e in answer["results"][0]["entities"] if e["text"] == "battle commander").items()
    with running_server(trained_model, "--patterns", str(rules), "--patterns-mode", "fill") as (url, _):
        answer = httpx.post(url + "/v1/entities", json={"texts": [text]}, timeout=60).json()
    assert any(e["source"] == "pattern" for e in answer["results"][0]["entities"])
    removed = runner.invoke(app, ["patterns", str(write(tmp_path / "none.jsonl", "")), "--replace", "--model",
                                  str(model)])
    assert removed.exit_code == 0 and not (model / "patterns.jsonl").exists()
