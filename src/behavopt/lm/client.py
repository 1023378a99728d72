"""LM clients: a role-tagged handle on a backend, with cache, bounded retries, a concurrency limit and usage.

`ModelPool` owns the backends of one run, so a target and an optimizer that name the same served model share one
concurrency limit, while their usage is counted separately. An in-process model gives each role a llama.cpp context
of its own (unless its spec says `context=shared`), so neither role's calls throw away the other's prompt prefix.
With `slots`, local models are served by a llama-server each (see lm/llama_server.py), one for both roles.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Callable

from behavopt.lm.backend import ChatBackend
from behavopt.lm.cache import ResponseCache, cache_key
from behavopt.lm.errors import LMError
from behavopt.lm.retry import RetryPolicy, with_retries
from behavopt.lm.spec import ModelSpec, open_backend, parse_spec
from behavopt.lm.types import ChatRequest, Completion, Message, Role, Usage, UsageByRole


class LM:
    def __init__(self, backend: ChatBackend, *, role: Role, usage: Usage, cache: ResponseCache | None = None,
                 retry: RetryPolicy | None = None, semaphore: asyncio.Semaphore | None = None):
        self.backend = backend
        self.role = role
        self.usage = usage
        self.cache = cache
        self.retry = retry or RetryPolicy()
        self._semaphore = semaphore or asyncio.Semaphore(backend.max_concurrency)

    @property
    def name(self) -> str:
        return self.backend.name

    async def complete(self, request: ChatRequest) -> Completion:
        """One chat completion. Raises `LMError` subclasses on failure; never returns an error as text."""
        key = cache_key(self.backend.identity, request) if self.cache else None
        if self.cache and key:
            hit = self.cache.get(key)
            if hit is not None:
                self.usage.add(hit)
                return hit
        try:
            async with self._semaphore:
                completion = await with_retries(lambda: self.backend.complete(request), self.retry,
                                                describe=f"{self.role} model {self.name}", on_retry=self._retried)
        except LMError:
            self.usage.errors += 1
            raise
        if self.cache and key:
            self.cache.put(key, self.backend.identity, completion)
        self.usage.add(completion)
        return completion

    def _retried(self, error: LMError) -> None:
        self.usage.retries += 1

    async def chat(self, messages: list[dict[str, str]] | list[Message], **params: object) -> Completion:
        return await self.complete(ChatRequest.of(messages, **params))


@dataclass
class ModelPool:
    """The LM clients of one run. Close it (or use `async with`) to release network clients."""

    cache: ResponseCache | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    threads: int | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    notice: Callable[[str], None] | None = None
    slots: int | None = None  # serve local models with llama-server, decoding this many requests together
    usage: UsageByRole = field(default_factory=UsageByRole)
    _backends: dict[tuple[str, str], tuple[ChatBackend, asyncio.Semaphore]] = field(default_factory=dict, repr=False)

    def backend(self, spec: str | ModelSpec, role: Role | None = None) -> tuple[ChatBackend, asyncio.Semaphore]:
        spec = parse_spec(spec) if isinstance(spec, str) else spec
        own_context = role and spec.in_process(self.slots) and spec.options.get("context") != "shared"
        context = role if own_context else "shared"
        key = (str(spec), context)
        if key not in self._backends:
            kwargs = {"notice": self.notice} if self.notice else {}
            backend = open_backend(spec, threads=self.threads, base_url=self.base_url, api_key=self.api_key,
                                   context=context, slots=self.slots, **kwargs)
            self._backends[key] = (backend, asyncio.Semaphore(backend.max_concurrency))
        return self._backends[key]

    def lm(self, spec: str | ModelSpec, role: Role) -> LM:
        backend, semaphore = self.backend(spec, role)
        return LM(backend, role=role, usage=self.usage.for_role(role), cache=self.cache, retry=self.retry,
                  semaphore=semaphore)

    async def aclose(self) -> None:
        for backend, _ in self._backends.values():
            await backend.aclose()
        self._backends.clear()
        if self.cache:
            self.cache.close()

    async def __aenter__(self) -> "ModelPool":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
