"""The HTTP API and page: FastAPI over the same `Tagger` as `predict` and `tag`.

GET /health, GET /v1/model, POST /v1/entities, GET /metrics (Prometheus), GET / (the page);
/docs and /openapi.json come from FastAPI. Bad requests get JSON errors with their status
(400 malformed JSON, 401 no or wrong API key, 413 too large, 422 wrong types, 503 overloaded
with `Retry-After`), never a traceback. The body is limited before it is read, and parsing,
splitting, tagging and building the answer all run in worker threads, so the event loop
only moves bytes: `/health` answers while the largest request is tagged. Entity offsets are
code points (Python string indices), not UTF-16 units. No response names a file path.
"""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..data.corpus import Sentence
from ..data.lines import without_surrogates
from ..data.text import split_text
from ..data.writers import ENTITY_CSS
from ..inference.bundle import describe
from ..inference.tagger import Tagged, Tagger
from .batcher import MicroBatcher, Overloaded, TooLarge
from .metrics import Metrics

LOG = logging.getLogger("ner_lstm.serve")
WARM_UP = "Major Tom is a great battle commander."
OPEN_PATHS = ("/health", "/", "/docs", "/openapi.json")  # reachable without the API key: no data behind them
# Large requests waiting for a parsing thread, beyond which more get 503: with the queue (--max-queue
# sentences) this bounds all the work waiting, so overload cannot grow memory or latency without limit.
PARSE_SLOTS = 32
INLINE_BODY_BYTES = 2048


@dataclass
class ServeOptions:
    max_batch_size: int = 64
    max_wait_ms: float = 5.0
    max_text_chars: int = 100_000
    max_texts: int = 256
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 10 * 1024 * 1024
    max_queue: int = 2048
    api_key: str | None = None
    patterns: tuple[str, ...] = ()  # entity pattern files applied besides the model's own
    patterns_mode: str | None = None


class EntitiesRequest(BaseModel):
    """Raw texts (split into sentences and tokens as `predict` does) or pre-tokenised sentences."""

    model_config = ConfigDict(extra="forbid")
    texts: list[str] | None = Field(None, examples=[[WARM_UP]])
    tokens: list[list[str]] | None = Field(None, examples=[[WARM_UP[:-1].split() + ["."]]])
    min_score: float | None = Field(None, ge=0.0, le=1.0, description="Leave out entities scored below this.")

    @model_validator(mode="after")
    def one_kind_of_input(self) -> EntitiesRequest:
        if (self.texts is None) == (self.tokens is None):
            raise ValueError("give exactly one of 'texts' or 'tokens'")
        return self


class EntityOut(BaseModel):
    text: str
    label: str
    start: int = Field(description="Code point offset into the result's text (a Python string index).")
    end: int
    score: float
    token_start: int
    token_end: int


class ResultOut(BaseModel):
    text: str
    entities: list[EntityOut]
    tokens: list[str]
    tags: list[str]


class EntitiesResponse(BaseModel):
    results: list[ResultOut]
    model: str = Field(description="The model directory's name.")


def _check_limits(request: EntitiesRequest, options: ServeOptions) -> None:
    items = request.texts if request.texts is not None else request.tokens
    if len(items) > options.max_texts:
        raise HTTPException(413, f"{len(items)} items in one request; the limit is {options.max_texts} (--max-texts)")
    for index, item in enumerate(items):
        size = len(item) if isinstance(item, str) else sum(len(t) + 1 for t in item)
        if size > options.max_text_chars:
            field = "texts" if request.texts is not None else "tokens"
            raise HTTPException(413, f"{field}[{index}]: {size} characters; the limit is "
                                     f"{options.max_text_chars} (--max-text-chars)")


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused (413) from its Content-Length before any of it is read, or as soon as a chunked
    body passes `limit` bytes: nothing larger is ever held in memory."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise HTTPException(413, f"a body of {declared} bytes; the limit is {limit} (--max-body-bytes)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"a body of more than {limit} bytes (--max-body-bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(body: bytes, options: ServeOptions) -> tuple[EntitiesRequest, list[tuple[str, list[Sentence]]]]:
    """The request and its inputs as (text, sentences); run in a worker thread (JSON of megabytes takes time)."""
    try:
        data = without_surrogates(json.loads(body))
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "the request body is not valid JSON") from None
    try:
        request = EntitiesRequest.model_validate(data)
    except ValidationError as err:
        raise HTTPException(422, [{"loc": ["body", *e.get("loc", ())], "msg": e.get("msg", ""),
                                   "type": e.get("type", "")} for e in err.errors()]) from None
    _check_limits(request, options)
    if request.texts is not None:
        return request, [(text, split_text(text)) for text in request.texts]
    return request, [(" ".join(tokens), [Sentence(list(tokens), source="request", line=i + 1)] if tokens else [])
                     for i, tokens in enumerate(request.tokens)]


def _answer(inputs: list[tuple[str, list[Sentence]]], tagged: list[Tagged], min_score: float | None,
            model: str) -> bytes:
    """The response body (built in a worker thread). Entity offsets index each input's text as it is:
    sentences split from a text carry offsets into it; a token input's text is its tokens joined by spaces."""
    results, at = [], 0
    for text, sentences in inputs:
        items, at = tagged[at : at + len(sentences)], at + len(sentences)
        results.append(json.dumps({  # one result at a time: a long C call would hold the GIL from the event loop
            "text": text,
            "entities": [entity.to_json() for item in items for entity in item.entities
                         if min_score is None or entity.score >= min_score],
            "tokens": [token for item in items for token in item.sentence.tokens],
            "tags": [tag for item in items for tag in item.tags],
        }, ensure_ascii=False))
    return f'{{"results": [{", ".join(results)}], "model": {json.dumps(model)}}}'.encode("utf-8")


