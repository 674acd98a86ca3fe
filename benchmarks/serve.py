"""Load on `ner-lstm serve`: one-sentence requests at concurrency 1, 8 and 64, loopback only; or overload.

Usage: python benchmarks/serve.py --data ../shared/data/conll2003 --model models/conll2003
       [--seconds 20] [--concurrency 1 8 64]
       python benchmarks/serve.py --data ... --model ... --overload [--soak 600]

--overload (written to serve-overload.json) runs, against the server's default limits: 512 clients
for 30 s, each sending requests of 64 sentences, more than the server can tag, so that its bounded
queue refuses work (503 with Retry-After); reported are the errors other than 503 (there must be
none), the 503s, the accepted requests' p50/p99 and the server's memory every half second. Then
/health is asked every 50 ms while one maximal request (as many sentences as --max-queue admits)
is tagged, and its latencies reported. --soak S then runs 64 one-sentence clients for S seconds,
memory sampled (the first and last minute's medians compared).

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


def start_server(model: Path, log: Path, *options: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "ner_lstm", "serve", "--model", str(model), "--port", str(port),
                                *options], stdout=subprocess.DEVNULL, stderr=log.open("w"))
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


def percentile(ordered: list[float], share: float) -> float:
    return round(1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1) if ordered else None


async def level(url: str, texts: list[str], concurrency: int, seconds: float, server_pid: int,
                per_request: int = 1) -> dict:
    latencies: list[float] = []
    errors = refused = 0
    statuses: dict[str, int] = {}
    memory: list[int] = []
    stop = time.perf_counter() + seconds
    cursor = iter(range(10**9))

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors, refused
        while time.perf_counter() < stop:
            batch = [texts[next(cursor) % len(texts)] for _ in range(per_request)]
            started = time.perf_counter()
            try:
                async with session.post(url + "/v1/entities", json={"texts": batch}) as reply:
                    await reply.read()
                    status = str(reply.status)
            except aiohttp.ClientError as err:
                status = type(err).__name__
            statuses[status] = statuses.get(status, 0) + 1
            if status == "503":
                refused += 1
                await asyncio.sleep(1.0)  # the server's Retry-After
                continue
            latencies.append(time.perf_counter() - started)
            errors += status != "200"

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
    return {"concurrency": concurrency, "sentences_per_request": per_request, "requests": len(latencies),
            "seconds": round(elapsed, 1), "requests_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": percentile(ordered, 0.5), "p99_ms": percentile(ordered, 0.99),
            "errors": errors, "refused_503": refused, "statuses": statuses, "server_pss_mb_start": round(memory[0] / 1024), "server_pss_mb_end": round(memory[-1] / 1024),
            "server_pss_mb_peak": round(max(memory) / 1024),
            "server_pss_mb_every_half_second": [round(m / 1024) for m in memory]}


async def health_during_maximal_request(url: str, texts: list[str], sentences: int, items: int) -> dict:
    """/health's latency, asked every 50 ms while one request of `items` texts (the most --max-texts admits)
    holding `sentences` CoNLL sentences in all is tagged (the splitter may cut a sentence in two, so they are
    fewer than --max-queue admits)."""
    per = sentences // items
    big = [" ".join(texts[(i * per + j) % len(texts)] for j in range(per)) for i in range(items)]
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        request = asyncio.create_task(session.post(url + "/v1/entities", json={"texts": big}))
        while not request.done():
            asked = time.perf_counter()
            async with session.get(url + "/health") as reply:
                await reply.read()
            latencies.append(time.perf_counter() - asked)
            await asyncio.sleep(0.05)
        reply = await request
        status = reply.status
        await reply.read()
        took = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"request_sentences": sentences, "request_status": status, "request_seconds": round(took, 2),
            "health_checks": len(ordered), "health_p50_ms": percentile(ordered, 0.5),
            "health_max_ms": round(1000 * ordered[-1], 1) if ordered else None}


def overload(args: argparse.Namespace, texts: list[str]) -> dict:
    from ner_lstm.serve.app import ServeOptions

    limit, items = ServeOptions().max_queue, ServeOptions().max_texts
    with tempfile.TemporaryDirectory(prefix="ner-lstm-serve-") as tmp:
        process, url = start_server(args.model, Path(tmp) / "server.log", "--log-level", "warning")
        try:
            asyncio.run(level(url, texts, 8, 3.0, process.pid))  # warm-up, not reported
            loaded = asyncio.run(level(url, texts, 512, 30.0, process.pid, per_request=64))
            print(f"overload, 512 clients x 64 sentences for 30 s: {loaded['requests']} accepted "
                  f"({loaded['requests_per_s']}/s), {loaded['refused_503']} refused with 503, {loaded['errors']} other "
                  f"errors; accepted p50 {loaded['p50_ms']} ms, p99 {loaded['p99_ms']} ms; server PSS "
                  f"{loaded['server_pss_mb_start']} -> {loaded['server_pss_mb_end']} MB (peak "
                  f"{loaded['server_pss_mb_peak']})", flush=True)
            health = asyncio.run(health_during_maximal_request(url, texts, limit * 3 // 4, items))
            print(f"/health during one request of {items} texts, {limit * 3 // 4} sentences ({health['request_seconds']} s, status "
                  f"{health['request_status']}): p50 {health['health_p50_ms']} ms, max {health['health_max_ms']} ms "
                  f"over {health['health_checks']} checks", flush=True)
            soak = None
            if args.soak:
                soak = asyncio.run(level(url, texts, 64, args.soak, process.pid))
                memory = soak["server_pss_mb_every_half_second"]
                soak["pss_mb_median_first_minute"] = statistics.median(memory[:120])
                soak["pss_mb_median_last_minute"] = statistics.median(memory[-120:])
                print(f"soak, 64 clients for {args.soak:.0f} s: {soak['requests']} requests, {soak['errors']} errors, "
                      f"p99 {soak['p99_ms']} ms; server PSS median first minute {soak['pss_mb_median_first_minute']} MB, "
                      f"last minute {soak['pss_mb_median_last_minute']} MB", flush=True)
        finally:
            process.terminate()
            process.wait(timeout=60)
    return {"overload": loaded, "health_during_maximal_request": health, "soak": soak,
            "server_exit_code_after_sigterm": process.returncode}


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
    parser.add_argument("--overload", action="store_true", help="the overload run (see above) instead of the levels")
    parser.add_argument("--soak", type=float, default=0.0, help="with --overload: seconds of soak at concurrency 64")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    from ner_lstm.data.corpus import read_conll

    texts = [" ".join(s.tokens) for s in read_conll(args.data / "test.txt")]
    machine = {"cores": os.cpu_count(), "platform": platform.platform(), "date": time.strftime("%Y-%m-%d")}
    if args.overload:
        out = args.out or HERE / "results" / "serve-overload.json"
        # Each part keeps the machine, date and command it ran with; a run without --soak keeps the last soak.
        stamp = {"machine": machine, "python": platform.python_version(), "model": args.model.name,
                 "command": " ".join(["python", "benchmarks/serve.py", *sys.argv[1:]])}
        result = json.loads(out.read_text()) if out.is_file() else {}
        result.update({part: {**stamp, **value} if isinstance(value, dict) else value
                       for part, value in overload(args, texts).items() if value is not None})
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {out}")
        return
    args.out = args.out or HERE / "results" / "serve.json"
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
    result = {"machine": machine,
              "python": platform.python_version(), "model": str(args.model),
              "command": " ".join(["python", "benchmarks/serve.py", *sys.argv[1:]]),
              "server_exit_code_after_sigterm": process.returncode, "access_log_lines": access_lines,
              "levels": levels, "screenshot": picture}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"server exit code after SIGTERM: {process.returncode}; wrote {args.out}")


if __name__ == "__main__":
    main()
