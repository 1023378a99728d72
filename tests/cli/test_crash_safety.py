"""Crash safety of a real run (SmolLM2): killed with SIGKILL at three random moments and resumed each time, it ends
with the uninterrupted run's result; no JSON file is ever left truncated, the response cache stays whole, and a run
directory that is corrupt, foreign or of a newer version is refused on resume in one line. Three kills keep the suite
short; bench/kills.py makes 20."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.test_eval_cli import behavopt
from tests.conftest import killed_run_args
from tests.cli.test_optimize_cli import _comparable

ARGS = killed_run_args()


def json_files_are_whole(out: Path) -> None:
    """Every .json file parses, and every .jsonl line but a last events line cut by the kill (dropped on resume)."""
    for path in out.rglob("*.json"):
        json.loads(path.read_text())
    for path in out.rglob("*.jsonl"):
        lines = path.read_text().splitlines(keepends=True)
        for i, line in enumerate(lines):
            if path.name == "events.jsonl" and i == len(lines) - 1 and not line.endswith("\n"):
                continue
            json.loads(line)


@pytest.mark.e2e
def test_three_kills_at_random_moments_lose_nothing(uninterrupted_run, tmp_path):
    whole = uninterrupted_run
    out, cache = tmp_path / "killed", tmp_path / "c2.sqlite"
    env = {**os.environ, "BEHAVOPT_CACHE": str(cache)}
    moments = random.Random(20261206)
    kills = 0
    while kills < 3:
        resume = ["--resume"] if (out / "config.json").is_file() else []
        proc = subprocess.Popen([sys.executable, "-m", "behavopt.cli.main", *ARGS, "--out", str(out), *resume],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        time.sleep(moments.uniform(1.0, 5.0))
        if proc.poll() is not None:
            break  # finished before this kill
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        json_files_are_whole(out)
        assert sqlite3.connect(cache).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert kills >= 2, "the run finished too soon to be interrupted often"
    resumed = json.loads(behavopt(*ARGS, "--out", str(out), "--resume", "--json", "--cache", str(cache),
                                  check=True).stdout)
    assert _comparable(resumed) == _comparable(whole)


def _started_run(tmp_path: Path) -> Path:
    from behavopt.optimizers.config import RunConfig
    from behavopt.optimizers.rundir import RunDir
    from behavopt.optimizers.settings import preset

    out = tmp_path / "run"
    RunDir(out).prepare(RunConfig(task="demo:navigate", method="apo", target="local:smollm2-135m?threads=2",
                                  optimizer="local:smollm2-135m?threads=2", settings=preset("quick")), resume=False)
    return out


@pytest.mark.parametrize("damage,message", [
    (lambda out: (out / "checkpoint.json").write_text('{"schema_version": 1, "step": 0, "cand'),
     "checkpoint.json is not valid JSON"),
    (lambda out: (out / "config.json").write_text(json.dumps(
        {**json.loads((out / "config.json").read_text()), "schema_version": 99})), "schema_version 99"),
    (lambda out: (out / "config.json").write_text(json.dumps({"task": "demo:navigate", "accuracy": 0.5})),
     "is not a valid RunConfig"),
    (lambda out: ((out / "config.json").unlink(), (out / "notes.txt").write_text("mine"))[-1], "nothing to resume"),
])
def test_a_damaged_or_foreign_run_directory_is_refused_in_one_line(tmp_path, damage, message):
    out = _started_run(tmp_path)
    damage(out)
    model = "local:smollm2-135m?threads=2"
    proc = behavopt(*ARGS[:5], "--target", model, "--optimizer", model, "--preset", "quick", "--out", str(out),
                    "--resume")
    assert proc.returncode == 2 and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
