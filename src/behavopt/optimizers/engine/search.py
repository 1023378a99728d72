"""The search engine's shared machinery: scoring, expansion with lineage, checkpoints, stop conditions.

Strategies (beam search, MCTS) decide which candidates to expand and keep; methods decide how to propose. The
engine does not know what a method does inside, and a method never sees dev records or any test data.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from behavopt.eval.evaluator import EvalRecord, EvalSettings, Evaluator
from behavopt.eval.prompts import PromptCandidate
from behavopt.lm.client import LM
from behavopt.lm.errors import LMError
from behavopt.lm.types import UsageByRole
from behavopt.optimizers.candidate import Candidate, Proposal
from behavopt.optimizers.context import ProposalContext
from behavopt.optimizers.engine.cost import FREE, Cost, CostModel, RoleCalls
from behavopt.optimizers.engine.scoring import CandidateScorer
from behavopt.optimizers.engine.state import SearchState, StepRecord
from behavopt.optimizers.engine.stop import Progress, StopCondition
from behavopt.optimizers.events import CandidateMade, Duplicate, Event, ProposalFailed, Scored, StepEnded, TrainBatch
from behavopt.optimizers.methods.base import Method
from behavopt.optimizers.rundir import RunDir
from behavopt.optimizers.settings import RunSettings
from behavopt.tasks.types import Example, Splits, Task


class SearchStrategy(Protocol):
    """The strategy plug point: which candidates to expand and which to keep."""

    name: str

    async def run(self, engine: "SearchEngine") -> None: ...

    def total_steps(self, settings: RunSettings) -> int:
        """The steps a full run takes (the search's `steps` setting, for every strategy)."""
        ...

    def initial_calls(self, engine: "SearchEngine") -> RoleCalls:
        """Estimated LM calls of step 0 (for the estimate shown before a run)."""
        ...

    def step_calls(self, engine: "SearchEngine") -> RoleCalls:
        """Estimated LM calls of one step (for budgets and the estimate shown before a run)."""
        ...


def train_batch(train: list[Example], settings: RunSettings, step: int) -> list[Example]:
    """A step's train batch: the same for every parent, so their errors come from the same examples."""
    rng = random.Random(f"{settings.data.seed}:train-batch:{step}")
    return rng.sample(train, min(settings.search.train_batch, len(train)))


@dataclass
class SearchEngine:
    task: Task
    splits: Splits
    settings: RunSettings
    method: Method
    target: LM
    optimizer: LM
    usage: UsageByRole
    rundir: RunDir
    stop: StopCondition
    on_update: Callable[[dict[str, Any]], None] = lambda info: None
    state: SearchState = field(default_factory=SearchState)
    started: float = field(default_factory=time.monotonic)
    # Totals for displays: steps_total, estimated_calls, max_calls, max_tokens.
    plan: dict[str, Any] = field(default_factory=dict)
    # What calls cost (tokens, USD, seconds), for the budgets checked ahead of each step.
    costs: CostModel = field(default_factory=lambda: CostModel(FREE, FREE, {}))

    def __post_init__(self) -> None:
        self.evaluator = Evaluator(self.task, self.target,
                                   EvalSettings(max_tokens=self.settings.models.target_max_tokens,
                                                seed=self.settings.data.seed))
        self._split_of = {e.id: name for name in ("train", "dev", "test") for e in self.splits.get(name)}
        self.scorer = CandidateScorer(self.evaluator, on_scored=self._save_records)
        self._batches_logged: set[int] = set()
        self._used_at_step_end: Cost | None = None
        self._dearest_step = Cost()

    # ---- persistence -------------------------------------------------------------------------------------------
    def _save_records(self, candidate_id: str, records: list[EvalRecord]) -> None:
        self.rundir.save_records(candidate_id, [(self._split_of.get(r.id, "?"), r) for r in records])

    def restore(self, state: SearchState) -> None:
        self.state = state
        for cid in self.state.candidates:
            self.scorer.restore(cid, [record for _, record in self.rundir.load_records(cid)])

    def total_usage(self) -> UsageByRole:
        return self.state.usage_before.plus(self.usage)

    def wall_s(self) -> float:
        return self.state.wall_before + (time.monotonic() - self.started)

    def checkpoint(self) -> None:
        snapshot = SearchState(**{**vars(self.state), "usage_before": self.total_usage(),
                                  "wall_before": round(self.wall_s(), 3)})
        self.rundir.save_checkpoint(snapshot)

    def emit(self, event: Event) -> None:
        self.rundir.write_event(event)

    # ---- stop conditions ---------------------------------------------------------------------------------------
    def final_test_calls(self) -> RoleCalls:
        """The final evaluation: the initial and the best candidate on every test example."""
        return RoleCalls(target=2 * len(self.splits.test))

    def should_stop(self, strategy: SearchStrategy) -> str | None:
        usage = self.total_usage()
        reserve = self.costs.ceiling(self.final_test_calls(), usage) if self.settings.budget.count_test else Cost()
        # Until a search step has been seen, the next is costed as if every call wrote up to its limit (step 0's
        # calls are the cheapest of a run); after, at the rates so far and no less than the dearest step seen.
        calls = strategy.step_calls(self)
        if self._dearest_step == Cost():
            next_step = self.costs.ceiling(calls, usage)
        else:
            next_step = self.costs.cost(calls, usage).at_least(self._dearest_step)
        return self.stop(Progress(self.state.step, self.costs.used(usage, self.wall_s()), next_step, reserve,
                                  self.state.best_dev_curve()))

    def report(self, **extra: Any) -> None:
        usage = self.total_usage()
        best = max(self.state.fully_scored().values(), default=None)
        self.on_update({**self.plan, "step": self.state.step, "best_dev": best, "calls": usage.calls,
                        "tokens": usage.tokens, "elapsed_s": self.wall_s(), **extra})

    # ---- scoring -----------------------------------------------------------------------------------------------
    async def score_dev(self, candidates: list[Candidate], examples: list[Example] | None = None) -> None:
        """Dev scores for these candidates (all of them at once, under the target's concurrency limit)."""
        examples = self.splits.dev if examples is None else examples
        await self.scorer.score(candidates, examples)
        for c in candidates:
            self.state.dev_scores[c.id] = self.scorer.accuracy(c.id, examples)
            self.emit(Scored(step=self.state.step + 1, candidate=c.id, split="dev", n=len(examples),
                             score=self.state.dev_scores[c.id]))

    def train_batch(self, step: int) -> list[Example]:
        return train_batch(self.splits.train, self.settings, step)

    # ---- proposals ---------------------------------------------------------------------------------------------
    def context(self, step: int, key: str) -> ProposalContext:
        """A context per (step, parent): its own seeded RNG, so results do not depend on the order calls finish."""
        batch = self.train_batch(step)

        async def train_records(candidate: Candidate) -> list[EvalRecord]:
            if step not in self._batches_logged:
                self._batches_logged.add(step)
                self.emit(TrainBatch(step=step, example_ids=tuple(e.id for e in batch)))
            await self.scorer.score([candidate], batch)
            return self.scorer.records(candidate.id, batch)

        async def attempts(prompt: PromptCandidate, examples: list[Example]) -> list[EvalRecord]:
            return (await self.evaluator.evaluate(prompt, examples, split="train")).records

        scores = self.state.fully_scored()
        history = [(c, scores[c.id]) for c in self.state.candidates.values() if c.id in scores]
        return ProposalContext(task=self.task, optimizer=self.optimizer, settings=self.settings,
                               train=self.splits.train, step=step,
                               rng=random.Random(f"{self.settings.data.seed}:{self.method.name}:{step}:{key}"),
                               _train_records=train_records, _emit=self.emit, history=history,
                               notes=self.state.method_notes, _attempts=attempts)

    def _admit(self, proposals: list[Proposal], step: int) -> list[Candidate]:
        admitted = []
        for p in proposals:
            cand = self.state.add(p, step)
            if cand is None:
                self.emit(Duplicate(step=step, parent=p.parent, prompt=p.prompt))
                continue
            self.emit(CandidateMade(step=step, candidate=cand))
            admitted.append(cand)
        return admitted

    def initial_proposal(self) -> Proposal:
        """The task's own instruction, as it reaches the target: every run's first candidate."""
        return Proposal(self.task.instruction, None, "task", style=self.task.initial_style)

    def _task_instruction(self) -> Candidate:
        return self._admit([self.initial_proposal()], 0)[0]

    async def initial_candidates(self) -> list[Candidate]:
        """The task instruction and the method's initial candidates besides it."""
        seed = self._task_instruction()
        ctx = self.context(0, "initial")
        try:
            proposals = await self.method.initial(ctx, seed, self.settings.search.initial - 1)
        except LMError as err:
            self.emit(ProposalFailed(step=0, parent=seed.id, error=f"{type(err).__name__}: {err}"))
            proposals = []
        return [seed, *self._admit(proposals, 0)]

    async def initial_root(self) -> Candidate:
        """Only the task instruction, for strategies that grow from one root."""
        return self._task_instruction()

    async def expand(self, parents: list[Candidate], n: int, step: int) -> list[Candidate]:
        """Children of each parent; a failure on one parent is recorded and the others go on."""

        async def one(parent: Candidate) -> list[Proposal]:
            try:
                return await self.method.propose(self.context(step, parent.id), [parent], n)
            except LMError as err:
                self.emit(ProposalFailed(step=step, parent=parent.id, error=f"{type(err).__name__}: {err}"))
                return []

        per_parent = await asyncio.gather(*(one(p) for p in parents))
        # Admit in parent order so ids do not depend on which call finished first.
        return self._admit([p for props in per_parent for p in props], step)

    def stop_now(self, strategy: SearchStrategy) -> bool:
        """Check the stop conditions between steps; a stop is recorded and checkpointed."""
        reason = self.should_stop(strategy)
        if reason:
            self.state.stop_reason = reason
            self.checkpoint()
        return reason is not None

    def _note_step_cost(self) -> None:
        """What the step just ended cost (step 0, the initial scoring, is not a search step and is left out)."""
        used = self.costs.used(self.total_usage(), self.wall_s())
        if self._used_at_step_end is not None:
            self._dearest_step = self._dearest_step.at_least(used - self._used_at_step_end)
        self._used_at_step_end = used

    def end_step(self, step: int, created: list[Candidate]) -> None:
        """A finished step: logged, checkpointed (resume starts after it) and reported."""
        self.state.step = step
        self._note_step_cost()
        self.state.step_log.append(StepRecord(step, [c.id for c in created], list(self.state.beam)))
        self.emit(StepEnded(step=step, created=tuple(c.id for c in created), beam=tuple(self.state.beam),
                            best_dev=max(self.state.fully_scored().values(), default=None)))
        self.checkpoint()
        self.report()
