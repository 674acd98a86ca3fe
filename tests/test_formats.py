"""Annotation-tool formats: each reader on small files written here, every alignment problem counted,
round trips through every writer, and `convert` through the real CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write
from typer.testing import CliRunner

from ner_lstm.cli import app
from ner_lstm.data.formats import SpanOptions, labelled_records, parse_label_map, read_labelled
from ner_lstm.data.formats.writers import write_converted
from ner_lstm.errors import InputError, UsageError

TEXT = "Major Tom flew to New York. Ada Lovelace stayed in London."
# Character offsets of the entities in TEXT.
MAJOR_TOM, NEW_YORK, ADA, LONDON = (0, 9), (18, 26), (28, 40), (51, 57)
TAGS = [["B-PER", "I-PER", "O", "O", "B-LOC", "I-LOC", "O"], ["B-PER", "I-PER", "O", "O", "B-LOC", "O"]]
CONLL = "\n\n".join("\n".join(f"{t} {g}" for t, g in zip(tokens, tags)) for tokens, tags in zip(
    [["Major", "Tom", "flew", "to", "New", "York", "."], ["Ada", "Lovelace", "stayed", "in", "London", "."]],
    TAGS)) + "\n"


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def records(path: Path, fmt: str = "auto", options: SpanOptions | None = None):
    return list(labelled_records(str(path), fmt, options or SpanOptions()))


def tags_of(found) -> list[list[str]]:
    return [s.tags for r in found for s in r.sentences]


def doccano(tmp_path: Path, *objects: dict, name: str = "in.jsonl") -> Path:
    return write(tmp_path / name, "".join(json.dumps(o) + "\n" for o in objects))


SPANS = [[*MAJOR_TOM, "PER"], [*NEW_YORK, "LOC"], [*ADA, "PER"], [*LONDON, "LOC"]]


@pytest.mark.parametrize("key,spans", [
    ("label", SPANS),
    ("labels", SPANS),  # older doccano exports
    ("spans", [{"start": a, "end": b, "label": label} for a, b, label in SPANS]),  # Prodigy / spaCy
    ("entities", [{"start_offset": a, "end_offset": b, "label": label, "id": i}  # doccano's relation export
                  for i, (a, b, label) in enumerate(SPANS)]),
    ("entities", [{"start": a, "end": b, "label": label, "text": TEXT[a:b], "score": 0.9}  # our `tag` output
                  for a, b, label in SPANS]),
    ("annotations", [{"label": label, "start_offset": a, "end_offset": b, "user": 1}  # doccano 1.0, named
                     for a, b, label in SPANS]),
])
def test_every_jsonl_span_shape_reads_to_the_same_tags(tmp_path, key, spans):
    found = records(doccano(tmp_path, {"id": 7, "text": TEXT, key: spans}))
    assert tags_of(found) == TAGS
    assert found[0].fields["id"] == 7 and found[0].text == TEXT
    assert [(s.start, s.end, s.label) for s in found[0].gold_spans] == [tuple(s) for s in SPANS]
    sentences = found[0].sentences
    assert sentences[0].in_document is sentences[1].in_document is not None, "a record is one document"


def test_doccano_label_ids_and_several_annotators(tmp_path):
    spans = [{"label": 1, "start_offset": a, "end_offset": b, "user": user}
             for user in (2, 1) for a, b in (MAJOR_TOM, ADA)] + [{"label": 2, "start_offset": 51, "end_offset": 57,
                                                                  "user": 1}]
    path = doccano(tmp_path, {"id": 3, "text": TEXT, "annotations": spans, "meta": {}})
    with pytest.raises(InputError, match=r"in.jsonl:1: span label 1 is a label id, not a name.*--map-label 1=NAME"):
        records(path)
    options = SpanOptions({"1": "PER", "2": "LOC"})
    found = records(path, options=options)
    assert tags_of(found) == [["B-PER", "I-PER", "O", "O", "O", "O", "O"], ["B-PER", "I-PER", "O", "O", "B-LOC", "O"]]
    assert options.report.skipped == {"spans of other annotators than the first user, not read": 2}


def test_tokens_with_tags_are_taken_one_to_one(tmp_path):
    path = doccano(tmp_path, {"tokens": ["U.S.-based", "Acme"], "tags": ["B-MISC", "B-ORG"]},
                   {"tokens": ["Ada"], "ner_tags": ["S-PER"]})
    sentences = read_labelled(str(path))
    assert [s.tokens for s in sentences] == [["U.S.-based", "Acme"], ["Ada"]]
    assert [s.tags for s in sentences] == [["B-MISC", "B-ORG"], ["B-PER"]], "BIOES converted to IOB2"
    bad = doccano(tmp_path, {"tokens": ["a", "b"], "tags": ["O"]}, name="bad.jsonl")
    with pytest.raises(InputError, match=r"bad.jsonl:1: 'tokens' and 'tags' must be lists .* same length"):
        records(bad)


def test_every_span_problem_is_counted_with_its_place(tmp_path):
    text = "Major Tom flew to NewYork with Ada."
    spans = [[0, 9, "PER"], [0, 5, "PER"],  # a nested second span
             [18, 21, "LOC"],  # "New" of "NewYork": not on token boundaries
             [30, 99, "PER"],  # outside the text
             {"start": 31, "end": 34, "label": "PER", "text": "Bob"}]  # the stated text differs
    path = doccano(tmp_path, {"text": "ok"}, {"text": text, "spans": [
        s if isinstance(s, dict) else {"start": s[0], "end": s[1], "label": s[2]} for s in spans]})
    options = SpanOptions()
    found = records(path, options=options)
    report = options.report
    assert report.problems == {"overlap": 1, "boundary": 1, "outside": 1, "mismatch": 1}
    assert report.spans == 5 and report.aligned == 1
    assert report.examples["boundary"] == [f"{path}:2: [18, 21) LOC 'New'"]
    assert report.skipped == {"records without annotations (no 'label', 'spans', 'entities' or 'tags'), left out": 1}
    assert tags_of(found) == [["B-PER", "I-PER", "O", "O", "O", "O", "O", "O"]]
    lines = report.lines(str(path))
    assert any("1 of 5 spans not on token boundaries" in line and "[18, 21) LOC 'New'" in line for line in lines)
    with pytest.raises(InputError, match=r"in.jsonl:2: span \[0, 5\) PER.*overlapping.*--strict-spans"):
        records(path, options=SpanOptions(strict=True))


def test_a_span_across_sentences_and_whitespace_at_its_edges(tmp_path):
    text = "He met Tom. Smith left."
    options = SpanOptions()
    found = records(doccano(tmp_path, {"text": text, "label": [[7, 17, "PER"]]}, {"text": text, "label": [[6, 10, "PER"]]}),
                    options=options)
    assert options.report.problems == {"sentence": 1}
    assert [(s.start, s.end) for s in found[1].gold_spans] == [(7, 10)], "the space before Tom trimmed"
    assert tags_of(found)[2] == ["O", "O", "B-PER", "O"], "the trimmed span is placed"


def test_labels_are_renamed_dropped_and_ids_need_names(tmp_path):
    path = doccano(tmp_path, {"text": TEXT, "label": [[*MAJOR_TOM, "person"], [*NEW_YORK, "place"]]})
    mapping = parse_label_map(["person=PER", "place=O"])
    assert tags_of(records(path, options=SpanOptions(mapping)))[0] == ["B-PER", "I-PER", "O", "O", "O", "O", "O"]
    ids = doccano(tmp_path, {"text": TEXT, "label": [[*MAJOR_TOM, 3]]}, name="ids.jsonl")
    with pytest.raises(InputError, match=r"ids.jsonl:1: span label 3 is a label id.*--map-label 3=NAME"):
        records(ids)
    assert tags_of(records(ids, options=SpanOptions({"3": "PER"})))[0][:2] == ["B-PER", "I-PER"]
    spaced = doccano(tmp_path, {"text": TEXT, "label": [[*MAJOR_TOM, "Person name"]]}, name="spaced.jsonl")
    with pytest.raises(InputError, match=r"spaced.jsonl:1: label 'Person name' contains spaces"):
        records(spaced)
    with pytest.raises(UsageError, match="SRC=DST"):
        parse_label_map(["person"])
    tokens = doccano(tmp_path, {"tokens": ["Tom", "Oslo"], "tags": ["B-person", "B-place"]}, name="tokens.jsonl")
    assert tags_of(records(tokens, options=SpanOptions(mapping))) == [["B-PER", "O"]]


def test_jsonl_records_that_cannot_be_read_are_refused(tmp_path):
    cases = {"category": ({"text": TEXT, "label": ["positive"]}, "holds a document category"),
             "shape": ({"text": TEXT, "label": [{"begin": 0}]}, r"is not \[start, end, label\]"),
             "no_text": ({"label": [[0, 1, "PER"]]}, "no 'text' string")}
    for name, (obj, message) in cases.items():
        with pytest.raises(InputError, match=f"{name}.jsonl:1: .*{message}"):
            records(doccano(tmp_path, obj, name=f"{name}.jsonl"))
    prodigy = doccano(tmp_path, {"text": TEXT, "spans": [], "answer": "reject"}, {"text": "Ada.", "spans": []},
                      name="prodigy.jsonl")
    options = SpanOptions()
    assert len(records(prodigy, options=options)) == 1
    assert options.report.skipped == {"records answered 'reject' (Prodigy), left out": 1}


def labelstudio_task(task_id: int, text: str, annotations: list, **extra) -> dict:
    return {"id": task_id, "data": {"text": text}, "annotations": annotations, **extra}


def region(start: int, end: int, label: str, text: str, kind: str = "labels") -> dict:
    return {"id": f"{start}", "from_name": "label", "to_name": "text", "type": kind,
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}}


def test_labelstudio_takes_the_latest_annotation_not_cancelled(tmp_path):
    old = {"id": 1, "created_at": "2024-01-01T00:00:00Z", "result": [region(*MAJOR_TOM, "ORG", TEXT)]}
    new = {"id": 2, "created_at": "2024-02-01T00:00:00Z", "result": [
        region(*MAJOR_TOM, "PER", TEXT), region(*NEW_YORK, "LOC", TEXT), region(*ADA, "PER", TEXT),
        region(*LONDON, "LOC", TEXT), {"type": "choices", "value": {"choices": ["news"]}}]}
    cancelled = {"id": 3, "created_at": "2024-03-01T00:00:00Z", "was_cancelled": True, "result": []}
    tasks = [labelstudio_task(11, TEXT, [old, new, cancelled],
                              predictions=[{"result": [region(*MAJOR_TOM, "LOC", TEXT)]}]),
             labelstudio_task(12, "Nothing here.", [cancelled])]
    path = write(tmp_path / "export.json", json.dumps(tasks, indent=2))
    options = SpanOptions()
    found = records(path, options=options)
    assert tags_of(found) == TAGS and found[0].fields["id"] == 11
    assert options.report.skipped == {
        "annotations older than a task's latest, not read (several annotators)": 1,
        "regions of other kinds (choices, relations, text areas), not read": 1,
        "tasks with no annotation that was not cancelled, left out": 1}
    old_export = write(tmp_path / "old.json", json.dumps([{"id": 1, "data": {"sentence": TEXT},
                                                            "completions": [new]}]))
    assert tags_of(records(old_export)) == TAGS, "pre-1.0 'completions', the one data field found"


def test_labelstudio_json_min_and_utf16_offsets(tmp_path):
    text = "🚀 Major Tom flew to Oslo."
    # Label Studio's browser counts UTF-16 units: the rocket is two, so every offset after it is one more.
    rows = [{"id": 5, "text": text, "label": [{"start": 3, "end": 12, "text": "Major Tom", "labels": ["PER"]}],
             "annotator": 1, "annotation_id": 1, "created_at": "2024-01-01"},
            {"id": 5, "text": text, "label": [{"start": 3, "end": 12, "text": "Major Tom", "labels": ["PER"]},
                                              {"start": 21, "end": 25, "text": "Oslo", "labels": ["LOC"]}],
             "annotator": 2, "annotation_id": 2, "created_at": "2024-02-01"}]
    found = records(write(tmp_path / "min.json", json.dumps(rows)))
    assert len(found) == 1
    assert tags_of(found) == [["O", "B-PER", "I-PER", "O", "O", "B-LOC", "O"]]
    assert [(s.start, s.end) for s in found[0].gold_spans] == [(2, 11), (20, 24)]


def test_labelstudio_exports_that_cannot_be_read(tmp_path):
    with pytest.raises(InputError, match="not a Label Studio export"):
        records(write(tmp_path / "a.json", '[1, 2]'), "labelstudio")
    two = [{"id": 1, "data": {"title": "t", "body": TEXT}, "annotations": [{"result": []}]}]
    with pytest.raises(InputError, match=r"\[task 1\]: cannot tell which .* --text-field"):
        records(write(tmp_path / "b.json", json.dumps(two)))
    assert tags_of(records(tmp_path / "b.json", options=SpanOptions(text_field="body")))[0] == ["O"] * 7


def brat_folder(tmp_path: Path, ann: str, text: str = TEXT) -> Path:
    folder = tmp_path / "brat"
    folder.mkdir(exist_ok=True)
    write(folder / "doc1.txt", text)
    write(folder / "doc1.ann", ann)
    return folder


def test_brat_entities_and_what_is_skipped(tmp_path):
    ann = (f"T1\tPER {MAJOR_TOM[0]} {MAJOR_TOM[1]}\tMajor Tom\nT2\tLOC {NEW_YORK[0]} {NEW_YORK[1]}\tNew York\n"
           f"T3\tPER {ADA[0]} {ADA[1]}\tAda Lovelace\nT4\tLOC {LONDON[0]} {LONDON[1]}\tLondon\n"
           "T5\tPER 0 5;10 13\tMajor flew\nR1\tLives Arg1:T1 Arg2:T2\nA1\tNegated T1\n#1\tAnnotatorNotes T1\tok\n"
           "E1\tTravel:T1\n")
    folder = brat_folder(tmp_path, ann)
    options = SpanOptions()
    found = records(folder, options=options)
    assert tags_of(found) == TAGS and found[0].fields["id"] == "doc1"
    assert options.report.skipped == {"discontinuous BRAT entities (START END;START END), left out": 1,
                                      "BRAT relations, not read": 1, "BRAT attributes, not read": 1,
                                      "BRAT notes, not read": 1, "BRAT events, not read": 1}
    assert tags_of(records(folder / "doc1.ann")) == TAGS
    write(folder / "doc1.ann", "T1\tPER 0 9\tMajor Bob\n")
    options = SpanOptions()
    records(folder, options=options)
    assert options.report.problems == {"mismatch": 1}
    write(folder / "doc1.ann", "T1\tPER zero 9\tMajor Tom\n")
    with pytest.raises(InputError, match=r"doc1.ann:1: expected 'LABEL START END'"):
        records(folder)


def test_unspaced_scripts_are_refused_in_span_formats_and_read_pre_tokenised(tmp_path):
    path = doccano(tmp_path, {"text": "东京是日本的首都。", "label": [[0, 2, "LOC"]]})
    with pytest.raises(InputError, match="script written without spaces.*pre-tokenised"):
        records(path)
    tokens = doccano(tmp_path, {"tokens": ["东京", "是", "日本", "的", "首都", "。"],
                                "tags": ["B-LOC", "O", "B-LOC", "O", "O", "O"]}, name="tokens.jsonl")
    assert tags_of(records(tokens)) == [["B-LOC", "O", "B-LOC", "O", "O", "O"]]
    korean = doccano(tmp_path, {"text": "서울 은 한국 의 수도 이다 .", "label": [[0, 2, "LOC"], [5, 7, "LOC"]]},
                     name="korean.jsonl")  # written with spaces: read
    assert tags_of(records(korean)) == [["B-LOC", "O", "B-LOC", "O", "O", "O", "O"]]


@pytest.mark.parametrize("text,tokens", [
    ("Η Μαρία ζει στην Αθήνα.", ["Η", "Μαρία", "ζει", "στην", "Αθήνα", "."]),
    ("Анна Каренина живёт в Москве.", ["Анна", "Каренина", "живёт", "в", "Москве", "."]),
    ("José Saramago nasceu em Azinhaga, Portugal.", ["José", "Saramago", "nasceu", "em", "Azinhaga", ",", "Portugal",
                                                     "."]),
    ("Jürgen Klopp wohnt in Düsseldorf-Süd.", ["Jürgen", "Klopp", "wohnt", "in", "Düsseldorf-Süd", "."]),
])
def test_latin_greek_and_cyrillic_text_aligns(tmp_path, text, tokens):
    first, last = tokens[0] + " " + tokens[1], tokens[-2]
    spans = [[0, len(first), "PER"], [text.rindex(last), text.rindex(last) + len(last), "LOC"]]
    found = records(doccano(tmp_path, {"text": text, "label": spans}))
    assert [s.tokens for s in found[0].sentences] == [tokens]
    assert tags_of(found)[0] == ["B-PER", "I-PER"] + ["O"] * (len(tokens) - 4) + ["B-LOC", "O"]


@pytest.mark.parametrize("to", ["conll", "jsonl", "doccano", "labelstudio", "brat"])
def test_conll_through_every_writer_and_back(tmp_path, to):
    text = "-DOCSTART- O\n\n" + CONLL + "\n-DOCSTART- O\n\nGrace B-PER\nHopper I-PER\nvisited O\nOslo B-LOC\n\n" \
           "She O\nsaid O\nso O\n.\tO\n"
    source = write(tmp_path / "in.conll", text)
    original = records(source)
    output = tmp_path / f"out.{to}"
    write_converted(original, output, to)
    back = records(output)
    assert [[(s.tokens, s.tags) for s in r.sentences] for r in back] == \
        [[(s.tokens, s.tags) for s in r.sentences] for r in original], "same documents, sentences and tags"


def test_convert_cli_between_span_formats_keeps_what_could_not_be_aligned(tmp_path):
    path = doccano(tmp_path, {"id": "a1", "text": "Tom met Bob at NewYork.", "label": [[0, 3, "PER"], [15, 18, "LOC"]]})
    out = tmp_path / "out.json"
    result = run("convert", str(path), "-o", str(out), "--to", "labelstudio")
    assert result.exit_code == 0, result.output
    assert "1 of 2 spans not on token boundaries" in result.stderr and f"{path}:1" in result.stderr
    task = json.loads(out.read_text())[0]
    assert task["data"] == {"text": "Tom met Bob at NewYork.", "id": "a1"}
    assert [r["value"]["text"] for r in task["annotations"][0]["result"]] == ["Tom", "New"], "nothing lost"
    again = run("convert", str(path), "-o", str(out), "--to", "labelstudio")
    assert again.exit_code == 2 and "already exists; pass --overwrite" in again.stderr
    onto = run("convert", str(path), "-o", str(path), "--to", "doccano", "--overwrite")
    assert onto.exit_code == 2 and "is an input; refusing to overwrite it" in onto.stderr
    strict = run("convert", str(path), "-o", str(tmp_path / "s.conll"), "--to", "conll", "--strict-spans")
    assert strict.exit_code == 2 and "not on token boundaries (--strict-spans)" in strict.stderr
    assert not (tmp_path / "s.conll").exists()


def test_a_spacy_docbin_reads_its_entities(tmp_path):
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    doc = nlp(TEXT)
    doc.ents = [doc.char_span(a, b, label=label) for a, b, label in SPANS]
    path = tmp_path / "train.spacy"
    DocBin(docs=[doc, nlp("Nothing to see.")]).to_disk(path)
    found = records(path)
    assert tags_of(found) == TAGS + [["O", "O", "O", "O"]]
    assert [(s.start, s.end, s.label) for s in found[0].gold_spans] == [tuple(s) for s in SPANS]
    with pytest.raises(InputError, match="not a readable spaCy DocBin"):
        records(write(tmp_path / "bad.spacy", "not a docbin"))


def test_span_formats_train_on_the_same_data_as_their_conll(tmp_path, sample):
    """The bundled sample through every span writer: train and dev read back to the CoNLL files' sentences."""
    from ner_lstm.training.corpora import training_corpora

    base = training_corpora(sample / "train.txt", sample / "dev.txt", None, None, None)
    for to, suffix in (("labelstudio", ".json"), ("doccano", ".jsonl"), ("brat", "")):
        paths = []
        for part in ("train", "dev"):
            out = tmp_path / f"{part}-{to}{suffix}"
            write_converted(records(sample / f"{part}.txt"), out, to)
            paths.append(out)
        assert training_corpora(*paths, None, None, None).fingerprint() == base.fingerprint(), to


