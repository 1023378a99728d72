import asyncio

import pytest

from behavopt.lm.cache import ResponseCache
from behavopt.lm.client import LM
from behavopt.lm.errors import LMContextOverflow, LMRetriesExhausted, LMTransientError
from behavopt.lm.retry import RetryPolicy
from behavopt.lm.types import ChatRequest, Message, Usage, UsageByRole

from tests.lm.scripted import ScriptedBackend


def req(text: str, **kw) -> ChatRequest:
    return ChatRequest(messages=(Message("user", text),), **kw)


def test_cache_hit_makes_no_call_and_counts_usage(tmp_path):
    backend = ScriptedBackend(lambda r: r.messages[-1].content.upper())
    usage = Usage()
    lm = LM(backend, role="target", usage=usage, cache=ResponseCache(tmp_path / "c.sqlite"))

    async def main():
        a = await lm.complete(req("hi"))
        b = await lm.complete(req("hi"))
        c = await lm.complete(req("hi", sample=1))
        return a, b, c

    a, b, c = asyncio.run(main())
    assert a.text == b.text == c.text == "HI"
    assert not a.cached and b.cached and not c.cached
    assert len(backend.requests) == 2
    assert usage.calls == 2 and usage.cache_hits == 1 and usage.completion_tokens == 4


def test_roles_are_accounted_separately():
    backend = ScriptedBackend()
    usage = UsageByRole()
    target = LM(backend, role="target", usage=usage.target)
    optimizer = LM(backend, role="optimizer", usage=usage.optimizer)

    async def main():
        await target.complete(req("a"))
        await optimizer.complete(req("b"))
        await optimizer.complete(req("c"))

    asyncio.run(main())
    assert usage.target.calls == 1 and usage.optimizer.calls == 2


def test_errors_raise_typed_and_are_never_text(tmp_path):
    backend = ScriptedBackend(fail=lambda r: LMContextOverflow("too long"))
    usage = Usage()
    lm = LM(backend, role="target", usage=usage, cache=ResponseCache(tmp_path / "c.sqlite"))
    with pytest.raises(LMContextOverflow):
        asyncio.run(lm.complete(req("x")))
    assert usage.errors == 1 and usage.calls == 0
    assert lm.cache.info()["entries"] == 0  # failures are never cached


def test_transient_errors_are_retried_a_bounded_number_of_times():
    backend = ScriptedBackend(fail=lambda r: LMTransientError("503"))
    lm = LM(backend, role="target", usage=Usage(), retry=RetryPolicy(max_retries=2, base_delay_s=0.001))
    with pytest.raises(LMRetriesExhausted):
        asyncio.run(lm.complete(req("x")))
    assert len(backend.requests) == 3


def test_concurrency_limit_is_respected():
    backend = ScriptedBackend(max_concurrency=3, delay_s=0.01)
    lm = LM(backend, role="target", usage=Usage())

    async def main():
        await asyncio.gather(*(lm.complete(req(str(i))) for i in range(20)))

    asyncio.run(main())
    assert backend.peak_in_flight == 3


def fake_gguf(tmp_path):
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + bytes(64))
    return path


def test_an_in_process_model_gives_each_role_a_context_of_its_own(tmp_path):
    from behavopt.lm.client import ModelPool

    spec = f"gguf:{fake_gguf(tmp_path)}"
    pool = ModelPool()
    target, optimizer = pool.lm(spec, "target"), pool.lm(spec, "optimizer")
    assert target.backend.slot is not optimizer.backend.slot  # two llama.cpp contexts (models load on first call)
    assert target.backend.identity == optimizer.backend.identity  # the same model: the same cache entries
    assert pool.lm(spec, "target").backend is target.backend  # one per role, reused


def test_context_shared_puts_both_roles_in_one_context(tmp_path):
    from behavopt.lm.client import ModelPool

    spec = f"gguf:{fake_gguf(tmp_path)}?context=shared&prefix_cache=0"
    pool = ModelPool()
    target, optimizer = pool.lm(spec, "target"), pool.lm(spec, "optimizer")
    assert target.backend is optimizer.backend and target.backend.slot.params.prefix_cache_mib == 0


def test_a_served_model_is_one_backend_and_one_concurrency_limit_for_both_roles():
    from behavopt.lm.client import ModelPool

    pool = ModelPool(base_url="http://127.0.0.1:9/v1")
    target, optimizer = pool.lm("openai:m", "target"), pool.lm("openai:m", "optimizer")
    assert target.backend is optimizer.backend and target._semaphore is optimizer._semaphore


def test_usage_counts_prefix_reuse_and_time_split_of_timed_calls():
    from behavopt.lm.types import Completion

    usage = Usage()
    usage.add(Completion("a", "stop", 100, 10, 1.0, prompt_tokens_processed=100, prompt_s=0.5, generate_s=0.4))
    usage.add(Completion("b", "stop", 100, 10, 0.3, prompt_tokens_processed=10, prompt_s=0.05, generate_s=0.2))
    usage.add(Completion("c", "stop", 50, 5, 0.2))  # a server that reports nothing
    assert usage.calls == 3 and usage.timed_calls == 2 and usage.timed_prompt_tokens == 200
    assert usage.prefix_reuse() == pytest.approx(1 - 110 / 200)
    assert usage.prompt_s == pytest.approx(0.55) and usage.generate_s == pytest.approx(0.6)
    assert Usage().prefix_reuse() is None
    assert Usage.from_dict(usage.to_dict()) == Usage.from_dict(usage.to_dict())
    assert Usage.from_dict({"calls": 2, "seconds": 1.0}).timed_calls == 0  # written before timings
