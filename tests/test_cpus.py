"""Pool sizes follow the CPUs this process may use: its affinity mask and its cgroup's quota."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ner_lstm import cpus


@pytest.mark.parametrize("content, expected", [("max 100000", None), ("150000 100000", 2), ("100000 100000", 1),
                                               ("50000 100000", 1), ("garbage", None)])
def test_cgroup_v2_quota(tmp_path, content, expected):
    (tmp_path / "cpu.max").write_text(content + "\n")
    assert cpus._quota(tmp_path / "cpu.max", (tmp_path / "none", tmp_path / "none")) == expected


def test_cgroup_v1_quota(tmp_path):
    quota, period = tmp_path / "quota", tmp_path / "period"
    quota.write_text("-1\n")
    period.write_text("100000\n")
    assert cpus._quota(tmp_path / "absent", (quota, period)) is None
    quota.write_text("300000\n")
    assert cpus._quota(tmp_path / "absent", (quota, period)) == 3


def test_quota_limits_the_count(monkeypatch):
    monkeypatch.setattr(cpus, "_quota", lambda: 1)
    assert cpus.available_cpus() == 1


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux CPU affinity")
def test_affinity_limits_the_count():
    code = "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); " \
           "from ner_lstm.cpus import available_cpus; print(available_cpus())"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "1"


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux CPU affinity and two CPUs")
def test_the_network_uses_only_the_cpus_it_may(trained_model):
    code = ("import os, sys; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "from ner_lstm.inference.tagger import Tagger; "
            "print(Tagger.load(sys.argv[1]).emissions.session.get_session_options().intra_op_num_threads)")
    result = subprocess.run([sys.executable, "-c", code, str(trained_model)], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "1"


@pytest.mark.parametrize("setting, threads", [(None, "[1]"), ("2", "[2]")])
def test_the_cli_runs_numpys_blas_on_one_thread_unless_the_user_says(setting, threads):
    """Its idle threads spun on the CPUs the network needs; worker processes inherit the setting."""
    import numpy  # noqa: F401  # loads its BLAS
    from threadpoolctl import threadpool_info

    if not any("numpy" in pool["filepath"] for pool in threadpool_info()):
        pytest.skip("numpy here has no BLAS of its own that threadpoolctl knows")
    code = ("import ner_lstm.cli, numpy, os; from threadpoolctl import threadpool_info; "
            "print([p['num_threads'] for p in threadpool_info() if 'numpy' in p['filepath']], "
            "os.environ['OPENBLAS_NUM_THREADS'])")
    env = {key: value for key, value in os.environ.items() if key != "OPENBLAS_NUM_THREADS"}
    if setting:
        env["OPENBLAS_NUM_THREADS"] = setting
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.split() == [threads, setting or "1"]
