"""One model served at several endpoints (`openai:MODEL?base_url=URL1,URL2`): each request goes to the healthy
endpoint with the fewest requests in flight, under one concurrency budget for the model; an endpoint that fails in a
way worth retrying is taken out for a cooldown and the request goes to the next one; once every endpoint is out, the
error goes up to the LM client's bounded retries, which come back after their backoff.

The endpoints are taken to serve the same model, so answers are cached under the model and the endpoint set, not
the endpoint that happened to answer."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from behavopt.lm.backend import ChatBackend
from behavopt.lm.errors import LMTransientError
from behavopt.lm.types import ChatRequest, Completion

COOLDOWN_S = 30.0  # an endpoint that failed sits out this long before it is tried again


@dataclass
class Endpoint:
    backend: ChatBackend
    in_flight: int = 0
    out_until: float = 0.0  # monotonic time before which it is not tried
    served: int = 0
    failures: int = 0
    last_turn: int = -1  # when it was last chosen: among equally busy endpoints, the one chosen longest ago goes


class MultiEndpointBackend:
    def __init__(self, backends: Sequence[ChatBackend], *, name: str, max_concurrency: int,
                 cooldown_s: float = COOLDOWN_S, clock: Callable[[], float] = time.monotonic):
        if len(backends) < 2:
            raise ValueError("several endpoints need two backends or more")
        self.endpoints = [Endpoint(b) for b in backends]
        self.name = name
        self.identity = "multi:" + "|".join(sorted(b.identity for b in backends))
        self.max_concurrency = max_concurrency
        self.cooldown_s = cooldown_s
        self.clock = clock
        self._turn = 0

    def _order(self) -> list[Endpoint]:
        """Healthy endpoints, fewest requests in flight first (ties: the one chosen longest ago)."""
        now = self.clock()
        healthy = [e for e in self.endpoints if e.out_until <= now]
        return sorted(healthy, key=lambda e: (e.in_flight, e.last_turn))

    async def complete(self, request: ChatRequest) -> Completion:
        tried = 0
        last: LMTransientError | None = None
        for endpoint in self._order():
            tried += 1
            endpoint.last_turn, self._turn = self._turn, self._turn + 1
            endpoint.in_flight += 1
            try:
                completion = await endpoint.backend.complete(request)
            except LMTransientError as err:
                endpoint.failures += 1
                endpoint.out_until = self.clock() + self.cooldown_s
                last = err
                continue
            finally:
                endpoint.in_flight -= 1
            endpoint.served += 1
            return completion
        if last is not None:
            raise LMTransientError(f"{self.name}: all {tried} healthy endpoints failed (last: {last})",
                                   retry_after=None) from last
        soonest = min(e.out_until for e in self.endpoints) - self.clock()
        raise LMTransientError(f"{self.name}: every endpoint is out after failing; the first is tried again in "
                               f"{max(soonest, 0):.0f} s", retry_after=max(soonest, 0.0))

    async def aclose(self) -> None:
        for endpoint in self.endpoints:
            await endpoint.backend.aclose()
