"""The HTTP API and page: FastAPI over the same `Tagger` as `predict` and `tag`.

GET /health, GET /v1/model, POST /v1/entities, GET / (the page); /docs and /openapi.json come
from FastAPI. Bad requests get JSON errors with their status (400 malformed JSON, 422 wrong
types, 413 too many or too long texts), never a traceback.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..data.corpus import Sentence
from ..data.text import split_text
from ..data.writers import ENTITY_CSS
from ..inference.bundle import describe
from ..inference.tagger import Tagged, Tagger
from .batcher import MicroBatcher

LOG = logging.getLogger("ner_lstm.serve")
WARM_UP = "Major Tom is a great battle commander."
SPLIT_IN_THREAD_CHARS = 5_000


@dataclass
class ServeOptions:
    max_batch_size: int = 64
    max_wait_ms: float = 5.0
    max_text_chars: int = 100_000
    max_texts: int = 256
    cors_origins: tuple[str, ...] = ()


class EntitiesRequest(BaseModel):
    """Raw texts (split into sentences and tokens as `predict` does) or pre-tokenised sentences."""

    model_config = ConfigDict(extra="forbid")
    texts: list[str] | None = Field(None, examples=[[WARM_UP]])
    tokens: list[list[str]] | None = Field(None, examples=[[["Major", "Tom", "is", "a", "great", "battle", "commander", "."]]])
    min_score: float | None = Field(None, ge=0.0, le=1.0, description="Leave out entities scored below this.")

    @model_validator(mode="after")
    def one_kind_of_input(self) -> EntitiesRequest:
        if (self.texts is None) == (self.tokens is None):
            raise ValueError("give exactly one of 'texts' or 'tokens'")
        return self


class EntityOut(BaseModel):
    text: str
    label: str
    start: int
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
    model: str


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


def _result(text: str, tagged: list[Tagged], min_score: float | None) -> ResultOut:
    """One input's answer. Entity offsets index `text` as they are: sentences split from a text carry
    offsets into it, and a token input is one sentence whose text is its tokens joined by spaces."""
    found = [EntityOut(**entity.to_json()) for item in tagged for entity in item.entities
             if min_score is None or entity.score >= min_score]
    return ResultOut(text=text, entities=found, tokens=[t for item in tagged for t in item.sentence.tokens],
                     tags=[tag for item in tagged for tag in item.tags])


def create_app(model: Path, options: ServeOptions | None = None, tagger: Tagger | None = None) -> FastAPI:
    """The ASGI app for a model directory; the model loads (and tags a warm-up sentence) at start-up."""
    options = options or ServeOptions()
    state: dict = {"ready": False}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = tagger or await asyncio.to_thread(Tagger.load, model)
        await asyncio.to_thread(loaded.predict, WARM_UP)
        state["description"] = await asyncio.to_thread(describe, model)
        state["batcher"] = MicroBatcher(loaded.tag, options.max_batch_size, options.max_wait_ms / 1000)
        runner = asyncio.create_task(state["batcher"].run())
        state["ready"] = True
        LOG.info("model %s loaded; serving", model)
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
                           allow_headers=["Content-Type"])

    @app.middleware("http")
    async def access_log(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        LOG.info('%s "%s %s" %d %.1f ms', request.client.host if request.client else "-", request.method,
                 request.url.path, response.status_code, 1000 * (time.perf_counter() - started))
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = error.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse({"detail": "the request body is not valid JSON"}, status_code=400)
        fields = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors]
        return JSONResponse({"detail": fields}, status_code=422)

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
        """What `ner-lstm info --json` prints: labels, scores, training data, versions."""
        if not state["ready"]:
            raise HTTPException(503, "the model is loading")
        return state["description"]

    @app.post("/v1/entities", response_model=EntitiesResponse)
    async def entities(request: EntitiesRequest) -> EntitiesResponse:
        """Entities with character offsets and scores, for raw texts or pre-tokenised sentences."""
        if not state["ready"]:
            raise HTTPException(503, "the model is loading")
        _check_limits(request, options)
        if request.texts is not None:
            split = lambda: [(text, split_text(text)) for text in request.texts]  # noqa: E731
            # Long texts are split off the event loop, so other requests are not held up meanwhile.
            large = sum(map(len, request.texts)) > SPLIT_IN_THREAD_CHARS
            inputs = await asyncio.to_thread(split) if large else split()
        else:
            inputs = [(" ".join(tokens), [Sentence(list(tokens), source="request", line=i + 1)] if tokens else [])
                      for i, tokens in enumerate(request.tokens)]
        batcher: MicroBatcher = state["batcher"]
        tagged = await asyncio.gather(*(batcher.tag_sentences(sentences) for _, sentences in inputs))
        results = [_result(text, items, request.min_score) for (text, _), items in zip(inputs, tagged)]
        return EntitiesResponse(results=results, model=str(model))

    page_html = resources.files("ner_lstm.serve").joinpath("page.html").read_text("utf-8")
    page_html = page_html.replace("/*ENTITY_CSS*/", ENTITY_CSS)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        """The page: paste text, see its entities (self-contained, works offline)."""
        return HTMLResponse(page_html)

    return app
