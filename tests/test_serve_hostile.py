"""The server against hostile clients and overload: body limits, fair batches, a bounded queue, one request's
failure kept to itself, an API key, TLS and metrics. In-process through httpx's ASGI transport where the event
loop's behaviour is the point; as a real process where the socket is."""
from __future__ import annotations

import asyncio
import json
import ssl
import time

import httpx
import pytest
from conftest import running_server, write
from typer.testing import CliRunner

from ner_lstm.cli import app as cli
from ner_lstm.data.corpus import Sentence
from ner_lstm.inference.tagger import Tagger
from ner_lstm.serve.app import ServeOptions, create_app

MAJOR_TOM = "Major Tom is a great battle commander."


@pytest.fixture(scope="module")
def tagger(trained_model):
    return Tagger.load(trained_model)


class Recording:
    """The real tagger, recording each network batch; a sentence holding `poison` makes its batch fail."""

    def __init__(self, tagger: Tagger, poison: str | None = None, delay: float = 0.0) -> None:
        self.tagger, self.poison, self.delay, self.batches = tagger, poison, delay, []

    def emission_rows(self, sentences):
        self.batches.append([s.tokens for s in sentences])
        time.sleep(self.delay)
        if self.poison and any(self.poison in s.tokens for s in sentences):
            raise ValueError("poisoned batch")
        return self.tagger.emission_rows(sentences)

    def __getattr__(self, name):
        return getattr(self.tagger, name)


async def _with_app(trained_model, options: ServeOptions, talk, tagger=None):
    app = create_app(trained_model, options, tagger=tagger)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://test") as http:
            return await talk(http, app)


def run(trained_model, options, talk, tagger=None):
    return asyncio.run(_with_app(trained_model, options, talk, tagger))


def test_a_body_over_the_limit_is_refused_from_its_length_before_it_is_read(trained_model, tagger):
    options = ServeOptions(max_body_bytes=1000)

    async def talk(http, app):
        sent = []

        async def chunks():
            for _ in range(1000):  # 1 MB, chunked: no Content-Length to look at
                sent.append(1)
                yield b" " * 1000

        declared = await http.post("/v1/entities", content=b'{"texts": ["' + b"a" * 2000 + b'"]}',
                                   headers={"Content-Type": "application/json"})
        streamed = await http.post("/v1/entities", content=chunks(), headers={"Content-Type": "application/json"})
        fits = await http.post("/v1/entities", json={"texts": [MAJOR_TOM]})
        return declared, streamed, len(sent), fits

    declared, streamed, chunks_read, fits = run(trained_model, options, talk, tagger)
    assert declared.status_code == 413 and "--max-body-bytes" in declared.json()["detail"]
    assert streamed.status_code == 413 and "more than 1000 bytes" in streamed.json()["detail"]
    assert chunks_read <= 3, f"a chunked body is refused as it passes the limit, not after {chunks_read} KB"
    assert fits.status_code == 200


def test_requests_are_cut_into_batches_of_at_most_max_batch_size_taken_fairly(trained_model, tagger):
    recording = Recording(tagger, delay=0.02)
    options = ServeOptions(max_batch_size=4, max_wait_ms=1)
    big = [["Paris", "is", "big", str(i)] for i in range(200)]

    async def talk(http, app):
        finished = []

        async def ask(name, tokens):
            reply = await http.post("/v1/entities", json={"tokens": tokens})
            finished.append(name)
            return reply

        large = asyncio.create_task(ask("large", big))
        await asyncio.sleep(0.1)  # the large request is being tagged
        small = await ask("small", [["Major", "Tom", "flew", "."]])
        return await large, small, finished

    large, small, finished = run(trained_model, options, talk, recording)
    assert max(map(len, recording.batches)) <= 4, "--max-batch-size caps a batch, whatever the request's size"
    assert finished == ["small", "large"], "a small request is not held up behind a large one"
    assert large.status_code == small.status_code == 200
    alone = tagger.tag([Sentence(tokens) for tokens in big])
    assert [r["tags"] for r in large.json()["results"]] == [t.tags for t in alone], "cut or not, the same tags"


