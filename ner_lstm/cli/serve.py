"""`ner-lstm serve`: the model behind an HTTP endpoint, with a page that tags text in the browser."""
from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from .common import DEFAULT_MODEL, ModelOption, app, handle_errors


def _drained(signum: int, frame: object) -> None:
    """uvicorn handles Ctrl-C and SIGTERM itself (stop accepting, finish the requests in flight), then
    raises the signal again; by then the server has drained, so it ends the process normally (exit 0)."""


def _check_address(host: str, port: int) -> None:
    """A port in use (or a host not on this machine) is a one-line error before the model loads."""
    import os
    import socket

    from ..errors import UsageError

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as err:
        reason = os.strerror(err.errno) if (err.errno or 0) > 0 else str(err.strerror or err).split(" (while")[0]
        raise UsageError(f"cannot listen on {host}:{port} ({reason}); choose another --port or --host") from None


class LogLevel(str, Enum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


@app.command()
@handle_errors
def serve(
    model: ModelOption = DEFAULT_MODEL,
    host: Annotated[str, typer.Option(help="Address to listen on; 127.0.0.1 keeps it to this machine.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    max_batch_size: Annotated[int, typer.Option(min=1, help="Most sentences tagged together from concurrent requests.")] = 64,
    max_wait_ms: Annotated[float, typer.Option(min=0.0, help="Longest wait for more requests to join a batch.")] = 5.0,
    cors_origin: Annotated[list[str], typer.Option(help="An origin whose pages may call the API (repeatable); none by default.")] = [],  # noqa: B006
    max_text_chars: Annotated[int, typer.Option(min=1, help="Longest text accepted (413 beyond).")] = 100_000,
    max_texts: Annotated[int, typer.Option(min=1, help="Most texts in one request (413 beyond).")] = 256,
    log_level: Annotated[LogLevel, typer.Option(help="Log verbosity; info logs one line per request.")] = LogLevel.info,
) -> None:
    """Serve the model over HTTP: POST /v1/entities, GET /v1/model, GET /health, the page at /, the API at /docs.

    Ctrl-C or SIGTERM stops taking new connections, finishes the requests in flight and exits 0.
    """
    import logging
    import signal

    import uvicorn

    from ..inference.bundle import check_dir
    from ..serve.app import ServeOptions, create_app

    check_dir(model)  # a missing or damaged model is a one-line error before the server starts
    _check_address(host, port)
    logging.basicConfig(level=log_level.value.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options = ServeOptions(max_batch_size, max_wait_ms, max_text_chars, max_texts, tuple(cors_origin))
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, _drained)
    uvicorn.run(create_app(model, options), host=host, port=port, log_level=log_level.value, access_log=False,
                timeout_graceful_shutdown=30)
