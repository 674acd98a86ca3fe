"""Peak memory of a command and every process it starts, from /proc: resident (RSS) and proportional (PSS).

RSS counts a page shared by several processes (a memory-mapped GloVe table, the libraries)
once per process; PSS splits it between them, so the PSS of a process tree sums to what
the tree really holds. Both are sampled, summed over the tree, every `interval` seconds.
"""
from __future__ import annotations

import platform
import subprocess
import time
from pathlib import Path


def _field_kb(text: str, name: str) -> int:
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


def tree_memory_kb(root: int) -> tuple[int, int]:
    """(RSS, PSS) of a process and all its descendants, in kB."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            children.setdefault(_field_kb(status, "PPid"), []).append(int(entry.name))
    rss = pss = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:  # ended between the listing and now
            continue
        rss += _field_kb(rollup, "Rss")
        pss += _field_kb(rollup, "Pss")
        stack.extend(children.get(pid, []))
    return rss, pss


def run_with_peak_memory(command: list[str], interval: float = 0.2, **kwargs) -> dict[str, float]:
    """Run `command` to completion (raising on failure); peak summed RSS and PSS in MB, and wall seconds."""
    started = time.perf_counter()
    process = subprocess.Popen(command, **kwargs)
    peak_rss = peak_pss = 0
    while process.poll() is None:
        rss, pss = tree_memory_kb(process.pid)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(interval)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return {"peak_rss_mb": peak_rss / 1024, "peak_pss_mb": peak_pss / 1024, "seconds": time.perf_counter() - started}


def cpu_model() -> str:
    """The CPU's model name, which results record beside the core count: machines of one kind differ."""
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").is_file() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()