def public_description(description: dict) -> dict:
    """`describe`'s answer without the server's file paths: a path is cut to its last part (labels kept)."""
    def cut(value: Any) -> Any:
        if isinstance(value, str) and ("/" in value or "\\" in value):
            return value.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        if isinstance(value, dict):
            return {key: value[key] if key == "labels" else cut(value[key]) for key in value}
        if isinstance(value, list):
            return [cut(item) for item in value]
        return value

    return cut(description)


def _authorised(request: Request, key: str | None) -> bool:
    if key is None or request.url.path in OPEN_PATHS:
        return True
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode())


def create_app(model: Path, options: ServeOptions | None = None, tagger: Tagger | None = None) -> FastAPI:
    """The ASGI app for a model directory; the model loads (and tags a warm-up sentence) at start-up."""
    options = options or ServeOptions()
    state: dict = {"ready": False, "parsing": 0}
    metrics = Metrics()
    name = Path(model).name

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = tagger or await asyncio.to_thread(Tagger.load, model)
        await asyncio.to_thread(loaded.use_patterns, options.patterns, options.patterns_mode)
        await asyncio.to_thread(loaded.predict, WARM_UP)
        state["description"] = public_description(await asyncio.to_thread(describe, model))
        batcher = MicroBatcher(loaded, options.max_batch_size, options.max_wait_ms / 1000, options.max_queue,
                               observe_batch=metrics.batch_sizes.observe)
        metrics.watch_queue(lambda: batcher.queued)
        state["batcher"] = batcher
        runner = asyncio.create_task(batcher.run())
        state["ready"] = True
        LOG.info("model %s loaded; serving", name)
        try:
            yield
        finally:
            state["ready"] = False
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner

    app = FastAPI(title="ner-lstm", summary="Named entities in text, from a BiLSTM-CNN-CRF model.",
                  lifespan=lifespan)
    app.state.serve = state
    if options.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(options.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type", "Authorization"])

    @app.middleware("http")
    async def guard_count_and_log(request: Request, call_next):
        """The API key check, then one access-log line and the request metrics for every request."""
        started = time.perf_counter()
        if _authorised(request, options.api_key):
            response = await call_next(request)
        else:
            response = JSONResponse({"detail": "a valid API key is required: send 'Authorization: Bearer KEY'"},
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
        elapsed = time.perf_counter() - started
        metrics.request(request.url.path, response.status_code, elapsed)
        LOG.info('%s "%s %s" %d %.1f ms', request.client.host if request.client else "-", request.method,
                 request.url.path, response.status_code, 1000 * elapsed)
        return response

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> JSONResponse:
        LOG.error("internal error on %s: %s: %s", request.url.path, type(error).__name__, error)
        return JSONResponse({"detail": "internal error; see the server's log"}, status_code=500)

    @app.get("/health")
    async def health() -> JSONResponse:
        """200 once the model is loaded and has tagged a warm-up sentence; 503 before."""
        if not state["ready"]:
            return JSONResponse({"status": "loading"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/v1/model")
    async def model_info() -> dict:
        """What `ner-lstm info --json` prints (labels, scores, training data, versions), file paths cut to names."""
        if not state["ready"]:
            raise HTTPException(503, "the model is loading")
        return state["description"]

    schema = {"requestBody": {"required": True,
                              "content": {"application/json": {"schema": EntitiesRequest.model_json_schema()}}}}

    @app.post("/v1/entities", response_model=EntitiesResponse, openapi_extra=schema)
    async def entities(request: Request) -> Response:
        """Entities with code-point offsets and scores, for raw texts or pre-tokenised sentences (the body is an
        `EntitiesRequest`)."""
        if not state["ready"]:
            raise HTTPException(503, "the model is loading")
        batcher: MicroBatcher = state["batcher"]
        if batcher.queued >= options.max_queue:  # full: refused before the body is read
            raise HTTPException(503, f"{batcher.queued} sentences are waiting; try again shortly",
                                headers={"Retry-After": "1"})
        body = await _read_body(request, options.max_body_bytes)
        if len(body) <= INLINE_BODY_BYTES:  # well under a millisecond here; a thread hop would cost more
            parsed, inputs = _parse(body, options)
        else:  # in a worker thread, so that the event loop never works for long at a time
            if state["parsing"] >= PARSE_SLOTS:
                raise HTTPException(503, f"{state['parsing']} requests are being parsed; try again shortly",
                                    headers={"Retry-After": "1"})
            state["parsing"] += 1
            try:
                parsed, inputs = await asyncio.to_thread(_parse, body, options)
            finally:
                state["parsing"] -= 1
        sentences = [sentence for _, split in inputs for sentence in split]
        try:
            content = await batcher.submit(sentences, lambda tagged: _answer(inputs, tagged, parsed.min_score, name))
        except Overloaded as err:
            raise HTTPException(503, str(err), headers={"Retry-After": "1"}) from None
        except TooLarge as err:
            raise HTTPException(413, str(err)) from None
        return Response(content, media_type="application/json")

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        """Requests by path and status, latency, batch sizes and queue depth, in the Prometheus text format."""
        return Response(metrics.exposition(), media_type=metrics.content_type)

    page_html = resources.files("ner_lstm.serve").joinpath("page.html").read_text("utf-8")
    page_html = page_html.replace("/*ENTITY_CSS*/", ENTITY_CSS)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        """The page: paste text, see its entities (self-contained, works offline)."""
        return HTMLResponse(page_html)

    return app