# --- through a trained model -------------------------------------------------------------------------
def tag(model: Path, *args: str):
    result = run("tag", "--model", str(model), *args)
    assert result.exit_code == 0, result.output
    return result


def test_tag_writes_labelstudio_predictions_that_label_studio_accepts(trained_model, tmp_path, monkeypatch):
    from label_studio_sdk.converter import Converter
    from label_studio_sdk.label_interface import LabelInterface

    from ner_lstm.data.formats.labelstudio import labelling_config
    from ner_lstm.engines import local

    monkeypatch.setattr(local, "WINDOW_TOKENS", 8)  # several windows, so tasks are joined across them too
    texts = ["Major Tom flew to Paris.", "Grace Hopper visited Oslo.", "Nothing here.", "Ada Lovelace met Tom."]
    source = write(tmp_path / "in.txt", "\n".join(texts) + "\n")
    out = tmp_path / "tasks.json"
    tag(trained_model, str(source), "--output-format", "labelstudio", "-o", str(out))
    tasks = json.loads(out.read_text())
    assert [t["data"]["text"] for t in tasks] == texts
    labels = sorted({r["value"]["labels"][0] for t in tasks for p in t["predictions"] for r in p["result"]})
    assert labels, "the model found entities"
    interface = LabelInterface(labelling_config(["PER", "LOC", "ORG", "MISC"]))
    for task in tasks:
        prediction = task["predictions"][0]
        assert prediction["model_version"] == trained_model.name and 0 < prediction["score"] <= 1
        assert interface.validate_prediction(prediction, return_errors=True) == []
        assert interface.validate_task({"data": task["data"]})  # (its check of predictions calls itself wrongly)
        for region in prediction["result"]:
            value = region["value"]
            assert task["data"]["text"][value["start"]:value["end"]] == value["text"] and 0 < region["score"] <= 1
    # A person accepts every pre-label in Label Studio: the prediction becomes the annotation it exports.
    accepted = [{"id": i, "data": t["data"], "annotations": [{"id": i, "result": t["predictions"][0]["result"],
                                                              "created_at": "2026-01-01"}]}
                for i, t in enumerate(tasks, start=1)]
    export = write(tmp_path / "export.json", json.dumps(accepted))
    converter = Converter(labelling_config(["PER", "LOC", "ORG", "MISC"]), project_dir=None)
    converter.convert_to_json_min(str(export), str(tmp_path / "min"), is_dir=False)
    ours = records(export)
    theirs = records(tmp_path / "min" / "result.json")
    assert [r.gold_spans for r in theirs] == [r.gold_spans for r in ours], "Label Studio's JSON-MIN reads the same"
    from_tag = [json.loads(line) for line in tag(trained_model, str(source)).stdout.splitlines()]
    assert [[(s.start, s.end, s.label) for s in r.gold_spans] for r in ours] == \
        [[(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in from_tag]


def test_tag_writes_doccano_and_brat_that_read_back(trained_model, tmp_path):
    lines = [{"id": "n1", "text": "Major Tom flew to Paris.", "label": [[0, 5, "OLD"]], "meta": {"k": 1}},
             {"text": "Grace Hopper visited Oslo."}]
    source = write(tmp_path / "in.jsonl", "".join(json.dumps(x) + "\n" for x in lines))
    expected = [[(e["start"], e["end"], e["label"]) for e in json.loads(line)["entities"]]
                for line in tag(trained_model, str(source)).stdout.splitlines()]
    doccano_out = tmp_path / "pre.jsonl"
    tag(trained_model, str(source), "--output-format", "doccano", "-o", str(doccano_out))
    written = [json.loads(line) for line in doccano_out.read_text().splitlines()]
    assert written[0]["id"] == "n1" and written[0]["meta"] == {"k": 1} and "OLD" not in str(written[0]["label"])
    assert [[tuple(x) for x in w["label"]] for w in written] == expected
    assert [[(s.start, s.end, s.label) for s in r.gold_spans] for r in records(doccano_out)] == expected
    brat_out = tmp_path / "pre_brat"
    tag(trained_model, str(source), "--output-format", "brat", "-o", str(brat_out))
    assert sorted(p.name for p in brat_out.iterdir()) == ["2.ann", "2.txt", "n1.ann", "n1.txt"], "own id, else line"
    back = {r.fields["id"]: [(s.start, s.end, s.label) for s in r.gold_spans] for r in records(brat_out)}
    assert back == {"n1": expected[0], "2": expected[1]}
    missing = run("tag", "--model", str(trained_model), str(source), "--output-format", "brat")
    assert missing.exit_code == 2 and "BRAT output goes to a folder" in missing.stderr


def test_evaluate_scores_exact_character_spans_on_span_formats(trained_model, tmp_path, sample):
    conll = json.loads(run("evaluate", str(sample / "test.txt"), "--model", str(trained_model), "--json").stdout)
    converted = tmp_path / "test.json"
    write_converted(records(sample / "test.txt"), converted, "labelstudio")
    spans = json.loads(run("evaluate", str(converted), "--model", str(trained_model), "--json").stdout)
    assert spans["mode"] == "spans" and conll["mode"] == "conlleval"
    assert spans["support"] == conll["support"] and abs(spans["f1"] - conll["f1"]) < 0.01
    # One gold span the tokeniser cannot place ("Tom" inside "TomTom") is a miss in the score, not dropped.
    path = doccano(tmp_path, {"text": "Major Tom flew to TomTom.", "label": [[0, 9, "PER"], [18, 21, "PER"]]},
                   name="one.jsonl")
    result = run("evaluate", str(path), "--model", str(trained_model), "--json")
    scored = json.loads(result.stdout)
    assert scored["support"] == 2 and scored["recall"] <= 0.5
    assert "1 of 2 spans not on token boundaries" in result.stderr
    table = run("evaluate", str(path), "--model", str(trained_model))
    assert "exact character spans" in table.stdout and "strict f1" not in table.stdout


def test_train_reads_span_formats_with_renamed_labels(tmp_path, sample):
    train = tmp_path / "train.jsonl"
    text = "".join(json.dumps({"text": line, "label": [[0, 9, "person"]]}) + "\n"
                   for line in ["Major Tom flew to Paris.", "Major Tom left."] * 20)
    train.write_text(text)
    model = tmp_path / "model"
    result = run("train", "--train", str(train), "--model", str(model), "--epochs", "1", "--embeddings", "none",
                 "--map-label", "person=PER")
    assert result.exit_code == 0, result.output
    assert json.loads((model / "config.json").read_text())["labels"] == ["O", "B-PER", "E-PER"], "person named PER"


def test_tag_reads_exports_with_their_gold(trained_model, tmp_path):
    ann = f"T1\tPER {MAJOR_TOM[0]} {MAJOR_TOM[1]}\tMajor Tom\nT2\tLOC {LONDON[0]} {LONDON[1]}\tLondon\n"
    folder = brat_folder(tmp_path, ann)
    result = tag(trained_model, str(folder), "--input-format", "brat", "--output-format", "conll")
    rows = [line.split("\t") for line in result.stdout.splitlines() if line]
    assert [r[0] for r in rows] == "Major Tom flew to New York . Ada Lovelace stayed in London .".split()
    assert [r[1] for r in rows][:2] == ["B-PER", "I-PER"] and len(rows[0]) == 3, "token, gold, prediction"
    export = write(tmp_path / "export.json", json.dumps([labelstudio_task(1, TEXT, [{"result": [
        region(*MAJOR_TOM, "PER", TEXT)]}])]))
    auto = run("tag", "--model", str(trained_model), str(export))
    assert auto.exit_code == 0 and "reading as labelstudio" in auto.stderr
    assert json.loads(auto.stdout)["text"] == TEXT
    ray = run("tag", "--model", str(trained_model), str(export), "--input-format", "labelstudio", "--engine", "ray",
              "-o", str(tmp_path / "ray"))
    assert ray.exit_code == 2 and "tag a labelstudio export with the local engine" in ray.stderr


def test_a_crafted_label_cannot_inject_markup_into_the_html_page():
    from ner_lstm.data.corpus import Record, Sentence
    from ner_lstm.data.writers import record_html
    from ner_lstm.inference.tagger import Tagged

    label = 'X"><script>alert(1)</script>'
    sentence = Sentence(["Tom", "left"], offsets=[(0, 3), (4, 8)], text="Tom left")
    page = record_html(Record("t", 1, [sentence], text="Tom left"), [Tagged(sentence, [f"B-{label}", "O"], [0.9, 0.9])])
    assert "<script>" not in page and 'title="X&quot;&gt;&lt;script&gt;' in page
