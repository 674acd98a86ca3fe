"""Shared fixtures: the bundled sample corpus and one tiny model trained through the CLI."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(scope="session")
def sample() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory) -> Path:
    """A small GloVe model trained end to end through `ner-lstm train` (the integration test's model)."""
    from typer.testing import CliRunner

    from ner_lstm.cli import app

    model = tmp_path_factory.mktemp("models") / "sample"
    result = CliRunner().invoke(app, [
        "train", "--train", str(SAMPLE / "train.txt"), "--dev", str(SAMPLE / "dev.txt"),
        "--test", str(SAMPLE / "test.txt"), "--model", str(model), "--epochs", "8", "--seed", "7",
        "--document-context",  # so every reader, engine and the server are tested with the context on
    ])
    assert result.exit_code == 0, result.output
    return model


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_server(model: Path, *args: str, scheme: str = "http", verify: object = True,
                   env: dict | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """`ner-lstm serve` as a process on a free loopback port, once /health answers 200; killed afterwards."""
    import httpx

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "ner_lstm", "serve", "--model", str(model), "--port", str(port),
                                *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **(env or {})})
    url = f"{scheme}://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/health", verify=verify).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.communicate()[1]
            time.sleep(0.2)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