def test_a_full_queue_answers_503_with_retry_after_at_once(trained_model, tagger):
    recording = Recording(tagger, delay=0.5)
    options = ServeOptions(max_batch_size=2, max_wait_ms=0, max_queue=10)

    async def talk(http, app):
        first = asyncio.create_task(http.post("/v1/entities", json={"tokens": [["a"]] * 10}))
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        refused = await http.post("/v1/entities", json={"tokens": [["b"]] * 6})
        waited = time.perf_counter() - started
        too_large = await http.post("/v1/entities", json={"tokens": [["c"]] * 11})
        return await first, refused, waited, too_large

    first, refused, waited, too_large = run(trained_model, options, talk, recording)
    assert first.status_code == 200
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert waited < 0.5, "refused at once, not after waiting in the queue"
    assert too_large.status_code == 413 and "--max-queue" in too_large.json()["detail"]


def test_one_requests_failure_fails_no_other_request_batched_with_it(trained_model, tagger):
    recording = Recording(tagger, poison="POISON")
    options = ServeOptions(max_batch_size=64, max_wait_ms=50)
    texts = [f"Major Tom flew to Paris {i} ." for i in range(23)]

    async def talk(http, app):
        asks = [http.post("/v1/entities", json={"texts": [text]}) for text in texts]
        asks.insert(11, http.post("/v1/entities", json={"tokens": [["POISON", "pill"]]}))
        return await asyncio.gather(*asks)

    replies = run(trained_model, options, talk, recording)
    assert any(len(batch) > 1 and ["POISON", "pill"] in batch for batch in recording.batches), "they shared a batch"
    assert [r.status_code for r in replies].count(500) == 1 and replies[11].status_code == 500
    for text, reply in zip(texts, replies[:11] + replies[12:]):
        assert reply.json()["results"][0]["tags"] == tagger.predict(text)[0].tags


