"""Runs the optimizations an experiment needs, once each, under one study directory, and scores candidates.

Every run lives in `<out>/runs/<name>-s<seed>`; an experiment that needs a run another experiment already made (or
an interrupted study) reuses or resumes it, so `study all` pays for each run once. Target calls made here use the
same request settings as the search engine, so a candidate already scored there is a cache hit.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from behavopt.eval.evaluator import EvalRecord, EvalSettings, Evaluator
from behavopt.eval.prompts import PromptCandidate
from behavopt.eval.stats import mean_score
from behavopt.lm.cache import ResponseCache
from behavopt.lm.client import ModelPool
from behavopt.lm.retry import RetryPolicy
from behavopt.optimizers.candidate import INITIAL_ID, Candidate
from behavopt.optimizers.run import optimize_task
from behavopt.optimizers.rundir import RunDir
from behavopt.optimizers.settings import RunSettings, preset
from behavopt.study.runview import RunView
from behavopt.tasks import load_task
from behavopt.tasks.types import Example, Splits, Task


@dataclass(frozen=True)
class StudySpec:
    task: str
    target: str
    optimizer: str
    out: Path
    seeds: int = 3
    preset: str = "quick"
    judge: str | None = None  # the adherence judge's model; None: the optimizer model
    data_dir: Path | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # overrides of the preset (e.g. steps for small runs)
    threads: int | None = None
    slots: int | None = None  # serve local models with llama-server, this many requests decoded together
    retries: int | None = None  # retries of a transient LM error (None: the default)
    base_url: str | None = None
    api_key: str | None = None

    def search_settings(self, seed: int) -> RunSettings:
        return preset(self.preset).with_overrides(**{**self.settings, "seed": seed})

    def describe(self) -> dict[str, Any]:
        return {"task": self.task, "target": self.target, "optimizer": self.optimizer,
                "judge": self.judge or self.optimizer, "seeds": list(range(self.seeds)), "preset": self.preset,
                "settings": dict(self.settings)}


@dataclass
class StudyRunner:
    spec: StudySpec
    cache: ResponseCache | None = None
    on_notice: Callable[[str], None] = lambda message: None
    # The user's own task (examples and metric), named spec.task; None: load spec.task by name.
    own_task: Task | None = None
    _task: Task | None = None

    @property
    def task(self) -> Task:
        if self._task is None:
            self._task = self.own_task or load_task(self.spec.task, data_dir=self.spec.data_dir)
        return self._task

    def splits(self, seed: int) -> Splits:
        d = self.spec.search_settings(seed).data
        return self.task.split(d.train_size, d.dev_size, d.test_size, seed=seed)

    def run_dir(self, name: str, seed: int) -> Path:
        return self.spec.out / "runs" / f"{name}-s{seed}"

    def run(self, name: str, method: str, seed: int, **settings: Any) -> RunView:
        """The run `name` for `seed`: made now, resumed if it was interrupted, or read back if finished."""
        out = self.run_dir(name, seed)
        rundir = RunDir(out)
        finished = rundir.result_path.is_file()
        self.on_notice(f"{'reusing' if finished else 'running'} {name} (seed {seed}) in {out}")
        optimize_task(self.spec.task, method, self.spec.target, self.spec.optimizer, out=out,
                      resume=rundir.config_path.is_file(), data_dir=self.spec.data_dir, preset=self.spec.preset,
                      cache=self.cache if self.cache is not None else False, threads=self.spec.threads,
                      slots=self.spec.slots, retries=self.spec.retries, base_url=self.spec.base_url,
                      api_key=self.spec.api_key,
                      own_task=self.own_task, **{**self.spec.settings, **settings, "seed": seed})
        return RunView.load(out)

    def real_errors_run(self, method: str, seed: int) -> RunView:
        """`method` shown the target's real errors: the run several experiments share (one name, one config)."""
        return self.run(f"{method}-real", method, seed, error_source="real")

    def pool(self) -> ModelPool:
        return ModelPool(cache=self.cache, threads=self.spec.threads, slots=self.spec.slots,
                         retry=RetryPolicy.allowing(self.spec.retries), base_url=self.spec.base_url,
                         api_key=self.spec.api_key)

    async def score(self, pool: ModelPool, seed: int, candidates: Sequence[PromptCandidate | Candidate],
                    examples: Sequence[Example]) -> list[list[EvalRecord]]:
        """The target's records for each candidate on `examples`, with the engine's request settings."""
        s = self.spec.search_settings(seed)
        evaluator = Evaluator(self.task, pool.lm(self.spec.target, "target"),
                              EvalSettings(max_tokens=s.models.target_max_tokens, seed=seed))
        results = await asyncio.gather(*(evaluator.evaluate(c, list(examples)) for c in candidates))  # type: ignore
        return [r.complete().records for r in results]

    def test_scores(self, view: RunView, candidates: Sequence[Candidate], seed: int) -> list[float]:
        """Test accuracy of candidates of a run: read from result.json where it has them, else evaluated."""
        known: dict[str, float] = {}
        if view.result:
            known[view.result.best_candidate] = view.result.best_test_score
            known[INITIAL_ID] = view.result.initial_test_score
        missing = [c for c in candidates if c.id not in known]
        if missing:
            test = self.splits(seed).test

            async def go() -> list[list[EvalRecord]]:
                async with self.pool() as pool:
                    return await self.score(pool, seed, missing, test)

            for cand, records in zip(missing, asyncio.run(go())):
                known[cand.id] = mean_score([r.score for r in records])
        return [known[c.id] for c in candidates]
