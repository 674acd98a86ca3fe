"""The documentation site: `mkdocs build --strict` (a broken link, a missing page or a failing generator
fails it), then its pages opened in headless Chromium: the home page, the CLI reference generated from
the commands, and a results page with its figure made from the benchmark files."""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading

import pytest
from conftest import ROOT

CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(target)], cwd=ROOT,
                           capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert built.returncode == 0, built.stderr
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(target))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_site_builds_strictly_and_its_pages_open_in_a_real_browser(site):
    if CHROMIUM is None:
        pytest.fail("chromium is not installed; .ci/run installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page()
        assert page.goto(site + "/").ok
        assert "Major [Tom](PER) is a great battle commander." in page.text_content("article")

        page.goto(site + "/reference/cli/")
        reference = page.text_content("article")
        for command in ("train", "evaluate", "predict", "tag", "convert", "info", "serve"):
            assert f"ner-lstm {command} [OPTIONS]" in reference, command
        assert "--max-body-bytes" in reference and "--api-key-env" in reference, "options come from the commands"

        page.goto(site + "/results/accuracy/")
        assert "Test F1" in page.text_content("article")
        figure = page.locator("article img").first
        assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", figure.element_handle())
        browser.close()
