"""A run's cost known before it: LM calls from the strategy, tokens from the data's measured lengths and the
settings, seconds from a short timed probe of each model, USD from the user's prices.

The probe scores the initial prompt on the first few dev examples (step 0 scores them anyway, so they cost nothing
extra) and asks the optimizer for one paraphrase of it. A cached probe reports the latencies the cache recorded, so
a replayed run is still estimated as if it made its calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from behavopt.lm.types import ChatRequest, Message
from behavopt.optimizers.candidate import INITIAL_ID, Candidate
from behavopt.optimizers.engine.cost import CallRate, Cost, RoleCalls
from behavopt.optimizers.engine.search import SearchEngine, SearchStrategy
from behavopt.optimizers.methods.common import render
from behavopt.tasks.types import Example

PROBE_EXAMPLES = 8  # dev examples step 0 scores anyway: outputs vary in length, so a few are too few


@dataclass(frozen=True)
class RunEstimate:
    """The calls a run will make by role, and what they cost; shown before the run and beside what it used."""

    calls: RoleCalls
    cost: Cost


def initial_candidate(engine: SearchEngine) -> Candidate:
    """The candidate every run starts from (the same id and text as the one step 0 makes)."""
    return Candidate(id=INITIAL_ID, prompt=engine.task.instruction, parent=None, step=0, origin="task",
                     style=engine.task.initial_style)


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


async def probe(engine: SearchEngine) -> dict[str, CallRate]:
    target = await target_rate(engine)
    optimizer = await optimizer_rate(engine, target)
    return {role: rate for role, rate in (("target", target), ("optimizer", optimizer)) if rate is not None}


def estimate_run(engine: SearchEngine, strategy: SearchStrategy) -> RunEstimate:
    """Step 0, every step, and the final test, at the probe's rates (as if no call were a cache hit)."""
    steps = strategy.total_steps(engine.settings)
    calls = strategy.initial_calls(engine) + strategy.step_calls(engine).times(steps) + engine.final_test_calls()
    return RunEstimate(calls=calls, cost=engine.costs.cost(calls))


def describe(cost: Cost, priced: bool) -> str:
    usd = f", ~${cost.usd:.4f}" if priced else ""
    return f"~{cost.calls} LM calls, ~{cost.tokens:,} tokens, ~{cost.seconds:.0f} s{usd}"


def compared(estimate: Cost, actual: Cost, priced: bool) -> str:
    """Estimate / actual for each measure, e.g. 'calls 420 / 433 (0.97)'."""
    parts = [("calls", f"{estimate.calls}", f"{actual.calls}", estimate.calls, actual.calls),
             ("tokens", f"{estimate.tokens:,}", f"{actual.tokens:,}", estimate.tokens, actual.tokens),
             ("seconds", f"{estimate.seconds:.0f}", f"{actual.seconds:.0f}", estimate.seconds, actual.seconds)]
    if priced:
        parts.append(("USD", f"{estimate.usd:.4f}", f"{actual.usd:.4f}", estimate.usd, actual.usd))
    return ", ".join(f"{name} {e} / {a}" + (f" ({ev / av:.2f})" if av else "") for name, e, a, ev, av in parts)
