"""One model at several endpoints: requests spread to the endpoint with the fewest in flight under one budget, a
failing endpoint sits out its cooldown while the others serve, and only when all are out does the error reach the
LM client's retries."""

from __future__ import annotations

import asyncio

import pytest

from behavopt.core.errors import ConfigError
from behavopt.lm.client import LM
from behavopt.lm.endpoints import MultiEndpointBackend
from behavopt.lm.errors import LMContextOverflow, LMRetriesExhausted, LMTransientError
from behavopt.lm.retry import RetryPolicy
from behavopt.lm.spec import open_backend
from behavopt.lm.types import ChatRequest, Message, Usage
from tests.lm.scripted import ScriptedBackend

ASK = ChatRequest((Message("user", "hi"),))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def multi(*backends, concurrency=4, clock=None) -> MultiEndpointBackend:
    return MultiEndpointBackend(list(backends), name="openai:m", max_concurrency=concurrency,
                                clock=clock or Clock())


def test_requests_spread_over_the_endpoints_under_one_budget():
    a, b = ScriptedBackend(name="a", delay_s=0.01), ScriptedBackend(name="b", delay_s=0.01)
    backend = multi(a, b, concurrency=4)
    lm = LM(backend, role="target", usage=Usage())

    async def go():
        await asyncio.gather(*(lm.complete(ChatRequest((Message("user", f"q{i}"),))) for i in range(40)))

    asyncio.run(go())
    assert len(a.requests) == len(b.requests) == 20
    assert a.peak_in_flight + b.peak_in_flight <= 4  # the model's one budget, not one per endpoint


def test_a_failing_endpoint_sits_out_its_cooldown_and_comes_back():
    clock = Clock()
    down = {"a": True}
    a = ScriptedBackend(name="a", fail=lambda r: LMTransientError("503") if down["a"] else None)
    b = ScriptedBackend(name="b")
    backend = multi(a, b, clock=clock)

    async def ask(n):
        return [await backend.complete(ASK) for _ in range(n)]

    asyncio.run(ask(4))
    assert len(a.requests) == 1 and len(b.requests) == 4  # a failed once, then sat out; b served every request
    down["a"] = False
    clock.now += 29
    asyncio.run(ask(2))
    assert len(a.requests) == 1  # still cooling down
    clock.now += 2
    asyncio.run(ask(4))
    assert len(a.requests) == 3  # back: a and b share again


def test_all_endpoints_out_is_a_transient_error_for_the_client_retries():
    clock = Clock()
    failing = [ScriptedBackend(name=n, fail=lambda r: LMTransientError("503")) for n in ("a", "b")]
    backend = multi(*failing, clock=clock)
    with pytest.raises(LMTransientError, match="all 2 healthy endpoints failed"):
        asyncio.run(backend.complete(ASK))
    with pytest.raises(LMTransientError, match="every endpoint is out") as info:
        asyncio.run(backend.complete(ASK))
    assert info.value.retry_after == pytest.approx(30.0)
    lm = LM(multi(*failing, clock=Clock()), role="target", usage=Usage(),
            retry=RetryPolicy(max_retries=1, base_delay_s=0.001))
    with pytest.raises(LMRetriesExhausted):
        asyncio.run(lm.complete(ASK))


def test_an_error_no_retry_can_fix_passes_through_without_taking_the_endpoint_out():
    a = ScriptedBackend(name="a", fail=lambda r: LMContextOverflow("too long"))
    b = ScriptedBackend(name="b")
    backend = multi(a, b)
    with pytest.raises(LMContextOverflow):
        asyncio.run(backend.complete(ASK))
    assert backend.endpoints[0].out_until == 0.0 and not b.requests


def test_a_spec_with_several_base_urls_is_one_balanced_model():
    backend = open_backend("openai:m?base_url=http://127.0.0.1:9001/v1,http://127.0.0.1:9002/v1&concurrency=6")
    assert isinstance(backend, MultiEndpointBackend) and backend.max_concurrency == 6
    assert [e.backend.base_url for e in backend.endpoints] == ["http://127.0.0.1:9001/v1", "http://127.0.0.1:9002/v1"]
    swapped = open_backend("openai:m?base_url=http://127.0.0.1:9002/v1,http://127.0.0.1:9001/v1")
    assert swapped.identity == backend.identity  # the same model at the same endpoints: one cache
    assert open_backend("openai:m?base_url=http://127.0.0.1:9001/v1").identity != backend.identity
    with pytest.raises(ConfigError, match="named twice"):
        open_backend("openai:m?base_url=http://127.0.0.1:9001/v1,http://127.0.0.1:9001/v1")
