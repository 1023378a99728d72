"""GEPA as a system: its DefaultAdapter on the same splits, metric and servers (through the proxy), held to the
LM-call budget by a stop callback that counts at the proxy."""

from __future__ import annotations

from typing import Any

from behavopt.tasks.types import Example

from .context import Context, fresh_dir


def _gepa_adapter(ctx: Context, system: str, phase: str):
    from gepa.adapters.default_adapter.default_adapter import (
        DefaultAdapter,
        EvaluationResult,
    )

    def evaluator(data: dict, response: str) -> EvaluationResult:
        answer, correct = ctx.score(response, data["input"])
        gold = ctx.example_of(data["input"]).target
        if correct:
            feedback = f"The generated response is correct. The final answer '{answer}' matches the correct answer."
        else:
            got = f"the final answer read from it is '{answer}'" if answer is not None else \
                "no final answer could be read from it"
            feedback = (f"The generated response is incorrect: {got}. The correct answer is '{gold}'. "
                        "The response must end with the final answer in the required format.")
        return EvaluationResult(score=1.0 if correct else 0.0, feedback=feedback)

    s = ctx.settings
    return DefaultAdapter(model=f"openai/{ctx.target}", evaluator=evaluator, max_litellm_workers=ctx.workers,
                          litellm_batch_completion_kwargs={
                              "api_base": ctx.proxy.base_url(system, phase, "target"), "api_key": "none",
                              "temperature": 0.0, "max_tokens": s.models.target_max_tokens})


def _gepa_data(examples: list[Example]) -> list[dict]:
    return [{"input": e.input, "answer": e.target, "additional_context": {}} for e in examples]


MINIBATCH = 3  # GEPA's reflection minibatch


def gepa_search(ctx: Context, system: str, seed_candidate: dict) -> Any:
    """GEPA's optimize() on train (reflection) and dev (selection), through the proxy's "search" phase."""
    import gepa
    from gepa.lm import LM

    s = ctx.settings
    reflection_lm = LM(f"openai/{ctx.optimizer}", temperature=s.models.optimizer_temperature,
                       max_tokens=s.models.optimizer_max_tokens,
                       api_base=ctx.proxy.base_url(system, "search", "optimizer"), api_key="none")
    # max_metric_calls counts target rollouts only; this stopper also counts the reflection calls (at the proxy)
    # and stops before an iteration that could pass the budget: 2 minibatches, 1 reflection, 1 full dev evaluation.
    worst_iteration = 2 * MINIBATCH + 1 + len(ctx.splits.dev)

    def budget_reached(state: Any) -> bool:
        return ctx.proxy.counts(system, "search").calls + worst_iteration > ctx.max_calls

    return gepa.optimize(seed_candidate=seed_candidate, trainset=_gepa_data(ctx.splits.train),
                         valset=_gepa_data(ctx.splits.dev), adapter=_gepa_adapter(ctx, system, "search"),
                         reflection_lm=reflection_lm, reflection_minibatch_size=MINIBATCH,
                         max_metric_calls=ctx.max_calls, stop_callbacks=[budget_reached], seed=ctx.seed,
                         run_dir=str(fresh_dir(ctx.out_dir / system)), display_progress_bar=False)


def gepa_test(ctx: Context, system: str, seed_candidate: dict, best: dict) -> tuple[float, float, list[dict]]:
    """Test accuracy of the seed and of the best candidate (scored once where they are the same), and the best's
    per-example records."""
    test_adapter = _gepa_adapter(ctx, system, "test")
    test = _gepa_data(ctx.splits.test)

    def records(candidate: dict) -> list[dict]:
        batch = test_adapter.evaluate(test, candidate, capture_traces=False)
        return [ctx.test_record(out["full_assistant_response"], data["input"])
                for data, out in zip(test, batch.outputs, strict=True)]

    def accuracy(scored: list[dict]) -> float:
        return sum(r["score"] for r in scored) / len(scored)

    initial = records(seed_candidate)
    best_records = initial if best == seed_candidate else records(best)
    return accuracy(initial), accuracy(best_records), best_records


def run_gepa(ctx: Context, system: str = "gepa") -> dict[str, Any]:
    seed_candidate = {"instruction": ctx.task.instruction}
    result = gepa_search(ctx, system, seed_candidate)
    best = result.best_candidate
    best = best if isinstance(best, dict) else {"instruction": str(best)}
    initial_test, best_test, test_records = gepa_test(ctx, system, seed_candidate, best)
    return {"initial_test": initial_test, "best_test": best_test, "test_records": test_records,
            "initial_dev": result.val_aggregate_scores[0],  # GEPA's candidate 0 is the seed candidate
            "best_dev": result.val_aggregate_scores[result.best_idx], "best_prompt": best["instruction"],
            "metric_calls": result.total_metric_calls, "candidates": len(result.candidates),
            "settings": {"max_metric_calls": ctx.max_calls, "adapter": "DefaultAdapter",
                         "reflection_minibatch_size": MINIBATCH, "stop_before_calls_pass": ctx.max_calls,
                         "candidate_selection_strategy": "pareto",
                         "use_merge": False, "max_litellm_workers": ctx.workers, "seed": ctx.seed}}
