"""`behavopt eval` end to end with the real SmolLM2 model, and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EVAL_KEYS = {"id", "input", "output", "answer", "target", "correct", "error", "latency_s", "cached", "score", "feedback",
             "prompt_tokens", "completion_tokens", "missing"}


def behavopt(*args: str, env_home: Path | None = None, check: bool = False) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ)
    if env_home is not None:
        env["BEHAVOPT_CACHE"] = str(env_home / "cache.sqlite")
    proc = subprocess.run([sys.executable, "-m", "behavopt.cli.main", *args], capture_output=True, text=True, env=env,
                          timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"behavopt {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc


@pytest.mark.e2e
def test_eval_ten_examples_then_rerun_from_cache(smollm_path, tmp_path):
    args = ["eval", "--task", "demo:navigate", "--model", "local:smollm2-135m?threads=2", "--limit", "10",
            "--out", str(tmp_path / "run"), "--json", "--max-tokens", "48"]
    first = behavopt(*args, env_home=tmp_path, check=True)
    summary = json.loads(first.stdout)  # --json: stdout holds the summary and nothing else
    assert summary["n"] == 10 and 0.0 <= summary["accuracy"] <= 1.0
    lo, hi = summary["ci95"]
    assert lo <= summary["accuracy"] <= hi
    assert summary["usage"]["calls"] == 10 and summary["usage"]["cache_hits"] == 0
    records = [json.loads(line) for line in (tmp_path / "run" / "records.jsonl").read_text().splitlines()]
    assert len(records) == 10 and all(set(r) == EVAL_KEYS for r in records)
    assert sum(r["correct"] for r in records) == summary["correct"]
    on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert on_disk["n"] == 10 and on_disk["prompt"] and on_disk["usage"]["calls"] == 10

    again = json.loads(behavopt(*args, env_home=tmp_path, check=True).stdout)
    assert again["usage"]["calls"] == 0 and again["usage"]["cache_hits"] == 10
    assert again["accuracy"] == summary["accuracy"]

    uncached = json.loads(behavopt(*args, "--no-cache", "--limit", "2", env_home=tmp_path, check=True).stdout)
    assert uncached["usage"]["calls"] == 2


@pytest.mark.e2e
def test_eval_bbh_from_data_dir(smollm_path, data_dir, tmp_path):
    out = behavopt("eval", "--task", "bbh:navigate", "--model", "local:smollm2-135m", "--data-dir", str(data_dir),
                   "--limit", "10", "--json", "--max-tokens", "16", env_home=tmp_path, check=True)
    assert json.loads(out.stdout)["n"] == 10


def _bad_yaml(tmp_path: Path, rows: str | bytes, extra: str = "") -> Path:
    data = tmp_path / "data.jsonl"
    data.write_bytes(rows if isinstance(rows, bytes) else rows.encode())
    spec = tmp_path / "task.yaml"
    spec.write_text(f"name: mine\ndata: data.jsonl\ninput: q\ntarget: a\n{extra}")
    return spec


def _cases(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    return {
        "missing file": (["--task", str(tmp_path / "nope.yaml")], "nope.yaml"),
        "unknown loader": (["--task", "zzz:thing"], "zzz"),
        "unknown bbh task": (["--task", "bbh:no_such_task", "--data-dir", str(tmp_path)], "no_such_task"),
        "empty dataset": (["--task", str(_bad_yaml(tmp_path / "e", ""))], "data.jsonl"),
        "row without field": (["--task", str(_bad_yaml(tmp_path / "f", '{"q": "1", "a": "x"}\n{"q": "2"}\n'))],
                              "data.jsonl"),
        "label outside options": (
            ["--task", str(_bad_yaml(tmp_path / "l", '{"q": "1", "a": "maybe"}\n', "answer_type: choice\n"
                                     "options: [yes, no]\n"))], "maybe"),
        "duplicate ids": (["--task", str(_bad_yaml(tmp_path / "d", '{"id": 1, "q": "1", "a": "x"}\n'
                                                   '{"id": 1, "q": "2", "a": "y"}\n', "id: id\n"))], "1"),
        "undecodable text": (["--task", str(_bad_yaml(tmp_path / "u", b'{"q": "\xff\xfe", "a": "x"}\n'))],
                             "UTF-8"),
        "split too large": (["--task", "demo:navigate", "--test-size", "5000"], "5000"),
        "bad model spec": (["--task", "demo:navigate", "--model", "llama3"], "llama3"),
        "missing prompt file": (["--task", "demo:navigate", "--prompt", str(tmp_path / "p.txt")], "p.txt"),
    }


CASE_NAMES = ["missing file", "unknown loader", "unknown bbh task", "empty dataset", "row without field",
              "label outside options", "duplicate ids", "undecodable text", "split too large", "bad model spec",
              "missing prompt file"]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_bad_input_gives_one_clear_line(case, tmp_path):
    for sub in ("e", "f", "l", "d", "u", "bbh"):
        (tmp_path / sub).mkdir(exist_ok=True)
    args, must_name = _cases(tmp_path)[case]
    if "--model" not in args:
        args = [*args, "--model", "local:smollm2-135m"]
    proc = behavopt("eval", *args, env_home=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert must_name in lines[0] and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_a_dead_endpoint_is_an_error_naming_the_cause_not_a_score_of_zero(tmp_path):
    proc = behavopt("eval", "--task", "demo:navigate", "--model", "openai:foo", "--base-url",
                    "http://127.0.0.1:9/v1", "--limit", "2", "--no-cache", "--retries", "0", env_home=tmp_path)
    assert proc.returncode == 1 and "accuracy" not in proc.stdout
    assert proc.stderr.strip().startswith("error: stopped: all 2 examples failed in the LM layer")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "APIConnectionError at http://127.0.0.1:9/v1" in proc.stderr


def test_an_evaluation_with_missing_examples_says_so_and_exits_3(capsys):
    import typer

    from behavopt.cli.eval_cmd import exit_if_incomplete
    from behavopt.eval.evaluator import EvalRecord, EvalResult, EvalSummary

    records = [EvalRecord("a", "x", "Answer: 1", "1", "1", True, None, 0.1, False),
               EvalRecord("b", "y", None, None, "2", False, "LMRetriesExhausted: 503", 0.1, False, missing=True)]
    summary = EvalSummary(task="t", model="m", split="test", accuracy=1.0, n=1, correct=1, ci95=(0.2, 1.0),
                          answer_chance=1.0, errors=1, lm_errors=1, usage={}, wall_s=0.2, missing=1)
    with pytest.raises(typer.Exit) as info:
        exit_if_incomplete(EvalResult(records, summary))
    assert info.value.exit_code == 3
    err = " ".join(capsys.readouterr().err.split())
    assert "incomplete: 1 of 2 examples got no answer from the model" in err and "LMRetriesExhausted: 503" in err


def test_a_rerun_fills_in_just_the_examples_the_server_did_not_answer(tmp_path):
    from behavopt.tasks import load_task
    from tests.lm.faults import FaultyProxy, StaticUpstream

    first_two = [e.input for e in load_task("demo:navigate").split(None, None, None, seed=0).test[:2]]
    args = ["eval", "--task", "demo:navigate", "--model", "openai:m?timeout=2", "--limit", "6", "--max-tokens", "8",
            "--cache", str(tmp_path / "c.sqlite"), "--json", "--retries", "2"]
    with StaticUpstream() as upstream:
        with FaultyProxy(upstream=upstream.base_url, rate=0.0, kinds=("503",), always=tuple(first_two)) as proxy:
            partial = behavopt(*args, "--base-url", proxy.base_url)
            answered, proxy.always = proxy.forwarded, ()  # the server is healthy again
            whole = behavopt(*args, "--base-url", proxy.base_url)
    assert partial.returncode == 3 and "incomplete: 2 of 6 examples got no answer" in " ".join(partial.stderr.split())
    summary = json.loads(partial.stdout)
    assert (summary["n"], summary["missing"], summary["complete"]) == (4, 2, False)
    assert answered == 4 and proxy.injected["503"] == 2 * 3  # each missing one tried three times
    assert whole.returncode == 0 and json.loads(whole.stdout)["n"] == 6
    assert proxy.forwarded - answered == 2  # just the two that were missing; the rest came from the cache
