"""Prefix reuse with the real SmolLM2, as llama.cpp reports it: a candidate's second call reuses the first's prompt
prefix; the other role's calls and another candidate in between do not throw it away; one shared context without
saved states (the old arrangement) does."""

from __future__ import annotations

import asyncio

import pytest

from behavopt.eval import EvalSettings, Evaluator, InstructionPrompt
from behavopt.lm.client import ModelPool
from behavopt.lm.types import ChatRequest, Completion, Message
from behavopt.tasks import load_task

pytestmark = pytest.mark.e2e

RULES = " ".join(f"Rule {i}: look again at item {i} before you count it." for i in range(40))
OTHER = " ".join(f"Law {i}: keep thing {i} in its place." for i in range(40))


def ask(text: str) -> ChatRequest:
    return ChatRequest((Message("user", text),), max_tokens=8)


def test_the_second_call_of_a_candidate_reuses_the_first_ones_prefix(smollm_path):
    task = load_task("demo:object-counting")
    prompt = InstructionPrompt(f"{task.instruction} {RULES}")

    async def main():
        async with ModelPool(threads=2) as pool:
            lm = pool.lm("local:smollm2-135m", "target")
            evaluator = Evaluator(task, lm, EvalSettings(max_tokens=8))
            await evaluator.evaluate(prompt, task.examples[:3])
            return pool.usage.target

    usage = asyncio.run(main())
    assert usage.timed_calls == 3
    per_call = usage.timed_prompt_tokens / 3
    # the first call computes its whole prompt; the next two only what follows the shared instruction
    assert usage.prompt_tokens_processed < per_call + 2 * 0.25 * per_call
    assert usage.prefix_reuse() > 0.5
    assert usage.prompt_s > 0 and usage.generate_s > 0 and usage.seconds >= usage.prompt_s + usage.generate_s


def run_interleaved(spec: str) -> list[Completion]:
    """Target A, optimizer B, target A again, target B, target A again: what each call computed."""

    async def main():
        async with ModelPool(threads=2) as pool:
            target, optimizer = pool.lm(spec, "target"), pool.lm(spec, "optimizer")
            calls = [(target, f"{RULES}\n\nCount: one apple."), (optimizer, f"{OTHER}\n\nRewrite it."),
                     (target, f"{RULES}\n\nCount: two pears."), (target, f"{OTHER}\n\nCount: a fig."),
                     (target, f"{RULES}\n\nCount: three plums.")]
            return [await lm.complete(ask(text)) for lm, text in calls]

    return asyncio.run(main())


def test_roles_have_their_own_context_and_recent_prefixes_are_kept(smollm_path):
    first, other_role, after_role, other_prompt, after_prompt = run_interleaved("local:smollm2-135m")
    # (the chat template's own opening may be left in a context by an earlier test)
    assert first.prompt_tokens_processed > 0.9 * first.prompt_tokens
    assert other_role.prompt_tokens_processed > 0.9 * other_role.prompt_tokens
    # the optimizer's call ran in its own context: the target's prefix was still there
    assert after_role.prompt_tokens_processed < 0.2 * after_role.prompt_tokens
    # another prompt in the target's context, then the first prefix again: restored from the saved states
    assert other_prompt.prompt_tokens_processed > 0.8 * other_prompt.prompt_tokens
    assert after_prompt.prompt_tokens_processed < 0.2 * after_prompt.prompt_tokens


def test_one_shared_context_without_saved_states_recomputes_after_every_switch(smollm_path):
    first, other_role, after_role, other_prompt, after_prompt = run_interleaved(
        "local:smollm2-135m?context=shared&prefix_cache=0")
    assert after_role.prompt_tokens_processed > 0.8 * after_role.prompt_tokens
    assert after_prompt.prompt_tokens_processed > 0.8 * after_prompt.prompt_tokens
