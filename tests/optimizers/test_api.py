"""`behavopt.optimize` on the user's own prompt, examples and metric.

Unit tests of the pieces (starting prompts, metrics named on the command line, budgets as settings), then runs with
the real SmolLM2 through the Python API: in-memory examples and a lambda metric with feedback, a DataFrame, a JSONL
path, the best prompt saved and loaded, and USD and seconds budgets that are never passed.
"""

from __future__ import annotations

import asyncio
import inspect
import json

import pandas as pd
import pytest

import behavopt
from behavopt.core.errors import ConfigError
from behavopt.eval import EvalSettings, Evaluator
from behavopt.lm.cache import ResponseCache
from behavopt.lm.client import ModelPool
from behavopt.optimizers.api import Budget, starting_point
from behavopt.tasks.metric import load_metric
from behavopt.optimizers.rundir import RunDir
from behavopt.tasks.data import task_from_data

MODEL = "local:smollm2-135m?threads=2"
SMALL = dict(preset="quick", steps=1, initial=2, beam=2, expand=2, errors=2, train_batch=4, target_max_tokens=32,
             optimizer_max_tokens=96, seed=0)
WORDS = ["cat", "dog", "bird", "fish", "lion", "bear", "wolf", "frog", "duck", "goat", "mole", "seal", "crab", "moth",
         "hare", "lynx", "newt", "toad", "swan", "kiwi"]
ROWS = [{"input": f"Reverse the word: {w}", "answer": w[::-1]} for w in WORDS]


# ---- pieces --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("prompt, expected", [
    ("Classify the review.", ("Classify the review.", "instruction")),
    (behavopt.Prompt(user="Classify the review.\n\n{input}"), ("Classify the review.", "instruction")),
    (behavopt.Prompt(system="You classify reviews.", user="{input}"), ("You classify reviews.", "system")),
])
def test_a_starting_prompt_is_an_instruction_or_a_system_message(prompt, expected):
    assert starting_point(prompt) == expected


