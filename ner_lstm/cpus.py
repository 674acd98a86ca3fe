"""How many CPUs this process may really use: its affinity mask and its container's CPU quota.

`os.cpu_count()` counts the machine's CPUs, so under `taskset` or a container limit
it starts too many threads or processes, which then fight over the few CPUs allowed.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_V2 = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1 = (Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))


def _quota(v2: Path = CGROUP_V2, v1: tuple[Path, Path] = CGROUP_V1) -> int | None:
    """CPUs allowed by the cgroup's quota (rounded up), or None when there is no quota."""
    try:
        if v2.is_file():
            quota, period = v2.read_text().split()[:2]
            if quota == "max":
                return None
        elif v1[0].is_file():
            quota, period = v1[0].read_text().strip(), v1[1].read_text().strip()
            if int(quota) <= 0:
                return None
        else:
            return None
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        return None


def available_cpus() -> int:
    """The number of CPUs to size thread and process pools by (at least 1)."""
    try:
        allowed = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        allowed = os.cpu_count() or 1
    quota = _quota()
    return max(1, min(allowed, quota) if quota else allowed)
