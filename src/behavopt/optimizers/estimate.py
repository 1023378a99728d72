"""A run's cost known before it: LM calls from the strategy, tokens from the data's measured lengths and the
settings, seconds from a short timed probe of each model, USD from the user's prices.

The probe scores the initial prompt on the first few dev examples (step 0 scores them anyway, so they cost nothing
extra), asks the optimizer for one paraphrase of it, and times each model writing 64 tokens (for the ceiling: what
a run costs if every call writes up to its token limit). A cached probe reports the latencies the cache
recorded, so a replayed run is still estimated as if it made its calls.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from behavopt.lm.client import LM
from behavopt.lm.types import ChatRequest, Message
from behavopt.optimizers.candidate import INITIAL_ID, Candidate
from behavopt.optimizers.engine.cost import CallRate, Cost, RoleCalls
from behavopt.optimizers.engine.search import SearchEngine, SearchStrategy
from behavopt.optimizers.methods.common import render
from behavopt.tasks.types import Example

PROBE_EXAMPLES = 8  # dev examples step 0 scores anyway: outputs vary in length, so a few are too few


@dataclass(frozen=True)
class RunEstimate:
    """The calls a run will make by role, what they are likely to cost, and what they cost if every call writes up
    to its token limit; shown before the run and beside what it used. A prompt that makes the target reason at
    length moves a run from the first toward the second."""

    calls: RoleCalls
    cost: Cost
    ceiling: Cost


def initial_candidate(engine: SearchEngine) -> Candidate:
    """The candidate every run starts from, with the id step 0 gives it (so step 0 reuses the probe's records)."""
    p = engine.initial_proposal()
    return Candidate(id=INITIAL_ID, prompt=p.prompt, parent=p.parent, step=0, origin=p.origin, style=p.style)


def prompt_chars(candidate: Candidate, examples: list[Example]) -> float:
    return sum(sum(len(m.content) for m in candidate.render(e)) for e in examples) / len(examples)


async def target_rate(engine: SearchEngine) -> CallRate | None:
    """Seconds and tokens measured on the probe examples; the prompt tokens scaled to every dev and train input's
    length (the chat template's own tokens included, as the model counted them)."""
    seed = initial_candidate(engine)
    probe = engine.splits.dev[:PROBE_EXAMPLES]
    await engine.scorer.score([seed], probe)
    records = [r for r in engine.scorer.records(seed.id, probe) if r.output is not None]
    if not records:
        return None
    n = len(records)
    probed = [e for e in probe if e.id in {r.id for r in records}]
    scale = prompt_chars(seed, engine.splits.dev + engine.splits.train) / prompt_chars(seed, probed)
    return CallRate(scale * sum(r.prompt_tokens for r in records) / n, sum(r.completion_tokens for r in records) / n,
                    sum(r.latency_s for r in records) / n)


async def optimizer_rate(engine: SearchEngine, target: CallRate | None) -> CallRate | None:
    """One paraphrase of the initial prompt, timed; a reflection method's calls also show the errors' inputs and
    outputs, so those are added to its prompt length."""
    m = engine.settings.models
    request = ChatRequest(messages=(Message("user", render("paraphrase", prompt=engine.task.instruction)),),
                          max_tokens=m.optimizer_max_tokens, temperature=m.optimizer_temperature,
                          seed=engine.settings.data.seed * 10_007, sample=0)
    completion = await engine.optimizer.complete(request)
    rate = CallRate.of_completions([completion])
    if rate is None or not engine.method.uses_errors or target is None:
        return rate
    per_error = target.prompt_tokens + target.completion_tokens
    return CallRate(rate.prompt_tokens + engine.settings.search.errors * per_error, rate.completion_tokens,
                    rate.seconds)


SPEED_PROMPT = "Count from 1 to 100, the numbers separated by spaces."
SPEED_TOKENS = 64


async def writing_speed(lm: LM) -> float | None:
    """Seconds per token written, from one short generation (its small prompt's processing counted in, so a little
    slower than the model writes)."""
    completion = await lm.complete(ChatRequest(messages=(Message("user", SPEED_PROMPT),), max_tokens=SPEED_TOKENS,
                                               temperature=0.0, seed=0))
    return completion.latency_s / completion.completion_tokens if completion.completion_tokens else None


async def probe(engine: SearchEngine) -> dict[str, CallRate]:
    """Each role's rate, with its writing speed (measured once where both roles are the same model)."""
    target = await target_rate(engine)
    optimizer = await optimizer_rate(engine, target)
    speed = {"target": await writing_speed(engine.target)}
    speed["optimizer"] = speed["target"] if engine.optimizer.name == engine.target.name else \
        await writing_speed(engine.optimizer)
    return {role: replace(rate, seconds_per_token=speed[role])
            for role, rate in (("target", target), ("optimizer", optimizer)) if rate is not None}


def estimate_run(engine: SearchEngine, strategy: SearchStrategy) -> RunEstimate:
    """Step 0, every step, and the final test, at the probe's rates (as if no call were a cache hit)."""
    steps = strategy.total_steps(engine.settings)
    calls = strategy.initial_calls(engine) + strategy.step_calls(engine).times(steps) + engine.final_test_calls()
    return RunEstimate(calls=calls, cost=engine.costs.cost(calls), ceiling=engine.costs.ceiling(calls))


def describe(cost: Cost, priced: bool, ceiling: Cost | None = None) -> str:
    """'~420 LM calls, ~12,345 tokens, ~61 s, ~$0.0100; if every call wrote up to its token limit: ~40,000 tokens,
    ~300 s, ~$0.0400' (prompts that grow longer than the first ones can pass even that)."""
    def measures(c: Cost) -> str:
        return f"~{c.tokens:,} tokens, ~{c.seconds:.0f} s" + (f", ~${c.usd:.4f}" if priced else "")

    text = f"~{cost.calls} LM calls, {measures(cost)}"
    return text + (f"; if every call wrote up to its token limit: {measures(ceiling)}" if ceiling else "")


def compared(estimate: Cost, actual: Cost, priced: bool) -> str:
    """Estimate / actual for each measure, e.g. 'calls 420 / 433 (0.97)'."""
    parts = [("calls", f"{estimate.calls}", f"{actual.calls}", estimate.calls, actual.calls),
             ("tokens", f"{estimate.tokens:,}", f"{actual.tokens:,}", estimate.tokens, actual.tokens),
             ("seconds", f"{estimate.seconds:.0f}", f"{actual.seconds:.0f}", estimate.seconds, actual.seconds)]
    if priced:
        parts.append(("USD", f"{estimate.usd:.4f}", f"{actual.usd:.4f}", estimate.usd, actual.usd))
    # No ratio where the actual shows as 0 (a run served from the cache in 0.3 s is not "1200x" its estimate).
    return ", ".join(f"{name} {e} / {a}" + (f" ({ev / av:.2f})" if float(a.replace(",", "")) else "")
                     for name, e, a, ev, av in parts)
