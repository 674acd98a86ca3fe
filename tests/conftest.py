"""Shared fixtures: the bundled sample corpus and one tiny model trained through the CLI."""
from __future__ import annotations

import os
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
