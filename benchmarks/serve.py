"""Load on `ner-lstm serve`: one-sentence requests at concurrency 1, 8 and 64, loopback only.

Usage: python benchmarks/serve.py --data ../shared/data/conll2003 --model models/conll2003
       [--seconds 20] [--concurrency 1 8 64]

The server runs as its own process with its default settings (micro-batching up to 64 sentences,
5 ms wait, an access-log line per request, sent to a file); the load comes from one aiohttp client
process on the same 2 cores, each of its `concurrency` workers sending the next CoNLL-2003 test
sentence (as raw text) as soon as its last answer arrives, for --seconds per level. Reported per
level: requests/s, p50 and p99 latency, errors (any status but 200, or a failed connection), and the
server's PSS at the start and end of the level. A screenshot of the page, after tagging the Major Tom
sentence in headless Chromium, is saved as benchmarks/results/serve-page.png.
Prints the figures and writes benchmarks/results/serve.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from measure import tree_memory_kb  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(model: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "ner_lstm", "serve", "--model", str(model), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=log.open("w"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            import urllib.request

            if urllib.request.urlopen(url + "/health").status == 200:
                return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    sys.exit(f"serve.py: the server did not become healthy; see {log}")


async def level(url: str, texts: list[str], concurrency: int, seconds: float, server_pid: int) -> dict:
    latencies: list[float] = []
    errors = 0
    memory: list[int] = []
    stop = time.perf_counter() + seconds
    cursor = iter(range(10**9))

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            text = texts[next(cursor) % len(texts)]
            started = time.perf_counter()
            try:
                async with session.post(url + "/v1/entities", json={"texts": [text]}) as reply:
                    await reply.read()
                    ok = reply.status == 200
            except aiohttp.ClientError:
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += not ok

    async def sample_memory() -> None:
        while time.perf_counter() < stop:
            memory.append(tree_memory_kb(server_pid)[1])
            await asyncio.sleep(0.5)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(sample_memory(), *(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"concurrency": concurrency, "requests": len(latencies), "seconds": round(elapsed, 1),
            "requests_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(1000 * statistics.median(ordered), 1),
            "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1),
            "errors": errors, "server_pss_mb_start": round(memory[0] / 1024), "server_pss_mb_end": round(memory[-1] / 1024),
            "server_pss_mb_peak": round(max(memory) / 1024),
            "server_pss_mb_every_half_second": [round(m / 1024) for m in memory]}


def screenshot(url: str, target: Path) -> str | None:
    chromium = shutil.which("chromium")
    if chromium is None:
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        page.goto(url + "/")
        page.click("#tag")
        page.wait_for_selector("#output mark")
        page.screenshot(path=str(target), full_page=True)
        browser.close()
    return str(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with test.txt (the request sentences)")
    parser.add_argument("--model", type=Path, required=True, help="a trained ner-lstm model directory")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "serve.json")
    args = parser.parse_args()
    from ner_lstm.data.corpus import read_conll

    texts = [" ".join(s.tokens) for s in read_conll(args.data / "test.txt")]
    with tempfile.TemporaryDirectory(prefix="ner-lstm-serve-") as tmp:
        process, url = start_server(args.model, Path(tmp) / "server.log")
        try:
            asyncio.run(level(url, texts, 8, 3.0, process.pid))  # warm-up, not reported
            levels = []
            for concurrency in args.concurrency:
                result = asyncio.run(level(url, texts, concurrency, args.seconds, process.pid))
                levels.append(result)
                print(f"concurrency {concurrency}: {result['requests_per_s']} requests/s, p50 {result['p50_ms']} ms, "
                      f"p99 {result['p99_ms']} ms, {result['errors']} errors, server PSS "
                      f"{result['server_pss_mb_start']} -> {result['server_pss_mb_end']} MB", flush=True)
            picture = screenshot(url, args.out.parent / "serve-page.png")
        finally:
            process.terminate()
            process.wait(timeout=60)
        access_lines = sum(1 for line in (Path(tmp) / "server.log").open() if '"POST /v1/entities"' in line)
    result = {"machine": {"cores": os.cpu_count(), "platform": platform.platform()},
              "python": platform.python_version(), "model": str(args.model),
              "command": " ".join(["python", "benchmarks/serve.py", *sys.argv[1:]]),
              "server_exit_code_after_sigterm": process.returncode, "access_log_lines": access_lines,
              "levels": levels, "screenshot": picture}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"server exit code after SIGTERM: {process.returncode}; wrote {args.out}")


if __name__ == "__main__":
    main()
