"""Scores a candidate on examples with the target LM. The only place that calls the target.

A failure on one example becomes a record with an error, never an exception up the stack. An LM failure is never a
score: an example whose input does not fit the model's context is that example's own error (scored 0), but one the
model or its server failed to answer is *missing*, left out of every score, and counted; a summary with missing
examples says it is incomplete. When every example is missing, or missing ones pass a set share of those finished,
the evaluation stops and names the most common cause, since the rest would fail the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Callable

from behavopt.core.errors import BehavoptError
from behavopt.eval.prompts import PromptCandidate
from behavopt.eval.stats import answer_chance, mean_score, score_interval
from behavopt.lm.client import LM
from behavopt.lm.errors import LMContextOverflow, LMError
from behavopt.lm.types import ChatRequest
from behavopt.tasks.types import Example, Task

NO_ANSWER = "no answer found in the output"


@dataclass
class EvalRecord:
    id: str
    input: str
    output: str | None
    answer: str | None
    target: str
    correct: bool
    error: str | None
    latency_s: float
    cached: bool
    # The metric's score in [0, 1] (None when read from a file written before scores: 1 if correct, else 0) and its
    # feedback, which the reflection methods show the optimizer.
    score: float | None = None
    feedback: str | None = None
    # The call's tokens as the model counted them (a cached call keeps the counts of the call that made it).
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # The model or its server gave no answer (not this example's fault): the record is left out of every score.
    missing: bool = False

    def __post_init__(self) -> None:
        if self.score is None:
            self.score = float(self.correct)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class EvalSummary:
    task: str
    model: str
    split: str
    accuracy: float
    n: int
    correct: int
    ci95: tuple[float, float]
    answer_chance: float  # accuracy of the same answers shuffled across the examples (see stats.answer_chance)
    errors: int
    lm_errors: int
    usage: dict
    wall_s: float
    # Examples the model or server did not answer: not in n, correct or accuracy (0: the score is complete).
    missing: int = 0

    @property
    def complete(self) -> bool:
        return self.missing == 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["complete"] = self.complete
        d["ci95"] = [round(x, 4) for x in self.ci95]
        d["accuracy"] = round(self.accuracy, 4)
        d["answer_chance"] = round(self.answer_chance, 4)
        return d


@dataclass
class EvalResult:
    records: list[EvalRecord]
    summary: EvalSummary

    def complete(self) -> "EvalResult":
        """This result, if every example was answered; else stop naming the cause (for figures that must be whole)."""
        if self.summary.complete:
            return self
        cause, count = missing_cause(self.records)
        raise EvalAborted(f"stopped: {self.summary.missing} of {len(self.records)} examples got no answer from "
                          f"{self.summary.model} ({count} of them: {cause}). Fix the model or server, then run again "
                          "(answered examples come from the cache)")


class EvalAborted(BehavoptError):
    """Too many examples failed in the LM layer for the result to mean anything."""


def missing_cause(records: list[EvalRecord]) -> tuple[str, int]:
    """The most common error of the missing records, and how many had it."""
    cause, count = Counter((r.error or "")[:300] for r in records if r.missing).most_common(1)[0]
    return cause, count


@dataclass
class EvalSettings:
    max_tokens: int = 512
    temperature: float = 0.0
    seed: int = 0
    # Stop when more than this share of finished examples failed in the LM, after at least `min_finished`.
    max_failure_share: float = 0.5
    min_finished: int = 5


@dataclass
class Evaluator:
    task: Task
    lm: LM
    settings: EvalSettings = field(default_factory=EvalSettings)

    def _request(self, candidate: PromptCandidate, example: Example) -> ChatRequest:
        s = self.settings
        return ChatRequest(messages=tuple(candidate.render(example)), temperature=s.temperature,
                           max_tokens=s.max_tokens, seed=s.seed)

    async def score_one(self, candidate: PromptCandidate, example: Example) -> EvalRecord:
        start = time.perf_counter()
        try:
            completion = await self.lm.complete(self._request(candidate, example))
        except LMError as err:
            return EvalRecord(example.id, example.input, None, None, example.target, False,
                              f"{type(err).__name__}: {err}", time.perf_counter() - start, False,
                              missing=not isinstance(err, LMContextOverflow))
        grade = self.task.grade(completion.text, example)
        error = grade.error
        if error is None and grade.answer is None:
            error = NO_ANSWER
        elif error is None and completion.finish_reason == "length" and not grade.correct:
            error = "output cut at max_tokens"
        return EvalRecord(example.id, example.input, completion.text, grade.answer, example.target, grade.correct,
                          error, completion.latency_s, completion.cached, score=grade.score, feedback=grade.feedback,
                          prompt_tokens=completion.prompt_tokens, completion_tokens=completion.completion_tokens)

    async def evaluate(self, candidate: PromptCandidate, examples: list[Example], *, split: str = "",
                       on_record: Callable[[EvalRecord], None] | None = None) -> EvalResult:
        start = time.perf_counter()
        usage_before = self.lm.usage.to_dict()
        records: dict[str, EvalRecord] = {}
        lm_failures: Counter[str] = Counter()
        s = self.settings

        async def run(example: Example) -> None:
            record = await self.score_one(candidate, example)
            records[example.id] = record
            if record.missing:
                lm_failures[(record.error or "")[:300]] += 1
            if on_record:
                on_record(record)
            done = len(records)
            if done >= s.min_finished and sum(lm_failures.values()) > s.max_failure_share * done:
                cause, count = lm_failures.most_common(1)[0]
                raise EvalAborted(f"stopped: {count} of {done} examples failed in the LM layer; most common cause: "
                                  f"{cause}. Fix the model or server, then run again")

        tasks = [asyncio.create_task(run(e)) for e in examples]
        try:
            await asyncio.gather(*tasks)
        except EvalAborted:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        ordered = [records[e.id] for e in examples]
        if ordered and all(r.missing for r in ordered):
            cause, _ = missing_cause(ordered)
            raise EvalAborted(f"stopped: all {len(ordered)} examples failed in the LM layer; most common cause: "
                              f"{cause}. Fix the model or server, then run again")
        return EvalResult(ordered, self._summary(ordered, examples, split, usage_before,
                                                time.perf_counter() - start))

    def _summary(self, all_records: list[EvalRecord], all_examples: list[Example], split: str, usage_before: dict,
                 wall_s: float) -> EvalSummary:
        after = self.lm.usage.to_dict()
        usage = {k: round(after[k] - usage_before[k], 3) if isinstance(after[k], float) else after[k] - usage_before[k]
                 for k in after}
        return summarize(self.task, self.lm.name, all_records, all_examples, split, usage, wall_s)


def summarize(task: Task, model: str, all_records: list[EvalRecord], all_examples: list[Example], split: str,
              usage: dict, wall_s: float) -> EvalSummary:
    """The summary of records scored in one go or in parts (`usage`: what their LM calls used, summed)."""
    scored = [(r, e) for r, e in zip(all_records, all_examples) if not r.missing]
    records, examples = [r for r, _ in scored], [e for _, e in scored]
    scores = [r.score or 0.0 for r in records]
    return EvalSummary(task=task.name, model=model, split=split, accuracy=mean_score(scores),
                       n=len(records), correct=sum(r.correct for r in records), ci95=score_interval(scores),
                       answer_chance=answer_chance([r.answer for r in records], examples, task.metric),
                       errors=sum(r.error is not None for r in all_records),
                       lm_errors=sum(r.output is None for r in all_records), usage=usage, wall_s=round(wall_s, 3),
                       missing=len(all_records) - len(records))
