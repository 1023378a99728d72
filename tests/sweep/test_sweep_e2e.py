"""Sweeps end to end with the real SmolLM2: a sweep of 2 tasks x 2 methods on a real local Ray cluster
(`ray start --head` on loopback plus a second node), with the worker process of one run killed mid-run (the run is
run again and resumes from its checkpoint); the same sweep with local worker processes, given the model answers the
Ray sweep got (a copy of its response cache), makes the same decisions and results without a model call: where a
run ran does not change it. (That greedy llama.cpp gives the same answers run to run is tested in tests/lm.)"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from behavopt.lm.serve_process import free_port
from behavopt.optimizers.rundir import RunDir
from behavopt.sweep.summary import load_summary

pytestmark = pytest.mark.e2e
ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install '.[ray]'")

SWEEP = """tasks: [demo:navigate, demo:object-counting]
methods: [apo, ape]
seeds: [0]
target: local:smollm2-135m?threads=1
optimizer: local:smollm2-135m?threads=1
settings: {preset: quick, steps: 1, initial: 2, beam: 2, expand: 2, errors: 2, train_size: 8, dev_size: 4,
           test_size: 4, train_batch: 4, target_max_tokens: 32, optimizer_max_tokens: 64}
"""


def ray_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    binary = shutil.which("ray") or str(Path(sys.executable).parent / "ray")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=180, env=env, check=check)


@pytest.fixture(scope="module")
def ray_cluster():
    """A head node and a second node on loopback, one CPU each; stopped at the end."""
    port = free_port()
    ray_cli("start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=1",
            "--include-dashboard=false", "--disable-usage-stats")
    ray_cli("start", f"--address=127.0.0.1:{port}", "--node-ip-address=127.0.0.1", "--num-cpus=1")
    yield f"127.0.0.1:{port}"
    ray_cli("stop", "--force", check=False)


def sweep(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "behavopt.cli.main", "sweep", *args, "--threads", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def held_lock(run_dir: Path) -> int | None:
    """The pid writing a run that has started but not finished, or None."""
    lock = run_dir / ".lock"
    if not (run_dir / "checkpoint.json").is_file() or (run_dir / "result.json").is_file() or not lock.is_file():
        return None
    with open(lock, "r+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return int(f.read().strip() or 0) or None
        fcntl.flock(f, fcntl.LOCK_UN)
    return None


def comparable(run_dir: Path) -> dict:
    data = json.loads((run_dir / "result.json").read_text())
    return {k: data[k] for k in ("best_candidate", "best_prompt", "initial_dev_score", "best_dev_score",
                                 "initial_test_score", "best_test_score", "steps")}


def test_a_sweep_on_ray_survives_a_killed_worker_and_equals_the_local_sweep(smollm_path, ray_cluster, tmp_path):
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    on_ray = tmp_path / "ray"
    proc = sweep(str(tmp_path / "sweep.yaml"), "--out", str(on_ray), "--ray", ray_cluster,
                 "--cache", str(tmp_path / "ray.sqlite"))
    killed: tuple[str, int] | None = None
    deadline = time.time() + 600
    while proc.poll() is None and time.time() < deadline:
        if killed is None:
            for run_dir in sorted((on_ray / "runs").glob("*")) if (on_ray / "runs").is_dir() else []:
                pid = held_lock(run_dir)
                if pid and pid != proc.pid:
                    os.kill(pid, signal.SIGKILL)  # the Ray worker process running this run
                    killed = (run_dir.name, pid)
                    break
        time.sleep(0.2)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    assert killed is not None, "no run was caught mid-run to kill"
    outcomes = {o.name: o for o in load_summary(on_ray)}
    assert len(outcomes) == 4 and all(o.status in ("made", "resumed") for o in outcomes.values())
    name, pid = killed
    assert outcomes[name].status == "resumed" and not outcomes[name].host.endswith(f":{pid}")
    assert len({o.host.split(":")[0] for o in outcomes.values()}) >= 1 and (on_ray / "compare.html").is_file()
    assert "| demo_navigate-apo-s0 |" in out

    local = tmp_path / "local"
    with sqlite3.connect(tmp_path / "ray.sqlite") as source, sqlite3.connect(tmp_path / "local.sqlite") as copy:
        source.backup(copy)  # the WAL's pages too
    done = sweep(str(tmp_path / "sweep.yaml"), "--out", str(local), "--workers", "2",
                 "--cache", str(tmp_path / "local.sqlite"))
    _, err = done.communicate(timeout=600)
    assert done.returncode == 0, err[-3000:]
    for name in outcomes:
        assert comparable(local / "runs" / name) == comparable(on_ray / "runs" / name), name
        usage = json.loads((local / "runs" / name / "result.json").read_text())["usage"]
        assert usage["target"]["calls"] == usage["optimizer"]["calls"] == 0  # every answer from the cache
    # A restart finds every run finished and runs nothing.
    again = sweep(str(tmp_path / "sweep.yaml"), "--out", str(local), "--workers", "2", "--cache",
                  str(tmp_path / "local.sqlite"))
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0 and {o.status for o in load_summary(local)} == {"reused"}
    assert RunDir(local / "runs" / name).load_result() is not None


def test_an_evaluation_spread_over_ray_merges_into_the_local_result(smollm_path, ray_cluster, tmp_path):
    def run(*extra: str, cache: str) -> dict:
        proc = subprocess.run([sys.executable, "-m", "behavopt.cli.main", "eval", "--task", "demo:navigate",
                               "--model", "local:smollm2-135m?threads=1", "--limit", "8", "--max-tokens", "32",
                               "--json", "--cache", str(tmp_path / cache), *extra],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout)

    spread = run("--ray", ray_cluster, "--chunks", "2", "--out", str(tmp_path / "spread"), cache="ray.sqlite")
    here = run("--out", str(tmp_path / "here"), cache="here.sqlite")
    assert spread["n"] == here["n"] == 8 and spread["accuracy"] == here["accuracy"]
    assert spread["usage"]["calls"] == 8  # every example scored once, across the chunks
    records = [[json.loads(line) for line in (tmp_path / d / "records.jsonl").read_text().splitlines()]
               for d in ("spread", "here")]
    assert [(r["id"], r["output"]) for r in records[0]] == [(r["id"], r["output"]) for r in records[1]]
