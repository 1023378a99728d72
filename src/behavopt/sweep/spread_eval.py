"""Evaluation of a large set spread over Ray workers: the examples cut into chunks, each scored by a Ray task with a
model client of its own, and the records merged back in the examples' order into one result, which the caller
writes to one run directory. A chunk lost with its worker is run again (the response cache keeps what it answered).

The task travels to the workers pickled (Ray's cloudpickle): a metric loaded from a file must be readable at the
same path there, as it is on one machine or on a shared filesystem."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from behavopt.core.errors import ConfigError
from behavopt.eval.evaluator import EvalRecord, EvalResult, EvalSettings, Evaluator, summarize
from behavopt.eval.prompts import PromptCandidate
from behavopt.lm.cache import ResponseCache
from behavopt.lm.client import ModelPool
from behavopt.lm.retry import RetryPolicy
from behavopt.sweep.executors import RAY_MAX_RETRIES
from behavopt.sweep.worker import WorkerOptions
from behavopt.tasks.types import Example, Task


@dataclass(frozen=True)
class Chunk:
    task: Task
    model: str
    prompt: PromptCandidate
    settings: EvalSettings
    split: str
    examples: list[Example]
    options: WorkerOptions


def score_chunk(chunk: Chunk) -> tuple[list[EvalRecord], dict[str, Any], str]:
    """One chunk's records, what its LM calls used, and the model's name, scored where this runs."""
    o = chunk.options

    async def go() -> tuple[list[EvalRecord], dict[str, Any], str]:
        async with ModelPool(cache=ResponseCache(Path(o.cache)) if o.cache else None, threads=o.threads,
                             slots=o.slots, retry=RetryPolicy.allowing(o.retries), base_url=o.base_url) as pool:
            lm = pool.lm(chunk.model, "target")
            result = await Evaluator(chunk.task, lm, chunk.settings).evaluate(chunk.prompt, chunk.examples,
                                                                              split=chunk.split)
            return result.records, lm.usage.to_dict(), lm.name

    return asyncio.run(go())


def chunked(examples: list[Example], chunks: int) -> list[list[Example]]:
    """`examples` in `chunks` contiguous parts of near-equal size (none empty)."""
    chunks = max(1, min(chunks, len(examples)))
    size, extra = divmod(len(examples), chunks)
    parts, start = [], 0
    for k in range(chunks):
        end = start + size + (k < extra)
        parts.append(examples[start:end])
        start = end
    return parts


def _summed(usages: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for usage in usages:
        for key, value in usage.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                total[key] = round(total.get(key, 0) + value, 3)
    return total


def evaluate_on_ray(address: str, task: Task, model: str, prompt: PromptCandidate, examples: list[Example],
                    settings: EvalSettings, split: str, options: WorkerOptions,
                    chunks: int | None = None) -> EvalResult:
    """Score `examples` in chunks on the Ray cluster at `address` (default: one chunk per CPU of the cluster)."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--ray needs Ray: pip install 'behavopt[ray]'") from None
    start = time.perf_counter()
    ray.init(address=address, logging_level="ERROR", log_to_driver=False)
    try:
        parts = chunked(examples, chunks or int(ray.cluster_resources().get("CPU", 1)))
        remote = ray.remote(max_retries=RAY_MAX_RETRIES, num_cpus=options.threads or 1)(score_chunk)
        try:
            scored = ray.get([remote.remote(Chunk(task, model, prompt, settings, split, part, options))
                              for part in parts])
        except ray.exceptions.RayTaskError as err:  # the chunk's own error (a dead endpoint, a bad model), as here
            raise err.cause if isinstance(err.cause, Exception) else err from None
    finally:
        ray.shutdown()
    records = [r for part_records, _, _ in scored for r in part_records]
    usage = _summed([u for _, u, _ in scored])
    return EvalResult(records, summarize(task, scored[0][2], records, examples, split, usage,
                                         time.perf_counter() - start))
