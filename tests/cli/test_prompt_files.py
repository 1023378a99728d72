"""Prompt files end to end with the real SmolLM2: a run's best_prompt.json, re-scored by `behavopt eval --prompt` on
the run's test split, gives the run's own test score from the cache with 0 LM calls; a demonstration prompt scored
as a Prompt sends the candidate's request bytes; and a plain OpenAI-SDK call sends the prompt's messages."""

from __future__ import annotations

import asyncio
import json

import pytest

import behavopt
from behavopt.eval import EvalSettings, Evaluator
from behavopt.lm.cache import ResponseCache
from behavopt.lm.client import ModelPool
from behavopt.lm.serve_process import ServeProcess
from behavopt.lm.types import Message
from behavopt.optimizers.candidate import Candidate
from behavopt.tasks import load_task
from tests.cli.test_eval_cli import behavopt as behavopt_cli

pytestmark = pytest.mark.e2e

MODEL = "local:smollm2-135m?threads=2"
SMALL = dict(preset="quick", steps=1, initial=2, beam=2, expand=2, errors=2, train_size=8, dev_size=4, test_size=6,
             train_batch=4, target_max_tokens=48, optimizer_max_tokens=96, seed=2)


def test_a_runs_best_prompt_file_rescored_by_eval_gives_its_test_score_from_the_cache(smollm_path, tmp_path):
    cache = tmp_path / "cache.sqlite"
    result = behavopt.optimize(task="demo:navigate", method="apo", target=MODEL, optimizer=MODEL, out=tmp_path / "run",
                               cache=cache, **SMALL)
    prompt = behavopt.Prompt.load(tmp_path / "run" / "best_prompt.json")
    assert prompt.source is not None and prompt.source.candidate == result.best_candidate
    assert prompt.scored_with.max_tokens == 48 and prompt.source.split.seed == 2
    proc = behavopt_cli("eval", "--task", "demo:navigate", "--model", MODEL, "--prompt",
                        str(tmp_path / "run" / "best_prompt.json"), "--json", "--cache", str(cache), check=True)
    summary = json.loads(proc.stdout)
    assert summary["n"] == result.test_size and summary["accuracy"] == round(result.best_test_score, 4)
    assert summary["usage"]["calls"] == 0 and summary["usage"]["cache_hits"] == result.test_size


def test_a_demonstration_prompt_file_sends_the_candidates_request_bytes(smollm_path, tmp_path):
    task = load_task("demo:navigate")
    split = task.split(8, 4, 6, seed=0)
    demo = split.train[0]
    candidate = Candidate("c0001", task.instruction + "\n\nStep 1: Track.\nStep 2: Decide.", "c0000", 0, "behavior",
                          demos=(Message("user", demo.input),
                                 Message("assistant", f"Step 1: ...\nAnswer: {demo.target}")),
                          style="turns")
    path = candidate.as_prompt().save(tmp_path / "turns.json")

    async def score(prompt_like):
        async with ModelPool(cache=ResponseCache(tmp_path / "cache.sqlite")) as pool:
            evaluator = Evaluator(task, pool.lm(MODEL, "target"), EvalSettings(max_tokens=32, seed=0))
            return await evaluator.evaluate(prompt_like, split.test)

    first = asyncio.run(score(candidate))
    again = asyncio.run(score(behavopt.Prompt.load(path)))
    assert first.summary.usage["calls"] == len(split.test) and again.summary.usage["calls"] == 0
    assert [r.output for r in again.records] == [r.output for r in first.records]


def test_a_plain_openai_sdk_call_sends_the_prompts_messages(smollm_path, tmp_path):
    openai = pytest.importorskip("openai")
    prompt = behavopt.Prompt(system="You answer in one word.", user="Question: {input}\nAnswer:")
    question = "What is the capital of France?"
    with ServeProcess(["local:smollm2-135m", "--threads", "2", "--n-ctx", "1024"], tmp_path / "serve.log") as base:
        client = openai.OpenAI(base_url=base, api_key="sk-local")
        sdk = client.chat.completions.create(model="smollm2-135m", messages=prompt.messages(question), max_tokens=12,
                                             temperature=0.0, seed=0)

        async def through_behavopt():
            async with ModelPool(base_url=base, api_key="sk-local") as pool:
                lm = pool.lm("openai:smollm2-135m", "target")
                return (await lm.chat(prompt.messages(question), max_tokens=12, temperature=0.0, seed=0)).text

        ours = asyncio.run(through_behavopt())
    assert sdk.choices[0].message.content.strip() and sdk.choices[0].message.content == ours
