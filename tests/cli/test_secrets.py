"""API keys, from the environment or the --api-key flag, never reach a file a run writes, the cache, the output or an
error message: real runs against a real local server, then every byte they wrote is searched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from behavopt.lm.serve_process import ServeProcess

pytestmark = pytest.mark.e2e

ENV_KEY = "sk-ENVSECRET-4f1c9a77"
FLAG_KEY = "sk-FLAGSECRET-82be0d13"
TINY = ["--preset", "quick", "--steps", "1", "--initial", "2", "--beam", "2", "--expand", "1", "--errors", "2",
        "--train-size", "6", "--dev-size", "3", "--test-size", "3", "--train-batch", "3", "--target-max-tokens", "24",
        "--optimizer-max-tokens", "64"]


def behavopt(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENAI_API_KEY": ENV_KEY, "BEHAVOPT_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "behavopt.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def test_api_keys_never_reach_a_file_the_output_or_an_error(smollm_path, tmp_path):
    home = tmp_path / "home"
    runs: list[subprocess.CompletedProcess] = []
    with ServeProcess(["local:smollm2-135m", "--threads", "2", "--n-ctx", "2048"], tmp_path / "serve.log") as base:
        model = ["--base-url", base]
        runs.append(behavopt("optimize", "--task", "demo:navigate", "--method", "apo", "--target",
                             "openai:smollm2-135m", "--optimizer", "openai:smollm2-135m", *model, *TINY,
                             "--api-key", FLAG_KEY, "--out", str(tmp_path / "run"), home=home))
        runs.append(behavopt("eval", "--task", "demo:navigate", "--model", "openai:smollm2-135m", *model, "--limit",
                             "3", "--max-tokens", "24", "--out", str(tmp_path / "eval"), home=home))
    # and where it fails: a dead endpoint, a key in the model spec
    runs.append(behavopt("eval", "--task", "demo:navigate", "--model", "openai:m", "--base-url",
                         "http://127.0.0.1:9/v1", "--api-key", FLAG_KEY, "--limit", "1", "--retries", "1",
                         home=home))
    runs.append(behavopt("eval", "--task", "demo:navigate", "--model", f"openai:m?api_key={FLAG_KEY}", "--limit", "1",
                         home=home))
    assert runs[0].returncode == 0, runs[0].stderr[-2000:]
    assert runs[1].returncode == 0, runs[1].stderr[-2000:]
    assert runs[2].returncode == 1 and runs[3].returncode == 2
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "serve.log"]
    assert any(p.name == "result.json" for p in written) and any(p.suffix == ".sqlite" for p in written)
    assert any(p.name == "events.jsonl" for p in written) and any(p.name == "records.jsonl" for p in written)
    for path in written:
        data = path.read_bytes()
        for key in (ENV_KEY, FLAG_KEY):
            assert key.encode() not in data and key[3:].encode() not in data, f"{key} in {path}"
    for proc in runs:
        for key in (ENV_KEY, FLAG_KEY):
            assert key[3:] not in proc.stdout + proc.stderr
