import asyncio
import random

import pytest

from behavopt.lm.errors import LMContextOverflow, LMRetriesExhausted, LMTransientError
from behavopt.lm.retry import RetryPolicy, with_retries


class Flaky:
    def __init__(self, failures: list[Exception]):
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def run(call, policy, sleeps):
    async def fake_sleep(s: float) -> None:
        sleeps.append(s)

    return asyncio.run(with_retries(call, policy, sleep=fake_sleep, rng=random.Random(0)))


def test_succeeds_after_transient_errors_with_growing_delays():
    sleeps: list[float] = []
    flaky = Flaky([LMTransientError("503")] * 3)
    assert run(flaky, RetryPolicy(max_retries=5, base_delay_s=1.0, jitter=False), sleeps) == "ok"
    assert flaky.calls == 4
    assert sleeps == [1.0, 2.0, 4.0]


def test_jitter_stays_within_half_to_full_cap():
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=5.0)
    rng = random.Random(1)
    for i in range(8):
        cap = min(5.0, 2 ** i)
        d = policy.delay(i, LMTransientError("x"), rng)
        assert cap / 2 <= d <= cap


def test_retry_after_is_honoured():
    sleeps: list[float] = []
    run(Flaky([LMTransientError("429", retry_after=7.0)]), RetryPolicy(), sleeps)
    assert sleeps == [7.0]


def test_bounded_then_typed_error():
    sleeps: list[float] = []
    flaky = Flaky([LMTransientError("503")] * 10)
    with pytest.raises(LMRetriesExhausted) as info:
        run(flaky, RetryPolicy(max_retries=5, jitter=False), sleeps)
    assert flaky.calls == 6 and len(sleeps) == 5
    assert info.value.attempts == 6 and isinstance(info.value.last, LMTransientError)


def test_non_retryable_errors_pass_at_once():
    sleeps: list[float] = []
    flaky = Flaky([LMContextOverflow("too long")])
    with pytest.raises(LMContextOverflow):
        run(flaky, RetryPolicy(), sleeps)
    assert flaky.calls == 1 and sleeps == []


@pytest.mark.parametrize("retries, attempts", [(None, 6), (0, 1), (2, 3)])
def test_a_retry_count_gives_that_many_attempts_after_the_first(retries, attempts):
    assert RetryPolicy.allowing(retries).max_retries + 1 == attempts


def test_a_negative_retry_count_is_refused():
    with pytest.raises(ValueError, match="retries=-1"):
        RetryPolicy.allowing(-1)
