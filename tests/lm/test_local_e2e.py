"""End-to-end with the real SmolLM2 model: in-process and through `behavopt serve` + the openai backend."""

from __future__ import annotations

import asyncio

import pytest

from behavopt.lm.cache import ResponseCache
from behavopt.lm.client import ModelPool
from behavopt.lm.errors import LMContextOverflow, LMRetriesExhausted
from behavopt.lm.retry import RetryPolicy
from behavopt.lm.serve_process import ServeProcess, free_port
from behavopt.lm.types import ChatRequest, Message

pytestmark = pytest.mark.e2e

QUESTION = (Message("user", "What is the capital of France? Answer in one word."),)


def test_in_process_completion_usage_and_cache(smollm_path, tmp_path):
    async def main():
        async with ModelPool(cache=ResponseCache(tmp_path / "c.sqlite"), threads=2) as pool:
            lm = pool.lm("local:smollm2-135m", "target")
            first = await lm.complete(ChatRequest(QUESTION, max_tokens=16))
            again = await lm.complete(ChatRequest(QUESTION, max_tokens=16))
            return first, again, pool.usage

    first, again, usage = asyncio.run(main())
    assert first.text.strip() and first.completion_tokens > 0 and first.prompt_tokens > 0
    assert first.finish_reason in ("stop", "length") and first.latency_s > 0
    assert again.cached and again.text == first.text
    assert usage.target.calls == 1 and usage.target.cache_hits == 1 and usage.optimizer.calls == 0


def test_greedy_is_deterministic_and_samples_differ(smollm_path):
    async def main():
        async with ModelPool(threads=2) as pool:
            lm = pool.lm("local:smollm2-135m", "target")
            greedy = [await lm.complete(ChatRequest(QUESTION, max_tokens=24)) for _ in range(2)]
            hot = [await lm.complete(ChatRequest(QUESTION, max_tokens=24, temperature=1.2, sample=i)) for i in range(4)]
            return greedy, hot

    greedy, hot = asyncio.run(main())
    assert greedy[0].text == greedy[1].text
    assert len({c.text for c in hot}) > 1


def test_context_overflow_is_a_typed_error(smollm_path):
    async def main():
        async with ModelPool(threads=2) as pool:
            lm = pool.lm("local:smollm2-135m?n_ctx=256", "target")
            await lm.complete(ChatRequest((Message("user", "word " * 2000),), max_tokens=8))

    with pytest.raises(LMContextOverflow):
        asyncio.run(main())


@pytest.fixture(scope="module")
def served_smollm(smollm_path, tmp_path_factory):
    """A real `behavopt serve` process on loopback."""
    with ServeProcess(["local:smollm2-135m", "--threads", "2", "--n-ctx", "2048"],
                      tmp_path_factory.mktemp("serve") / "serve.log") as base:
        yield base


def test_openai_backend_against_real_server(served_smollm, tmp_path):
    async def main():
        async with ModelPool(cache=ResponseCache(tmp_path / "c.sqlite"), base_url=served_smollm,
                             api_key="sk-test-not-logged") as pool:
            lm = pool.lm("openai:smollm2-135m", "optimizer")
            first = await lm.complete(ChatRequest(QUESTION, max_tokens=16))
            again = await lm.complete(ChatRequest(QUESTION, max_tokens=16))
            return first, again, pool.usage

    first, again, usage = asyncio.run(main())
    assert first.text.strip() and first.completion_tokens > 0 and not first.cached
    assert again.cached and usage.optimizer.calls == 1 and usage.optimizer.cache_hits == 1


def test_openai_backend_retries_a_dead_server_then_fails_typed():
    port = free_port()  # nothing listens here

    async def main():
        async with ModelPool(retry=RetryPolicy(max_retries=2, base_delay_s=0.01)) as pool:
            lm = pool.lm(f"openai:m?base_url=http://127.0.0.1:{port}/v1&timeout=5", "target")
            await lm.complete(ChatRequest(QUESTION, max_tokens=4))

    with pytest.raises(LMRetriesExhausted) as info:
        asyncio.run(main())
    assert info.value.attempts == 3