def test_lone_surrogates_are_read_as_replacement_characters(trained_model, tagger, tmp_path):
    async def talk(http, app):
        return await asyncio.gather(*(
            [http.post("/v1/entities", content='{"texts": ["Major Tom \\udc00 met Paris."]}',
                       headers={"Content-Type": "application/json"}),
             http.post("/v1/entities", content='{"tokens": [["\\ud800", "Paris"]]}',
                       headers={"Content-Type": "application/json"})]
            + [http.post("/v1/entities", json={"texts": [MAJOR_TOM]}) for _ in range(22)]))

    replies = run(trained_model, ServeOptions(max_wait_ms=50), talk, tagger)
    assert all(r.status_code == 200 for r in replies), [r.status_code for r in replies]
    assert replies[0].json()["results"][0]["text"] == "Major Tom \ufffd met Paris."
    assert replies[1].json()["results"][0]["tokens"] == ["\ufffd", "Paris"]

    source = write(tmp_path / "in.jsonl", '{"text": "Major Tom \\udc00 flew to Paris."}\n')
    result = CliRunner().invoke(cli, ["tag", str(source), "--model", str(trained_model), "-o", str(tmp_path / "out.jsonl"),
                                      "--output-format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "out.jsonl").read_text("utf-8"))["text"] == "Major Tom \ufffd flew to Paris."


def test_health_answers_while_the_largest_request_is_tagged(trained_model, tagger, monkeypatch):
    import threading

    import ner_lstm.serve.app as served

    on_the_loop: list[str] = []

    def watched(name, work):
        def run_it(*args, **kwargs):
            if threading.current_thread() is threading.main_thread():  # asyncio.run's loop runs here
                on_the_loop.append(name)
            return work(*args, **kwargs)
        return run_it

    monkeypatch.setattr(served, "_parse", watched("parse", served._parse))
    monkeypatch.setattr(served, "_answer", watched("answer", served._answer))
    recording = Recording(tagger)
    recording.decode = watched("decode", tagger.decode)
    recording.emission_rows = watched("network", recording.emission_rows)
    options = ServeOptions(max_texts=48, max_text_chars=20_000, max_queue=20_000)
    text = " ".join(f"Major Tom met Ground Control in Paris on day {i} ." for i in range(350))[:20_000]

    async def talk(http, app):
        order = []

        async def largest():
            reply = await http.post("/v1/entities", json={"texts": [text] * 48})
            order.append("largest")
            return reply

        task = asyncio.create_task(largest())
        await asyncio.sleep(0.05)
        health = await http.get("/health")
        order.append("health")
        return await task, health, order

    largest, health, order = run(trained_model, options, talk, recording)
    assert health.status_code == 200 and largest.status_code == 200
    assert order == ["health", "largest"], "parsing, splitting, tagging and the answer are off the event loop"
    assert on_the_loop == [], f"done on the event loop: {on_the_loop}"


def test_an_api_key_is_required_when_set_and_compared_as_a_bearer_token(trained_model, tagger):
    options = ServeOptions(api_key="k3y")

    async def talk(http, app):
        return {
            "none": (await http.post("/v1/entities", json={"texts": ["a"]})).status_code,
            "wrong": (await http.get("/v1/model", headers={"Authorization": "Bearer nope"})).status_code,
            "basic": (await http.get("/v1/model", headers={"Authorization": "Basic k3y"})).status_code,
            "metrics": (await http.get("/metrics")).status_code,
            "right": (await http.post("/v1/entities", json={"texts": ["a"]},
                                      headers={"Authorization": "Bearer k3y"})).status_code,
            "health": (await http.get("/health")).status_code,
            "page": (await http.get("/")).status_code,
        }

    assert run(trained_model, options, talk, tagger) == {"none": 401, "wrong": 401, "basic": 401, "metrics": 401,
                                                         "right": 200, "health": 200, "page": 200}


def test_metrics_count_requests_latency_batches_and_queue(trained_model, tagger):
    async def talk(http, app):
        await http.post("/v1/entities", json={"texts": [MAJOR_TOM]})
        await http.post("/v1/entities", json={"texts": "not a list"})
        await http.get("/no/such/path/1")
        return (await http.get("/metrics")).text

    text = run(trained_model, ServeOptions(), talk, tagger)
    assert 'ner_lstm_requests_total{path="/v1/entities",status="200"} 1.0' in text
    assert 'ner_lstm_requests_total{path="/v1/entities",status="422"} 1.0' in text
    assert 'ner_lstm_requests_total{path="other",status="404"} 1.0' in text, "unknown paths add no series"
    assert 'ner_lstm_request_seconds_count{path="/v1/entities"} 2.0' in text
    assert "ner_lstm_batch_sentences_count 1.0" in text and "ner_lstm_queue_sentences 0.0" in text


def test_serve_refuses_to_listen_beyond_loopback_without_a_key(trained_model, monkeypatch):
    runner = CliRunner()
    open_to_all = runner.invoke(cli, ["serve", "--model", str(trained_model), "--host", "0.0.0.0", "--port", "0"])
    assert open_to_all.exit_code == 2 and "--api-key-env" in open_to_all.stderr and "--allow-unauthenticated" in open_to_all.stderr
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    unset = runner.invoke(cli, ["serve", "--model", str(trained_model), "--api-key-env", "NO_SUCH_KEY_VAR"])
    assert unset.exit_code == 2 and unset.stderr.strip().endswith("NO_SUCH_KEY_VAR: the environment variable is not set or empty")
    half_tls = runner.invoke(cli, ["serve", "--model", str(trained_model), "--ssl-certfile", str(trained_model / "vocab.json")])
    assert half_tls.exit_code == 2 and "--ssl-keyfile" in half_tls.stderr


def test_https_with_a_certificate_made_here(trained_model, tmp_path):
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    certificate.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    certificate.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    verify = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    with running_server(trained_model, "--ssl-certfile", str(tmp_path / "cert.pem"), "--ssl-keyfile",
                        str(tmp_path / "key.pem"), scheme="https", verify=verify) as (url, _):
        reply = httpx.post(url + "/v1/entities", json={"texts": [MAJOR_TOM]}, verify=verify)
        assert reply.status_code == 200 and reply.json()["results"][0]["entities"][0]["text"] == "Major Tom"
        with pytest.raises(httpx.TransportError):
            httpx.get(url.replace("https", "http") + "/health")


def test_a_real_server_refuses_a_huge_declared_body_without_reading_it(trained_model):
    import socket

    with running_server(trained_model, "--max-body-bytes", "1000") as (url, process):
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as connection:
            connection.sendall(b"POST /v1/entities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               b"Content-Length: 200000000\r\n\r\n" + b"{" * 1000)
            head = connection.recv(4096).decode()
        assert head.startswith("HTTP/1.1 413"), head
        assert httpx.get(url + "/health").status_code == 200
