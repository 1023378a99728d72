"""Any OpenAI-compatible chat server through the official `openai` SDK.

Retries are ours (bounded, typed), so the SDK's own are switched off. The API key is held only by the SDK client:
it is never part of the identity, the name, a log line or a file.
"""

from __future__ import annotations

import json
import os
import time

from behavopt.lm.errors import LMContextOverflow, LMError, LMTransientError
from behavopt.lm.types import ChatRequest, Completion

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def _retry_after(err: Exception) -> float | None:
    response = getattr(err, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _is_context_overflow(message: str) -> bool:
    text = message.lower()
    return "context" in text and ("length" in text or "window" in text or "exceed" in text)


def server_timings(resp: object) -> dict:
    """What a llama.cpp server reports of its work beside the OpenAI fields (`timings`: prompt tokens computed,
    prompt_n, and reused, cache_n; milliseconds of prompt processing and generation); {} from other servers."""
    extra = getattr(resp, "model_extra", None) or {}
    timings = extra.get("timings")
    if not isinstance(timings, dict) or not isinstance(timings.get("prompt_n"), int):
        return {}
    return timings


class OpenAIBackend:
    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None,
                 timeout_s: float = 600.0, max_concurrency: int = 8):
        from openai import AsyncOpenAI

        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        key = api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"  # local servers accept any key
        self._client = AsyncOpenAI(api_key=key, base_url=self.base_url, timeout=timeout_s, max_retries=0)
        self.name = f"openai:{model}"
        self.identity = f"openai:{self.base_url}:{model}"
        self.max_concurrency = max_concurrency

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIBackend(model={self.model!r}, base_url={self.base_url!r})"

    async def complete(self, request: ChatRequest) -> Completion:
        import openai

        params: dict = dict(model=self.model, messages=[{"role": m.role, "content": m.content} for m in request.messages],
                            temperature=request.temperature, top_p=request.top_p, max_tokens=request.max_tokens)
        if request.seed is not None:
            params["seed"] = request.seed * 1_000_003 + request.sample
        if request.stop:
            params["stop"] = list(request.stop)
        if request.json_schema:
            params["response_format"] = {"type": "json_schema",
                                         "json_schema": {"name": "reply", "schema": json.loads(request.json_schema)}}
        start = time.perf_counter()
        try:
            resp = await self._client.chat.completions.create(**params)
        except openai.RateLimitError as err:
            raise LMTransientError(f"{self.name}: rate limited (429)", retry_after=_retry_after(err)) from err
        except (openai.APITimeoutError, openai.APIConnectionError) as err:
            raise LMTransientError(f"{self.name}: {type(err).__name__} at {self.base_url}") from err
        except openai.APIStatusError as err:
            if err.status_code >= 500:
                raise LMTransientError(f"{self.name}: server error {err.status_code}",
                                       retry_after=_retry_after(err)) from err
            if _is_context_overflow(str(err)):
                raise LMContextOverflow(f"{self.name}: request exceeds the context window") from err
            raise LMError(f"{self.name}: HTTP {err.status_code}: {err.message}") from err
        except (ValueError, openai.APIResponseValidationError) as err:  # a body that is not the JSON it should be
            raise LMTransientError(f"{self.name}: the server's reply is not a chat completion "
                                   f"({type(err).__name__})") from err
        latency = time.perf_counter() - start
        if not getattr(resp, "choices", None) or getattr(resp.choices[0], "message", None) is None:
            raise LMTransientError(f"{self.name}: the server's reply has no answer in it")
        choice = resp.choices[0]
        usage = resp.usage
        timings = server_timings(resp)
        return Completion(text=choice.message.content or "", finish_reason=choice.finish_reason or "stop",
                          prompt_tokens=usage.prompt_tokens if usage else 0,
                          completion_tokens=usage.completion_tokens if usage else 0, latency_s=latency,
                          prompt_tokens_processed=timings.get("prompt_n"),
                          prompt_s=timings["prompt_ms"] / 1000 if "prompt_ms" in timings else None,
                          generate_s=timings["predicted_ms"] / 1000 if "predicted_ms" in timings else None)

    async def aclose(self) -> None:
        await self._client.close()