@pytest.mark.parametrize("prompt, message", [
    ("  ", "the starting prompt is empty"),
    (behavopt.Prompt(user="{input}\n\nAnswer briefly."), "has text after {input} ('Answer briefly.')"),
    (behavopt.Prompt(system="S", user="Do it: {input}"), "both a system message and text before {input}"),
    (behavopt.Prompt(user="{input}", turns=(behavopt.Prompt.from_instruction("x").render(
        behavopt.Example("", "a", ""))[0],)), "has demonstration turns"),
])
def test_starting_prompts_the_methods_cannot_rewrite_are_refused(prompt, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        starting_point(prompt)


def test_a_metric_is_named_as_module_function_or_file_function(tmp_path, monkeypatch):
    (tmp_path / "my_metrics.py").write_text("def exact(example, output):\n    return example.target in output\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    ex = behavopt.Example("e", "q", "42")
    assert load_metric("my_metrics:exact")(ex, "it is 42") is True
    assert load_metric(f"{tmp_path / 'my_metrics.py'}:exact")(ex, "no") is False
    for spec, message in (("my_metrics", "is not module:function"), ("my_metrics:nope", "has no function nope"),
                          ("no_such_module:f", "cannot import the metric's module no_such_module"),
                          ("missing.py:f", "metric file missing.py not found")):
        with pytest.raises(ConfigError, match=message):
            load_metric(spec)


def test_a_budget_becomes_the_settings_it_stands_for():
    assert Budget(calls=600, usd=1.5, seconds=1800).settings() == {"max_calls": 600, "max_usd": 1.5,
                                                                  "max_seconds": 1800, "count_test": True}
    assert Budget(count_test=False, patience=2).settings() == {"patience": 2, "count_test": False}


def test_the_api_has_a_real_signature():
    params = inspect.signature(behavopt.optimize).parameters
    assert list(params)[:4] == ["prompt", "train", "dev", "test"] and params["target"].kind is inspect.Parameter.KEYWORD_ONLY
    assert "metric" in params and "budget" in params and behavopt.optimize.__doc__


@pytest.mark.parametrize("kwargs, message", [
    (dict(train=ROWS), "no starting prompt"),
    (dict(prompt="x"), "no examples"),
    (dict(prompt="x", train=ROWS, task="demo:navigate"), "brings its own data and metric"),
])
def test_a_run_without_what_it_needs_is_refused_before_any_model_loads(kwargs, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        behavopt.optimize(**kwargs, target="openai:t", optimizer="openai:o", out=tmp_path / "run", cache=False)


def test_a_usd_budget_needs_a_price_for_a_remote_model(tmp_path):
    with pytest.raises(ConfigError, match="a USD budget needs the price of openai:t: pass --price openai:t=IN/OUT"):
        behavopt.optimize("x", ROWS, target="openai:t", optimizer="local:smollm2-135m", budget=Budget(usd=1),
                          out=tmp_path / "run", cache=False)


# ---- with the real SmolLM2 -----------------------------------------------------------------------------------------

def reversed_with_feedback(example, output):
    """Full marks when the output holds the reversed word; a word that is a palindrome makes the metric fail."""
    word = example.input.rsplit(" ", 1)[-1]
    if word == word[::-1]:
        raise RuntimeError(f"cannot grade the palindrome {word}")
    if example.target in output.lower():
        return True
    return behavopt.Score(0.0, f"the reversed word is {example.target!r}; the output does not contain it")


@pytest.mark.e2e
def test_in_memory_examples_and_a_metric_with_feedback(smollm_path, tmp_path, capsys):
    rows = [*ROWS, *({"input": f"Reverse the word: {w}", "answer": w} for w in ("noon", "level", "kayak"))]
    cache = tmp_path / "cache.sqlite"
    result = behavopt.optimize("Reverse the word.", rows, metric=reversed_with_feedback, target=MODEL,
                               optimizer=MODEL, method="apo", out=tmp_path / "run", cache=cache, **SMALL)
    err = capsys.readouterr().err
    assert "examples: train 9, dev 7, test 7 (dev drawn from train, test drawn from train, seed 0)" in err
    assert "estimated for this configuration: ~" in err and "estimate / actual: calls " in err
    run = RunDir(tmp_path / "run")
    records = [r for cid in run.load_checkpoint().candidates for _, r in run.load_records(cid)]
    failed = [r for r in records if r.error and r.error.startswith("metric raised RuntimeError")]
    assert failed and all(r.score == 0 and r.input.endswith(("noon", "level", "kayak")) for r in failed)  # recorded, and the run went on
    assert any(r.feedback and "the reversed word is" in r.feedback for r in records)
    # The feedback reached the optimizer with the errors it was shown.
    calls = [e for e in run.events() if e.kind == "optimizer_call" and e.purpose == "feedback"]
    assert calls and any("Feedback on this output: the reversed word is" in e.prompt for e in calls)
    assert run.load_config().metric.endswith("reversed_with_feedback") and run.load_config().data
    # The best prompt travels: saved, loaded, sent, and re-scored on the test split from the cache with 0 calls.
    path = result.best_prompt.save(tmp_path / "reverse.prompt.json")
    loaded = behavopt.Prompt.load(path)
    assert loaded == result.best_prompt and loaded.messages("Reverse the word: abc")[-1]["content"].endswith("abc")
    task = task_from_data(result.initial_instruction, rows, metric=reversed_with_feedback)
    test = task.split(*[getattr(loaded.source.split, k) for k in ("train_size", "dev_size", "test_size")],
                      seed=loaded.source.split.seed).test

    async def rescore():
        async with ModelPool(cache=ResponseCache(cache)) as pool:
            s = loaded.scored_with
            evaluator = Evaluator(task, pool.lm(s.model, "target"), EvalSettings(max_tokens=s.max_tokens, seed=s.seed))
            return await evaluator.evaluate(loaded, test), pool.usage.target.calls

    again, calls_made = asyncio.run(rescore())
    assert calls_made == 0 and again.summary.accuracy == result.best_test_score == loaded.source.test_score


@pytest.mark.e2e
def test_a_dataframe_with_abo(smollm_path, tmp_path):
    frame = pd.DataFrame([{"question": r["input"], "label": r["answer"]} for r in ROWS])
    result = behavopt.optimize(behavopt.Prompt(system="Reverse the word you are given.", user="{input}"), frame,
                               input_field="question", answer_field="label", target=MODEL, optimizer=MODEL,
                               method="abo", out=tmp_path / "run", cache=tmp_path / "c.sqlite",
                               **{**SMALL, "optimizer_max_tokens": 160})
    run = RunDir(tmp_path / "run")
    initial = run.load_checkpoint().candidates["c0000"]
    assert initial.style == "system" and result.initial_prompt.system == "Reverse the word you are given."
    assert any(e.kind == "optimizer_call" and e.purpose == "procedure" for e in run.events())
    assert result.test_size == 6 and 0 <= result.best_test_score <= 1


@pytest.mark.e2e
def test_a_jsonl_path_with_a_csv_dev_split_scored_without_a_metric(smollm_path, tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"text": f"{i} + {i} =", "target": 2 * i}) + "\n" for i in range(12)))
    dev = tmp_path / "dev.csv"
    pd.DataFrame([{"text": f"{i} + 1 =", "target": i + 1} for i in range(4)]).to_csv(dev, index=False)
    result = behavopt.optimize("Add the numbers. End with 'Answer: N'.", train, dev, target=MODEL, optimizer=MODEL,
                               method="ape", out=tmp_path / "run", cache=tmp_path / "c.sqlite", **SMALL)
    assert result.dev_size == 4 and result.test_size == 6
    records = dict(RunDir(tmp_path / "run").load_records("c0000"))
    assert records  # scored by number match on the answer field
    assert all(r.score in (0.0, 1.0) for _, r in RunDir(tmp_path / "run").load_records("c0000"))


@pytest.mark.e2e
def test_usd_and_seconds_budgets_are_never_passed(smollm_path, tmp_path):
    prices = {MODEL: "2000/8000"}  # priced as if it were a paid model, so USD move
    run = dict(metric=reversed_with_feedback, target=MODEL, optimizer=MODEL, method="apo", prices=prices, cache=False,
               **{**SMALL, "steps": 3})
    whole = behavopt.optimize("Reverse the word.", ROWS, out=tmp_path / "whole", **run)
    for measure in ("usd", "seconds"):
        limit = round(getattr(whole.spent, measure) * 0.6, 4)
        held = behavopt.optimize("Reverse the word.", ROWS, budget=Budget(**{measure: limit}),
                                 out=tmp_path / measure, **run)
        assert getattr(held.spent, measure) <= limit < getattr(whole.spent, measure), measure
        assert "budget would be passed by the next step" in held.stop_reason and held.test_size == whole.test_size
