"""The search engine's shared machinery: scoring, expansion with lineage, checkpoints, stop conditions.

Strategies (beam search, MCTS) decide which candidates to expand and keep; methods decide how to propose. The
engine does not know what a method does inside, and a method never sees dev records or any test data.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from behavopt.eval.evaluator import EvalRecord, EvalSettings, Evaluator
from behavopt.lm.client import LM
from behavopt.lm.errors import LMError
from behavopt.lm.types import UsageByRole
from behavopt.optimizers.candidate import Candidate, Proposal
from behavopt.optimizers.context import ProposalContext
from behavopt.optimizers.engine.scoring import CandidateScorer
from behavopt.optimizers.engine.state import SearchState
from behavopt.optimizers.engine.stop import Progress, StopCondition
from behavopt.optimizers.methods.base import Method
from behavopt.optimizers.settings import SearchSettings
from behavopt.runs.rundir import RunDir
from behavopt.tasks.types import Splits, Task


class SearchStrategy(Protocol):
    name: str

    async def run(self, engine: "SearchEngine") -> None: ...

    def step_calls(self, engine: "SearchEngine") -> int:
        """Estimated LM calls of one step (for budgets and the estimate shown before a run)."""
        ...


def usage_total(usage: dict[str, Any]) -> tuple[int, int]:
    calls = sum(usage.get(r, {}).get("calls", 0) for r in ("target", "optimizer"))
    tokens = sum(usage.get(r, {}).get(k, 0) for r in ("target", "optimizer")
                 for k in ("prompt_tokens", "completion_tokens"))
    return calls, tokens


def add_usage(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for role in ("target", "optimizer"):
        ra, rb = a.get(role, {}), b.get(role, {})
        out[role] = {k: round(ra.get(k, 0) + rb.get(k, 0), 3) for k in set(ra) | set(rb)}
    return out


def train_batch(train: list, settings: SearchSettings, step: int) -> list:
    """A step's train batch: the same for every parent, so their errors come from the same examples."""
    rng = random.Random(f"{settings.seed}:train-batch:{step}")
    return rng.sample(train, min(settings.train_batch, len(train)))


