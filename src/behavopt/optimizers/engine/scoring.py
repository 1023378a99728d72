"""Scores candidates with the target: each (candidate, example) pair is scored once, and all pairs of a round run
concurrently under the target's one concurrency limit.

A pair the model or its server failed to answer is never a score: it is not kept, and the round stops the run with
the cause once the others are in, so that a resume scores just those pairs again (the rest come from the cache)."""

from __future__ import annotations

import asyncio
from typing import Callable, Iterable

from behavopt.eval.evaluator import EvalAborted, EvalRecord, Evaluator, missing_cause
from behavopt.eval.stats import mean_score
from behavopt.optimizers.candidate import Candidate
from behavopt.tasks.types import Example


class CandidateScorer:
    def __init__(self, evaluator: Evaluator, on_scored: Callable[[str, list[EvalRecord]], None] | None = None):
        self.evaluator = evaluator
        self.on_scored = on_scored
        self._memo: dict[str, dict[str, EvalRecord]] = {}

    def restore(self, candidate_id: str, records: Iterable[EvalRecord]) -> None:
        self._memo.setdefault(candidate_id, {}).update({r.id: r for r in records})

    def records(self, candidate_id: str, examples: list[Example]) -> list[EvalRecord]:
        memo = self._memo.get(candidate_id, {})
        return [memo[e.id] for e in examples if e.id in memo]

    def all_records(self, candidate_id: str) -> list[EvalRecord]:
        return list(self._memo.get(candidate_id, {}).values())

    def accuracy(self, candidate_id: str, examples: list[Example]) -> float:
        recs = self.records(candidate_id, examples)
        return mean_score([r.score for r in recs])

    async def score(self, candidates: list[Candidate], examples: list[Example]) -> None:
        """Score every candidate on every example it has not been scored on yet."""
        # Keyed by ids: the same candidate twice (the final test of an initial prompt that stayed best) is one job.
        todo = list({(c.id, e.id): (c, e) for c in candidates for e in examples
                     if e.id not in self._memo.get(c.id, {})}.values())
        if not todo:
            return

        missing: list[EvalRecord] = []

        async def one(c: Candidate, e: Example) -> None:
            record = await self.evaluator.score_one(c, e)
            if record.missing:
                missing.append(record)
            else:
                self._memo.setdefault(c.id, {})[e.id] = record

        await asyncio.gather(*(one(c, e) for c, e in todo))
        if self.on_scored:
            for c in {c.id: c for c, _ in todo}.values():
                self.on_scored(c.id, self.all_records(c.id))
        if missing:
            cause, count = missing_cause(missing)
            raise EvalAborted(f"stopped: {len(missing)} of {len(todo)} target calls got no answer from "
                              f"{self.evaluator.lm.name} ({count} of them: {cause}); nothing was scored from them. "
                              "Fix the model or server, then run again with --resume (answered calls come from the "
                              "cache)")

    async def score_until(self, candidate: Candidate, examples: list[Example], wave: int,
                          hopeless: Callable[[list[EvalRecord]], bool]) -> bool:
        """Score a candidate on the examples in order, `wave` at a time (the target's concurrency), and stop as soon
        as `hopeless(its records so far)`. True when it was scored on them all."""
        for start in range(0, len(examples), wave):
            await self.score([candidate], examples[start:start + wave])
            if start + wave < len(examples) and hopeless(self.records(candidate.id, examples)):
                return False
        return True
