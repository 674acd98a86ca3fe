"""`ner-lstm serve`: the model behind an HTTP endpoint, with a page that tags text in the browser."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .common import DEFAULT_MODEL, ModelOption, PatternsModeOption, PatternsOption, app, handle_errors


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


def _api_key(variable: str | None, host: str, allow_unauthenticated: bool) -> str | None:
    """The key named by --api-key-env; listening beyond this machine without one needs --allow-unauthenticated."""
    import ipaddress
    import os

    from ..errors import UsageError

    if variable is not None:
        key = os.environ.get(variable, "").strip()
        if not key:
            raise UsageError(f"--api-key-env {variable}: the environment variable is not set or empty")
        return key
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name
        loopback = False
    if not loopback and not allow_unauthenticated:
        raise UsageError(f"--host {host} listens beyond this machine: require a key with --api-key-env VAR "
                         "(clients send 'Authorization: Bearer KEY'), or pass --allow-unauthenticated")
    return None


def _check_tls(certfile: Path | None, keyfile: Path | None) -> None:
    from ..errors import UsageError

    if (certfile is None) != (keyfile is None):
        raise UsageError("TLS needs both --ssl-certfile and --ssl-keyfile")
    for name, path in (("--ssl-certfile", certfile), ("--ssl-keyfile", keyfile)):
        if path is not None and not path.is_file():
            raise UsageError(f"{name} {path}: no such file")
    if certfile is not None:
        import ssl

        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
        except (ssl.SSLError, OSError) as err:
            raise UsageError(f"--ssl-certfile {certfile} / --ssl-keyfile {keyfile}: not a certificate and its "
                             f"key ({err.strerror or err})") from None


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
    max_batch_size: Annotated[int, typer.Option(min=1, help=("Most sentences tagged together from concurrent "
        "requests."))] = 64,
    max_wait_ms: Annotated[float, typer.Option(min=0.0, help="Longest wait for more requests to join a batch.")] = 5.0,
    cors_origin: Annotated[list[str], typer.Option(help=("An origin whose pages may call the API (repeatable); none "
        "by default."))] = [],  # noqa: B006
    max_text_chars: Annotated[int, typer.Option(min=1, help="Longest text accepted (413 beyond).")] = 100_000,
    max_texts: Annotated[int, typer.Option(min=1, help="Most texts in one request (413 beyond).")] = 256,
    max_body_bytes: Annotated[int, typer.Option(
        min=1, help="Largest request body, refused (413) before it is read.")] = 10 * 1024 * 1024,
    max_queue: Annotated[int, typer.Option(min=1, help=("Most sentences waiting to be tagged; beyond, requests get "
        "503 with Retry-After."))] = 2048,
    api_key_env: Annotated[str | None, typer.Option(help=("Environment variable holding the API key clients must "
        "send as 'Authorization: Bearer KEY'."))] = None,
    allow_unauthenticated: Annotated[bool, typer.Option(help="Listen beyond loopback without an API key.")] = False,
    ssl_certfile: Annotated[Path | None, typer.Option(
        help="Certificate (PEM) to speak HTTPS; needs --ssl-keyfile.")] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="Private key (PEM) of --ssl-certfile.")] = None,
    log_level: Annotated[LogLevel, typer.Option(help="Log verbosity; info logs one line per request.")] = LogLevel.info,
    patterns: PatternsOption = None,
    patterns_mode: PatternsModeOption = None,
) -> None:
    """Serve the model over HTTP: POST /v1/entities, GET /v1/model, GET /health, GET /metrics, the page at /,
    the API at /docs.

    Requests are tagged in fair batches of at most --max-batch-size sentences; a full queue answers 503 at once.
    Listening beyond 127.0.0.1 needs --api-key-env (or --allow-unauthenticated); HTTPS with --ssl-certfile and
    --ssl-keyfile. Ctrl-C or SIGTERM stops taking new connections, finishes the requests in flight and exits 0.
    """
    import logging
    import signal
    import sys

    import uvicorn

    from ..inference.bundle import check_dir
    from ..serve.app import ServeOptions, create_app

    check_dir(model)  # a missing or damaged model is a one-line error before the server starts
    _check_address(host, port)
    api_key = _api_key(api_key_env, host, allow_unauthenticated)
    _check_tls(ssl_certfile, ssl_keyfile)
    logging.basicConfig(level=log_level.value.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options = ServeOptions(max_batch_size, max_wait_ms, max_text_chars, max_texts, tuple(cors_origin), max_body_bytes,
                           max_queue, api_key, tuple(map(str, patterns or [])),
                           patterns_mode.value if patterns_mode else None)
    from ..inference.patterns import read_patterns

    for file in patterns or []:
        read_patterns(file)  # a malformed pattern file is a one-line error before the server starts
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, _drained)
    # The event loop shares the GIL with the threads that parse, tag and answer: a shorter turn lets it
    # answer /health and small requests within milliseconds while a large request is being worked on.
    sys.setswitchinterval(0.001)
    uvicorn.run(create_app(model, options), host=host, port=port, log_level=log_level.value, access_log=False,
                timeout_graceful_shutdown=30, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
