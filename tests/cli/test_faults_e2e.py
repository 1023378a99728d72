"""An optimization against a real local server behind a fault-injecting proxy: at a 20 % fault rate it gives exactly
the fault-free run's result, its usage showing the retries; at 100 % it stops with one line naming the cause, and
`--resume` finishes it once the server is healthy."""

from __future__ import annotations

import json

import pytest

from behavopt.lm.serve_process import ServeProcess
from behavopt.optimizers.result import OptimizationResult
from tests.cli.test_eval_cli import behavopt
from tests.lm.faults import FaultyProxy

pytestmark = pytest.mark.e2e

# One request at a time (concurrency=1) so that the server sees the same requests in the same order with or without
# faults: a faulted request never reaches it, and its retry takes its place.
MODEL = "openai:smollm2-135m?concurrency=1&timeout=4"
TINY = ["--target", MODEL, "--optimizer", MODEL, "--preset", "quick", "--steps", "1", "--initial", "2", "--beam",
        "2", "--expand", "2", "--errors", "2", "--train-size", "6", "--dev-size", "4", "--test-size", "4",
        "--train-batch", "3", "--target-max-tokens", "32", "--optimizer-max-tokens", "64", "--no-cache"]


def optimize(base_url: str, out, tmp_path, *extra: str):
    return behavopt("optimize", "--task", "demo:navigate", "--method", "apo", *TINY, "--base-url", base_url,
                    "--out", str(out), *extra, env_home=tmp_path)


def comparable(result: OptimizationResult) -> dict:
    """What a run decided and scored (usage and wall time left out)."""
    data = result.to_dict()
    return {k: data[k] for k in ("best_candidate", "best_prompt", "initial_dev_score", "best_dev_score",
                                 "initial_test_score", "best_test_score", "steps")}


def test_a_run_through_faults_gives_the_fault_free_result_and_resumes_after_an_outage(smollm_path, tmp_path):
    with ServeProcess(["local:smollm2-135m", "--threads", "2", "--n-ctx", "2048"], tmp_path / "serve.log") as base:
        clean = optimize(base, tmp_path / "clean", tmp_path)
        assert clean.returncode == 0, clean.stderr[-2000:]
        with FaultyProxy(upstream=base, rate=0.2, seed=7, hang_s=6) as proxy:
            faulty = optimize(proxy.base_url, tmp_path / "faulty", tmp_path)
        assert faulty.returncode == 0, faulty.stderr[-2000:]
        with FaultyProxy(upstream=base, rate=1.0, seed=1, kinds=("503",)) as down:
            outage = optimize(down.base_url, tmp_path / "outage", tmp_path, "--retries", "2")
            stopped_without_result = not (tmp_path / "outage" / "result.json").exists()
            down.rate = 0.0  # the server is healthy again, at the same address (the run's config holds it)
            resumed = optimize(down.base_url, tmp_path / "outage", tmp_path, "--resume")
    first, second = (OptimizationResult.load(tmp_path / d / "result.json") for d in ("clean", "faulty"))
    assert comparable(second) == comparable(first)
    retries = second.usage.target.retries + second.usage.optimizer.retries
    print(f"faults injected and survived by kind: {dict(sorted(proxy.injected.items()))}; retries {retries}")
    # Every injected fault was retried; a busy machine can add a real timeout or two of its own.
    assert retries >= sum(proxy.injected.values()) > 5 and len(proxy.injected) >= 5  # most kinds met and survived
    assert first.usage.target.retries + first.usage.optimizer.retries == 0
    assert outage.returncode == 1 and len(outage.stderr.strip().splitlines()) <= 2  # the live line may be left
    assert "server error 503" in outage.stderr and "gave up after 3 attempts" in outage.stderr
    assert stopped_without_result
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert comparable(OptimizationResult.load(tmp_path / "outage" / "result.json")) == comparable(first)
    for line in (tmp_path / "faulty" / "events.jsonl").read_text().splitlines():
        json.loads(line)  # whole lines only
