"""The real thing: `ner-lstm serve` started as a process on a free loopback port, its page driven by headless
Chromium (Debian's `chromium`, which .ci/run installs) through Playwright, then SIGTERM."""
from __future__ import annotations

import shutil
import signal

import httpx
import pytest
from conftest import running_server

CHROMIUM = shutil.which("chromium")
MAX_CHARS = 200


@pytest.fixture(scope="module")
def server(trained_model):
    with running_server(trained_model, "--max-text-chars", str(MAX_CHARS)) as (url, process):
        yield url, process


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
        label, shown = mark.get_attribute("title").split()
        assert label == "PER" and abs(float(shown) - score) <= 0.005 + 1e-9, "the title rounds the table's score"
        assert score < 1.0, "the slider below needs a score under 1 to filter"
        tagged_requests = len(requests)

        page.locator("#min-score").fill(f"{min(1.0, score + 0.01):.2f}")
        assert page.locator("#output mark").count() == 0 and page.locator("#entities").is_hidden()
        page.locator("#min-score").fill("0")
        assert page.locator("#output mark.PER").count() == 1
        assert len(requests) == tagged_requests, "the slider filters without a new request"

        page.fill("#text", "\U0001F680\U0001F680 Major Tom is a great battle commander.")
        page.click("#tag")
        page.wait_for_function("document.querySelector('#output mark') && "
                               "document.querySelector('#output p').textContent.startsWith('\U0001F680')")
        assert page.locator("#output mark.PER").first.text_content() == "Major Tom", \
            "code-point offsets from the API, shown right after characters of two UTF-16 units"

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


def test_the_page_asks_for_the_api_key_the_server_requires(trained_model, monkeypatch):
    if CHROMIUM is None:
        pytest.fail("chromium is not installed; .ci/run installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("NER_LSTM_TEST_KEY", "s3cret-key")
    with running_server(trained_model, "--api-key-env", "NER_LSTM_TEST_KEY") as (url, _), \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page()
        page.goto(url + "/")
        assert page.locator("#key-label").is_hidden()
        page.click("#tag")
        page.wait_for_function("document.getElementById('error').textContent.length > 0")
        assert page.text_content("#error").startswith("401:") and page.locator("#key-label").is_visible()
        page.fill("#key", "s3cret-key")
        page.click("#tag")
        assert page.wait_for_selector("#output mark.PER").text_content() == "Major Tom"
        browser.close()
