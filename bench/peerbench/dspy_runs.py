"""DSPy's MIPROv2 and COPRO as systems, on the same splits, metric and servers (through the proxy)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from behavopt.tasks.types import Example

from .context import Context

COPRO_DEPTH = 3
NO_LIMIT = 10**9  # DSPy max_errors: a parse failure scores 0 instead of ending the run


def _dspy_lm(ctx: Context, system: str, phase: str, role: str):
    import dspy

    s = ctx.settings
    model = ctx.target if role == "target" else ctx.optimizer
    temperature = 0.0 if role == "target" else s.models.optimizer_temperature
    max_tokens = s.models.target_max_tokens if role == "target" else s.models.optimizer_max_tokens
    return dspy.LM(f"openai/{model}", api_base=ctx.proxy.base_url(system, phase, role), api_key="none", cache=False,
                   temperature=temperature, max_tokens=max_tokens)


def _dspy_examples(examples: list[Example]) -> list:
    import dspy

    return [dspy.Example(question=e.input, answer=e.target).with_inputs("question") for e in examples]


def _dspy_metric(ctx: Context) -> Callable:
    def metric(example: Any, pred: Any, trace: Any = None) -> float:
        return float(ctx.score(getattr(pred, "answer", None), example.question)[1])

    return metric


def _dspy_program(ctx: Context):
    import dspy

    return dspy.Predict(dspy.Signature("question -> answer", ctx.task.instruction))


def _dspy_instruction(program: Any) -> tuple[str, int]:
    predictor = program.predictors()[0]
    return predictor.signature.instructions, len(getattr(predictor, "demos", []) or [])


def _dspy_test(ctx: Context, system: str, program: Any) -> tuple[float, list[dict]]:
    """Test accuracy of the program, and its per-example records (a failed prediction has no answer)."""
    import dspy

    prog = program.deepcopy()
    prog.set_lm(_dspy_lm(ctx, system, "test", "target"))
    evaluate = dspy.Evaluate(devset=_dspy_examples(ctx.splits.test), metric=_dspy_metric(ctx),
                             num_threads=ctx.workers, display_progress=False, max_errors=NO_LIMIT, failure_score=0.0)
    result = evaluate(prog)
    records = [ctx.test_record(getattr(prediction, "answer", None), example.question)
               for example, prediction, _ in result.results]
    return float(result.score) / 100.0, records


def _dspy_finish(ctx: Context, system: str, initial: Any, best: Any, best_dev: float | None,
                 settings: dict[str, Any], initial_dev: float | None = None) -> dict[str, Any]:
    instruction, demos = _dspy_instruction(best)
    initial_test, initial_records = _dspy_test(ctx, system, initial)
    same = instruction == ctx.task.instruction and demos == 0
    best_test, test_records = (initial_test, initial_records) if same else _dspy_test(ctx, system, best)
    return {"initial_test": initial_test, "best_test": best_test, "test_records": test_records,
            "initial_dev": initial_dev, "best_dev": best_dev, "best_prompt": instruction, "demos": demos,
            "settings": settings}


def run_miprov2(ctx: Context, system: str = "miprov2", demos: int = 0) -> dict[str, Any]:
    import dspy

    target_lm, opt_lm = _dspy_lm(ctx, system, "search", "target"), _dspy_lm(ctx, system, "search", "optimizer")
    settings = {"auto": "light", "max_bootstrapped_demos": demos, "max_labeled_demos": 0, "num_threads": ctx.workers,
                "seed": ctx.seed, "trainset": "train", "valset": "dev"}
    teleprompter = dspy.MIPROv2(metric=_dspy_metric(ctx), prompt_model=opt_lm, task_model=target_lm, auto="light",
                                max_bootstrapped_demos=demos, max_labeled_demos=0, num_threads=ctx.workers,
                                max_errors=NO_LIMIT, seed=ctx.seed, verbose=False)
    initial = _dspy_program(ctx)
    with dspy.context(lm=target_lm):
        best = teleprompter.compile(initial.deepcopy(), trainset=_dspy_examples(ctx.splits.train),
                                    valset=_dspy_examples(ctx.splits.dev))
    score = getattr(best, "score", None)
    # MIPROv2's trial 1 is its full evaluation of the program as given, on valset.
    default = (getattr(best, "trial_logs", None) or {}).get(1, {}).get("full_eval_score")
    return _dspy_finish(ctx, system, initial, best, score / 100.0 if score is not None else None, settings,
                        default / 100.0 if default is not None else None)


def copro_breadth(budget: int, n_eval: int, depth: int = COPRO_DEPTH) -> int:
    """The largest breadth whose COPRO run fits the budget: depth x breadth candidates scored on n_eval examples,
    plus (breadth - 1) + (depth - 1) x breadth proposals (n > 1 completions, one call each after fan-out)."""
    breadth = 2
    while (depth * (breadth + 1) * n_eval + breadth + (depth - 1) * (breadth + 1)) <= budget:
        breadth += 1
    return breadth


def run_copro(ctx: Context, system: str = "copro") -> dict[str, Any]:
    import dspy

    target_lm, opt_lm = _dspy_lm(ctx, system, "search", "target"), _dspy_lm(ctx, system, "search", "optimizer")
    breadth = copro_breadth(ctx.max_calls, len(ctx.splits.dev))
    settings = {"breadth": breadth, "depth": COPRO_DEPTH, "init_temperature": 1.4, "num_threads": ctx.workers,
                "eval_set": "dev"}
    teleprompter = dspy.COPRO(prompt_model=opt_lm, metric=_dspy_metric(ctx), breadth=breadth, depth=COPRO_DEPTH,
                              init_temperature=1.4)
    initial = _dspy_program(ctx)
    # COPRO passes eval_kwargs both to Evaluate() and to its __call__, which takes no max_errors: set it globally.
    with dspy.context(lm=target_lm, max_errors=NO_LIMIT):
        best = teleprompter.compile(initial.deepcopy(), trainset=_dspy_examples(ctx.splits.dev),
                                    eval_kwargs={"num_threads": ctx.workers, "display_progress": False})
    candidates = getattr(best, "candidate_programs", None) or []
    best_dev = candidates[0]["score"] / 100.0 if candidates else None
    return _dspy_finish(ctx, system, initial, best, best_dev, settings)
