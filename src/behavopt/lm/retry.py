"""Bounded exponential backoff with jitter for transient LM errors."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Awaitable, Callable, TypeVar

from behavopt.lm.errors import LMError, LMRetriesExhausted, LMTransientError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    # Full jitter spreads retries of concurrent requests so they do not hit the server in lockstep.
    jitter: bool = True

    def delay(self, retry_index: int, error: LMTransientError, rng: random.Random) -> float:
        """Seconds to wait before retry number `retry_index` (0-based). A server's Retry-After wins."""
        if error.retry_after is not None:
            return max(0.0, error.retry_after)
        cap = min(self.max_delay_s, self.base_delay_s * (2 ** retry_index))
        return rng.uniform(cap / 2, cap) if self.jitter else cap

    @classmethod
    def allowing(cls, retries: int | None) -> RetryPolicy:
        """The default backoff with `retries` retries after the first attempt (None: the default count)."""
        if retries is None:
            return cls()
        if retries < 0:
            raise ValueError(f"retries={retries}: pass 0 or more")
        return cls(max_retries=retries)


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    describe: str = "LM call",
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[LMTransientError], None] | None = None,
) -> T:
    """Run `call`, retrying transient errors up to `policy.max_retries` times; other errors pass through at once.
    `on_retry` hears of each transient error that is retried."""
    rng = rng or random.Random()
    retry_index = 0
    while True:
        try:
            return await call()
        except LMTransientError as err:
            if retry_index >= policy.max_retries:
                raise LMRetriesExhausted(describe, retry_index + 1, err) from err
            if on_retry is not None:
                on_retry(err)
            await sleep(policy.delay(retry_index, err, rng))
            retry_index += 1
        except LMError:
            raise
