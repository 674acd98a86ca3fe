"""Peak resident memory of a command and every process it starts (worker processes summed in), from /proc."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path


def tree_rss_kb(root: int) -> int:
    """Resident memory of a process and all its descendants, in kB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(entry.name)
        children.setdefault(int(fields["PPid"]), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run_with_peak_rss(command: list[str], interval: float = 0.2, **kwargs) -> float:
    """Run `command` to completion (raising on failure); its peak summed RSS in MB, sampled every `interval` s."""
    process = subprocess.Popen(command, **kwargs)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss_kb(process.pid))
        time.sleep(interval)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return peak / 1024
