"""`optimize()` end to end on scripted models: test data is scored only at the end, never seen by the optimizer."""

import json

import pytest

from behavopt.eval.prompts import Prompt
from behavopt.optimizers import optimize_task as optimize
from behavopt.optimizers.result import OptimizationResult
from behavopt.optimizers.rundir import RunDir
from tests.lm.scripted import ScriptedBackend
from tests.optimizers.helpers import make_task, optimizer_answer, target_answer, text_of


@pytest.fixture
def scripted(monkeypatch, tmp_path):
    task = make_task()
    out = tmp_path / "run"
    test_seen_before_final: list[str] = []
    inputs = {}

    def target_reply(request):
        text = text_of(request)
        if any(inp in text for inp in inputs["test"]):
            events = (out / "events.jsonl").read_text()
            if '"type": "final_test"' not in events:
                test_seen_before_final.append(text)
        return target_answer(request)

    backends = {"target": ScriptedBackend(target_reply, name="target", max_concurrency=8),
                "optimizer": ScriptedBackend(optimizer_answer, name="optimizer")}
    monkeypatch.setattr("behavopt.lm.client.open_backend", lambda spec, **kw: backends[spec.target])
    monkeypatch.setattr("behavopt.optimizers.run.load_task", lambda spec, data_dir=None: task)
    return task, out, backends, inputs, test_seen_before_final


@pytest.mark.parametrize("method", ["apo", "promptagent"])
def test_optimize_scores_test_only_at_the_end(scripted, method):
    task, out, backends, inputs, test_seen_before_final = scripted
    settings = dict(initial=3, beam=2, expand=2, steps=2, errors=3, train_size=20, dev_size=20, test_size=15,
                    train_batch=10, mcts_depth=2, mcts_width=2, seed=3)
    splits = task.split(20, 20, 15, seed=3)
    inputs["test"] = [e.input for e in splits.test]
    result = optimize("items", method, "openai:target", "openai:optimizer", out=out, cache=False, **settings)
    assert test_seen_before_final == []
    test_requests = [r for r in backends["target"].requests if any(i in text_of(r) for i in inputs["test"])]
    scored = {result.best_candidate, "c0000"}
    assert len(test_requests) == len(scored) * len(splits.test)  # initial and best, each once per example
    for r in backends["optimizer"].requests:
        assert not any(e.input in text_of(r) for e in splits.test + splits.dev)
    # The result matches the state: best by dev score, test scores from the test split.
    dev = RunDir(out).load_checkpoint().dev_scores
    assert result.best_dev_score == max(dev.values()) == dev[result.best_candidate]
    assert result.initial_dev_score == dev["c0000"] and result.test_size == len(splits.test)
    assert result.initial_instruction == task.instruction and result.initial_prompt.user.startswith(task.instruction)
    rows = (out / "records" / f"{result.best_candidate}.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in rows]
    test_records = [r for r in records if r["split"] == "test"]
    assert len(test_records) == len(splits.test)
    assert result.best_test_score == sum(r["correct"] for r in test_records) / len(splits.test)
    assert (out / "best_prompt.txt").read_text() == result.best_instruction + "\n"
    assert Prompt.load(out / "best_prompt.json") == result.best_prompt
    assert json.loads((out / "result.json").read_text())["best_candidate"] == result.best_candidate
    # The answer-frequency chance of the best prompt on test, from its records: every answer against every gold.
    answers = [r["answer"] for r in test_records]
    hits = sum(task.metric(a, e) for a in answers if a is not None for e in splits.test)
    assert result.answer_chance.best.test == pytest.approx(hits / len(splits.test) ** 2, abs=1e-4)
    assert 0 <= result.answer_chance.initial.dev <= 1 and 0 <= result.answer_chance.initial.test <= 1
    # The paired test compares the two prompts' test records example by example.
    initial_rows = [json.loads(line) for line in (out / "records" / "c0000.jsonl").read_text().splitlines()]
    initial_test = {r["id"]: r["score"] for r in initial_rows if r["split"] == "test"}
    best_test = {r["id"]: r["score"] for r in test_records}
    assert result.test_comparison.better == sum(best_test[i] > initial_test[i] for i in best_test)
    assert result.test_comparison.worse == sum(best_test[i] < initial_test[i] for i in best_test)
    assert OptimizationResult.load(out / "result.json").test_comparison == result.test_comparison


def test_calls_the_server_never_answered_stop_the_run_and_a_resume_scores_just_those(scripted, tmp_path):
    from behavopt.eval.evaluator import EvalAborted
    from behavopt.lm.errors import LMTransientError

    task, out, backends, inputs, _ = scripted
    settings = dict(initial=3, beam=2, expand=2, steps=2, errors=3, train_size=20, dev_size=20, test_size=15,
                    train_batch=10, seed=3)
    splits = task.split(20, 20, 15, seed=3)
    inputs["test"] = []  # (the fixture's check that test data waits for the end reads one run directory)
    target = backends["target"]
    full = optimize("items", "apo", "openai:target", "openai:optimizer", out=tmp_path / "full",
                    cache=tmp_path / "full.sqlite", **settings)
    full_calls = len(target.requests)

    victim = splits.dev[4].input
    failed: list[str] = []

    def outage(request):  # after step 0, the server fails every request about one dev example
        if victim in text_of(request) and (out / "checkpoint.json").is_file():
            failed.append(text_of(request))
            return LMTransientError("503 Service Unavailable")
        return None

    target.fail, start = outage, len(target.requests)
    with pytest.raises(EvalAborted, match=r"stopped: \d+ of \d+ target calls got no answer.*503 Service Unavailable"):
        optimize("items", "apo", "openai:target", "openai:optimizer", out=out, cache=tmp_path / "c.sqlite", retries=1,
                 **settings)
    assert failed and not (out / "result.json").exists()
    kept = [json.loads(line) for f in (out / "records").glob("*.jsonl") for line in f.read_text().splitlines()]
    assert kept and not any(r["input"] == victim and r["split"] == "dev" and r["output"] is None for r in kept)
    answered = len(target.requests) - start - len(failed)

    target.fail, start = (lambda r: None), len(target.requests)
    resumed = optimize("items", "apo", "openai:target", "openai:optimizer", out=out, cache=tmp_path / "c.sqlite",
                       resume=True, **settings)
    assert len(target.requests) - start == full_calls - answered  # no answered call was made again
    assert resumed.best_candidate == full.best_candidate and resumed.best_dev_score == full.best_dev_score
    assert resumed.best_test_score == full.best_test_score
    assert [s.beam for s in resumed.steps] == [s.beam for s in full.steps]
