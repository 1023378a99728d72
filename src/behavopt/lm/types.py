"""The one request/response shape every LM backend speaks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Literal

Role = Literal["target", "optimizer"]


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class ChatRequest:
    """A chat request. `sample` tells apart repeated samples of the same request (it is part of the cache key).
    `json_schema`: a JSON schema (as JSON text) the reply must match; backends that can constrain decoding to it do."""

    messages: tuple[Message, ...]
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = 0
    stop: tuple[str, ...] = ()
    top_p: float = 1.0
    sample: int = 0
    json_schema: str | None = None

    @staticmethod
    def of(messages: list[dict[str, str]] | list[Message], **params: object) -> "ChatRequest":
        msgs = tuple(m if isinstance(m, Message) else Message(m["role"], m["content"]) for m in messages)  # type: ignore[arg-type]
        if "stop" in params and params["stop"] is not None:
            params["stop"] = tuple(params["stop"])  # type: ignore[arg-type]
        return ChatRequest(messages=msgs, **params)  # type: ignore[arg-type]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    cached: bool = False
    # What the server reported of its own work, where it reports it (llama.cpp does; None elsewhere): the prompt
    # tokens it computed (the rest were reused from a prefix already in its context), and the seconds it spent
    # processing the prompt and generating.
    prompt_tokens_processed: int | None = None
    prompt_s: float | None = None
    generate_s: float | None = None

    def as_cached(self) -> "Completion":
        return replace(self, cached=True)


@dataclass
class Usage:
    """Counters for one role. Latency sums the time spent in LM calls (cache hits excluded)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_hits: int = 0
    errors: int = 0
    retries: int = 0  # transient failures (rate limits, server errors, timeouts, dropped connections) retried
    seconds: float = 0.0
    # Of the calls whose server reported its work (`timed_calls`): their prompt tokens, the share of those it computed
    # rather than reused, and its seconds of prompt processing and of generation. The rest of `seconds` is overhead.
    timed_calls: int = 0
    timed_prompt_tokens: int = 0
    prompt_tokens_processed: int = 0
    prompt_s: float = 0.0
    generate_s: float = 0.0

    def add(self, completion: Completion) -> None:
        if completion.cached:
            self.cache_hits += 1
            return
        self.calls += 1
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens
        self.seconds += completion.latency_s
        if completion.prompt_tokens_processed is not None:
            self.timed_calls += 1
            self.timed_prompt_tokens += completion.prompt_tokens
            self.prompt_tokens_processed += completion.prompt_tokens_processed
            self.prompt_s += completion.prompt_s or 0.0
            self.generate_s += completion.generate_s or 0.0

    def prefix_reuse(self) -> float | None:
        """The share of the timed calls' prompt tokens that the server reused rather than computed (None: none
        timed)."""
        if not self.timed_prompt_tokens:
            return None
        return 1 - self.prompt_tokens_processed / self.timed_prompt_tokens

    def to_dict(self) -> dict:
        d = asdict(self)
        for name in ("seconds", "prompt_s", "generate_s"):
            d[name] = round(d[name], 3)
        return d

    @staticmethod
    def from_dict(d: dict) -> "Usage":
        return Usage(**{f.name: d[f.name] for f in fields(Usage) if f.name in d})

    def plus(self, other: "Usage") -> "Usage":
        total = Usage(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(Usage)})
        return replace(total, seconds=round(total.seconds, 3), prompt_s=round(total.prompt_s, 3),
                       generate_s=round(total.generate_s, 3))


@dataclass
class UsageByRole:
    target: Usage = field(default_factory=Usage)
    optimizer: Usage = field(default_factory=Usage)

    def for_role(self, role: Role) -> Usage:
        return self.target if role == "target" else self.optimizer

    @property
    def calls(self) -> int:
        """LM calls of both roles (cache hits excluded)."""
        return self.target.calls + self.optimizer.calls

    @property
    def tokens(self) -> int:
        """Prompt and completion tokens of both roles (cache hits excluded)."""
        return sum(u.prompt_tokens + u.completion_tokens for u in (self.target, self.optimizer))

    def plus(self, other: "UsageByRole") -> "UsageByRole":
        return UsageByRole(self.target.plus(other.target), self.optimizer.plus(other.optimizer))

    def to_dict(self) -> dict:
        return {"target": self.target.to_dict(), "optimizer": self.optimizer.to_dict()}

    @staticmethod
    def from_dict(d: dict) -> "UsageByRole":
        return UsageByRole(Usage.from_dict(d.get("target", {})), Usage.from_dict(d.get("optimizer", {})))
