"""What a run costs, in the four measures its budgets are set in: LM calls, tokens, USD and seconds.

A step's cost is estimated from its call count per role (the strategy's) times what one call of that role costs:
measured on this run's own calls once there are some, else on a short probe (whose recorded latencies the cache
keeps, so a replayed probe still measures the model). USD come from the user's prices per million tokens; a local
model costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal

from behavopt.core.errors import ConfigError
from behavopt.lm.types import Completion, Usage, UsageByRole

Measure = Literal["calls", "tokens", "usd", "seconds"]
UNITS: dict[str, str] = {"calls": "call", "tokens": "token", "usd": "USD", "seconds": "time"}


@dataclass(frozen=True)
class Cost:
    calls: int = 0
    tokens: int = 0
    usd: float = 0.0
    seconds: float = 0.0

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(Cost)})

    def of(self, measure: Measure) -> float:
        return getattr(self, measure)

    def __sub__(self, other: "Cost") -> "Cost":
        return Cost(**{f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(Cost)})

    def at_least(self, other: "Cost") -> "Cost":
        """Each measure the larger of the two."""
        return Cost(**{f.name: max(getattr(self, f.name), getattr(other, f.name)) for f in fields(Cost)})

    def rounded(self) -> "Cost":
        return Cost(self.calls, self.tokens, round(self.usd, 6), round(self.seconds, 1))


@dataclass(frozen=True)
class RoleCalls:
    """LM calls by role, as a strategy estimates them for a step."""

    target: int = 0
    optimizer: int = 0

    @property
    def total(self) -> int:
        return self.target + self.optimizer

    def __add__(self, other: "RoleCalls") -> "RoleCalls":
        return RoleCalls(self.target + other.target, self.optimizer + other.optimizer)

    def times(self, n: int) -> "RoleCalls":
        return RoleCalls(self.target * n, self.optimizer * n)


@dataclass(frozen=True)
class Price:
    """USD per million prompt (input) and completion (output) tokens."""

    input_per_m: float
    output_per_m: float

    @staticmethod
    def parse(text: str) -> "Price":
        """'IN/OUT', e.g. '0.15/0.6'."""
        head, sep, tail = text.partition("/")
        try:
            price = Price(float(head), float(tail)) if sep else None
        except ValueError:
            price = None
        if price is None or price.input_per_m < 0 or price.output_per_m < 0:
            raise ConfigError(f"price '{text}' is not IN/OUT in USD per million tokens: write e.g. 0.15/0.6")
        return price

    def usd(self, prompt_tokens: float, completion_tokens: float) -> float:
        return (prompt_tokens * self.input_per_m + completion_tokens * self.output_per_m) / 1e6


FREE = Price(0.0, 0.0)


def price_for(model: str, prices: dict[str, Price]) -> Price | None:
    """The model's price: the user's, else nothing for a local model; None when a remote model has no price."""
    if model in prices:
        return prices[model]
    return FREE if model.startswith("local:") else None


@dataclass(frozen=True)
class CallRate:
    """What one call of a role costs on average."""

    prompt_tokens: float
    completion_tokens: float
    seconds: float
    # Seconds per token written, from a timed generation (None: not measured; a call's seconds are then taken to
    # grow with what it writes).
    seconds_per_token: float | None = None

    def at_least(self, other: "CallRate | None") -> "CallRate":
        if other is None:
            return self
        speeds = [s for s in (self.seconds_per_token, other.seconds_per_token) if s is not None]
        return CallRate(max(self.prompt_tokens, other.prompt_tokens),
                        max(self.completion_tokens, other.completion_tokens), max(self.seconds, other.seconds),
                        max(speeds) if speeds else None)

    def at_the_limit(self, max_tokens: int) -> "CallRate":
        """A call that writes up to its token limit: the tokens beyond the usual at the measured writing speed."""
        extra = max(0.0, max_tokens - self.completion_tokens)
        if self.seconds_per_token is not None:
            seconds = self.seconds + extra * self.seconds_per_token
        else:
            seconds = self.seconds * max_tokens / self.completion_tokens if self.completion_tokens else self.seconds
        return CallRate(self.prompt_tokens, float(max(max_tokens, self.completion_tokens)), max(self.seconds, seconds),
                        self.seconds_per_token)

    @staticmethod
    def of_usage(usage: Usage) -> "CallRate | None":
        if usage.calls == 0:
            return None
        return CallRate(usage.prompt_tokens / usage.calls, usage.completion_tokens / usage.calls,
                        usage.seconds / usage.calls)

    @staticmethod
    def of_completions(completions: list[Completion]) -> "CallRate | None":
        """From probe completions, cached or not (the cache keeps each completion's tokens and latency)."""
        if not completions:
            return None
        n = len(completions)
        return CallRate(sum(c.prompt_tokens for c in completions) / n, sum(c.completion_tokens for c in completions) / n,
                        sum(c.latency_s for c in completions) / n)


@dataclass
class CostModel:
    """Turns call counts into costs. `probe` holds the rates estimated before the run, by role; once a role has made
    calls in this run, the larger of the probe's and the measured rate counts (the first calls, a paraphrase or the
    initial prompt, are often the cheapest of a run)."""

    target_price: Price | None
    optimizer_price: Price | None
    probe: dict[str, CallRate]
    # Each role's generation limit, for the ceiling the budgets are checked against.
    max_tokens: dict[str, int] = field(default_factory=dict)

    def rate(self, role: str, usage: UsageByRole | None) -> CallRate | None:
        measured = CallRate.of_usage(usage.for_role(role)) if usage is not None else None  # type: ignore[arg-type]
        probed = self.probe.get(role)
        return measured.at_least(probed) if measured is not None else probed

    def cost(self, calls: RoleCalls, usage: UsageByRole | None = None) -> Cost:
        """What the calls are likely to cost, at the rates so far."""
        return self._priced(calls, usage, at_the_limit=False)

    def ceiling(self, calls: RoleCalls, usage: UsageByRole | None = None) -> Cost:
        """What the calls cost at most if each writes up to its token limit: the budgets are checked against this,
        since a new prompt can make the target write far more than the first prompts did."""
        return self._priced(calls, usage, at_the_limit=True)

    def _priced(self, calls: RoleCalls, usage: UsageByRole | None, at_the_limit: bool) -> Cost:
        total = Cost(calls=calls.total)
        for role, n, price in (("target", calls.target, self.target_price),
                               ("optimizer", calls.optimizer, self.optimizer_price)):
            rate = self.rate(role, usage)
            if rate is None or n == 0:
                continue
            if at_the_limit and role in self.max_tokens:
                rate = rate.at_the_limit(self.max_tokens[role])
            total += Cost(tokens=round(n * (rate.prompt_tokens + rate.completion_tokens)),
                          usd=price.usd(n * rate.prompt_tokens, n * rate.completion_tokens) if price else 0.0,
                          seconds=n * rate.seconds)
        return total

    def used(self, usage: UsageByRole, wall_s: float) -> Cost:
        usd = sum((price.usd(u.prompt_tokens, u.completion_tokens)
                  for u, price in ((usage.target, self.target_price), (usage.optimizer, self.optimizer_price)) if price),
                  0.0)
        return Cost(calls=usage.calls, tokens=usage.tokens, usd=usd, seconds=wall_s)