@dataclass
class SearchEngine:
    task: Task
    splits: Splits
    settings: SearchSettings
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

    def __post_init__(self) -> None:
        self.evaluator = Evaluator(self.task, self.target,
                                   EvalSettings(max_tokens=self.settings.target_max_tokens, seed=self.settings.seed))
        self._split_of = {e.id: name for name in ("train", "dev", "test") for e in self.splits.get(name)}
        self.scorer = CandidateScorer(self.evaluator, on_scored=self._save_records)

    # ---- persistence -------------------------------------------------------------------------------------------
    def _save_records(self, candidate_id: str, records: list[EvalRecord]) -> None:
        self.rundir.save_records(candidate_id, [{"split": self._split_of.get(r.id, "?"), **r.to_dict()}
                                                for r in records])

    def restore(self, checkpoint: dict[str, Any]) -> None:
        self.state = SearchState.from_dict(checkpoint)
        for cid in self.state.candidates:
            rows = self.rundir.load_records(cid)
            self.scorer.restore(cid, [EvalRecord(**{k: v for k, v in r.items() if k != "split"}) for r in rows])

    def total_usage(self) -> dict[str, Any]:
        return add_usage(self.state.usage_before, self.usage.to_dict())

    def wall_s(self) -> float:
        return self.state.wall_before + (time.monotonic() - self.started)

    def checkpoint(self) -> None:
        data = self.state.to_dict()
        data["usage_before"] = self.total_usage()
        data["wall_before"] = round(self.wall_s(), 3)
        self.rundir.save_checkpoint(data)

    def event(self, kind: str, **fields: Any) -> None:
        self.rundir.event(kind, **fields)

    # ---- stop conditions ---------------------------------------------------------------------------------------
    def should_stop(self, strategy: SearchStrategy) -> str | None:
        calls, tokens = usage_total(self.total_usage())
        return self.stop(Progress(self.state.step, calls, tokens, strategy.step_calls(self)))

    def report(self, **extra: Any) -> None:
        calls, tokens = usage_total(self.total_usage())
        best = max(self.state.fully_scored().values(), default=None)
        self.on_update({**self.plan, "step": self.state.step, "best_dev": best, "calls": calls, "tokens": tokens,
                        "elapsed_s": self.wall_s(), **extra})

    # ---- scoring -----------------------------------------------------------------------------------------------
    async def score_dev(self, candidates: list[Candidate], examples: list | None = None) -> None:
        """Dev scores for these candidates (all of them at once, under the target's concurrency limit)."""
        examples = self.splits.dev if examples is None else examples
        await self.scorer.score(candidates, examples)
        for c in candidates:
            self.state.dev_scores[c.id] = self.scorer.accuracy(c.id, examples)
            self.event("scored", step=self.state.step + 1, candidate=c.id, split="dev", n=len(examples),
                       score=self.state.dev_scores[c.id])

    def train_batch(self, step: int) -> list:
        return train_batch(self.splits.train, self.settings, step)

    # ---- proposals ---------------------------------------------------------------------------------------------
    def context(self, step: int, key: str) -> ProposalContext:
        """A context per (step, parent): its own seeded RNG, so results do not depend on the order calls finish."""
        batch = self.train_batch(step)

        async def train_records(candidate: Candidate) -> list[EvalRecord]:
            await self.scorer.score([candidate], batch)
            return self.scorer.records(candidate.id, batch)

        scores = self.state.fully_scored()
        history = [(c, scores[c.id]) for c in self.state.candidates.values() if c.id in scores]
        return ProposalContext(task=self.task, optimizer=self.optimizer, settings=self.settings,
                               train=self.splits.train, step=step,
                               rng=random.Random(f"{self.settings.seed}:{self.method.name}:{step}:{key}"),
                               _train_records=train_records, _event=self.event, history=history,
                               memo=self.state.strategy.setdefault("method", {}))

    def _admit(self, proposals: list[Proposal], step: int) -> list[Candidate]:
        admitted = []
        for p in proposals:
            cand = self.state.add(p, step)
            if cand is None:
                self.event("duplicate", step=step, parent=p.parent, prompt=p.prompt)
                continue
            self.event("candidate", candidate=cand.to_dict(), step=step)
            admitted.append(cand)
        return admitted

    async def initial_candidates(self) -> list[Candidate]:
        seed = self._admit([Proposal(self.task.instruction, None, "task")], 0)
        ctx = self.context(0, "initial")
        try:
            proposals = await self.method.initial(ctx, seed[0], self.settings.initial - 1)
        except LMError as err:
            self.event("proposal_failed", step=0, parent=seed[0].id, error=f"{type(err).__name__}: {err}")
            proposals = []
        return seed + self._admit(proposals, 0)

    async def initial_candidates_root(self) -> Candidate:
        """Only the task instruction, for strategies that grow from one root."""
        return self._admit([Proposal(self.task.instruction, None, "task")], 0)[0]

    async def expand(self, parents: list[Candidate], n: int, step: int) -> list[Candidate]:
        """Children of each parent; a failure on one parent is recorded and the others go on."""

        async def one(parent: Candidate) -> list[Proposal]:
            try:
                return await self.method.propose(self.context(step, parent.id), [parent], n)
            except LMError as err:
                self.event("proposal_failed", step=step, parent=parent.id, error=f"{type(err).__name__}: {err}")
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

    def end_step(self, step: int, created: list[Candidate]) -> None:
        """A finished step: logged, checkpointed (resume starts after it) and reported."""
        self.state.step = step
        self.log_step(step, created)
        self.checkpoint()
        self.report()

    def log_step(self, step: int, created: list[Candidate]) -> None:
        self.state.step_log.append({"step": step, "created": [c.id for c in created], "beam": list(self.state.beam)})
        self.event("step", step=step, created=[c.id for c in created], beam=self.state.beam,
                   best_dev=max(self.state.fully_scored().values(), default=None))
