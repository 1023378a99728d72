"""Each failure a real server produces, injected by a loopback proxy, becomes one of behavopt's typed LM errors; the
transient ones are retried (and counted) until they pass or the retries run out. No model needed: the proxy stands
in front of a server that answers every request with one fixed completion."""

from __future__ import annotations

import asyncio

import pytest

from behavopt.lm.client import LM
from behavopt.lm.errors import LMRetriesExhausted, LMTransientError
from behavopt.lm.openai_backend import OpenAIBackend
from behavopt.lm.retry import RetryPolicy
from behavopt.lm.types import ChatRequest, Message, Usage
from tests.lm.faults import KINDS, FaultyProxy, StaticUpstream

REQUEST = ChatRequest((Message("user", "How many? Answer: N"),), max_tokens=8)


@pytest.fixture(scope="module")
def upstream():
    with StaticUpstream() as server:
        yield server


def call(base_url: str, *, timeout_s: float = 1.0, retry: RetryPolicy | None = None) -> tuple[object, Usage]:
    backend = OpenAIBackend("m", base_url=base_url, timeout_s=timeout_s)
    usage = Usage()
    lm = LM(backend, role="target", usage=usage, retry=retry or RetryPolicy(max_retries=0))

    async def go() -> object:
        try:
            return await lm.complete(REQUEST)
        except Exception as err:  # noqa: BLE001 - the test looks at what was raised
            return err
        finally:
            await backend.aclose()

    return asyncio.run(go()), usage


@pytest.mark.parametrize("kind,message", [("429", "rate limited (429)"), ("500", "server error 500"),
                                          ("503", "server error 503"), ("hang", "APITimeoutError"),
                                          ("drop", "APIConnectionError"), ("truncated", "APIConnectionError"),
                                          ("garbage", "not a chat completion")])
def test_each_server_failure_is_a_typed_transient_error(upstream, kind, message):
    with FaultyProxy(upstream=upstream.base_url, rate=1.0, kinds=(kind,), hang_s=3) as proxy:
        outcome, usage = call(proxy.base_url)
    assert isinstance(outcome, LMRetriesExhausted) and isinstance(outcome.last, LMTransientError)
    assert message in str(outcome.last) and proxy.injected[kind] == 1
    assert usage.errors == 1 and usage.calls == 0  # a failure is never an answer
    if kind == "429":
        assert outcome.last.retry_after == 0.0  # the server's Retry-After is kept


def test_faults_are_retried_counted_and_pass(upstream):
    with FaultyProxy(upstream=upstream.base_url, rate=0.5, kinds=KINDS, seed=3, hang_s=3) as proxy:
        outcomes = [call(proxy.base_url, retry=RetryPolicy(max_retries=8, base_delay_s=0.001)) for _ in range(12)]
    assert all(getattr(o, "text", None) == "Answer: 4" for o, _ in outcomes)
    assert sum(u.retries for _, u in outcomes) == sum(proxy.injected.values()) > 0
    assert len(proxy.injected) >= 4  # several kinds met
