"""One optimization run: load the task, split it, open the models and the run directory, search, then score the
initial and the best candidate on the same test split (which the optimizer never saw)."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from behavopt.core.errors import ConfigError
from behavopt.core.paths import default_cache_path
from behavopt.eval.prompts import Prompt, PromptSource, ScoredWith, SplitSpec
from behavopt.eval.stats import answer_chance, mean_score, paired_comparison, score_interval
from behavopt.lm.cache import ResponseCache
from behavopt.lm.client import ModelPool
from behavopt.lm.retry import RetryPolicy
from behavopt.optimizers.candidate import Candidate, ranked
from behavopt.optimizers.config import RunConfig
from behavopt.optimizers.engine.search import SearchEngine, SearchStrategy
from behavopt.optimizers.engine.cost import Cost, CostModel, price_for
from behavopt.optimizers.engine.pick import PICKS, DevResults, PickInput
from behavopt.optimizers.engine.stop import (AnyOf, MaxCalls, MaxSeconds, MaxTokens, MaxUSD, NoImprovement,
                                             ReachedScore, StopCondition, StopFile)
from behavopt.optimizers.engine.strategies import strategy_for
from behavopt.optimizers.estimate import RunEstimate, compared, describe, estimate_run, probe
from behavopt.optimizers.events import FinalTest, Picked, Resumed, Started
from behavopt.optimizers.methods import get_method
from behavopt.optimizers.methods.base import Method
from behavopt.optimizers.result import (AnswerChance, CandidateSummary, OptimizationResult, RunUsage, SplitChance,
                                        StepSummary)
from behavopt.optimizers.rundir import RunDir
from behavopt.optimizers.settings import RunSettings
from behavopt.optimizers.settings import preset as settings_preset
from behavopt.tasks import load_task
from behavopt.tasks.data import digest
from behavopt.tasks.metric import metric_name
from behavopt.tasks.types import Example, Splits, Task


@dataclass
class RunSpec:
    """A run to make: what shapes it (config.json's RunConfig), and how to reach the models and report progress."""

    config: RunConfig
    out: Path | None = None
    resume: bool = False
    data_dir: Path | None = None
    cache: ResponseCache | None = None
    threads: int | None = None
    slots: int | None = None  # serve local models with llama-server, this many requests decoded together
    retries: int | None = None  # retries of a transient LM error before the run stops (None: RetryPolicy's default)
    api_key: str | None = field(default=None, repr=False)  # never part of the config: it is not written anywhere
    on_update: Callable[[dict[str, Any]], None] | None = None
    on_notice: Callable[[str], None] | None = None
    # The user's own task (examples in memory or from files, their metric); None: load `config.task` by name.
    task: Task | None = None


def stop_conditions(rundir: RunDir, settings: RunSettings) -> StopCondition:
    conditions: list[StopCondition] = [StopFile(rundir.stop_path)]
    b = settings.budget
    for limit, condition in ((b.max_calls, MaxCalls), (b.max_tokens, MaxTokens), (b.max_usd, MaxUSD),
                             (b.max_seconds, MaxSeconds)):
        if limit is not None:
            conditions.append(condition(limit))
    if settings.budget.patience is not None:
        conditions.append(NoImprovement(settings.budget.patience))
    if settings.budget.target_score is not None:
        conditions.append(ReachedScore(settings.budget.target_score))
    return AnyOf(tuple(conditions))


async def run_optimization(spec: RunSpec) -> OptimizationResult:
    notice = spec.on_notice or (lambda m: None)
    config, settings = spec.config, spec.config.settings
    task = spec.task or load_task(config.task, data_dir=spec.data_dir)
    d = settings.data
    splits = task.split(d.train_size, d.dev_size, d.test_size, seed=d.seed)
    if not splits.test or not splits.dev or not splits.train:
        raise ConfigError(f"{config.task} splits into train {len(splits.train)}, dev {len(splits.dev)}, test "
                          f"{len(splits.test)}: each needs examples; give more data or set the split sizes")
    if task.given is not None:
        notice(f"examples: train {len(splits.train)}, dev {len(splits.dev)}, test {len(splits.test)} ("
               + ", ".join(f"{name} {'given' if name in task.given else 'drawn from train'}"
                           for name in ("dev", "test")) + f", seed {d.seed})")
    costs = cost_model(config)
    method = get_method(config.method)
    out = spec.out or Path(tempfile.mkdtemp(prefix="behavopt-run-"))
    rundir = RunDir(out)
    with rundir.exclusive():
        return await run_in(rundir, spec, task, splits, method, costs)


async def run_in(rundir: RunDir, spec: RunSpec, task: Task, splits: Splits, method: Method,
                 costs: CostModel) -> OptimizationResult:
    """The run itself, in a run directory this process holds."""
    notice = spec.on_notice or (lambda m: None)
    config, settings, out = spec.config, spec.config.settings, rundir.path
    saved = rundir.prepare(config, resume=spec.resume)
    if spec.resume and rundir.stop_path.exists():
        rundir.stop_path.unlink()
        notice(f"removed {rundir.stop_path} to resume")
    async with ModelPool(cache=spec.cache, threads=spec.threads, slots=spec.slots, base_url=config.base_url,
                         api_key=spec.api_key, retry=RetryPolicy.allowing(spec.retries), notice=spec.on_notice) as pool:
        engine = SearchEngine(task=task, splits=splits, settings=settings, method=method,
                              target=pool.lm(config.target, "target"), optimizer=pool.lm(config.optimizer, "optimizer"),
                              usage=pool.usage, rundir=rundir, stop=stop_conditions(rundir, settings),
                              on_update=spec.on_update or (lambda info: None))
        strategy = strategy_for(method)
        if saved:
            engine.restore(saved)
            engine.emit(Resumed(step=engine.state.step))
            notice(f"resuming {out} after step {engine.state.step}")
        estimate = await estimate_before(engine, strategy, config, costs, started=saved is None, notice=notice)
        ticker = asyncio.create_task(report_every(engine, 1.0))
        try:
            await strategy.run(engine)
        finally:
            ticker.cancel()
        engine.checkpoint()
        result = await finish(engine, config, out, estimate)
        engine.checkpoint()  # with the test calls counted, so a resumed finished run reports the same usage
    notice(f"estimate / actual: {compared(estimate.cost, result.spent or Cost(), bool(config.prices))}")
    rundir.save_result(result, render_best(engine.state.candidates[result.best_candidate]))
    return result


async def estimate_before(engine: SearchEngine, strategy: SearchStrategy, config: RunConfig, costs: CostModel, *,
                          started: bool, notice: Callable[[str], None]) -> RunEstimate:
    """Probe the models, print what the run is estimated to cost, and refuse a budget that step 0 would pass."""
    engine.costs = replace(costs, probe=await probe(engine))
    estimate = estimate_run(engine, strategy)
    if started:
        engine.emit(Started(config=config, estimated_calls=estimate.calls.total))
    priced = bool(config.prices)
    notice(f"estimated for this configuration: {describe(estimate.cost, priced, estimate.ceiling)} "
           f"(target {estimate.calls.target} calls, optimizer {estimate.calls.optimizer}; fewer with cache hits)")
    check_budget_covers_start(engine, strategy)
    b = engine.settings.budget
    engine.plan = {"steps_total": strategy.total_steps(engine.settings), "estimated_calls": estimate.calls.total,
                   "max_calls": b.max_calls, "max_tokens": b.max_tokens}
    return estimate


def cost_model(config: RunConfig) -> CostModel:
    """Prices for both models; a USD budget needs a price for every model that is not local."""
    target, optimizer = price_for(config.target, config.prices), price_for(config.optimizer, config.prices)
    if config.settings.budget.max_usd is not None:
        for model, price in ((config.target, target), (config.optimizer, optimizer)):
            if price is None:
                raise ConfigError(f"a USD budget needs the price of {model}: pass --price {model}=IN/OUT (USD per "
                                  "million input/output tokens)")
    m = config.settings.models
    return CostModel(target_price=target, optimizer_price=optimizer, probe={},
                     max_tokens={"target": m.target_max_tokens, "optimizer": m.optimizer_max_tokens})


def check_budget_covers_start(engine: SearchEngine, strategy: SearchStrategy) -> None:
    """Step 0 always runs (the initial prompts' dev scores): a budget it would pass cannot be kept."""
    first = engine.costs.cost(strategy.initial_calls(engine))
    if engine.settings.budget.count_test:
        first += engine.costs.ceiling(engine.final_test_calls())
    b = engine.settings.budget
    for name, limit, needed in (("--max-usd", b.max_usd, first.usd), ("--max-seconds", b.max_seconds, first.seconds),
                                ("--max-calls", b.max_calls, first.calls), ("--max-tokens", b.max_tokens, first.tokens)):
        if limit is not None and needed > limit:
            raise ConfigError(f"{name} {limit:g} cannot cover the initial dev scoring and the final test (~{needed:g})"
                              f": raise it, or lower --dev-size/--test-size")


async def report_every(engine: SearchEngine, seconds: float) -> None:
    """Keep a live display fresh between steps (calls and tokens move with every scored example)."""
    while True:
        await asyncio.sleep(seconds)
        engine.report()


def render_best(best: Candidate) -> str:
    """The best candidate exactly as the target sees it; a plain instruction is written as is, a behaviour prompt
    as its chat messages with `{input}` where each example's input goes."""
    if best.style == "instruction" and not best.demos:
        return best.prompt + "\n"
    messages = best.render(Example(id="", input="{input}", target=""))
    return "\n\n".join(f"[{m.role}]\n{m.content}" for m in messages) + "\n"


def prompt_file(engine: SearchEngine, config: RunConfig, candidate: Candidate, test_score: float) -> Prompt:
    """A candidate as a prompt file: its messages, the request settings it was scored under, and where it came from
    (task, method, scores, and the split that reproduces its test score)."""
    request = engine.evaluator.settings
    d = engine.settings.data
    return candidate.as_prompt(
        scored_with=ScoredWith(model=config.target, max_tokens=request.max_tokens, temperature=request.temperature,
                               seed=request.seed),
        source=PromptSource(task=config.task, method=config.method, candidate=candidate.id,
                            dev_score=engine.state.dev_scores[candidate.id], test_score=test_score,
                            split=SplitSpec(d.train_size, d.dev_size, d.test_size, d.seed)))


def summary_of(engine: SearchEngine, candidate: Candidate) -> CandidateSummary:
    """A candidate as result.json lists it, with the method's own figures from its dev records."""
    return CandidateSummary(
        id=candidate.id, parent=candidate.parent, prompt=candidate.prompt,
        dev_score=engine.state.dev_scores.get(candidate.id), feedback=candidate.feedback, origin=candidate.origin,
        demos=candidate.demos, early_stopped=candidate.id in engine.state.early_stopped,
        figures=engine.method.candidate_figures(candidate, engine.scorer.records(candidate.id, engine.splits.dev),
                                                engine.state.method_notes))


def chance_of(engine: SearchEngine, candidate_id: str, examples: list[Example]) -> float:
    """The candidate's answer-frequency chance on the examples it was scored on (see eval.stats.answer_chance)."""
    records = engine.scorer.records(candidate_id, examples)
    by_id = {e.id: e for e in examples}
    return round(answer_chance([r.answer for r in records], [by_id[r.id] for r in records], engine.task.metric), 4)


def split_chance(engine: SearchEngine, candidate_id: str) -> SplitChance:
    return SplitChance(dev=chance_of(engine, candidate_id, engine.splits.dev),
                       test=chance_of(engine, candidate_id, engine.splits.test))


def final_pick(engine: SearchEngine, config: RunConfig, leader: Candidate, pool: list[str]) -> Candidate:
    """The candidate the run returns by the `search.pick` rule, among `pool` (scored on all of dev), with the
    initial instruction always eligible; the decision is recorded as a Picked event."""
    rule = config.settings.search.pick
    dev, initial = engine.splits.dev, engine.state.initial.id
    results = {cid: DevResults.of(engine.scorer.records(cid, dev))
               for cid in dict.fromkeys([initial, leader.id, *pool])}
    pick = PICKS[rule](PickInput(initial=initial, leader=leader.id, results=results, dev=dev,
                                 metric=engine.task.metric))
    engine.emit(Picked(candidate=pick.candidate, rule=rule, leader=leader.id, reason=pick.reason))
    return engine.state.candidates[pick.candidate]


async def finish(engine: SearchEngine, config: RunConfig, out: Path, estimate: RunEstimate) -> OptimizationResult:
    state = engine.state
    ucb = config.settings.search.selection == "ucb" and state.beam
    if ucb:
        # Bandit means rest on different numbers of examples; the final pick compares the beam on all of dev (and
        # the initial instruction, which a rule other than the leader's may return).
        guarded = config.settings.search.pick != "dev" and state.initial.id not in state.beam
        await engine.score_dev([state.candidates[c] for c in state.beam] + ([state.initial] if guarded else []))
    initial, best = state.initial, state.best()
    if ucb:
        best = state.candidates[ranked(state.beam, state.dev_scores)[0]]
    best = final_pick(engine, config, best, pool=list(state.beam) if ucb else list(state.fully_scored()))
    test = engine.splits.test
    engine.emit(FinalTest(candidates=(initial.id, best.id), n=len(test)))
    await engine.scorer.score(list({initial.id: initial, best.id: best}.values()), test)
    init_recs, best_recs = engine.scorer.records(initial.id, test), engine.scorer.records(best.id, test)
    init_scores, best_scores = [r.score for r in init_recs], [r.score for r in best_recs]
    steps = [StepSummary(entry.step, [summary_of(engine, state.candidates[c]) for c in entry.created], entry.beam)
             for entry in state.step_log]
    usage = engine.total_usage()
    return OptimizationResult(
        method=config.method, task=config.task, target=config.target, optimizer=config.optimizer,
        seed=config.settings.data.seed,
        initial_prompt=prompt_file(engine, config, initial, mean_score(init_scores)),
        best_prompt=prompt_file(engine, config, best, mean_score(best_scores)),
        initial_instruction=initial.prompt, best_instruction=best.prompt, best_candidate=best.id,
        initial_dev_score=state.dev_scores[initial.id], best_dev_score=state.dev_scores[best.id],
        initial_test_score=mean_score(init_scores), best_test_score=mean_score(best_scores),
        initial_test_ci95=score_interval(init_scores), best_test_ci95=score_interval(best_scores),
        test_size=len(test),
        dev_size=len(engine.splits.dev), steps=steps,
        usage=RunUsage(target=usage.target, optimizer=usage.optimizer, wall_s=round(engine.wall_s(), 3)),
        stop_reason=state.stop_reason or "", run_dir=str(out), settings=config.settings,
        answer_chance=AnswerChance(initial=split_chance(engine, initial.id), best=split_chance(engine, best.id)),
        test_comparison=paired_comparison(init_scores, best_scores),
        estimate=estimate.cost.rounded(), estimate_ceiling=estimate.ceiling.rounded(),
        spent=engine.costs.used(usage, engine.wall_s()).rounded())


def response_cache(cache: bool | str | Path | ResponseCache | None) -> ResponseCache | None:
    """True: the default cache file; False or None: no cache; a path or a ResponseCache: that one."""
    if isinstance(cache, ResponseCache):
        return cache
    if cache is True:
        return ResponseCache(default_cache_path())
    if cache is False or cache is None:
        return None
    return ResponseCache(Path(cache))


def optimize_task(task: str, method: str, target: str, optimizer: str, *, out: str | Path | None = None,
                  resume: bool = False, data_dir: str | Path | None = None, preset: str = "default",
                  cache: bool | str | Path | ResponseCache = True, threads: int | None = None,
                  slots: int | None = None, retries: int | None = None, base_url: str | None = None,
                  api_key: str | None = None, on_update: Callable[[dict[str, Any]], None] | None = None,
                  own_task: Task | None = None,
                  **settings: Any) -> OptimizationResult:
    """Optimize the prompt of the built-in task `task` for `target`, with `optimizer` proposing (the benches' and
    the study's entry; `behavopt.optimize` takes your own prompt, data and metric). `own_task`: a task made from the
    user's data, named `task` in config.json.

    `settings` override the preset's, by flat name (see `RunSettings`): steps, beam, expand, initial, errors, seed,
    abo_demo, mcts_depth, ... `cache`: True for the default cache file, False for none, or a path / ResponseCache.
    """
    config = RunConfig(task=task, method=method, target=target, optimizer=optimizer,
                       settings=settings_preset(preset).with_overrides(**settings), base_url=base_url,
                       data=digest(own_task.examples) if own_task else None,
                       metric=metric_name(own_task.grader.metric) if own_task and own_task.grader else None)
    spec = RunSpec(config=config, out=Path(out) if out else None, resume=resume,
                   data_dir=Path(data_dir) if data_dir else None, cache=response_cache(cache), threads=threads,
                   slots=slots, retries=retries, api_key=api_key, on_update=on_update, task=own_task)
    return asyncio.run(run_optimization(spec))
