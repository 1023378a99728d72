"""`behavopt.optimize`: a better prompt for your model, from your prompt, your examples and your metric.

The same path serves the CLI (`behavopt optimize --prompt-file ... --train ...`) and the built-in tasks by name.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from behavopt.core.errors import ConfigError
from behavopt.eval.prompts import INPUT_SLOT, Prompt
from behavopt.lm.cache import ResponseCache
from behavopt.optimizers.config import RunConfig
from behavopt.optimizers.engine.cost import Price
from behavopt.optimizers.result import OptimizationResult
from behavopt.optimizers.run import RunSpec, response_cache, run_optimization
from behavopt.optimizers.settings import preset as settings_preset
from behavopt.tasks import load_task
from behavopt.tasks.data import Data, Fields, digest, task_from_data
from behavopt.tasks.metric import UserMetric, metric_name
from behavopt.tasks.types import Task


@dataclass(frozen=True)
class Budget:
    """Limits on a run, each checked before a step: a step that would pass one is not started.

    calls, tokens  LM calls and tokens (cache hits are free)
    usd            US dollars, from `prices` (local models cost 0)
    seconds        wall time
    count_test     the limits keep back what the final test evaluation costs (False: it runs outside them)
    patience       stop when the best dev score has not risen for this many steps
    target_score   stop once the best dev score reaches this
    """

    calls: int | None = None
    tokens: int | None = None
    usd: float | None = None
    seconds: float | None = None
    count_test: bool = True
    patience: int | None = None
    target_score: float | None = None

    def settings(self) -> dict[str, Any]:
        """As settings by flat name (max_calls, ...), leaving out the limits not set."""
        named = {"max_calls": self.calls, "max_tokens": self.tokens, "max_usd": self.usd,
                 "max_seconds": self.seconds, "patience": self.patience, "target_score": self.target_score}
        return {**{k: v for k, v in named.items() if v is not None}, "count_test": self.count_test}


def starting_point(prompt: str | Prompt) -> tuple[str, str]:
    """(instruction, style) of a starting prompt: a plain instruction goes before the input in the user turn; a
    prompt file whose user turn is only `{input}` keeps its system message as the instruction."""
    if isinstance(prompt, str):
        if not prompt.strip():
            raise ConfigError("the starting prompt is empty: give the instruction the target should follow")
        return prompt, "instruction"
    if prompt.turns:
        raise ConfigError("the starting prompt has demonstration turns: start from its instruction alone (ABO writes "
                          "and checks its own demonstration)")
    head, _, tail = prompt.user.partition(INPUT_SLOT)
    head, tail = head.replace("{{", "{").replace("}}", "}"), tail.replace("{{", "{").replace("}}", "}")
    if tail.strip():
        raise ConfigError(f"the starting prompt has text after {{input}} ({tail.strip()[:40]!r}): the methods rewrite "
                          "the instruction before the input; move that text before {input}")
    if prompt.system is not None:
        if head.strip():
            raise ConfigError("the starting prompt has both a system message and text before {input}: put the "
                              "instruction in one of them")
        return prompt.system, "system"
    return head.strip(), "instruction"


def user_task(*, task: str | None, prompt: str | Prompt | None, train: Data | None, dev: Data | None,
              test: Data | None, metric: UserMetric | None, fields: Fields, name: str,
              data_dir: str | Path | None) -> tuple[Task | None, str, str | None]:
    """(the task to run, its name for config.json, the data's fingerprint). A named task keeps its own data (and its
    own instruction unless a prompt is given); otherwise the examples are the user's."""
    if task is not None:
        if train is not None or dev is not None or test is not None or metric is not None:
            raise ConfigError(f"task '{task}' brings its own data and metric: pass either a task or train/dev/test "
                              "examples (with a metric)")
        if prompt is None:
            return None, task, None
        loaded = load_task(task, data_dir=data_dir)
        instruction, style = starting_point(prompt)
        return replace(loaded, instruction=instruction, initial_style=style), task, None
    if train is None:
        raise ConfigError("no examples: pass train= (a list of dicts, a DataFrame, a Dataset or a JSONL/CSV path) or "
                          "a built-in task=")
    if prompt is None:
        raise ConfigError("no starting prompt: pass prompt= (an instruction, or a behavopt.Prompt)")
    instruction, style = starting_point(prompt)
    made = task_from_data(instruction, train, dev, test, metric=metric, fields=fields, name=name)
    made.initial_style = style
    return made, name, digest(made.examples)


def parse_prices(prices: Mapping[str, str | tuple[float, float] | Price] | None) -> dict[str, Price]:
    out: dict[str, Price] = {}
    for model, price in (prices or {}).items():
        if isinstance(price, Price):
            out[model] = price
        elif isinstance(price, str):
            out[model] = Price.parse(price)
        else:
            out[model] = Price.parse(f"{price[0]}/{price[1]}")
    return out


