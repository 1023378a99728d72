"""What a method may use: the optimizer LM, train examples and their records, dev scores. Never test data, and
never dev records beyond scores."""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from behavopt.eval.evaluator import EvalRecord
from behavopt.eval.prompts import PromptCandidate
from behavopt.lm.client import LM
from behavopt.lm.types import ChatRequest, Message
from behavopt.optimizers.candidate import Candidate
from behavopt.optimizers.engine.pseudo_errors import make_pseudo_errors
from behavopt.optimizers.events import ErrorsShown, Event, NoErrors, OptimizerCall
from behavopt.optimizers.settings import RunSettings
from behavopt.tasks.types import Example, Task


@dataclass
class ProposalContext:
    task: Task
    optimizer: LM
    settings: RunSettings
    train: list[Example]
    step: int
    rng: random.Random
    # Scores a candidate on this step's train batch and returns its records.
    _train_records: Callable[[Candidate], Awaitable[list[EvalRecord]]]
    _emit: Callable[[Event], None]
    # (candidate, dev score) of every scored candidate so far, for methods that learn from the trajectory.
    history: list[tuple[Candidate, float]] = field(default_factory=list)
    # The method's own notes, kept in checkpoints (e.g. ABO's failing-step counts per candidate).
    notes: dict[str, Any] = field(default_factory=dict)
    # The target's records for a prompt that is no candidate (ABO's target-written demonstrations): saved nowhere and
    # part of no score; the calls count in the run's usage like any other.
    _attempts: Callable[[PromptCandidate, list[Example]], Awaitable[list[EvalRecord]]] | None = None

    async def ask(self, purpose: str, prompt: str, *, parent: str | None = None, sample: int = 0,
                  temperature: float | None = None, system: str | None = None, max_tokens: int | None = None,
                  json_schema: dict[str, Any] | None = None) -> str:
        """One optimizer call, logged as an event with its input and output. LM errors propagate. `json_schema`: the
        reply must match it (constrained decoding where the backend supports it)."""
        m = self.settings.models
        messages = ([Message("system", system)] if system else []) + [Message("user", prompt)]
        request = ChatRequest(messages=tuple(messages), max_tokens=max_tokens or m.optimizer_max_tokens,
                              temperature=m.optimizer_temperature if temperature is None else temperature,
                              seed=self.settings.data.seed * 10_007 + self.step, sample=sample,
                              json_schema=json.dumps(json_schema, sort_keys=True) if json_schema else None)
        completion = await self.optimizer.complete(request)
        self.emit(OptimizerCall(step=self.step, purpose=purpose, parent=parent, sample=sample, prompt=prompt,
                                system=system, output=completion.text, cached=completion.cached,
                                tokens=completion.prompt_tokens + completion.completion_tokens))
        return completion.text

    async def train_records(self, candidate: Candidate) -> list[EvalRecord]:
        return await self._train_records(candidate)

    async def target_attempts(self, prompt: PromptCandidate, examples: list[Example]) -> list[EvalRecord]:
        """The target's answers to `prompt` on these train examples, in their order, outside every score."""
        train_ids = {e.id for e in self.train}
        if self._attempts is None or any(e.id not in train_ids for e in examples):
            raise ValueError("target attempts are made by the engine, on train examples only")
        by_id = {r.id: r for r in await self._attempts(prompt, examples)}
        return [by_id[e.id] for e in examples]

    async def errors(self, candidate: Candidate, k: int | None = None) -> list[EvalRecord]:
        """Up to k wrongly answered train examples of this step's batch, sampled with the step's seed, logged as the
        errors shown (or as none to show).

        With the study's control `error_source="pseudo"`, correctly answered examples of the batch are shown
        instead, their answers replaced by plausible wrong ones, as many as there are real errors to show."""
        records = await self.train_records(candidate)
        # A failed target call says nothing about the prompt: only real wrong answers are errors.
        wrong = [r for r in records if not r.correct and r.output is not None]
        k = self.settings.search.errors if k is None else k
        chosen = self.rng.sample(wrong, k) if len(wrong) > k else wrong
        fakes: tuple[str, ...] | None = None
        if self.settings.controls.error_source == "pseudo":
            chosen, fakes = self._pseudo_errors(records, len(chosen), candidate)
        if chosen:
            self.emit(ErrorsShown(step=self.step, parent=candidate.id, example_ids=tuple(r.id for r in chosen),
                                  fake_answers=fakes))
        else:
            self.emit(NoErrors(step=self.step, parent=candidate.id))
        return chosen

    def _pseudo_errors(self, records: list[EvalRecord], n: int,
                       candidate: Candidate) -> tuple[list[EvalRecord], tuple[str, ...]]:
        try:
            eligible = make_pseudo_errors(records, self.task,
                                          seed=f"{self.settings.data.seed}:{self.step}:{candidate.id}")
        except ValueError:  # no correctly answered example here can be made wrong: nothing to show
            eligible = []
        if len(eligible) > n:
            eligible = self.rng.sample(eligible, n)
        return [p.record for p in eligible], tuple(p.fake_answer for p in eligible)

    def exemplars(self, k: int) -> list[Example]:
        return self.rng.sample(self.train, min(k, len(self.train)))

    def emit(self, event: Event) -> None:
        self._emit(event)


def format_error(record: EvalRecord, max_chars: int = 600) -> str:
    """An error as the optimizer sees it: input, gold answer, the target's answer (and the tail of its output)."""
    answer = record.answer if record.answer is not None else "(no answer found)"
    if len(answer) > max_chars // 2:  # a user's metric reads the whole output, which is then the answer too
        answer = answer[:max_chars // 2] + "..."
    output = (record.output or "").strip()
    if len(output) > max_chars:
        output = "..." + output[-max_chars:]
    # A user's metric may explain the error (GEPA's actionable side information): shown only when it does, so the
    # built-in tasks' reflection prompts stay as they were.
    feedback = f"\nFeedback on this output: {record.feedback.strip()}" if record.feedback else ""
    return (f"Input: {record.input.strip()}\nCorrect answer: {record.target}\nModel answer: {answer}\n"
            f"Model output: {output}{feedback}")
