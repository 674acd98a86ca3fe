"""The real thing: `ner-lstm serve` started as a process on a free loopback port, its page driven by headless
Chromium (Debian's `chromium`, which .ci/run installs) through Playwright, then SIGTERM."""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

CHROMIUM = shutil.which("chromium")
MAX_CHARS = 200


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(trained_model):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "ner_lstm", "serve", "--model", str(trained_model),
                                "--port", str(port), "--max-text-chars", str(MAX_CHARS)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, process.communicate()[1]
        time.sleep(0.2)
    yield url, process
    if process.poll() is None:
        process.kill()
        process.communicate()


def test_the_page_tags_filters_and_shows_errors_in_a_real_browser(server):
    if CHROMIUM is None:
        pytest.fail("chromium is not installed; .ci/run installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    url, _ = server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(url + "/")
        assert "Major Tom is a great battle commander." in page.input_value("#text")
        page.click("#tag")
        mark = page.wait_for_selector("#output mark.PER")
        assert mark.text_content() == "Major Tom" and mark.get_attribute("data-label") == "PER"
        score = float(page.locator("#entities tbody tr").first.locator("td").nth(4).text_content())
        assert mark.get_attribute("title") == f"PER {score:.2f}"
        assert score < 1.0, "the slider below needs a score under 1 to filter"
        tagged_requests = len(requests)

        page.locator("#min-score").fill(f"{min(1.0, score + 0.01):.2f}")
        assert page.locator("#output mark").count() == 0 and page.locator("#entities").is_hidden()
        page.locator("#min-score").fill("0")
        assert page.locator("#output mark.PER").count() == 1
        assert len(requests) == tagged_requests, "the slider filters without a new request"

        page.check("#show-json")
        assert '"label": "PER"' in page.text_content("#json")

        page.fill("#text", "x" * (MAX_CHARS + 1))
        page.click("#tag")
        page.wait_for_function("document.getElementById('error').textContent.length > 0")
        assert page.text_content("#error").startswith("413:") and "--max-text-chars" in page.text_content("#error")
        browser.close()


def test_sigterm_drains_and_exits_0_with_an_access_log(server):
    url, process = server
    assert httpx.post(url + "/v1/entities", json={"texts": ["Major Tom"]}).status_code == 200
    process.send_signal(signal.SIGTERM)
    _, log = process.communicate(timeout=60)
    assert process.returncode == 0, log
    assert '"POST /v1/entities" 200' in log and "Traceback" not in log
