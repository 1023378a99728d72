"""`behavopt optimize` end to end with the real SmolLM2 model as target and optimizer (plumbing, no quality claim):
every method writes a valid result; a run killed mid-way and resumed gives the result of an uninterrupted run;
STOP and budgets end runs cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from behavopt.eval.prompts import Prompt
from behavopt.optimizers.config import RunConfig
from behavopt.optimizers.events import (ErrorsShown, NoErrors, OptimizerCall, Resumed, Started, StepEnded,
                                        TrainBatch)
from behavopt.optimizers.result import OptimizationResult
from behavopt.optimizers.rundir import RunDir
from behavopt.optimizers.settings import preset
from tests.conftest import killed_run_args
from tests.cli.test_eval_cli import behavopt

pytestmark = pytest.mark.e2e

TINY = ["--target", "local:smollm2-135m?threads=2", "--optimizer", "local:smollm2-135m?threads=2", "--preset", "quick",
        "--steps", "1", "--initial", "2", "--beam", "2", "--expand", "2", "--errors", "2", "--train-size", "8",
        "--dev-size", "4", "--test-size", "4", "--train-batch", "4", "--target-max-tokens", "48",
        "--optimizer-max-tokens", "96"]
USAGE_KEYS = {"calls", "prompt_tokens", "completion_tokens", "cache_hits"}


def check_result(result: dict, method: str) -> None:
    for key in ("method", "task", "target", "optimizer", "seed", "initial_prompt", "best_prompt", "initial_dev_score",
                "best_dev_score", "initial_test_score", "best_test_score", "steps", "usage"):
        assert key in result, key
    assert result["method"] == method and result["best_dev_score"] >= result["initial_dev_score"]
    assert USAGE_KEYS <= set(result["usage"]["target"]) and USAGE_KEYS <= set(result["usage"]["optimizer"])
    assert result["usage"]["wall_s"] > 0 and result["usage"]["optimizer"]["calls"] > 0
    ids = set()
    for step in result["steps"]:
        for c in step["candidates"]:
            assert {"id", "parent", "prompt", "dev_score", "feedback"} <= set(c)
            assert c["parent"] is None or c["parent"] in ids  # lineage points back to earlier candidates
            ids.add(c["id"])
    assert result["steps"][0]["candidates"][0]["prompt"] == result["initial_instruction"]
    assert result["best_prompt"]["user"].endswith("{input}")


@pytest.mark.parametrize("method, flags", [("ape", []), ("apo", []), ("apo-sum", []), ("opro", []),
                                           ("promptagent", ["--max-calls", "400"]), ("abo", []),
                                           ("abo", ["--no-demo", "--demo-rendering", "system"]),
                                           ("abo", ["--abo-replies", "json", "--abo-successes", "2"])])
def test_every_method_writes_a_valid_run(method, flags, smollm_path, tmp_path):
    out = tmp_path / "run"
    extra = ["--json", *flags]
    proc = behavopt("optimize", "--task", "demo:navigate", "--method", method, *TINY, "--out", str(out), *extra,
                    env_home=tmp_path, check=True)
    result = json.loads(proc.stdout)
    check_result(result, method)
    assert json.loads((out / "result.json").read_text()) == result
    assert result["best_instruction"].strip() in (out / "best_prompt.txt").read_text()  # plus demo turns for abo
    assert Prompt.from_dict(result["best_prompt"]) == Prompt.load(out / "best_prompt.json")
    rundir = RunDir(out)
    config = rundir.load_config()
    assert config.method == method and config.settings.data.dev_size == 4
    assert OptimizationResult.load(out / "result.json").to_dict() == result
    # Every line of the real events.jsonl parses as an event of the one vocabulary, and writes back as it was read.
    lines = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    events = rundir.events()
    assert len(events) == len(lines) and isinstance(events[0], Started)
    assert [json.loads(json.dumps(e.to_line(line["t"]))) for e, line in zip(events, lines)] == lines
    calls = [e for e in events if isinstance(e, OptimizerCall)]
    assert calls and rundir.load_checkpoint().step >= 1
    # Each step whose errors were looked for logs its train batch once, before the errors shown.
    batches = [e.step for e in events if isinstance(e, TrainBatch)]
    looked = {e.step for e in events if isinstance(e, (ErrorsShown, NoErrors))}
    assert len(batches) == len(set(batches)) and set(batches) == looked
    assert bool(looked) or method not in ("apo", "apo-sum", "promptagent")  # these reflect on errors every step
    assert not list(out.rglob("*.tmp"))
    report = (out / "report.html").read_text()  # written at the end, from the real run's files
    assert 'id="lineage-tree"' in report and report.count('class="node"') == len(rundir.load_checkpoint().candidates)
    if method == "abo":
        purposes = {e.purpose for e in calls}
        assert "procedure" in purposes
        assert ("demonstration" in purposes) == ("--no-demo" not in flags)
        assert config.settings.abo.demo == ("--no-demo" not in flags)
        if "json" in flags:  # every reply held to its purpose's schema (a long one may be cut at the token limit)
            assert all(e.output.lstrip().startswith("{") for e in calls)


def _comparable(result: dict) -> dict:
    keep = ("initial_prompt", "best_prompt", "initial_instruction", "best_instruction", "best_candidate", "initial_dev_score", "best_dev_score",
            "initial_test_score", "best_test_score", "steps")
    return {k: result[k] for k in keep}


def test_resume_after_a_kill_gives_the_uninterrupted_result(uninterrupted_run, tmp_path):
    args = killed_run_args()
    whole = uninterrupted_run
    out = tmp_path / "killed"
    env = {**os.environ, "BEHAVOPT_CACHE": str(tmp_path / "c2.sqlite")}
    proc = subprocess.Popen([sys.executable, "-m", "behavopt.cli.main", *args, "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        cp = out / "checkpoint.json"
        if cp.exists() and json.loads(cp.read_text())["step"] >= 1:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "result.json").exists()

    resumed = json.loads(behavopt(*args, "--out", str(out), "--resume", "--json", "--cache",
                                  str(tmp_path / "c2.sqlite"), check=True).stdout)
    assert _comparable(resumed) == _comparable(whole)
    events = RunDir(out).events()
    step_ends = [e.step for e in events if isinstance(e, StepEnded)]
    assert step_ends.count(0) == 1 and step_ends.count(1) == 1  # finished steps were not redone
    assert any(isinstance(e, Resumed) for e in events)


def test_resume_with_other_settings_is_refused(tmp_path):
    out = tmp_path / "run"
    RunDir(out).prepare(RunConfig(task="demo:navigate", method="apo", target="local:smollm2-135m?threads=2",
                                  optimizer="local:smollm2-135m?threads=2", settings=preset("quick")), resume=False)
    proc = behavopt("optimize", "--task", "demo:navigate", "--method", "apo", *TINY, "--out", str(out), "--resume")
    assert proc.returncode == 2 and "other settings" in proc.stderr and "steps" in proc.stderr
    (out / "config.json").write_text(json.dumps({"task": "demo:navigate"}))
    proc = behavopt("optimize", "--task", "demo:navigate", "--method", "apo", *TINY, "--out", str(out), "--resume")
    assert proc.returncode == 2 and "is not a valid RunConfig (at method: Field required)" in proc.stderr
    proc = behavopt("optimize", "--task", "demo:navigate", "--method", "apo", *TINY, "--out", str(out))
    assert proc.returncode == 2 and "not empty" in proc.stderr


def test_stop_file_ends_the_run_after_the_current_step(smollm_path, tmp_path):
    import behavopt

    out = tmp_path / "run"

    def on_update(info: dict) -> None:
        if info["step"] >= 1:
            (out / "STOP").touch()

    result = behavopt.optimize(task="demo:navigate", method="ape", target="local:smollm2-135m",
                               optimizer="local:smollm2-135m", out=out, cache=tmp_path / "c.sqlite", preset="quick",
                               steps=4, initial=2, beam=2, train_size=8, dev_size=4, test_size=4, train_batch=4,
                               target_max_tokens=48, optimizer_max_tokens=96, threads=2, on_update=on_update)
    assert "stop file" in result.stop_reason
    assert [s.step for s in result.steps] == [0, 1]
    assert json.loads((out / "result.json").read_text())["stop_reason"] == result.stop_reason


def test_call_and_token_budgets_end_cleanly(smollm_path, tmp_path):
    out = tmp_path / "calls"
    result = json.loads(behavopt("optimize", "--task", "demo:navigate", "--method", "apo", *TINY, "--steps", "3",
                                 "--max-calls", "20", "--out", str(out), "--json", env_home=tmp_path,
                                 check=True).stdout)
    assert "call budget" in result["stop_reason"] and len(result["steps"]) == 1
    search_calls = sum(result["usage"][r]["calls"] for r in ("target", "optimizer")) - 2 * result["test_size"]
    assert search_calls <= 20

    out = tmp_path / "tokens"  # its own cache: cache hits cost no tokens and would not reach the budget
    (tmp_path / "t").mkdir()
    # A budget that step 0 and the final test cannot fit is refused before the search.
    refused = behavopt("optimize", "--task", "demo:navigate", "--method", "apo", *TINY, "--max-tokens", "500",
                       "--out", str(tmp_path / "refused"), env_home=tmp_path / "t")
    assert refused.returncode == 2 and "--max-tokens 500 cannot cover the initial dev scoring" in refused.stderr
    result = json.loads(behavopt("optimize", "--task", "demo:navigate", "--method", "apo", *TINY, "--steps", "3",
                                 "--max-tokens", "4000", "--out", str(out), "--json", env_home=tmp_path / "t",
                                 check=True).stdout)
    assert "token budget" in result["stop_reason"] and len(result["steps"]) < 4
    assert result["spent"]["tokens"] <= 4000  # the whole run, final test included


def test_the_time_split_line_says_where_a_roles_time_went():
    from behavopt.cli.optimize_cmd import time_split
    from behavopt.lm.types import Completion, Usage

    usage = Usage()
    assert time_split("target", usage) is None  # nothing timed: no line
    usage.add(Completion("a", "stop", 400, 20, 3.0, prompt_tokens_processed=100, prompt_s=1.0, generate_s=1.5))
    assert time_split("target", usage) == ("target: 75% of prompt tokens reused from a cached prefix; 1s prompt "
                                           "processing, 2s generation, 0s other")


def _llama_server_built() -> bool:
    from tests.conftest import REPO

    return (REPO / ".build" / "llama-server").is_file() or bool(os.environ.get("BEHAVOPT_LLAMA_SERVER"))


def _llama_server_pids() -> set[str]:
    ps = subprocess.run(["pgrep", "-f", "llama-server"], capture_output=True, text=True)
    return set(ps.stdout.split())


@pytest.mark.skipif(not _llama_server_built(), reason="llama-server not built: run `make llama-server`")
def test_slots_serve_the_local_models_with_llama_server_in_one_flag(smollm_path, tmp_path):
    out = tmp_path / "run"
    before = _llama_server_pids()
    proc = behavopt("optimize", "--task", "demo:navigate", "--method", "apo", *TINY, "--out", str(out), "--slots", "2",
                    "--no-cache", env_home=tmp_path, check=True)
    result = OptimizationResult.load(out / "result.json")
    target = result.usage.target
    assert target.calls > 0 and target.timed_calls == target.calls  # every call answered by llama-server's timings
    assert "of prompt tokens reused from a cached prefix" in proc.stdout
    assert _llama_server_pids() <= before  # the server it started stopped with the run