def optimize(prompt: str | Prompt | None = None, train: Data | None = None, dev: Data | None = None,
             test: Data | None = None, *, metric: UserMetric | None = None, target: str, optimizer: str,
             method: str = "apo", budget: Budget | None = None,
             prices: Mapping[str, str | tuple[float, float] | Price] | None = None,
             input_field: str | None = None, answer_field: str | None = None, id_field: str | None = None,
             task: str | None = None, name: str = "custom", out: str | Path | None = None, resume: bool = False,
             preset: str = "default", cache: bool | str | Path | ResponseCache = True, threads: int | None = None,
             slots: int | None = None, retries: int | None = None, base_url: str | None = None,
             api_key: str | None = None, data_dir: str | Path | None = None,
             verbose: bool = True, on_update: Callable[[dict[str, Any]], None] | None = None,
             **settings: Any) -> OptimizationResult:
    """Optimize `prompt` for the `target` model on your examples, scored by your metric; returns the run's result,
    whose `best_prompt` (a behavopt.Prompt) gives ready-to-send messages and saves to a file that travels.

    prompt     the instruction to start from, or a behavopt.Prompt (system message or user template with {input})
    train      examples: a list of dicts or behavopt.Example, a pandas DataFrame, a Hugging Face Dataset, or the
               path of a JSONL/JSON/CSV/TSV file. dev and test likewise; when absent they are drawn from train with
               the seed (the sizes are printed)
    metric     (example, output) -> bool | float in [0, 1] | behavopt.Score(value, feedback). It gets the target's
               whole output and the example (its fields in `example.fields`); feedback is shown to the reflection
               methods' optimizer. Without one, answers are extracted and matched exactly (numbers as numbers).
               A metric that raises grades that example 0 and records the error; the run goes on
    target, optimizer  model specs: "local:qwen2.5-coder-0.5b", "openai:MODEL?base_url=http://host/v1", ...
    method     abo, apo, apo-sum, ape, opro or promptagent
    budget     behavopt.Budget(calls=, tokens=, usd=, seconds=, count_test=, patience=, target_score=)
    prices     USD per million tokens by model spec: {"openai:gpt-x": "0.15/0.6"}; local models cost 0
    input_field, answer_field, id_field  the row fields to read (defaults: input/question/text/prompt/query,
               answer/target/label/output, and row numbers as ids)
    task       a built-in task by name instead of examples ("demo:object-counting", "bbh:navigate", a .yaml file)
    slots      serve local models with llama.cpp's llama-server, decoding this many requests together (faster on
               several cores; answers may vary between identical runs, the cache keeps reruns exact)
    retries    retries of a failed LM call (rate limit, server error, timeout, dropped connection) before the run
               stops (default 5, with backoff); the run resumes where it stopped
    out        the run directory (config, events, checkpoints, result.json, best_prompt.json); resume=True continues
               it. `settings` override the preset's by flat name: steps, beam, expand, train_size, seed, ...
    """
    spec = run_spec(prompt=prompt, train=train, dev=dev, test=test, metric=metric, task=task, name=name,
                    fields=Fields(input=input_field, answer=answer_field, id=id_field), method=method, target=target,
                    optimizer=optimizer, preset=preset, settings={**(budget.settings() if budget else {}), **settings},
                    prices=parse_prices(prices), base_url=base_url, data_dir=data_dir)
    spec = replace(spec, out=Path(out) if out else None, resume=resume, cache=response_cache(cache), threads=threads,
                   slots=slots, retries=retries, api_key=api_key, on_update=on_update,
                   on_notice=(lambda m: print(m, file=sys.stderr)) if verbose else None)
    return asyncio.run(run_optimization(spec))


def run_spec(*, prompt: str | Prompt | None, train: Data | None, dev: Data | None, test: Data | None,
             metric: UserMetric | None, task: str | None, name: str, fields: Fields, method: str, target: str,
             optimizer: str, preset: str, settings: dict[str, Any], prices: dict[str, Price],
             base_url: str | None, data_dir: str | Path | None) -> RunSpec:
    """The run `optimize` and `behavopt optimize` make: its task (the user's or a named one) and its config."""
    made, task_name, data = user_task(task=task, prompt=prompt, train=train, dev=dev, test=test, metric=metric,
                                      fields=fields, name=name, data_dir=data_dir)
    config = RunConfig(task=task_name, method=method, target=target, optimizer=optimizer,
                       settings=settings_preset(preset).with_overrides(**settings), base_url=base_url, prices=prices,
                       data=data, metric=metric_name(metric) if metric else None)
    return RunSpec(config=config, data_dir=Path(data_dir) if data_dir else None, task=made)
