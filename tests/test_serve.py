"""The HTTP API through FastAPI's test client: every endpoint, every error, concurrent requests batched
together yet answered with their own results, identical to the library's."""
from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest
from fastapi.testclient import TestClient

from ner_lstm.data.corpus import Sentence, read_conll
from ner_lstm.inference.bundle import describe
from ner_lstm.inference.tagger import Tagger
from ner_lstm.serve.app import ServeOptions, create_app, public_description

from conftest import SAMPLE

MAJOR_TOM = "Major Tom is a great battle commander."
OPTIONS = ServeOptions(max_batch_size=64, max_wait_ms=20, max_text_chars=300, max_texts=40)


@pytest.fixture(scope="module")
def tagger(trained_model):
    return Tagger.load(trained_model)


@pytest.fixture(scope="module")
def client(trained_model):
    with TestClient(create_app(trained_model, OPTIONS)) as running:
        yield running


def test_health_is_503_until_the_model_has_tagged_its_warm_up_sentence(trained_model, client):
    not_started = TestClient(create_app(trained_model, OPTIONS))  # no `with`: the start-up has not run
    assert not_started.get("/health").status_code == 503
    assert not_started.post("/v1/entities", json={"texts": [MAJOR_TOM]}).status_code == 503
    assert client.get("/health").json() == {"status": "ok"}


def test_model_describes_what_info_prints_without_the_servers_paths(trained_model, client):
    described = client.get("/v1/model").json()
    assert described == json.loads(json.dumps(public_description(describe(trained_model))))
    assert described["model"] == trained_model.name and described["labels"] == describe(trained_model)["labels"]
    everything = json.dumps(described) + client.post("/v1/entities", json={"texts": [MAJOR_TOM]}).text
    assert str(trained_model.parent) not in everything and str(SAMPLE) not in everything
    assert "/" not in json.dumps(described["data"]), "training files are named, not located"


def test_entities_of_texts_match_the_library(client, tagger):
    text = MAJOR_TOM + " He flew to Paris with Ground Control."
    reply = client.post("/v1/entities", json={"texts": [text, MAJOR_TOM]})
    assert reply.status_code == 200
    body = reply.json()
    assert len(body["results"]) == 2 and body["model"]
    first = body["results"][0]
    expected = tagger.predict(text)
    assert first["text"] == text
    assert first["tags"] == [tag for t in expected for tag in t.tags]
    assert first["entities"] == [e.to_json() for t in expected for e in t.entities]
    for entity in first["entities"]:
        assert text[entity["start"]:entity["end"]] == entity["text"]
    assert {"text": "Major Tom", "label": "PER", "start": 0, "end": 9} .items() <= body["results"][1]["entities"][0].items()


def test_entities_of_tokens_with_offsets_into_the_joined_text(client, tagger):
    tokens = ["Major", "Tom", "met", "Ground", "Control", "in", "Paris", "."]
    result = client.post("/v1/entities", json={"tokens": [tokens, []]}).json()["results"]
    assert result[1] == {"text": "", "entities": [], "tokens": [], "tags": []}
    assert result[0]["tags"] == tagger.tag([Sentence(tokens)])[0].tags
    for entity in result[0]["entities"]:
        assert result[0]["text"][entity["start"]:entity["end"]] == entity["text"]


def test_min_score_leaves_out_weaker_entities(client):
    everything = client.post("/v1/entities", json={"texts": [MAJOR_TOM]}).json()["results"][0]["entities"]
    assert everything
    weakest = min(e["score"] for e in everything)
    kept = client.post("/v1/entities", json={"texts": [MAJOR_TOM], "min_score": weakest + 1e-6}).json()
    assert kept["results"][0]["entities"] == [e for e in everything if e["score"] > weakest]
    assert client.post("/v1/entities", json={"texts": []}).json()["results"] == []


@pytest.mark.parametrize("body, status, fragment", [
    ('{"texts": ["Major Tom"', 400, "not valid JSON"),
    ('{"texts": "Major Tom"}', 422, "texts"),
    ('{"texts": [1, 2]}', 422, "texts"),
    ('{"tokens": ["Major", "Tom"]}', 422, "tokens"),
    ('{"texts": ["a"], "tokens": [["a"]]}', 422, "exactly one"),
    ("{}", 422, "exactly one"),
    ('{"texts": ["a"], "min_score": 2}', 422, "min_score"),
    ('{"texts": ["a"], "colour": "red"}', 422, "colour"),
    (json.dumps({"texts": ["a"] * 41}), 413, "41 items"),
    (json.dumps({"texts": ["a", "b" * 301]}), 413, "texts[1]: 301 characters"),
    (json.dumps({"tokens": [["b" * 400]]}), 413, "tokens[0]"),
])
def test_bad_requests_get_json_errors_with_their_status(client, body, status, fragment):
    reply = client.post("/v1/entities", content=body, headers={"Content-Type": "application/json"})
    assert reply.status_code == status
    assert fragment in json.dumps(reply.json()["detail"])
    assert client.get("/health").status_code == 200, "the server lives on"


def test_concurrent_requests_are_batched_and_get_their_own_results(trained_model, tagger, sample):
    sentences = read_conll(sample / "test.txt")[:60]
    app = create_app(trained_model, OPTIONS)

    async def ask_all() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                before = app.state.serve["batcher"].batches
                replies = await asyncio.gather(*(http.post("/v1/entities", json={"tokens": [s.tokens]})
                                                 for s in sentences))
                return replies, app.state.serve["batcher"].batches - before

    replies, batches = asyncio.run(ask_all())
    alone = [tagger.tag([Sentence(s.tokens)])[0] for s in sentences]
    for reply, expected in zip(replies, alone):
        result = reply.json()["results"][0]
        assert result["tokens"] == expected.sentence.tokens and result["tags"] == expected.tags
        assert [e["score"] for e in result["entities"]] == [e.score for e in expected.entities], \
            "a result never depends on the requests batched with it"
    assert batches < len(sentences) / 4, f"{len(sentences)} concurrent requests ran in {batches} batches"


def test_page_and_openapi(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert MAJOR_TOM in page.text and ".PER { background" in page.text and "<script" in page.text
    assert "http" not in page.text.split("<script")[1].split("fetch(")[0], "no external resources: works offline"
    schema = client.get("/openapi.json").json()
    assert {"/health", "/v1/model", "/v1/entities"} <= set(schema["paths"])
    assert client.get("/docs").status_code == 200


def test_one_access_log_line_per_request_with_status_and_latency(client, caplog):
    with caplog.at_level(logging.INFO, logger="ner_lstm.serve"):
        client.post("/v1/entities", json={"texts": "not a list"})
    lines = [r.getMessage() for r in caplog.records if r.name == "ner_lstm.serve"]
    assert len(lines) == 1 and '"POST /v1/entities" 422' in lines[0] and lines[0].endswith(" ms")


def test_serve_refuses_a_port_in_use_in_one_line(trained_model):
    import socket

    from typer.testing import CliRunner

    from ner_lstm.cli import app

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--model", str(trained_model), "--port", str(port)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"ner-lstm: error: cannot listen on 127.0.0.1:{port} (Address already in use); "
                                     "choose another --port or --host")
